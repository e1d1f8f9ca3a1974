"""VITON-HD layout adapter (also HR-VITON style): ``image/``, ``cloth/``, ``cloth-mask/``,
``image-parse*/`` (CIHP ids), ``openpose_json/``, ``pairs*.txt``.

For person ``X.jpg``: parse ``image-parse[-v3]/X.png``, pose ``openpose_json/X_keypoints.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryon.data import io, labels

PAIR_FILES = {"paired": "pairs_paired.txt", "unpaired": "pairs_unpaired.txt", "all": "pairs.txt"}


@dataclass(frozen=True)
class PairRecord:
    """One (person, garment) pair of a real dataset; paths may not exist (checked on load)."""

    person_id: str
    cloth_id: str
    person: Path
    cloth: Path
    cloth_mask: Path | None
    parse: Path
    pose: Path | None
    category: str  # upper_body | lower_body | dresses
    labelset: str  # cihp | dresscode | lip
    mode: str  # paired | unpaired
    densepose: Path | None = None  # DensePose rendering (VITON-HD image-densepose/, Dress Code dense/)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """``<person> <cloth>`` lines -> list of (person file, cloth file)."""
    path = Path(path)
    if not path.exists():
        raise io.DataError(f"{path}: file not found")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise io.DataError(
                f"{path}: line {n}: expected '<person image> <cloth image>', got {line.strip()!r}"
            )
        out.append((parts[0], parts[1]))
    return out


def _pairs_path(root: Path, pairs: str | os.PathLike) -> Path:
    p = Path(pairs)
    if str(pairs) in PAIR_FILES:
        return root / PAIR_FILES[str(pairs)]
    return p if p.is_absolute() else root / p


def parse_dir(root: Path) -> Path:
    """``image-parse-v3`` when present, else ``image-parse``."""
    for name in ("image-parse-v3", "image-parse"):
        if (root / name).is_dir():
            return root / name
    return root / "image-parse"


def list_pairs(root: str | os.PathLike, pairs: str | os.PathLike = "paired") -> list[PairRecord]:
    """Pairs of a VITON-HD folder. pairs: 'paired' | 'unpaired' | 'all' | a pairs file path."""
    root = Path(root)
    ppath = _pairs_path(root, pairs)
    mode = str(pairs) if str(pairs) in ("paired", "unpaired") else "all"
    pdir = parse_dir(root)
    recs = []
    for person, cloth in read_pairs(ppath):
        pid, cid = Path(person).stem, Path(cloth).stem
        m = mode if mode != "all" else ("paired" if pid == cid else "unpaired")
        recs.append(
            PairRecord(
                person_id=pid,
                cloth_id=cid,
                person=root / "image" / person,
                cloth=root / "cloth" / cloth,
                cloth_mask=root / "cloth-mask" / cloth,
                parse=pdir / f"{pid}.png",
                pose=root / "openpose_json" / f"{pid}_keypoints.json",
                category="upper_body",
                labelset="cihp",
                mode=m,
                densepose=root / "image-densepose" / f"{pid}.jpg",
            )
        )
    return recs


def list_persons(root: str | os.PathLike) -> list[tuple[str, Path, Path, str]]:
    """Every person with a parse map: (person_id, image path, parse path, labelset)."""
    root = Path(root)
    pdir = parse_dir(root)
    return [(p.stem, p, pdir / f"{p.stem}.png", "cihp") for p in sorted((root / "image").glob("*.jpg"))]


def load_parse(path: Path, labelset: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """A parse map as CIHP ids uint8 [H, W] (Dress Code and LIP maps are remapped); errors name the file."""
    if labelset not in labels.LABELSET_SIZE:
        raise ValueError(f"labelset: expected one of {list(labels.LABELSET_SIZE)}, got {labelset!r}")
    lab = io.read_labels(path, labels.LABELSET_SIZE[labelset], size)
    return lab if labelset == "cihp" else labels.to_cihp(lab, labelset, str(path))


def load_record(rec: PairRecord) -> dict:
    """Read the files of a pair: person uint8 [H, W, 3], parse uint8 [H, W] (CIHP), cloth uint8
    [h, w, 3], cloth_mask bool [h, w] (estimated from the background when the dataset has none)."""
    from tryon.data.preprocess import estimate_cloth_mask

    person = io.read_rgb(rec.person)
    h, w = person.shape[:2]
    parse = load_parse(rec.parse, rec.labelset, (w, h))
    cloth = io.read_rgb(rec.cloth)
    if rec.cloth_mask is not None and Path(rec.cloth_mask).exists():
        cmask = io.read_mask(rec.cloth_mask)
        if cmask.shape != cloth.shape[:2]:
            raise io.DataError(
                f"{rec.cloth_mask}: mask is {cmask.shape[1]}x{cmask.shape[0]}, expected "
                f"{cloth.shape[1]}x{cloth.shape[0]} (the cloth image size)"
            )
    elif rec.labelset == "cihp" and rec.cloth_mask is not None:
        raise io.DataError(f"{rec.cloth_mask}: file not found")
    else:
        cmask = estimate_cloth_mask(cloth)
    return {"person": person, "parse": parse, "cloth": cloth, "cloth_mask": cmask}
