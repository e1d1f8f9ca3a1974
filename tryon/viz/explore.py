"""The explorer behind ``notebooks/explore.ipynb``: one person photo, one garment, a body-shape text, and what
the method makes of them (METHOD.md, inference [0207]-[0216]).

Everything the notebook shows is computed here; the notebook only calls it. Layers, bottom up:

- **choosing inputs** (:func:`catalogue`, :func:`read_inputs`): a person and a garment from the VITON test
  split (CP-VTON layout, LIP parse labels), the VITON-HD / Dress Code samples (``../shared/data``), or files;
  with the person's parse map, or from the photo alone (mediapipe, as ``tryon try-on`` without ``--parse``);
- **one try-on, explained** (:class:`Explorer`, :class:`View`): :meth:`tryon.infer.model.TryOn.predict`
  plus what the network computed on the way, read by a forward hook (no second run): the trunk map
  ([0121]-[0124]), the body feature map of the text ([0111]-[0120]), the first feature maps T1 / C1 whose
  correlation is the association matrix M ([0151]-[0157]); :func:`matching_row` is one row of M, where in
  the garment a person pixel looks;
- **a sweep of one text field** (:func:`sweep`): one try-on per value and the warped garment's width;
  :func:`weight_width_rank` is its rank correlation with the weight on the VITON-HD test persons;
- **figures** (:class:`Panels`, :func:`fig_panels`, :func:`fig_sweep`) and the **widgets**
  (:class:`ExplorerUI`: ipywidgets, the panels on an ipympl canvas, so a click is a matplotlib event);
- :func:`screenshot`: the executed notebook opened in JupyterLab and drawn by headless Chromium.

Sizes: the network works at the checkpoint's square working size S (128 px by default). The explorer shows
the photo scaled to ``height`` rows (default S, the size the network decides at; an update then takes about
0.6 s on one torch thread, the default), or at the photo's own size (``height=None``, as ``tryon try-on``
writes it).

``python -m tryon.viz.explore rank`` prints :func:`weight_width_rank`; ``python -m tryon.viz.explore
screenshot NOTEBOOK --out PNG`` draws a notebook in JupyterLab (``make explore-screenshot``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon import paths
from tryon.data import io

if TYPE_CHECKING:  # torch and the model wrapper load on first use: the CLI's --help stays fast
    import pandas as pd
    import torch
    from matplotlib.figure import Figure

    from tryon.infer.model import Inputs, Result, TryOn

#: the body text the explorer starts from (every word is in the synthetic training vocabulary)
DEFAULT_TEXT = "height 170cm, weight 65kg, hourglass, well-proportioned"

VITON = "VITON test"
VITONHD = "VITON-HD samples"
DRESSCODE = "Dress Code samples"
FILE = "file"
#: where a person or a garment comes from
SOURCES = (VITON, VITONHD, DRESSCODE, FILE)

#: the text fields a sweep can vary, and the :class:`tryon.text.BodyText` attribute of each
FIELDS = {"height": "height_cm", "weight": "weight_kg", "body type": "body_type", "build": "build"}
#: default sweep values of the numeric fields (the issue's 45 to 110 kg)
DEFAULT_VALUES = {"weight": tuple(range(45, 111, 5)), "height": tuple(range(150, 196, 5))}

#: VITON-HD test persons of ``vton-samples`` (each with its parse map and the unpaired garment its pairs
#: file lists), in the order of ``pairs_unpaired.txt``: the first four are :func:`weight_width_rank`'s
RANK_PERSONS = ("08909_00", "00891_00", "03615_00", "07445_00")


def default_checkpoint() -> Path:
    """``data/05_train/model.pt`` when the pipeline has run, else the shipped ``models/model.pt``
    (:func:`tryon.paths.default_checkpoint`, what ``tryon try-on`` uses)."""
    return paths.default_checkpoint()[0]


# --------------------------------------------------------------------------------------------
# Choosing inputs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    """A person photo and, when it has one, its parse map (``labelset``: cihp | dresscode | lip)."""

    name: str
    photo: Path
    parse: Path | None = None
    labelset: str = "cihp"


@dataclass(frozen=True)
class Garment:
    """A flat garment photo, its mask (None: estimated from the plain background) and its category."""

    name: str
    photo: Path
    mask: Path | None = None
    category: str = "upper_body"


@dataclass
class Catalogue:
    """The persons and garments of one source, by name, and its listed pairs (person, garment)."""

    source: str
    persons: dict[str, Person]
    garments: dict[str, Garment]
    pairs: list[tuple[str, str]]

    def default_pair(self) -> tuple[str, str]:
        """The first listed pair (VITON: the first line of ``test_pairs.txt``, unpaired)."""
        return self.pairs[0]


def data_roots(shared: str | os.PathLike | None = None) -> dict[str, Path]:
    """Source -> folder; ``shared``: the shared data folder (default ``../shared/data`` beside the repo)."""
    shared = Path(shared) if shared is not None else paths.SHARED_SAMPLES.parent
    return {
        VITON: shared / "viton",
        VITONHD: shared / "vton-samples" / "vitonhd",
        DRESSCODE: shared / "vton-samples" / "dresscode",
    }


def available_sources(roots: dict[str, Path] | None = None) -> list[str]:
    """The sources whose folder exists, then :data:`FILE` (always)."""
    roots = roots or data_roots()
    return [s for s in SOURCES if s == FILE or Path(roots[s]).is_dir()]


def catalogue(source: str, roots: dict[str, Path] | None = None) -> Catalogue:
    """Persons, garments and pairs of a dataset source (not :data:`FILE`); no image is opened.

    VITON (CP-VTON layout): ``test_pairs.txt``, ``test/image/X_0.jpg`` with ``test/image-parse/X_0.png`` (LIP
    labels), ``test/cloth/Y_1.jpg`` with ``test/cloth-mask/Y_1.jpg``. The samples: their pairs files
    (:func:`tryon.infer.batch.dataset_records`)."""
    from tryon.infer.inputs import InferError

    roots = roots or data_roots()
    if source not in roots:
        raise ValueError(f"source: expected one of {list(roots)}, got {source!r}")
    root = Path(roots[source])
    if not root.is_dir():
        raise InferError(f"{root}: {source} folder not found")
    if source == VITON:
        return _viton_catalogue(root)
    from tryon.infer.batch import dataset_records

    recs = dataset_records(root, "all")
    order = sorted(recs, key=lambda r: r.mode != "unpaired")  # unpaired pairs first: the try-on's use
    persons = {r.person_id: Person(r.person_id, Path(r.person), Path(r.parse), r.labelset) for r in order}
    garments = {
        r.cloth_id: Garment(r.cloth_id, Path(r.cloth), _existing(r.cloth_mask), r.category) for r in order
    }
    # garments no pairs file names (VITON-HD's test samples have two per person): upper-body like the rest
    for f in sorted((root / "cloth").glob("*.jpg")):
        if f.stem not in garments:
            garments[f.stem] = Garment(f.stem, f, _existing(root / "cloth-mask" / f.name))
    return Catalogue(source, persons, garments, [(r.person_id, r.cloth_id) for r in order])


def _existing(path) -> Path | None:
    return Path(path) if path is not None and Path(path).is_file() else None


def _viton_catalogue(root: Path) -> Catalogue:
    test = root / "test"
    persons: dict[str, Person] = {}
    garments: dict[str, Garment] = {}
    pairs = []
    for line in (root / "test_pairs.txt").read_text().splitlines():
        if not line.strip():
            continue
        p, c = line.split()[:2]
        ps, cs = Path(p).stem, Path(c).stem
        persons.setdefault(ps, Person(ps, test / "image" / p, test / "image-parse" / f"{ps}.png", "lip"))
        garments.setdefault(cs, Garment(cs, test / "cloth" / c, _existing(test / "cloth-mask" / c)))
        pairs.append((ps, cs))
    if not pairs:
        raise io.DataError(f"{root / 'test_pairs.txt'}: no pairs listed")
    return Catalogue(VITON, persons, garments, pairs)


def read_inputs(
    model: TryOn,
    person: Person,
    garment: Garment,
    text: str = DEFAULT_TEXT,
    photo_only: bool = False,
    height: int | None = None,
) -> Inputs:
    """Read and check one person and one garment as ``tryon try-on`` does
    (:meth:`tryon.infer.model.TryOn.read_inputs`). ``photo_only`` (or a person without a parse map): the
    trunk regions come from the photo alone (mediapipe; a one-line :class:`~tryon.infer.inputs.InferError`
    when its environment is missing). ``height``: scale both photos (and the parse map and mask) to that
    many rows (:func:`scaled`); None keeps their own size."""
    inp = model.read_inputs(
        person.photo,
        garment.photo,
        text,
        parse=None if photo_only else person.parse,
        parse_labels=person.labelset,
        garment_mask=garment.mask,
        category=garment.category,
    )
    return scaled(inp, height) if height else inp


def _resize(a: np.ndarray, height: int, kind: str) -> np.ndarray:
    from PIL import Image

    h, w = a.shape[:2]
    size = (max(1, round(w * height / h)), height)
    if kind == "rgb":  # PIL widens the filter when it shrinks: antialiased
        return np.asarray(Image.fromarray(a).resize(size, Image.BILINEAR))
    if kind == "mask":
        return np.asarray(Image.fromarray(a.astype(np.uint8) * 255).resize(size, Image.BILINEAR)) >= 128
    return np.asarray(Image.fromarray(a.astype(np.uint8)).resize(size, Image.NEAREST))  # labels


def scaled(inp: Inputs, height: int) -> Inputs:
    """The inputs with the person photo and its parse map, and the garment photo and its mask, scaled to
    ``height`` rows (aspect kept; parse labels nearest, masks thresholded at 0.5)."""
    if inp.person.shape[0] == height and inp.garment.shape[0] == height:
        return inp
    return replace(
        inp,
        person=_resize(inp.person, height, "rgb"),
        parse=_resize(inp.parse, height, "labels"),
        garment=_resize(inp.garment, height, "rgb"),
        garment_mask=_resize(inp.garment_mask, height, "mask"),
    )


# --------------------------------------------------------------------------------------------
# One try-on, explained
# --------------------------------------------------------------------------------------------
@dataclass
class View:
    """One try-on and what made it, at the person photo's size ``(H, W)`` (as shown).

    ``result``: :class:`tryon.infer.model.Result` (try-on, contour, warped garment, sources, ...);
    ``trunk``: the trunk map the contour generator saw, uint8 [H, W, 3] (removed pixels are 0 in [-1, 1]:
    grey); ``body_map``: the text's body feature map, float32 [H, W]; ``feat_person`` / ``feat_garment``:
    T1 / C1 ``[1, C, h, w]`` at the working size / stride; ``temperature``: the matcher's;
    ``seconds``: the prediction's wall time."""

    inputs: Inputs
    result: Result
    trunk: np.ndarray
    body_map: np.ndarray
    feat_person: torch.Tensor
    feat_garment: torch.Tensor
    temperature: float
    seconds: float

    @property
    def text(self) -> str:
        return self.inputs.text

    @property
    def width(self) -> float:
        """The warped garment's width (:func:`garment_width`), a fraction of the photo's width."""
        return garment_width(self.result.warped_mask)[0]


@dataclass
class MatchRow:
    """One row of the association matrix M: where in the garment the person pixel ``query`` (x, y, photo
    pixels) looks. ``heat``: float32 [h, w] over the garment photo (non-negative; its cells are the matcher's
    feature cells, sum 1 over the padded garment square); ``peak``: its soft-argmax (x, y) in garment pixels,
    the garment point the warp takes there; ``on_garment``: the query lies on the warped garment."""

    query: tuple[float, float]
    heat: np.ndarray
    peak: tuple[float, float]
    on_garment: bool


class Explorer:
    """A loaded try-on model that explains its predictions (no widgets; :class:`ExplorerUI` adds them).

    ``height``: the rows the photos are scaled to (default: the checkpoint's working size; None: their own
    size); ``threads``: torch CPU threads. One by default: the network at 128 px takes about 0.2 s on one
    thread, and a second one made updates up to ten times slower whenever other work (a training run)
    shared the cores (measured on 2 cores at load 5.5: 0.6 s per update with one thread, 2-7 s with two)."""

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        threads: int = 1,
        height: int | None | str = "working",
        roots: dict[str, Path] | None = None,
    ):
        from tryon.infer.model import TryOn

        if checkpoint is None:
            self.checkpoint, self.checkpoint_note = paths.default_checkpoint()
        else:
            self.checkpoint, self.checkpoint_note = Path(checkpoint), "given"
        self.model = TryOn(self.checkpoint, num_threads=threads)
        self.height = self.model.size if height == "working" else height
        self.roots = roots or data_roots()
        self._seen: dict = {}
        # the network's inputs and outputs of the last prediction, without running it again
        self.model.model.register_forward_hook(self._capture, with_kwargs=True)
        self._cache: dict = {}

    def _capture(self, module, args, kwargs, output) -> None:
        trunk = args[1] if len(args) > 1 else kwargs["trunk"]
        self._seen = {"trunk": trunk.detach(), "out": output}

    @property
    def vocab(self):
        return self.model.vocab

    def catalogue(self, source: str) -> Catalogue:
        if source not in self._cache:
            self._cache[source] = catalogue(source, self.roots)
        return self._cache[source]

    def read(self, person: Person, garment: Garment, text: str = DEFAULT_TEXT, photo_only: bool = False):
        """:func:`read_inputs` at this explorer's ``height``."""
        return read_inputs(self.model, person, garment, text, photo_only, self.height)

    def run(self, inp: Inputs, text: str | None = None) -> View:
        """The try-on of ``inp`` (with ``text`` instead of its own, when given) and what made it."""
        from tryon.data import preprocess

        if text is not None:
            inp = replace(inp, text=text)
        t0 = time.perf_counter()
        res = self.model.predict(inp)
        sec = time.perf_counter() - t0
        seen = self._seen
        h, w = inp.person.shape[:2]
        pad = preprocess.pad_box(w, h)

        def back(x: torch.Tensor) -> torch.Tensor:  # [C, S, S] working size -> [C, H, W] as shown
            return preprocess.unpad(x.float().cpu(), pad, (w, h))

        out = seen["out"]
        return View(
            inputs=inp,
            result=res,
            trunk=preprocess.tensor_to_rgb(back(seen["trunk"][0])),
            body_map=back(out["body_map"][0])[0].numpy(),
            feat_person=out["feat_contour"].float().cpu(),
            feat_garment=out["feat_garment"].float().cpu(),
            temperature=float(getattr(self.model.model.warp_net, "temperature", 1.0)),
            seconds=sec,
        )

    def estimate_text(self, inp: Inputs) -> tuple[str, str]:
        """(body text, note) estimated from the parse map in use (:func:`tryon.data.annotate.estimate_attributes`:
        body type and build from the silhouette, a population height and the build's middle weight). A word
        this checkpoint's vocabulary lacks is left unknown, and the note says so."""
        from tryon.data.annotate import estimate_attributes
        from tryon.text import parse_body_text

        est = parse_body_text(estimate_attributes(inp.parse)["text"])
        dropped = []
        if est.body_type is not None and est.body_type not in self.vocab.body_types:
            dropped.append(f"body type {est.body_type!r}")
            est = replace(est, body_type=None)
        if est.build is not None and est.build not in self.vocab.builds:
            dropped.append(f"build {est.build!r}")
            est = replace(est, build=None)
        note = "estimated from the parse map (height and weight are population guesses)"
        if dropped:
            note += f"; {' and '.join(dropped)} not in this model's vocabulary: left unknown"
        return est.to_text(), note


def garment_width(mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Width of a garment mask bool [H, W]: (the mean over the rows it covers of the pixels it covers in the
    row, as a fraction of W, i.e. area / rows covered / W; the pixels covered per row, int [H]). 0 for an
    empty mask."""
    m = np.asarray(mask, dtype=bool)
    per_row = m.sum(axis=1)
    rows = int((per_row > 0).sum())
    return (float(per_row.sum() / rows / m.shape[1]) if rows else 0.0), per_row


def matching_row(view: View, x: float, y: float) -> MatchRow:
    """Row of M for the person pixel (x, y) (photo pixels as shown): where in the garment it looks.

    The pixel is mapped into the padded working square and onto the matcher's feature grid
    (stride cells); the row (:func:`tryon.matching.matching_rows`) is upsampled to the padded garment
    square (nearest: one block per feature cell) and its pad cropped off."""
    import torch

    from tryon.data import preprocess
    from tryon.matching import matching_rows, soft_argmax

    h, w = view.inputs.person.shape[:2]
    gh, gw = view.inputs.garment.shape[:2]
    left, top, _, _ = preprocess.pad_box(w, h)
    side = max(h, w)
    fh, fw = view.feat_person.shape[-2:]
    qx = min(fw - 1, max(0, int((x + 0.5 + left) / side * fw)))
    qy = min(fh - 1, max(0, int((y + 0.5 + top) / side * fh)))
    q = torch.tensor([[[qx, qy]]])  # [1, 1, 2] feature cell (x, y)
    with torch.no_grad():
        rows = matching_rows(view.feat_person, view.feat_garment, q, temperature=view.temperature)
        centre = soft_argmax(rows)[0, 0]  # [2] normalised (x, y), align_corners=False
    gpad = preprocess.pad_box(gw, gh)
    heat = preprocess.unpad(rows[0], gpad, (gw, gh), mode="nearest")[0].numpy()  # [gh, gw]
    gside = max(gh, gw)
    px = float(((centre[0] + 1) * gside - 1) / 2) - gpad[0]
    py = float(((centre[1] + 1) * gside - 1) / 2) - gpad[1]
    mask = view.result.warped_mask
    yi, xi = min(h - 1, max(0, round(y))), min(w - 1, max(0, round(x)))
    on = bool(mask is not None and mask[yi, xi])
    return MatchRow((float(x), float(y)), heat.astype(np.float32), (px, py), on)


def default_query(view: View) -> tuple[float, float]:
    """A person pixel to show a row of M for before any click: the chest of the warped garment
    (:func:`tryon.viz.warp.query_points`), else the photo's centre."""
    import torch

    from tryon.viz.warp import query_points

    m = view.result.warped_mask
    if m is None or not m.any():
        h, w = view.inputs.person.shape[:2]
        return (w / 2, h / 2)
    return tuple(float(v) for v in query_points(torch.from_numpy(m))["chest"])


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------
@dataclass
class Sweep:
    """One try-on per value of a text field. ``widths``: the warped garment's width per value
    (:func:`garment_width`, a fraction of the photo width); ``row_widths`` [n, H]: its pixels per image row."""

    field: str
    values: list
    texts: list[str]
    images: list[np.ndarray]
    warped: list[np.ndarray]
    widths: np.ndarray
    row_widths: np.ndarray
    seconds: float = 0.0
    person: str = ""

    def rank_correlation(self) -> float:
        """Spearman's rank correlation of the width with a numeric field's values (nan for a category,
        or when the widths are all equal)."""
        if self.field not in DEFAULT_VALUES or len(set(self.widths.tolist())) < 2:
            return math.nan
        from scipy.stats import spearmanr

        return float(spearmanr(np.asarray(self.values, float), self.widths).statistic)


def with_field(text: str, field: str, value) -> str:
    """``text`` with one field (:data:`FIELDS`) set to ``value`` (a number in cm / kg, a word, or None for
    unknown), in the canonical spelling (:meth:`tryon.text.BodyText.to_text`)."""
    from tryon.text import parse_body_text

    if field not in FIELDS:
        raise ValueError(f"field: expected one of {list(FIELDS)}, got {field!r}")
    if value is None:
        value = math.nan if field in DEFAULT_VALUES else None
    elif field in DEFAULT_VALUES:
        value = float(value)
    return replace(parse_body_text(text), **{FIELDS[field]: value}).to_text()


def check_values(field: str, values: Sequence, vocab=None) -> list:
    """The sweep values as a list: a numeric field's must be strictly monotone (two or more), a
    category's words of ``vocab`` (when given), each once."""
    vals = list(values)
    if field not in FIELDS:
        raise ValueError(f"sweep: field must be one of {list(FIELDS)}, got {field!r}")
    if len(vals) < 2:
        raise ValueError(f"sweep: needs at least two values, got {vals}")
    if field in DEFAULT_VALUES:
        d = np.diff(np.asarray(vals, dtype=float))
        if not ((d > 0).all() or (d < 0).all()):
            raise ValueError(f"sweep: {field} values must be strictly increasing or decreasing, got {vals}")
        return [float(v) for v in vals]
    if len(set(vals)) != len(vals):
        raise ValueError(f"sweep: {field} values repeat: {vals}")
    if vocab is not None:
        known = vocab.body_types if field == "body type" else vocab.builds
        bad = [v for v in vals if v not in known]
        if bad:
            raise ValueError(f"sweep: {bad} not in this model's {field} vocabulary ({', '.join(known)})")
    return vals


def parse_values(field: str, spec: str) -> list:
    """Sweep values from a string: ``45:110:5`` (start, stop inclusive, step) or ``45, 60, 80`` (numbers
    or words)."""
    spec = spec.strip()
    if field in DEFAULT_VALUES and spec.count(":") == 2:
        a, b, s = (float(v) for v in spec.split(":"))
        if s == 0 or (b - a) / s < 0:
            raise ValueError(f"sweep: {spec!r} is not start:stop:step towards stop")
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        return [a + i * s for i in range(n)]
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return [float(p) for p in parts] if field in DEFAULT_VALUES else parts


def sweep(
    explorer: Explorer,
    inp: Inputs,
    field: str = "weight",
    values: Sequence | None = None,
    text: str | None = None,
) -> Sweep:
    """Try ``inp`` on once per value of one text field (the other fields as in ``text``, default
    ``inp.text``). Numeric values must be strictly monotone (:func:`check_values`)."""
    vals = check_values(field, DEFAULT_VALUES.get(field, ()) if values is None else values, explorer.vocab)
    base = text if text is not None else inp.text
    texts = [with_field(base, field, v) for v in vals]
    for t in texts:  # every text readable before the first try-on
        explorer.model.encode_text(t)
    t0 = time.perf_counter()
    images, warped, widths, rows = [], [], [], []
    for t in texts:
        res = explorer.model.predict(replace(inp, text=t))
        wd, per_row = garment_width(res.warped_mask)
        images.append(res.image)
        warped.append(res.warped)
        widths.append(wd)
        rows.append(per_row)
    return Sweep(
        field, vals, texts, images, warped, np.asarray(widths), np.stack(rows), time.perf_counter() - t0,
        person=inp.name,
    )  # fmt: skip


def weight_width_rank(
    checkpoint: str | os.PathLike | None = None,
    persons: Sequence[str] = RANK_PERSONS,
    values: Sequence[float] = DEFAULT_VALUES["weight"],
    text: str | None = None,
    height: int | None = None,
    threads: int = 1,
    roots: dict[str, Path] | None = None,
    show: bool = True,
) -> pd.DataFrame:
    """Spearman's rank correlation of the warped garment's width with the weight, per VITON-HD sample
    person (``vton-samples/vitonhd``, each with its parse map and the first garment its pairs files give it,
    unpaired first). The other fields: ``text``, else the text estimated from the person's parse map
    (:meth:`Explorer.estimate_text`, what ``tryon try-on`` uses without ``--text``). ``height``: the rows
    the photos are scaled to (None: their own size, 1024). Prints the table when ``show``."""
    import pandas as pd

    ex = Explorer(checkpoint, threads, height, roots)
    cat = ex.catalogue(VITONHD)
    garment_of = {}
    for p, g in cat.pairs:
        garment_of.setdefault(p, g)
    rows = []
    for name in persons:
        if name not in cat.persons:
            raise ValueError(
                f"weight_width_rank: {name!r} is not a VITON-HD sample person ({sorted(cat.persons)})"
            )
        inp = ex.read(cat.persons[name], cat.garments[garment_of[name]])
        base = text if text is not None else ex.estimate_text(inp)[0]
        sw = sweep(ex, inp, "weight", values, base)
        d = np.diff(sw.widths)
        rows.append({
            "person": name, "garment": garment_of[name], "text": with_field(base, "weight", None),
            "spearman": sw.rank_correlation(), "width_first": sw.widths[0], "width_last": sw.widths[-1],
            "growth": sw.widths[-1] / sw.widths[0] - 1 if sw.widths[0] > 0 else math.nan,
            "monotone": bool((d >= 0).all()), "steps_down": int((d < 0).sum()), "seconds": sw.seconds,
        })  # fmt: skip
    df = pd.DataFrame(rows)
    df.attrs["checkpoint"] = str(ex.checkpoint)
    if show:
        v = list(values)
        print(
            f"warped-garment width vs weight ({v[0]:g}..{v[-1]:g} kg, {len(v)} values), checkpoint "
            f"{ex.checkpoint}, photos at {'their own size' if height is None else f'{height} rows'}:"
        )
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(df.drop(columns="seconds").round(3).to_string(index=False))
    return df


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------
SOURCE_LEGEND = "grey kept photo, green warped garment, blue fill, red painted"
#: panels of :class:`Panels`, in order: person side (same size as the photo) then the garment
PERSON_PANELS = ("person", "trunk map", "body map (text)", "model contour", "warped garment", "try-on",
                 "what made each pixel")  # fmt: skip


class Panels:
    """The explorer's figure: person, trunk map, body feature map, model contour (top row); the garment with
    one row of M, warped garment, try-on, what made each pixel (bottom row). Built once, then updated in
    place (:meth:`show`, :meth:`show_row`), so a widget canvas redraws without rebuilding its axes."""

    def __init__(self, fig: Figure | None = None, size: tuple[float, float] = (11.0, 6.6)):
        from matplotlib.figure import Figure

        self.fig = fig if fig is not None else Figure(figsize=size, dpi=80)
        axes = self.fig.subplots(2, 4)
        self.fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.01, wspace=0.05, hspace=0.16)
        names = ["person", "trunk map", "body map (text)", "model contour", "garment", "warped garment",
                 "try-on", "what made each pixel"]  # fmt: skip
        self.ax = dict(zip(names, axes.flat, strict=True))
        blank = np.zeros((2, 2, 3), np.uint8)
        self.im = {}
        for n, ax in self.ax.items():
            ax.set_xticks([])
            ax.set_yticks([])
            kw = {"cmap": "viridis"} if n == "body map (text)" else {}
            self.im[n] = ax.imshow(blank[..., 0] if kw else blank, interpolation="nearest", **kw)
        self.heat = self.ax["garment"].imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.marks = [self.ax[n].plot([], [], "+", ms=14, mew=2.5, color="cyan")[0] for n in PERSON_PANELS]
        self.peak = self.ax["garment"].plot([], [], "x", ms=12, mew=2.5, color="cyan")[0]
        self.title = self.fig.suptitle("", fontsize=10)
        self.view: View | None = None
        self.row: MatchRow | None = None

    def axes_of(self, event_axes) -> str | None:
        """The panel name of a matplotlib Axes (None when it is none of them)."""
        return next((n for n, ax in self.ax.items() if ax is event_axes), None)

    def _set(self, name: str, img: np.ndarray, **kw) -> None:
        h, w = img.shape[:2]
        im = self.im[name]
        im.set_data(img)
        im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        if kw:
            im.set_clim(**kw)
        ax = self.ax[name]
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)

    def show(self, view: View) -> Panels:
        r = view.result
        self.view = view
        self._set("person", view.inputs.person)
        self._set("trunk map", view.trunk)
        bm = view.body_map
        self._set("body map (text)", bm, vmin=float(bm.min()), vmax=float(bm.max()) + 1e-6)
        self._set("model contour", r.contour)
        self._set("garment", view.inputs.garment)
        self._set("warped garment", r.warped)
        self._set("try-on", r.image)
        self._set("what made each pixel", r.sources if r.sources is not None else r.network)
        self.ax["what made each pixel"].set_title(
            "what made each pixel" if r.sources is not None else "network image (no sources)", fontsize=9
        )
        for n in ("person", "trunk map", "model contour", "try-on"):
            self.ax[n].set_title(n, fontsize=9)
        self.ax["body map (text)"].set_title(
            f"body map of the text [{bm.min():.2g}, {bm.max():.2g}]", fontsize=9
        )
        self.ax["warped garment"].set_title(f"warped garment, width {view.width:.1%} of W", fontsize=9)
        h, w = view.inputs.person.shape[:2]
        self.title.set_text(
            f"{view.inputs.name}: \u201c{view.text}\u201d  |  trunk from {r.parse_source}  |  {w}x{h} px, "
            f"{view.seconds:.2f} s\n{SOURCE_LEGEND}"
        )
        self.show_row(matching_row(view, *default_query(view)))
        return self

    def show_row(self, row: MatchRow) -> Panels:
        self.row = row
        gh, gw = row.heat.shape
        self.heat.set_data(heat_rgba(row.heat))
        self.heat.set_extent((-0.5, gw - 0.5, gh - 0.5, -0.5))
        for m in self.marks:
            m.set_data([row.query[0]], [row.query[1]])
        self.peak.set_data([row.peak[0]], [row.peak[1]])
        where = "on the warped garment" if row.on_garment else "off the warped garment"
        self.ax["garment"].set_title(
            f"row of M at (+) {where}\nmax {row.heat.max():.2f}, x = soft-argmax", fontsize=9
        )
        return self


def heat_rgba(heat: np.ndarray, cmap: str = "magma") -> np.ndarray:
    """A row of M as an overlay, float [h, w, 4]: colour and opacity grow with the weight (scaled to its
    maximum), so the garment stays visible where the row is near zero."""
    from matplotlib import colormaps

    a = heat / max(float(heat.max()), 1e-12)
    rgba = colormaps[cmap](0.35 + 0.65 * a)
    rgba[..., 3] = 0.85 * np.sqrt(a)
    return rgba


def fig_panels(view: View, query: tuple[float, float] | None = None) -> Figure:
    """The explorer's figure of one view (:class:`Panels`), with the row of M at ``query`` (photo pixels;
    default :func:`default_query`)."""
    p = Panels().show(view)
    if query is not None:
        p.show_row(matching_row(view, *query))
    return p.fig


def fig_sweep(sw: Sweep, max_images: int = 14) -> Figure:
    """The sweep as a strip of try-ons (at most ``max_images``, evenly picked) above the warped garment's
    width against the swept value, with Spearman's rank correlation for a numeric field."""
    from matplotlib.figure import Figure

    idx = np.unique(np.linspace(0, len(sw.values) - 1, min(max_images, len(sw.values))).round().astype(int))
    n = len(idx)
    h, w = sw.images[0].shape[:2]
    fig = Figure(figsize=(max(6.0, 1.05 * n * w / h * 1.6), 5.4), dpi=80)
    grid = fig.add_gridspec(2, n, height_ratios=[1.6, 1.0], hspace=0.35, wspace=0.03)
    for k, i in enumerate(idx):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(sw.images[i])
        v = sw.values[i]
        ax.set_title(f"{v:g}" if isinstance(v, float) else str(v), fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    x = np.asarray(sw.values, float) if sw.field in DEFAULT_VALUES else np.arange(len(sw.values))
    ax.plot(x, 100 * sw.widths, "o-")
    if sw.field not in DEFAULT_VALUES:
        ax.set_xticks(x, [str(v) for v in sw.values], fontsize=8)
    unit = {"weight": " (kg)", "height": " (cm)"}.get(sw.field, "")
    ax.set_xlabel(sw.field + unit)
    ax.set_ylabel("warped width (% of W)")
    rho = sw.rank_correlation()
    ax.set_title(
        f"{sw.person}: warped-garment width per value"
        + ("" if math.isnan(rho) else f", Spearman {rho:+.2f}")
        + f"  ({len(sw.values)} try-ons, {sw.seconds:.1f} s)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    fig.suptitle(f"sweep of {sw.field}: \u201c{with_field(sw.texts[0], sw.field, None)}\u201d", fontsize=10)
    return fig


def sweep_table(sw: Sweep) -> pd.DataFrame:
    """One row per sweep value: the value, the text, the warped garment's width (% of the photo width)."""
    import pandas as pd

    return pd.DataFrame(
        {sw.field: sw.values, "text": sw.texts, "warped width (% of W)": np.round(100 * sw.widths, 2)}
    )


def write_summary(path: str | os.PathLike, ui: ExplorerUI, latency: dict, sw: Sweep | None) -> Path:
    """The explorer run's figures in one JSON (checkpoint, inputs, text, update latency, the sweep's
    widths and rank correlation); atomic."""
    import json

    from tryon.config import atomic_write_text

    v = ui.view
    d = {
        "checkpoint": str(ui.ex.checkpoint),
        "person": v.inputs.name if v is not None else None,
        "trunk_from": v.result.parse_source if v is not None else None,
        "text": v.text if v is not None else None,
        "latency": {k: (list(x) if isinstance(x, tuple) else x) for k, x in latency.items()},
    }
    if sw is not None:
        d["sweep"] = {
            "field": sw.field, "values": list(sw.values), "widths": [round(float(x), 5) for x in sw.widths],
            "spearman": None if math.isnan(sw.rank_correlation()) else round(sw.rank_correlation(), 4),
            "seconds": round(sw.seconds, 2),
        }  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(d, indent=2) + "\n")
    return path


def png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
    """A Figure as PNG bytes (its own Agg canvas; no pyplot state)."""
    import io as _io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write a Figure as PNG (atomically); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = png_bytes(fig)
    io._atomic_save(path, lambda t: Path(t).write_bytes(data))
    return path


def latency_note(lat: dict) -> str:
    """One Markdown line of :meth:`ExplorerUI.time_updates`'s measurement."""
    w, h = lat["size"]
    ok = "within" if lat["max"] <= 2.0 else "OVER"
    return (
        f"**Update latency** ({lat['n']} text changes, photo at {w}x{h} px, working size {lat['working_size']} "
        f"px, {lat['threads']} torch thread{'s' if lat['threads'] != 1 else ''}, 1-min load {lat['load_1min']:.1f} on {lat['cores']} cores): "
        f"median {lat['median']:.2f} s, max {lat['max']:.2f} s, {ok} the 2 s target "
        f"(network + composition {lat['predict_median']:.2f} s, drawing the rest)."
        + f" CPU time per update (all threads): median {lat['cpu_median']:.2f} s, max {lat['cpu_max']:.2f} s"
        + (
            "; other work kept the cores busy (load above the core count), so the wall times are inflated: on an "
            "idle machine an update takes at most its CPU time."
            if lat["load_1min"] > lat["cores"]
            else "."
        )
    )


# --------------------------------------------------------------------------------------------
# Widgets
# --------------------------------------------------------------------------------------------
def mediapipe_available() -> bool:
    """Whether photo-only parsing (mediapipe's separate environment) can run here."""
    from tryon.infer import autoparse

    return autoparse.available()


@dataclass
class _Choice:
    """What the widgets currently select."""

    person_source: str
    person: str | None
    garment_source: str
    garment: str | None
    photo_only: bool = False
    person_file: str = ""
    parse_file: str = ""
    parse_labels: str = "cihp"
    garment_file: str = ""
    garment_mask_file: str = ""
    category: str = "upper_body"
    text: str = DEFAULT_TEXT


class ExplorerUI:
    """The explorer's widgets: choose a person and a garment, type the body text or set it with the
    sliders and drop-downs (kept in sync), "estimated from the photo"; every change redraws the panels
    (:class:`Panels`, on an ipympl canvas); a click on a person-side panel shows that pixel's row of M;
    a sweep of one field draws :func:`fig_sweep`. ``display(ui.widget)`` shows it.

    The first view is computed in the constructor, so a headless run (papermill) has it too."""

    def __init__(
        self,
        explorer: Explorer,
        source: str | None = None,
        person: str | None = None,
        garment: str | None = None,
        garment_source: str | None = None,
        text: str = DEFAULT_TEXT,
        person_file: str | None = None,
        parse_file: str | None = None,
        parse_labels: str = "cihp",
        garment_file: str | None = None,
        garment_mask_file: str | None = None,
        category: str = "upper_body",
        photo_only: bool = False,
    ):
        import ipywidgets as W

        self.ex = explorer
        self.sources = available_sources(explorer.roots)
        if person_file:
            source = FILE
        source = source or self.sources[0]
        garment_source = garment_source or (FILE if garment_file else source)
        self.view: View | None = None
        self.inputs: Inputs | None = None
        self.latencies: list[dict] = []
        self._busy = False
        self.mediapipe = mediapipe_available()
        lay = W.Layout

        # ---- person and garment -----------------------------------------------------------------
        self.w_psrc = W.Dropdown(
            options=self.sources, value=source, description="person", layout=lay(width="250px")
        )
        self.w_person = W.Dropdown(options=[], layout=lay(width="180px"))
        self.w_pfile = W.Text(value=person_file or "", placeholder="person photo path", continuous_update=False,
                              layout=lay(width="300px"))  # fmt: skip
        self.w_parse = W.Text(value=parse_file or "", placeholder="parse map path (optional)",
                              continuous_update=False, layout=lay(width="260px"))  # fmt: skip
        from tryon.infer.inputs import CATEGORIES, LABELSETS

        self.w_labels = W.Dropdown(options=list(LABELSETS), value=parse_labels, layout=lay(width="110px"))
        self.w_photo_only = W.Checkbox(
            value=photo_only and self.mediapipe,
            description="photo only, no parse map (mediapipe)",
            disabled=not self.mediapipe,
            indent=False,
            layout=lay(width="330px"),
        )
        self.w_mp_note = W.HTML(
            ""
            if self.mediapipe
            else "<i>photo-only parsing unavailable: the mediapipe environment is "
            "missing (<code>make mediapipe</code>)</i>"
        )
        self.w_gsrc = W.Dropdown(options=self.sources, value=garment_source, description="garment",
                                 layout=lay(width="250px"))  # fmt: skip
        self.w_garment = W.Dropdown(options=[], layout=lay(width="180px"))
        self.w_gfile = W.Text(value=garment_file or "", placeholder="garment photo path", continuous_update=False,
                              layout=lay(width="300px"))  # fmt: skip
        self.w_gmask = W.Text(value=garment_mask_file or "", placeholder="garment mask path (optional)",
                              continuous_update=False, layout=lay(width="260px"))  # fmt: skip
        self.w_category = W.Dropdown(options=list(CATEGORIES), value=category, layout=lay(width="130px"))

        # ---- the body text ---------------------------------------------------------------------
        v = explorer.vocab
        self.w_text = W.Text(value=text, description="body text", continuous_update=False,
                             layout=lay(width="560px"))  # fmt: skip
        self.w_estimate = W.Button(description="estimated from the photo", layout=lay(width="200px"))
        slider = {
            "continuous_update": False,
            "step": 1.0,
            "readout_format": ".0f",
            "layout": lay(width="330px"),
        }
        self.w_height = W.FloatSlider(min=140, max=210, value=170, description="height cm", **slider)
        self.w_weight = W.FloatSlider(min=35, max=150, value=65, description="weight kg", **slider)
        self.w_hknown = W.Checkbox(value=True, description="known", indent=False, layout=lay(width="80px"))
        self.w_wknown = W.Checkbox(value=True, description="known", indent=False, layout=lay(width="80px"))
        self.w_btype = W.Dropdown(options=[*v.body_types, "unknown"], description="body type",
                                  layout=lay(width="250px"))  # fmt: skip
        self.w_build = W.Dropdown(
            options=[*v.builds, "unknown"], description="build", layout=lay(width="250px")
        )
        self.w_status = W.HTML()

        # ---- the panels and the sweep ----------------------------------------------------------
        self.panels = Panels()
        self.canvas = _widget_canvas(self.panels.fig)
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.w_field = W.Dropdown(options=list(FIELDS), value="weight", description="sweep",
                                  layout=lay(width="200px"))  # fmt: skip
        self.w_values = W.Text(value="45:110:5", description="values", layout=lay(width="300px"),
                               tooltip="start:stop:step, or a comma-separated list")  # fmt: skip
        self.w_sweep = W.Button(description="run the sweep", layout=lay(width="140px"))
        self.w_sweep_img = W.Image(format="png", layout=lay(max_width="100%"))
        self.w_sweep_status = W.HTML()
        self.last_sweep: Sweep | None = None

        self.w_person_row = W.HBox([self.w_psrc, self.w_person, self.w_pfile, self.w_parse, self.w_labels])
        self.w_garment_row = W.HBox(
            [self.w_gsrc, self.w_garment, self.w_gfile, self.w_gmask, self.w_category]
        )
        self.widget = W.VBox([
            self.w_person_row,
            W.HBox([self.w_photo_only, self.w_mp_note]),
            self.w_garment_row,
            W.HBox([self.w_text, self.w_estimate]),
            W.HBox([self.w_height, self.w_hknown, self.w_btype]),
            W.HBox([self.w_weight, self.w_wknown, self.w_build]),
            self.w_status,
            self.canvas,
            W.HTML("<b>click a pixel of the person, warped garment or try-on: the garment panel shows its row "
                   "of the matching matrix M</b>"),
            W.HBox([self.w_field, self.w_values, self.w_sweep]),
            self.w_sweep_status,
            self.w_sweep_img,
        ])  # fmt: skip

        self._fill_lists(person, garment)
        self._text_to_widgets(text)
        for w in (self.w_psrc, self.w_gsrc):
            w.observe(self._on_source, "value")
        for w in (self.w_person, self.w_garment, self.w_pfile, self.w_parse, self.w_labels, self.w_gfile,
                  self.w_gmask, self.w_category, self.w_photo_only):  # fmt: skip
            w.observe(self._on_inputs, "value")
        self.w_text.observe(self._on_text, "value")
        for w in (self.w_height, self.w_weight, self.w_hknown, self.w_wknown, self.w_btype, self.w_build):
            w.observe(self._on_field, "value")
        self.w_estimate.on_click(lambda _: self.estimate())
        self.w_sweep.on_click(lambda _: self.run_sweep())
        self.w_field.observe(self._on_sweep_field, "value")
        self.reload()

    # ---- state ---------------------------------------------------------------------------------
    def choice(self) -> _Choice:
        return _Choice(
            self.w_psrc.value, self.w_person.value, self.w_gsrc.value, self.w_garment.value,
            bool(self.w_photo_only.value), self.w_pfile.value.strip(), self.w_parse.value.strip(),
            self.w_labels.value, self.w_gfile.value.strip(), self.w_gmask.value.strip(),
            self.w_category.value, self.w_text.value,
        )  # fmt: skip

    def _fill_lists(self, person: str | None = None, garment: str | None = None) -> None:
        """Fill the person / garment drop-downs of the chosen sources (the source's default pair)."""
        self._busy = True
        try:
            for src_w, item_w, file_ws, which, want in (
                (self.w_psrc, self.w_person, (self.w_pfile, self.w_parse, self.w_labels), "persons", person),
                (self.w_gsrc, self.w_garment, (self.w_gfile, self.w_gmask, self.w_category), "garments", garment),
            ):  # fmt: skip
                is_file = src_w.value == FILE
                item_w.layout.display = "none" if is_file else None
                for f in file_ws:
                    f.layout.display = None if is_file else "none"
                if is_file:
                    item_w.options = []
                    continue
                cat = self.ex.catalogue(src_w.value)
                names = list(getattr(cat, which))
                default = cat.default_pair()[0 if which == "persons" else 1]
                item_w.options = names
                item_w.value = want if want in names else default
        finally:
            self._busy = False

    def _person_and_garment(self, c: _Choice) -> tuple[Person, Garment]:
        from tryon.infer.inputs import InferError

        if c.person_source == FILE:
            if not c.person_file:
                raise InferError("person: give a photo path")
            person = Person(Path(c.person_file).stem, Path(c.person_file),
                            Path(c.parse_file) if c.parse_file else None, c.parse_labels)  # fmt: skip
        else:
            person = self.ex.catalogue(c.person_source).persons[c.person]
        if c.garment_source == FILE:
            if not c.garment_file:
                raise InferError("garment: give a photo path")
            garment = Garment(Path(c.garment_file).stem, Path(c.garment_file),
                              Path(c.garment_mask_file) if c.garment_mask_file else None, c.category)  # fmt: skip
        else:
            garment = self.ex.catalogue(c.garment_source).garments[c.garment]
        if person.parse is None and not self.mediapipe:
            raise InferError(
                f"{person.photo}: no parse map, and photo-only parsing is unavailable (make mediapipe)"
            )
        return person, garment

    # ---- events ----------------------------------------------------------------------------------
    def _on_source(self, _change) -> None:
        if self._busy:
            return
        self._fill_lists(self.w_person.value, self.w_garment.value)  # kept where the new list has them
        self.reload()

    def _on_inputs(self, _change) -> None:
        if not self._busy:
            self.reload()

    def _on_text(self, change) -> None:
        if self._busy:
            return
        if self._text_to_widgets(change["new"]):
            self.refresh()

    def _on_field(self, _change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.w_height.disabled = not self.w_hknown.value
            self.w_weight.disabled = not self.w_wknown.value
            self.w_text.value = self._widgets_to_text()
        finally:
            self._busy = False
        self.refresh()

    def _on_click(self, event) -> None:
        name = self.panels.axes_of(event.inaxes)
        if self.view is None or name not in PERSON_PANELS or event.xdata is None:
            return
        self.panels.show_row(matching_row(self.view, event.xdata, event.ydata))
        self.canvas.draw()
        _keep_static_image(self.canvas)

    def _on_sweep_field(self, change) -> None:
        f = change["new"]
        if f in DEFAULT_VALUES:
            v = DEFAULT_VALUES[f]
            self.w_values.value = f"{v[0]}:{v[-1]}:{v[1] - v[0]}"
        else:
            words = self.ex.vocab.body_types if f == "body type" else self.ex.vocab.builds
            self.w_values.value = ", ".join(words)

    # ---- text <-> widgets ------------------------------------------------------------------------
    def _text_to_widgets(self, text: str) -> bool:
        """Set the sliders and drop-downs from a text; False (and the error in the status line) when the
        text cannot be read or names a word this model does not know."""
        from tryon.text import BodyTextError, parse_body_text

        try:
            p = parse_body_text(text)
            self.ex.model.vocab.encode(p)
        except BodyTextError as e:
            self._status(f"body text: {str(e).splitlines()[0]}", error=True)
            return False
        self._busy = True
        try:
            self.w_hknown.value = not math.isnan(p.height_cm)
            self.w_wknown.value = not math.isnan(p.weight_kg)
            self.w_height.disabled = not self.w_hknown.value
            self.w_weight.disabled = not self.w_wknown.value
            if self.w_hknown.value:
                self.w_height.value = min(max(p.height_cm, self.w_height.min), self.w_height.max)
            if self.w_wknown.value:
                self.w_weight.value = min(max(p.weight_kg, self.w_weight.min), self.w_weight.max)
            self.w_btype.value = p.body_type or "unknown"
            self.w_build.value = p.build or "unknown"
        finally:
            self._busy = False
        return True

    def _widgets_to_text(self) -> str:
        from tryon.text import BodyText

        return BodyText(
            float(self.w_height.value) if self.w_hknown.value else math.nan,
            float(self.w_weight.value) if self.w_wknown.value else math.nan,
            None if self.w_btype.value == "unknown" else self.w_btype.value,
            None if self.w_build.value == "unknown" else self.w_build.value,
        ).to_text()

    def set_text(self, text: str) -> None:
        """Type a body text (as the text box does): the widgets follow, and the panels are redrawn."""
        self.w_text.value = text

    # ---- work ------------------------------------------------------------------------------------
    def _status(self, msg: str, error: bool = False) -> None:
        colour = "#b00020" if error else "#333"
        self.w_status.value = f"<span style='color:{colour}'>{msg}</span>"

    def reload(self) -> None:
        """Read the chosen person and garment, then :meth:`refresh`."""
        from tryon.infer.inputs import InferError

        c = self.choice()
        try:
            person, garment = self._person_and_garment(c)
            self.inputs = self.ex.read(person, garment, c.text, c.photo_only)
        except (InferError, io.DataError, ValueError, KeyError, OSError) as e:
            self.inputs = None
            self._status(f"cannot read the inputs: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                         error=True)  # fmt: skip
            return
        self.refresh()

    def refresh(self) -> None:
        """Run the try-on for the current text and redraw the panels; the time it took is in the status
        line and in :attr:`latencies`."""
        from tryon.infer.inputs import InferError

        if self.inputs is None:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            view = self.ex.run(self.inputs, self.w_text.value)
        except InferError as e:
            self._status(str(e).splitlines()[0], error=True)
            return
        self.view = view
        self.panels.show(view)
        self.canvas.draw()  # render now (and send to the page): the time below is what the user waits
        _keep_static_image(self.canvas)
        sec = time.perf_counter() - t0
        self.latencies.append({"seconds": sec, "predict": view.seconds, "cpu": time.process_time() - c0})
        h, w = view.inputs.person.shape[:2]
        self._status(
            f"updated in {sec:.2f} s (network + composition {view.seconds:.2f} s) at {w}x{h} px; trunk from "
            f"{view.result.parse_source}; warped-garment width {view.width:.1%} of the photo width"
        )

    def estimate(self) -> None:
        """The "estimated from the photo" button: the body text estimated from the parse map in use."""
        if self.inputs is None:
            return
        text, note = self.ex.estimate_text(self.inputs)
        self.w_text.value = text  # -> _on_text -> refresh
        self._status(self.w_status.value + f"<br><i>{note}</i>")

    def run_sweep(self, field: str | None = None, values: str | None = None) -> Sweep | None:
        """The sweep button: :func:`sweep` of the chosen field and values (``field`` / ``values``: set the
        widgets first; ``values`` as :func:`parse_values` reads them), drawn by :func:`fig_sweep`."""
        if field is not None:
            self.w_field.value = field
        if values is not None:
            self.w_values.value = values
        if self.inputs is None:
            return None
        try:
            vals = parse_values(self.w_field.value, self.w_values.value)
            sw = sweep(self.ex, self.inputs, self.w_field.value, vals, self.w_text.value)
        except ValueError as e:
            self.w_sweep_status.value = f"<span style='color:#b00020'>{str(e).splitlines()[0]}</span>"
            return None
        self.last_sweep = sw
        self.w_sweep_img.value = png_bytes(fig_sweep(sw))
        rho = sw.rank_correlation()
        self.w_sweep_status.value = f"{len(sw.values)} try-ons in {sw.seconds:.1f} s" + (
            "" if math.isnan(rho) else f"; Spearman rank correlation of width and {sw.field}: {rho:+.2f}"
        )
        return sw

    def time_updates(self, weights: Sequence[float] = (50, 62, 74, 86, 98)) -> dict:
        """Move the weight slider through ``weights`` (one update each, as a user would) and return the
        update times: ``median``, ``max``, ``each`` (wall seconds, including drawing the panels),
        ``predict_median``, ``cpu_median`` / ``cpu_max`` (the CPU seconds of this process, all its threads:
        with no other work on the machine an update's wall time is at most this, since some thread of it runs
        all the time), the photo ``size`` (W, H) and the machine (threads, cores, load)."""
        import torch

        from tryon import runtime

        if self.inputs is None:
            raise RuntimeError(f"no try-on to time: {self.w_status.value}")
        start = len(self.latencies)
        self.w_wknown.value = True
        for w in weights:
            before = len(self.latencies)
            self.w_weight.value = float(w)
            if len(self.latencies) == before:  # the slider was there already: no change event
                self.refresh()
        got = self.latencies[start:]
        each = [r["seconds"] for r in got]
        h, w = self.inputs.person.shape[:2] if self.inputs is not None else (0, 0)
        return {
            "n": len(each), "each": each,
            "median": float(np.median(each)) if each else math.nan,
            "max": float(np.max(each)) if each else math.nan,
            "predict_median": float(np.median([r["predict"] for r in got])) if got else math.nan,
            "cpu_median": float(np.median([r["cpu"] for r in got])) if got else math.nan,
            "cpu_max": float(np.max([r["cpu"] for r in got])) if got else math.nan,
            "size": (w, h), "working_size": self.ex.model.size, "threads": torch.get_num_threads(),
            **runtime.cpu_load(),
        }  # fmt: skip


def _widget_canvas(fig: Figure):
    """An ipympl canvas (a widget whose mouse clicks are matplotlib events) for ``fig``, without switching
    pyplot's backend: the notebook's other figures stay inline PNGs."""
    from ipympl.backend_nbagg import Canvas, FigureManager

    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    return canvas


def _keep_static_image(canvas) -> None:
    """Keep the canvas's whole image in the widget state while no page shows it (a headless run).

    ipympl (0.10) stores the last image it sent in ``_data_url`` only while no page is connected, and then
    as the bare base64 of the last *difference* image, without the ``data:`` prefix or the canvas size, so
    a page opening the saved notebook draws nothing. Store the whole image as a data URL, and its size."""
    if not getattr(canvas, "syncing_data_url", False):
        return
    import base64
    import io as _io

    from PIL import Image

    rgba = np.asarray(canvas.buffer_rgba())  # [H, W, 4], what the last draw rendered
    buf = _io.BytesIO()
    Image.fromarray(rgba).save(buf, format="png")
    canvas._size = (rgba.shape[1], rgba.shape[0])
    canvas._data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# --------------------------------------------------------------------------------------------
# Screenshot of the notebook in JupyterLab (headless Chromium)
# --------------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc, timeout: float) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with status {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url}: no answer within {timeout:.0f} s")


#: JupyterLab settings for a screenshot: no news or update toasts (it must not reach the network), every
#: cell drawn (not only those in view)
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}  # fmt: skip
#: the page is ready when every widget output is drawn (none still "Loading widget...") and the ipympl
#: canvas is there
_READY_JS = """(() => {
  const outs = document.querySelectorAll('.jp-OutputArea-output');
  if (!outs.length) return false;
  if (document.body.innerText.includes('Loading widget')) return false;
  return document.querySelectorAll('.jupyter-widgets.widget-vbox').length > 0
      && document.querySelectorAll('.jupyter-matplotlib canvas, .jupyter-matplotlib img').length > 0;
})()"""

#: the widgets drawn from the saved state are not backed by the page's kernel: ipywidgets marks each with a
#: "disconnected" icon; the picture leaves the markers out (the screenshot's description says so)
_HIDE_JS = """(() => {
  const s = document.createElement('style');
  s.textContent = '.jupyter-widgets-disconnected::before { content: none !important; display: none !important; }';
  document.head.appendChild(s);
})()"""


class _DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket (``websocket-client``, which
    jupyter_server depends on)."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n = 0

    def call(self, method: str, **params) -> dict:
        import json

        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"DevTools {method}: {msg['error']}")
                return msg.get("result", {})

    def close(self) -> None:
        self.ws.close()


def _devtools_page(profile: Path, proc, timeout: float) -> str:
    """The websocket address of a new page of a Chromium started with ``--remote-debugging-port=0``."""
    import json
    import urllib.request

    port_file = profile / "DevToolsActivePort"
    end = time.monotonic() + timeout
    while not port_file.is_file() or not port_file.read_text().strip():
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with status {proc.returncode} before it listened")
        if time.monotonic() > end:
            raise TimeoutError("chromium: no DevTools port")
        time.sleep(0.2)
    port = int(port_file.read_text().split()[0])
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["webSocketDebuggerUrl"]


def _chromium_shot(chromium: str, url: str, out: Path, profile: Path, width: int, height: int,
                   timeout: float, settle: float) -> bool:  # fmt: skip
    """Open ``url`` in headless Chromium, wait (real time, at most ``timeout``) until :data:`_READY_JS`
    holds, then ``settle`` seconds more, and save the page as PNG. Returns whether it got ready (the
    picture is taken either way)."""
    import base64
    import signal
    import subprocess

    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
           "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        dt = _DevTools(_devtools_page(profile, proc, 60))
        try:
            dt.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                    mobile=False)  # fmt: skip
            dt.call("Page.navigate", url=url)
            end, ready = time.monotonic() + timeout, False
            while time.monotonic() < end and not ready:
                time.sleep(1.0)
                ready = bool(dt.call("Runtime.evaluate", expression=_READY_JS, returnByValue=True)
                             .get("result", {}).get("value"))  # fmt: skip
            dt.call("Runtime.evaluate", expression=_HIDE_JS)
            time.sleep(settle)
            png = dt.call("Page.captureScreenshot", format="png")["data"]
        finally:
            dt.close()
        io._atomic_save(out, lambda t: Path(t).write_bytes(base64.b64decode(png)))
        return ready
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def screenshot(
    notebook: str | os.PathLike,
    out: str | os.PathLike,
    width: int = 1400,
    height: int = 2800,
    chromium: str = CHROMIUM,
    timeout: float = 180.0,
    settle: float = 3.0,
) -> Path:
    """Open ``notebook`` (a file under the repository) in JupyterLab, served headless on a free local port
    without a token, and save headless Chromium's picture of the page (``width`` x ``height`` px) to ``out``.

    JupyterLab's single-document view (``/doc/tree/...``) shows the notebook with its outputs; its kernel
    starts, and the widgets are drawn from the state papermill saved in the notebook (the ipympl canvas
    shows the last figure it drew). Chromium is driven over its DevTools protocol: the picture is taken
    once the widgets are drawn (at most ``timeout`` s) plus ``settle`` s. The server and Chromium get fresh
    settings, data, workspace and profile folders in a temporary folder, removed afterwards. A missing
    Chromium or notebook -> FileNotFoundError; widgets not drawn in time -> TimeoutError (the picture is
    saved all the same, to look at)."""
    import json
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile

    import nbformat
    from nbformat.sign import NotebookNotary

    notebook, out = Path(notebook).resolve(), Path(out).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: notebook not found (run it first: make explore-screenshot)")
    exe = chromium if Path(chromium).is_file() else shutil.which(chromium)
    if not exe:
        raise FileNotFoundError(f"{chromium}: Chromium not found (apt-get install chromium)")
    root = paths.ROOT.resolve()
    try:
        rel = notebook.relative_to(root)
    except ValueError:
        root, rel = notebook.parent, Path(notebook.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="explore-shot-") as tmp:
        tmp = Path(tmp)
        for name, value in _LAB_SETTINGS.items():
            f = tmp / "settings" / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(value))
        # JupyterLab draws widgets only in a trusted notebook (their views run code): sign it with a secret
        # of this temporary data folder, which the server then reads; the user's own trust store is untouched
        data = tmp / "data"
        data.mkdir()
        NotebookNotary(data_dir=str(data)).sign(nbformat.read(notebook, as_version=4))
        port = _free_port()
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.token=",
            "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
            "--LabApp.news_url=None",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_DATA_DIR": str(data)}
        with open(tmp / "lab.log", "wb") as log:
            server = subprocess.Popen(
                cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_http(f"{base}/api/status", server, 90)
                url = f"{base}/doc/tree/{rel.as_posix()}"
                ready = _chromium_shot(exe, url, out, tmp / "chromium", width, height, timeout, settle)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
    if not ready:
        raise TimeoutError(f"{url}: the widgets were not drawn within {timeout:.0f} s (picture: {out})")
    return out


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tryon.viz.explore rank [--checkpoint C] [--persons ...]`` |
    ``python -m tryon.viz.explore screenshot NOTEBOOK [--out PNG]``."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tryon.viz.explore", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rank", help="Spearman rank correlation of warped-garment width vs weight, per person")
    r.add_argument("--checkpoint", help="default: data/05_train/model.pt if present, else models/model.pt")
    r.add_argument("--persons", nargs="+", default=list(RANK_PERSONS), help="VITON-HD sample person ids")
    r.add_argument("--values", default="45:110:5", help="weights (kg): start:stop:step or a list")
    r.add_argument("--text", help="the other fields (default: estimated from each parse map)")
    r.add_argument("--height", type=int, help="scale the photos to this many rows (default: own size)")
    r.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("screenshot", help="draw a notebook in JupyterLab with headless Chromium")
    s.add_argument("notebook", help="an executed notebook under the repository")
    s.add_argument("--out", default=str(paths.REPORTS_DIR / "explore.png"))
    s.add_argument("--width", type=int, default=1400)
    s.add_argument("--height", type=int, default=2800)
    args = ap.parse_args(argv)
    if args.cmd == "rank":
        weight_width_rank(
            args.checkpoint,
            args.persons,
            parse_values("weight", args.values),
            args.text,
            args.height,
            args.threads,
        )
        return 0
    print(screenshot(args.notebook, args.out, args.width, args.height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
