"""Two-stream CNN feature extractor of the warping network (patent [0166]-[0171]).

The model contour image and the garment image are downsampled *separately* (two CNNs, no shared
weights: one sees bodies, the other flat garments) into "second feature maps" with a larger receptive
field, at 1/4 or 1/8 of the input resolution, ``d_model`` channels, ready for the transformer.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """conv3x3(stride) -> InstanceNorm -> ReLU -> conv3x3 -> InstanceNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.InstanceNorm2d(c_out, affine=True),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.InstanceNorm2d(c_out, affine=True),
        nn.ReLU(inplace=True),
    )


class StreamCNN(nn.Module):
    """One stream: a stride-2 stem conv, then ``log2(stride) - 1`` stride-2 blocks, then a 1x1 projection.

    (No full-resolution block: at 128x128 it would cost more than the rest of the network on a CPU.)

    Args:
        in_channels: input channels (3 for an image, 4 for image + mask).
        out_channels: output feature channels (the transformer's ``d_model``).
        stride: total downsampling, 4 or 8.
        base_channels: width of the stem; doubled at each stride-2 block (capped at ``out_channels``).

    ``forward(x)``: ``[B, in_channels, H, W]`` (H, W multiples of ``stride``) ->
    ``[B, out_channels, H/stride, W/stride]``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 8, base_channels: int = 32):
        super().__init__()
        if stride not in (4, 8):
            raise ValueError(f"feature stride must be 4 or 8, got {stride}")
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, base_channels, 5, stride=2, padding=2, bias=False),
            nn.InstanceNorm2d(base_channels, affine=True),
            nn.ReLU(inplace=True),
        ]  # [B, base, H/2, W/2]
        c = base_channels
        for _ in range(int(math.log2(stride)) - 1):
            c_next = min(c * 2, out_channels)
            layers.append(_block(c, c_next, 2))
            c = c_next
        self.body = nn.Sequential(*layers)
        self.proj = nn.Conv2d(c, out_channels, 1)
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % self.stride or w % self.stride:
            raise ValueError(f"StreamCNN: input size {h}x{w} must be a multiple of the stride {self.stride}")
        return self.proj(self.body(x))  # [B, C, H/s, W/s]


class TwoStreamFeatures(nn.Module):
    """Contour stream and garment stream (separate weights).

    Args:
        d_model: output channels of both streams.
        stride: 4 or 8.
        base_channels: stem width.
        contour_channels: channels of the person-side input (3: the contour image).
        garment_channels: channels of the garment-side input (4: garment image + garment mask).

    ``forward(contour, garment)``: ``[B, 3, H, W]``, ``[B, 4, H, W]`` ->
    ``{"contour": [B, d_model, H/s, W/s], "garment": [B, d_model, H/s, W/s]}``.
    """

    def __init__(
        self,
        d_model: int = 128,
        stride: int = 8,
        base_channels: int = 32,
        contour_channels: int = 3,
        garment_channels: int = 4,
    ):
        super().__init__()
        self.contour = StreamCNN(contour_channels, d_model, stride, base_channels)
        self.garment = StreamCNN(garment_channels, d_model, stride, base_channels)

    def forward(self, contour: torch.Tensor, garment: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"contour": self.contour(contour), "garment": self.garment(garment)}
