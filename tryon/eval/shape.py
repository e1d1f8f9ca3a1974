"""Worn-garment shape, measured relative to the body: how far the sleeves reach, where the hem sits, how much
of the shoulders and torso the upper garment covers, how wide it is.

Why: in an unpaired try-on (person A wearing garment X), X was photographed worn by its owner B. These
quantities, measured on B's photo with its true parse map and pose, fix X's worn shape in body units (they
do not depend on B's size, position or image resolution); measured on the try-on image (parsed by a learned
parser, A's pose) they should agree. A method that squeezes X into A's old garment outline disagrees
(:func:`disagreement`).

Inputs: a CIHP parse map ``int [H, W]`` (:mod:`tryon.data.labels`; convert VITON's LIP maps with
:func:`tryon.data.labels.lip_to_cihp` first) and a keypoint dict ``name -> (x, y) | None`` in pixels of
that map (x = column, y = row, pixel centres at integers), as :func:`read_keypoints` returns. "Left" and
"right" are the person's own sides (OpenPose and CIHP both). Garment = upper clothes, dress, coat
(:data:`tryon.data.labels.UPPER_GARMENT`), after dropping its connected pieces under
:data:`MIN_PIECE` of its area (parser speckle) and filling the background holes it encloses (prints
that the parser missed).

Notation: S_r, S_l shoulders; w = |S_r - S_l| the shoulder width (every radius is a multiple of w);
shoulder line y_s = mean y of S_r, S_l; hip line y_h = mean y of the hips (BODY_25's mid hip when a hip is
missing); D = y_h - y_s. Each quantity is a float, NaN when not measurable (a keypoint it needs is missing,
nothing to measure in its region).

* ``sleeve_reach_r`` / ``sleeve_reach_l``: how far down the arm the garment reaches, on the arm's polyline
  S -> elbow -> wrist, parametrised per segment so that 0 = shoulder, 0.5 = elbow exactly, 1 = wrist (the
  fraction of each segment, not of the total length: the elbow stays at 0.5 however the arm is
  foreshortened). Pixels within ``ARM_RADIUS * w`` of the polyline are projected onto it (those beyond the
  wrist, the hand, are dropped) into :data:`N_BINS` bins along t. A bin is *garment* when its garment pixels
  outnumber its skin pixels (arms, torso skin, glove), *skin* in the opposite case, unknown when it holds
  fewer than 3 of the two together (hair, background: the arm is hidden there); unknown bins neither
  extend nor end the reach. Garment pixels inside the torso band (the
  side of both lines shoulder -> hip that holds the torso, extended both ways) are not counted: there the
  torso part of the garment lies beside a hanging arm. The reach is the end of the last garment bin before
  the first run of skin bins at least :data:`SKIN_RUN` long: the farthest extent reached from the shoulder
  without exposed arm. 0 = bare from the shoulder (sleeveless), ~0.25 a short sleeve, 0.5 to the elbow,
  ~1 to the wrist. NaN if the arm's shoulder, elbow or wrist or the other shoulder is missing, or no bin is
  known. A refinement of "the farthest garment pixel reached continuously": without the skin vote a loose
  sleeveless top, whose side runs down along a hanging arm, would read as a long sleeve.
* ``sleeve_reach``: the mean of the two arms' reaches that are not NaN (NaN if both are).
* ``hem``: where the garment's lower edge sits on the torso: (median over the torso's columns, those
  between the two hip keypoints, of the bottom edge of the lowest garment pixel - y_s) / D. 1 = at the hip
  line, ~0.5-0.7 a crop top, > 1 a long top or a dress. NaN without both shoulders and a hip line, or with
  no garment in those columns.
* ``shoulder_cover``: the share of the shoulders that the garment covers: region = pixels within
  ``SHOULDER_RADIUS * w`` of the outer :data:`SHOULDER_SPAN` of the segment S_r -- S_l at each end (two
  capsules, each starting at a shoulder keypoint and going inwards); share = garment / (region pixels of
  the person, minus hair, face, hat and sunglasses). ~1 a tee or a coat, low for a camisole (straps only),
  0 off the shoulder. The middle of the segment is left out on purpose: it crosses the neckline, where a
  crew-neck tee shows skin, so it would measure the neckline rather than the shoulders (``torso_cover``
  sees the neckline). NaN without both shoulders.
* ``torso_cover``: the share of the torso quadrilateral S_r, S_l, H_l, H_r that the garment covers, over its
  pixels not hidden by arms, gloves, hair or the head (background counts as uncovered: in VITON's LIP maps
  bare chest skin is background). ~1 a long top, lower for a crop top, a deep neckline, or a top tucked
  into trousers. NaN without both shoulders and both hips.
* ``width``: the garment's width at mid torso (rows within 5% of D around (y_s + y_h) / 2) over w: per row
  the run of garment pixels through the torso's centre line, cut ``ARM_HALF_WIDTH * w`` inside each arm's
  polyline (where a hanging arm's sleeve touches the torso it would join the run), median over the rows.
  The weakest of the quantities: where the arms hang against the body the torso's edge is hidden and the
  width is that of the gap between the arms. NaN if the centre is not garment on any row (e.g. an
  arm in front of it).

Known limits (seen on the true parse maps of 300 VITON test photos): an arm hidden behind a loose top or
the body (3/4 views: 000404, 000659, 001957) has its polyline on the torso's garment and reads as a long
sleeve; in a 3/4 view w shrinks and every w-relative figure grows (002728's width 2.1); VITON's LIP parser
labels parts of skirts "dress" and of trousers "jumpsuit" (a dress in CIHP ids), which lengthens ``hem``
(002610, 001725); a top tucked into high trousers has its hem at the waistband (~0.6: 000200); where the
true parse calls a sheer sleeve arm skin (000028, 000593) the sleeve is skin here too.

:func:`garment_shape` also returns ``keypoints_from_parse``: the names of the keypoints that
:func:`parse_keypoints` (a rough estimate from the parse map alone) supplied, when asked with
``fallback=True``; a quantity computed on such points is labelled by this list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import ndimage

from tryon.data.labels import CIHP, UPPER_GARMENT, isin
from tryon.data.pose import KEYPOINT_NAMES, Keypoints, Point, midpoint
from tryon.data.pose import MIN_CONF as MIN_CONF  # re-exported: the shape figures' threshold
from tryon.data.pose import read_keypoints as read_keypoints  # re-exported

#: the float quantities of :func:`garment_shape` (what :func:`disagreement` compares)
QUANTITIES = (
    "sleeve_reach",
    "sleeve_reach_r",
    "sleeve_reach_l",
    "hem",
    "shoulder_cover",
    "torso_cover",
    "width",
)
#: search radius around the arm polyline, x shoulder width (a loose sleeve, keypoint error)
ARM_RADIUS = 0.2
#: bins along the arm polyline (0.025 of it each)
N_BINS = 40
#: the sleeve ends at the first run of skin bins this long (a fraction of the arm: parser speckle is shorter)
SKIN_RUN = 0.075
#: an arm's half width, x shoulder width: ``width`` stops this far inside the arm's polyline
ARM_HALF_WIDTH = 0.1
#: shoulder capsules: radius and inward length, x shoulder width
SHOULDER_RADIUS = 0.2
SHOULDER_SPAN = 0.25
#: garment pieces smaller than this share of the garment's area are dropped (parser speckle)
MIN_PIECE = 0.01

#: skin that a sleeve would cover
SKIN = (CIHP.LEFT_ARM, CIHP.RIGHT_ARM, CIHP.TORSO_SKIN, CIHP.GLOVE)
#: never counted as the person's shoulders (they hide them)
HEADWEAR = (CIHP.HAT, CIHP.HAIR, CIHP.SUNGLASSES, CIHP.FACE)
#: what hides the torso from view
TORSO_OCCLUDERS = (*HEADWEAR, CIHP.LEFT_ARM, CIHP.RIGHT_ARM, CIHP.GLOVE)


def mirror(parse: np.ndarray, keypoints: Keypoints) -> tuple[np.ndarray, dict[str, Point | None]]:
    """The left-right mirror image of a parse map ``int [H, W]`` and its keypoints: columns flipped, the
    sided labels (arms, legs, shoes) and keypoint names swapped, so the person's right is still "right".
    Every quantity of :func:`garment_shape` should be unchanged (the arms' swapped)."""
    parse = np.asarray(parse)
    lut = np.arange(max(int(parse.max()) + 1, len(CIHP)), dtype=parse.dtype)
    for a, b in (
        (CIHP.LEFT_ARM, CIHP.RIGHT_ARM),
        (CIHP.LEFT_LEG, CIHP.RIGHT_LEG),
        (CIHP.LEFT_SHOE, CIHP.RIGHT_SHOE),
    ):
        lut[a], lut[b] = b, a
    flipped = lut[parse[:, ::-1]]
    w = parse.shape[1]
    swap = {"r_": "l_", "l_": "r_"}
    kp = {}
    for name, p in keypoints.items():
        new = swap[name[:2]] + name[2:] if name[:2] in swap else name
        kp[new] = None if p is None else (w - 1 - float(p[0]), float(p[1]))
    return flipped, kp


def parse_keypoints(parse: np.ndarray) -> dict[str, Point | None]:
    """A rough estimate of the shoulders and hips from the parse map alone (no pose file), ``int [H, W]``
    CIHP ids. Upper body U = garment, torso skin and arms; shoulder row = the first row from U's top whose
    width reaches 85% of U's widest row in its top 30%; shoulders 8% of that width inside its ends and
    5% of it lower (joint centres, not the outline). Hip line = the top of the trousers / skirt below it,
    else the bottom of the garment; hips +-30% of the shoulder width about the shoulders' middle. Elbows
    and wrists are not estimated (``None``): the sleeves stay NaN. Empty dict entries are ``None``."""
    parse = np.asarray(parse)
    out: dict[str, Point | None] = dict.fromkeys(KEYPOINT_NAMES)
    upper = isin(parse, (*UPPER_GARMENT, CIHP.TORSO_SKIN, CIHP.LEFT_ARM, CIHP.RIGHT_ARM))
    rows = np.flatnonzero(upper.any(1))
    if len(rows) < 4:
        return out
    y0, y1 = rows[0], rows[-1]
    top = range(y0, y0 + max(int(0.3 * (y1 - y0)), 1) + 1)
    ext = {y: np.flatnonzero(upper[y]) for y in top}
    widths = {y: (e[-1] - e[0] + 1) if len(e) else 0 for y, e in ext.items()}
    wmax = max(widths.values())
    ys = next(y for y in top if widths[y] >= 0.85 * wmax)
    xa, xb = float(ext[ys][0]), float(ext[ys][-1])
    wd = xb - xa + 1
    sy = ys + 0.05 * wd
    # the image's left end is the person's right shoulder (a person facing the camera)
    out["r_shoulder"], out["l_shoulder"] = (xa + 0.08 * wd, sy), (xb - 0.08 * wd, sy)
    sw = 0.84 * wd
    cx = (xa + xb) / 2
    lower = isin(parse, (CIHP.PANTS, CIHP.SKIRT))
    lower[: int(sy) + 1] = False
    garment = isin(parse, UPPER_GARMENT)
    if lower.any():
        hy = float(np.flatnonzero(lower.any(1))[0])
    elif garment.any():
        hy = float(np.flatnonzero(garment.any(1))[-1])
    else:
        return out
    if hy > sy:
        out["r_hip"], out["l_hip"] = (cx - 0.3 * sw, hy), (cx + 0.3 * sw, hy)
        out["mid_hip"] = (cx, hy)
    return out


# ----------------------------------------------------------------------------------------------
# Geometry helpers (pure numpy; points (x, y) in pixels)
# ----------------------------------------------------------------------------------------------
def _project(xs: np.ndarray, ys: np.ndarray, a: Point, b: Point) -> tuple[np.ndarray, np.ndarray]:
    """Position u along segment a -> b (0 at a, 1 at b, not clamped) of each pixel, and its distance to the
    segment (to the nearest point of it)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    ll = dx * dx + dy * dy
    u = ((xs - a[0]) * dx + (ys - a[1]) * dy) / ll if ll > 0 else np.zeros_like(xs, dtype=np.float64)
    uc = np.clip(u, 0.0, 1.0)
    return u, np.hypot(xs - (a[0] + uc * dx), ys - (a[1] + uc * dy))


def _side(xs: np.ndarray, ys: np.ndarray, a: Point, d: Point) -> np.ndarray:
    """Signed side of each pixel w.r.t. the line through ``a`` with direction ``d`` (cross product)."""
    return d[0] * (ys - a[1]) - d[1] * (xs - a[0])


def _grid(
    shape: tuple[int, int], pts: Iterable[Point], pad: float
) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """The pixel grid (x, y float arrays) of the bounding box of ``pts`` grown by ``pad``, inside the image."""
    pts = list(pts)
    h, w = shape
    x0 = max(int(math.floor(min(p[0] for p in pts) - pad)), 0)
    x1 = min(int(math.ceil(max(p[0] for p in pts) + pad)) + 1, w)
    y0 = max(int(math.floor(min(p[1] for p in pts) - pad)), 0)
    y1 = min(int(math.ceil(max(p[1] for p in pts) + pad)) + 1, h)
    ys, xs = np.mgrid[y0 : max(y1, y0), x0 : max(x1, x0)].astype(np.float64)
    return slice(y0, max(y1, y0)), slice(x0, max(x1, x0)), xs, ys


def _clean_garment(parse: np.ndarray) -> np.ndarray:
    """Garment mask bool [H, W] without its pieces under :data:`MIN_PIECE` of its area, and with the
    background holes it encloses filled (a large print that the parser left out: VITON 000898)."""
    g = isin(parse, UPPER_GARMENT)
    g |= ndimage.binary_fill_holes(g) & (parse == CIHP.BACKGROUND)
    lab, n = ndimage.label(g)
    if n <= 1:
        return g
    sizes = np.bincount(lab.ravel())[1:]  # [n]
    keep = np.flatnonzero(sizes >= MIN_PIECE * g.sum()) + 1
    return np.isin(lab, keep)


class _Body:
    """The keypoints a quantity needs, and the derived lines (shoulder width, shoulder / hip lines)."""

    def __init__(self, kp: Keypoints):
        self.kp = {k: (None if v is None else (float(v[0]), float(v[1]))) for k, v in kp.items()}
        self.sr, self.sl = self.kp.get("r_shoulder"), self.kp.get("l_shoulder")
        self.hr, self.hl = self.kp.get("r_hip"), self.kp.get("l_hip")
        self.w = math.dist(self.sr, self.sl) if self.sr and self.sl else math.nan
        ok = self.w >= 1.0
        self.shoulders = ok
        self.ys = (self.sr[1] + self.sl[1]) / 2 if ok else math.nan
        hips = [p for p in (self.hr, self.hl) if p is not None]
        if len(hips) == 2:
            self.yh = (hips[0][1] + hips[1][1]) / 2
        elif self.kp.get("mid_hip") is not None:
            self.yh = self.kp["mid_hip"][1]
        else:
            self.yh = math.nan
        self.D = self.yh - self.ys if ok else math.nan

    def side_line(self, side: str) -> tuple[Point, Point]:
        """The torso's side ``side`` ('r' | 'l'): a point and a direction (shoulder -> hip; without the hip,
        perpendicular to the shoulder line, pointing down the image)."""
        s, h = (self.sr, self.hr) if side == "r" else (self.sl, self.hl)
        if h is not None and math.dist(s, h) >= 1.0:
            return s, (h[0] - s[0], h[1] - s[1])
        dx, dy = self.sl[0] - self.sr[0], self.sl[1] - self.sr[1]
        perp = (-dy, dx) if dx >= 0 else (dy, -dx)
        return s, perp if perp[1] >= 0 else (-perp[0], -perp[1])

    def torso_band(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Pixels on the torso's side of both side lines (an open band, extended above and below)."""
        centre = midpoint(self.sr, self.sl)
        (ar, dr), (al, dl) = self.side_line("r"), self.side_line("l")
        down = midpoint(dr, dl)
        c = (centre[0] + 0.5 * down[0], centre[1] + 0.5 * down[1])
        inside = np.ones(xs.shape, dtype=bool)
        for a, d in ((ar, dr), (al, dl)):
            sc = _side(np.array(c[0]), np.array(c[1]), a, d)
            inside &= _side(xs, ys, a, d) * np.sign(sc) > 0
        return inside


# ----------------------------------------------------------------------------------------------
# The quantities
# ----------------------------------------------------------------------------------------------
def _sleeve_reach(parse: np.ndarray, garment: np.ndarray, body: _Body, side: str) -> float:
    s, e, wr = (body.kp.get(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist"))
    if not body.shoulders or s is None or e is None or wr is None:
        return math.nan
    r = ARM_RADIUS * body.w
    sy, sx, xs, ys = _grid(parse.shape, (s, e, wr), r)
    if xs.size == 0:
        return math.nan
    u1, d1 = _project(xs, ys, s, e)
    u2, d2 = _project(xs, ys, e, wr)
    on_upper = d1 <= d2
    t = np.where(on_upper, 0.5 * np.clip(u1, 0, 1), 0.5 + 0.5 * np.clip(u2, 0, 1))
    near = (np.minimum(d1, d2) <= r) & (on_upper | (u2 <= 1.0))  # beyond the wrist: the hand, left out
    g = garment[sy, sx] & near & ~body.torso_band(xs, ys)
    k = isin(parse[sy, sx], SKIN) & near
    bins = np.minimum((t * N_BINS).astype(int), N_BINS - 1)
    gc = np.bincount(bins[g], minlength=N_BINS)  # [N_BINS] garment pixels per bin
    kc = np.bincount(bins[k], minlength=N_BINS)  # [N_BINS] skin pixels per bin
    known = gc + kc >= 3
    if not known.any():
        return math.nan
    is_skin = known & (kc > gc)
    run = max(int(math.ceil(SKIN_RUN * N_BINS - 1e-9)), 1)
    reach = 0.0
    for i in range(N_BINS):
        if is_skin[i : i + run].all() and i + run <= N_BINS:
            break
        if known[i] and gc[i] > kc[i]:
            reach = (i + 1) / N_BINS
    return reach


def _hem(garment: np.ndarray, body: _Body) -> float:
    if not body.shoulders or not (body.D > 0) or body.hr is None or body.hl is None:
        return math.nan
    h, w = garment.shape
    x0 = max(int(math.ceil(min(body.hr[0], body.hl[0]))), 0)
    x1 = min(int(math.floor(max(body.hr[0], body.hl[0]))), w - 1)
    if x1 < x0:
        return math.nan
    cols = garment[:, x0 : x1 + 1]  # [H, n_cols]
    has = cols.any(0)
    if not has.any():
        return math.nan
    lowest = h - 1 - np.argmax(cols[::-1], axis=0)  # [n_cols] row of the lowest garment pixel
    edge = float(np.median(lowest[has])) + 0.5  # its bottom edge
    return (edge - body.ys) / body.D


def _shoulder_cover(parse: np.ndarray, garment: np.ndarray, body: _Body) -> float:
    if not body.shoulders:
        return math.nan
    rho = SHOULDER_RADIUS * body.w
    sy, sx, xs, ys = _grid(parse.shape, (body.sr, body.sl), rho)
    region = np.zeros(xs.shape, dtype=bool)
    for a, b in ((body.sr, body.sl), (body.sl, body.sr)):
        end = (a[0] + SHOULDER_SPAN * (b[0] - a[0]), a[1] + SHOULDER_SPAN * (b[1] - a[1]))
        region |= _project(xs, ys, a, end)[1] <= rho
    p = parse[sy, sx]
    person = region & (p != CIHP.BACKGROUND) & ~isin(p, HEADWEAR)
    n = int(person.sum())
    return float((person & garment[sy, sx]).sum()) / n if n else math.nan


def _quad_mask(xs: np.ndarray, ys: np.ndarray, quad: list[Point]) -> np.ndarray:
    from matplotlib.path import Path as MplPath

    pts = np.stack([xs.ravel(), ys.ravel()], 1)  # [N, 2] (x, y)
    return MplPath(quad).contains_points(pts).reshape(xs.shape)


def _torso_cover(parse: np.ndarray, garment: np.ndarray, body: _Body) -> float:
    if not body.shoulders or body.hr is None or body.hl is None:
        return math.nan
    quad = [body.sr, body.sl, body.hl, body.hr]
    sy, sx, xs, ys = _grid(parse.shape, quad, 0.0)
    inside = _quad_mask(xs, ys, quad) & ~isin(parse[sy, sx], TORSO_OCCLUDERS)
    n = int(inside.sum())
    return float((inside & garment[sy, sx]).sum()) / n if n else math.nan


def _arm_x_at(body: _Body, side: str, y: float) -> float | None:
    """Column where the arm's polyline (shoulder, elbow, wrist: what is known) crosses row ``y``."""
    pts = [body.kp.get(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist")]
    pts = [p for p in pts if p is not None]
    for a, b in zip(pts, pts[1:], strict=False):
        if min(a[1], b[1]) <= y <= max(a[1], b[1]) and a[1] != b[1]:
            return a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
    return None


def _width(garment: np.ndarray, body: _Body) -> float:
    if not body.shoulders or not (body.D > 0):
        return math.nan
    h, w = garment.shape
    hip_mid = body.kp.get("mid_hip") or (midpoint(body.hr, body.hl) if body.hr and body.hl else None)
    sh_mid = midpoint(body.sr, body.sl)
    ym = (body.ys + body.yh) / 2
    cx = sh_mid[0] if hip_mid is None else (sh_mid[0] + hip_mid[0]) / 2
    half = max(0.05 * body.D, 0.5)
    widths = []
    for y in range(max(int(math.ceil(ym - half)), 0), min(int(math.floor(ym + half)), h - 1) + 1):
        c = int(round(cx))
        if not 0 <= c < w or not garment[y, c]:
            continue
        row = garment[y]
        lo, hi = 0, w - 1
        for side in ("r", "l"):
            ax = _arm_x_at(body, side, y)
            if ax is None:
                continue
            if ax < cx:
                lo = max(lo, int(math.ceil(ax + ARM_HALF_WIDTH * body.w)))
            else:
                hi = min(hi, int(math.floor(ax - ARM_HALF_WIDTH * body.w)))
        left = c
        while left - 1 >= lo and row[left - 1]:
            left -= 1
        right = c
        while right + 1 <= hi and row[right + 1]:
            right += 1
        widths.append(right - left + 1)
    return float(np.median(widths)) / body.w if widths else math.nan


def garment_shape(parse: np.ndarray, keypoints: Keypoints, fallback: bool = False) -> dict:
    """The worn upper garment's shape quantities (module docstring), from a CIHP parse map ``int [H, W]``
    and keypoints ``name -> (x, y) | None`` in its pixels (:func:`read_keypoints`). ``fallback``: fill the
    missing shoulders / hips from :func:`parse_keypoints` (rough), listed in ``keypoints_from_parse``.

    Returns ``{quantity: float (NaN = not measurable) for quantity in QUANTITIES}`` plus
    ``keypoints_from_parse``: a tuple of names (empty when the pose supplied everything used)."""
    parse = np.asarray(parse)
    if parse.ndim != 2:
        raise ValueError(f"garment_shape: parse map must be [H, W], got shape {parse.shape}")
    kp = {k: v for k, v in keypoints.items()}
    filled: list[str] = []
    if fallback:
        est = parse_keypoints(parse)
        for name in ("r_shoulder", "l_shoulder", "r_hip", "l_hip"):
            if kp.get(name) is None and est[name] is not None:
                kp[name] = est[name]
                filled.append(name)
        if filled and kp.get("mid_hip") is None and kp.get("r_hip") and kp.get("l_hip"):
            kp["mid_hip"] = midpoint(kp["r_hip"], kp["l_hip"])
    body = _Body(kp)
    garment = _clean_garment(parse)
    r = _sleeve_reach(parse, garment, body, "r")
    left = _sleeve_reach(parse, garment, body, "l")
    arms = [v for v in (r, left) if not math.isnan(v)]
    return {
        "sleeve_reach": float(np.mean(arms)) if arms else math.nan,
        "sleeve_reach_r": r,
        "sleeve_reach_l": left,
        "hem": _hem(garment, body),
        "shoulder_cover": _shoulder_cover(parse, garment, body),
        "torso_cover": _torso_cover(parse, garment, body),
        "width": _width(garment, body),
        "keypoints_from_parse": tuple(filled),
    }


def disagreement(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    """``|a[q] - b[q]|`` for every quantity ``q`` of :data:`QUANTITIES` (NaN where either side is NaN or
    lacks it): e.g. the garment's shape on its owner's photo against the try-on image."""
    out = {}
    for q in QUANTITIES:
        x, y = a.get(q, math.nan), b.get(q, math.nan)
        out[q] = abs(float(x) - float(y)) if math.isfinite(x) and math.isfinite(y) else math.nan
    return out


def mean_with_ci(values: Iterable[float], n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean of the finite ``values`` (NaN ones left out) with its 95% percentile bootstrap interval
    (:func:`tryon.eval.metrics.bootstrap_ci`, seeded): ``{"mean", "ci95": [low, high], "n"}``; ``mean`` NaN
    with no value, ``ci95`` ``[nan, nan]`` with fewer than two."""
    from tryon.eval.metrics import bootstrap_ci  # imported here: metrics pulls in torch, shape does not

    v = [float(x) for x in values if math.isfinite(float(x))]
    return {
        "mean": float(np.mean(v)) if v else math.nan,
        "ci95": bootstrap_ci(v, n_boot=n_boot, seed=seed),
        "n": len(v),
    }
