"""The full try-on network ([0098]-[0100], [0177]): text MLP -> contour generator -> warping network
-> fusion, trained end to end.

``TryOnNet.forward`` takes named tensors and returns a dict of named outputs; nothing here reads a
config object (see :mod:`tryon.nets.build` for the params -> arguments mapping).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from tryon.geometry import erode, grid_into_mask
from tryon.geometry import warp as warp_image
from tryon.nets.contour import ContourGenerator
from tryon.nets.text_mlp import TextMLP


class TryOnNet(nn.Module):
    """Compose the four sub-networks of the method.

    forward(code [B, n] float text code, trunk [B,3,H,W] in [-1,1], garment [B,3,H,W] in [-1,1],
    garment_mask [B,1,H,W] in {0,1}; keep= [B,3,H,W], keep_mask= [B,1,H,W] in {0,1}: the photo on the
    regions the ``trunk_compose`` fusion keeps, :func:`tryon.data.labels.keep_mask`; protect_mask=
    [B,1,H,W]: where the garment never lands, taken off the warped mask the fusion sees,
    :func:`tryon.data.labels.protect_mask`; pose= [B,P,H,W]: the pose map, read by a contour generator
    built with ``pose_channels``, :func:`tryon.data.pose.pose_map`) -> dict:

    - ``body_map`` [B,1,H,W]: the body feature map from the text,
    - ``contour`` [B,3,H,W]: the generated model contour image (in [-1,1]),
    - ``grid`` [B,2,H,W]: for every person pixel its (x, y) in the garment, normalised [-1,1]
      (align_corners=False, x first); ``warped`` [B,3,H,W] and ``warped_mask`` [B,1,H,W],
    - ``tryon`` [B,3,H,W]: the predicted try-on image; fusion-specific extras (``alpha``, ...); with a
      fill fusion also ``filled`` and ``fill_cover`` (:func:`fill_source`).

    The fusion also gets the flat garment's mean colour inside ``garment_mask`` (``garment_colour``
    [B,3,1,1]; 0 for an empty mask), which it reads when built with ``colour=True``.

    Ablations (stage 06): ``zero_text=True`` feeds an all-zero text code (the body map then carries no
    shape information); ``warp_guide="trunk"`` guides the warp by the trunk map instead of the
    generated contour image (what the method argues against); ``contour_override`` uses a given
    contour image (e.g. the ground truth) for the warp and the fusion.
    """

    def __init__(
        self, text_mlp: TextMLP, contour_gen: ContourGenerator, warp_net: nn.Module, fusion: nn.Module
    ):
        super().__init__()
        self.text_mlp = text_mlp
        self.contour_gen = contour_gen
        self.warp_net = warp_net
        self.fusion = fusion

    def forward(
        self,
        code: torch.Tensor,
        trunk: torch.Tensor,
        garment: torch.Tensor,
        garment_mask: torch.Tensor,
        *,
        zero_text: bool = False,
        warp_guide: Literal["contour", "trunk"] = "contour",
        contour_override: torch.Tensor | None = None,
        keep: torch.Tensor | None = None,
        keep_mask: torch.Tensor | None = None,
        protect_mask: torch.Tensor | None = None,
        pose: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        if zero_text:
            code = torch.zeros_like(code)
        body_map = self.text_mlp(code, tuple(trunk.shape[-2:]))["body_map"]  # [B,1,H,W]
        extra = () if pose is None else (pose,)  # a generator without a pose input takes two arguments
        contour = self.contour_gen(body_map, trunk, *extra)["contour"]  # [B,3,H,W]
        guide_contour = contour if contour_override is None else contour_override
        guide = guide_contour if warp_guide == "contour" else trunk
        warp = self.warp_net(guide, garment, garment_mask)
        placed = warp["warped_mask"] if protect_mask is None else warp["warped_mask"] * (1 - protect_mask)
        m = garment_mask.sum(dim=(2, 3), keepdim=True).clamp(min=1.0)  # [B, 1, 1, 1]
        colour = (garment * garment_mask).sum(
            dim=(2, 3), keepdim=True
        ) / m  # [B, 3, 1, 1] mean garment colour
        use_fill = getattr(self.fusion, "fill", False)  # a fusion without the attribute takes no fill
        fill = fill_source(warp["grid"], garment, garment_mask, protect_mask) if use_fill else {}
        fused = self.fusion(
            warp["warped"],
            placed,
            guide_contour,
            keep=keep,
            keep_mask=keep_mask,
            garment_colour=colour,
            **fill,
        )
        return {"body_map": body_map, "contour": contour, **warp, **fill, **fused}


def fill_source(
    grid: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor, protect_mask: torch.Tensor | None
) -> dict[str, torch.Tensor]:
    """The fusion's fill source (``05_train.fusion_fill``) at the working size: ``filled`` [B, 3, H, W], the
    garment sampled by ``grid`` moved into the garment mask eroded by one pixel (its anti-aliased border
    left out; :func:`tryon.geometry.grid_into_mask`), and ``fill_cover`` [B, 1, H, W]: 0 on
    ``protect_mask`` and for a garment mask that the erosion empties."""
    core = erode(garment_mask, 1)
    filled = warp_image(garment, grid_into_mask(grid, core))
    cover = (core.amax(dim=(2, 3), keepdim=True) >= 0.5).to(garment.dtype).expand_as(garment_mask)
    return {"filled": filled, "fill_cover": cover if protect_mask is None else cover * (1 - protect_mask)}
