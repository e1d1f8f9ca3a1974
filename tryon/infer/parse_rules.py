"""The pseudo-parse rules: a CIHP label map from a photo, its mediapipe person probability and its 33
BlazePose landmarks (:func:`pseudo_parse`, re-exported by :mod:`tryon.infer.autoparse`, whose docstring
describes the rules, how the constants below were fitted, their agreement with real parse maps and their
limits).

The rules run as named steps on one :class:`_Frame` (the photo's body and face frames): check the
inputs, the zones (hair / upper clothes / pants), the torso polygon, the hands, the skin and garment
colours (with the neck band), the arms and sleeves, hair beside the neck and the face ellipse, legs and
shoes, then the hands and the neck, the neckline rule and the face with its fringe, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from tryon.data.labels import CIHP

#: BlazePose landmark ids (mediapipe pose, 33 landmarks; left / right = the person's own side)
NOSE, L_EYE_IN, R_EYE_OUT, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 1, 6, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_HEEL, R_HEEL, L_FOOT, R_FOOT = 25, 26, 27, 28, 29, 30, 31, 32
N_LANDMARKS = 33
#: landmarks the pseudo-parse cannot do without (face, shoulders, hips)
REQUIRED = (*range(0, 13), L_HIP, R_HIP)

# geometry, in face sizes f (face) or body widths s (body); measured on the VITON-HD train persons
FACE_CENTER = 0.15  # ellipse centre below the eye midpoint (f)
FACE_AXES = (0.60, 0.77)  # half width, half height (f)
CHIN = 0.6  # chin line (hair above, garment below) under the mouth (eye-mouth distances)
FACE_BOTTOM = 0.8  # the face ends this far under the mouth (eye-mouth distances)
NECK_HALF_WIDTH = 0.40  # (f)
NECK_BOTTOM = 0.10  # neck ends this far above the shoulder line (s)
NECKLINE_DEPTH = 0.6  # skin connected to the neck is looked for down to this far below the shoulders (s)
NECKLINE_TOL = 100.0  # ... within this RGB distance of the skin colour (shadowed skin included)
NECKLINE_TOL_HIGH = 160.0  # ... above the shoulder line (deep shadow under the jaw)
NECKLINE_RATIO_HIGH = 2.0  # ... where it is skin unless clearly nearer to the garment's colour
NECKLINE_HALF_SPAN = 0.36  # ... within this distance of the body axis (s): between the upper arms
NECK_MIN_HALF_WIDTH = 0.15  # the neck band is at least this wide (s): when the face is cut off
NECKLINE_RATIO = 0.8  # ... and nearer to the skin than this x the distance to the garment colour
COLLAR = (0.25, 0.20)  # garment top corners beside the neck: lateral, above the shoulder line (s)
SHOULDER_OUT = (0.15, 0.08)  # garment corners at the shoulders: outwards, upwards (s)
HIP_OUT = 0.05  # garment corners at the hips: outwards (s)
GARMENT_BOTTOM = -0.3  # garment lower edge below the hip line (s)
ARM_RADIUS = (0.14, 0.11)  # upper arm, forearm (s)
HAND_RADIUS = 0.09  # (s)
HAND_REACH = 1.5  # hand capsule end: wrist + this x (mean of index / pinky - wrist)
FRINGE = 0.5  # above this (eye-mouth distances) over the eyes, non-skin face pixels are hair
HAIR_BELOW_SHOULDER = 0.3  # hair below the chin is looked for down to here (s)
HAIR_REACH = 1.3  # ... and this far beside the face axis (f)
HAIR_TOL = 60.0  # RGB distance from the hair colour
FOOT_RADIUS = 0.12  # shoe capsule heel -> toe (s)
LEG_RADIUS = 0.25  # leg capsule hip -> knee -> ankle, where bare skin is looked for (s)
LEG_MATCH = 80.0  # a shin this close to the skin colour is bare
LEG_TOL = 50.0  # RGB distance from the shin colour under which a leg pixel is bare skin
SKIN_TOL = 80.0  # RGB distance from the skin colour under which a pixel counts as skin
SLEEVE_RATIO = 0.5  # arm pixel is a sleeve when |c - garment| < this x |c - skin|


class AutoParseError(ValueError):
    """mediapipe ran but an image gave no usable result (unreadable, no person, no pose, timeout)."""


# --------------------------------------------------------------------------------------------
# Drawing and colour primitives
# --------------------------------------------------------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-6 else np.array([0.0, 1.0])


def _box(shape, pts: np.ndarray, pad: float):
    """Slices of the image box holding ``pts`` [N, 2] (x, y) grown by ``pad``, and its pixel grids."""
    h, w = shape
    x0, y0 = np.floor(pts.min(0) - pad).astype(int)
    x1, y1 = np.ceil(pts.max(0) + pad).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.ogrid[y0:y1, x0:x1]
    return (slice(y0, y1), slice(x0, x1)), xs.astype(np.float32), ys.astype(np.float32)


def _capsule(shape, chain: np.ndarray, radius: float) -> np.ndarray:
    """bool [H, W]: pixels within ``radius`` of the polyline ``chain`` [N, 2] (x, y)."""
    out = np.zeros(shape, dtype=bool)
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        box = _box(shape, np.stack([a, b]), radius)
        if box is None:
            continue
        sl, xs, ys = box
        d = b - a
        L2 = float(d @ d)
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / L2, 0, 1) if L2 > 0 else 0.0
        px, py = xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1])
        out[sl] |= px * px + py * py <= radius * radius
    return out


def _ellipse(shape, centre: np.ndarray, down: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    """bool [H, W]: the ellipse with axes ``half_w`` across and ``half_h`` along ``down`` (unit)."""
    out = np.zeros(shape, dtype=bool)
    box = _box(shape, centre[None], max(half_w, half_h))
    if box is not None:
        sl, xs, ys = box
        dx, dy = xs - centre[0], ys - centre[1]
        v = dx * down[0] + dy * down[1]
        u = dx * down[1] - dy * down[0]
        out[sl] = (u / half_w) ** 2 + (v / half_h) ** 2 <= 1.0
    return out


def _polygon(shape, pts: np.ndarray) -> np.ndarray:
    h, w = shape
    im = Image.new("1", (w, h), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(im).polygon([(float(x), float(y)) for x, y in pts], fill=1)
    return np.asarray(im, dtype=bool)


def _smooth(rgb: np.ndarray) -> np.ndarray:
    """A lightly smoothed copy of ``rgb`` (box 6x6, via half resolution) for the colour tests: single
    pixels of texture or JPEG noise do not flip a label."""
    from scipy.ndimage import uniform_filter

    h, w = rgb.shape[:2]
    small = uniform_filter(np.ascontiguousarray(rgb[::2, ::2], dtype=np.uint8), size=(3, 3, 1))
    return np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)[:h, :w]


def _median_colour(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    if mask.sum() < 20:
        return None
    return np.median(rgb[mask].astype(np.float32), axis=0)


def _colour_dist(rgb: np.ndarray, mask: np.ndarray, *colours: np.ndarray) -> list[np.ndarray]:
    """RGB distances of the pixels in ``mask`` to each colour (float32 [n] each)."""
    px = rgb[mask].astype(np.float32)
    return [np.sqrt(np.einsum("ij,ij->i", px - c, px - c)) for c in colours]


# --------------------------------------------------------------------------------------------
# The rules, step by step
# --------------------------------------------------------------------------------------------
@dataclass
class _Frame:
    """A photo's frames for the rules: the body frame (``down`` = shoulders -> hips, ``across`` to the
    side, ``s`` = body width: the shoulder width, kept sane in side views) and the face frame (``fdown`` =
    eyes -> mouth, ``f`` = face size, ``dem`` = eye-mouth distance), with the person mask, the smoothed
    colours and the pixel grids."""

    shape: tuple[int, int]
    person: np.ndarray  # bool [H, W]
    colours: np.ndarray  # the lightly smoothed photo, for the colour tests
    xy: np.ndarray  # landmarks (x, y) [33, 2]
    msh: np.ndarray  # mid-shoulder
    mhip: np.ndarray  # mid-hip
    down: np.ndarray
    up: np.ndarray
    across: np.ndarray
    s: float
    eye: np.ndarray
    mouth: np.ndarray
    dem: float
    fdown: np.ndarray
    f: float
    chin: np.ndarray
    face_c: np.ndarray  # face ellipse centre
    xs: np.ndarray  # float32 [1, W]
    ys: np.ndarray  # float32 [H, 1]
    along: np.ndarray  # float32 [H, W]: pixels projected on ``down``
    falong: np.ndarray  # ... on ``fdown``

    def below(self, p: np.ndarray, face: bool = False) -> np.ndarray:
        """bool [H, W]: past the line through ``p`` across ``down`` (``face``: across ``fdown``)."""
        d, along = (self.fdown, self.falong) if face else (self.down, self.along)
        return along > np.float32(p @ d)


def _checked(rgb, person_prob, landmarks, name: str):
    """(rgb, person probability float32, landmarks float64, person mask) checked: one-line
    :class:`AutoParseError` on wrong shapes, no pose or no person."""
    rgb = np.asarray(rgb)
    prob = np.asarray(person_prob, dtype=np.float32)
    lm = np.asarray(landmarks, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or prob.shape != rgb.shape[:2]:
        raise AutoParseError(
            f"{name}: expected RGB [H, W, 3] and person probability [H, W] of the same size, got "
            f"{tuple(rgb.shape)} and {tuple(prob.shape)}"
        )
    if lm.shape != (N_LANDMARKS, 4):
        raise AutoParseError(f"{name}: expected pose landmarks [33, 4], got {tuple(lm.shape)}")
    if not np.isfinite(lm[list(REQUIRED), :2]).all():
        raise AutoParseError(f"no person pose found in {name}")
    person = prob >= 0.5
    if not person.any():
        raise AutoParseError(f"no person found in {name} (the segmentation is empty)")
    return rgb, prob, lm, person


def _frame(rgb: np.ndarray, person: np.ndarray, lm: np.ndarray) -> _Frame:
    """The body and face frames of a checked photo (see :class:`_Frame`)."""
    shape = person.shape
    xy = lm[:, :2]
    # colour tests read a lightly smoothed copy (single pixels of texture or JPEG noise do not flip labels)
    colours = _smooth(rgb)

    # body frame: down = shoulders -> hips; s = body width (shoulder width, kept sane in side views)
    msh = (xy[L_SHOULDER] + xy[R_SHOULDER]) / 2
    mhip = (xy[L_HIP] + xy[R_HIP]) / 2
    down = _unit(mhip - msh)
    up = -down
    torso = float(np.hypot(*(mhip - msh)))
    s = max(float(np.hypot(*(xy[L_SHOULDER] - xy[R_SHOULDER]))), 0.6 * torso, 4.0)

    # face frame: down = eyes -> mouth; f = face size
    eye = xy[L_EYE_IN : R_EYE_OUT + 1].mean(0)
    mouth = (xy[MOUTH_L] + xy[MOUTH_R]) / 2
    dem = max(float(np.hypot(*(mouth - eye))), 1.0)
    fdown = _unit(mouth - eye)
    f = max(float(np.hypot(*(xy[L_EAR] - xy[R_EAR]))), 1.9 * dem)
    chin = mouth + fdown * CHIN * dem
    face_c = eye + fdown * FACE_CENTER * f

    ys, xs = np.ogrid[: shape[0], : shape[1]]
    xs, ys = xs.astype(np.float32), ys.astype(np.float32)
    along = xs * np.float32(down[0]) + ys * np.float32(down[1])
    falong = xs * np.float32(fdown[0]) + ys * np.float32(fdown[1])
    across = np.array([down[1], -down[0]])
    return _Frame(
        shape=shape, person=person, colours=colours, xy=xy, msh=msh, mhip=mhip, down=down, up=up,
        across=across, s=s, eye=eye, mouth=mouth, dem=dem, fdown=fdown, f=f, chin=chin, face_c=face_c,
        xs=xs, ys=ys, along=along, falong=falong,
    )  # fmt: skip


def _zones(g: _Frame, below_chin: np.ndarray, below_garment: np.ndarray) -> np.ndarray:
    """The label map's zones: head (hair) above the chin line, upper clothes down to the garment line,
    pants below; background outside the person."""
    lab = np.zeros(g.shape, dtype=np.uint8)
    lab[g.person] = CIHP.HAIR
    lab[g.person & below_chin] = CIHP.UPPER_CLOTHES
    lab[g.person & below_garment] = CIHP.PANTS
    return lab


def _torso(g: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """(the garment polygon [6, 2], its mask within the person): collar corners beside the neck, the
    shoulders (widened, raised), the hips (widened) at the garment line."""
    xy, msh, mhip, down, up, across, s = g.xy, g.msh, g.mhip, g.down, g.up, g.across, g.s
    out_l, out_r = _unit(xy[L_SHOULDER] - msh), _unit(xy[R_SHOULDER] - msh)
    hip_l, hip_r = _unit(xy[L_HIP] - mhip), _unit(xy[R_HIP] - mhip)
    side_l = across if out_l @ across >= 0 else -across
    poly = np.stack(
        [
            msh - side_l * COLLAR[0] * s + up * COLLAR[1] * s,
            xy[R_SHOULDER] + out_r * SHOULDER_OUT[0] * s + up * SHOULDER_OUT[1] * s,
            xy[R_HIP] + hip_r * HIP_OUT * s + down * GARMENT_BOTTOM * s,
            xy[L_HIP] + hip_l * HIP_OUT * s + down * GARMENT_BOTTOM * s,
            xy[L_SHOULDER] + out_l * SHOULDER_OUT[0] * s + up * SHOULDER_OUT[1] * s,
            msh + side_l * COLLAR[0] * s + up * COLLAR[1] * s,
        ]
    )
    return poly, _polygon(g.shape, poly) & g.person


def _hands(g: _Frame) -> list[tuple[np.ndarray, int]]:
    """(hand mask, its arm's label) per hand found: capsules wrist -> past the index / pinky and
    wrist -> thumb."""
    xy, s, shape = g.xy, g.s, g.shape
    hands = []
    for arm_label, (wr, pk, ix, th) in (
        (CIHP.LEFT_ARM, (L_WRIST, L_PINKY, L_INDEX, L_THUMB)),
        (CIHP.RIGHT_ARM, (R_WRIST, R_PINKY, R_INDEX, R_THUMB)),
    ):
        if np.isfinite(xy[[wr, pk, ix, th]]).all():
            tip = xy[wr] + HAND_REACH * (xy[[pk, ix]].mean(0) - xy[wr])
            hand = _capsule(shape, np.stack([xy[wr], tip]), HAND_RADIUS * s)
            hand |= _capsule(shape, np.stack([xy[wr], xy[th]]), 0.6 * HAND_RADIUS * s)
            hands.append((hand & g.person, arm_label))
    return hands


def _skin_model(g: _Frame, poly: np.ndarray, hands: list, below_chin: np.ndarray):
    """(neck band mask, skin colour or None, garment colour or None). Skin is sampled between the eyes
    and the mouth (else on the neck, else on the hands), the garment in the torso's core."""
    s, shape, person, colours = g.s, g.shape, g.person, g.colours
    # colours: skin between the eyes and the mouth (else on the hands), garment in the torso's core
    # (when the photo cuts the face, as Dress Code's do at the nose, the skin is sampled on the neck)
    neck_end = g.msh - g.down * NECK_BOTTOM * s
    neck_r = max(NECK_HALF_WIDTH * g.f, NECK_MIN_HALF_WIDTH * s)
    neck = _capsule(shape, np.stack([g.chin, neck_end]), neck_r) & person & below_chin & ~g.below(neck_end)
    cheek = _ellipse(shape, (g.eye + g.mouth) / 2, g.fdown, 0.22 * g.f, 0.5 * g.dem) & person
    skin = _median_colour(colours, cheek) if cheek.sum() >= 200 else None
    if skin is None:
        skin = _median_colour(colours, neck)
    if skin is None and hands:
        skin = _median_colour(colours, np.logical_or.reduce([h for h, _ in hands]))
    ctr = (g.msh + g.mhip) / 2
    cloth = _median_colour(colours, _polygon(shape, ctr + (poly - ctr) * 0.5) & person)
    return neck, skin, cloth


def _arms(g: _Frame, lab: np.ndarray, torso_m: np.ndarray, skin, cloth) -> None:
    """Arms into ``lab``: capsules shoulder -> elbow -> wrist minus the torso; pixels closer to the
    garment's colour than the skin's are sleeves (upper clothes)."""
    xy, s, shape, person, colours = g.xy, g.s, g.shape, g.person, g.colours
    for arm_label, (sh, el, wr) in (
        (CIHP.LEFT_ARM, (L_SHOULDER, L_ELBOW, L_WRIST)),
        (CIHP.RIGHT_ARM, (R_SHOULDER, R_ELBOW, R_WRIST)),
    ):
        if not np.isfinite(xy[[sh, el, wr]]).all():
            continue
        arm = _capsule(shape, xy[[sh, el]], ARM_RADIUS[0] * s)
        arm |= _capsule(shape, xy[[el, wr]], ARM_RADIUS[1] * s)
        arm &= person & ~torso_m
        lab[arm] = arm_label
        if skin is not None and cloth is not None and arm.any():
            d_skin, d_cloth = _colour_dist(colours, arm, skin, cloth)
            sleeve = (d_cloth < SLEEVE_RATIO * d_skin) & (d_skin > SKIN_TOL)
            lab[arm] = np.where(sleeve, np.uint8(CIHP.UPPER_CLOTHES), np.uint8(arm_label))


def _head(g: _Frame, lab: np.ndarray, cloth, below_chin: np.ndarray) -> np.ndarray:
    """Hair below the chin into ``lab``; returns the face ellipse (within the person)."""
    f, fdown, face_c, person, colours, shape = g.f, g.fdown, g.face_c, g.person, g.colours, g.shape
    # hair below the chin (long hair beside the neck): hair-coloured pixels near the head, down to a bit
    # below the shoulder line, when the hair colour (sampled above the face) differs from the garment's
    face_m = _ellipse(shape, face_c, fdown, FACE_AXES[0] * f, FACE_AXES[1] * f) & person
    crown = _ellipse(shape, face_c - fdown * FACE_AXES[1] * f, fdown, 0.5 * f, 0.3 * f) & person & ~face_m
    hair_c = _median_colour(colours, crown)
    if hair_c is not None and cloth is not None:
        near = person & below_chin & ~g.below(g.msh + g.down * HAIR_BELOW_SHOULDER * g.s)
        near &= np.abs((g.xs - face_c[0]) * fdown[1] - (g.ys - face_c[1]) * fdown[0]) < HAIR_REACH * f
        if near.any():
            d_hair, d_cloth = _colour_dist(colours, near, hair_c, cloth)
            hair = np.zeros(shape, dtype=bool)
            hair[near] = (d_hair < HAIR_TOL) & (d_hair < SLEEVE_RATIO * d_cloth)
            lab[hair] = CIHP.HAIR
    return face_m


def _legs_and_shoes(g: _Frame, lab: np.ndarray, skin, below_garment: np.ndarray) -> None:
    """Below the garment line, into ``lab``: bare legs (skin-coloured, when the shin is) and shoes
    (heel -> toe capsules)."""
    xy, s, shape, person, colours = g.xy, g.s, g.shape, g.person, g.colours
    # below the garment: bare legs (skin-coloured, when the shin is), the feet are shoes
    low = person & below_garment & (lab == CIHP.PANTS)
    for leg_label, (hp, kn, an) in (
        (CIHP.LEFT_LEG, (L_HIP, L_KNEE, L_ANKLE)),
        (CIHP.RIGHT_LEG, (R_HIP, R_KNEE, R_ANKLE)),
    ):
        if skin is None or not np.isfinite(xy[[hp, kn, an]]).all():
            continue
        shin = _median_colour(colours, _capsule(shape, xy[[kn, an]], 0.05 * s) & low)
        if shin is None or np.linalg.norm(shin - skin) > LEG_MATCH:
            continue  # this leg is covered (trousers, tights) or not in the photo
        side = low & _capsule(shape, xy[[hp, kn, an]], LEG_RADIUS * s)
        if side.any():
            bare = np.zeros(shape, dtype=bool)
            bare[side] = _colour_dist(colours, side, shin)[0] < LEG_TOL
            lab[bare] = leg_label
    for shoe_label, (heel, toe) in ((CIHP.LEFT_SHOE, (L_HEEL, L_FOOT)), (CIHP.RIGHT_SHOE, (R_HEEL, R_FOOT))):
        if np.isfinite(xy[[heel, toe]]).all():
            lab[_capsule(shape, xy[[heel, toe]], FOOT_RADIUS * s) & person & below_garment] = shoe_label


def _neckline(g: _Frame, lab: np.ndarray, neck: np.ndarray, skin, cloth) -> None:
    """The neckline rule, into ``lab``: bare skin connected to the neck is torso skin.

    Bare skin at the neckline (V-necks, off-shoulder and one-shoulder tops): garment-labelled pixels
    down to NECKLINE_DEPTH below the shoulder line whose colour is skin (near the skin colour, much
    nearer to it than to the garment's; above the shoulder line, where a garment rarely is, unless
    clearly nearer to the garment's, shadows included) and that connect to the neck are torso skin."""
    if skin is not None and neck.any():
        from scipy import ndimage

        msh, down, across, s, xs, ys = g.msh, g.down, g.across, g.s, g.xs, g.ys
        zone = g.person & (lab == CIHP.UPPER_CLOTHES) & ~g.below(msh + down * NECKLINE_DEPTH * s)
        # between the shoulders, inside the upper arms (bare arms are the arms' business)
        zone &= np.abs((xs - msh[0]) * across[0] + (ys - msh[1]) * across[1]) < NECKLINE_HALF_SPAN * s
        if zone.any():
            d = _colour_dist(g.colours, zone, skin, *([cloth] if cloth is not None else []))
            high = ~g.below(msh)[zone]
            tol = np.where(high, NECKLINE_TOL_HIGH, NECKLINE_TOL)
            ratio = np.where(high, NECKLINE_RATIO_HIGH, NECKLINE_RATIO)
            bare = (d[0] < tol) & ((d[0] < ratio * d[1]) if len(d) > 1 else True)
            cand = np.zeros(g.shape, dtype=bool)
            cand[zone] = bare
            comps, _ = ndimage.label(cand | neck)
            touching = np.unique(comps[neck])
            lab[cand & np.isin(comps, touching[touching > 0])] = CIHP.TORSO_SKIN


def _face(g: _Frame, lab: np.ndarray, face_m: np.ndarray, skin) -> None:
    """The face into ``lab``: the ellipse down to a little under the mouth; above the eyebrows, pixels
    far from the skin colour are hair (a fringe)."""
    if skin is not None:
        upper = face_m & ~g.below(g.eye - g.fdown * FRINGE * g.dem, face=True)
        if upper.any():
            fringe = np.zeros(g.shape, dtype=bool)
            fringe[upper] = _colour_dist(g.colours, upper, skin)[0] > SKIN_TOL
            lab[fringe] = CIHP.HAIR
            face_m &= ~fringe
    lab[face_m & ~g.below(g.mouth + g.fdown * FACE_BOTTOM * g.dem, face=True)] = CIHP.FACE


def pseudo_parse(rgb, person_prob, landmarks, name: str = "image") -> np.ndarray:
    """CIHP label map uint8 [H, W] from an RGB uint8 [H, W, 3] photo, its person probability float
    [H, W] and its 33 pose landmarks float [33, 4] (x_px, y_px, z, visibility). See the module docstring
    for the rules and their limits. ``name`` (the image) goes into the one-line errors:
    :class:`AutoParseError` when no pose or no person was found."""
    rgb, _, lm, person = _checked(rgb, person_prob, landmarks, name)
    g = _frame(rgb, person, lm)
    below_chin = g.below(g.chin)
    below_garment = g.below(g.mhip + g.down * GARMENT_BOTTOM * g.s)
    lab = _zones(g, below_chin, below_garment)
    poly, torso_m = _torso(g)
    lab[torso_m] = CIHP.UPPER_CLOTHES
    hands = _hands(g)
    neck, skin, cloth = _skin_model(g, poly, hands, below_chin)
    _arms(g, lab, torso_m, skin, cloth)
    face_m = _head(g, lab, cloth, below_chin)
    _legs_and_shoes(g, lab, skin, below_garment)
    for hand, arm_label in hands:
        lab[hand] = arm_label
    # neck: a narrow band from the chin to just above the shoulder line (computed with the colours)
    lab[neck] = CIHP.TORSO_SKIN
    _neckline(g, lab, neck, skin, cloth)
    _face(g, lab, face_m, skin)
    return lab
