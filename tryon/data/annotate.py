"""``tryon annotate``: body-shape text for real photos, estimated from the parse-map silhouette.

Real try-on datasets have no body text. From a CIHP parse map we measure, in units of the face height
(a scale that does not depend on the crop): the shoulder width (widest torso row just under the face),
the waist (narrowest row of the middle torso) and the hip width (widest row below the waist), without the
arms. Body type comes from the width ratios, build from the torso width relative to the face. Height and
weight cannot be seen in a 2-D photo of unknown scale: the CSV gets a population height (170 cm) and the
weight for the middle of the build's BMI range, marked ``source=estimated`` so a person can correct them.
The CSV is editable; rows already in it (e.g. user-written) win over new estimates.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from tryon.data import io, labels
from tryon.data.labels import CIHP
from tryon.data.layout import detect_layout

COLUMNS = [
    "person",
    "height_cm",
    "weight_kg",
    "body_type",
    "build",
    "text",
    "source",
    "shoulder_face",
    "waist_face",
    "hip_face",
    "hip_shoulder",
    "waist_hip",
]
DEFAULT_HEIGHT_CM = 170.0
_TORSO = (
    CIHP.UPPER_CLOTHES,
    CIHP.DRESS,
    CIHP.COAT,
    CIHP.TORSO_SKIN,
    CIHP.SCARF,
    CIHP.PANTS,
    CIHP.SKIRT,
    CIHP.LEFT_LEG,
    CIHP.RIGHT_LEG,
)


def measure_silhouette(parse: np.ndarray) -> dict:
    """Silhouette widths of a CIHP parse map int [H, W], in face heights (nan when not measurable)."""
    parse = np.asarray(parse)
    face = parse == CIHP.FACE
    nan = {k: math.nan for k in ("shoulder_face", "waist_face", "hip_face", "face_h")}
    if face.sum() < 20:
        return nan
    frows = np.flatnonzero(face.any(axis=1))
    fh = float(frows[-1] - frows[0] + 1)
    torso = labels.isin(parse, _TORSO)
    H = parse.shape[0]
    rows = np.arange(H)
    any_ = torso.any(axis=1)
    first = np.where(any_, torso.argmax(axis=1), 0)
    last = np.where(any_, parse.shape[1] - 1 - torso[:, ::-1].argmax(axis=1), -1)
    width = np.where(any_, last - first + 1, 0).astype(np.float32)
    # a running median over ~0.15 face heights removes single-row parse noise
    from scipy.ndimage import median_filter

    width = median_filter(width, size=max(3, int(0.15 * fh) | 1), mode="nearest")
    chin = frows[-1]

    def band(a, b):
        lo, hi = int(chin + a * fh), int(min(H, chin + b * fh))
        return rows[lo:hi] if hi > lo else rows[:0]

    sh = band(0.3, 1.2)
    if len(sh) == 0:
        return nan
    shoulder = float(width[sh].max())
    mid = band(1.6, 3.0)
    if len(mid) == 0 or width[mid].max() == 0:
        return {**nan, "shoulder_face": shoulder / fh, "face_h": fh}
    wi = mid[np.argmin(np.where(width[mid] > 0.45 * shoulder, width[mid], np.inf))]
    waist = float(width[wi])
    low = rows[wi : int(min(H, chin + 4.0 * fh))]
    hip = float(width[low].max()) if len(low) else math.nan
    return {"shoulder_face": shoulder / fh, "waist_face": waist / fh, "hip_face": hip / fh, "face_h": fh}


#: per body type, the median (hip/shoulder, waist/hip, mean width in face heights) of the silhouette
#: measurements on 660 synthetic samples (seed 1234, 128 px; not the seed of the default dataset);
#: many types overlap heavily once clothed, which is why the method asks for the text
TYPE_CENTROIDS: dict[str, tuple[float, float, float]] = {
    "H": (0.900, 0.811, 2.848),
    "V": (0.804, 0.895, 3.077),
    "apple": (0.947, 0.791, 3.000),
    "extra-tall": (0.918, 0.809, 2.790),
    "fifty-fifty": (0.875, 0.818, 2.778),
    "hourglass": (0.907, 0.798, 2.913),
    "pear": (1.057, 0.686, 2.718),
    "petite": (1.000, 0.712, 2.697),
    "plump hourglass": (1.000, 0.789, 3.308),
    "rectangle": (0.955, 0.789, 2.758),
    "round": (1.012, 0.769, 3.244),
}
#: feature scales for the nearest-centroid distance (about the within-class spread)
_SCALE = (0.1, 0.05, 0.3)
#: build thresholds on the mean width (face heights): midpoints of the same calibration's build medians
#: (thin 2.58, well-proportioned 2.77, slightly fat 3.03, fat 3.36)
BUILD_EDGES = (2.68, 2.90, 3.19)


def classify(m: dict) -> tuple[str, str]:
    """(body_type, build) from silhouette measurements (face-height units): body type = nearest
    :data:`TYPE_CENTROIDS` in (hip/shoulder, waist/hip, mean width) scaled by ``_SCALE``; build from the
    mean width against :data:`BUILD_EDGES`. Unmeasurable silhouettes give ("H", "well-proportioned")."""
    sh, wa, hi = m["shoulder_face"], m["waist_face"], m["hip_face"]
    if not all(np.isfinite([sh, wa, hi])) or sh <= 0 or hi <= 0:
        return "H", "well-proportioned"
    width = (sh + wa + hi) / 3.0
    build = BUILDS_BY_WIDTH[int(np.searchsorted(BUILD_EDGES, width))]
    f = np.array([hi / sh, wa / hi, width]) / _SCALE
    names = list(TYPE_CENTROIDS)
    cents = np.array([TYPE_CENTROIDS[n] for n in names]) / _SCALE
    return names[int(np.argmin(((cents - f) ** 2).sum(axis=1)))], build


BUILDS_BY_WIDTH = ("thin", "well-proportioned", "slightly fat", "fat")


def body_text(height_cm: float, weight_kg: float, body_type: str, build: str) -> str:
    return f"height {round(height_cm)}cm, weight {round(weight_kg)}kg, {body_type}, {build}"


def estimate_attributes(parse: np.ndarray, height_cm: float = DEFAULT_HEIGHT_CM) -> dict:
    """Estimated body text attributes of one parse map (CIHP ids)."""
    from tryon.data.synthetic import BMI_RANGES

    m = measure_silhouette(parse)
    bt, build = classify(m)
    bmi = sum(BMI_RANGES[build]) / 2
    w = bmi * (height_cm / 100) ** 2
    return {
        "height_cm": height_cm,
        "weight_kg": round(w, 1),
        "body_type": bt,
        "build": build,
        "text": body_text(height_cm, w, bt, build),
        "source": "estimated",
        "shoulder_face": m["shoulder_face"],
        "waist_face": m["waist_face"],
        "hip_face": m["hip_face"],
        "hip_shoulder": m["hip_face"] / m["shoulder_face"] if m["shoulder_face"] else math.nan,
        "waist_hip": m["waist_face"] / m["hip_face"] if m["hip_face"] else math.nan,
    }


def read_annotations(path: str | os.PathLike) -> pd.DataFrame:
    """Annotation CSV -> DataFrame indexed by person id; text is rebuilt from the columns when empty.
    Body types and builds may be written with any alias of :mod:`tryon.vocab` (Chinese included)."""
    from tryon.vocab import BODY_TYPE_ALIASES, BUILD_ALIASES

    path = Path(path)
    if not path.exists():
        raise io.DataError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, dtype={"person": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise io.DataError(f"{path}: not a readable CSV ({type(e).__name__})") from None
    need = {"person", "height_cm", "weight_kg", "body_type", "build"}
    if need - set(df.columns):
        raise io.DataError(f"{path}: missing column(s) {sorted(need - set(df.columns))}")
    for col, aliases in (("body_type", BODY_TYPE_ALIASES), ("build", BUILD_ALIASES)):
        canon = []
        for n, v in enumerate(df[col].astype(str)):
            key = v.strip()
            c = aliases.get(key, aliases.get(key.lower()))
            if c is None:
                raise io.DataError(
                    f"{path}: row {n + 2}: unknown {col} {v!r} (expected one of {sorted(set(aliases.values()))})"
                )
            canon.append(c)
        df[col] = canon
    if "text" not in df.columns:
        df["text"] = ""
    texts = [
        body_text(h, w, b, u)
        for h, w, b, u in zip(df["height_cm"], df["weight_kg"], df["body_type"], df["build"], strict=True)
    ]
    df["text"] = [
        t if isinstance(t0, str) and t0.strip() and s != "estimated" else t
        for t, t0, s in zip(texts, df["text"], df.get("source", [""] * len(df)), strict=True)
    ]
    return df.drop_duplicates("person", keep="first").set_index("person")


def annotate(
    root: str | os.PathLike, out_csv: str | os.PathLike | None = None, layout: str | None = None
) -> pd.DataFrame:
    """Write (or extend) the annotation CSV of a VITON-HD / Dress Code folder: one row per person.
    Rows already in ``out_csv`` are kept unchanged (a user-written CSV wins); new persons get estimates.
    Default ``out_csv`` = ``<root>/body_text.csv``. Returns the written table."""
    from tryon.config import atomic_write_text
    from tryon.data import dresscode, vitonhd

    root = Path(root)
    layout = layout or detect_layout(root)
    mod = {"vitonhd": vitonhd, "dresscode": dresscode}[layout]
    out_csv = Path(out_csv) if out_csv is not None else root / "body_text.csv"
    old = pd.read_csv(out_csv, dtype={"person": str}) if out_csv.exists() else pd.DataFrame(columns=COLUMNS)
    known = set(old["person"].astype(str)) if "person" in old.columns else set()
    rows = []
    for pid, img_path, parse_path, labelset in mod.list_persons(root):
        if pid in known:
            continue
        person = io.read_rgb(img_path)
        parse = vitonhd.load_parse(parse_path, labelset, (person.shape[1], person.shape[0]))
        rows.append({"person": pid, **estimate_attributes(parse)})
    new = pd.DataFrame(rows, columns=COLUMNS)
    df = pd.concat([old, new], ignore_index=True) if len(old) else new
    atomic_write_text(out_csv, df.to_csv(index=False))
    return df
