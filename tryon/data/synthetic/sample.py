"""Samples and prepared datasets on disk: the split folder layout (``LAYOUT``), sample ids,
:func:`make_sample` / :func:`make_unpaired` (in memory), the manifest row, :func:`write_sample`,
:func:`generate_split` (parallel worker :func:`_work`) and :func:`generate` (``tryon generate``).

Determinism: sample i of a split draws its body and its garment from two seed streams keyed by
(seed, split, i), so the files do not depend on the number of worker processes, and train and test share
no body and no garment.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from tryon.data.synthetic.body import Body, body_keypoints, sample_body
from tryon.data.synthetic.garment import (
    Garment,
    list_garment_photos,
    photo_garment,
    photo_split,
    sample_garment,
)
from tryon.data.synthetic.render import render_sample

# ------------------------------------------------------------------------------------------------
# Datasets on disk
# ------------------------------------------------------------------------------------------------
#: sub-folders of a prepared split (VITON-HD-like names) and the contract key each one holds
LAYOUT: dict[str, str] = {
    "person": "image",
    "garment": "cloth",
    "garment_mask": "cloth-mask",
    "parse": "image-parse",
    "contour": "contour",
    "gt_grid": "gt-grid",
    "flow_valid": "flow-valid",
}
SPLITS = ("train", "dev", "test")
_SPLIT_CODE = {"train": 0, "test": 1, "dev": 2}
#: default spread of the body widths around what the text implies (independent of the text, #15)
SHAPE_JITTER = 0.08
#: dtype of the stored ground-truth grid (float16: < 0.07 px error at 256, half the disk of float32)
GRID_DTYPE = np.float16


def sample_id(split: str, index: int) -> str:
    return f"{split}_{index:06d}"


def make_sample(
    seed: int,
    split: str,
    index: int,
    size: int,
    photos: list | None = None,
    shape_jitter: float = SHAPE_JITTER,
) -> tuple[Body, Garment, dict]:
    """Sample ``index`` of ``split``: body and garment come from separate seed streams, keyed by
    (seed, split, index), so train, dev and test share no body and no garment, and any sample can be
    made alone (parallel generation gives the same files). ``shape_jitter``: each body width varies by
    up to this fraction around what the text implies, independently of the text (the same random draws
    whatever its value, so only the widths change with it)."""
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    code = _SPLIT_CODE[split]
    body = sample_body(np.random.default_rng([seed, code, 0, index]), jitter=shape_jitter)
    grng = np.random.default_rng([seed, code, 1, index])
    if photos:
        own = photo_split(photos, seed, split)
        p, m = own[index % len(own)]
        garment = photo_garment(p, m, size, int(grng.integers(2**31)))
    else:
        garment = sample_garment(grng)
    return body, garment, render_sample(body, garment, size)


def make_unpaired(
    seed: int, split: str, index: int, garment_index: int, size: int, shape_jitter: float = SHAPE_JITTER
) -> tuple[Body, Garment, dict]:
    """Body ``index`` of ``split`` wearing the garment of sample ``garment_index`` (same split): an
    unpaired try-on with its ground truth (the person image is what a perfect try-on would produce)."""
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    code = _SPLIT_CODE[split]
    body = sample_body(np.random.default_rng([seed, code, 0, index]), jitter=shape_jitter)
    garment = sample_garment(np.random.default_rng([seed, code, 1, garment_index]))
    return body, garment, render_sample(body, garment, size)


def sample_keypoints(
    seed: int, split: str, index: int, size: int, shape_jitter: float = SHAPE_JITTER
) -> dict[str, tuple[float, float]]:
    """The joints of sample ``index``'s body (:func:`tryon.data.synthetic.body.body_keypoints`), re-drawn
    from the manifest's seed and index without rendering (the pose map of :mod:`tryon.data.pose`)."""
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    body = sample_body(np.random.default_rng([seed, _SPLIT_CODE[split], 0, index]), jitter=shape_jitter)
    return body_keypoints(body, size)


def manifest_row(
    sid: str, split: str, index: int, seed: int, body: Body, garment: Garment, out: dict, shape_jitter: float
) -> dict:
    """Per-sample attributes written to the manifest CSV."""
    m = out["measure"]
    return {
        "id": sid,
        "split": split,
        "index": index,
        "seed": seed,
        "shape_jitter": shape_jitter,
        "text": body.text,
        "height_cm": round(body.height_cm, 1),
        "weight_kg": round(body.weight_kg, 1),
        "bmi": round(body.weight_kg / (body.height_cm / 100) ** 2, 2),
        "body_type": body.body_type,
        "build": body.build,
        "garment_type": garment.garment_type,
        "texture": garment.texture,
        "lower": body.lower,
        "hair": body.hair_style,
        "body_id": f"{split}-b{index}",
        "garment_id": garment.photo.name if garment.photo is not None else f"{split}-g{index}",
        "shoulder_w_px": m["shoulder_w"],
        "waist_w_px": m["waist_w"],
        "hip_w_px": m["hip_w"],
        "area_px": m["area"],
        "worn_px": int(out["worn_mask"].sum()),
        "valid_px": int(out["flow_valid"].sum()),
    }


def write_sample(split_dir: Path, sid: str, out: dict, atomic: bool = False) -> None:
    """Write one rendered sample into the split folder (one file per key, see LAYOUT; the worn mask is
    not stored: it is ``parse == upper clothes``). Not atomic per file by default: generate_split
    writes into a temp folder that is renamed into place."""
    from tryon.data import io

    d = Path(split_dir)
    kw = {"atomic": atomic}
    io.write_png(d / LAYOUT["person"] / f"{sid}.png", out["person"], **kw)
    io.write_png(d / LAYOUT["garment"] / f"{sid}.png", out["garment"], **kw)
    io.write_png(d / LAYOUT["garment_mask"] / f"{sid}.png", out["garment_cov"] > 0.5, **kw)
    io.write_png(d / LAYOUT["parse"] / f"{sid}.png", out["parse"], palette=True, **kw)
    io.write_png(d / LAYOUT["contour"] / f"{sid}.png", out["contour"], **kw)
    io.write_npy(d / LAYOUT["gt_grid"] / f"{sid}.npy", out["gt_grid"].astype(GRID_DTYPE), **kw)
    io.write_png(d / LAYOUT["flow_valid"] / f"{sid}.png", out["flow_valid"], **kw)


def _work(args: tuple) -> list[dict]:
    split_dir, seed, split, indices, size, photos, jitter = args
    torch.set_num_threads(1)
    rows = []
    for i in indices:
        body, garment, out = make_sample(seed, split, i, size, photos, jitter)
        sid = sample_id(split, i)
        write_sample(Path(split_dir), sid, out)
        rows.append(manifest_row(sid, split, i, seed, body, garment, out, jitter))
    return rows


def generate_split(
    out_dir: str | os.PathLike,
    split: str,
    n: int,
    size: int,
    seed: int,
    workers: int = 1,
    photos: list | None = None,
    shape_jitter: float = SHAPE_JITTER,
) -> list[dict]:
    """Write ``n`` samples of ``split`` into ``out_dir/split`` (built in a temp folder, then renamed into
    place, so a crash never leaves a half-written split). Returns the manifest rows in index order."""
    import shutil

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / split
    tmp = out_dir / f".{split}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        chunks = [list(range(i, n, max(1, workers))) for i in range(max(1, workers))]
        jobs = [(str(tmp), seed, split, c, size, photos, shape_jitter) for c in chunks if c]
        if workers > 1 and n > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(len(jobs)) as pool:
                parts = pool.map(_work, jobs)
        else:
            parts = [_work(j) for j in jobs]
        rows = sorted((r for p in parts for r in p), key=lambda r: r["index"])
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return rows


def generate(
    out: str | os.PathLike,
    n: int,
    size: int,
    seed: int = 0,
    n_test: int = 0,
    workers: int = 1,
    garment_dir: str | os.PathLike | None = None,
    n_dev: int = 0,
    shape_jitter: float = SHAPE_JITTER,
) -> pd.DataFrame:  # noqa: F821
    """``tryon generate``: write ``n`` train samples (and ``n_dev`` dev, ``n_test`` test samples) of size
    ``size`` into ``out`` plus ``out/manifest.csv``. Same arguments -> byte-identical files (a split's
    files do not depend on the other splits' counts). Returns the manifest. ``garment_dir``: real flat
    garment photos to wear instead of procedural garments (split disjointly; dev wears test-side ones)."""
    import pandas as pd

    from tryon.config import atomic_write_text

    if min(n, n_test, n_dev) < 0:
        raise ValueError(f"n: expected a count >= 0, got {min(n, n_test, n_dev)}")
    if size < 16:
        raise ValueError(f"size: expected >= 16 pixels, got {size}")
    photos = list_garment_photos(garment_dir) if garment_dir else None
    rows = []
    for split, k in (("train", n), ("dev", n_dev), ("test", n_test)):
        if k > 0:
            rows += generate_split(out, split, k, size, seed, workers, photos, shape_jitter)
    df = pd.DataFrame(rows)
    atomic_write_text(Path(out) / "manifest.csv", df.to_csv(index=False))
    return df
