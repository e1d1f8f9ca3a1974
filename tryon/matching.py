"""Global matching (METHOD.md step 4, patent [0151]-[0163]): correlation -> softmax -> M x grid.

For person (contour) features ``T1`` ``[B, C, h, w]`` and garment features ``C1`` ``[B, C, hg, wg]``:

* correlation ``S = T1 C1^T / sqrt(C) / temperature``  ``[B, h*w, hg*wg]`` (one value per pair of
  positions, [0151]-[0155]);
* association ``M = softmax(S)`` over the garment positions (last axis, [0156]-[0157]);
* warped grid ``G' = M G`` ``[B, h*w, 2]`` where ``G`` ``[hg*wg, 2]`` is the standard grid of garment
  positions ([0160]-[0163]) - a soft-argmax: every person position gets the M-weighted mean garment
  coordinate. Returned as ``[B, 2, h, w]``, normalised ``[-1, 1]``, ``align_corners=False``, x first
  (see :mod:`tryon.geometry`), so it indexes the garment image at *any* resolution.

``M G`` is attention with the coordinates as values, ``softmax(Q K^T * scale) V`` with ``V = G``. Three
implementations, selected by name, agree to ~1e-6 in float32:

``"naive"``
    materialises ``S`` and ``M`` (``B * N * Ng`` floats; 128x96 features, batch 2: 1.2 GB each) and can
    return ``M`` for visualising its rows.
``"fused"`` (default)
    :func:`torch.nn.functional.scaled_dot_product_attention`, never storing ``M``. On CPU the fused
    (flash) kernel engages only when the value has the same head dim as q/k; with a 2-wide value it
    silently falls back to a path that stores ``M`` (FINDINGS.md). We therefore zero-pad ``G`` to ``C``
    channels and keep the first two output channels.
``"chunked"``
    a loop over blocks of query rows, each block recomputed in the backward pass
    (``torch.utils.checkpoint``), so memory is ``O(chunk * Ng)``. A fallback where SDPA is unavailable.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from tryon.geometry import identity_grid

MatchingMode = Literal["fused", "naive", "chunked"]
MODES: tuple[str, ...] = ("fused", "naive", "chunked")

__all__ = [
    "MODES",
    "MatchingMode",
    "correlation",
    "global_matching",
    "matching_rows",
    "soft_argmax",
]


def _flatten(feat: torch.Tensor, name: str) -> torch.Tensor:
    if feat.dim() != 4:
        raise ValueError(f"{name}: expected features [B, C, H, W], got shape {tuple(feat.shape)}")
    return feat.flatten(2).transpose(1, 2)  # [B, C, H, W] -> [B, H*W, C]


def _scale(channels: int, temperature: float) -> float:
    if not temperature > 0:
        raise ValueError(f"matching: temperature must be > 0, got {temperature}")
    return 1.0 / (math.sqrt(channels) * temperature)


def _garment_grid(feat_garment: torch.Tensor) -> torch.Tensor:
    """Standard grid G of the garment feature positions: ``[B, Ng, 2]`` normalised, x first."""
    b, _, hg, wg = feat_garment.shape
    g = identity_grid(b, hg, wg, device=feat_garment.device, dtype=feat_garment.dtype)  # [B, 2, hg, wg]
    return g.flatten(2).transpose(1, 2)  # [B, hg*wg, 2]


def correlation(
    feat_person: torch.Tensor, feat_garment: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """``S = T1 C1^T / sqrt(C) / temperature``: ``[B, h*w, hg*wg]`` (person rows, garment columns)."""
    q = _flatten(feat_person, "feat_person")  # [B, N, C]
    k = _flatten(feat_garment, "feat_garment")  # [B, Ng, C]
    return torch.bmm(q, k.transpose(1, 2)) * _scale(q.shape[-1], temperature)  # [B, N, Ng]


def _naive(
    q: torch.Tensor, k: torch.Tensor, g: torch.Tensor, scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    s = torch.bmm(q, k.transpose(1, 2)) * scale  # [B, N, Ng]
    m = torch.softmax(s, dim=-1)  # [B, N, Ng], rows sum to 1
    return torch.bmm(m, g), m  # [B, N, 2], [B, N, Ng]


def _fused(q: torch.Tensor, k: torch.Tensor, g: torch.Tensor, scale: float) -> torch.Tensor:
    c = q.shape[-1]
    # the CPU flash kernel also needs a unit stride on the last dim (our [B, N, C] views are transposed)
    q, k = q.contiguous(), k.contiguous()
    # zero-pad the 2-wide value to the q/k head dim so the memory-efficient kernel is used (FINDINGS.md)
    v = F.pad(g, (0, max(c - 2, 0)))  # [B, Ng, max(C, 2)]
    if c < 2:  # degenerate 1-channel features: pad q/k instead (zeros do not change the dot products)
        q, k = F.pad(q, (0, 2 - c)), F.pad(k, (0, 2 - c))
    out = F.scaled_dot_product_attention(
        q[:, None], k[:, None], v[:, None], scale=scale
    )  # one head: [B, 1, N, C] -> [B, 1, N, C]
    return out[:, 0, :, :2]  # [B, N, 2]


def _chunk_block(q_blk: torch.Tensor, k: torch.Tensor, g: torch.Tensor, scale: float) -> torch.Tensor:
    s = torch.bmm(q_blk, k.transpose(1, 2)) * scale  # [B, n, Ng]
    return torch.bmm(torch.softmax(s, dim=-1), g)  # [B, n, 2]


def _chunked(
    q: torch.Tensor, k: torch.Tensor, g: torch.Tensor, scale: float, chunk_size: int
) -> torch.Tensor:
    if chunk_size < 1:
        raise ValueError(f"matching: chunk_size must be >= 1, got {chunk_size}")
    need_grad = torch.is_grad_enabled() and (q.requires_grad or k.requires_grad)
    outs = []
    for start in range(0, q.shape[1], chunk_size):
        q_blk = q[:, start : start + chunk_size]  # [B, n, C]
        if need_grad:  # recompute the block's matrix in backward instead of keeping it
            outs.append(checkpoint(_chunk_block, q_blk, k, g, scale, use_reentrant=False))
        else:
            outs.append(_chunk_block(q_blk, k, g, scale))
    return torch.cat(outs, dim=1)  # [B, N, 2]


def global_matching(
    feat_person: torch.Tensor,
    feat_garment: torch.Tensor,
    *,
    temperature: float = 1.0,
    mode: MatchingMode = "fused",
    return_matrix: bool = False,
    chunk_size: int = 1024,
) -> dict[str, torch.Tensor]:
    """Warped grid ``G' = softmax(T1 C1^T / sqrt(C) / temperature) G`` from two feature maps.

    Args:
        feat_person: ``T1`` ``[B, C, h, w]`` (contour / person stream).
        feat_garment: ``C1`` ``[B, C, hg, wg]`` (garment stream; may differ in size from ``T1``).
        temperature: divides the correlation (lower = sharper M).
        mode: ``"fused"`` | ``"naive"`` | ``"chunked"`` (see module docstring).
        return_matrix: also return ``M`` ``[B, h*w, hg*wg]`` (naive only; for visualising rows).
        chunk_size: query rows per block in ``"chunked"`` mode.

    Returns:
        ``{"grid": [B, 2, h, w]}`` normalised garment coordinates (x first, ``align_corners=False``),
        plus ``"matrix"`` when asked.
    """
    if mode not in MODES:
        raise ValueError(f"matching: mode must be one of {list(MODES)}, got {mode!r}")
    if return_matrix and mode != "naive":
        raise ValueError(f"matching: return_matrix needs mode='naive' (the {mode} path never stores M)")
    if feat_person.shape[:2] != feat_garment.shape[:2]:
        raise ValueError(
            "matching: person and garment features must share batch and channels, got "
            f"{tuple(feat_person.shape)} and {tuple(feat_garment.shape)}"
        )
    b, c, h, w = feat_person.shape
    q = _flatten(feat_person, "feat_person")  # [B, N, C], N = h*w
    k = _flatten(feat_garment, "feat_garment")  # [B, Ng, C], Ng = hg*wg
    g = _garment_grid(feat_garment)  # [B, Ng, 2]
    scale = _scale(c, temperature)
    out: dict[str, torch.Tensor] = {}
    if mode == "naive":
        flat, m = _naive(q, k, g, scale)
        if return_matrix:
            out["matrix"] = m
    elif mode == "fused":
        flat = _fused(q, k, g, scale)
    else:
        flat = _chunked(q, k, g, scale, chunk_size)
    out["grid"] = flat.transpose(1, 2).reshape(b, 2, h, w)  # [B, N, 2] -> [B, 2, h, w]
    return out


def matching_rows(
    feat_person: torch.Tensor,
    feat_garment: torch.Tensor,
    query_xy: torch.Tensor,
    *,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Rows of ``M`` for a few person positions only (cheap, for figures).

    Args:
        feat_person: ``[B, C, h, w]``; feat_garment: ``[B, C, hg, wg]``.
        query_xy: ``[B, Q, 2]`` integer pixel positions (x, y) on the person feature map.

    Returns:
        ``[B, Q, hg, wg]``: each map is one row of ``M`` (non-negative, sums to 1).
    """
    b, c, h, w = feat_person.shape
    hg, wg = feat_garment.shape[-2:]
    qx = query_xy[..., 0].long().clamp(0, w - 1)
    qy = query_xy[..., 1].long().clamp(0, h - 1)
    idx = (qy * w + qx)[..., None].expand(-1, -1, c)  # [B, Q, C]
    q = torch.gather(_flatten(feat_person, "feat_person"), 1, idx)  # [B, Q, C]
    k = _flatten(feat_garment, "feat_garment")  # [B, Ng, C]
    m = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * _scale(c, temperature), dim=-1)  # [B, Q, Ng]
    return m.reshape(b, -1, hg, wg)  # [B, Q, hg, wg]


def soft_argmax(rows: torch.Tensor) -> torch.Tensor:
    """Expected normalised position of probability maps ``[B, Q, hg, wg]`` -> ``[B, Q, 2]`` (x first)."""
    b, q, hg, wg = rows.shape
    g = identity_grid(1, hg, wg, device=rows.device, dtype=rows.dtype)[0].flatten(1)  # [2, hg*wg]
    return torch.einsum("bqn,cn->bqc", rows.reshape(b, q, hg * wg), g)  # [B, Q, 2]
