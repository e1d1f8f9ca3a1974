"""Figures for the training and evaluation reports (matplotlib; plotting only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch


def to_image(t: torch.Tensor) -> np.ndarray:
    """[3,H,W] in [-1,1] (or [1,H,W] in [0,1]) -> [H,W,3] / [H,W] float in [0,1] for imshow."""
    t = t.detach().float().cpu()
    if t.shape[0] == 1:
        return t[0].clamp(0, 1).numpy()
    return ((t.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def image_grid(
    columns: dict[str, Sequence[torch.Tensor]], row_titles: Sequence[str] | None = None, size: float = 1.8
):
    """A grid of images: one column per key of ``columns`` (its title), one row per sample."""
    names = list(columns)
    n = len(columns[names[0]])
    fig, axes = plt.subplots(n, len(names), figsize=(size * len(names), size * n), squeeze=False)
    for r in range(n):
        for c, name in enumerate(names):
            ax = axes[r, c]
            img = to_image(columns[name][r])
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=9)
            if c == 0 and row_titles is not None:
                ax.set_ylabel(row_titles[r], fontsize=7)
    fig.tight_layout()
    return fig


def loss_curves(history: list[dict], title: str = "training loss terms"):
    """One line per named loss term (log scale) and the learning rate, against the step."""
    if not history:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.text(0.5, 0.5, "no logged steps", ha="center")
        return fig
    steps = [h["step"] for h in history]
    terms = [k for k in history[0] if k not in ("step", "lr")]
    fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(11, 3.5), gridspec_kw={"width_ratios": [3, 1]})
    for k in terms:
        vals = [h[k] for h in history]
        ax.plot(steps, vals, label=k, lw=2.5 if k == "total" else 1.2)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    ax_lr.plot(steps, [h["lr"] for h in history])
    ax_lr.set_title("learning rate")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    return fig


def source_curves(history: list[dict], title: str = "real / mixed phase"):
    """The per-source terms of a mixed run (``syn/<term>``, ``real/<term>`` of
    :func:`tryon.train.step.make_step_fn`): one panel per source, one line per term (log scale)."""
    sources = [s for s in ("syn", "real") if history and any(k.startswith(f"{s}/") for k in history[0])]
    if not sources:
        return loss_curves(history, title)
    steps = [h["step"] for h in history]
    fig, axes = plt.subplots(1, len(sources), figsize=(5.5 * len(sources), 3.5), squeeze=False)
    for ax, src in zip(axes[0], sources, strict=True):
        for k in [k for k in history[0] if k.startswith(f"{src}/")]:
            vals = np.array([h[k] for h in history], dtype=float)
            if np.all(vals == 0):
                continue  # a term that does not apply to this source (flow on real, smooth on synthetic)
            ax.plot(steps, np.maximum(vals, 1e-6), label=k.split("/", 1)[1])
        ax.set_yscale("log")
        ax.set_xlabel("step of the phase")
        ax.set_title(f"{title}: {'synthetic' if src == 'syn' else 'real'} samples")
        ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def breakdown_bars(summary: dict, group: str, metrics: Sequence[str]):
    """Bar charts of ``summary[group][value][metric]`` (from :func:`tryon.eval.metrics.summarise`)."""
    table = summary.get(group, {})
    keys = sorted(table)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        ax.bar(range(len(keys)), [table[k].get(m, np.nan) for k in keys])
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(keys, rotation=60, ha="right", fontsize=7)
        ax.set_title(m, fontsize=9)
        overall = summary["overall"].get(m)
        if overall is not None:
            ax.axhline(overall, color="k", lw=0.8, ls="--")
    fig.suptitle(f"per {group} (dashed: overall)", fontsize=10)
    fig.tight_layout()
    return fig


def real_tryon_grid(out_dir: Path, rows, with_noparse: bool = False, height: int = 256):
    """Real pairs run by ``tryon try-on`` (rows of its summary.csv): person | garment | try-on with the
    parse map | (without it, mediapipe) per row, each panel resized to ``height`` pixels high."""
    from PIL import Image

    def load(path: Path) -> torch.Tensor:
        im = Image.open(path).convert("RGB")
        im = im.resize((round(im.width * height / im.height), height), Image.BILINEAR)
        return torch.from_numpy(np.asarray(im, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1

    cols: dict[str, list[torch.Tensor]] = {"person": [], "garment": [], "try-on (parse map)": []}
    if with_noparse:
        cols["try-on (mediapipe)"] = []
    titles = []
    for r in rows.itertuples():
        cols["person"].append(load(Path(r.person_file)))
        cols["garment"].append(load(Path(r.garment_file)))
        cols["try-on (parse map)"].append(load(out_dir / "with_parse" / f"{r.pair}.jpg"))
        if with_noparse:
            cols["try-on (mediapipe)"].append(load(out_dir / "without_parse" / f"{r.pair}.jpg"))
        extra = f", SSIM {r.ssim_vs_photo:.2f}" if r.mode == "paired" else ""
        titles.append(f"{r.mode}: face {r.face_ssim:.2f}{extra}")
    return image_grid(cols, row_titles=titles, size=2.4)


def save_figure(fig, path: Path, dpi: int = 80) -> Path:
    """Save a matplotlib figure as PNG atomically (temp file + rename)."""
    from tryon.config import atomic_write

    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight"))
    return path


def baseline_gallery(gallery: list[dict], height: int = 256, keys: Sequence[str] | None = None):
    """Real paired pairs (from :func:`tryon.stages.evaluate.real_paired`): garment | the synthetic-only
    model's warped garment and try-on (when measured) | the shipped model's, and what made each of its
    pixels (:func:`tryon.infer.full_res.sources_rgb`) | pasted back | the
    network-free ``naive_paste`` and ``mean_fill`` | the photo (ground truth), each panel ``height``
    pixels high; ``keys``: only these columns (keys of ``names`` below), in that order."""
    from PIL import Image

    def panel(img: np.ndarray) -> torch.Tensor:
        im = Image.fromarray(img)
        im = im.resize((round(im.width * height / im.height), height), Image.BILINEAR)
        return torch.from_numpy(np.asarray(im, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1

    names = {
        "garment": "garment",
        "synthetic_only_warped": "warped (synthetic-only)",
        "synthetic_only": "try-on (synthetic-only)",
        "paired_warped": "warped (shipped)",
        "paired": "try-on (shipped, network)",
        "paired_sources": "made by: grey kept,\ngreen warp, blue fill, red paint",
        "paired_pasted": "try-on (pasted back)",
        "naive_paste": "naive_paste (no network)",
        "mean_fill": "mean_fill (no network)",
        "person": "photo (ground truth)",
    }
    keys = keys or tuple(names)
    cols = {names[k]: [panel(g[k]) for g in gallery] for k in keys if k in gallery[0]}
    return image_grid(cols, row_titles=[f"{g['group']}: {g['name']}" for g in gallery], size=2.2)
