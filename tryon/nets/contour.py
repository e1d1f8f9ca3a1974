"""Contour generator ([0125]-[0132]): body feature map + trunk map -> model contour image.

Encoder: strided 4x4 convolutions (no pooling) + InstanceNorm + LeakyReLU(0.2) with widths
16-32-64-128-256 (x ``base_channels / 16``; a sixth level stays at the widest), halving the size each
time down to 8 x 8 at a 512 input ([0128]: 512 -> 8x8x256 takes six halvings) -> ``image_size / 64``
in general (at least 2 x 2: fewer levels for small images). Decoder: 4x4 transposed convolutions
+ InstanceNorm + LeakyReLU back to full size; the last one has 3 filters, then tanh -> [-1, 1].

Departure (stated): U-Net skip connections. Each decoder level also receives the encoder features of
the same size, and the last layer receives the input itself. The method's plain bottleneck would have
to squeeze the face through 8 x 8 cells; the contour must keep the person's identity (the trunk map
carries face, hands, legs), and the skips let the network copy those pixels instead of
re-synthesising them. The body shape still has to come from the body feature map.

Departure (stated): a learned keep-mask. The last layer has 3 + 1 filters: RGB (tanh) and a mask
alpha (sigmoid); the contour is ``alpha * trunk + (1 - alpha) * rgb``. Where the trunk map shows a
region that the contour keeps unchanged (face, hair, hands: the person's identity), copying it exactly
is then a one-channel decision instead of a pixel-exact reconstruction through the network; where
the trunk shows something the contour replaces (trousers become bodysuit), alpha learns 0.
``compose=False`` gives the method's plain 3-filter output.

Any H, W works: the input is zero-padded on the right/bottom to a multiple of ``2**n_down`` (the same
zero padding the data pipeline uses for non-square photos) and the output cropped back.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = (16, 32, 64, 128, 256, 256)
#: channels of the pose map a generator built with ``pose=True`` reads (upper arms, forearms, torso:
#: ``tryon.data.pose.POSE_BONES``, which a test keeps equal)
POSE_CHANNELS = 3


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, stride=2, padding=1)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1),
        nn.InstanceNorm2d(cout, affine=True),
        nn.LeakyReLU(0.2),
    )


class ContourGenerator(nn.Module):
    """Args:
        body_channels: channels of the body feature map (1 from :class:`~tryon.nets.text_mlp.TextMLP`).
        trunk_channels: channels of the trunk map (3, an image in [-1, 1]).
        base_channels: width of the first level (16 in the method).
        n_down: number of stride-2 levels (6 at 512 in the method; see :func:`levels_for`).
        compose: add the keep-mask output (see the module docstring).
        pose_channels: channels of the pose map (:func:`tryon.data.pose.pose_map`; 0: none, the method's
            input). Departure (stated): the trunk map hides the arms, and the bones tell where they are.

    ``forward(body_map [B,Cb,H,W], trunk [B,3,H,W] in [-1,1], pose [B,P,H,W] in [0,1] or None)`` ->
    ``{"contour": [B,3,H,W] in [-1,1]}`` and, with ``compose``, ``"generated"`` [B,3,H,W] (the RGB branch)
    and ``"keep_mask"`` [B,1,H,W]. ``pose`` None with ``pose_channels`` > 0 is an all-zero map (pose
    unknown).
    """

    def __init__(
        self,
        body_channels: int = 1,
        trunk_channels: int = 3,
        base_channels: int = 16,
        n_down: int = 6,
        compose: bool = True,
        pose_channels: int = 0,
    ):
        super().__init__()
        if not 1 <= n_down <= len(WIDTHS):
            raise ValueError(f"ContourGenerator: n_down must be in 1..{len(WIDTHS)}, got {n_down}")
        widths = [max(1, w * base_channels // 16) for w in WIDTHS[:n_down]]
        cin = body_channels + trunk_channels + pose_channels
        self.pose_channels = pose_channels
        self.in_channels, self.n_down = cin, n_down
        self.enc = nn.ModuleList()
        c = cin
        for i, w in enumerate(widths):
            self.enc.append(_down(c, w, norm=i > 0))  # no norm on the first layer (pix2pix habit)
            c = w
        self.dec = nn.ModuleList()
        for i in range(n_down - 1, 0, -1):  # up to the size of encoder level i-1, then concat its skip
            cout = widths[i - 1]
            self.dec.append(_up(c if i == n_down - 1 else c * 2, cout))
            c = cout
        last_in = (c * 2 if n_down > 1 else c) + cin
        # final: upsample to full size, concat the input (skip for the trunk pixels), 3x3 conv to RGB
        self.up_last = nn.ConvTranspose2d(last_in - cin, c, 4, stride=2, padding=1)
        self.compose = compose
        if compose and trunk_channels != 3:
            raise ValueError("ContourGenerator: compose=True needs an RGB trunk map (trunk_channels=3)")
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(c + cin, 4 if compose else 3, 3, padding=1))

    def forward(
        self, body_map: torch.Tensor, trunk: torch.Tensor, pose: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        if body_map.shape[-2:] != trunk.shape[-2:] or body_map.shape[0] != trunk.shape[0]:
            raise ValueError(
                f"ContourGenerator: body map {tuple(body_map.shape)} and trunk {tuple(trunk.shape)} differ in size"
            )
        parts = [body_map, trunk]
        if self.pose_channels:  # appended last: a model without them is the same network minus columns
            if pose is None:
                pose = trunk.new_zeros(trunk.shape[0], self.pose_channels, *trunk.shape[-2:])
            parts.append(pose.to(trunk.dtype))
        x = torch.cat(parts, dim=1)  # [B, Cb+3(+P), H, W]
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"ContourGenerator: expected {self.in_channels} input channels, got {x.shape[1]}"
            )
        h, w = x.shape[-2:]
        m = 2**self.n_down
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(x, (0, pw, 0, ph))  # zero pad right/bottom to a multiple of 2**n_down
        skips = []
        y = x
        for layer in self.enc:
            y = layer(y)
            skips.append(y)  # sizes H/2, H/4, ..., H/2**n_down
        for j, layer in enumerate(self.dec):
            if j > 0:
                y = torch.cat([y, skips[self.n_down - 1 - j]], dim=1)
            y = layer(y)
        if self.n_down > 1:
            y = torch.cat([y, skips[0]], dim=1)  # [B, 2*w0, H/2, W/2]
        y = self.up_last(y)  # [B, w0, H, W]
        out = self.head(torch.cat([y, x], dim=1))[..., :h, :w]  # [B, 3 or 4, H, W] cropped back
        rgb = torch.tanh(out[:, :3])  # [B,3,H,W] in [-1,1]
        if not self.compose:
            return {"contour": rgb}
        keep = torch.sigmoid(out[:, 3:4])  # [B,1,H,W] in (0,1): take the trunk pixel
        return {"contour": keep * trunk + (1 - keep) * rgb, "generated": rgb, "keep_mask": keep}


def levels_for(image_size: int) -> int:
    """Stride-2 levels so the bottleneck is ``image_size / 64`` (8 at 512), but at least 2 x 2."""
    return max(1, min(len(WIDTHS), int(math.log2(max(image_size, 4))) - 1))


def build_contour_generator(
    image_size: int,
    base_channels: int = 16,
    body_channels: int = 1,
    compose: bool = True,
    pose_channels: int = 0,
) -> ContourGenerator:
    """Factory: the method's layout scaled to ``image_size``; ``compose`` adds the keep-mask output;
    ``pose_channels`` the pose map input."""
    return ContourGenerator(body_channels, 3, base_channels, levels_for(image_size), compose, pose_channels)


def widen_inputs(state: dict, module: torch.nn.Module) -> tuple[dict, list[str]]:
    """A state dict of a network with fewer input channels made loadable into ``module``: every weight
    whose shape differs only in its input channels (dim 1, fewer in ``state``) is padded with zero
    columns at the end, where :class:`ContourGenerator` appends the pose map. The widened network computes
    exactly what the old one did until training moves the new columns. Returns (state, widened keys)."""
    own = module.state_dict()
    out, widened = dict(state), []
    for k, v in state.items():
        t = own.get(k)
        if t is None or t.shape == v.shape or t.dim() < 2:
            continue
        if t.shape[0] == v.shape[0] and t.shape[2:] == v.shape[2:] and t.shape[1] > v.shape[1]:
            w = torch.zeros_like(t, dtype=v.dtype)
            w[:, : v.shape[1]] = v
            out[k] = w
            widened.append(k)
    return out, widened


class TextContourNet(nn.Module):
    """Text MLP + contour generator, the part of the try-on network that stage 03 pretrains.

    ``forward(code [B,n] text codes, trunk [B,3,H,W] in [-1,1])`` -> ``{"body_map": [B,1,H,W],
    "contour": [B,3,H,W] in [-1,1]}``. Sub-module names match :class:`tryon.nets.model.TryOnNet`
    (``text_mlp``, ``contour_gen``) so the stage 03 checkpoint initialises the full network.
    """

    def __init__(self, text_mlp: nn.Module, contour_gen: ContourGenerator):
        super().__init__()
        self.text_mlp = text_mlp
        self.contour_gen = contour_gen

    def forward(
        self, code: torch.Tensor, trunk: torch.Tensor, pose: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        body_map = self.text_mlp(code, tuple(trunk.shape[-2:]))["body_map"]  # [B,1,H,W]
        return {"body_map": body_map, **self.contour_gen(body_map, trunk, pose)}
