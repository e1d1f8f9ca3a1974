"""Generic plotting helpers (no project logic): flow colour wheel, image conversion for imshow."""

from __future__ import annotations

import numpy as np
import torch


def flow_to_rgb(flow, max_mag: float | None = None) -> np.ndarray:
    """Colour-code a flow field: hue = direction, saturation = magnitude / max_mag (white = no motion).

    flow: [2, H, W] (x, y) displacement, numpy or torch, any units (pixels or normalised).
    max_mag: magnitude shown at full saturation (default: the field's 99th percentile).
    Returns uint8 [H, W, 3]."""
    import matplotlib.colors as mcolors

    f = flow.detach().cpu().numpy() if isinstance(flow, torch.Tensor) else np.asarray(flow)
    fx, fy = f[0].astype(np.float64), f[1].astype(np.float64)
    mag = np.hypot(fx, fy)
    if max_mag is None:
        max_mag = float(np.percentile(mag, 99)) if mag.size else 1.0
    max_mag = max(max_mag, 1e-8)
    hue = (np.arctan2(-fy, -fx) / np.pi + 1.0) / 2.0  # [0, 1]
    sat = np.clip(mag / max_mag, 0, 1)
    hsv = np.stack([hue, sat, np.ones_like(hue)], axis=-1)
    return (mcolors.hsv_to_rgb(hsv) * 255).round().astype(np.uint8)


def colour_wheel(size: int = 64) -> np.ndarray:
    """The legend of :func:`flow_to_rgb`: uint8 [size, size, 3] (outside the unit disc is white)."""
    c = (np.arange(size) + 0.5) / size * 2 - 1
    fx, fy = np.meshgrid(c, c)
    img = flow_to_rgb(np.stack([fx, fy]), max_mag=1.0)
    img[np.hypot(fx, fy) > 1] = 255
    return img


def to_image(t) -> np.ndarray:
    """[3, H, W] in [-1, 1] (torch or numpy) -> float [H, W, 3] in [0, 1] for imshow; [1, H, W] -> [H, W]."""
    a = t.detach().cpu().float().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] == 3:
        return np.clip((a.transpose(1, 2, 0) + 1) / 2, 0, 1)
    return a[0] if a.ndim == 3 else a
