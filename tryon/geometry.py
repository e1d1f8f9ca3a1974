"""Coordinate grids, flows and warping: pure, device-agnostic tensor functions.

Conventions used everywhere in the project (see CONVENTIONS.md, habit 5):

* Coordinates are **x first**: channel 0 is x (column), channel 1 is y (row).
* A *pixel* coordinate of an ``H x W`` image puts pixel centre ``(i, j)`` (column i, row j) at
  ``(x, y) = (i, j)``; the image covers ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``.
* A *normalised* coordinate uses ``align_corners=False``: pixel centre ``i`` of ``W`` maps to
  ``(2 i + 1) / W - 1``; the image edges are at -1 and +1. This is what
  :func:`torch.nn.functional.grid_sample` reads with ``align_corners=False``.
* A *grid* ``[B, 2, H, W]`` holds, for every target pixel, the normalised position in the source image
  to sample (it is channel-first; ``grid_sample`` wants ``[B, H, W, 2]``, see :func:`warp`).
* A *flow* ``[B, 2, H, W]`` is a displacement in **pixels** of the same resolution as the target:
  ``source_pixel = target_pixel + flow`` (source and target have the same size).

Nothing here moves tensors between devices: every output lives on the input's device and dtype.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "coords_grid",
    "normalize_coords",
    "denormalize_coords",
    "identity_grid",
    "flow_to_grid",
    "grid_to_flow",
    "warp",
    "upsample_grid",
    "upsample_flow",
    "convex_upsample_grid",
    "grid_pixel_distance",
    "erode",
    "nearest_inside",
    "grid_into_mask",
]


def coords_grid(
    batch: int,
    height: int,
    width: int,
    *,
    normalized: bool = False,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Coordinates of every pixel centre, x first.

    Returns ``[B, 2, H, W]``: channel 0 = x, channel 1 = y. In pixels (``0 .. W-1``, ``0 .. H-1``) or,
    with ``normalized=True``, in ``[-1, 1]`` with ``align_corners=False`` (``(2 i + 1) / W - 1``).
    """
    if batch < 1 or height < 1 or width < 1:
        raise ValueError(f"coords_grid: expected positive batch/height/width, got {batch}, {height}, {width}")
    ys = torch.arange(height, device=device, dtype=dtype)  # [H]
    xs = torch.arange(width, device=device, dtype=dtype)  # [W]
    if normalized:
        ys = (2 * ys + 1) / height - 1
        xs = (2 * xs + 1) / width - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # [H, W] each
    grid = torch.stack([gx, gy], dim=0)  # [2, H, W], x first
    return grid[None].expand(batch, 2, height, width).contiguous()  # [B, 2, H, W]


def identity_grid(batch: int, height: int, width: int, **kw) -> torch.Tensor:
    """The normalised grid that samples every pixel at itself: ``[B, 2, H, W]`` in ``(-1, 1)``."""
    return coords_grid(batch, height, width, normalized=True, **kw)


def _check_two_channels(name: str, t: torch.Tensor) -> None:
    if t.dim() != 4 or t.shape[1] != 2:
        raise ValueError(f"{name}: expected a [B, 2, H, W] tensor (x first), got shape {tuple(t.shape)}")


def normalize_coords(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pixel coordinates -> normalised ``[-1, 1]`` (``align_corners=False``) of an ``H x W`` image.

    ``pixels``: ``[B, 2, ...]`` x first. ``x_n = (2 x + 1) / W - 1``, ``y_n = (2 y + 1) / H - 1``.
    """
    x = (2 * pixels[:, 0] + 1) / width - 1
    y = (2 * pixels[:, 1] + 1) / height - 1
    return torch.stack([x, y], dim=1)


def denormalize_coords(normed: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`normalize_coords`: ``x = ((x_n + 1) W - 1) / 2`` (pixels of ``H x W``)."""
    x = ((normed[:, 0] + 1) * width - 1) / 2
    y = ((normed[:, 1] + 1) * height - 1) / 2
    return torch.stack([x, y], dim=1)


def flow_to_grid(flow: torch.Tensor) -> torch.Tensor:
    """Pixel flow ``[B, 2, H, W]`` (source = target + flow, same size) -> normalised grid ``[B, 2, H, W]``."""
    _check_two_channels("flow", flow)
    b, _, h, w = flow.shape
    pix = coords_grid(b, h, w, device=flow.device, dtype=flow.dtype) + flow  # [B, 2, H, W] pixels
    return normalize_coords(pix, h, w)


def grid_to_flow(grid: torch.Tensor, source_size: tuple[int, int] | None = None) -> torch.Tensor:
    """Normalised grid ``[B, 2, H, W]`` -> pixel flow ``[B, 2, H, W]``.

    ``source_size=(Hs, Ws)`` is the size of the sampled image (default: the grid's own ``H x W``); the
    flow is in pixels of that size, measured from each target pixel's centre mapped onto the source.
    """
    _check_two_channels("grid", grid)
    b, _, h, w = grid.shape
    hs, ws = source_size if source_size is not None else (h, w)
    # the target pixel centre expressed in source pixels (same normalised position)
    base = denormalize_coords(identity_grid(b, h, w, device=grid.device, dtype=grid.dtype), hs, ws)
    return denormalize_coords(grid, hs, ws) - base  # [B, 2, H, W] pixels of the source


def warp(
    image: torch.Tensor,
    grid: torch.Tensor,
    *,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Sample ``image`` ``[B, C, Hs, Ws]`` at the normalised ``grid`` ``[B, 2, H, W]`` -> ``[B, C, H, W]``.

    ``align_corners=False``; positions outside ``[-1, 1]`` read zeros (``padding_mode="zeros"``), so a
    warped mask is 0 where the grid leaves the source.
    """
    _check_two_channels("grid", grid)
    if image.dim() != 4 or image.shape[0] != grid.shape[0]:
        raise ValueError(
            f"warp: expected image [B, C, H, W] with the grid's batch {grid.shape[0]}, got {tuple(image.shape)}"
        )
    grid = grid.to(image.dtype)
    return F.grid_sample(
        image, grid.permute(0, 2, 3, 1), mode=mode, padding_mode=padding_mode, align_corners=False
    )  # grid [B, H, W, 2] -> out [B, C, H, W]


def upsample_grid(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample a low-resolution normalised grid ``[B, 2, h, w]`` to ``[B, 2, H, W]``.

    Normalised coordinates do not depend on resolution, but the grid's *sample positions* do: a plain
    bilinear resize of the grid values clamps at the borders and so does not keep the identity grid the
    identity. We resize the displacement ``grid - identity(h, w)`` (bilinear, align_corners=False) and
    add ``identity(H, W)``: the identity maps to the identity exactly and a constant shift stays constant.
    """
    _check_two_channels("grid", grid)
    b, _, h, w = grid.shape
    hh, ww = size
    if (h, w) == (hh, ww):
        return grid
    kw = dict(device=grid.device, dtype=grid.dtype)
    delta = grid - identity_grid(b, h, w, **kw)  # [B, 2, h, w] normalised displacement
    delta = F.interpolate(delta, size=(hh, ww), mode="bilinear", align_corners=False)  # [B, 2, H, W]
    return identity_grid(b, hh, ww, **kw) + delta


def convex_upsample_grid(grid: torch.Tensor, weights: torch.Tensor, factor: int) -> torch.Tensor:
    """Learned convex upsampling of a normalised grid (as in RAFT / GMFlow) by an integer ``factor``.

    Every full-resolution pixel takes a convex combination of the displacements ``grid - identity`` of
    the 3x3 low-resolution cells around its own cell, then adds its own identity position.

    Args:
        grid: ``[B, 2, h, w]`` normalised, x first.
        weights: ``[B, 9 * factor**2, h, w]`` logits (softmax over the 9 neighbours is taken here);
            channel ``k * factor**2 + i * factor + j`` weights neighbour ``k`` (row-major 3x3) for the
            sub-pixel at row ``i``, column ``j`` of the cell.

    Returns ``[B, 2, h * factor, w * factor]``. Uniform logits give a 3x3 box average of the
    displacement; the identity grid and constant shifts are preserved exactly for any weights.
    Borders replicate the edge cells.
    """
    _check_two_channels("grid", grid)
    b, _, h, w = grid.shape
    s = factor
    if weights.shape != (b, 9 * s * s, h, w):
        raise ValueError(
            f"convex_upsample_grid: weights must be [B, {9 * s * s}, {h}, {w}], got {tuple(weights.shape)}"
        )
    kw = dict(device=grid.device, dtype=grid.dtype)
    delta = grid - identity_grid(b, h, w, **kw)  # [B, 2, h, w]
    nb = F.unfold(F.pad(delta, (1, 1, 1, 1), mode="replicate"), 3)  # [B, 2*9, h*w]
    nb = nb.view(b, 2, 9, 1, 1, h, w)  # [B, 2, 9, 1, 1, h, w]
    wts = torch.softmax(weights.view(b, 1, 9, s, s, h, w), dim=2)  # [B, 1, 9, s, s, h, w]
    up = (wts * nb).sum(dim=2)  # [B, 2, s, s, h, w]
    up = up.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, h * s, w * s)  # [B, 2, h, s, w, s] -> [B, 2, H, W]
    return identity_grid(b, h * s, w * s, **kw) + up


def upsample_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample a pixel flow ``[B, 2, h, w]`` to ``[B, 2, H, W]``, rescaling x by ``W/w`` and y by ``H/h``."""
    _check_two_channels("flow", flow)
    h, w = flow.shape[-2:]
    hh, ww = size
    up = F.interpolate(flow, size=(hh, ww), mode="bilinear", align_corners=False)  # [B, 2, H, W]
    scale = torch.tensor([ww / w, hh / h], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
    return up * scale


def grid_pixel_distance(grid_a: torch.Tensor, grid_b: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Euclidean distance ``[B, 1, H, W]`` in pixels of a source of ``size=(Hs, Ws)`` between two grids.

    This is the end-point error of two flows expressed as grids on the same source image.
    """
    _check_two_channels("grid_a", grid_a)
    _check_two_channels("grid_b", grid_b)
    hs, ws = size
    scale = torch.tensor([ws / 2, hs / 2], device=grid_a.device, dtype=grid_a.dtype).view(1, 2, 1, 1)
    return ((grid_a - grid_b) * scale).norm(dim=1, keepdim=True)  # [B, 1, H, W]


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Square erosion of ``mask`` ``[B, 1, H, W]`` (values in [0, 1]) by ``radius`` pixels: the minimum
    over the ``(2 r + 1)``-wide square around each pixel, as two 1-D passes; outside the image counts as 1
    (an edge of the image is not an edge of the mask). ``radius`` 0 returns the mask."""
    for kernel in ((1, 2 * radius + 1), (2 * radius + 1, 1)) if radius > 0 else ():
        mask = -F.max_pool2d(-mask, kernel, stride=1, padding=(kernel[0] // 2, kernel[1] // 2))
    return mask


def nearest_inside(mask: torch.Tensor) -> torch.Tensor:
    """For every pixel of ``mask`` ``[B, 1, H, W]``, the normalised position ``[B, 2, H, W]`` (x first) of
    the nearest pixel where ``mask >= 0.5`` (its own position inside the mask, and everywhere for an
    empty mask). Jump flooding (log2 of the size passes of 8 neighbours, then one pass at step 1), in
    pure tensor ops on any device: always a mask pixel, the nearest one on all but a few per cent of the
    pixels, and there under a pixel farther (the tests compare it with an exact distance transform)."""
    b, _, h, w = mask.shape
    far = float(4 * max(h, w))  # a seed farther than any pixel
    pix = coords_grid(b, h, w, device=mask.device, dtype=torch.float32)  # [B, 2, H, W]
    seed = torch.where(mask >= 0.5, pix, torch.full_like(pix, far))
    steps, s = [], 1 << max(0, math.ceil(math.log2(max(h, w))) - 1)
    while s >= 1:
        steps.append(s)
        s //= 2
    for s in [*steps, 1]:
        padded = F.pad(seed, (s, s, s, s), value=far)
        best, best_d = seed, ((seed - pix) ** 2).sum(1, keepdim=True)
        for dy in (-s, 0, s):
            for dx in (-s, 0, s):
                cand = padded[..., s + dy : s + dy + h, s + dx : s + dx + w]  # seed of pixel + (dx, dy)
                d = ((cand - pix) ** 2).sum(1, keepdim=True)
                better = d < best_d
                best, best_d = torch.where(better, cand, best), torch.where(better, d, best_d)
        seed = best
    seed = torch.where(seed >= far, pix, seed)  # empty mask: every pixel its own
    return normalize_coords(seed, h, w).to(mask.dtype)


def grid_into_mask(
    grid: torch.Tensor, mask: torch.Tensor, near: torch.Tensor | None = None, keep_phase: bool = False
) -> torch.Tensor:
    """``grid`` ``[B, 2, H, W]`` with every position that samples outside ``mask`` (the source's
    ``[B, 1, Hs, Ws]``, in {0, 1}) moved to the nearest pixel inside it: a warp by the result reads the
    source's own content everywhere (for a garment: its texture where the warp missed the garment).
    ``near``: :func:`nearest_inside` of the mask, at any size (computed when ``None``). Positions inside
    keep their value and gradient; moved ones are constants. ``keep_phase``: a moved position keeps its
    offset from the centre of its pixel of ``near`` (it moves by whole pixels of that map), so a source
    finer than ``near`` is continued, not streaked; the mask must then be eroded by a pixel of ``near``
    for the moved positions to stay inside it."""
    _check_two_channels("grid", grid)
    near = nearest_inside(mask) if near is None else near
    # positions past the image read its border pixels (at exactly +-1 a nearest read falls outside)
    hs, ws = min(mask.shape[-2], near.shape[-2]), min(mask.shape[-1], near.shape[-1])
    lim = torch.tensor([1 - 1 / ws, 1 - 1 / hs], device=grid.device, dtype=grid.dtype).view(1, 2, 1, 1)
    g = torch.maximum(torch.minimum(grid.detach(), lim), -lim)
    inside = warp(mask.to(grid.dtype), g, mode="nearest") >= 0.5  # [B, 1, H, W]
    moved = warp(near.to(grid.dtype), g, mode="nearest")  # the centre of the nearest pixel inside
    if keep_phase:
        nh, nw = near.shape[-2:]
        p = denormalize_coords(g, nh, nw)  # pixels of the near map
        to_normalised = torch.tensor([2 / nw, 2 / nh], device=grid.device, dtype=grid.dtype).view(1, 2, 1, 1)
        moved = moved + (p - p.round()) * to_normalised  # the offset from the pixel's centre
    return torch.where(inside, grid, moved)
