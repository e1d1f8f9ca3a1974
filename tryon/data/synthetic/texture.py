"""Garment textures and the flat in-shop garment image: value noise, anti-aliased stripes, the
texture kinds of ``TEXTURES`` (solid, stripes, checks, dots, gradient, noise, logo), the chest logo
(circle, star or text in PIL's default font) and :func:`render_flat_garment`."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from tryon.data.synthetic.garment import Garment, _sleeve_frame, _sleeve_w0, garment_sdf
from tryon.data.synthetic.primitives import _cov, _grid


def _noise(size: int, seed: int, cells: int = 6) -> np.ndarray:
    """Smooth value noise in [0, 1], [size, size] float32 (bicubic upsampling of a cells x cells grid)."""
    r = np.random.default_rng(seed).random((cells, cells)).astype(np.float32)
    t = torch.from_numpy(r)[None, None]
    up = F.interpolate(t, size=(size, size), mode="bicubic", align_corners=False)[0, 0].numpy()
    return np.clip(up, 0, 1)


def _stripe(coord, period, duty, px):
    """Anti-aliased stripe coverage along ``coord`` (same units as period; px = one pixel in those units)."""
    f = coord / period
    dist = np.abs(f - np.floor(f) - 0.5) * period  # distance to the stripe centre
    return np.clip((duty * period / 2 - dist) / px + 0.5, 0.0, 1.0)


def _texture(g: Garment, u, v, size: int, win=(slice(None), slice(None))) -> np.ndarray:
    """Garment texture [h, w, 3] in [0, 1] at flat coordinates u, v (fractions of S) of the window ``win``
    of the S x S flat image."""
    p = g.tex_params
    c0, c1, c2 = (np.array(c, dtype=np.float32) for c in g.colors)
    px = 1.0 / size
    a = p["angle"]
    ru = u * math.cos(a) + v * math.sin(a)
    rv = -u * math.sin(a) + v * math.cos(a)
    kind = g.texture
    if kind == "solid":
        m = np.zeros_like(u)
    elif kind == "stripes":
        m = _stripe(ru, p["period"], p["duty"], px)
    elif kind == "checks":
        s1 = _stripe(ru, p["period"] * 2, 0.5, px)
        s2 = _stripe(rv, p["period"] * 2, 0.5, px)
        m = 0.6 * s1 + 0.6 * s2 - 0.6 * s1 * s2
    elif kind == "dots":
        per = p["period"] * 1.4
        du = (ru / per - np.floor(ru / per) - 0.5) * per
        dv = (rv / per - np.floor(rv / per) - 0.5) * per
        m = np.clip((p["radius"] * per - np.sqrt(du * du + dv * dv)) / px + 0.5, 0, 1)
    elif kind == "gradient":
        rc = 0.5 * (g.top + g.bottom) * math.sin(a)  # the garment centre along the gradient direction
        m = np.clip(0.5 + (ru - rc) / 0.7, 0, 1)
    elif kind == "noise":
        m = _noise(size, p["seed"], cells=int(4 + p["period"] * 60))[win]
    elif kind == "logo":
        m = np.zeros_like(u)
    else:  # pragma: no cover - GARMENT_TYPES is closed
        raise ValueError(kind)
    img = c0 * (1 - m[..., None]) + c1 * m[..., None]
    if kind in ("logo", "gradient", "noise") or p["seed"] % 3 == 0:
        img = _draw_logo(img, g, u, v, size, c2, win)
    return img


def _draw_logo(img, g: Garment, u, v, size, color, win) -> np.ndarray:
    p = g.tex_params
    cy = g.top + p["logo_y"] * (g.bottom - g.top)
    r = p["logo_size"]
    if p["logo_shape"] == "circle":
        d = np.abs(np.sqrt(u * u + (v - cy) ** 2) - r * 0.7) - r * 0.18
        m = np.clip(-d * size + 0.5, 0, 1)
    elif p["logo_shape"] == "star":
        ang = np.arctan2(v - cy, u)
        rad = np.sqrt(u * u + (v - cy) ** 2)
        m = np.clip((r * (0.55 + 0.35 * np.cos(5 * ang)) - rad) * size + 0.5, 0, 1)
    else:
        fs = max(8, int(r * size * 1.1))
        canvas = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(canvas)
        font = _font(fs)
        text = p["text"]
        bbox = draw.textbbox((0, 0), text, font=font)
        tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
        x0 = size / 2 - tw / 2 - bbox[0]
        y0 = cy * size - th / 2 - bbox[1]
        draw.text((x0, y0), text, fill=255, font=font)
        m = np.asarray(canvas, dtype=np.float32)[win] / 255.0
        return img * (1 - m[..., None]) + color * m[..., None]
    return img * (1 - m[..., None]) + color * m[..., None]


_FONTS: dict[int, ImageFont.ImageFont] = {}


def _font(size: int):
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def render_flat_garment(g: Garment, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat in-shop garment photo: (rgb float32 [S, S, 3] in [0, 1] on a light background,
    coverage float32 [S, S] in [0, 1])."""
    if g.photo is not None:
        return g.photo.rgb, g.photo.cov
    # only the garment's bounding window is computed (the rest is plain background)
    hw = max(g.hw_shoulder, g.hw_chest, g.hw_hem)
    v1 = g.bottom
    if g.sleeve_len > 0:
        (mx, my), d, _ = _sleeve_frame(g, 1)
        w0 = _sleeve_w0(g)
        hw = max(hw, mx + g.sleeve_len * d[0] + w0 + 0.02)
        v1 = max(v1, my + g.sleeve_len * d[1] + w0)
    x0 = max(0, int((0.5 - hw - 0.02) * size) - 1)
    win = (
        slice(max(0, int((g.top - 0.02) * size) - 1), min(size, int((v1 + 0.02) * size) + 2)),
        slice(x0, size - x0),
    )
    x, y = _grid(size)
    u = x[win] / size - 0.5
    v = y[win] / size
    sdf = garment_sdf(g, u, v) * size
    cov_w = _cov(sdf)
    tex = _texture(g, u, v, size, win)
    # a faint flat-lay shading: darker towards the outline
    shade = 1.0 - 0.12 * np.exp(np.minimum(sdf, 0) / (0.02 * size))
    bg = np.array(g.bg_rgb, dtype=np.float32)
    rgb = np.empty((size, size, 3), np.float32)
    rgb[:] = bg
    rgb[win] = np.clip(tex * shade[..., None] * cov_w[..., None] + bg * (1 - cov_w[..., None]), 0, 1)
    cov = np.zeros((size, size), np.float32)
    cov[win] = cov_w
    return rgb, cov
