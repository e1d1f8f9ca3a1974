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
    wi = mid[np.argmin(np.where(width[mid] > 0, width[mid], np.inf))]
    waist = float(width[wi])
    low = rows[wi : int(min(H, chin + 4.0 * fh))]
    hip = float(width[low].max()) if len(low) else math.nan
    return {"shoulder_face": shoulder / fh, "waist_face": waist / fh, "hip_face": hip / fh, "face_h": fh}


def classify(m: dict) -> tuple[str, str]:
    """(body_type, build) from silhouette measurements (face-height units). Rules on the width ratios:
    hip/shoulder high -> pear, low -> V; a narrow waist -> hourglass (plump when heavy); a waist as wide
    as the hips -> apple / round; else H / rectangle. Build from the mean torso width in face heights."""
    sh, wa, hi = m["shoulder_face"], m["waist_face"], m["hip_face"]
    if not all(np.isfinite([sh, wa, hi])) or sh <= 0 or hi <= 0:
        return "H", "well-proportioned"
    width = (sh + wa + hi) / 3.0
    build = (
        "thin"
        if width < 2.1
        else "well-proportioned"
        if width < 2.55
        else "slightly fat"
        if width < 2.95
        else "fat"
    )
    hs, wh = hi / sh, wa / hi
    heavy = build in ("slightly fat", "fat")
    if wh > 0.95:
        bt = "round" if build == "fat" else "apple"
    elif hs > 1.04:
        bt = "pear"
    elif hs < 0.86:
        bt = "V"
    elif wh < 0.76:
        bt = "plump hourglass" if heavy else "hourglass"
    else:
        bt = "H" if wh > 0.86 else "rectangle"
    return bt, build


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
    from tryon.data.dataset import detect_layout

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
