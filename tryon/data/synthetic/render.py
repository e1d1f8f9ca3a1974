"""Rendering one sample: the person wearing the garment, the contour image (the same body in a tight
plain bodysuit), the CIHP parse map and the exact ground-truth backward map (:func:`render_sample`).

Everything is rendered with signed distance fields (SDF) and 1-pixel soft edges (coverage =
clip(0.5 - sdf, 0, 1)), numpy-vectorised, inside the person's bounding window, then pasted into the frame.
The worn colour is the bilinear sample of the flat garment image at the backward map G (the same operation
as ``grid_sample(..., align_corners=False)``; G itself: :mod:`tryon.data.synthetic.worn`), then
folds/cylinder shading multiply it. ``gt_grid`` stores G normalised to [-1, 1] (x first); ``flow_valid``
marks the worn pixels whose colour comes from one garment point only (fully opaque, not blended with an
edge or an occluder).

:func:`render_sample` runs these steps, one function each: the body, hair and lower-garment SDFs
(:func:`_person_sdfs`), the torso and sleeve backward maps and the torso shading (``worn``), then the
painter's algorithm on a :class:`_Canvas` (:func:`_paint_back_layers`, :func:`_paint_torso_garment`,
:func:`_paint_arms_and_sleeves`, :func:`_paint_head`), the paste into the full frame
(:func:`_paste_into_frame`) and the silhouette measurements (:func:`_silhouette_measures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data.labels import CIHP
from tryon.data.synthetic.body import Body, _body_sdfs, _Geo, _torso_hw_rows, body_geometry
from tryon.data.synthetic.garment import Garment
from tryon.data.synthetic.primitives import _capsule, _cov, _ellipse, _grid
from tryon.data.synthetic.texture import _noise, render_flat_garment
from tryon.data.synthetic.worn import _sleeve_map, _SleeveMap, _torso_map, _torso_shading, _TorsoMap

#: colour of the tight plain bodysuit in contour images
BODYSUIT_RGB = np.array([52, 54, 60], dtype=np.float32) / 255.0
CONTOUR_BG_RGB = np.array([235, 235, 235], dtype=np.float32) / 255.0


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


# ------------------------------------------------------------------------------------------------
# Body, hair and lower garment
# ------------------------------------------------------------------------------------------------
@dataclass
class _PersonSdfs:
    """SDFs (px) of the person's parts on the window grid, and the lower garment's label and shading."""

    torso: np.ndarray  # torso with the shoulder caps
    neck: np.ndarray
    arms: list  # per side (image left, image right)
    legs: list  # per side
    head: np.ndarray
    torso_full: np.ndarray  # torso and neck
    hair_back: np.ndarray  # hair drawn behind the body
    hair_front: np.ndarray  # hair drawn over the face (fringe, bun)
    lower: np.ndarray  # lower garment (pants, shorts or skirt)
    lower_label: int  # its CIHP label
    lower_shade: np.ndarray  # its multiplicative shading [h, w]


def _hair_sdfs(body: Body, geo: _Geo, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SDFs (px) of the hair behind the body and of the hair over the face, by hair style."""
    y = geo.y
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
    return hair_back, hair_front


def _lower_garment(
    body: Body, geo: _Geo, X: np.ndarray, Y: np.ndarray, hw_rows: np.ndarray, S: int
) -> tuple[np.ndarray, int, np.ndarray]:
    """(SDF px, CIHP label, multiplicative shading [h, w]) of the lower garment: an A-line skirt, or
    pants / shorts (a waistband box over the legs' capsules, with ease)."""
    y, r = geo.y, geo.r
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
    lower_shade = 0.85 + 0.15 * np.clip(-lower / (0.03 * S), 0, 1)
    if body.lower == "skirt":  # soft vertical pleats
        lower_shade = lower_shade * (1.0 - 0.05 * (1 + np.sin(2 * np.pi * (X - geo.cx) / (0.045 * S))) * t_sk)
    return lower, lower_label, lower_shade


def _person_sdfs(body: Body, geo: _Geo, X: np.ndarray, Y: np.ndarray, S: int) -> _PersonSdfs:
    """Body part, hair and lower garment SDFs (px) on the window grid (X, Y)."""
    hw_rows = _torso_hw_rows(geo, Y[:, :1])  # [h, 1]
    torso, neck, arms, legs, head = _body_sdfs(geo, X, Y)
    hair_back, hair_front = _hair_sdfs(body, geo, X, Y)
    lower, lower_label, lower_shade = _lower_garment(body, geo, X, Y, hw_rows, S)
    return _PersonSdfs(
        torso=torso,
        neck=neck,
        arms=arms,
        legs=legs,
        head=head,
        torso_full=np.minimum(torso, neck),
        hair_back=hair_back,
        hair_front=hair_front,
        lower=lower,
        lower_label=lower_label,
        lower_shade=lower_shade,
    )


def _body_union(p: _PersonSdfs) -> np.ndarray:
    """SDF (px) of the whole body (torso, neck, head, legs, arms)."""
    body_union = np.minimum(np.minimum(p.torso_full, p.head), np.minimum(*p.legs))
    return np.minimum(body_union, np.minimum(*p.arms))


# ------------------------------------------------------------------------------------------------
# Compose (painter's algorithm, back to front)
# ------------------------------------------------------------------------------------------------
@dataclass
class _Canvas:
    """The person window being painted, back to front."""

    img: np.ndarray  # person colour [h, w, 3]
    cont: np.ndarray  # contour image colour [h, w, 3]
    parse: np.ndarray  # CIHP labels uint8 [h, w]
    raw: np.ndarray  # garment layers before shading [h, w, 3]
    shade_all: np.ndarray  # the garment's multiplicative shading [h, w]
    gx: np.ndarray  # backward map, normalised x (identity outside the garment)
    gy: np.ndarray  # backward map, normalised y
    w_top: np.ndarray  # weight of the top garment layer in the final colour
    inside_top: np.ndarray  # the top garment layer's flat footprint is fully inside the garment

    def put(self, a, col, label, contour_col=None, shade=None, at=(0, 0)) -> None:
        """Composite colour ``col`` (RGB or [h, w, 3]; times ``shade`` [h, w, 1] when given) with coverage
        ``a`` into the person and contour images, only inside the bounding box of a > 0. ``a`` (and array
        colours) may cover a sub-window whose top-left corner is ``at`` (row, col) in the window."""
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
        self.img[sl] = self.img[sl] * (1 - a3) + c * a3
        self.parse[sl][aa > 0.5] = label
        self.w_top[sl] = self.w_top[sl] * (1 - aa)
        if contour_col is not None:
            cc = contour_col[loc] if np.ndim(contour_col) == 3 else contour_col
            if shade is not None:
                cc = cc * shade[sl]
            self.cont[sl] = self.cont[sl] * (1 - a3) + cc * a3


def _new_canvas(
    img: np.ndarray, hwin: tuple[int, int], X: np.ndarray, Y: np.ndarray, tm: _TorsoMap, S: int
) -> _Canvas:
    """A canvas on the background window ``img``: contour background, no labels, identity backward map
    except on the torso panel rows (G_torso there)."""
    gx = 2 * X / S - 1  # identity outside the torso panel rows
    gy = 2 * Y / S - 1
    gx[tm.rows] = tm.gx
    gy[tm.rows] = tm.gy
    return _Canvas(
        img=img,
        cont=np.broadcast_to(CONTOUR_BG_RGB, (*hwin, 3)).copy(),
        parse=np.zeros(hwin, np.uint8),
        raw=np.zeros((*hwin, 3), np.float32),  # garment layers before shading
        shade_all=np.ones(hwin, np.float32),
        gx=gx,
        gy=gy,
        w_top=np.zeros(hwin, np.float32),  # weight of the top garment layer in the final colour
        inside_top=np.zeros(hwin, bool),
    )


def _paint_back_layers(cv: _Canvas, p: _PersonSdfs, skin, hair_rgb, lower_rgb, sk_shade) -> None:
    """Hair behind the body, legs, torso skin (the bodysuit in the contour image), neck, lower garment."""
    cv.put(_cov(p.hair_back), hair_rgb, CIHP.HAIR, hair_rgb)
    for i, d in enumerate(p.legs):
        lab = CIHP.LEFT_LEG if i == 1 else CIHP.RIGHT_LEG  # image right = the person's left
        cv.put(_cov(d), skin, lab, BODYSUIT_RGB, shade=sk_shade)
    cv.put(_cov(p.torso), skin, CIHP.TORSO_SKIN, BODYSUIT_RGB, shade=sk_shade)
    cv.put(_cov(p.neck), skin, CIHP.TORSO_SKIN, skin, shade=sk_shade)
    cv.put(_cov(p.lower), lower_rgb * p.lower_shade[..., None], p.lower_label)


def _paint_torso_garment(cv: _Canvas, tm: _TorsoMap, raw_t: np.ndarray, shade_t: np.ndarray) -> None:
    """The worn torso panel (sampled colour ``raw_t`` times ``shade_t``) on its rows; it becomes the top
    garment layer (weights, footprint, backward map, shading)."""
    gsl = tm.rows
    a = tm.alpha
    a3 = a[..., None]
    cv.img[gsl] = cv.img[gsl] * (1 - a3) + (raw_t * shade_t[..., None]) * a3
    cv.raw[gsl] = cv.raw[gsl] * (1 - a3) + raw_t * a3
    cv.parse[gsl][a > 0.5] = CIHP.UPPER_CLOTHES
    cv.w_top[:] = 0.0
    cv.w_top[gsl] = a
    cv.inside_top[gsl] = tm.inside
    cv.shade_all[gsl] = np.where(a > 0.5, shade_t, cv.shade_all[gsl])


def _paint_sleeve(cv: _Canvas, sm: _SleeveMap, flat_t: torch.Tensor, phase: float) -> None:
    """One worn sleeve over its arm: the flat garment sampled at the sleeve's map, times its shading
    (darker towards the sides, faint folds along it); where it covers, it is the top garment layer."""
    sub = sm.sub
    sraw = _sample_rgb(flat_t, sm.gx, sm.gy)
    sfold = (
        1.0 - 0.22 * np.clip(np.abs(sm.across), 0, 1) ** 3 + 0.04 * np.sin(2 * np.pi * sm.t / 0.06 + phase)
    )
    a3 = sm.alpha[..., None]
    cv.img[sub] = cv.img[sub] * (1 - a3) + sraw * sfold[..., None] * a3
    cv.raw[sub] = cv.raw[sub] * (1 - a3) + sraw * a3
    top = sm.alpha > 0.5
    cv.parse[sub][top] = CIHP.UPPER_CLOTHES
    cv.w_top[sub] = np.where(top, sm.alpha, cv.w_top[sub] * (1 - sm.alpha))
    cv.inside_top[sub] = np.where(top, sm.inside, cv.inside_top[sub])
    cv.gx[sub] = np.where(top, sm.gx, cv.gx[sub])
    cv.gy[sub] = np.where(top, sm.gy, cv.gy[sub])
    cv.shade_all[sub] = np.where(top, sfold, cv.shade_all[sub])


def _paint_arms_and_sleeves(
    cv: _Canvas,
    p: _PersonSdfs,
    sleeves: list[_SleeveMap],
    flat_t: torch.Tensor,
    skin,
    sk_shade,
    ph: list[float],
) -> None:
    """Each arm, then its sleeve over it (when the garment has sleeves)."""
    for i, d in enumerate(p.arms):
        lab = CIHP.LEFT_ARM if i == 1 else CIHP.RIGHT_ARM
        cv.put(_cov(d), skin, lab, skin, shade=sk_shade)
        if sleeves:
            _paint_sleeve(cv, sleeves[i], flat_t, ph[i])


def _paint_head(
    cv: _Canvas, geo: _Geo, p: _PersonSdfs, skin, hair_rgb, X: np.ndarray, Y: np.ndarray, box: tuple
) -> None:
    """Face, eyes and mouth (all the face label), then the hair over the face."""
    wy0, wy1, wx0, wx1 = box
    hc, ax, ay = geo.head_c, geo.head_ax, geo.head_ay
    # face, eyes and mouth (all the face label), computed in a sub-window around the head
    h0 = max(0, int(hc[1] - 1.2 * ay) - 2 - wy0)
    h1 = max(h0 + 1, min(wy1 - wy0, int(hc[1] + 1.2 * ay) + 3 - wy0))
    c0 = max(0, int(hc[0] - 1.2 * ax) - 2 - wx0)
    c1 = max(c0 + 1, min(wx1 - wx0, int(hc[0] + 1.2 * ax) + 3 - wx0))
    hsl = (slice(h0, h1), slice(c0, c1))
    Xh, Yh, head_h = X[hsl], Y[hsl], p.head[hsl]
    face_col = skin * (0.9 + 0.1 * np.sqrt(np.clip(-head_h / (0.4 * ax), 0, 1)))[..., None]
    cv.put(_cov(head_h), face_col, CIHP.FACE, face_col, at=(h0, c0))
    eyes = np.minimum(
        _ellipse(Xh, Yh, (hc[0] - 0.38 * ax, hc[1] - 0.02 * ay), 0.1 * ax, 0.07 * ay),
        _ellipse(Xh, Yh, (hc[0] + 0.38 * ax, hc[1] - 0.02 * ay), 0.1 * ax, 0.07 * ay),
    )
    mouth = _ellipse(Xh, Yh, (hc[0], hc[1] + 0.5 * ay), 0.25 * ax, 0.06 * ay)
    eye_col = np.array([0.15, 0.1, 0.08], np.float32)
    mouth_col = skin * np.array([0.8, 0.55, 0.55], np.float32)
    cv.put(_cov(eyes * 2), eye_col, CIHP.FACE, eye_col, at=(h0, c0))
    cv.put(_cov(mouth * 2), mouth_col, CIHP.FACE, mouth_col, at=(h0, c0))
    cv.put(_cov(p.hair_front), hair_rgb, CIHP.HAIR, hair_rgb)


def _paste_into_frame(
    cv: _Canvas, bg_full: np.ndarray, box: tuple, Xf: np.ndarray, Yf: np.ndarray, S: int
) -> dict:
    """The painted window pasted into the S x S frame: "person", "contour", "parse", "worn_mask",
    "gt_grid", "flow_valid", "garment_raw", "shading" (the keys of :func:`render_sample`)."""
    wy0, wy1, wx0, wx1 = box
    worn_w = cv.parse == CIHP.UPPER_CLOTHES
    lim = 1.0 - 1.0 / S  # the bilinear footprint stays inside the flat image
    valid_w = worn_w & (cv.w_top >= 0.999) & cv.inside_top & (np.abs(cv.gx) < lim) & (np.abs(cv.gy) < lim)
    win = (slice(wy0, wy1), slice(wx0, wx1))
    person = bg_full.copy()
    person[win] = cv.img
    contour = np.broadcast_to(CONTOUR_BG_RGB, (S, S, 3)).copy()
    contour[win] = cv.cont
    parse_f = np.zeros((S, S), np.uint8)
    parse_f[win] = cv.parse
    worn = np.zeros((S, S), bool)
    worn[win] = worn_w
    valid = np.zeros((S, S), bool)
    valid[win] = valid_w
    raw_f = np.zeros((S, S, 3), np.float32)
    raw_f[win] = cv.raw
    shade_f = np.ones((S, S), np.float32)
    shade_f[win] = cv.shade_all
    # outside the window (no person there) the grid is the identity; it is meaningful inside flow_valid
    gt_grid = np.stack([2 * Xf / S - 1, 2 * Yf / S - 1]).astype(np.float32)  # [2, S, S] normalised, x first
    gt_grid[0][win] = cv.gx
    gt_grid[1][win] = cv.gy
    return {
        "person": np.clip(person, 0, 1).astype(np.float32),
        "contour": np.clip(contour, 0, 1).astype(np.float32),
        "parse": parse_f,
        "worn_mask": worn,
        "gt_grid": gt_grid,
        "flow_valid": valid,
        "garment_raw": raw_f,
        "shading": shade_f,
    }


def _silhouette_measures(p: _PersonSdfs, body_union: np.ndarray, geo: _Geo, wy0: int, wy1: int) -> dict:
    """Silhouette measurements (px): torso+legs+head without arms, for the shape tests."""
    y, r = geo.y, geo.r
    no_arms = np.minimum(np.minimum(p.torso_full, p.head), np.minimum(*p.legs)) < 0
    with_arms = body_union < 0

    def width_at(yy):
        row = no_arms[int(np.clip(yy - wy0, 0, wy1 - wy0 - 1))]
        idx = np.flatnonzero(row)
        return float(idx[-1] - idx[0] + 1) if len(idx) else 0.0

    return {
        "shoulder_w": width_at(y["shoulder"] + 0.5 * r["upper_arm"]),
        "bust_w": width_at(y["bust"]),
        "waist_w": width_at(y["waist"]),
        "hip_w": width_at(y["hip"]),
        "area": float(with_arms.sum()),
        "area_soft": float(_cov(body_union).sum()),
        "head_top_y": float(y["head_top"]),
    }


# ------------------------------------------------------------------------------------------------
# Rendering a sample
# ------------------------------------------------------------------------------------------------
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
    g = garment
    geo = body_geometry(body, S)
    # everything is computed inside the person's bounding window, then pasted into the frame
    box = _window(geo, S)
    wy0, wy1, wx0, wx1 = box
    Xf, Yf = _grid(S)
    X, Y = Xf[wy0:wy1, wx0:wx1], Yf[wy0:wy1, wx0:wx1]
    hwin = (wy1 - wy0, wx1 - wx0)
    if flat is None:
        flat = render_flat_garment(g, S)
    flat_rgb, flat_cov = flat
    flat_t = torch.from_numpy(np.ascontiguousarray(flat_rgb.transpose(2, 0, 1)))[None]  # [1, 3, S, S]
    skin = np.array(body.skin, dtype=np.float32)
    hair_rgb = np.array(body.hair_rgb, dtype=np.float32)
    lower_rgb = np.array(body.lower_rgb, dtype=np.float32)

    p = _person_sdfs(body, geo, X, Y, S)
    tm = _torso_map(geo, g, X, Y, wy0, wy1, S)
    # sleeves (computed in a sub-window around each arm)
    sleeves = []
    if g.sleeve_len > 0:
        sleeves = [_sleeve_map(g, geo, i, side, tm.sv, X, Y, wy0, wx0, S) for i, side in enumerate((-1, 1))]
    # sample the flat garment (the worn colour before shading), then its shading
    raw_t = _sample_rgb(flat_t, tm.gx, tm.gy)
    shade_t = _torso_shading(geo, tm, X, Y, S)

    # compose (painter's algorithm, back to front)
    bg_full = _background(body, S)
    cv = _new_canvas(bg_full[wy0:wy1, wx0:wx1].copy(), hwin, X, Y, tm, S)
    body_union = _body_union(p)
    sk_shade = _skin_shade(body_union, 0.05 * S)[..., None]
    _paint_back_layers(cv, p, skin, hair_rgb, lower_rgb, sk_shade)
    _paint_torso_garment(cv, tm, raw_t, shade_t)
    _paint_arms_and_sleeves(cv, p, sleeves, flat_t, skin, sk_shade, tm.ph)
    _paint_head(cv, geo, p, skin, hair_rgb, X, Y, box)
    frame = _paste_into_frame(cv, bg_full, box, Xf, Yf, S)
    return {
        "person": frame["person"],
        "contour": frame["contour"],
        "garment": flat_rgb,
        "garment_cov": flat_cov,
        "parse": frame["parse"],
        "worn_mask": frame["worn_mask"],
        "gt_grid": frame["gt_grid"],
        "flow_valid": frame["flow_valid"],
        "garment_raw": frame["garment_raw"],
        "shading": frame["shading"],
        "measure": _silhouette_measures(p, body_union, geo, wy0, wy1),
    }
