"""Procedural synthetic wardrobe with exact ground truth (stage 01_prepare's default data).

One *sample* = a parametric 2-D front-view body (height, weight, body type, build, pose, skin, hair, lower
garment, background) wearing a procedurally drawn upper garment. Everything is rendered with signed
distance fields (SDF) and 1-pixel soft edges (coverage = clip(0.5 - sdf, 0, 1)), numpy-vectorised.

Coordinates: continuous pixel coordinates, x right, y down, pixel i covers [i, i+1] (its centre is i+0.5);
the normalised form is ``2 * x / S - 1`` which is the align_corners=False convention of ``grid_sample``.
The person image has a fixed camera: the image spans ``_TOP_CM`` .. ``_BOTTOM_CM`` above the ground
(``S / _SPAN_CM`` pixels per cm), so a person's height is visible as head height in the frame.

The worn garment is the flat garment mapped by a known backward map G (person pixel -> flat garment point):
- torso panel: v is linear in y (shoulder top -> hem, scaled by the body's torso length); u stretches the
  flat panel's half-width hw_f(v) onto the worn half-width W(y) = smooth_max(body_hw(y) + ease,
  scale * hw_f(v)) (ease over bust/waist/hips: tight on heavy bodies, loose on thin ones), plus a known
  smooth low-frequency wrinkle displacement;
- sleeves: arc length along the arm (shoulder -> elbow -> wrist) and signed distance across it map to the
  flat sleeve's axis and width.
The worn colour is the bilinear sample of the flat garment image at G (the same operation as
``grid_sample(..., align_corners=False)``), then folds/cylinder shading multiply it. ``gt_grid`` stores G
normalised to [-1, 1] (x first); ``flow_valid`` marks the worn pixels whose colour comes from one garment
point only (fully opaque, not blended with an edge or an occluder).

Determinism: sample i of a split draws its body and its garment from two seed streams keyed by
(seed, split, i), so the files do not depend on the number of worker processes, and train and test share
no body and no garment. Option: real flat garment photos (``garment_dir``, e.g. a VITON-HD ``cloth/``
folder) replace the procedural garments; they are worn through the torso mapping only (their sleeves
travel with the panel), which is cruder than the procedural sleeves.

Entry points: :func:`generate` (``tryon generate``), :func:`make_sample` / :func:`render_sample` (in memory),
:func:`body_silhouette` (shape statistics), :func:`benchmark` / :func:`bench_generate` (``tryon bench data``).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from tryon.data.labels import CIHP
from tryon.vocab import BODY_TYPES, BUILDS

# ------------------------------------------------------------------------------------------------
# Vocabulary -> geometry
# ------------------------------------------------------------------------------------------------
#: camera: the frame spans these heights above the ground (cm)
_TOP_CM, _BOTTOM_CM = 205.0, 50.0
_SPAN_CM = _TOP_CM - _BOTTOM_CM

#: body type -> multipliers on the (shoulder, bust, waist, hip) half-widths
SHAPE_FACTORS: dict[str, tuple[float, float, float, float]] = {
    "apple": (1.00, 1.08, 1.18, 0.98),
    "H": (1.00, 1.00, 1.04, 1.00),
    "rectangle": (0.96, 0.97, 1.02, 0.96),
    "pear": (0.91, 0.95, 0.95, 1.17),
    "hourglass": (1.03, 1.10, 0.82, 1.06),
    "V": (1.17, 1.07, 0.95, 0.87),
    "round": (1.02, 1.10, 1.24, 1.10),
    "plump hourglass": (1.06, 1.15, 0.94, 1.15),
    "fifty-fifty": (1.00, 1.00, 0.92, 1.00),
    "petite": (0.95, 0.96, 0.92, 0.96),
    "extra-tall": (1.00, 1.00, 0.95, 0.98),
}
#: build -> BMI range (kg/m^2); the build word and the weight are consistent by construction
BMI_RANGES: dict[str, tuple[float, float]] = {
    "thin": (16.5, 18.5),
    "well-proportioned": (19.0, 23.5),
    "slightly fat": (24.0, 27.5),
    "fat": (28.0, 34.0),
}
#: body type -> prior over BUILDS (thin, slightly fat, fat, well-proportioned)
_BUILD_PRIOR: dict[str, tuple[float, float, float, float]] = {
    "apple": (0.05, 0.4, 0.3, 0.25),
    "round": (0.0, 0.4, 0.6, 0.0),
    "plump hourglass": (0.0, 0.55, 0.35, 0.1),
    "petite": (0.45, 0.1, 0.0, 0.45),
}
_HEIGHT_RANGES = {"petite": (148.0, 157.0), "extra-tall": (181.0, 197.0)}
_DEFAULT_HEIGHT = (155.0, 186.0)
GARMENT_TYPES: tuple[str, ...] = ("t-shirt", "long sleeve", "tank", "crop top", "tunic")
TEXTURES: tuple[str, ...] = ("solid", "stripes", "checks", "dots", "gradient", "noise", "logo")
LOWER_TYPES: tuple[str, ...] = ("pants", "shorts", "skirt")
HAIR_STYLES: tuple[str, ...] = ("short", "long", "bob", "bun")
_SKIN = (
    np.array(
        [[255, 224, 196], [241, 194, 160], [224, 172, 130], [198, 134, 94], [160, 102, 66], [110, 70, 45]],
        dtype=np.float32,
    )
    / 255.0
)
_HAIR = (
    np.array(
        [[20, 16, 14], [60, 40, 25], [110, 75, 40], [170, 130, 80], [210, 180, 120], [120, 120, 120]],
        dtype=np.float32,
    )
    / 255.0
)
#: colour of the tight plain bodysuit in contour images
BODYSUIT_RGB = np.array([52, 54, 60], dtype=np.float32) / 255.0
CONTOUR_BG_RGB = np.array([235, 235, 235], dtype=np.float32) / 255.0


@dataclass(frozen=True)
class Body:
    """A body and its pose; lengths in cm (x from the body's centre line, heights above the ground)."""

    height_cm: float
    weight_kg: float
    body_type: str
    build: str
    half_widths: tuple[float, float, float, float]  # shoulder, bust, waist, hip (cm)
    leg_ratio: float  # crotch height / height
    limb: float  # limb-thickness factor (1 = average)
    arm_angles: tuple[float, float]  # abduction from vertical (rad), image-left arm, image-right arm
    elbow_bends: tuple[float, float]  # extra outward angle of the forearm (rad)
    leg_angles: tuple[float, float]
    x_offset_cm: float
    skin: tuple[float, float, float]
    hair_rgb: tuple[float, float, float]
    hair_style: str
    lower: str
    lower_rgb: tuple[float, float, float]
    background: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Body-shape text in the method's format ([0104])."""
        return f"height {round(self.height_cm)}cm, weight {round(self.weight_kg)}kg, {self.body_type}, {self.build}"


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
def _rand_color(rng: np.random.Generator, sat=(0.3, 0.9), val=(0.3, 0.95)) -> tuple[float, float, float]:
    import colorsys

    h = rng.random()
    s = rng.uniform(*sat)
    v = rng.uniform(*val)
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def sample_body(
    rng: np.random.Generator,
    body_type: str | None = None,
    build: str | None = None,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    jitter: float = 0.03,
) -> Body:
    """Draw a plausible body. Any of the four text attributes may be fixed; the others are sampled so
    that the BMI lies in the build's range (``BMI_RANGES``) unless the weight is given explicitly."""
    bt = body_type if body_type is not None else BODY_TYPES[rng.integers(len(BODY_TYPES))]
    if bt not in SHAPE_FACTORS:
        raise ValueError(f"body_type: unknown {bt!r} (expected one of {list(BODY_TYPES)})")
    if build is None:
        prior = np.array(_BUILD_PRIOR.get(bt, (0.2, 0.25, 0.15, 0.4)))
        build = BUILDS[rng.choice(len(BUILDS), p=prior / prior.sum())]
    if build not in BMI_RANGES:
        raise ValueError(f"build: unknown {build!r} (expected one of {list(BUILDS)})")
    h = (
        float(height_cm)
        if height_cm is not None
        else float(rng.uniform(*_HEIGHT_RANGES.get(bt, _DEFAULT_HEIGHT)))
    )
    if weight_kg is None:
        bmi = float(rng.uniform(*BMI_RANGES[build]))
        weight_kg = bmi * (h / 100.0) ** 2
    bmi = weight_kg / (h / 100.0) ** 2
    # widths ~ sqrt(cross-section) ~ sqrt(weight / height); fat goes to the waist first
    f = (bmi / 21.5) ** 0.55
    base = np.array([0.118, 0.092, 0.078, 0.100]) * h
    extra = np.array([1.0, (bmi / 21.5) ** 0.1, (bmi / 21.5) ** 0.35, (bmi / 21.5) ** 0.12])
    hw = base * f * extra * np.array(SHAPE_FACTORS[bt]) * rng.uniform(1 - jitter, 1 + jitter, 4)
    leg_ratio = {"fifty-fifty": 0.50, "extra-tall": 0.49, "petite": 0.455}.get(bt, 0.47)
    leg_ratio += float(rng.uniform(-0.008, 0.008))
    arm = tuple(float(a) for a in rng.uniform(math.radians(10), math.radians(34), 2))
    bend = tuple(float(a) for a in rng.uniform(math.radians(-4), math.radians(22), 2))
    legs = tuple(float(a) for a in rng.uniform(math.radians(1), math.radians(6), 2))
    skin_i = rng.integers(len(_SKIN))
    skin = _SKIN[skin_i] * rng.uniform(0.95, 1.04)
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.9, 1.1)
    lower = LOWER_TYPES[rng.choice(3, p=[0.5, 0.25, 0.25])]
    lower_rgb = _rand_color(rng, sat=(0.1, 0.7), val=(0.15, 0.7))
    bg_kind = ["gradient", "wall_floor", "noise"][rng.integers(3)]
    bg = {
        "kind": bg_kind,
        "c0": _rand_color(rng, sat=(0.0, 0.35), val=(0.6, 0.98)),
        "c1": _rand_color(rng, sat=(0.0, 0.35), val=(0.45, 0.95)),
        "split": float(rng.uniform(0.6, 0.85)),
        "noise_seed": int(rng.integers(2**31)),
    }
    return Body(
        height_cm=h,
        weight_kg=float(weight_kg),
        body_type=bt,
        build=build,
        half_widths=tuple(float(v) for v in hw),
        leg_ratio=float(leg_ratio),
        limb=float(f * rng.uniform(0.97, 1.03)),
        arm_angles=arm,
        elbow_bends=bend,
        leg_angles=legs,
        x_offset_cm=float(rng.uniform(-6, 6)),
        skin=tuple(float(c) for c in np.clip(skin, 0, 1)),
        hair_rgb=tuple(float(c) for c in np.clip(hair, 0, 1)),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        lower=lower,
        lower_rgb=lower_rgb,
        background=bg,
    )


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


# ------------------------------------------------------------------------------------------------
# Flat garment
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


# ------------------------------------------------------------------------------------------------
# Body geometry in pixels
# ------------------------------------------------------------------------------------------------
@dataclass
class _Geo:
    k: float
    cx: float
    y: dict
    hw: dict
    r: dict
    arms: list  # per side (-1, +1): (shoulder, elbow, wrist, hand_end) points
    legs: list  # per side: (hip, knee, ankle)
    head_c: tuple
    head_ax: float
    head_ay: float


def body_geometry(b: Body, size: int) -> _Geo:
    """Key points, widths and radii of a body in pixel coordinates of an S x S frame."""
    k = size / _SPAN_CM
    H = b.height_cm

    def Y(frac):  # height fraction above the ground -> image y
        return (_TOP_CM - frac * H) * k

    cx = size / 2 + b.x_offset_cm * k
    sh, bu, wa, hi = (w * k for w in b.half_widths)
    y = {
        "head_top": Y(1.0),
        "chin": Y(0.872),
        "shoulder": Y(0.818),
        "armpit": Y(0.765),
        "bust": Y(0.72),
        "waist": Y(0.615),
        "hip": Y(0.52),
        "crotch": Y(b.leg_ratio),
        "knee": Y(0.285),
        "ankle": Y(0.04),
    }
    lf = b.limb
    r = {
        "neck": 0.033 * H * k * lf**0.5,
        "upper_arm": 0.026 * H * k * lf,
        "fore_arm": 0.02 * H * k * lf,
        "wrist": 0.015 * H * k * lf**0.5,
        "hand": 0.024 * H * k * lf**0.3,
        "thigh": 0.05 * H * k * lf,
        "knee": 0.032 * H * k * lf,
        "ankle": 0.022 * H * k * lf**0.5,
    }
    hw = {"shoulder": sh, "bust": bu, "waist": wa, "hip": hi}
    arms = []
    for i, side in enumerate((-1, 1)):
        s = (cx + side * (sh - 0.8 * r["upper_arm"]), y["shoulder"] + 0.7 * r["upper_arm"])
        th = b.arm_angles[i]
        # keep the elbow clear of the hips so the silhouette widths stay measurable
        up_len = 0.186 * H * k
        need = (hi + r["upper_arm"] * 1.1) - (sh - 0.8 * r["upper_arm"])
        if need > 0:
            th = max(th, math.asin(min(0.95, need / up_len)))
        e = (s[0] + side * math.sin(th) * up_len, s[1] + math.cos(th) * up_len)
        th2 = th + b.elbow_bends[i]
        fl = 0.146 * H * k
        w = (e[0] + side * math.sin(th2) * fl, e[1] + math.cos(th2) * fl)
        hl = 0.09 * H * k
        he = (w[0] + side * math.sin(th2) * hl, w[1] + math.cos(th2) * hl)
        arms.append((s, e, w, he))
    legs = []
    for i, side in enumerate((-1, 1)):
        hp = (cx + side * hi * 0.48, y["crotch"] - r["thigh"] * 0.6)
        la = b.leg_angles[i]
        kn = (hp[0] + side * math.sin(la) * (y["knee"] - hp[1]), y["knee"])
        an = (kn[0] + side * math.sin(la) * 0.5 * (y["ankle"] - y["knee"]), y["ankle"])
        legs.append((hp, kn, an))
    head_ay = (y["chin"] - y["head_top"]) / 2
    head_c = (cx, (y["chin"] + y["head_top"]) / 2)
    return _Geo(k, cx, y, hw, r, arms, legs, head_c, head_ay * 0.74, head_ay)


def _torso_hw_rows(geo: _Geo, yy: np.ndarray) -> np.ndarray:
    """Body half-width (px) as a function of image y (rows), shoulder line to crotch."""
    y, hw = geo.y, geo.hw
    return _smoothstep_interp(
        yy,
        [y["shoulder"], y["armpit"], y["bust"], y["waist"], y["hip"], y["crotch"]],
        [hw["shoulder"] * 0.92, hw["bust"] * 1.02, hw["bust"], hw["waist"], hw["hip"], hw["hip"] * 0.97],
    )


# ------------------------------------------------------------------------------------------------
# Rendering a sample
# ------------------------------------------------------------------------------------------------
def _sample_rgb(img: torch.Tensor, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Bilinear sample of img [1, 3, S, S] at normalised grid (gx, gy) [S, S] (align_corners=False,
    border padding) -> [S, S, 3] float32."""
    grid = torch.from_numpy(np.stack([gx, gy], axis=-1).astype(np.float32))[None]  # [1, S, S, 2]
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out[0].permute(1, 2, 0).numpy()  # [S, S, 3]


def _background(b: Body, size: int) -> np.ndarray:
    bg = b.background
    c0 = np.array(bg["c0"], dtype=np.float32)
    c1 = np.array(bg["c1"], dtype=np.float32)
    t = (np.arange(size, dtype=np.float32) + 0.5) / size
    if bg["kind"] == "wall_floor":
        m = np.clip((t - bg["split"]) * size + 0.5, 0, 1)
        col = c0 * (1 - m[:, None]) + c1 * m[:, None]
        return np.broadcast_to(col[:, None, :], (size, size, 3)).copy()
    if bg["kind"] == "noise":
        n = _noise(size, bg["noise_seed"], cells=5)
        return c0 * (1 - 0.35 * n[..., None]) + c1 * 0.35 * n[..., None]
    col = c0 * (1 - t[:, None]) + c1 * t[:, None]
    return np.broadcast_to(col[:, None, :], (size, size, 3)).copy()


def _body_sdfs(geo: _Geo, X: np.ndarray, Y: np.ndarray) -> tuple:
    """SDFs (px) of the body parts on the pixel grid (X, Y): torso (with shoulder caps), neck,
    [arm per side], [leg per side], head."""
    y, r = geo.y, geo.r
    hw_rows = _torso_hw_rows(geo, Y[:, :1])  # [h, 1]
    torso = np.maximum(np.maximum(np.abs(X - geo.cx) - hw_rows, y["shoulder"] - Y), Y - y["crotch"])
    # round the shoulders: a cap between the neck and each shoulder joint
    for s_pt, *_ in geo.arms:
        cap, _ = _capsule(
            X, Y, (geo.cx, y["shoulder"] + r["upper_arm"]), s_pt, r["upper_arm"] * 1.05, r["upper_arm"]
        )
        torso = np.minimum(torso, cap)
    neck, _ = _capsule(
        X, Y, (geo.cx, y["chin"] - r["neck"]), (geo.cx, y["shoulder"] + r["neck"]), r["neck"], r["neck"] * 1.1
    )
    arms = []
    for s_pt, e_pt, w_pt, h_pt in geo.arms:
        d1, _ = _capsule(X, Y, s_pt, e_pt, r["upper_arm"], r["fore_arm"] * 1.05)
        d2, _ = _capsule(X, Y, e_pt, w_pt, r["fore_arm"], r["wrist"])
        d3, _ = _capsule(X, Y, w_pt, h_pt, r["hand"] * 0.8, r["hand"] * 0.55)
        arms.append(np.minimum(np.minimum(d1, d2), d3))
    legs = []
    for hp, kn, an in geo.legs:
        d1, _ = _capsule(X, Y, hp, kn, r["thigh"], r["knee"])
        d2, _ = _capsule(X, Y, kn, an, r["knee"], r["ankle"])
        legs.append(np.minimum(d1, d2))
    head = _ellipse(X, Y, geo.head_c, geo.head_ax, geo.head_ay)
    return torso, neck, arms, legs, head


def body_silhouette(body: Body, size: int) -> dict:
    """Silhouette of a body alone (no clothes), for shape statistics: "mask" bool [S, S] (whole body),
    "no_arms" bool [S, S] (torso, neck, head, legs) and widths in px at the shoulder / bust / waist / hip
    rows of the no-arms silhouette, plus "area" (px of the whole body)."""
    geo = body_geometry(body, size)
    X, Y = _grid(size)
    torso, neck, arms, legs, head = _body_sdfs(geo, X, Y)
    no_arms = np.minimum(np.minimum(np.minimum(torso, neck), head), np.minimum(*legs)) < 0
    mask = no_arms | (np.minimum(*arms) < 0)

    def width_at(yy: float) -> float:
        idx = np.flatnonzero(no_arms[int(np.clip(yy, 0, size - 1))])
        return float(idx[-1] - idx[0] + 1) if len(idx) else 0.0

    y = geo.y
    return {
        "mask": mask,
        "no_arms": no_arms,
        "shoulder_w": width_at(y["shoulder"] + 0.5 * geo.r["upper_arm"]),
        "bust_w": width_at(y["bust"]),
        "waist_w": width_at(y["waist"]),
        "hip_w": width_at(y["hip"]),
        "area": float(mask.sum()),
    }


def _window(geo: _Geo, size: int) -> tuple[int, int, int, int]:
    """Pixel window (y0, y1, x0, x1) that holds the whole person (hair, hands, skirt) with a margin."""
    m = 0.03 * size + 2
    xs = [p[0] for arm in geo.arms for p in arm]
    reach = max(geo.hw.values()) * 1.45 + 0.05 * size
    xs += [
        geo.cx - reach,
        geo.cx + reach,
        geo.head_c[0] - 1.3 * geo.head_ax,
        geo.head_c[0] + 1.3 * geo.head_ax,
    ]
    x0 = int(max(0, math.floor(min(xs) - m - geo.r["hand"])))
    x1 = int(min(size, math.ceil(max(xs) + m + geo.r["hand"])))
    y0 = int(max(0, math.floor(geo.y["head_top"] - 0.5 * geo.head_ay - m)))
    return y0, size, x0, x1


def _skin_shade(sdf: np.ndarray, r: float) -> np.ndarray:
    """Cylinder-like shading: 1 in the middle of a limb, darker at its outline."""
    return 0.78 + 0.22 * np.sqrt(np.clip(-sdf / r, 0, 1))


def render_sample(
    body: Body, garment: Garment, size: int, flat: tuple[np.ndarray, np.ndarray] | None = None
) -> dict:
    """Render one sample (numpy). Returns a dict:

    - "person", "contour", "garment": float32 [S, S, 3] in [0, 1]; "garment_cov": float32 [S, S] flat coverage
    - "parse": uint8 [S, S] CIHP ids; "worn_mask": bool [S, S] (parse == upper clothes)
    - "gt_grid": float32 [2, S, S] normalised (x, y) in the flat garment, align_corners=False
    - "flow_valid": bool [S, S]; "garment_raw": float32 [S, S, 3] the worn garment before shading;
      "shading": float32 [S, S] the multiplicative garment shading
    - "measure": dict of silhouette measurements in pixels (shoulder/waist/hip widths, body area)
    """
    S = size
    geo = body_geometry(body, S)
    # everything is computed inside the person's bounding window, then pasted into the frame
    wy0, wy1, wx0, wx1 = _window(geo, S)
    Xf, Yf = _grid(S)
    X, Y = Xf[wy0:wy1, wx0:wx1], Yf[wy0:wy1, wx0:wx1]
    hwin = (wy1 - wy0, wx1 - wx0)
    g = garment
    if flat is None:
        flat = render_flat_garment(g, S)
    flat_rgb, flat_cov = flat
    flat_t = torch.from_numpy(np.ascontiguousarray(flat_rgb.transpose(2, 0, 1)))[None]  # [1, 3, S, S]
    skin = np.array(body.skin, dtype=np.float32)
    hair_rgb = np.array(body.hair_rgb, dtype=np.float32)
    lower_rgb = np.array(body.lower_rgb, dtype=np.float32)
    y = geo.y
    r = geo.r

    # ---- body SDFs (px) ----
    hw_rows = _torso_hw_rows(geo, Y[:, :1])  # [h, 1]
    torso, neck, arms_sdf, legs_sdf, head = _body_sdfs(geo, X, Y)
    torso_full = np.minimum(torso, neck)

    # ---- hair ----
    hc, ax, ay = geo.head_c, geo.head_ax, geo.head_ay
    hair_cap = _ellipse(X, Y, (hc[0], hc[1] - 0.06 * ay), ax * 1.1, ay * 1.02)
    hairline = hc[1] - 0.35 * ay + 0.55 * ay * ((X - hc[0]) / ax) ** 2
    hair_front = np.maximum(hair_cap, Y - hairline)
    if body.hair_style == "long":
        back, _ = _capsule(X, Y, (hc[0], hc[1]), (hc[0], y["bust"]), ax * 1.12, ax * 1.0)
        hair_back = np.minimum(hair_cap, back)
    elif body.hair_style == "bob":
        back, _ = _capsule(
            X, Y, (hc[0], hc[1] - 0.1 * ay), (hc[0], y["chin"] - 0.1 * ay), ax * 1.18, ax * 1.15
        )
        hair_back = np.minimum(hair_cap, back)
    elif body.hair_style == "bun":
        bun = _ellipse(X, Y, (hc[0], hc[1] - 1.05 * ay), ax * 0.45, ay * 0.35)
        hair_back = hair_cap
        hair_front = np.minimum(hair_front, bun)
    else:
        hair_back = hair_cap

    # ---- lower garment ----
    if body.lower == "skirt":
        # A-line: hugs the waist and hips, flares towards a slightly curved hem above the knee
        t_sk = np.clip((Y - y["waist"]) / (y["knee"] - y["waist"]), 0, 1)
        hip_t = (y["hip"] - y["waist"]) / (y["knee"] - y["waist"])
        flare = np.clip(t_sk - hip_t, 0, None) ** 1.3 * 0.5
        skirt_hw = np.maximum(hw_rows + 0.01 * S, geo.hw["hip"] * (1.03 + flare) + 0.01 * S)
        dx = (X - geo.cx) / skirt_hw
        hem = y["knee"] - 0.05 * S + 0.02 * S * (1 - np.clip(dx, -1, 1) ** 2)
        lower = np.maximum(np.maximum(np.abs(X - geo.cx) - skirt_hw, y["waist"] - Y), Y - hem)
        lower_label = CIHP.SKIRT
    else:
        ease = 0.008 * S
        lower = np.maximum(np.maximum(np.abs(X - geo.cx) - hw_rows - ease, y["waist"] - Y), Y - y["crotch"])
        for hp, kn, an in geo.legs:
            end = an if body.lower == "pants" else (hp[0] + (kn[0] - hp[0]) * 0.45, (hp[1] + kn[1]) / 2)
            d, _ = _capsule(
                X,
                Y,
                hp,
                end,
                r["thigh"] + ease,
                (r["knee"] if body.lower == "pants" else r["thigh"] * 0.95) + ease,
            )
            lower = np.minimum(lower, d)
        lower_label = CIHP.PANTS

    # ---- torso garment backward map G_torso (flat coords, fractions of S; u from the centre line) ----
    top_y = y["shoulder"] - 0.2 * r["upper_arm"]
    torso_len_px = y["crotch"] - top_y
    sv = torso_len_px / g.ref_len  # person px per flat unit (a flat length ref_len spans shoulder -> crotch)
    # rows of the window that the torso panel can reach (shoulder top .. hem, with a margin)
    r0 = max(0, int(top_y - 0.03 * S) - 2 - wy0)
    r1 = min(wy1 - wy0, int(top_y + (g.bottom - g.top + 0.03) * sv + 0.03 * S) + 2 - wy0)
    r1 = max(r1, r0 + 1)
    gsl = (slice(r0, r1), slice(None))
    Xw, Yw = X, Y  # the whole window (for the identity grid)
    X, Y = X[gsl], Y[gsl]
    v = g.top + (Y - top_y) / sv
    wr = garment.tex_params["seed"]
    rng_w = np.random.default_rng(wr)
    ph = [float(p) for p in rng_w.uniform(0, 2 * np.pi, 4)]
    wamp = 0.006 * (1.0 + float(rng_w.random()))
    v = v + wamp * 0.5 * np.sin(2 * np.pi * (X - geo.cx) / (0.2 * S) + ph[0])
    hwf = _panel_hw(g, v)
    body_hw = _torso_hw_rows(geo, np.clip(Y, y["shoulder"], y["crotch"]))
    ease = 0.015 * S
    W = _smax(body_hw + ease, hwf * sv * 0.98, 0.02 * S)
    u = (X - geo.cx) / W * hwf
    u = u + wamp * np.sin(2 * np.pi * Y / (0.13 * S) + ph[1]) * np.cos(np.pi * u / (2 * hwf + 1e-6))
    # panel SDF in flat units -> person px with the local horizontal stretch W / hw_f (approximate distance)
    panel_f = _panel_sdf(g, u, v)
    torso_a = _cov(panel_f * (W / np.maximum(hwf, 1e-3)))
    gx_t = 2 * (u + 0.5) - 1  # flat u (fraction of S from centre) -> normalised x
    gy_t = 2 * v - 1
    # fully-interior flat footprint: at least 1 flat pixel inside the panel (bilinear taps all inside)
    torso_inside = panel_f * S < -1.0
    X, Y = Xw, Yw

    # ---- sleeves (computed in a sub-window around each arm) ----
    sleeves = []
    if g.sleeve_len > 0:
        for i, side in enumerate((-1, 1)):
            s_pt, e_pt, w_pt, _ = geo.arms[i]
            # the sleeve starts over the shoulder cap, ``off`` px before the shoulder joint
            off = 1.3 * r["upper_arm"]
            reach = g.sleeve_len * sv - off  # worn sleeve length past the shoulder joint (px)
            L1 = math.dist(s_pt, e_pt)
            L2 = math.dist(e_pt, w_pt)
            pts = [s_pt, e_pt] + ([w_pt] if reach > L1 else [])
            m = off + 0.06 * S + 2
            sub = (
                slice(
                    max(0, int(min(p[1] for p in pts) - m) - wy0),
                    max(0, int(max(p[1] for p in pts) + m + 1) - wy0),
                ),
                slice(
                    max(0, int(min(p[0] for p in pts) - m) - wx0),
                    max(0, int(max(p[0] for p in pts) + m + 1) - wx0),
                ),
            )
            x, yy = X[sub], Y[sub]
            d1 = ((e_pt[0] - s_pt[0]) / L1, (e_pt[1] - s_pt[1]) / L1)
            d2 = ((w_pt[0] - e_pt[0]) / L2, (w_pt[1] - e_pt[1]) / L2)
            n1 = (d1[1], -d1[0]) if side > 0 else (-d1[1], d1[0])
            n2 = (d2[1], -d2[0]) if side > 0 else (-d2[1], d2[0])
            a1 = (x - s_pt[0]) * d1[0] + (yy - s_pt[1]) * d1[1]
            s1 = (x - s_pt[0]) * n1[0] + (yy - s_pt[1]) * n1[1]
            a2 = (x - e_pt[0]) * d2[0] + (yy - e_pt[1]) * d2[1]
            s2 = (x - e_pt[0]) * n2[0] + (yy - e_pt[1]) * n2[1]
            # past the elbow (in the forearm's half-plane) use the forearm frame
            use2 = (a1 > L1) & (a2 > 0)
            a_arm = np.where(use2, L1 + a2, a1)  # arc length along the arm from the shoulder joint
            arc = a_arm + off
            across = np.where(use2, s2, s1)
            # worn sleeve: the flat length maps 1:1 at scale sv; half-width = max(arm + ease, flat width)
            t_f = arc / sv
            w_flat = _sleeve_w0(g) + np.clip(t_f / g.sleeve_len, 0, 1) * (g.sleeve_cuff - _sleeve_w0(g))
            arm_r = np.where(
                a_arm < L1,
                r["upper_arm"] + (r["fore_arm"] - r["upper_arm"]) * np.clip(a_arm / L1, 0, 1),
                r["fore_arm"] + (r["wrist"] - r["fore_arm"]) * np.clip((a_arm - L1) / L2, 0, 1),
            )
            w_worn = _smax(arm_r + 0.01 * S, w_flat * sv * 0.9, 0.01 * S)
            s_f = across / w_worn * w_flat
            # flat point = M + t_f d + s_f n (fractions of S, u from the centre line)
            (mx, my), df, nf = _sleeve_frame(g, side)
            su = mx + t_f * df[0] + s_f * nf[0]
            svv = my + t_f * df[1] + s_f * nf[1]
            local = _sleeve_sdf_local(g, t_f, s_f)
            sl_a = _cov(local * sv)
            inside = local * S < -1.0
            sleeves.append((sub, sl_a, 2 * (su + 0.5) - 1, 2 * svv - 1, inside, across / w_worn, t_f))

    # ---- sample the flat garment (the worn colour before shading) ----
    raw_t = _sample_rgb(flat_t, gx_t, gy_t)
    # folds: vertical-ish folds on loose garments, cylinder shading towards the sides
    X, Y = X[gsl], Y[gsl]
    loose = np.clip((W - body_hw) / (0.04 * S), 0.2, 1.0)
    fold = (
        0.035
        * loose
        * np.sin(
            2 * np.pi * (X - geo.cx) / (0.08 * S) + 2 * np.sin(2 * np.pi * Y / (0.2 * S) + ph[2]) + ph[3]
        )
    )
    cyl = np.clip(np.abs(X - geo.cx) / W, 0, 1)
    shade_t = (1.0 - 0.25 * cyl**4 + fold) * (1.0 - 0.06 * (Y - top_y) / torso_len_px)
    X, Y = Xw, Yw

    # ---- compose (painter's algorithm, back to front) ----
    bg_full = _background(body, S)
    img = bg_full[wy0:wy1, wx0:wx1].copy()
    cont = np.broadcast_to(CONTOUR_BG_RGB, (*hwin, 3)).copy()
    parse = np.zeros(hwin, np.uint8)
    raw = np.zeros((*hwin, 3), np.float32)  # garment layers before shading
    shade_all = np.ones(hwin, np.float32)
    gx = 2 * X / S - 1  # identity outside the torso panel rows
    gy = 2 * Y / S - 1
    gx[gsl] = gx_t
    gy[gsl] = gy_t
    w_top = np.zeros(hwin, np.float32)  # weight of the top garment layer in the final colour
    inside_top = np.zeros(hwin, bool)

    def put(a, col, label, contour_col=None, shade=None, at=(0, 0)):
        """Composite colour ``col`` (RGB or [h, w, 3]; times ``shade`` [h, w, 1] when given) with coverage
        ``a`` into the person and contour images, only inside the bounding box of a > 0. ``a`` (and array
        colours) may cover a sub-window whose top-left corner is ``at`` (row, col) in the window."""
        nonlocal w_top
        rows = np.flatnonzero(a.any(axis=1))
        if len(rows) == 0:
            return
        cols = np.flatnonzero(a.any(axis=0))
        loc = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # in a's own frame
        sl = (slice(at[0] + rows[0], at[0] + rows[-1] + 1), slice(at[1] + cols[0], at[1] + cols[-1] + 1))
        aa = a[loc]
        a3 = aa[..., None]
        c = col[loc] if np.ndim(col) == 3 else col
        if shade is not None:
            c = c * shade[sl]
        img[sl] = img[sl] * (1 - a3) + c * a3
        parse[sl][aa > 0.5] = label
        w_top[sl] = w_top[sl] * (1 - aa)
        if contour_col is not None:
            cc = contour_col[loc] if np.ndim(contour_col) == 3 else contour_col
            if shade is not None:
                cc = cc * shade[sl]
            cont[sl] = cont[sl] * (1 - a3) + cc * a3

    body_union = np.minimum(np.minimum(torso_full, head), np.minimum(*legs_sdf))
    body_union = np.minimum(body_union, np.minimum(*arms_sdf))
    sk_shade = _skin_shade(body_union, 0.05 * S)[..., None]

    put(_cov(hair_back), hair_rgb, CIHP.HAIR, hair_rgb)
    for i, d in enumerate(legs_sdf):
        lab = CIHP.LEFT_LEG if i == 1 else CIHP.RIGHT_LEG  # image right = the person's left
        put(_cov(d), skin, lab, BODYSUIT_RGB, shade=sk_shade)
    put(_cov(torso), skin, CIHP.TORSO_SKIN, BODYSUIT_RGB, shade=sk_shade)
    put(_cov(neck), skin, CIHP.TORSO_SKIN, skin, shade=sk_shade)
    lower_shade = 0.85 + 0.15 * np.clip(-lower / (0.03 * S), 0, 1)
    if body.lower == "skirt":  # soft vertical pleats
        lower_shade = lower_shade * (1.0 - 0.05 * (1 + np.sin(2 * np.pi * (X - geo.cx) / (0.045 * S))) * t_sk)
    put(_cov(lower), lower_rgb * lower_shade[..., None], lower_label)
    # torso garment
    a = torso_a
    a3 = a[..., None]
    img[gsl] = img[gsl] * (1 - a3) + (raw_t * shade_t[..., None]) * a3
    raw[gsl] = raw[gsl] * (1 - a3) + raw_t * a3
    parse[gsl][a > 0.5] = CIHP.UPPER_CLOTHES
    w_top[:] = 0.0
    w_top[gsl] = a
    inside_top[gsl] = torso_inside
    shade_all[gsl] = np.where(a > 0.5, shade_t, shade_all[gsl])
    for i, d in enumerate(arms_sdf):
        lab = CIHP.LEFT_ARM if i == 1 else CIHP.RIGHT_ARM
        put(_cov(d), skin, lab, skin, shade=sk_shade)
        if sleeves:
            sub, sl_a, sgx, sgy, s_inside, s_across, s_t = sleeves[i]
            sraw = _sample_rgb(flat_t, sgx, sgy)
            sfold = (
                1.0
                - 0.22 * np.clip(np.abs(s_across), 0, 1) ** 3
                + 0.04 * np.sin(2 * np.pi * s_t / 0.06 + ph[i])
            )
            a3 = sl_a[..., None]
            img[sub] = img[sub] * (1 - a3) + sraw * sfold[..., None] * a3
            raw[sub] = raw[sub] * (1 - a3) + sraw * a3
            top = sl_a > 0.5
            parse[sub][top] = CIHP.UPPER_CLOTHES
            w_top[sub] = np.where(top, sl_a, w_top[sub] * (1 - sl_a))
            inside_top[sub] = np.where(top, s_inside, inside_top[sub])
            gx[sub] = np.where(top, sgx, gx[sub])
            gy[sub] = np.where(top, sgy, gy[sub])
            shade_all[sub] = np.where(top, sfold, shade_all[sub])
    # face, eyes and mouth (all the face label), computed in a sub-window around the head
    h0 = max(0, int(hc[1] - 1.2 * ay) - 2 - wy0)
    h1 = max(h0 + 1, min(wy1 - wy0, int(hc[1] + 1.2 * ay) + 3 - wy0))
    c0 = max(0, int(hc[0] - 1.2 * ax) - 2 - wx0)
    c1 = max(c0 + 1, min(wx1 - wx0, int(hc[0] + 1.2 * ax) + 3 - wx0))
    hsl = (slice(h0, h1), slice(c0, c1))
    Xh, Yh, head_h = X[hsl], Y[hsl], head[hsl]
    face_col = skin * (0.9 + 0.1 * np.sqrt(np.clip(-head_h / (0.4 * ax), 0, 1)))[..., None]
    put(_cov(head_h), face_col, CIHP.FACE, face_col, at=(h0, c0))
    eyes = np.minimum(
        _ellipse(Xh, Yh, (hc[0] - 0.38 * ax, hc[1] - 0.02 * ay), 0.1 * ax, 0.07 * ay),
        _ellipse(Xh, Yh, (hc[0] + 0.38 * ax, hc[1] - 0.02 * ay), 0.1 * ax, 0.07 * ay),
    )
    mouth = _ellipse(Xh, Yh, (hc[0], hc[1] + 0.5 * ay), 0.25 * ax, 0.06 * ay)
    eye_col = np.array([0.15, 0.1, 0.08], np.float32)
    mouth_col = skin * np.array([0.8, 0.55, 0.55], np.float32)
    put(_cov(eyes * 2), eye_col, CIHP.FACE, eye_col, at=(h0, c0))
    put(_cov(mouth * 2), mouth_col, CIHP.FACE, mouth_col, at=(h0, c0))
    put(_cov(hair_front), hair_rgb, CIHP.HAIR, hair_rgb)

    worn_w = parse == CIHP.UPPER_CLOTHES
    lim = 1.0 - 1.0 / S  # the bilinear footprint stays inside the flat image
    valid_w = worn_w & (w_top >= 0.999) & inside_top & (np.abs(gx) < lim) & (np.abs(gy) < lim)
    win = (slice(wy0, wy1), slice(wx0, wx1))
    person = bg_full.copy()
    person[win] = img
    contour = np.broadcast_to(CONTOUR_BG_RGB, (S, S, 3)).copy()
    contour[win] = cont
    parse_f = np.zeros((S, S), np.uint8)
    parse_f[win] = parse
    worn = np.zeros((S, S), bool)
    worn[win] = worn_w
    valid = np.zeros((S, S), bool)
    valid[win] = valid_w
    raw_f = np.zeros((S, S, 3), np.float32)
    raw_f[win] = raw
    shade_f = np.ones((S, S), np.float32)
    shade_f[win] = shade_all
    # outside the window (no person there) the grid is the identity; it is meaningful inside flow_valid
    gt_grid = np.stack([2 * Xf / S - 1, 2 * Yf / S - 1]).astype(np.float32)  # [2, S, S] normalised, x first
    gt_grid[0][win] = gx
    gt_grid[1][win] = gy

    # ---- silhouette measurements (px): torso+legs+head without arms, for the shape tests ----
    no_arms = np.minimum(np.minimum(torso_full, head), np.minimum(*legs_sdf)) < 0
    with_arms = body_union < 0

    def width_at(yy):
        row = no_arms[int(np.clip(yy - wy0, 0, wy1 - wy0 - 1))]
        idx = np.flatnonzero(row)
        return float(idx[-1] - idx[0] + 1) if len(idx) else 0.0

    measure = {
        "shoulder_w": width_at(y["shoulder"] + 0.5 * r["upper_arm"]),
        "bust_w": width_at(y["bust"]),
        "waist_w": width_at(y["waist"]),
        "hip_w": width_at(y["hip"]),
        "area": float(with_arms.sum()),
        "area_soft": float(_cov(body_union).sum()),
        "head_top_y": float(y["head_top"]),
    }
    return {
        "person": np.clip(person, 0, 1).astype(np.float32),
        "contour": np.clip(contour, 0, 1).astype(np.float32),
        "garment": flat_rgb,
        "garment_cov": flat_cov,
        "parse": parse_f,
        "worn_mask": worn,
        "gt_grid": gt_grid,
        "flow_valid": valid,
        "garment_raw": raw_f,
        "shading": shade_f,
        "measure": measure,
    }


# ------------------------------------------------------------------------------------------------
# Datasets on disk
# ------------------------------------------------------------------------------------------------
#: sub-folders of a prepared split (VITON-HD-like names) and the contract key each one holds
LAYOUT: dict[str, str] = {
    "person": "image",
    "garment": "cloth",
    "garment_mask": "cloth-mask",
    "parse": "image-parse",
    "contour": "contour",
    "gt_grid": "gt-grid",
    "flow_valid": "flow-valid",
}
SPLITS = ("train", "test")
_SPLIT_CODE = {"train": 0, "test": 1}
#: dtype of the stored ground-truth grid (float16: < 0.07 px error at 256, half the disk of float32)
GRID_DTYPE = np.float16


def sample_id(split: str, index: int) -> str:
    return f"{split}_{index:06d}"


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
    """Disjoint train / test subsets of a photo list (15% test, at least one), shuffled by ``seed``."""
    if len(photos) < 2:
        from tryon.data.io import DataError

        raise DataError(
            f"{photos[0][0].parent if photos else 'garment_dir'}: need at least 2 garment photos for disjoint splits"
        )
    perm = np.random.default_rng([seed, 99]).permutation(len(photos))
    n_test = max(1, round(0.15 * len(photos)))
    idx = perm[:n_test] if split == "test" else perm[n_test:]
    return [photos[i] for i in sorted(idx)]


def make_sample(
    seed: int, split: str, index: int, size: int, photos: list | None = None
) -> tuple[Body, Garment, dict]:
    """Sample ``index`` of ``split``: body and garment come from separate seed streams, keyed by
    (seed, split, index), so train and test share no body and no garment, and any sample can be made
    alone (parallel generation gives the same files)."""
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    code = _SPLIT_CODE[split]
    body = sample_body(np.random.default_rng([seed, code, 0, index]))
    grng = np.random.default_rng([seed, code, 1, index])
    if photos:
        own = photo_split(photos, seed, split)
        p, m = own[index % len(own)]
        garment = photo_garment(p, m, size, int(grng.integers(2**31)))
    else:
        garment = sample_garment(grng)
    return body, garment, render_sample(body, garment, size)


def make_unpaired(
    seed: int, split: str, index: int, garment_index: int, size: int
) -> tuple[Body, Garment, dict]:
    """Body ``index`` of ``split`` wearing the garment of sample ``garment_index`` (same split): an
    unpaired try-on with its ground truth (the person image is what a perfect try-on would produce)."""
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    code = _SPLIT_CODE[split]
    body = sample_body(np.random.default_rng([seed, code, 0, index]))
    garment = sample_garment(np.random.default_rng([seed, code, 1, garment_index]))
    return body, garment, render_sample(body, garment, size)


def manifest_row(
    sid: str, split: str, index: int, seed: int, body: Body, garment: Garment, out: dict
) -> dict:
    """Per-sample attributes written to the manifest CSV."""
    m = out["measure"]
    return {
        "id": sid,
        "split": split,
        "index": index,
        "seed": seed,
        "text": body.text,
        "height_cm": round(body.height_cm, 1),
        "weight_kg": round(body.weight_kg, 1),
        "bmi": round(body.weight_kg / (body.height_cm / 100) ** 2, 2),
        "body_type": body.body_type,
        "build": body.build,
        "garment_type": garment.garment_type,
        "texture": garment.texture,
        "lower": body.lower,
        "hair": body.hair_style,
        "body_id": f"{split}-b{index}",
        "garment_id": garment.photo.name if garment.photo is not None else f"{split}-g{index}",
        "shoulder_w_px": m["shoulder_w"],
        "waist_w_px": m["waist_w"],
        "hip_w_px": m["hip_w"],
        "area_px": m["area"],
        "worn_px": int(out["worn_mask"].sum()),
        "valid_px": int(out["flow_valid"].sum()),
    }


def write_sample(split_dir: Path, sid: str, out: dict, atomic: bool = False) -> None:
    """Write one rendered sample into the split folder (one file per key, see LAYOUT; the worn mask is
    not stored: it is ``parse == upper clothes``). Not atomic per file by default: generate_split
    writes into a temp folder that is renamed into place."""
    from tryon.data import io

    d = Path(split_dir)
    kw = {"atomic": atomic}
    io.write_png(d / LAYOUT["person"] / f"{sid}.png", out["person"], **kw)
    io.write_png(d / LAYOUT["garment"] / f"{sid}.png", out["garment"], **kw)
    io.write_png(d / LAYOUT["garment_mask"] / f"{sid}.png", out["garment_cov"] > 0.5, **kw)
    io.write_png(d / LAYOUT["parse"] / f"{sid}.png", out["parse"], palette=True, **kw)
    io.write_png(d / LAYOUT["contour"] / f"{sid}.png", out["contour"], **kw)
    io.write_npy(d / LAYOUT["gt_grid"] / f"{sid}.npy", out["gt_grid"].astype(GRID_DTYPE), **kw)
    io.write_png(d / LAYOUT["flow_valid"] / f"{sid}.png", out["flow_valid"], **kw)


def _work(args: tuple) -> list[dict]:
    split_dir, seed, split, indices, size, photos = args
    torch.set_num_threads(1)
    rows = []
    for i in indices:
        body, garment, out = make_sample(seed, split, i, size, photos)
        sid = sample_id(split, i)
        write_sample(Path(split_dir), sid, out)
        rows.append(manifest_row(sid, split, i, seed, body, garment, out))
    return rows


def generate_split(
    out_dir: str | os.PathLike,
    split: str,
    n: int,
    size: int,
    seed: int,
    workers: int = 1,
    photos: list | None = None,
) -> list[dict]:
    """Write ``n`` samples of ``split`` into ``out_dir/split`` (built in a temp folder, then renamed into
    place, so a crash never leaves a half-written split). Returns the manifest rows in index order."""
    import shutil

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / split
    tmp = out_dir / f".{split}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        chunks = [list(range(i, n, max(1, workers))) for i in range(max(1, workers))]
        jobs = [(str(tmp), seed, split, c, size, photos) for c in chunks if c]
        if workers > 1 and n > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(len(jobs)) as pool:
                parts = pool.map(_work, jobs)
        else:
            parts = [_work(j) for j in jobs]
        rows = sorted((r for p in parts for r in p), key=lambda r: r["index"])
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return rows


def generate(
    out: str | os.PathLike,
    n: int,
    size: int,
    seed: int = 0,
    n_test: int = 0,
    workers: int = 1,
    garment_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:  # noqa: F821
    """``tryon generate``: write ``n`` train samples (and ``n_test`` test samples) of size ``size`` into
    ``out`` plus ``out/manifest.csv``. Same arguments -> byte-identical files. Returns the manifest.
    ``garment_dir``: real flat garment photos to wear instead of procedural garments (split disjointly)."""
    import pandas as pd

    from tryon.config import atomic_write_text

    if n < 0 or n_test < 0:
        raise ValueError(f"n: expected a count >= 0, got {n if n < 0 else n_test}")
    if size < 16:
        raise ValueError(f"size: expected >= 16 pixels, got {size}")
    photos = list_garment_photos(garment_dir) if garment_dir else None
    rows = []
    for split, k in (("train", n), ("test", n_test)):
        if k > 0:
            rows += generate_split(out, split, k, size, seed, workers, photos)
    df = pd.DataFrame(rows)
    atomic_write_text(Path(out) / "manifest.csv", df.to_csv(index=False))
    return df


def benchmark(
    size: int = 256,
    n: int = 100,
    seed: int = 12345,
    write_dir: str | os.PathLike | None = None,
    workers: int = 1,
) -> dict:
    """Samples per second of the generator at ``size`` (render only; with ``write_dir`` also the
    end-to-end rate including PNG/npy writing with ``workers`` processes). Prints and returns a dict."""
    import shutil

    torch.set_num_threads(1)
    make_sample(seed, "train", 10**6, size)  # warm-up (font cache, torch kernels)
    t0, c0 = time.perf_counter(), time.process_time()
    outs = []
    for i in range(n):
        outs.append(make_sample(seed, "train", i, size)[2])
        if len(outs) > 8:
            outs.pop(0)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    # CPU time per sample is what one uncontended core needs (wall time grows when the cores are shared)
    res = {
        "size": size,
        "n": n,
        "render_samples_per_s": n / dt,
        "render_ms_per_sample": 1000 * dt / n,
        "render_cpu_ms_per_sample": 1000 * dc / n,
    }
    if write_dir is not None:
        wd = Path(write_dir)
        c0 = time.process_time()
        for k, out in enumerate(outs):
            write_sample(wd / ".bench-write", f"s{k}", out)
        res["write_cpu_ms_per_sample"] = 1000 * (time.process_time() - c0) / len(outs)
        shutil.rmtree(wd / ".bench-write", ignore_errors=True)
        t0 = time.perf_counter()
        generate_split(wd, "train", n, size, seed, workers=workers)
        dt = time.perf_counter() - t0
        res.update({"workers": workers, "end_to_end_samples_per_s": n / dt})
        shutil.rmtree(wd / "train", ignore_errors=True)
    print(", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()))
    return res


def bench_generate(size: int = 256, n: int = 100) -> dict:
    """``tryon bench data``: generator speed at ``size`` (render-only on one core, and end-to-end with
    file writing on all cores, up to 2 processes). Prints samples/second and returns the figures."""
    import tempfile

    workers = max(1, min(2, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="tryon-bench-") as tmp:
        return benchmark(size=size, n=n, write_dir=tmp, workers=workers)
