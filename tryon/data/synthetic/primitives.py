"""Building blocks shared by the body, garment and render modules: the pixel grid, SDF primitives
(all vectorised; inputs are coordinate arrays, outputs signed distance in their units), 1-pixel soft
coverage, smooth interpolation / maximum, and random colours.

Coordinates: continuous pixel coordinates, x right, y down, pixel i covers [i, i+1] (its centre is i+0.5).
"""

from __future__ import annotations

import numpy as np


# ------------------------------------------------------------------------------------------------
# Random colours (body and garment sampling)
# ------------------------------------------------------------------------------------------------
def _rand_color(rng: np.random.Generator, sat=(0.3, 0.9), val=(0.3, 0.95)) -> tuple[float, float, float]:
    import colorsys

    h = rng.random()
    s = rng.uniform(*sat)
    v = rng.uniform(*val)
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


# ------------------------------------------------------------------------------------------------
# SDF primitives (all vectorised; inputs are coordinate arrays, outputs signed distance in their units)
# ------------------------------------------------------------------------------------------------
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    return np.broadcast_to(c[None, :], (size, size)), np.broadcast_to(c[:, None], (size, size))


def _capsule(x, y, a, b, ra, rb):
    """Tapered capsule from point a (radius ra) to b (radius rb); returns (sdf, t along the axis)."""
    bax, bay = b[0] - a[0], b[1] - a[1]
    L2 = bax * bax + bay * bay + 1e-9
    t = np.clip(((x - a[0]) * bax + (y - a[1]) * bay) / L2, 0.0, 1.0)
    dx = x - a[0] - t * bax
    dy = y - a[1] - t * bay
    return np.sqrt(dx * dx + dy * dy) - (ra + t * (rb - ra)), t


def _ellipse(x, y, c, ax, ay):
    q = np.sqrt(((x - c[0]) / ax) ** 2 + ((y - c[1]) / ay) ** 2)
    return (q - 1.0) * min(ax, ay)


def _cov(sdf):
    """1-pixel anti-aliased coverage of an SDF in pixels."""
    return np.clip(0.5 - sdf, 0.0, 1.0)


def _smoothstep_interp(y, knots_y, knots_v):
    """C1 interpolation through knots (smoothstep between neighbours); y outside is clamped."""
    ky = np.asarray(knots_y, dtype=np.float32)
    kv = np.asarray(knots_v, dtype=np.float32)
    idx = np.clip(np.searchsorted(ky, y) - 1, 0, len(ky) - 2)
    t = np.clip((y - ky[idx]) / (ky[idx + 1] - ky[idx]), 0.0, 1.0)
    t = t * t * (3 - 2 * t)
    return kv[idx] + t * (kv[idx + 1] - kv[idx])


def _smax(a, b, k):
    """Smooth maximum with blend width k."""
    h = np.clip(0.5 + 0.5 * (a - b) / k, 0.0, 1.0)
    return b + h * (a - b) + k * h * (1 - h)
