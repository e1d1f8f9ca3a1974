"""The parametric 2-D front-view body: vocabulary -> geometry constants, :class:`Body`,
:func:`sample_body`, the body's key points in pixels (:func:`body_geometry`), the SDFs of its parts and
its bare silhouette (:func:`body_silhouette`, shape statistics).

The person image has a fixed camera: the image spans ``_TOP_CM`` .. ``_BOTTOM_CM`` above the ground
(``S / _SPAN_CM`` pixels per cm), so a person's height is visible as head height in the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tryon.data.synthetic.primitives import _capsule, _ellipse, _grid, _rand_color, _smoothstep_interp
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


# ------------------------------------------------------------------------------------------------
# Sampling
# ------------------------------------------------------------------------------------------------
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


def body_keypoints(b: Body, size: int) -> dict[str, tuple[float, float]]:
    """The body's joints as OpenPose names (:mod:`tryon.data.pose`) in pixels of its S x S frame: the
    person faces the camera, so their right (``r_``) is the image's left. ``neck`` is the base of the
    neck on the shoulder line; the hips are the legs' hip joints."""
    geo = body_geometry(b, size)
    out = {"neck": (geo.cx, geo.y["shoulder"])}
    for side, (s, e, w, _), (hp, _, _) in zip(("r_", "l_"), geo.arms, geo.legs, strict=True):
        out |= {f"{side}shoulder": s, f"{side}elbow": e, f"{side}wrist": w, f"{side}hip": hp}
    return {k: (float(x), float(y)) for k, (x, y) in out.items()}


def _torso_hw_rows(geo: _Geo, yy: np.ndarray) -> np.ndarray:
    """Body half-width (px) as a function of image y (rows), shoulder line to crotch."""
    y, hw = geo.y, geo.hw
    return _smoothstep_interp(
        yy,
        [y["shoulder"], y["armpit"], y["bust"], y["waist"], y["hip"], y["crotch"]],
        [hw["shoulder"] * 0.92, hw["bust"] * 1.02, hw["bust"], hw["waist"], hw["hip"], hw["hip"] * 0.97],
    )


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
