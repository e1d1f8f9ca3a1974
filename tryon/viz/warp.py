"""Figures of the 04_warp report: rows of the association matrix M, flows, warped garments.

Every ``fig_*`` function takes tensors already computed (a collated ``batch`` and the WarpNet
``out`` dict, on the CPU, see :func:`tryon.stages.warp.predict`) and returns a matplotlib Figure; no
training or file I/O happens here. Flows are shown as the displacement person pixel -> garment pixel
(pixels at the working size), colour-coded by :func:`tryon.viz.images.flow_to_rgb` (hue = direction).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tryon.geometry import grid_pixel_distance, grid_to_flow, warp
from tryon.matching import matching_rows, soft_argmax
from tryon.viz.images import colour_wheel, flow_to_rgb, to_image

QUERY_NAMES: tuple[str, ...] = ("shoulder", "chest", "hem", "sleeve")
_COLOURS = ("tab:red", "tab:blue", "tab:green", "tab:orange")

__all__ = [
    "QUERY_NAMES",
    "checkerboard",
    "query_points",
    "fig_matching_rows",
    "fig_flow",
    "fig_real",
    "fig_history",
]


def _plt():
    # never choose a backend here: that is the caller's (a notebook's inline backend must survive)
    import matplotlib.pyplot as plt

    return plt


def checkerboard(size: int, cells: int = 8, batch: int = 1) -> torch.Tensor:
    """A black/white checkerboard ``[B, 3, S, S]`` in [-1, 1] with ``cells`` squares per side."""
    idx = torch.arange(size) * cells // size  # [S]
    board = ((idx[:, None] + idx[None, :]) % 2).float() * 2 - 1  # [S, S]
    return board[None, None].expand(batch, 3, size, size).clone()


def query_points(worn_mask: torch.Tensor) -> dict[str, tuple[int, int]]:
    """Named query pixels (x, y) on the worn garment region ``[1, H, W]`` (or ``[H, W]``).

    * chest: the region's centre column, 30 % down from its top;
    * hem: the centre column, 3 rows above the region's bottom;
    * shoulder: 12 % down from the top, 20 % in from the left end of that row;
    * sleeve: the leftmost pixel of the region (a sleeve end, or the torso's side for a tank top),
      moved 2 px inwards.
    Every point is snapped to the nearest pixel of the region eroded by 3 px (of the region itself when
    the erosion is empty); an empty region gives the image centre.
    """
    m = (worn_mask.reshape(worn_mask.shape[-2:]) > 0.5).cpu()
    h, w = m.shape
    ys, xs = torch.nonzero(m, as_tuple=True)
    if len(ys) == 0:
        return {n: (w // 2, h // 2) for n in QUERY_NAMES}
    top, bottom = int(ys.min()), int(ys.max())
    cx = int(xs.float().median())

    def row_span(y: int) -> tuple[int, int]:
        cols = torch.nonzero(m[y], as_tuple=True)[0]
        return (int(cols.min()), int(cols.max())) if len(cols) else (cx, cx)

    ys_sh = top + round(0.12 * (bottom - top))
    l_sh, r_sh = row_span(ys_sh)
    left = int(xs.min())
    y_left = int(ys[xs == left].float().median())
    raw = {
        "shoulder": (l_sh + round(0.2 * (r_sh - l_sh)), ys_sh),
        "chest": (cx, top + round(0.3 * (bottom - top))),
        "hem": (cx, max(bottom - 3, top)),
        "sleeve": (left + 2, y_left),
    }
    # snap to the region eroded by 3 px where possible: a query on the very edge mostly shows how the
    # matcher treats background, not the garment
    inner = 1 - F.max_pool2d(1 - m[None, None].float(), 7, stride=1, padding=3)[0, 0]  # [H, W]
    if inner.sum() > 0:
        ys, xs = torch.nonzero(inner > 0.5, as_tuple=True)
    pts = torch.stack([xs, ys], 1).float()  # [P, 2]
    out = {}
    for name, (x, y) in raw.items():
        k = int(((pts - torch.tensor([x, y], dtype=torch.float32)) ** 2).sum(1).argmin())
        out[name] = (int(pts[k, 0]), int(pts[k, 1]))
    return out


def _norm_to_pixel(xy: torch.Tensor, size: tuple[int, int]) -> tuple[float, float]:
    """Normalised (x, y) (align_corners=False) -> pixel coordinates of an ``H x W`` image."""
    h, w = size
    return float(((xy[0] + 1) * w - 1) / 2), float(((xy[1] + 1) * h - 1) / 2)


def fig_matching_rows(
    batch: dict,
    out: dict,
    index: int = 0,
    points: dict[str, tuple[int, int]] | None = None,
    *,
    temperature: float = 1.0,
    person_key: str = "person",
):
    """Rows of M for named query points: heatmaps over the garment with the soft-argmax marked.

    Panel 0: the person with the query points. Then one panel per point: the row of M (the
    association weights of that person position over all garment positions, at feature resolution,
    upsampled for display) over the garment image; ``x`` = its soft-argmax (= the low-res grid of that cell,
    before upsampling), ``o`` = the ground-truth garment point when ``flow_valid`` holds there.
    """
    plt = _plt()
    h, w = batch["garment"].shape[-2:]
    points = points or query_points(batch["worn_mask"][index])
    t1 = out["feat_contour"][index : index + 1]  # [1, C, h, w]
    c1 = out["feat_garment"][index : index + 1]  # [1, C, hg, wg]
    sy, sx = h / t1.shape[-2], w / t1.shape[-1]
    q = torch.tensor([[[int(x / sx), int(y / sy)] for x, y in points.values()]])  # [1, Q, 2] feature px
    with torch.no_grad():
        rows = matching_rows(t1, c1, q, temperature=temperature)  # [1, Q, hg, wg]
        centres = soft_argmax(rows)[0]  # [Q, 2] normalised
    fig, axes = plt.subplots(1, len(points) + 1, figsize=(3.0 * (len(points) + 1), 3.2))
    axes[0].imshow(to_image(batch[person_key][index]))
    for (name, (x, y)), col in zip(points.items(), _COLOURS, strict=False):
        axes[0].scatter([x], [y], s=60, c=col, edgecolors="white", label=name)
    axes[0].legend(fontsize=7, loc="lower right")
    axes[0].set_title("query points")
    garment = to_image(batch["garment"][index])
    for k, ((name, (x, y)), col) in enumerate(zip(points.items(), _COLOURS, strict=False)):
        ax = axes[k + 1]
        heat = F.interpolate(rows[:, k : k + 1], size=(h, w), mode="nearest")[0, 0].numpy()  # [H, W]
        ax.imshow(garment * 0.5 + 0.5)
        ax.imshow(heat, cmap="magma", alpha=0.65)
        px, py = _norm_to_pixel(centres[k], (h, w))
        ax.scatter([px], [py], marker="x", s=80, c=col, linewidths=2.5, label="soft-argmax")
        if batch["flow_valid"][index, 0, y, x] > 0.5:
            gx, gy = _norm_to_pixel(batch["gt_grid"][index, :, y, x], (h, w))
            ax.scatter([gx], [gy], marker="o", s=80, facecolors="none", edgecolors="cyan", linewidths=2,
                       label="ground truth")  # fmt: skip
        ax.set_title(f"{name}: row of M (max {heat.max():.2f})", fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def fig_flow(batch: dict, out: dict, index: int = 0, *, cells: int = 8, person_key: str = "contour"):
    """Predicted vs ground-truth flow, end-point-error map, warped vs worn garment, warped checkerboard.

    Flows are person pixel -> garment pixel displacements inside the worn region (white outside);
    both use the same colour scale (the GT's 99th-percentile magnitude); the EPE map is in pixels
    inside ``flow_valid``.
    """
    plt = _plt()
    i = index
    h, w = batch["garment"].shape[-2:]
    worn = batch["worn_mask"][i : i + 1]  # [1, 1, H, W]
    valid = batch["flow_valid"][i : i + 1] > 0.5
    pred_grid, gt_grid = out["grid"][i : i + 1], batch["gt_grid"][i : i + 1]
    f_pred = grid_to_flow(pred_grid)[0] * worn[0]  # [2, H, W] pixels
    f_gt = grid_to_flow(gt_grid)[0] * worn[0]
    vmax = float(np.percentile(f_gt.norm(dim=0)[worn[0, 0] > 0.5].numpy(), 99)) if worn.sum() > 0 else None
    epe = grid_pixel_distance(pred_grid, gt_grid, (h, w))[0, 0]  # [H, W]
    epe_show = np.where(valid[0, 0].numpy(), epe.numpy(), np.nan)
    mean_epe = float(epe[valid[0, 0]].mean()) if valid.any() else float("nan")
    board = checkerboard(w, cells)  # [1, 3, S, S]
    panels = [
        (to_image(batch[person_key][i]), person_key),
        (flow_to_rgb(f_pred, vmax), "predicted flow"),
        (flow_to_rgb(f_gt, vmax), "ground-truth flow"),
        (None, f"EPE (px), mean {mean_epe:.2f}"),
        (to_image(out["warped"][i] * out["warped_mask"][i]), "warped garment"),
        (to_image(batch["person"][i] * worn[0]), "worn garment"),
        (to_image(warp(board, pred_grid)[0] * worn[0]), "checkerboard, predicted"),
        (to_image(warp(board, gt_grid)[0] * worn[0]), "checkerboard, ground truth"),
    ]
    fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
    for ax, (img, title) in zip(axes.flat, panels, strict=True):
        if img is None:
            im = ax.imshow(epe_show, cmap="viridis", vmin=0)
            fig.colorbar(im, ax=ax, fraction=0.046)
        else:
            ax.imshow(img)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    wheel = axes[0, 2].inset_axes([0.78, 0.0, 0.22, 0.22])
    wheel.imshow(colour_wheel(48))
    wheel.axis("off")
    fig.tight_layout()
    return fig


def fig_real(
    batch: dict, out: dict, indices=None, ious: list[float] | None = None, *, contour_note: str = ""
):
    """Real pairs: person, flat garment, warped garment composited over the person, and the warped mask
    (red) against the worn-garment region (green; overlap yellow) with their IoU."""
    plt = _plt()
    indices = list(range(batch["garment"].shape[0])) if indices is None else list(indices)
    fig, axes = plt.subplots(len(indices), 4, figsize=(10, 2.7 * len(indices)), squeeze=False)
    for r, i in enumerate(indices):
        m = out["warped_mask"][i]  # [1, H, W]
        comp = batch["person"][i] * (1 - m) + out["warped"][i] * m  # [3, H, W]
        worn = batch["worn_mask"][i, 0].numpy() > 0.5
        pred = m[0].numpy() > 0.5
        overlay = np.stack([pred, worn, np.zeros_like(pred)], -1).astype(np.float32)
        iou = ious[r] if ious is not None else float((pred & worn).sum() / max((pred | worn).sum(), 1))
        cells = [
            (to_image(batch["person"][i]), f"person {batch['id'][i] if 'id' in batch else i}"),
            (to_image(batch["garment"][i]), "garment"),
            (to_image(comp), "warped over person"),
            (overlay, f"mask IoU {iou:.3f}"),
        ]
        for ax, (img, title) in zip(axes[r], cells, strict=True):
            ax.imshow(img)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    if contour_note:
        fig.suptitle(contour_note, fontsize=9)
    fig.tight_layout()
    return fig


def fig_history(history: list[dict], terms=("flow", "warp_mask", "warp_vgg", "total")):
    """Training curves of the logged loss terms (log scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [r["step"] for r in history]
    for t in terms:
        vals = [r.get(t, np.nan) for r in history]
        if any(v > 0 for v in vals if v == v):
            ax.plot(steps, vals, label=t)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    return fig
