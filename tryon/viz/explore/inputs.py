"""Choosing the explorer's inputs: where a person or a garment comes from (:data:`SOURCES`), the
persons, garments and pairs of a source (:func:`catalogue`), reading one pair as ``tryon try-on`` does
(:func:`read_inputs`) and scaling it to the rows shown (:func:`scaled`); the constants the other modules
share (the default text, the sweepable fields and their default values)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon import paths
from tryon.data import io

if TYPE_CHECKING:
    from tryon.infer.model import Inputs, TryOn

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


@dataclass(frozen=True)
class Person:
    """A person photo and, when it has them, its parse map (``labelset``: cihp | dresscode | lip) and its
    keypoint file (``pose``: what a model trained with a pose map reads, :mod:`tryon.data.pose`)."""

    name: str
    photo: Path
    parse: Path | None = None
    labelset: str = "cihp"
    pose: Path | None = None


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
    persons = {
        r.person_id: Person(r.person_id, Path(r.person), Path(r.parse), r.labelset, _existing(r.pose))
        for r in order
    }
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
        pose = _existing(test / "pose" / f"{ps}_keypoints.json")
        persons.setdefault(
            ps, Person(ps, test / "image" / p, test / "image-parse" / f"{ps}.png", "lip", pose)
        )
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
        auto_parse_method="mediapipe",  # the explorer's photo-only switch is the mediapipe route
        pose=_existing(person.pose),
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
    h, w = inp.person.shape[:2]
    person = _resize(inp.person, height, "rgb")
    kp = inp.keypoints
    if kp is not None:  # the keypoints follow the photo: pixel centres scaled about -0.5
        sx, sy = person.shape[1] / w, person.shape[0] / h
        kp = {
            k: None if v is None else ((v[0] + 0.5) * sx - 0.5, (v[1] + 0.5) * sy - 0.5)
            for k, v in kp.items()
        }
    return replace(
        inp,
        keypoints=kp,
        person=person,
        parse=_resize(inp.parse, height, "labels"),
        garment=_resize(inp.garment, height, "rgb"),
        garment_mask=_resize(inp.garment_mask, height, "mask"),
    )
