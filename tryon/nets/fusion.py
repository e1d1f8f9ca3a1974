"""Fusion module ([0172]-[0174]): warped garment + model contour image -> predicted try-on image.

The patent leaves the module open ("an encoder-decoder network or a fixed function"). Two readings:

* :class:`ComposeFusion` (``fusion: compose``): a small U-Net predicts a rendered image ``x`` and a
  composition mask ``alpha``; ``r = alpha * warped + (1 - alpha) * x``. The mask lets the garment
  texture pass through untouched where the warp is right (the usual CP-VTON composition).
* :class:`UNetFusion` (``fusion: unet``): the same U-Net outputs the try-on image directly.
* :class:`TrunkComposeFusion` (``fusion: trunk_compose``, the default): the photo's kept regions
  are an input too (``keep``: the method's trunk map [0121]-[0124] plus the background,
  :func:`tryon.data.labels.keep_mask`; METHOD.md steps 2 and 5), and the output keeps those pixels
  (face, hair, neck, arms, hands, the clothes not replaced, the background) except where the new
  garment is placed: ``r = alpha * warped + (1 - alpha) * keep`` on a kept pixel (``keep: garment``,
  the default since commit 74a82c1) and ``r = alpha * warped + (1 - alpha) * rendered`` on the old
  garment's pixels. The U-Net paints only what changes: the new garment's shading and the skin the old
  garment hid. Before that (``keep: warped_mask``, what older checkpoints build) a kept pixel gave way
  wherever the warped mask landed, ``k = keep_mask * (1 - warped_mask)``, ``r = k * keep + (1 - k) *
  (alpha * warped + (1 - alpha) * rendered)``, so an arm under a stray piece of the warp was painted
  anew. :func:`compose` is the formula alone, so inference can apply it at the photo's own resolution
  (:mod:`tryon.infer.full_res`). With ``kept_gate`` (``05_train.fusion_kept_gate``, 0.5 by default
  since commit 7f1610f) ``tryon try-on`` decides each kept pixel at the photo's size: the placed garment
  where the upsampled gate is above ``kept_gate``, the photo elsewhere (:func:`kept_alpha`). The soft
  mix left a translucent ghost of the garment wherever the warped mask spilled over the background or
  an arm with a half-open gate. At the working size (training, and the synthetic evaluation) the
  module composes with the soft gate: its gradient, and an edge that a 128-px decision would alias
  (synthetic dev, decided at 128 px: SSIM 0.9637 -> 0.9636, identity SSIM 0.9819 -> 0.9812, unpaired
  SSIM 0.9212 -> 0.9203).

With ``colour=True`` (``05_train.fusion_colour``, the default) every fusion also sees the flat garment's
mean colour as a constant map (:func:`_inputs`), so it paints the garment's colour where the warp misses.

With ``fill=True`` (``05_train.fusion_fill``) the two composing fusions get a third source: ``filled``, the
garment sampled where the grid, moved into the garment (:func:`tryon.geometry.grid_into_mask`), points,
so the garment's own texture reaches the pixels the warp misses. A second gate chooses it there:
``beta = fill_gate * (1 - warped_mask) * fill_cover`` and the painted image is
``alpha * warped + beta * filled + (1 - alpha - beta) * rendered`` (:func:`paint`); ``fill_cover`` is 0
where the garment never lands and for an empty garment mask.

Inputs are float32 images in [-1, 1] ([B, 3, H, W]) and the warped garment and kept-region masks in {0, 1}
([B, 1, H, W]); H and W must be multiples of ``2 ** depth``. Every fusion takes
``(warped, warped_mask, contour, keep=None, keep_mask=None, garment_colour=None)``; the two without the
trunk map ignore ``keep``, a fusion built without ``colour`` ignores ``garment_colour``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.InstanceNorm2d(cout, affine=True),
        nn.LeakyReLU(0.2, inplace=True),
    )


class _UNet(nn.Module):
    """Strided-conv encoder, bilinear-upsampling decoder with skip connections."""

    def __init__(self, in_channels: int, out_channels: int, base_channels: int = 32, depth: int = 3):
        super().__init__()
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.stem = _block(in_channels, widths[0], 1)
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1], 2) for i in range(depth))
        self.up = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i], 1) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = up(torch.cat([y, skip], dim=1))  # [B, C_i + C_{i+1}, H_i, W_i] -> [B, C_i, H_i, W_i]
        return self.head(y)


def _inputs(
    parts: list[torch.Tensor], colour: bool, garment_colour: torch.Tensor | None, filled: torch.Tensor | None
) -> torch.Tensor:
    """The U-Net input: ``parts`` [B, C_i, H, W] concatenated, plus, with ``colour``, the flat garment's
    mean colour ``garment_colour`` [B, 3, 1, 1] as a constant [B, 3, H, W] map (lets the U-Net paint the
    garment's colour where the warp misses it), plus ``filled`` [B, 3, H, W] when given."""
    if colour:
        if garment_colour is None:
            raise ValueError("fusion with colour=True needs garment_colour= [B, 3, 1, 1]")
        parts = [*parts, garment_colour.expand(-1, -1, *parts[0].shape[-2:])]
    return torch.cat(parts if filled is None else [*parts, filled], dim=1)


def _check_fill(fill: bool, filled, fill_cover) -> None:
    if fill and (filled is None or fill_cover is None):
        raise ValueError("fusion with fill=True needs filled= [B, 3, H, W] and fill_cover= [B, 1, H, W]")


def _sources(out: torch.Tensor, warped_mask: torch.Tensor, fill: bool, fill_cover) -> dict:
    """The U-Net's output [B, 4 (+1 with ``fill``), H, W] -> ``rendered`` (tanh), ``gate`` (garment texture
    vs painted, before the mask), ``alpha = gate * warped_mask`` and, with ``fill``, ``fill_gate`` and
    ``beta = fill_gate * (1 - warped_mask) * fill_cover``."""
    gate = torch.sigmoid(out[:, 3:4])
    src = {"rendered": torch.tanh(out[:, :3]), "gate": gate, "alpha": gate * warped_mask}
    if fill:
        src["fill_gate"] = torch.sigmoid(out[:, 4:5])
        src["beta"] = src["fill_gate"] * (1 - warped_mask) * fill_cover
    return src


def paint(rendered, alpha, warped, beta=None, filled=None) -> torch.Tensor:
    """``alpha * warped + (1 - alpha) * rendered``, or with the fill source
    ``alpha * warped + beta * filled + (1 - alpha - beta) * rendered`` (``alpha`` lives inside the warped
    mask and ``beta`` outside it, so ``alpha + beta <= 1``)."""
    if beta is None:
        return alpha * warped + (1 - alpha) * rendered
    return alpha * warped + beta * filled + (1 - alpha - beta) * rendered


class ComposeFusion(nn.Module):
    """U-Net -> (rendered RGB, composition mask alpha); r = alpha * warped + (1 - alpha) * rendered
    (:func:`paint`, with the fill source when ``fill``)."""

    def __init__(self, base_channels: int = 32, depth: int = 3, colour: bool = False, fill: bool = False):
        super().__init__()
        self.colour, self.fill = colour, fill
        self.net = _UNet(3 + 1 + 3 + 3 * colour + 3 * fill, 4 + fill, base_channels, depth)

    def forward(
        self,
        warped: torch.Tensor,
        warped_mask: torch.Tensor,
        contour: torch.Tensor,
        garment_colour=None,
        filled=None,
        fill_cover=None,
        **_,
    ) -> dict:
        _check_fill(self.fill, filled, fill_cover)
        parts = [warped, warped_mask, contour]
        out = self.net(_inputs(parts, self.colour, garment_colour, filled if self.fill else None))
        src = _sources(out, warped_mask, self.fill, fill_cover)  # alpha: never outside the warped mask
        tryon = paint(src["rendered"], src["alpha"], warped, src.get("beta"), filled)
        extra = {k: src[k] for k in ("fill_gate", "beta") if k in src}
        return {"tryon": tryon, "alpha": src["alpha"], "rendered": src["rendered"], **extra}


class UNetFusion(nn.Module):
    """U-Net over [warped, warped_mask, contour] -> try-on image (tanh)."""

    fill = False  # no composition, so no fill source

    def __init__(self, base_channels: int = 32, depth: int = 3, colour: bool = False):
        super().__init__()
        self.colour = colour
        self.net = _UNet(3 + 1 + 3 + 3 * colour, 3, base_channels, depth)

    def forward(
        self, warped: torch.Tensor, warped_mask: torch.Tensor, contour: torch.Tensor, garment_colour=None, **_
    ) -> dict:
        x = _inputs([warped, warped_mask, contour], self.colour, garment_colour, None)
        return {"tryon": torch.tanh(self.net(x))}


#: which kept pixels give way to the new garment (``05_train.fusion_keep``; :func:`compose`)
KEEP_RULES = ("garment", "warped_mask")


def compose(
    rendered: torch.Tensor,
    alpha: torch.Tensor,
    warped: torch.Tensor,
    warped_mask: torch.Tensor,
    keep: torch.Tensor,
    keep_mask: torch.Tensor,
    beta: torch.Tensor | None = None,
    filled: torch.Tensor | None = None,
    rule: str = "warped_mask",
    kept: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The keeping composition (any resolution, all inputs at one size). Images [B, 3, H, W] in [-1, 1]
    (``keep``: the photo on ``keep_mask``), masks, ``alpha`` and ``beta`` [B, 1, H, W] in [0, 1].

    - ``rule="warped_mask"`` (before commit 74a82c1): ``k = keep_mask * (1 - warped_mask)``;
      ``tryon = k * keep + (1 - k) * paint`` with :func:`paint`'s ``alpha * warped + (1 - alpha) *
      rendered`` (with ``beta`` and ``filled``: the fill source too). Wherever the warped mask lands on
      a kept pixel, the painted image may replace it.
    - ``rule="garment"``: a kept pixel gives way to the garment only, ``alpha * warped + (1 - alpha) *
      keep``: where the warped mask lands on an arm beside the torso and the gate says "not garment",
      the arm stays the photo's instead of being painted anew. The old garment's pixels (``keep_mask``
      0) are composed as above. ``kept`` [B, 1, H, W] (``garment`` rule only; :func:`kept_alpha`): the
      garment's weight on the kept pixels instead of ``alpha``.

    Returns ``tryon``, ``keep`` (the photo's weight in each pixel) and ``sources`` [B, 4, H, W]: the
    weights of the kept photo, the warped garment, the fill and the painted image (sum 1)."""
    b = torch.zeros_like(alpha) if beta is None else beta
    if rule == "garment":
        b = b * (1 - keep_mask)  # the fill never covers a kept pixel (it lies outside the warped mask)
        if kept is not None:
            alpha = keep_mask * kept + (1 - keep_mask) * alpha
        base = keep_mask * keep + (1 - keep_mask) * rendered
        tryon = paint(base, alpha, warped, None if beta is None else b, filled)
        rest = 1 - alpha - b
        sources = torch.cat([rest * keep_mask, alpha, b, rest * (1 - keep_mask)], dim=1)
    elif rule == "warped_mask":
        if kept is not None:
            raise ValueError("kept= (the kept pixels' garment weight) applies to the garment keep rule only")
        k = keep_mask * (1 - warped_mask)
        tryon = k * keep + (1 - k) * paint(rendered, alpha, warped, beta, filled)
        sources = torch.cat([k, (1 - k) * alpha, (1 - k) * b, (1 - k) * (1 - alpha - b)], dim=1)
    else:
        raise ValueError(f"keep rule: expected one of {list(KEEP_RULES)}, got {rule!r}")
    return {"tryon": tryon, "keep": sources[:, :1], "sources": sources}


def kept_alpha(gate: torch.Tensor, warped_mask: torch.Tensor, threshold: float) -> torch.Tensor:
    """The garment's weight on a kept pixel when the gate is decided (``threshold`` in (0, 1)): the warped
    mask where ``gate > threshold``, 0 elsewhere, so a kept pixel is the placed garment or the photo, not
    a translucent mix of both. ``gate`` and ``warped_mask`` [B, 1, H, W]."""
    return (gate > threshold).to(gate.dtype) * warped_mask


def ramp(gate: torch.Tensor, width: float) -> torch.Tensor:
    """A gate made steeper about 0.5 (``05_train.fusion_fill_ramp``, the fill gate at the photo's size):
    linear from 0 to 1 over ``[0.5 - width / 2, 0.5 + width / 2]``. ``width`` 1 returns the gate as
    trained, 0 decides it (1 above 0.5, 0 elsewhere). A soft fill gate mixes the sharp garment texture
    with the lighter 128-px painted image; a decided one shows the texture whole or not at all."""
    if width >= 1:
        return gate
    if width <= 0:
        return (gate > 0.5).to(gate.dtype)
    return ((gate - 0.5) / width + 0.5).clamp(0, 1)


def check_fill_ramp(width: float) -> None:
    """``fill_ramp``: a width in [0, 1]."""
    if not 0 <= width <= 1:
        raise ValueError(f"fusion_fill_ramp: expected a width in [0, 1] (1 = the soft gate), got {width}")


def check_kept_gate(kept_gate: float) -> None:
    """``kept_gate``: 0 (the soft gate) or a threshold in (0, 1)."""
    if not 0 <= kept_gate < 1:
        raise ValueError(f"fusion_kept_gate: expected 0 (soft) or a threshold in (0, 1), got {kept_gate}")


class TrunkComposeFusion(nn.Module):
    """U-Net over [warped, warped_mask, contour, keep, keep_mask] -> (rendered RGB, alpha), then
    :func:`compose`: the photo's kept pixels stay, the network paints only what changes. ``kept_gate``
    (> 0, ``keep="garment"`` only) is stored with the architecture for the composition at the photo's
    size (:func:`tryon.infer.full_res.full_resolution`), as is ``fill_ramp`` (:func:`ramp`, for the fill
    gate there); the module itself composes with the soft gates."""

    def __init__(
        self,
        base_channels: int = 32,
        depth: int = 3,
        colour: bool = False,
        fill: bool = False,
        keep: str = "warped_mask",
        kept_gate: float = 0.0,
        fill_ramp: float = 1.0,
    ):
        super().__init__()
        if keep not in KEEP_RULES:
            raise ValueError(f"keep rule: expected one of {list(KEEP_RULES)}, got {keep!r}")
        check_kept_gate(kept_gate)
        check_fill_ramp(fill_ramp)
        self.colour, self.fill, self.keep, self.kept_gate = colour, fill, keep, kept_gate
        self.fill_ramp = fill_ramp
        self.net = _UNet(3 + 1 + 3 + 3 + 1 + 3 * colour + 3 * fill, 4 + fill, base_channels, depth)

    def forward(
        self,
        warped: torch.Tensor,
        warped_mask: torch.Tensor,
        contour: torch.Tensor,
        keep: torch.Tensor | None = None,
        keep_mask: torch.Tensor | None = None,
        garment_colour: torch.Tensor | None = None,
        filled: torch.Tensor | None = None,
        fill_cover: torch.Tensor | None = None,
    ) -> dict:
        if keep is None or keep_mask is None:
            raise ValueError("fusion trunk_compose needs the kept photo and its mask (keep=, keep_mask=)")
        _check_fill(self.fill, filled, fill_cover)
        parts = [warped, warped_mask, contour, keep, keep_mask]
        out = self.net(_inputs(parts, self.colour, garment_colour, filled if self.fill else None))
        src = _sources(out, warped_mask, self.fill, fill_cover)  # alpha: never outside the warped mask
        fused = compose(
            src["rendered"], src["alpha"], warped, warped_mask, keep, keep_mask, src.get("beta"), filled,
            rule=self.keep,
        )  # fmt: skip
        return {**fused, **src}


#: the fusion kinds (``05_train.fusion``)
KINDS = ("trunk_compose", "compose", "unet")


def build_fusion(
    kind: str,
    base_channels: int = 32,
    depth: int = 3,
    colour: bool = False,
    fill: bool = False,
    keep: str = "warped_mask",
    kept_gate: float = 0.0,
    fill_ramp: float = 1.0,
) -> nn.Module:
    """``kind``: ``trunk_compose`` (trunk map and background in and kept, learned garment composition),
    ``compose`` (learned composition mask, no trunk) or ``unet`` (direct encoder-decoder). ``colour``:
    the flat garment's mean colour is an input too (:func:`_inputs`); ``fill``: the garment's texture
    where the warp misses is a third source (the module docstring; the composing kinds only); ``keep``:
    which kept pixels give way to the garment (:func:`compose`'s ``rule``; ``trunk_compose`` only, the
    others keep nothing). A checkpoint from before the rule was stored builds with ``warped_mask``;
    ``kept_gate``: :class:`TrunkComposeFusion`'s (0, the soft gate, for checkpoints before commit 7f1610f);
    ``fill_ramp``: its too (:func:`ramp`; 1, the soft fill gate, for checkpoints before commit fd737b2)."""
    if kind == "trunk_compose":
        return TrunkComposeFusion(base_channels, depth, colour, fill, keep, kept_gate, fill_ramp)
    if kind == "compose":
        return ComposeFusion(base_channels, depth, colour, fill)
    if kind == "unet":
        if fill:
            raise ValueError("fusion unet composes nothing, so it takes no fill source (fill=False)")
        return UNetFusion(base_channels, depth, colour)
    raise ValueError(f"fusion: expected one of {list(KINDS)}, got {kind!r}")
