"""Stage 01_prepare: generate the synthetic wardrobe (or import a real VITON-HD / Dress Code folder)
into ``data/01_prepare`` with a manifest, and measure it.

The notebook calls :func:`run` (writes the data, returns the metrics dict), then the figure helpers
:func:`samples_figure`, :func:`distributions_figure`, :func:`shape_figure`, :func:`real_samples_figure`.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from tryon.config import BaseConfig, PrepareConfig, atomic_write_text

SLUG = "01_prepare"


def _workers(cfg: PrepareConfig) -> int:
    return cfg.workers if cfg.workers > 0 else max(1, min(2, os.cpu_count() or 1))


def gt_exactness(root: Path, split: str, seed: int, n: int = 16, shape_jitter: float = 0.08) -> dict:
    """Warp each stored flat garment with its stored gt_grid (``grid_sample``, align_corners=False) and
    compare with the worn garment before shading, re-rendered in memory from the same seed.
    Returns MAE in 1/255 units inside flow_valid (mean and max over samples) and the fraction of the
    worn-garment pixels that flow_valid covers."""
    from tryon.data.dataset import TryOnDataset
    from tryon.data.synthetic import make_sample

    ds = TryOnDataset(root, split)
    maes, cover = [], []
    for i in range(min(n, len(ds))):
        d = ds[i]
        idx = int(ds.table.loc[i, "index"])
        _, _, out = make_sample(seed, split, idx, d["person"].shape[-1], shape_jitter=shape_jitter)
        g = (d["garment"][None] + 1) / 2  # [1, 3, S, S] in [0, 1]
        warped = F.grid_sample(g, d["gt_grid"].permute(1, 2, 0)[None], align_corners=False)[0]  # [3, S, S]
        raw = torch.from_numpy(out["garment_raw"]).permute(2, 0, 1)  # [3, S, S]
        v = d["flow_valid"][0] > 0
        if v.any():
            maes.append(float((warped - raw).abs().mean(0)[v].mean()) * 255)
        cover.append(float(v.sum()) / max(1.0, float(d["worn_mask"].sum())))
    return {
        "gt_mae_255_mean": float(np.mean(maes)) if maes else math.nan,
        "gt_mae_255_max": float(np.max(maes)) if maes else math.nan,
        "flow_valid_cover": float(np.mean(cover)) if cover else math.nan,
        "gt_checked": len(maes),
    }


def _hashes(folder: Path) -> set[str]:
    return {hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def resolve(path: str) -> Path:
    """A params path: absolute as given, relative to the repository root otherwise."""
    from tryon import paths

    p = Path(path)
    return p if p.is_absolute() else paths.ROOT / p


def run(base: BaseConfig, cfg: PrepareConfig, out_dir: Path) -> dict:
    """Write the stage's data into ``out_dir`` and return the metrics (all measured here):
    counts, generation speed, GT exactness (MAE /255 inside flow_valid), train/test overlap (0 expected),
    per-attribute counts, hip/shoulder ratio per body type, how well ``annotate`` recovers the synthetic
    body type and build; with real data (``real_root``) the real split (``real_split.csv``, written
    whatever ``source`` is: stage 06 tests on its test persons) and how many real pairs load. The
    synthetic wardrobe is always made: stages 03 and 04 pretrain on it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict = {"source": cfg.source, "image_size": base.image_size}
    metrics.update(synthetic(base, cfg, out_dir))
    real = resolve(cfg.real_root)
    if not real.exists():
        metrics["real"] = f"not computed: no real data at {real}"
    else:
        metrics["real"] = real_split(real, cfg, out_dir)
    samples = real if (real / "vitonhd").is_dir() or (real / "dresscode").is_dir() else None
    metrics.update(real_load_check(samples, base.image_size) if samples else {"real_pairs_loaded": 0})
    return metrics


def synthetic(base: BaseConfig, cfg: PrepareConfig, out_dir: Path) -> dict:
    """Generate the synthetic wardrobe into ``out_dir`` and measure it."""
    from tryon.data.synthetic import LAYOUT, generate

    t0 = time.perf_counter()
    df = generate(
        out_dir,
        n=cfg.n_train,
        size=base.image_size,
        seed=base.seed,
        n_test=cfg.n_test,
        workers=_workers(cfg),
        garment_dir=resolve(cfg.garment_dir) if cfg.garment_dir else None,
        n_dev=cfg.n_dev,
        shape_jitter=cfg.shape_jitter,
    )
    dt = time.perf_counter() - t0
    metrics = {
        "n_train": int((df["split"] == "train").sum()),
        "n_dev": int((df["split"] == "dev").sum()),
        "n_test": int((df["split"] == "test").sum()),
        "shape_jitter": cfg.shape_jitter,
        "width_r2_from_text": width_r2_from_text(df[df.split == "train"]),
        "generate_s": dt,
        "samples_per_s": len(df) / dt,
        "workers": _workers(cfg),
    }
    # data checks on the dev split: the test split is read once, in 06_evaluate
    metrics.update(gt_exactness(out_dir, "dev", base.seed, shape_jitter=cfg.shape_jitter))
    # disjointness: no flat garment image and no body shared by train and test (or train and dev)
    cols = ["height_cm", "weight_kg", "body_type", "build", "shoulder_w_px", "hip_w_px"]
    tr = set(map(tuple, df[df.split == "train"][cols].values.tolist()))
    for other in ("test", "dev"):
        shared = _hashes(out_dir / "train" / LAYOUT["garment"]) & _hashes(out_dir / other / LAYOUT["garment"])
        te = set(map(tuple, df[df.split == other][cols].values.tolist()))
        metrics[f"shared_garments_train_{other}"] = len(shared)
        metrics[f"shared_bodies_train_{other}"] = len(tr & te)
    for col in ("body_type", "build", "garment_type"):
        metrics[f"count_{col}"] = df[col].value_counts().sort_index().to_dict()
    ratio = (df["hip_w_px"] / df["shoulder_w_px"]).groupby(df["body_type"]).mean()
    metrics["hip_to_shoulder_by_type"] = ratio.round(3).to_dict()
    metrics["height_cm_range"] = [float(df.height_cm.min()), float(df.height_cm.max())]
    metrics["weight_kg_range"] = [float(df.weight_kg.min()), float(df.weight_kg.max())]
    metrics.update(annotate_accuracy(out_dir, "dev"))
    return metrics


def width_r2_from_text(df) -> dict[str, float]:
    """How much of each body width the text determines: R^2 of a least-squares fit of the width (px) on
    what the text says (one-hot body type and build, height, weight, and their product). 1.0 would be a
    body shape that is a function of the text; ``01_prepare.shape_jitter`` keeps it below."""
    import numpy as np
    import pandas as pd

    x = pd.get_dummies(df[["body_type", "build"]].astype(str)).astype(float)
    x["height"], x["weight"] = df["height_cm"], df["weight_kg"]
    x["hw"] = x["height"] * x["weight"]
    a = np.c_[np.ones(len(x)), x.to_numpy()]
    out = {}
    for col in ("shoulder_w_px", "waist_w_px", "hip_w_px"):
        y = df[col].to_numpy(float)
        resid = y - a @ np.linalg.lstsq(a, y, rcond=None)[0]
        out[col] = float(1 - resid.var() / max(y.var(), 1e-12))
    return out


def real_split(real: Path, cfg: PrepareConfig, out_dir: Path) -> dict:
    """Write ``real_split.csv`` (:func:`tryon.data.real.split_table`) and return its counts: pairs and
    persons per split and subset, persons on both sides (0: the split is by person), text sources."""
    from tryon.data.real import split_table

    text_csv = resolve(cfg.real_text_csv) if cfg.real_text_csv else None
    t0 = time.perf_counter()
    df = split_table(
        real,
        cfg.real_test_fraction,
        cfg.real_split_seed,
        text_csv,
        progress=True,
        n_dev=cfg.real_dev_pairs,
        max_persons=cfg.real_max_persons,
    )
    atomic_write_text(out_dir / "real_split.csv", df.to_csv(index=False))
    persons = {sp: set(zip(d["subset"], d["person_id"], strict=True)) for sp, d in df.groupby("split")}
    paired = df[df["mode"] == "paired"]
    return {
        "root": str(real),
        "n_pairs": len(df),
        "n_train_pairs": int((paired["split"] == "train").sum()),
        "n_dev_pairs": int((paired["split"] == "dev").sum()),
        "n_test_pairs": int((paired["split"] == "test").sum()),
        "n_test_unpaired": int(((df["mode"] == "unpaired") & (df["split"] == "test")).sum()),
        "persons": {sp: len(p) for sp, p in persons.items()},
        "persons_in_both": len(persons.get("train", set()) & persons.get("test", set())),
        "persons_train_and_dev": len(persons.get("train", set()) & persons.get("dev", set())),
        "paired_by_group": {
            f"{k[0]}/{k[1]}/{k[2]}": int(v)
            for k, v in paired.groupby(["subset", "category", "split"]).size().items()
        },
        "text_source": df.drop_duplicates("person_id")["text_source"].value_counts().to_dict(),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def real_load_check(real_dir: Path, size: int) -> dict:
    """Load every pair of each subset of ``real_dir`` through the common dict; count and time it."""
    from tryon.data.dataset import RealPairsDataset

    out = {}
    total = 0
    for sub in ("vitonhd", "dresscode"):
        root = real_dir / sub
        if not root.exists():
            continue
        t0 = time.perf_counter()
        n = 0
        for mode in ("paired", "unpaired"):
            ds = RealPairsDataset(root, mode, size)
            for i in range(len(ds)):
                d = ds[i]
                assert d["person"].shape == (3, size, size)
                n += 1
        out[f"real_{sub}_pairs"] = n
        out[f"real_{sub}_ms_per_pair"] = 1000 * (time.perf_counter() - t0) / max(1, n)
        total += n
    out["real_pairs_loaded"] = total
    return out


def annotate_accuracy(root: Path, split: str) -> dict:
    """How well ``tryon annotate``'s silhouette rules recover the synthetic ground truth (body type and
    build) from the parse maps of a split: a measured sanity figure for the real-data estimates."""
    from tryon.data import io, labels
    from tryon.data.annotate import estimate_attributes
    from tryon.data.synthetic import LAYOUT

    df = pd.read_csv(root / "manifest.csv")
    df = df[df.split == split]
    ok_t = ok_b = 0
    for _, r in df.iterrows():
        parse = io.read_labels(root / split / LAYOUT["parse"] / f"{r['id']}.png", labels.N_CIHP)
        est = estimate_attributes(parse)
        ok_t += est["body_type"] == r["body_type"]
        ok_b += est["build"] == r["build"]
    n = max(1, len(df))
    return {"annotate_body_type_acc": ok_t / n, "annotate_build_acc": ok_b / n}


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------
def _parse_rgb(parse) -> np.ndarray:
    from tryon.data.io import PALETTE

    pal = np.array(PALETTE, dtype=np.uint8).reshape(-1, 3)
    return pal[np.asarray(parse, dtype=np.int64)]


def samples_figure(root: Path, split: str = "train", n: int = 8):
    """Grid: flat garment, person, parse, trunk map, contour image, GT flow (colour wheel; white outside
    flow_valid), flat garment warped by the GT grid (grey outside flow_valid)."""
    import matplotlib.pyplot as plt

    from tryon.data.dataset import TryOnDataset, identity_grid
    from tryon.viz.images import flow_to_rgb, to_image

    ds = TryOnDataset(root, split)
    n = min(n, len(ds))
    cols = ["garment", "person", "parse", "trunk", "contour", "GT flow", "warped by GT"]
    fig, axes = plt.subplots(n, len(cols), figsize=(1.6 * len(cols), 1.7 * n), squeeze=False)
    for i in range(n):
        d = ds[i]
        S = d["person"].shape[-1]
        v = d["flow_valid"]
        flow = (d["gt_grid"] - identity_grid(S)) * v  # [2, S, S] normalised displacement
        frgb = flow_to_rgb(flow, max_mag=0.5)
        frgb[v[0].numpy() == 0] = 255
        warped = F.grid_sample(d["garment"][None], d["gt_grid"].permute(1, 2, 0)[None], align_corners=False)[
            0
        ]
        warped = warped * v  # grey (0 in [-1, 1]) outside flow_valid
        imgs = [
            to_image(d["garment"]),
            to_image(d["person"]),
            _parse_rgb(d["parse"]),
            to_image(d["trunk"]),
            to_image(d["contour"]),
            frgb,
            to_image(warped),
        ]
        for j, im in enumerate(imgs):
            ax = axes[i, j]
            ax.imshow(im)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(cols[j], fontsize=8)
        axes[i, 0].set_ylabel(d["text"].replace(", ", "\n", 1), fontsize=6)
    fig.tight_layout()
    return fig


def distributions_figure(manifest: pd.DataFrame):
    """Histograms of heights and weights; counts of body types, builds and garment types (per split)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5, figsize=(17, 3.2))
    for split, c in (("train", "C0"), ("test", "C1")):
        d = manifest[manifest.split == split]
        axes[0].hist(d.height_cm, bins=20, alpha=0.6, color=c, label=split)
        axes[1].hist(d.weight_kg, bins=20, alpha=0.6, color=c, label=split)
    axes[0].set_xlabel("height (cm)")
    axes[1].set_xlabel("weight (kg)")
    axes[0].legend()
    for ax, col in zip(axes[2:], ("body_type", "build", "garment_type"), strict=True):
        ct = pd.crosstab(manifest[col], manifest["split"])
        ct.plot.barh(ax=ax, legend=col == "body_type")
        ax.set_xlabel("samples")
        ax.set_ylabel(col)
    fig.tight_layout()
    return fig


def shape_figure(manifest: pd.DataFrame):
    """How the text drives the shape: hip/shoulder silhouette ratio per body type, and silhouette area
    against weight coloured by height."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    r = manifest.hip_w_px / manifest.shoulder_w_px
    order = r.groupby(manifest.body_type).mean().sort_values().index
    axes[0].boxplot([r[manifest.body_type == t] for t in order], orientation="horizontal")
    axes[0].set_yticks(range(1, len(order) + 1), order)
    axes[0].set_xlabel("hip width / shoulder width (rendered silhouette)")
    sc = axes[1].scatter(manifest.weight_kg, manifest.area_px, c=manifest.height_cm, s=6, cmap="viridis")
    fig.colorbar(sc, ax=axes[1], label="height (cm)")
    axes[1].set_xlabel("weight (kg)")
    axes[1].set_ylabel("body silhouette area (px)")
    fig.tight_layout()
    return fig


def real_samples_figure(real_dir: Path, size: int = 256, n: int = 3):
    """The method's preprocessing on the real samples: original person, padded + resized, parse (CIHP),
    trunk map, garment, garment mask; ``n`` pairs of each subset present. None when ``real_dir`` is absent."""
    import matplotlib.pyplot as plt

    from tryon.data.dataset import RealPairsDataset
    from tryon.data.io import read_rgb
    from tryon.viz.images import to_image

    subs = [s for s in ("vitonhd", "dresscode") if (Path(real_dir) / s).exists()]
    if not subs:
        return None
    rows = []
    for sub in subs:
        ds = RealPairsDataset(Path(real_dir) / sub, "paired", size)
        step = max(1, len(ds) // n)
        rows += [(sub, ds, i) for i in range(0, len(ds), step)[:n]]
    cols = ["original", "padded + resized", "parse (CIHP)", "trunk", "garment", "garment mask"]
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(1.8 * len(cols), 2.0 * len(rows)), squeeze=False)
    for i, (sub, ds, j) in enumerate(rows):
        d = ds[j]
        imgs = [
            read_rgb(ds.records[j].person),
            to_image(d["person"]),
            _parse_rgb(d["parse"]),
            to_image(d["trunk"]),
            to_image(d["garment"]),
            to_image(d["garment_mask"]),
        ]
        for k, im in enumerate(imgs):
            ax = axes[i, k]
            ax.imshow(im, cmap="gray" if k == 5 else None)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(cols[k], fontsize=8)
        axes[i, 0].set_ylabel(f"{sub}\n{d['id'].split('__')[0]}\n{d['body_type']}, {d['build']}", fontsize=6)
    fig.tight_layout()
    return fig
