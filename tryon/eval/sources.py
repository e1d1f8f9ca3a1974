"""Where a real try-on's garment error comes from: the error split by the source that made each pixel.

The ``trunk_compose`` fusion makes every pixel of its image as a mix of four sources, whose weights sum
to 1 (:func:`tryon.nets.fusion.compose`, at the photo's size :func:`tryon.infer.full_res.full_resolution`):
the kept photo, the warped garment, the fill (the garment's texture where the warp misses) and the
painted image (the fusion U-Net's own, upsampled from the working size). Inside the photo's garment
region, :func:`error_by_source` splits the garment error ``l1`` of :func:`tryon.eval.photo.photo_figures`
(mean absolute grey error) by those weights, so the four contributions add up to it:

- ``share_<source>``: the source's mean weight in the region (the four sum to 1);
- ``l1_<source>``: its contribution to ``l1``, ``sum(w * |out - photo|) / n`` (the four sum to ``l1``);
- ``error_<source>``: its own mean error, ``l1_<source> / share_<source>`` (NaN where it makes nothing);
- ``bias_<source>``: its weighted mean signed grey error, ``out - photo`` (> 0: lighter than the photo);
- ``sharp_<source>``: the sharpness ratio on its pixels, ``sum(w * |grad out|) / sum(w * |grad photo|)``
  (Sobel, as :func:`tryon.eval.photo.photo_figures`' ``sharpness_ratio``; below 1: blurrier than the photo).

A paired pair's photo is the ground truth, so this says which part of the network to improve: the
warp's placement (``warped``), the fill or the painting.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tryon.eval.photo import grey, sobel_magnitude

#: the fusion's sources, in the order of the weights (:data:`tryon.infer.full_res.SOURCE_COLOURS`)
SOURCES = ("kept", "warped", "fill", "painted")
#: the figures of each source (:func:`error_by_source`)
COLUMNS = ("share", "l1", "error", "bias", "sharp")


def error_by_source(output: np.ndarray, photo: np.ndarray, garment: np.ndarray, weights: np.ndarray) -> dict:
    """``output`` and ``photo`` uint8 [H, W, 3], ``garment`` bool [H, W] (the photo's garment region),
    ``weights`` float [4, H, W] (the :data:`SOURCES`' weights, summing to 1 in each pixel) -> the figures
    of the module doc, each source's four. NaN everywhere for an empty region."""
    if weights.shape != (len(SOURCES), *photo.shape[:2]) or output.shape != photo.shape:
        raise ValueError(
            f"weights {weights.shape}, output {output.shape} and photo {photo.shape}: expected weights "
            f"[{len(SOURCES)}, H, W] and two [H, W, 3] images"
        )
    n = int(garment.sum())
    names = [f"{k}_{s}" for s in SOURCES for k in COLUMNS]
    if n == 0:
        return dict.fromkeys(names, math.nan)
    a, b = grey(output), grey(photo)
    diff = (a - b)[garment]  # [n]
    grad_a, grad_b = sobel_magnitude(a)[garment], sobel_magnitude(b)[garment]  # [n]
    w = weights[:, garment].astype(np.float64)  # [4, n]
    out = {}
    for s, ws in zip(SOURCES, w, strict=True):
        total = float(ws.sum())
        l1 = float((ws * np.abs(diff)).sum()) / n
        out[f"share_{s}"] = total / n
        out[f"l1_{s}"] = l1
        out[f"error_{s}"] = l1 * n / total if total > 1e-6 * n else math.nan
        out[f"bias_{s}"] = float((ws * diff).sum()) / total if total > 1e-6 * n else math.nan
        ref = float((ws * grad_b).sum())
        out[f"sharp_{s}"] = float((ws * grad_a).sum()) / ref if total > 1e-6 * n and ref > 0 else math.nan
    return {k: out[k] for k in names}


def by_source_table(by_source: dict) -> pd.DataFrame:
    """:func:`error_by_source`'s figures (or their means over pairs, ``real.paired_by_source``) as a table:
    one row per source, columns :data:`COLUMNS` (``l1``: its part of the garment error). A figure missing
    from ``by_source`` (``sharp``, before commit d1d6dc8) is NaN."""
    rows = [[by_source.get(f"{c}_{s}", math.nan) for c in COLUMNS] for s in SOURCES]
    return pd.DataFrame(rows, index=SOURCES, columns=list(COLUMNS))
