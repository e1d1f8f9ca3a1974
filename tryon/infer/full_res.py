"""The try-on at the person photo's own resolution (the ``trunk_compose`` fusion's output, composed
full size instead of upsampled from the network's working size).

The networks run at the working size S (128 px by default). What they decide is resolution-free: the
sampling grid (for every person pixel, its normalised position in the flat garment), the composition
gate and the painted image. So the grid is upsampled to the padded person photo
(:func:`tryon.geometry.upsample_grid`: its displacement from the identity, bilinear, so the identity
stays the identity and a shift stays a shift) and the **original garment photo** is sampled
there (prints, logos and stripes keep their detail); the garment mask is warped the same way; the
kept region (:func:`tryon.data.labels.keep_mask`: trunk and background) comes from the parse map at
full size; only the painted image (new skin, shading) is upsampled, plus, inside the garment, the
warped print's detail above the working size (:func:`garment_detail`; ``detail=False`` leaves it out).
Then :func:`tryon.nets.fusion.compose`, the same formula as in training (with the fusion's keep rule:
a kept pixel gives way to the placed garment only, or, for checkpoints before commit 74a82c1, wherever
the warped mask lands; and, since commit 7f1610f, a kept pixel decided by the gate at the photo's size:
the garment or the photo, not a translucent mix), makes the image.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data import labels, preprocess
from tryon.geometry import erode, grid_into_mask, upsample_grid, warp
from tryon.nets.fusion import compose, kept_alpha, ramp


def warp_full_resolution(
    grid: torch.Tensor, pad, size: tuple[int, int], garment: np.ndarray, garment_mask: np.ndarray
) -> dict[str, torch.Tensor]:
    """Sample the garment photo at its own resolution by a working-size grid.

    ``grid`` [1, 2, S, S]: for every pixel of the padded person square, its normalised (x, y) in the
    padded garment square (``align_corners=False``); ``pad``: the person photo's pad box
    (:func:`tryon.data.preprocess.square`); ``size``: the person photo's (H, W); ``garment`` uint8
    [h, w, 3] and ``garment_mask`` bool [h, w] at their own size. Returns ``warped`` [1, 3, H, W] in
    [-1, 1] and ``warped_mask`` [1, 1, H, W] in [0, 1]."""
    h, w = size
    left, top = int(pad[0]), int(pad[1])
    side = max(h, w)  # the padded square the network saw, at the photo's resolution
    full = upsample_grid(grid.float().cpu(), (side, side))  # the identity stays the identity
    full = full[..., top : top + h, left : left + w]  # [1, 2, H, W], normalised garment coordinates
    g_sq, _ = preprocess.pad_to_square(garment, 0)  # the garment's own square: same normalised frame
    m_sq, _ = preprocess.pad_to_square(garment_mask.astype(np.uint8), 0)
    g_sq = preprocess.rgb_to_tensor(g_sq)[None]  # [1, 3, L, L]
    m_sq = torch.from_numpy(m_sq.astype(np.float32))[None, None]  # [1, 1, L, L]
    return {
        "warped": warp(g_sq, full),  # [1, 3, H, W]
        "warped_mask": warp(m_sq, full),  # [1, 1, H, W]
        "grid": full,
        "garment": g_sq,
        "garment_mask": m_sq,
    }


def fill_full_resolution(wf: dict, working_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fill source (:func:`tryon.nets.model.fill_source`) at the photo's size: the garment photo
    sampled where the full-resolution grid, moved into the garment mask eroded by one working-size pixel,
    points (``wf``: :func:`warp_full_resolution`'s output). The mask, its erosion and its nearest-pixel
    map are computed at twice the working size (``working_size``; at the photo's size they cost 0.2 s a
    try-on), the garment is sampled at its own resolution. Returns ``filled`` [1, 3, H, W] and the fill
    cover [1, 1, 1, 1] (0 when the erosion empties the mask)."""
    side = wf["garment_mask"].shape[-1]
    n = min(side, 2 * working_size)
    mask = F.interpolate(wf["garment_mask"], size=(n, n), mode="nearest") if n < side else wf["garment_mask"]
    core = erode(mask, max(1, round(n / working_size)))
    # moved by whole pixels of that map, each position keeps its phase: the print is continued, not
    # streaked (real dev: sharpness 0.814 -> 0.848, garment error 0.082 either way)
    filled = warp(wf["garment"], grid_into_mask(wf["grid"], core, keep_phase=True))
    return filled, (core.amax() >= 0.5).float().view(1, 1, 1, 1)


def garment_detail(low: torch.Tensor, low_mask: torch.Tensor, full: dict, cell: float) -> torch.Tensor:
    """The warped garment's detail above the working size: the full-resolution warped garment minus the
    working-size one upsampled (``low`` [1, 3, H, W], its mask ``low_mask`` [1, 1, H, W]), on the pixels
    both warps cover (``full``: :func:`warp_full_resolution`'s ``warped`` and ``warped_mask``) less a band
    of half a working-size pixel (``cell``: its side in full-resolution pixels) along their edge, where
    the two warps' garment borders disagree by construction. Added to the upsampled painted image, it
    gives the painted share of the garment (``1 - gate`` inside the warped mask) the print's detail the
    working-size U-Net cannot paint; at the working size it is zero. Chosen on the real dev pairs
    (README: the full-resolution detail)."""
    cover = erode(full["warped_mask"] * low_mask.clamp(0, 1), round(cell / 2))
    return cover * (full["warped"] - low)


#: the colour of each source in :func:`sources_rgb` (kept photo, warped garment, fill, painted)
SOURCE_COLOURS = {
    "kept": (200, 200, 200),
    "warped": (40, 170, 60),
    "filled": (50, 110, 230),
    "painted": (225, 60, 50),
}


def sources_rgb(sources: torch.Tensor) -> np.ndarray:
    """What made each pixel of a try-on, as colours: ``sources`` [4, H, W], the weights of the kept photo,
    the warped garment, the fill and the painted image (:func:`full_resolution`; they sum to 1) ->
    uint8 [H, W, 3], each pixel the weighted mix of :data:`SOURCE_COLOURS`."""
    colours = torch.tensor(list(SOURCE_COLOURS.values()), dtype=torch.float32)  # [4, 3]
    rgb = torch.einsum("shw,sc->hwc", sources.float(), colours)
    return rgb.round().clamp(0, 255).to(torch.uint8).numpy()


def full_resolution(
    out: dict,
    pad,
    person: np.ndarray,
    parse: np.ndarray,
    garment: np.ndarray,
    garment_mask: np.ndarray,
    category: str = "upper_body",
    detail: bool = True,
    keep_rule: str = "warped_mask",
    kept_gate: float = 0.0,
    fill_ramp: float = 1.0,
) -> dict[str, torch.Tensor]:
    """``out``: the network's outputs for one pair at the working size (``grid`` [1, 2, S, S],
    ``gate`` and ``rendered``); ``pad``: the person photo's pad box (:func:`tryon.data.preprocess.square`).
    ``person`` uint8 [H, W, 3] with its CIHP ``parse`` [H, W]; ``garment`` uint8 [h, w, 3] with
    ``garment_mask`` bool [h, w], at their own sizes; ``keep_rule``: the fusion's
    (:func:`tryon.nets.fusion.compose`'s ``rule``); ``kept_gate`` (> 0, ``garment`` rule): a kept
    pixel is the placed garment where the gate, upsampled to the photo's size, is above it, and the
    photo elsewhere (:func:`tryon.nets.fusion.kept_alpha`; the edge is decided at full resolution);
    ``fill_ramp`` (< 1): the fill gate, upsampled, made steeper (:func:`tryon.nets.fusion.ramp`; 0 decides
    it: the garment's texture or the painted image, not a lighter mix of both).
    Returns ``tryon``, ``warped`` [3, H, W] in
    [-1, 1] and ``warped_mask``, ``keep`` [1, H, W] in [0, 1], and ``sources`` [4, H, W]: the weight of
    the kept photo, the warped garment, the fill and the painted image in each pixel (sum 1)."""
    h, w = person.shape[:2]

    def up(x: torch.Tensor) -> torch.Tensor:  # [1, C, S, S] -> [1, C, H, W], the photo's own grid
        return preprocess.unpad(x.float().cpu(), pad, (w, h))

    wf = warp_full_resolution(out["grid"], pad, (h, w), garment, garment_mask)
    protect = torch.from_numpy(labels.protect_mask(parse, category).astype(np.float32))[None, None]
    wf["warped_mask"] = wf["warped_mask"] * (1 - protect)  # the garment never lands there
    keep_region = torch.from_numpy(labels.keep_mask(parse, category).astype(np.float32))[None, None]
    rendered = up(out["rendered"])
    if detail:
        cell = max(h, w) / out["grid"].shape[-1]  # one working-size pixel, in photo pixels
        rendered = rendered + garment_detail(up(out["warped"]), up(out["warped_mask"]), wf, cell)
    beta = filled = None
    if "fill_gate" in out:  # the fill source, at the photo's size too
        filled, has_core = fill_full_resolution(wf, out["grid"].shape[-1])
        fill_gate = ramp(up(out["fill_gate"]).clamp(0, 1), fill_ramp)
        beta = fill_gate * (1 - wf["warped_mask"]) * (1 - protect) * has_core
    gate = up(out["gate"]).clamp(0, 1)
    alpha = gate * wf["warped_mask"]
    kept = (
        kept_alpha(gate, wf["warped_mask"], kept_gate) if kept_gate > 0 and keep_rule == "garment" else None
    )
    fused = compose(
        rendered,
        alpha,
        wf["warped"],
        wf["warped_mask"],
        preprocess.rgb_to_tensor(person)[None],
        keep_region,
        beta,
        filled,
        rule=keep_rule,
        kept=kept,
    )
    return {
        "tryon": fused["tryon"][0],
        "warped": wf["warped"][0],
        "warped_mask": wf["warped_mask"][0],
        "keep": fused["keep"][0],
        "sources": fused["sources"][0],
    }
