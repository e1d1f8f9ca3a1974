"""Clothes warping network (patent [0133]-[0171], METHOD.md step 4).

contour image, garment (+ mask) --two-stream CNN--> second feature maps (1/stride)
    --transformer (self + cross attention)--> T1, C1
    --global matching: softmax(T1 C1^T / sqrt(d)) x standard grid--> low-res grid [B, 2, H/s, W/s]
    --upsample the grid (its displacement) to full resolution--> grid [B, 2, H, W]
      (bilinear, or learned convex combinations of the 3x3 neighbouring cells as in RAFT/GMFlow,
      whose weights come from T1: lets the garment boundary fall inside a 1/stride cell)
    --grid_sample of the full-resolution garment and mask--> warped garment, warped mask.

Grids are normalised garment coordinates, x first, ``align_corners=False`` (:mod:`tryon.geometry`).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn as nn

from tryon.geometry import convex_upsample_grid, upsample_grid, warp
from tryon.matching import MODES, MatchingMode, global_matching
from tryon.nets.features import TwoStreamFeatures
from tryon.nets.transformer import FeatureTransformer


class WarpNet(nn.Module):
    """Two-stream CNN + transformer + global matching + full-resolution warp.

    Args:
        feature_stride: 4 or 8 (matching resolution = input / stride).
        d_model: feature / token width.
        n_layers: transformer layers.
        n_heads: attention heads.
        matching: ``"fused"`` (default, memory linear in pixels) | ``"naive"`` | ``"chunked"``.
        base_channels: CNN stem width.
        temperature: divides the correlation before the softmax (fixed; the learnt LayerNorm gains set
            the effective sharpness).
        upsample: ``"bilinear"`` (of the displacement) or ``"convex"`` (learned, see module docstring).
    """

    def __init__(
        self,
        feature_stride: int = 8,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        matching: MatchingMode = "fused",
        base_channels: int = 32,
        temperature: float = 1.0,
        upsample: Literal["bilinear", "convex"] = "bilinear",
    ):
        super().__init__()
        if matching not in MODES:
            raise ValueError(f"WarpNet: matching must be one of {list(MODES)}, got {matching!r}")
        if upsample not in ("bilinear", "convex"):
            raise ValueError(f"WarpNet: upsample must be 'bilinear' or 'convex', got {upsample!r}")
        self.features = TwoStreamFeatures(d_model, feature_stride, base_channels, 3, 4)
        self.transformer = FeatureTransformer(d_model, n_heads, n_layers)
        self.feature_stride = feature_stride
        self.matching = matching
        self.temperature = temperature
        self.upsample = upsample
        if upsample == "convex":
            self.upsampler = nn.Sequential(
                nn.Conv2d(d_model, 2 * d_model, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(2 * d_model, 9 * feature_stride**2, 1),
            )  # [B, C, h, w] -> [B, 9 * s * s, h, w] logits

    def encode(self, contour: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor) -> dict:
        """First feature maps: ``{"contour": T1 [B, C, H/s, W/s], "garment": C1 [B, C, H/s, W/s]}``."""
        feats = self.features(contour, torch.cat([garment, garment_mask], dim=1))  # garment: [B, 4, H, W]
        return self.transformer(feats["contour"], feats["garment"])

    def forward(
        self,
        contour: torch.Tensor,
        garment: torch.Tensor,
        garment_mask: torch.Tensor,
        *,
        return_matrix: bool = False,
        matching: MatchingMode | None = None,
    ) -> dict[str, torch.Tensor]:
        """Warp the garment onto the person described by the contour image.

        Args:
            contour: ``[B, 3, H, W]`` in [-1, 1], the model contour image (person side).
            garment: ``[B, 3, H, W]`` in [-1, 1], the flat garment image.
            garment_mask: ``[B, 1, H, W]`` in {0, 1}.
            return_matrix: also return the association matrix ``M`` ``[B, h*w, h*w]`` (forces the naive
                path; for visualising its rows - memory quadratic in pixels).
            matching: override the constructor's matching implementation for this call.

        Returns:
            ``grid`` ``[B, 2, H, W]`` normalised garment coordinates per person pixel (full resolution),
            ``grid_lowres`` ``[B, 2, h, w]`` (``h = H / stride``), ``warped`` ``[B, 3, H, W]`` in [-1, 1]
            (zero where the grid leaves the garment), ``warped_mask`` ``[B, 1, H, W]`` in [0, 1],
            ``feat_contour`` / ``feat_garment`` (T1, C1 ``[B, C, h, w]``), and ``matrix`` when asked.
        """
        for name, t, ch in (
            ("contour", contour, 3),
            ("garment", garment, 3),
            ("garment_mask", garment_mask, 1),
        ):
            if t.dim() != 4 or t.shape[1] != ch:
                raise ValueError(f"WarpNet: {name} must be [B, {ch}, H, W], got {tuple(t.shape)}")
        if contour.shape[-2:] != garment.shape[-2:] or garment.shape[-2:] != garment_mask.shape[-2:]:
            raise ValueError("WarpNet: contour, garment and garment_mask must share H and W")
        mode = "naive" if return_matrix else (matching or self.matching)
        t1c1 = self.encode(contour, garment, garment_mask)
        match = global_matching(
            t1c1["contour"],
            t1c1["garment"],
            temperature=self.temperature,
            mode=mode,
            return_matrix=return_matrix,
        )
        grid_low = match["grid"]  # [B, 2, h, w]
        if self.upsample == "convex":
            logits = 0.25 * self.upsampler(t1c1["contour"])  # [B, 9 * s * s, h, w]; 0.25 as in RAFT
            grid = convex_upsample_grid(grid_low, logits, self.feature_stride)  # [B, 2, H, W]
        else:
            grid = upsample_grid(grid_low, tuple(contour.shape[-2:]))  # [B, 2, H, W]
        out = {
            "grid": grid,
            "grid_lowres": grid_low,
            "warped": warp(garment, grid),  # [B, 3, H, W]
            "warped_mask": warp(garment_mask, grid),  # [B, 1, H, W]
            "feat_contour": t1c1["contour"],
            "feat_garment": t1c1["garment"],
        }
        if return_matrix:
            out["matrix"] = match["matrix"]  # [B, h*w, h*w]
        return out


def build_warp_net(**kwargs: Any) -> WarpNet:
    """Factory: the explicit keyword arguments of :class:`WarpNet` (one signature, its defaults), as
    :func:`tryon.nets.build.warp_architecture` maps them from the params section."""
    return WarpNet(**kwargs)
