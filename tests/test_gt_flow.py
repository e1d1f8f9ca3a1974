"""The synthetic ground-truth flow checked against an independent render.

Stage 01's ``gt_mae_255_*`` re-applies the stored ``gt_grid`` to the stored flat garment and compares it
with the worn garment the renderer made by sampling the same flat raster at the same map: a storage round
trip (float16 rounding), near 0 by construction, which a map in the wrong frame (off by a pixel, x and y
swapped, pixel corners for centres) would pass just as well. Here the stored grid is read back through
the dataset and the flat garment's **procedural texture** (:func:`tryon.data.synthetic.texture._texture`
times the flat-lay shading, evaluated analytically at the flat coordinates the grid names, no raster,
no ``grid_sample``) is compared with the worn garment: the grid is right only if that continuous render
at its positions is what the person wears.
"""

from __future__ import annotations

import numpy as np
import pytest

from tryon.data import synthetic as sy
from tryon.data.dataset import TryOnDataset
from tryon.data.synthetic.garment import garment_sdf
from tryon.data.synthetic.texture import _texture

S = 128
N = 24


def flat_garment_at(g, u: np.ndarray, v: np.ndarray, size: int) -> np.ndarray:
    """The flat garment's colour [n, 3] in [0, 1] at flat coordinates ``u`` (fraction of the flat image
    from its centre line) and ``v`` (fraction from its top), evaluated from the garment's definition:
    its texture times the flat-lay shading (darker towards the outline), as the flat image is drawn
    inside the garment."""
    sdf = garment_sdf(g, u, v) * size
    shade = 1.0 - 0.12 * np.exp(np.minimum(sdf, 0) / (0.02 * size))
    return _texture(g, u, v, size) * shade[..., None]


def analytic(g) -> bool:
    """Can the garment's texture be evaluated at any point? (value noise and text logos are rasters)"""
    p = g.tex_params
    logo = g.texture in ("logo", "gradient", "noise") or p["seed"] % 3 == 0
    return g.texture not in ("noise", "logo") and not (logo and p["logo_shape"] == "text")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """N train samples written by ``tryon generate`` and read back by the dataset (the stored float16
    grid), with the garment and the worn garment (before shading) rendered in memory from the same seed."""
    root = tmp_path_factory.mktemp("gt")
    sy.generate(root, n=N, size=S, seed=0)
    ds = TryOnDataset(root, "train")
    out = []
    for i in range(N):
        _, g, sample = sy.make_sample(0, "train", i, S)
        if not analytic(g):
            continue
        item = ds[i]
        valid = item["flow_valid"][0].numpy() > 0.5
        grid = item["gt_grid"].numpy()  # [2, S, S] normalised (x, y), align_corners=False
        out.append((g, grid[0][valid], grid[1][valid], sample["garment_raw"][valid]))
    assert len(out) >= 8, "too few samples with an analytic texture"
    return out


def _error(g, gx: np.ndarray, gy: np.ndarray, worn: np.ndarray, dx: float = 0, dy: float = 0) -> float:
    """Mean |independent render at the grid's flat point (moved by dx, dy flat pixels) - worn| in 1/255."""
    u = (gx + 1) / 2 - 0.5 + dx / S  # normalised x -> fraction of the flat width from the centre line
    v = (gy + 1) / 2 + dy / S
    return float(np.abs(flat_garment_at(g, u, v, S) - worn).mean()) * 255


def test_the_stored_flow_points_where_an_independent_render_shows_the_worn_colour(stored):
    """Inside flow_valid, the garment evaluated at the stored grid's points matches the worn garment to
    about 1/255 on average (the rest is the flat raster's bilinear sampling of stripe edges, which the
    analytic texture does not have); the same grid moved by one flat pixel in x or in y, or read as
    ``align_corners=True`` (a pixel-corner frame), or with x and y swapped, is worse on the samples
    together and never better than the stored one on any sample by more than rounding."""
    right = [_error(*s) for s in stored]
    assert np.mean(right) < 1.5, right
    wrong = {
        "x + 1 px": [_error(*s, dx=1) for s in stored],
        "x - 1 px": [_error(*s, dx=-1) for s in stored],
        "y + 1 px": [_error(*s, dy=1) for s in stored],
        "y - 1 px": [_error(*s, dy=-1) for s in stored],
        "align_corners=True": [_error(g, gx * (S - 1) / S, gy * (S - 1) / S, w) for g, gx, gy, w in stored],
        "x and y swapped": [_error(g, gy, gx, w) for g, gx, gy, w in stored],
    }
    for name, errs in wrong.items():
        assert np.mean(errs) > 1.2 * np.mean(right) + 0.2, (name, np.mean(errs), np.mean(right))
        assert all(r <= e + 0.05 for r, e in zip(right, errs, strict=True)), (name, right, errs)
