"""Image / mask / label-map file I/O with one-line errors that name the file.

Readers return numpy arrays: RGB uint8 [H, W, 3], masks bool [H, W], label maps uint8 [H, W].
Writers are deterministic (same array -> byte-identical file) and atomic (temp file + rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tryon.data.labels import CIHP


class DataError(ValueError):
    """Bad or missing input data; the message is one line naming the file and what was expected."""


def _palette() -> list[int]:
    """A fixed display palette for label maps (the ids are what count; colours are for people)."""
    rng = np.random.default_rng(1234)
    pal = rng.integers(40, 256, (256, 3))
    pal[0] = 0
    fixed = {
        CIHP.HAIR: (80, 40, 20),
        CIHP.UPPER_CLOTHES: (230, 60, 60),
        CIHP.PANTS: (60, 60, 200),
        CIHP.TORSO_SKIN: (250, 200, 160),
        CIHP.SKIRT: (120, 60, 200),
        CIHP.FACE: (255, 220, 180),
        CIHP.LEFT_ARM: (200, 150, 90),
        CIHP.RIGHT_ARM: (170, 120, 70),
        CIHP.LEFT_LEG: (120, 200, 120),
        CIHP.RIGHT_LEG: (80, 160, 80),
    }
    for k, v in fixed.items():
        pal[int(k)] = v
    return [int(c) for c in pal.reshape(-1)]


PALETTE = _palette()


def _open(path: Path) -> Image.Image:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        im = Image.open(path)
        im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: not a readable image ({type(e).__name__})") from None
    return im


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """RGB uint8 [H, W, 3]."""
    return np.asarray(_open(Path(path)).convert("RGB"))


def read_mask(path: str | os.PathLike, threshold: int = 128) -> np.ndarray:
    """Binary mask bool [H, W] (>= threshold on the grey value; JPEG masks are not exactly 0/255)."""
    return np.asarray(_open(Path(path)).convert("L")) >= threshold


def read_labels(path: str | os.PathLike, n_labels: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Label map uint8 [H, W] (palette or grey PNG: the stored values are the ids).

    ``size`` = expected (W, H); a mismatch or an id >= ``n_labels`` raises :class:`DataError`."""
    path = Path(path)
    im = _open(path)
    if im.mode not in ("P", "L", "I", "I;16"):
        raise DataError(f"{path}: expected a label map (palette or grey PNG), got mode {im.mode}")
    if size is not None and im.size != tuple(size):
        raise DataError(
            f"{path}: parse map is {im.size[0]}x{im.size[1]}, expected {size[0]}x{size[1]} (the person image size)"
        )
    arr = np.asarray(im)
    if arr.size and int(arr.max()) >= n_labels:
        bad = sorted(int(v) for v in np.unique(arr) if v >= n_labels)
        raise DataError(f"{path}: unknown parse label(s) {bad} (expected ids 0..{n_labels - 1})")
    return arr.astype(np.uint8)


def _atomic_save(path: Path, save) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_uint8(img: np.ndarray) -> np.ndarray:
    """float [0, 1] -> uint8 with rounding (uint8 passes through)."""
    if img.dtype == np.uint8:
        return img
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def label_rgb(labels_map: np.ndarray) -> np.ndarray:
    """A label map int [H, W] in the display palette of :func:`write_png`: uint8 [H, W, 3]."""
    pal = np.asarray(PALETTE, dtype=np.uint8).reshape(-1, 3)
    return pal[np.asarray(labels_map, dtype=np.int64) % len(pal)]


def write_png(path: str | os.PathLike, img: np.ndarray, palette: bool = False, atomic: bool = True) -> None:
    """Write RGB ([H, W, 3], float [0, 1] or uint8), a mask (bool [H, W]) or a label map (uint8 [H, W],
    ``palette=True`` stores it as a palette PNG whose values are the ids). ``atomic=False`` writes in place
    (for files inside a temp folder that is renamed into place as a whole)."""
    path = Path(path)
    if img.dtype == bool:
        im = Image.fromarray(img.astype(np.uint8) * 255, mode="L")
    elif palette:
        im = Image.fromarray(img.astype(np.uint8), mode="P")
        im.putpalette(PALETTE)
    else:
        im = Image.fromarray(to_uint8(img))
    if atomic:
        _atomic_save(path, lambda t: im.save(t, format="PNG", compress_level=1))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        im.save(path, format="PNG", compress_level=1)


def write_npy(path: str | os.PathLike, arr: np.ndarray, atomic: bool = True) -> None:
    if not atomic:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.save(fh, arr)
        return

    def save(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, arr)

    _atomic_save(Path(path), save)


def read_npy(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy array ({type(e).__name__})") from None
