"""Try-on inputs and outputs, checked before any network work: the accepted image sizes, output formats,
garment categories and parse-map label sets; :class:`InferError` (every bad input raises it, with a
one-line message naming the input); reading and checking the person / garment photos, a parse map and a
garment mask; and writing a result image atomically (a temp file renamed into place).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

# not preprocess at import: it imports torch, and the CLI builds its parser from this module
from tryon.data import io, labels

#: accepted person / garment image sides (pixels)
MIN_SIDE = 64
MAX_SIDE = 8192
#: output formats (from the file suffix)
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
CATEGORIES = tuple(labels.CATEGORY_GARMENT)
LABELSETS = ("cihp", "dresscode", "lip")


class InferError(ValueError):
    """A bad try-on input; the message is one line and names the input."""


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
def check_image(path: str | os.PathLike, role: str) -> tuple[int, int]:
    """(W, H) of an image file, read from its header; one-line error when unreadable or out of size."""
    path = Path(path)
    if not path.is_file():
        raise InferError(f"{path}: {role} image not found")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as e:  # PIL raises many types for foreign files
        raise InferError(f"{path}: {role} image is not a readable image ({type(e).__name__})") from None
    if min(w, h) < MIN_SIDE or max(w, h) > MAX_SIDE:
        raise InferError(
            f"{path}: {role} image is {w}x{h}, expected each side between {MIN_SIDE} and {MAX_SIDE} px"
        )
    return w, h


def _read_rgb(path: Path, role: str) -> np.ndarray:
    check_image(path, role)
    try:
        return io.read_rgb(path)
    except io.DataError as e:
        raise InferError(f"{e} ({role} image)") from None


def read_parse(path: str | os.PathLike, size: tuple[int, int], labelset: str = "cihp") -> np.ndarray:
    """A parse map as CIHP ids at ``size`` = (W, H) of the person photo. A map of another size but
    the same aspect ratio (within 1%) is resized (nearest); otherwise a one-line error."""
    path = Path(path)
    if labelset not in LABELSETS:
        raise InferError(f"--parse-labels: expected one of {list(LABELSETS)}, got {labelset!r}")
    try:
        lab = io.read_labels(path, labels.LABELSET_SIZE[labelset])
    except io.DataError as e:
        raise InferError(f"{e} (parse map)") from None
    h, w = lab.shape
    if (w, h) != tuple(size):
        if abs(w / h - size[0] / size[1]) > 0.01 * size[0] / size[1]:
            raise InferError(
                f"{path}: parse map is {w}x{h}, expected the person photo's size {size[0]}x{size[1]} "
                "(or the same aspect ratio)"
            )
        lab = np.asarray(Image.fromarray(lab).resize(tuple(size), Image.NEAREST))
    return lab if labelset == "cihp" else labels.to_cihp(lab, labelset, str(path))


def garment_mask_of(rgb: np.ndarray, mask_path: str | os.PathLike | None) -> np.ndarray:
    """The garment's mask from a file, else estimated from the plain background of the photo."""
    if mask_path is None:
        from tryon.data import preprocess

        m = preprocess.estimate_cloth_mask(rgb)
    else:
        try:
            m = io.read_mask(mask_path)
        except io.DataError as e:
            raise InferError(f"{e} (garment mask)") from None
        if m.shape != rgb.shape[:2]:
            raise InferError(
                f"{mask_path}: garment mask is {m.shape[1]}x{m.shape[0]}, expected the garment "
                f"photo's size {rgb.shape[1]}x{rgb.shape[0]}"
            )
    if m.mean() < 0.01:
        raise InferError(
            f"{mask_path or 'garment photo'}: garment mask covers {100 * m.mean():.2f}% of the image "
            "(expected a garment on a plain background, or pass --garment-mask)"
        )
    return m


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------
def check_out(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InferError(f"--out {path}: expected a .png or .jpg file name")
    if path.is_dir():
        raise InferError(f"--out {path}: is a folder, expected a file name")
    return path


def save_image(path: str | os.PathLike, img: np.ndarray) -> Path:
    """Write uint8 [H, W, 3] atomically (a temp file renamed into place); format from the suffix."""
    path = check_out(path)
    fmt = FORMATS[path.suffix.lower()]
    im = Image.fromarray(img)
    kw = {"quality": 95} if fmt == "JPEG" else {"compress_level": 1}
    io._atomic_save(path, lambda t: im.save(t, format=fmt, **kw))
    return path
