"""The human parser's data: VITON person photos with their LIP parse maps (as CIHP ids), the dev split,
the training augmentation, the class weights and the batch tensors.

Data: VITON as CP-VTON published it (``../shared/data/viton``): every person photo (one per distinct photo)
with its LIP parse map, remapped to CIHP ids (:func:`tryon.data.labels.lip_to_cihp`: LIP's jumpsuits become
a dress), read from disk as needed (:func:`read_example`). **Dev split by person photo**
(:func:`split_ids`): the 256 train persons that the try-on pipeline holds out
(``01_prepare.real_dev_pairs`` = 256, seed ``real_split_seed`` = 0, drawn by
:func:`tryon.data.real.dev_persons` over the official train listing, the same draw as
:func:`tryon.data.real.split_table`'s ``dev`` rows); ``train`` is the rest of the train persons.

Augmentation (:func:`augment`): a random similarity transform (scale and shift, applied to photo and map
together, the map by nearest neighbour, the uncovered border filled with the photo's corner colour /
background), a left-right mirror half the time (:func:`mirror`) and a mild brightness / contrast jitter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tryon.data.labels import CIHP, N_CIHP

#: the person's left <-> right labels: what a left-right mirror swaps
MIRROR_PAIRS = (
    (CIHP.LEFT_ARM, CIHP.RIGHT_ARM),
    (CIHP.LEFT_LEG, CIHP.RIGHT_LEG),
    (CIHP.LEFT_SHOE, CIHP.RIGHT_SHOE),
)
_MIRROR_LUT = np.arange(256, dtype=np.uint8)
for _a, _b in MIRROR_PAIRS:
    _MIRROR_LUT[int(_a)], _MIRROR_LUT[int(_b)] = int(_b), int(_a)

#: the try-on pipeline's real dev split (params.yaml 01_prepare: real_dev_pairs, real_split_seed)
N_DEV, DEV_SEED = 256, 0


def _person_ids(pairs_file: Path) -> list[str]:
    """Distinct person ids (``000003_0``) of a pairs file, in file order."""
    from tryon.data.official import _file_stem, read_pair_lines

    return list(dict.fromkeys(_file_stem(p) for _, p, _, _ in read_pair_lines(pairs_file)))


def dev_person_ids(root: str | os.PathLike, n_dev: int = N_DEV, seed: int = DEV_SEED) -> set[str]:
    """The dev persons: the try-on pipeline's (``split_table(root, n_dev=256)``'s ``dev`` rows)."""
    from tryon.data import official
    from tryon.data.real import dev_persons

    return dev_persons([r.person_id for r in official.list_official(root, "train", "paired")], n_dev, seed)


def _normalise_id(s: str) -> str:
    """``000038`` / ``000038_0`` / ``000038_0.jpg`` -> ``000038_0``."""
    stem = os.path.splitext(os.path.basename(s.strip()))[0]
    return stem if stem.endswith("_0") else f"{stem}_0"


def split_ids(root: str | os.PathLike, split: str, ids: str | os.PathLike | None = None) -> list[str]:
    """Person ids (``000003_0``) of ``split`` ('train' = train minus dev | 'dev' | 'test'), or those listed
    in ``ids`` (a file of ``root`` such as ``test_clean_ids``, or a path; one id a line), which must
    belong to the split. One-line ``ValueError`` naming the file otherwise."""
    root = Path(root)
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split: expected train | dev | test, got {split!r}")
    if not root.is_dir():
        raise ValueError(f"{root}: VITON folder not found")
    everyone = _person_ids(root / ("test_pairs.txt" if split == "test" else "train_pairs.txt"))
    if split != "test":
        dev = dev_person_ids(root)
        everyone = [p for p in everyone if (p in dev) == (split == "dev")]
    if ids is None:
        return everyone
    cands = [root / f"{ids}.txt", root / str(ids), Path(ids)]
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        raise ValueError(f"{ids}: id list not found (looked for {cands[0]} and {cands[2]})")
    listed = [_normalise_id(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    known = set(everyone)
    bad = [i for i in listed if i not in known]
    if bad:
        raise ValueError(f"{path}: {len(bad)} id(s) not in the {split} split, e.g. {bad[0]}")
    return list(dict.fromkeys(listed))


def examples_of(root: str | os.PathLike, split: str, ids: Sequence[str]) -> list[tuple[str, Path, Path]]:
    """(id, photo path, LIP parse path) of person ids of ``split`` (dev photos live in ``train/``)."""
    base = Path(root) / ("test" if split == "test" else "train")
    return [(i, base / "image" / f"{i}.jpg", base / "image-parse" / f"{i}.png") for i in ids]


def read_example(photo: str | os.PathLike, parse: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(photo uint8 [H, W, 3], parse uint8 [H, W] CIHP ids); errors name the file."""
    from tryon.data import io
    from tryon.data.vitonhd import load_parse

    img = io.read_rgb(photo)
    return img, load_parse(Path(parse), "lip", (img.shape[1], img.shape[0]))


def mirror(photo: np.ndarray, parse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left-right mirror of a photo [H, W, 3] and its CIHP map [H, W]: the person's left arm / leg / shoe
    becomes the right one (:data:`MIRROR_PAIRS` swapped)."""
    return np.ascontiguousarray(photo[:, ::-1]), _MIRROR_LUT[parse[:, ::-1]]


def augment(
    photo: np.ndarray, parse: np.ndarray, rng: np.random.Generator,
    scale: float = 0.08, shift: float = 0.05, colour: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Random scale (1 +- ``scale``) about the centre and shift (+- ``shift`` of each side), photo bilinear
    and map nearest; the mirror half the time; brightness / contrast +- ``colour``. Same shapes out."""
    from PIL import Image

    h, w = parse.shape
    if scale or shift:
        s = 1.0 + rng.uniform(-scale, scale)
        tx, ty = rng.uniform(-shift, shift) * w, rng.uniform(-shift, shift) * h
        # PIL's affine maps output (x, y) to input (a x + b y + c, d x + e y + f)
        cx, cy = w / 2.0, h / 2.0
        coeffs = (1 / s, 0.0, cx - (cx + tx) / s, 0.0, 1 / s, cy - (cy + ty) / s)
        fill = tuple(int(v) for v in np.median(photo[[0, 0, -1, -1], [0, -1, 0, -1]], axis=0))
        photo = np.asarray(
            Image.fromarray(photo).transform((w, h), Image.AFFINE, coeffs, Image.BILINEAR, fillcolor=fill)
        )
        parse = np.asarray(
            Image.fromarray(parse).transform((w, h), Image.AFFINE, coeffs, Image.NEAREST, fillcolor=0)
        )
    if rng.random() < 0.5:
        photo, parse = mirror(photo, parse)
    if colour:
        a, b = 1.0 + rng.uniform(-colour, colour), rng.uniform(-colour, colour) * 255
        photo = np.clip(photo.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
    return photo, parse


def class_weights(parses: Sequence[np.ndarray], power: float) -> torch.Tensor:
    """float [N_CIHP]: ``(median frequency / frequency) ** power`` over the classes present (1 for absent
    ones, which never occur in a target), clipped to [0.2, 5]."""
    counts = np.zeros(N_CIHP, dtype=np.float64)
    for p in parses:
        counts += np.bincount(p.ravel(), minlength=N_CIHP)[:N_CIHP]
    w = np.ones(N_CIHP)
    present = counts > 0
    if power and present.any():
        freq = counts / counts.sum()
        w[present] = np.clip((np.median(freq[present]) / freq[present]) ** power, 0.2, 5.0)
    return torch.tensor(w, dtype=torch.float32)


def batch_tensors(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]], size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(photos float [B, 3, h, w] in [-1, 1] at the working size, maps int64 [B, H, W] at full size)."""
    from tryon.parser.model import photos_to_tensor

    x = photos_to_tensor([p for p, _ in pairs], size)
    y = torch.from_numpy(np.stack([m for _, m in pairs])).long()
    return x, y
