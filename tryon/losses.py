"""Loss terms of the method ([0186]-[0204]) plus the flow supervision departure; each returns a
scalar tensor, and :func:`combine` weights a dict of named terms (weights from ``params.yaml``).

Conventions: images [B,3,H,W] in [-1,1]; masks [B,1,H,W] in {0,1} (soft values allowed);
sampling grids [B,2,H,W] with (x, y) on the channel axis, normalised to [-1,1], align_corners=False.
The VGG extractor is passed in explicitly (:class:`tryon.nets.vgg.VGGFeatures`), never built here.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from tryon.nets.vgg import VGGFeatures


def _check_pair(name: str, a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")


def resize_for_vgg(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images [B,C,H,W] resized to ``size`` x ``size`` (bilinear, antialiased) before a VGG term, to bound
    its CPU cost; ``size`` 0 (or the current size) returns ``x`` unchanged."""
    if size <= 0 or x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def gram_matrix(feat: torch.Tensor) -> torch.Tensor:
    """[B,C,H,W] features -> [B,C,C] Gram matrix F F^T / (C*H*W) (an alignment-free statistic)."""
    b, c, h, w = feat.shape
    f = feat.reshape(b, c, h * w)  # [B, C, H*W]
    return f @ f.transpose(1, 2) / (c * h * w)  # [B, C, C]


def vgg_distance(
    pred: torch.Tensor, target: torch.Tensor, vgg: VGGFeatures, mode: str = "feature"
) -> torch.Tensor:
    """Multi-scale VGG distance: ``sum_i (1/R_i) ||F_i(pred) - F_i(target)||_1`` over the extractor's layers.

    ``mode="feature"`` is the method's reading ([0190]-[0193]: R_i = number of elements of layer i, so
    each term is a mean absolute difference); it assumes pred and target are pixel-aligned.
    ``mode="gram"`` compares Gram matrices instead (mean absolute difference of [C,C] matrices), the
    sound reading when the target shows a different person ([0182]). Target features get no gradient.
    pred, target: [B,3,H,W] in [-1,1]. Returns a scalar (mean over the batch).
    """
    _check_pair("vgg_distance", pred, target)
    if mode not in ("feature", "gram"):
        raise ValueError(f"style mode: expected 'feature' or 'gram', got {mode!r}")
    fp = vgg(pred)
    with torch.no_grad():
        ft = vgg(target)
    total = pred.new_zeros(())
    for name in fp:
        if mode == "feature":
            total = total + (fp[name] - ft[name]).abs().mean()
        else:
            total = total + (gram_matrix(fp[name]) - gram_matrix(ft[name])).abs().mean()
    return total


def style_loss(
    pred: torch.Tensor, target: torch.Tensor, vgg: VGGFeatures, mode: str = "feature"
) -> torch.Tensor:
    """L_style between the generated contour ĥ (``pred``) and the body contour image h (``target``).

    pred, target: [B,3,H,W] in [-1,1]; see :func:`vgg_distance` for ``mode``. Scalar, >= 0, 0 iff the
    features (or Gram matrices) agree.
    """
    return vgg_distance(pred, target, vgg, mode)


def mask_l1(pred_mask: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| of two [B,1,H,W] masks in [0,1] (the garment-contour distance of L_warp)."""
    _check_pair("mask_l1", pred_mask, target_mask)
    return (pred_mask - target_mask).abs().mean()


def warp_loss(
    warped: torch.Tensor,
    worn: torch.Tensor,
    warped_mask: torch.Tensor,
    worn_mask: torch.Tensor,
    vgg: VGGFeatures,
) -> dict[str, torch.Tensor]:
    """L_warp ([0194]-[0199]) as named terms.

    Args:
        warped: [B,3,H,W] in [-1,1], the warped garment image (garment sampled at the predicted grid).
        worn: [B,3,H,W] in [-1,1], the garment as worn in the model image. Both images are compared as
            given: zero (or fill identically) everything outside the garment in both, e.g.
            ``worn = person * worn_mask`` and ``warped = warped * warped_mask``.
        warped_mask, worn_mask: [B,1,H,W] in [0,1], their garment masks (contours).
        vgg: the frozen extractor.
    Returns ``{"vgg": multi-scale feature distance, "mask": mask L1}`` (weight them with :func:`combine`).
    """
    return {"vgg": vgg_distance(warped, worn, vgg, "feature"), "mask": mask_l1(warped_mask, worn_mask)}


def rec_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """L_rec = mean |pred - target| ([0200]); with ``mask`` [B,1,H,W] the mean runs over masked pixels."""
    _check_pair("rec_loss", pred, target)
    diff = (pred - target).abs()
    if mask is None:
        return diff.mean()
    return (diff * mask).sum() / (mask.sum() * pred.shape[1]).clamp_min(1.0)


def flow_loss(pred_grid: torch.Tensor, gt_grid: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Masked L1 between sampling grids (a departure from the method: see FINDINGS.md, the method's
    photometric losses alone do not start the global matcher on synthetic data).

    pred_grid, gt_grid: [B,2,H,W], (x, y) normalised to [-1,1], align_corners=False.
    valid: [B,1,H,W] in {0,1}, where the ground truth flow is defined (all zero on real data).
    Returns the mean |pred - gt| over valid pixels and both coordinates; 0 (still attached to the graph)
    when nothing is valid, so real-data batches do not break the loop.
    """
    _check_pair("flow_loss", pred_grid, gt_grid)
    if pred_grid.ndim != 4 or pred_grid.shape[1] != 2:
        raise ValueError(f"flow_loss: expected grids [B,2,H,W], got {tuple(pred_grid.shape)}")
    diff = (pred_grid - gt_grid).abs() * valid  # [B,2,H,W]
    return diff.sum() / (2.0 * valid.sum()).clamp_min(1.0)


def combine(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
    """Weighted sum of named loss terms: returns the terms (unweighted, for logging) plus ``"total"``.

    Every term needs a weight and every weight a term (a misspelled name fails instead of silently
    dropping a loss). A weight of 0 keeps the term in the log but out of the total.
    """
    missing = sorted(set(terms) - set(weights))
    extra = sorted(set(weights) - set(terms))
    if missing or extra or "total" in terms:
        raise ValueError(
            f"loss weights: terms {sorted(terms)} and weights {sorted(weights)} must name the same terms"
            " (and none may be called 'total')"
        )
    out = dict(terms)
    total = None
    for name, t in terms.items():
        w = float(weights[name])
        if w == 0.0:
            continue
        total = w * t if total is None else total + w * t
    if total is None:
        total = next(iter(terms.values())).new_zeros(()) if terms else torch.zeros(())
    out["total"] = total
    return out


class Criterion:
    """Holds the weights of a stage and combines named terms: ``Criterion({"style": 1, "l1": 1})(terms)``."""

    def __init__(self, weights: Mapping[str, float]):
        bad = {k: v for k, v in weights.items() if not float(v) >= 0.0}
        if bad:
            raise ValueError(f"loss weights must be >= 0, got {bad}")
        self.weights = dict(weights)

    def __call__(self, terms: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return combine(terms, self.weights)

    def __repr__(self) -> str:
        return f"Criterion({self.weights})"


__all__ = [
    "Criterion", "combine", "flow_loss", "gram_matrix", "mask_l1", "rec_loss", "style_loss",
    "vgg_distance", "warp_loss",
]  # fmt: skip
