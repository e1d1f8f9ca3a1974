"""Evaluation metrics (stage 06_evaluate): image quality, geometry, identity, breakdowns.

Conventions: images are float tensors [B,3,H,W] in [-1,1] (mapped to [0,1] for the metrics), masks
[B,1,H,W] in {0,1}, grids [B,2,H,W] normalised [-1,1] with align_corners=False, x first.

* SSIM: one function, :func:`ssim_image` (``skimage.metrics.structural_similarity`` with
  :data:`SSIM_SETTINGS`: Gaussian weights, sigma 1.5, no sample-covariance correction, the settings of
  Wang et al. 2004), on [0,1] RGB (data range 1).
* PSNR on [0,1] images (data range 1). L1 on [-1,1] images (mean absolute difference).
* End-point error: Euclidean distance between predicted and ground-truth garment positions, in pixels
  of the garment image at the working size, averaged over valid pixels.
* IoU of binary masks (threshold 0.5).
* Silhouette IoU of contour images: foreground = pixels that differ from the background colour of the
  image (the contour images have a uniform background; see :func:`contour_foreground`).
* Identity SSIM: SSIM restricted to the trunk region (face, neck, hands ...): the SSIM map averaged
  inside the mask.
* LPIPS / FID / KID need pretrained weights that cannot be downloaded here: :func:`optional_metric`
  reports them as ``"not computed: no weights"`` unless a local path is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from skimage.metrics import structural_similarity

NOT_COMPUTED = "not computed: no weights"


def _to_unit_np(img: torch.Tensor) -> np.ndarray:
    """[3,H,W] in [-1,1] -> [H,W,3] float64 in [0,1]."""
    return ((img.detach().float().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy().astype(np.float64)


#: The one SSIM setting of the project (Wang et al. 2004): Gaussian window, sigma 1.5, population
#: (not sample) covariance; scikit-image's defaults for K1 = 0.01, K2 = 0.03.
SSIM_SETTINGS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def ssim_image(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, full: bool = False):
    """SSIM of two float images [H,W,3] (channels averaged) or [H,W], :data:`SSIM_SETTINGS`.

    ``data_range``: the value range of the images (1.0 for [0,1] images). Returns the mean SSIM, or
    ``(mean, ssim_map)`` with ``full=True`` (the map has the images' shape)."""
    channel = {"channel_axis": -1} if a.ndim == 3 else {}
    return structural_similarity(a, b, data_range=data_range, full=full, **channel, **SSIM_SETTINGS)


def ssim(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> list[float]:
    """Per-image SSIM (:func:`ssim_image`) of [B,3,H,W] images in [-1,1], measured on [0,1]; with
    ``mask`` [B,1,H,W], the SSIM map's mean inside the mask (NaN where the mask is empty)."""
    out = []
    for i in range(pred.shape[0]):
        a, b = _to_unit_np(pred[i]), _to_unit_np(target[i])
        if mask is None:
            out.append(float(ssim_image(a, b)))
        else:
            _, smap = ssim_image(a, b, full=True)
            m = mask[i, 0].detach().cpu().numpy() > 0.5
            out.append(float(smap.mean(axis=-1)[m].mean()) if m.any() else math.nan)
    return out


def psnr(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Per-image PSNR (dB) of [B,3,H,W] images in [-1,1], measured on [0,1]."""
    mse = (((pred.detach().float() - target.detach().float()) / 2) ** 2).flatten(1).mean(1)
    return [float("inf") if m == 0 else float(-10 * torch.log10(m)) for m in mse]


def l1(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Per-image mean absolute difference of images in [-1,1]."""
    return (pred.detach().float() - target.detach().float()).abs().flatten(1).mean(1).tolist()


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> list[float]:
    """Per sample: mean |pred - target| (over channels) on the pixels of ``mask`` [B,1,H,W]; NaN for a
    sample whose mask is empty."""
    err = (pred.detach().float() - target.detach().float()).abs().mean(1, keepdim=True)
    m = (mask > 0.5).float()
    n = m.flatten(1).sum(1)
    s = (err * m).flatten(1).sum(1)
    return [float(a / b) if b > 0 else math.nan for a, b in zip(s.tolist(), n.tolist(), strict=True)]


def mask_iou(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Per-image IoU of [B,1,H,W] masks thresholded at 0.5 (1.0 when both are empty)."""
    a, b = pred.detach() > 0.5, target.detach() > 0.5
    inter = (a & b).flatten(1).sum(1).float()
    union = (a | b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union)).tolist()


def end_point_error(pred_grid: torch.Tensor, gt_grid: torch.Tensor, valid: torch.Tensor) -> list[float]:
    """Per-image mean EPE in pixels at the working size, inside ``valid`` [B,1,H,W] (NaN when empty).

    Grids are normalised [-1,1] (align_corners=False): a unit of x is W/2 pixels, of y is H/2 pixels.
    """
    h, w = pred_grid.shape[-2:]
    scale = torch.tensor([w / 2, h / 2], device=pred_grid.device).view(1, 2, 1, 1)
    err = ((pred_grid.detach() - gt_grid) * scale).norm(dim=1, keepdim=True)  # [B,1,H,W] pixels
    v = valid > 0.5
    return [float(err[i][v[i]].mean()) if v[i].any() else math.nan for i in range(err.shape[0])]


def contour_foreground(contour: torch.Tensor, tol: float = 0.1) -> torch.Tensor:
    """Foreground mask [B,1,H,W] of contour images [B,3,H,W] in [-1,1]: pixels farther than ``tol``
    (max over channels) from the background colour, taken as the median of the image border."""
    border = torch.cat(
        [contour[..., 0, :], contour[..., -1, :], contour[..., :, 0], contour[..., :, -1]], dim=-1
    )  # [B,3,2H+2W]
    bg = border.median(dim=-1).values[..., None, None]  # [B,3,1,1]
    return ((contour - bg).abs().amax(dim=1, keepdim=True) > tol).float()


def silhouette_iou(pred_contour: torch.Tensor, gt_contour: torch.Tensor, tol: float = 0.1) -> list[float]:
    return mask_iou(contour_foreground(pred_contour, tol), contour_foreground(gt_contour, tol))


def optional_metric(weights_path: str, name: str) -> str | None:
    """``None`` when a local weights path is given (the caller computes the metric), else the reason."""
    return None if weights_path else f"{name} {NOT_COMPUTED}"


def bootstrap_ci(
    values: Iterable[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> list[float]:
    """Percentile bootstrap interval of the mean over samples: ``[low, high]`` at ``level`` (NaN and inf
    values are left out; ``[nan, nan]`` with fewer than two). Seeded, so a figure's interval is the same
    on every run."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    if len(v) < 2:
        return [math.nan, math.nan]
    means = v[np.random.default_rng(seed).integers(0, len(v), (n_boot, len(v)))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


def paired_bootstrap_diff(
    model_values: Iterable[float],
    baseline_values: Iterable[float],
    lower_is_better: bool = False,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Is the model better than a baseline on the same samples? The mean of the per-sample differences
    ``model - baseline`` and its percentile bootstrap interval, the pairs resampled together (a sample
    that is hard for both does not widen the interval, unlike two separate intervals).

    ``model_values[i]`` and ``baseline_values[i]`` are one sample's figure (same length); a pair with a
    NaN or inf on either side is left out. Returns ``{"diff": mean difference, "ci95": [low, high],
    "beats": bool, "n": pairs used}``: ``beats`` is true only when the interval excludes 0 on the better
    side (``high < 0`` when ``lower_is_better``, ``low > 0`` else). Fewer than two pairs: no interval
    (``[nan, nan]``) and ``beats`` false. Seeded, as :func:`bootstrap_ci`."""
    a = np.asarray(list(model_values), dtype=np.float64)
    b = np.asarray(list(baseline_values), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap_diff: {len(a)} model values but {len(b)} baseline values")
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]  # [n] per-pair differences
    if len(d) < 2:
        diff = float(d.mean()) if len(d) else math.nan
        return {"diff": diff, "ci95": [math.nan, math.nan], "beats": False, "n": int(len(d))}
    means = d[np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))].mean(1)  # [n_boot]
    lo, hi = (float(x) for x in np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2]))
    beats = hi < 0 if lower_is_better else lo > 0
    return {"diff": float(d.mean()), "ci95": [lo, hi], "beats": bool(beats), "n": int(len(d))}


def ci_apart(a: Iterable[float], b: Iterable[float]) -> bool:
    """Two ``[low, high]`` intervals that do not overlap (how the reports decide a win)."""
    (a0, a1), (b0, b1) = a, b
    return bool(a1 < b0 or b1 < a0)


def summarise(
    rows: Iterable[dict], group_by: Iterable[str], metrics: Iterable[str], ci: bool = False
) -> dict:
    """Mean of each metric overall and per value of each ``group_by`` column (pandas), NaN-aware.

    Returns ``{"overall": {metric: mean}, "<column>": {value: {metric: mean, "n": count}}}``; with
    ``ci`` the overall figures also get ``<metric>_ci95``, a bootstrap 95% interval over the rows
    (:func:`bootstrap_ci`).
    """
    import pandas as pd

    df = pd.DataFrame(list(rows))
    metrics = [m for m in metrics if m in df.columns]
    out: dict = {"overall": {m: float(df[m].mean()) for m in metrics}, "n": len(df)}
    if ci:
        out["overall"] |= {f"{m}_ci95": bootstrap_ci(df[m].astype(float)) for m in metrics}
    for col in group_by:
        if col in df.columns:
            g = df.groupby(col)[metrics]
            table = g.mean()
            table["n"] = g.size()
            out[col] = {str(k): {m: float(v) for m, v in r.items()} for k, r in table.iterrows()}
    return out
