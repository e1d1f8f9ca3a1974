"""The training step of end-to-end training (stage 05, [0177]): the method's losses on one batch.

loss = λ0 L_style + λ1 L_warp + λ2 L_rec, plus two terms that the synthetic ground truth allows and
the method does not have (departures, stated in the stage-05 report): ``flow`` (L1 of the predicted
grid to the ground-truth grid; FINDINGS.md: the matcher does not learn without it) and ``contour_l1``
(pixel L1 of the generated contour to the ground-truth contour image). L_warp is its two named terms
(``warp_vgg``, ``warp_mask``), both weighted by λ1. :func:`make_step_fn` returns the
``step_fn(model, batch)`` that :func:`tryon.train.loop.fit` calls.
"""

from __future__ import annotations

import torch

from tryon.config import Params
from tryon.losses import Criterion, flow_loss, rec_loss, resize_for_vgg, style_loss, warp_loss
from tryon.nets.model import TryOnNet


def make_step_fn(vgg, weights: dict[str, float], style_mode: str, vgg_size: int = 0):
    """``step_fn(model, batch) -> named terms + "total"``. A term with weight 0 is logged as 0 and not
    computed (the VGG terms dominate a CPU step)."""
    criterion = Criterion(weights)

    def step_fn(model: TryOnNet, b: dict) -> dict[str, torch.Tensor]:
        out = model(b["code"], b["trunk"], b["garment"], b["garment_mask"], trunk_mask=b["trunk_mask"])
        zero = out["tryon"].new_zeros(())
        has = b["has_contour"].float().view(-1, 1, 1, 1)  # real samples have no contour image
        worn_mask = b["worn_mask"]
        warped, worn = out["warped"] * out["warped_mask"], b["person"] * worn_mask
        terms = {
            "style": style_loss(
                resize_for_vgg(out["contour"] * has, vgg_size),
                resize_for_vgg(b["contour"] * has, vgg_size),
                vgg,
                style_mode,
            )
            if weights["style"] > 0
            else zero,
            "warp_vgg": warp_loss(
                resize_for_vgg(warped, vgg_size), resize_for_vgg(worn, vgg_size), worn_mask, worn_mask, vgg
            )["vgg"]
            if weights["warp_vgg"] > 0
            else zero,
            "warp_mask": (out["warped_mask"] - worn_mask).abs().mean(),  # the mask term of L_warp
            # without it L_rec pulls garment texture into the contour image (seen in the first CPU runs)
            "contour_l1": rec_loss(out["contour"] * has, b["contour"] * has),
            "rec": rec_loss(out["tryon"], b["person"]),
            "flow": flow_loss(out["grid"], b["gt_grid"], b["flow_valid"]),
        }
        return criterion(terms)

    return step_fn


def loss_weights(params: Params) -> dict[str, float]:
    t = params.train
    return {
        "style": t.lambda_style,
        "warp_vgg": t.lambda_warp,
        "warp_mask": t.lambda_warp,
        "rec": t.lambda_rec,
        "flow": t.lambda_flow,
        "contour_l1": t.lambda_contour,
    }
