"""The worn garment: known backward maps G (person pixel -> flat garment point) of the torso panel and
the sleeves, and the garment's shading on the body (steps of :func:`tryon.data.synthetic.render_sample`).

- torso panel (:func:`_torso_map`): v is linear in y (shoulder top -> hem, scaled by the body's torso
  length); u stretches the flat panel's half-width hw_f(v) onto the worn half-width W(y) =
  smooth_max(body_hw(y) + ease, scale * hw_f(v)) (ease over bust/waist/hips: tight on heavy bodies, loose
  on thin ones), plus a known smooth low-frequency wrinkle displacement;
- sleeves (:func:`_sleeve_map`): arc length along the arm (shoulder -> elbow -> wrist) and signed
  distance across it map to the flat sleeve's axis and width.

Flat coordinates are fractions of the flat image size S (u from the centre line); maps are returned
normalised to [-1, 1] (x first, align_corners=False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tryon.data.synthetic.body import _Geo, _torso_hw_rows
from tryon.data.synthetic.garment import (
    Garment,
    _panel_hw,
    _panel_sdf,
    _sleeve_frame,
    _sleeve_sdf_local,
    _sleeve_w0,
)
from tryon.data.synthetic.primitives import _cov, _smax


@dataclass
class _TorsoMap:
    """The torso panel's backward map G_torso on the window rows ``rows`` that the panel can reach
    (arrays are [rows, w]; flat coordinates in fractions of S, u from the centre line)."""

    rows: tuple[slice, slice]  # the window rows the panel can reach (shoulder top .. hem, with a margin)
    top_y: float  # image y of the panel's top edge
    torso_len_px: float  # panel top -> crotch (px)
    sv: float  # person px per flat unit
    ph: list[float]  # wrinkle and fold phases, drawn from the garment's seed
    W: np.ndarray  # worn half-width (px)
    body_hw: np.ndarray  # body half-width (px)
    alpha: np.ndarray  # coverage of the worn panel
    gx: np.ndarray  # G normalised, x
    gy: np.ndarray  # G normalised, y
    inside: np.ndarray  # the flat footprint is fully inside the panel


def _torso_map(geo: _Geo, g: Garment, X: np.ndarray, Y: np.ndarray, wy0: int, wy1: int, S: int) -> _TorsoMap:
    """Torso garment backward map G_torso (see the module docstring): v linear in y, u stretched from the
    flat half-width onto the worn half-width, plus the known wrinkle displacement. Draws the wrinkle and
    fold phases (``ph``, used again by the shading) from a generator seeded by the garment's seed."""
    y, r = geo.y, geo.r
    # ---- torso garment backward map G_torso (flat coords, fractions of S; u from the centre line) ----
    top_y = y["shoulder"] - 0.2 * r["upper_arm"]
    torso_len_px = y["crotch"] - top_y
    sv = torso_len_px / g.ref_len  # person px per flat unit (a flat length ref_len spans shoulder -> crotch)
    # rows of the window that the torso panel can reach (shoulder top .. hem, with a margin)
    r0 = max(0, int(top_y - 0.03 * S) - 2 - wy0)
    r1 = min(wy1 - wy0, int(top_y + (g.bottom - g.top + 0.03) * sv + 0.03 * S) + 2 - wy0)
    r1 = max(r1, r0 + 1)
    gsl = (slice(r0, r1), slice(None))
    X, Y = X[gsl], Y[gsl]
    v = g.top + (Y - top_y) / sv
    wr = g.tex_params["seed"]
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
    return _TorsoMap(
        rows=gsl,
        top_y=top_y,
        torso_len_px=torso_len_px,
        sv=sv,
        ph=ph,
        W=W,
        body_hw=body_hw,
        alpha=torso_a,
        gx=gx_t,
        gy=gy_t,
        inside=torso_inside,
    )


class _SleeveMap(NamedTuple):
    """One worn sleeve's backward map on the sub-window ``sub`` of the person window."""

    sub: tuple[slice, slice]
    alpha: np.ndarray  # coverage of the worn sleeve
    gx: np.ndarray  # G normalised, x
    gy: np.ndarray  # G normalised, y
    inside: np.ndarray  # the flat footprint is fully inside the sleeve
    across: np.ndarray  # signed distance across the arm / worn half-width
    t: np.ndarray  # flat distance along the sleeve axis (fraction of S)


def _sleeve_map(
    g: Garment,
    geo: _Geo,
    i: int,
    side: int,
    sv: float,
    X: np.ndarray,
    Y: np.ndarray,
    wy0: int,
    wx0: int,
    S: int,
) -> _SleeveMap:
    """Backward map of sleeve ``i`` (side -1 image left, +1 image right), computed in a sub-window around
    the arm: arc length along the arm (shoulder -> elbow -> wrist) and signed distance across it map to
    the flat sleeve's axis and width."""
    r = geo.r
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
    return _SleeveMap(sub, sl_a, 2 * (su + 0.5) - 1, 2 * svv - 1, inside, across / w_worn, t_f)


def _torso_shading(geo: _Geo, tm: _TorsoMap, X: np.ndarray, Y: np.ndarray, S: int) -> np.ndarray:
    """Multiplicative shading of the worn torso panel on its rows: vertical-ish folds on loose garments,
    cylinder shading towards the sides, slightly darker towards the hem."""
    # folds: vertical-ish folds on loose garments, cylinder shading towards the sides
    X, Y = X[tm.rows], Y[tm.rows]
    ph, W = tm.ph, tm.W
    loose = np.clip((W - tm.body_hw) / (0.04 * S), 0.2, 1.0)
    fold = (
        0.035
        * loose
        * np.sin(
            2 * np.pi * (X - geo.cx) / (0.08 * S) + 2 * np.sin(2 * np.pi * Y / (0.2 * S) + ph[2]) + ph[3]
        )
    )
    cyl = np.clip(np.abs(X - geo.cx) / W, 0, 1)
    return (1.0 - 0.25 * cyl**4 + fold) * (1.0 - 0.06 * (Y - tm.top_y) / tm.torso_len_px)
