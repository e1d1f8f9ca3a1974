"""Network-free try-on baselines on real photos (issue #18): what a try-on figure must beat.

Each takes the person photo, its parse map and the flat garment with its mask, and makes an image that
involves no network. Two of them use the photo's ground-truth garment region, which a try-on network
never sees (their figures are an upper reference, not a fair rival):

- ``keep_trunk``: the photo on the method's trunk mask (:func:`tryon.data.labels.trunk_mask`: face,
  hair, neck, hands, the clothes not replaced), every other pixel the photo's median background colour.
  The method's input with nothing tried on.
- ``naive_paste``: ``keep_trunk``, plus the flat garment (the box of its mask) resized into the box of
  the parse garment region and pasted on that region (uses the ground-truth region).
- ``mean_fill``: the photo, with the parse garment region filled with the flat garment's mean colour
  (inside its mask) (uses the ground-truth region).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from tryon.data import labels

NAMES = ("keep_trunk", "naive_paste", "mean_fill")
#: baselines that read the ground-truth garment region (the report says so next to their rows)
USES_GT_REGION = ("naive_paste", "mean_fill")


def background_colour(photo: np.ndarray, parse: np.ndarray) -> np.ndarray:
    """Median RGB of the photo's background pixels (parse label 0); of the whole photo when none."""
    bg = parse == labels.CIHP.BACKGROUND
    pixels = photo[bg] if bg.any() else photo.reshape(-1, photo.shape[-1])
    return np.median(pixels, axis=0).astype(np.uint8)


def keep_trunk(photo: np.ndarray, parse: np.ndarray, category: str = "upper_body") -> np.ndarray:
    """uint8 [H, W, 3]: the photo on the trunk mask, the median background colour elsewhere."""
    keep = labels.trunk_mask(parse, category)
    return np.where(keep[..., None], photo, background_colour(photo, parse)).astype(np.uint8)


def _box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    return None if len(ys) == 0 else (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def naive_paste(
    photo: np.ndarray,
    parse: np.ndarray,
    garment: np.ndarray,
    garment_mask: np.ndarray,
    category: str = "upper_body",
) -> np.ndarray:
    """uint8 [H, W, 3]: :func:`keep_trunk` with the flat garment's box resized into the parse garment
    box, pasted on the parse garment region. ``garment`` uint8 [h, w, 3], ``garment_mask`` bool [h, w]."""
    out = keep_trunk(photo, parse, category)
    region = labels.category_garment_mask(parse, category)
    dst, src = _box(region), _box(garment_mask)
    if dst is None or src is None:
        return out
    x0, y0, x1, y1 = dst
    patch = Image.fromarray(garment).crop(src).resize((x1 - x0, y1 - y0), Image.BILINEAR)
    window = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = np.where(region[y0:y1, x0:x1, None], np.asarray(patch), window)
    return out


def mean_fill(
    photo: np.ndarray,
    parse: np.ndarray,
    garment: np.ndarray,
    garment_mask: np.ndarray,
    category: str = "upper_body",
) -> np.ndarray:
    """uint8 [H, W, 3]: the photo with its parse garment region filled with the flat garment's mean
    colour (over ``garment_mask``; the whole garment image when the mask is empty)."""
    pixels = garment[garment_mask] if garment_mask.any() else garment.reshape(-1, 3)
    colour = np.round(pixels.astype(np.float64).mean(axis=0)).astype(np.uint8)
    region = labels.category_garment_mask(parse, category)
    return np.where(region[..., None], colour, photo).astype(np.uint8)


def make(name: str, photo, parse, garment, garment_mask, category: str = "upper_body") -> np.ndarray:
    """The baseline image ``name`` (one of :data:`NAMES`)."""
    if name == "keep_trunk":
        return keep_trunk(photo, parse, category)
    if name == "naive_paste":
        return naive_paste(photo, parse, garment, garment_mask, category)
    if name == "mean_fill":
        return mean_fill(photo, parse, garment, garment_mask, category)
    raise ValueError(f"baseline: expected one of {list(NAMES)}, got {name!r}")
