"""The flat upper garment: :class:`Garment` (procedural) and :class:`PhotoFlat` (a real flat garment
photo), :func:`sample_garment`, the flat panel / sleeve geometry (SDFs in fractions of the flat image
size S, u from the centre line) and the real-photo garments (:func:`list_garment_photos`,
:func:`photo_garment`, :func:`photo_split`).

Real flat garment photos (``garment_dir``, e.g. a VITON-HD ``cloth/`` folder) replace the procedural
garments; they are worn through the torso mapping only (their sleeves travel with the panel), which is
cruder than the procedural sleeves.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data.synthetic.primitives import _ellipse, _rand_color, _smoothstep_interp

GARMENT_TYPES: tuple[str, ...] = ("t-shirt", "long sleeve", "tank", "crop top", "tunic")
TEXTURES: tuple[str, ...] = ("solid", "stripes", "checks", "dots", "gradient", "noise", "logo")


@dataclass(frozen=True)
class Garment:
    """A flat upper garment; lengths are fractions of the flat image size S (x from its centre line)."""

    garment_type: str
    top: float  # shoulder line v
    bottom: float  # hem v
    hw_shoulder: float
    hw_chest: float
    hw_hem: float
    armhole: float  # armpit depth below the shoulder line
    neck_w: float
    neck_d: float
    v_neck: bool
    sleeve_len: float  # 0 = sleeveless
    sleeve_angle: float  # below horizontal (rad), flat layout
    sleeve_cuff: float  # half-width at the cuff
    texture: str
    colors: tuple[tuple[float, float, float], ...]
    tex_params: dict = field(default_factory=dict)
    bg_rgb: tuple[float, float, float] = (0.96, 0.96, 0.96)
    #: flat length (fraction of S) that spans the wearer's shoulder -> crotch
    ref_len: float = 0.62
    #: a real garment photo instead of the procedural drawing (see :func:`photo_garment`)
    photo: PhotoFlat | None = None


@dataclass(frozen=True, eq=False)
class PhotoFlat:
    """A real flat garment photo prepared at one size: rgb float32 [S, S, 3] in [0, 1], cov float32 [S, S],
    sdf float32 [S, S] (signed distance to the mask outline, fractions of S, negative inside) and the
    panel profile (row v, half-width) in fractions of S."""

    name: str
    rgb: np.ndarray
    cov: np.ndarray
    sdf: np.ndarray
    prof_v: np.ndarray
    prof_hw: np.ndarray


# ------------------------------------------------------------------------------------------------
# Sampling
# ------------------------------------------------------------------------------------------------
def sample_garment(rng: np.random.Generator, garment_type: str | None = None) -> Garment:
    """Draw a flat upper garment (shape, sleeves, neckline, texture, colours)."""
    gt = garment_type if garment_type is not None else GARMENT_TYPES[rng.integers(len(GARMENT_TYPES))]
    if gt not in GARMENT_TYPES:
        raise ValueError(f"garment_type: unknown {gt!r} (expected one of {list(GARMENT_TYPES)})")
    top = float(rng.uniform(0.16, 0.2))
    length = {
        "t-shirt": (0.58, 0.66),
        "long sleeve": (0.58, 0.66),
        "tank": (0.56, 0.64),
        "crop top": (0.36, 0.44),
        "tunic": (0.7, 0.76),
    }[gt]
    bottom = top + float(rng.uniform(*length))
    hw_chest = float(rng.uniform(0.17, 0.22))
    hw_shoulder = hw_chest * float(rng.uniform(1.0, 1.12))
    hw_hem = hw_chest * float(rng.uniform(0.92, 1.12 if gt != "tunic" else 1.25))
    armhole = float(rng.uniform(0.12, 0.15))
    sleeve_len = {
        "t-shirt": rng.uniform(0.1, 0.16),
        "long sleeve": rng.uniform(0.4, 0.46),
        "tank": 0.0,
        "crop top": rng.uniform(0.0, 0.12),
        "tunic": rng.uniform(0.1, 0.3),
    }[gt]
    if gt == "tank":
        hw_shoulder = hw_chest * float(rng.uniform(0.55, 0.7))
        armhole = float(rng.uniform(0.14, 0.18))
    if sleeve_len < 0.05:
        sleeve_len = 0.0
    neck_w = float(rng.uniform(0.06, 0.09))
    texture = TEXTURES[rng.integers(len(TEXTURES))]
    colors = tuple(_rand_color(rng) for _ in range(3))
    tex = {
        "angle": float(rng.uniform(0, math.pi))
        if rng.random() < 0.6
        else float(rng.choice([0, math.pi / 2])),
        "period": float(rng.uniform(0.03, 0.09)),
        "duty": float(rng.uniform(0.3, 0.6)),
        "radius": float(rng.uniform(0.2, 0.38)),
        "seed": int(rng.integers(2**31)),
        "text": "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 5)))),
        "logo_shape": ["text", "circle", "star"][rng.integers(3)],
        "logo_y": float(rng.uniform(0.3, 0.45)),
        "logo_size": float(rng.uniform(0.08, 0.14)),
    }
    sleeve_angle = float(rng.uniform(math.radians(35), math.radians(60)))
    cuff = float(rng.uniform(0.04, 0.06)) if sleeve_len > 0.3 else float(rng.uniform(0.055, 0.075))
    if sleeve_len > 0:
        # keep the whole flat garment inside the frame: steepen the sleeve if its cuff would leave it
        mx = (hw_shoulder + hw_chest) / 2 * 0.96
        room = 0.47 - mx - cuff
        if sleeve_len * math.cos(sleeve_angle) > room:
            sleeve_angle = math.acos(max(0.0, min(1.0, room / sleeve_len)))
        my = top + armhole * 0.45
        if my + sleeve_len * math.sin(sleeve_angle) + cuff > 0.97:
            sleeve_len = (0.97 - cuff - my) / math.sin(sleeve_angle)
    return Garment(
        garment_type=gt,
        top=top,
        bottom=bottom,
        hw_shoulder=hw_shoulder,
        hw_chest=hw_chest,
        hw_hem=hw_hem,
        armhole=armhole,
        neck_w=neck_w,
        neck_d=float(rng.uniform(0.03, 0.1)),
        v_neck=bool(rng.random() < 0.3),
        sleeve_len=float(sleeve_len),
        sleeve_angle=sleeve_angle,
        sleeve_cuff=cuff,
        texture=texture,
        colors=colors,
        tex_params=tex,
        bg_rgb=tuple(float(v) for v in [rng.uniform(0.9, 0.99)] * 3),
    )


# ------------------------------------------------------------------------------------------------
# Flat garment geometry
# ------------------------------------------------------------------------------------------------
def _panel_hw(g: Garment, v):
    if g.photo is not None:
        return np.interp(v, g.photo.prof_v, g.photo.prof_hw).astype(np.float32)  # clamped at the ends
    """Half-width of the flat panel at height v (fractions of S)."""
    return _smoothstep_interp(v, [g.top, g.top + g.armhole, g.bottom], [g.hw_shoulder, g.hw_chest, g.hw_hem])


def _panel_sdf(g: Garment, u, v):
    """SDF (fractions of S) of the flat torso panel incl. the neckline cut-out; u from the centre line."""
    if g.photo is not None:  # bilinear lookup in the photo mask's signed distance field
        sdf = torch.from_numpy(g.photo.sdf)[None, None]  # [1, 1, S, S]
        grid = torch.from_numpy(np.stack([2 * (u + 0.5) - 1, 2 * v - 1], -1).astype(np.float32))[None]
        return F.grid_sample(sdf, grid, mode="bilinear", padding_mode="border", align_corners=False)[
            0, 0
        ].numpy()
    hw = _panel_hw(g, v)
    # shoulders slope down from the neck by ~6% of the half-width
    top = g.top + 0.18 * np.clip(np.abs(u) - g.neck_w, 0, None) * 0.3
    d = np.maximum(np.maximum(np.abs(u) - hw, top - v), v - g.bottom)
    if g.v_neck:
        neck = (np.abs(u) / g.neck_w + (v - g.top) / (g.neck_d + 0.06) - 1.0) * g.neck_w * 0.7
    else:
        neck = _ellipse(u, v, (0.0, g.top), g.neck_w, g.neck_d)
    return np.maximum(d, -neck)


def _sleeve_frame(g: Garment, side: int):
    """Flat sleeve axis for side -1 (image left) / +1: start point M, unit direction d, normal n (outer)."""
    mx = side * (g.hw_shoulder + g.hw_chest) / 2 * 0.96
    my = g.top + g.armhole * 0.45
    d = (side * math.cos(g.sleeve_angle), math.sin(g.sleeve_angle))
    n = (d[1], -d[0]) if side > 0 else (-d[1], d[0])
    return (mx, my), d, n


def _sleeve_w0(g: Garment) -> float:
    return 0.5 * math.hypot(g.hw_shoulder - g.hw_chest, g.armhole) + 0.012


def _sleeve_sdf_local(g: Garment, t, s):
    """SDF of a flat sleeve in its own frame: t along the axis (fraction of S), s across (signed)."""
    w = _sleeve_w0(g) + np.clip(t / g.sleeve_len, 0, 1) * (g.sleeve_cuff - _sleeve_w0(g))
    return np.maximum(np.maximum(np.abs(s) - w, -t), t - g.sleeve_len)


def _sleeve_sdf(g: Garment, u, v, side: int):
    (mx, my), d, n = _sleeve_frame(g, side)
    t = (u - mx) * d[0] + (v - my) * d[1]
    s = (u - mx) * n[0] + (v - my) * n[1]
    return _sleeve_sdf_local(g, t, s)


def garment_sdf(g: Garment, u, v):
    """SDF of the whole flat garment (panel + sleeves), fractions of S, u from the centre line."""
    d = _panel_sdf(g, u, v)
    if g.sleeve_len > 0:
        for side in (-1, 1):
            d = np.minimum(d, _sleeve_sdf(g, u, v, side))
    return d


# ------------------------------------------------------------------------------------------------
# Real flat garment photos
# ------------------------------------------------------------------------------------------------
def list_garment_photos(garment_dir: str | os.PathLike) -> list[tuple[Path, Path | None]]:
    """(photo, mask or None) pairs of a folder of flat garment photos: a VITON-HD-like folder with
    ``cloth/`` (+ ``cloth-mask/``) or a plain folder of images. Sorted by name."""
    from tryon.data.io import DataError

    root = Path(garment_dir)
    cloth = root / "cloth" if (root / "cloth").is_dir() else root
    exts = {".jpg", ".jpeg", ".png"}
    photos = sorted(p for p in cloth.iterdir() if p.suffix.lower() in exts) if cloth.is_dir() else []
    if not photos:
        raise DataError(f"{cloth}: no garment photos (*.jpg, *.png) found")
    mdir = root / "cloth-mask"
    return [(p, (mdir / p.name) if (mdir / p.name).exists() else None) for p in photos]


def photo_garment(photo: Path, mask: Path | None, size: int, seed: int) -> Garment:
    """A real flat garment photo as a :class:`Garment`: padded to 1:1 with its background colour, resized,
    its mask (given, else estimated from the background) turned into a signed distance field and a
    half-width profile. The worn mapping is the torso mapping only (sleeves travel with the panel)."""
    from scipy import ndimage

    from tryon.data import io, preprocess

    rgb = io.read_rgb(photo)
    m = io.read_mask(mask) if mask is not None else preprocess.estimate_cloth_mask(rgb)
    if m.shape != rgb.shape[:2]:
        raise io.DataError(
            f"{mask}: mask is {m.shape[1]}x{m.shape[0]}, expected {rgb.shape[1]}x{rgb.shape[0]}"
        )
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    fill = np.median(border, axis=0).astype(np.uint8)
    padded, _ = preprocess.pad_to_square(rgb, 0)
    mp, (left, top, right, bottom) = preprocess.pad_to_square(m, 0)
    padded[~preprocess.pad_to_square(np.ones(m.shape, bool), 0)[0]] = fill
    rgb_s = preprocess.resize(padded, size, "rgb").astype(np.float32) / 255.0
    m_s = preprocess.resize(mp, size, "mask")
    if m_s.sum() < 16:
        raise io.DataError(f"{mask or photo}: garment mask is (nearly) empty")
    sdf = (ndimage.distance_transform_edt(~m_s) - ndimage.distance_transform_edt(m_s)) / size
    rows = np.flatnonzero(m_s.any(axis=1))
    cols = np.flatnonzero(m_s.any(axis=0))
    cx = (cols[0] + cols[-1] + 1) / 2
    prof_v = (rows + 0.5) / size
    prof_hw = np.array([np.abs(np.flatnonzero(m_s[r]) + 0.5 - cx).max() for r in rows]) / size
    # centre the photo on its garment's centre column so u = 0 is the garment's centre line
    shift = int(round(size / 2 - cx))
    rgb_s = np.roll(rgb_s, shift, axis=1)
    m_s = np.roll(m_s, shift, axis=1)
    sdf = np.roll(sdf, shift, axis=1).astype(np.float32)
    pf = PhotoFlat(
        photo.name, rgb_s, m_s.astype(np.float32), sdf, prof_v.astype(np.float32), prof_hw.astype(np.float32)
    )
    top_v, bot_v = float(prof_v[0]), float(prof_v[-1])
    return Garment(
        garment_type="photo",
        top=top_v,
        bottom=bot_v,
        hw_shoulder=float(prof_hw[0]),
        hw_chest=float(prof_hw.max()),
        hw_hem=float(prof_hw[-1]),
        armhole=0.0,
        neck_w=0.0,
        neck_d=0.0,
        v_neck=False,
        sleeve_len=0.0,
        sleeve_angle=0.0,
        sleeve_cuff=0.0,
        texture="photo",
        colors=(),
        tex_params={"seed": seed},
        bg_rgb=tuple(float(c) / 255 for c in fill),
        ref_len=(bot_v - top_v) / 1.05,
        photo=pf,
    )


def photo_split(photos: list, seed: int, split: str) -> list:
    """Disjoint train / held-out subsets of a photo list (15% held out, at least one; test and dev wear
    the held-out ones), shuffled by ``seed``."""
    if len(photos) < 2:
        from tryon.data.io import DataError

        raise DataError(
            f"{photos[0][0].parent if photos else 'garment_dir'}: need at least 2 garment photos for disjoint splits"
        )
    perm = np.random.default_rng([seed, 99]).permutation(len(photos))
    n_test = max(1, round(0.15 * len(photos)))
    idx = perm[:n_test] if split in ("test", "dev") else perm[n_test:]  # dev: held out from training too
    return [photos[i] for i in sorted(idx)]
