"""Body-text MLP ([0117]-[0120]): text code -> 1024-vector (softmax) -> body feature map [B,1,H,W].

The method maps the bag-of-words code through hidden layers of sigmoid/tanh units to k = 1024 outputs
with a softmax, and uses the result as a body feature map the size of the model image. Two readings
are ours (the patent leaves them open):

- **1024 -> H x W**: the vector is reshaped to a ``sqrt(k) x sqrt(k)`` grid (32 x 32) and upsampled
  bilinearly (align_corners=False) to the image size, so the MLP can paint a coarse spatial layout
  (where the hips / shoulders are wide) that the generator refines.
- **the softmax scale problem**: a softmax sums to 1, so its k outputs average 1/k (about 0.001 for
  k = 1024). Concatenated with a trunk map in [-1, 1], a map that small is numerically invisible to the
  first convolution at initialisation and its gradients are ~1000x smaller than the trunk's. We
  multiply by ``softmax_scale`` (default k, so the map has mean exactly 1 and a uniform softmax gives a
  constant 1 map) and subtract 1, so the map is centred on 0 like the trunk map: ``map = scale *
  softmax(z) - 1`` in ``[-1, scale - 1]``. The softmax keeps the method's normalised "mass" semantics
  (the MLP moves mass between regions rather than scaling the whole map).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TextMLP(nn.Module):
    """code [B, code_dim] (float, see :class:`tryon.text.Vocabulary`) -> dict:

    - ``"probs"`` [B, out_dim]: the softmax output (sums to 1),
    - ``"code_map"`` [B, 1, g, g] with g = sqrt(out_dim): ``softmax_scale * probs - 1``,
    - ``"body_map"`` [B, 1, H, W]: ``code_map`` upsampled to ``image_size`` (bilinear, align_corners=False).
    """

    def __init__(
        self,
        code_dim: int,
        hidden: list[int] | tuple[int, ...] = (256,),
        activation: str = "tanh",
        out_dim: int = 1024,
        softmax_scale: float | None = None,
    ):
        super().__init__()
        g = math.isqrt(out_dim)
        if g * g != out_dim:
            raise ValueError(f"TextMLP: out_dim must be a square number (reshaped to a map), got {out_dim}")
        acts = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
        if activation not in acts:
            raise ValueError(f"TextMLP: activation must be 'tanh' or 'sigmoid', got {activation!r}")
        layers: list[nn.Module] = []
        d = code_dim
        for h in hidden:
            layers += [nn.Linear(d, h), acts[activation]()]
            d = h
        layers.append(nn.Linear(d, out_dim))
        self.mlp = nn.Sequential(*layers)
        self.code_dim, self.out_dim, self.grid = code_dim, out_dim, g
        self.softmax_scale = float(out_dim if softmax_scale is None else softmax_scale)

    def forward(self, code: torch.Tensor, image_size: tuple[int, int] | int) -> dict[str, torch.Tensor]:
        if code.ndim != 2 or code.shape[1] != self.code_dim:
            raise ValueError(f"TextMLP: expected codes [B,{self.code_dim}], got {tuple(code.shape)}")
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        probs = torch.softmax(self.mlp(code), dim=1)  # [B, out_dim], sums to 1
        code_map = self.softmax_scale * probs.view(-1, 1, self.grid, self.grid) - 1.0  # [B,1,g,g]
        body_map = F.interpolate(code_map, size=size, mode="bilinear", align_corners=False)  # [B,1,H,W]
        return {"probs": probs, "code_map": code_map, "body_map": body_map}


def build_text_mlp(
    code_dim: int, hidden: list[int], activation: str, out_dim: int, softmax_scale: float
) -> TextMLP:
    """Factory (stage code passes ``EncodeConfig`` fields explicitly)."""
    return TextMLP(code_dim, list(hidden), activation, out_dim, softmax_scale)
