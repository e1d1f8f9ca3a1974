"""Feature transformer of the warping network (patent [0143]-[0147]).

Both streams' feature maps become token sequences (one token per feature-map position: the "patches"
of the method are the CNN's 1/stride cells, the 1x1 projection at the end of each stream is the linear
projection). A 2-D sine positional encoding is added, then ``N`` layers each apply, to both streams:

    x = LN(x + SelfAttn(x))             # within the stream
    x = LN(x + CrossAttn(x, other))     # queries from this stream, keys/values from the other one
    x = LN(x + FFN(x))

(post-norm residual blocks as in the method's "residual + LayerNorm"). The two streams are updated
symmetrically from the previous layer's states; each stream has its own weights. The outputs are the
first feature maps ``T1`` (contour) and ``C1`` (garment) that global matching correlates.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def sine_positional_encoding(
    height: int, width: int, channels: int, *, device=None, dtype=None
) -> torch.Tensor:
    """2-D sine/cosine positional encoding ``[1, channels, H, W]`` (channels a multiple of 4).

    The first half of the channels encodes y, the second half x, each as sin/cos of the position
    normalised to ``[0, 2 pi]`` (resolution-independent) at geometrically spaced frequencies.
    """
    if channels % 4:
        raise ValueError(f"positional encoding: channels must be a multiple of 4, got {channels}")
    n_freq = channels // 4
    freqs = torch.exp(torch.arange(n_freq, device=device, dtype=torch.float32) * (-math.log(100.0) / n_freq))
    freqs = freqs * 100.0 ** (1.0 / 2)  # [n_freq], from 10 down to ~0.1 cycles per image side (x 2 pi)
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 * math.pi  # [H]
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 * math.pi  # [W]
    py = ys[:, None] * freqs[None]  # [H, n_freq]
    px = xs[:, None] * freqs[None]  # [W, n_freq]
    enc_y = torch.cat([py.sin(), py.cos()], dim=1)  # [H, 2 n_freq]
    enc_x = torch.cat([px.sin(), px.cos()], dim=1)  # [W, 2 n_freq]
    pe = torch.cat(
        [enc_y[:, None, :].expand(height, width, -1), enc_x[None, :, :].expand(height, width, -1)], dim=2
    )  # [H, W, channels]
    return pe.permute(2, 0, 1)[None].to(dtype or torch.float32)  # [1, channels, H, W]


class StreamLayer(nn.Module):
    """Self-attention, cross-attention, FFN for one stream (post-norm residual blocks)."""

    def __init__(self, d_model: int, n_heads: int, ffn_mult: int = 4, dropout: float = 0.0):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ffn_mult * d_model), nn.GELU(), nn.Linear(ffn_mult * d_model, d_model)
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """x: ``[B, N, C]`` this stream's tokens; other: ``[B, M, C]`` the other stream's -> ``[B, N, C]``."""
        x = self.norm1(x + self.self_attn(x, x, x, need_weights=False)[0])
        x = self.norm2(x + self.cross_attn(x, other, other, need_weights=False)[0])
        return self.norm3(x + self.ffn(x))


class FeatureTransformer(nn.Module):
    """``n_layers`` of symmetric self/cross attention over the contour and garment streams.

    Args:
        d_model: token width (= feature channels, a multiple of 4 and of ``n_heads``).
        n_heads: attention heads.
        n_layers: layers (the method suggests 6; 0 = positional encoding only).
        ffn_mult: FFN hidden width = ``ffn_mult * d_model``.

    ``forward(feat_contour, feat_garment)``: ``[B, C, h, w]``, ``[B, C, hg, wg]`` ->
    ``{"contour": T1 [B, C, h, w], "garment": C1 [B, C, hg, wg]}``.
    """

    def __init__(self, d_model: int = 128, n_heads: int = 4, n_layers: int = 2, ffn_mult: int = 4):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"transformer: d_model {d_model} must be divisible by n_heads {n_heads}")
        self.d_model = d_model
        self.contour_layers = nn.ModuleList(StreamLayer(d_model, n_heads, ffn_mult) for _ in range(n_layers))
        self.garment_layers = nn.ModuleList(StreamLayer(d_model, n_heads, ffn_mult) for _ in range(n_layers))

    def forward(self, feat_contour: torch.Tensor, feat_garment: torch.Tensor) -> dict[str, torch.Tensor]:
        b, c, h, w = feat_contour.shape
        hg, wg = feat_garment.shape[-2:]
        pe_t = sine_positional_encoding(h, w, c, device=feat_contour.device, dtype=feat_contour.dtype)
        pe_g = sine_positional_encoding(hg, wg, c, device=feat_garment.device, dtype=feat_garment.dtype)
        t = (feat_contour + pe_t).flatten(2).transpose(1, 2)  # [B, C, h, w] -> [B, h*w, C]
        g = (feat_garment + pe_g).flatten(2).transpose(1, 2)  # [B, C, hg, wg] -> [B, hg*wg, C]
        for layer_t, layer_g in zip(self.contour_layers, self.garment_layers, strict=True):
            t, g = layer_t(t, g), layer_g(g, t)  # symmetric: both read the previous layer's states
        return {
            "contour": t.transpose(1, 2).reshape(b, c, h, w),  # [B, h*w, C] -> [B, C, h, w]
            "garment": g.transpose(1, 2).reshape(b, c, hg, wg),  # [B, hg*wg, C] -> [B, C, hg, wg]
        }
