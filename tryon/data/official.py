"""The official VITON-HD and Dress Code folder layouts, read into :class:`~tryon.data.vitonhd.PairRecord` s.

Official VITON-HD (as downloaded; read the same way by HR-VITON ``cp_dataset.py``)::

    root/train_pairs.txt, root/test_pairs.txt      "<person.jpg> <cloth.jpg>" per line
    root/{train,test}/image/X.jpg, cloth/Y.jpg, cloth-mask/Y.jpg, image-parse-v3/X.png (CIHP ids),
                     openpose_json/X_keypoints.json, image-densepose/X.jpg

The official train file pairs every person with the garment worn (``X.jpg X.jpg``); ``test_pairs.txt`` is
the unpaired test set, and the paired test set is every test person with its own garment (``cloth/X.jpg``),
as HR-VITON's ``c_names['paired'] = im_names``.

Official Dress Code (aimagelab/dress-code ``data/dataset.py`` and the dataset's own readme)::

    root/{upper_body,lower_body,dresses}/images/X_0.jpg (person), images/Y_1.jpg (garment),
        label_maps/X_4.png (Dress Code ids, remapped to CIHP on load), keypoints/X_2.json,
        dense/X_5.png (DensePose part labels; dense/X_5_uv.npz holds the UV maps),
        train_pairs.txt, test_pairs_paired.txt, test_pairs_unpaired.txt   "X_0.jpg Y_1.jpg" per line
    root/train_pairs.txt, root/test_pairs_paired.txt, root/test_pairs_unpaired.txt
        every category in one file, "X_0.jpg Y_1.jpg C" with C = 0 upper_body, 1 lower_body, 2 dresses

The per-category files are read; a category whose file is missing falls back on the top-level file of the
same name (its lines of that category). Listing reads only the pairs files and one directory listing per
image folder (to report a pair naming a missing image at once); no image is opened before
:func:`tryon.data.vitonhd.load_record`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from tryon.data import io
from tryon.data.vitonhd import PairRecord

SPLITS = ("train", "test")
MODES = ("paired", "unpaired")

VITONHD_DIRS = ("image", "cloth", "cloth-mask", "image-parse-v3", "openpose_json", "image-densepose")
VITONHD_PAIRS = {"train": "train_pairs.txt", "test": "test_pairs.txt"}

#: VITON as CP-VTON published it (256x192; LIP parse labels, OpenPose COCO-18 in ``pose/``)
CPVTON_DIRS = ("image", "cloth", "cloth-mask", "image-parse", "pose")
CPVTON_PAIRS = VITONHD_PAIRS

DRESSCODE_CATEGORIES = ("upper_body", "lower_body", "dresses")
DRESSCODE_DIRS = ("images", "label_maps", "keypoints", "dense")
DRESSCODE_PAIRS = {
    ("train", "paired"): "train_pairs.txt",
    ("test", "paired"): "test_pairs_paired.txt",
    ("test", "unpaired"): "test_pairs_unpaired.txt",
}
#: third column of the top-level Dress Code pairs files -> category folder
DRESSCODE_CATEGORY_IDS = {"0": "upper_body", "1": "lower_body", "2": "dresses"}

_EXPECTED = "expected '<person image> <cloth image>'"


def _missing_dir(path: Path, layout: str) -> io.DataError:
    return io.DataError(f"{path}: folder not found ({layout} layout)")


def _dresscode_pairs_file(root: Path, cat: str, name: str) -> Path | None:
    """The per-category pairs file, else the top-level one of the same name, else None."""
    for p in (root / cat / name, root / name):
        if p.is_file():
            return p
    return None


def _check_splits(root: Path, dirs: tuple[str, ...], pairs: dict[str, str], layout: str) -> None:
    """Every subfolder ``dirs`` and the pairs file of each split folder present, else a one-line error."""
    for split in (s for s in SPLITS if (root / s).is_dir()):
        for d in dirs:
            if not (root / split / d).is_dir():
                raise _missing_dir(root / split / d, layout)
        if not (root / pairs[split]).is_file():
            raise io.DataError(f"{root / pairs[split]}: file not found ({layout} layout)")


def _check_dresscode(root: Path) -> None:
    for cat in (c for c in DRESSCODE_CATEGORIES if (root / c).is_dir()):
        for d in DRESSCODE_DIRS:
            if not (root / cat / d).is_dir():
                raise _missing_dir(root / cat / d, "official Dress Code")
        for name in DRESSCODE_PAIRS.values():
            if _dresscode_pairs_file(root, cat, name) is None:
                raise io.DataError(
                    f"{root / cat / name}: file not found (official Dress Code layout; "
                    f"no top-level {root / name} either)"
                )


def _is_cpvton(root: Path) -> bool:
    """A split folder with CP-VTON's ``image-parse/`` + ``pose/`` (VITON-HD has ``image-parse-v3/`` and
    ``openpose_json/``)."""
    return any(
        (root / s / "image-parse").is_dir() and not (root / s / "image-parse-v3").is_dir() for s in SPLITS
    ) or any((root / s / "pose").is_dir() for s in SPLITS)


def detect(root: str | os.PathLike) -> str:
    """'cpvton' (VITON as CP-VTON published it), 'vitonhd_official', 'dresscode_official' or 'flat' (the
    ``vton-samples`` layout: a folder holding ``vitonhd/`` and/or ``dresscode/`` subsets, or one subset with
    ``image/``). An official-looking folder missing a required subfolder or pairs file, or anything else,
    raises a one-line :class:`io.DataError`."""
    root = Path(root)
    if not root.is_dir():
        raise io.DataError(
            f"{root}: folder not found (expected a VITON (CP-VTON), VITON-HD or Dress Code dataset folder)"
        )
    if any((root / s).is_dir() for s in SPLITS):
        if _is_cpvton(root):
            _check_splits(root, CPVTON_DIRS, CPVTON_PAIRS, "CP-VTON (VITON)")
            return "cpvton"
        _check_splits(root, VITONHD_DIRS, VITONHD_PAIRS, "official VITON-HD")
        return "vitonhd_official"
    if any((root / c).is_dir() for c in DRESSCODE_CATEGORIES):
        _check_dresscode(root)
        return "dresscode_official"
    if (root / "image").is_dir() or any((root / s / "image").is_dir() for s in ("vitonhd", "dresscode")):
        return "flat"
    raise io.DataError(
        f"{root}: not a dataset folder: no train/ or test/ (official VITON-HD), no upper_body/, "
        "lower_body/ or dresses/ (official Dress Code), no image/, vitonhd/image/ or dresscode/image/ (flat)"
    )


def read_pair_lines(path: Path, max_cols: int = 2) -> Iterator[tuple[int, str, str, str | None]]:
    """(line number, person file, cloth file, third column or None) for each non-blank line of a pairs
    file; a line with fewer than 2 or more than ``max_cols`` columns raises a one-line DataError."""
    path = Path(path)
    if not path.is_file():
        raise io.DataError(f"{path}: file not found")
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            if not 2 <= len(parts) <= max_cols:
                raise io.DataError(f"{path}: line {n}: {_EXPECTED}, got {line.strip()!r}")
            yield n, parts[0], parts[1], parts[2] if len(parts) > 2 else None


class _Listing:
    """Names in a folder, listed once: a cheap existence check for thousands of pairs."""

    def __init__(self) -> None:
        self._names: dict[Path, frozenset[str] | None] = {}

    def names(self, folder: Path) -> frozenset[str] | None:
        """The entries of ``folder`` (None when it is not a folder)."""
        if folder not in self._names:
            try:
                self._names[folder] = frozenset(os.listdir(folder))
            except OSError:
                self._names[folder] = None
        return self._names[folder]

    def check(self, folder: Path, name: str, pairs: Path, n: int) -> None:
        """Raise a one-line DataError naming ``folder/name`` when it is not there."""
        names = self.names(folder)
        if names is None:
            raise io.DataError(f"{folder}: folder not found (named by {pairs})")
        if name not in names:
            raise io.DataError(f"{folder / name}: file not found (named on line {n} of {pairs})")


def _check_args(split: str, mode: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
    if split == "train" and mode == "unpaired":
        raise ValueError("mode 'unpaired': the official train split has paired pairs only")


def _file_stem(name: str) -> str:
    """``00000_00.jpg`` -> ``00000_00`` (as ``Path.stem``, without building a Path per pair)."""
    return os.path.splitext(os.path.basename(name))[0]


#: per layout: (parse folder, pose folder, parse label set, DensePose folder or None)
_PERSON_FILES = {
    "vitonhd": ("image-parse-v3", "openpose_json", "cihp", "image-densepose"),
    "cpvton": ("image-parse", "pose", "lip", None),
}


def _upper_record(d: dict[str, Path], person: str, cloth: str, mode: str, layout: str) -> PairRecord:
    """A VITON-HD or CP-VTON pair. ``d``: the split's subfolders by name (joined once per listing: Path
    joins dominate its cost)."""
    pid = _file_stem(person)
    parse, pose, labelset, dense = _PERSON_FILES[layout]
    return PairRecord(
        person_id=pid,
        cloth_id=_file_stem(cloth),
        person=d["image"] / person,
        cloth=d["cloth"] / cloth,
        cloth_mask=d["cloth-mask"] / cloth,
        parse=d[parse] / f"{pid}.png",
        pose=d[pose] / f"{pid}_keypoints.json",
        category="upper_body",
        labelset=labelset,
        mode=mode,
        densepose=d[dense] / f"{pid}.jpg" if dense else None,
    )


def _list_vitonhd(root: Path, split: str, mode: str) -> list[PairRecord]:
    base = root / split
    if not base.is_dir():
        raise _missing_dir(base, "official VITON-HD")
    pairs = root / VITONHD_PAIRS[split]
    seen, d = _Listing(), {name: base / name for name in VITONHD_DIRS}
    recs, persons = [], set()
    for n, person, cloth, _ in read_pair_lines(pairs):
        if split == "test" and mode == "paired":  # every test person with its own garment
            if person in persons:
                continue
            persons.add(person)
            cloth = person
        seen.check(d["image"], person, pairs, n)
        seen.check(d["cloth"], cloth, pairs, n)
        recs.append(_upper_record(d, person, cloth, mode, "vitonhd"))
    if not recs:
        raise io.DataError(f"{pairs}: no pairs listed")
    return recs


def _list_cpvton(root: Path, split: str, mode: str) -> list[PairRecord]:
    """The pairs of a CP-VTON split. ``train_pairs.txt`` pairs each person with its own garment (the
    official 14,221-line list repeats photos under other ids: every line is read, duplicates kept);
    ``test_pairs.txt`` is unpaired, and the paired test set is each listed person with its own garment
    (``X_0.jpg`` -> ``X_1.jpg``). A line naming a missing file or not of the form ``X_0.jpg Y_1.jpg``
    raises a one-line DataError naming the pairs file and line."""
    base = root / split
    if not base.is_dir():
        raise _missing_dir(base, "CP-VTON (VITON)")
    pairs = root / CPVTON_PAIRS[split]
    seen, d = _Listing(), {name: base / name for name in CPVTON_DIRS}
    recs, persons = [], set()
    for n, person, cloth, _ in read_pair_lines(pairs):
        ps, cs = _file_stem(person), _file_stem(cloth)
        if not (ps.endswith("_0") and cs.endswith("_1")):
            raise io.DataError(
                f"{pairs}: line {n}: {_EXPECTED} (VITON X_0.jpg Y_1.jpg), got '{person} {cloth}'"
            )
        if split == "test" and mode == "paired":
            if person in persons:
                continue
            persons.add(person)
            cloth = f"{ps[:-2]}_1{os.path.splitext(cloth)[1]}"
        pair_mode = "paired" if _file_stem(cloth)[:-2] == ps[:-2] else "unpaired"
        if split == "test" and mode == "unpaired" and pair_mode == "paired":
            continue
        seen.check(d["image"], person, pairs, n)
        seen.check(d["cloth"], cloth, pairs, n)
        seen.check(d["cloth-mask"], cloth, pairs, n)
        seen.check(d["image-parse"], f"{ps}.png", pairs, n)
        recs.append(_upper_record(d, person, cloth, pair_mode, "cpvton"))
    if not recs:
        raise io.DataError(f"{pairs}: no pairs listed")
    return recs


def _dresscode_lines(root: Path, cat: str, name: str, seen: _Listing) -> Iterator[tuple[Path, int, str, str]]:
    """(pairs file, line number, person, cloth) of one category: from ``cat/name``, else from the
    top-level ``name``: its lines whose third column is this category (0|1|2 or the folder name) or,
    without a third column, whose person image is in this category's ``images/``."""
    own, top = root / cat / name, root / name
    if own.is_file():
        for n, person, cloth, _ in read_pair_lines(own):
            yield own, n, person, cloth
        return
    if not top.is_file():
        raise io.DataError(f"{own}: file not found (official Dress Code layout; no top-level {top} either)")
    for n, person, cloth, c in read_pair_lines(top, max_cols=3):
        if c is None:
            if person in (seen.names(root / cat / "images") or ()):
                yield top, n, person, cloth
            continue
        line_cat = DRESSCODE_CATEGORY_IDS.get(c, c)
        if line_cat not in DRESSCODE_CATEGORIES:
            raise io.DataError(
                f"{top}: line {n}: expected '<person image> <cloth image> <category 0|1|2>', "
                f"got '{person} {cloth} {c}'"
            )
        if line_cat == cat:
            yield top, n, person, cloth


def _dresscode_record(d: dict[str, Path], cat: str, person: str, cloth: str, mode: str) -> PairRecord:
    """``d``: the category's subfolders by name."""
    pid = _file_stem(person)
    x = pid[:-2]  # 048392_0 -> 048392
    return PairRecord(
        person_id=pid,
        cloth_id=_file_stem(cloth),
        person=d["images"] / person,
        cloth=d["images"] / cloth,
        cloth_mask=None,
        parse=d["label_maps"] / f"{x}_4.png",
        pose=d["keypoints"] / f"{x}_2.json",
        category=cat,
        labelset="dresscode",
        mode=mode,
        densepose=d["dense"] / f"{x}_5.png",
    )


def _list_dresscode(root: Path, split: str, mode: str, categories: Sequence[str] | None) -> list[PairRecord]:
    if isinstance(categories, str):
        categories = [categories]
    cats = [c for c in DRESSCODE_CATEGORIES if (root / c).is_dir()] if categories is None else categories
    name = DRESSCODE_PAIRS[(split, mode)]
    seen = _Listing()
    recs = []
    for cat in cats:
        if cat not in DRESSCODE_CATEGORIES:
            raise ValueError(f"category: expected one of {list(DRESSCODE_CATEGORIES)}, got {cat!r}")
        base = root / cat
        if not base.is_dir():
            raise _missing_dir(base, "official Dress Code")
        d = {sub: base / sub for sub in DRESSCODE_DIRS}
        for pairs, n, person, cloth in _dresscode_lines(root, cat, name, seen):
            if not (_file_stem(person).endswith("_0") and _file_stem(cloth).endswith("_1")):
                raise io.DataError(
                    f"{pairs}: line {n}: {_EXPECTED} (Dress Code X_0.jpg Y_1.jpg), got '{person} {cloth}'"
                )
            seen.check(d["images"], person, pairs, n)
            seen.check(d["images"], cloth, pairs, n)
            recs.append(_dresscode_record(d, cat, person, cloth, mode))
    if not recs:
        raise io.DataError(
            f"{root}: no {split} {mode} pairs listed in {name} of {', '.join(cats) or 'any category'}"
        )
    return recs


def list_official(
    root: str | os.PathLike, split: str, mode: str = "paired", categories: Sequence[str] | None = None
) -> list[PairRecord]:
    """Pair records of an official VITON-HD or Dress Code folder, the official split as shipped.

    split: 'train' | 'test'; mode: 'paired' | 'unpaired' (the official train split is paired only).
    categories: Dress Code category folders to read (default: every one present; ignored for VITON-HD).
    Reads only the pairs files (and one listing per image folder): a malformed line or a line naming a
    missing person / garment image raises a one-line :class:`io.DataError` naming the file."""
    _check_args(split, mode)
    root = Path(root)
    kind = detect(root)
    if kind == "cpvton":
        return _list_cpvton(root, split, mode)
    if kind == "vitonhd_official":
        return _list_vitonhd(root, split, mode)
    if kind == "dresscode_official":
        return _list_dresscode(root, split, mode, categories)
    raise io.DataError(
        f"{root}: flat layout, not an official one (read it with tryon.data.vitonhd / tryon.data.dresscode)"
    )
