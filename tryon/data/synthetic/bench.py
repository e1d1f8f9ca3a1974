"""Generator speed (``tryon bench data``): :func:`benchmark` and :func:`bench_generate`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from tryon.data.synthetic.sample import generate_split, make_sample, write_sample


def benchmark(
    size: int = 256,
    n: int = 100,
    seed: int = 12345,
    write_dir: str | os.PathLike | None = None,
    workers: int = 1,
) -> dict:
    """Samples per second of the generator at ``size`` (render only; with ``write_dir`` also the
    end-to-end rate including PNG/npy writing with ``workers`` processes). Prints and returns a dict."""
    import shutil

    torch.set_num_threads(1)
    make_sample(seed, "train", 10**6, size)  # warm-up (font cache, torch kernels)
    t0, c0 = time.perf_counter(), time.process_time()
    outs = []
    for i in range(n):
        outs.append(make_sample(seed, "train", i, size)[2])
        if len(outs) > 8:
            outs.pop(0)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    # CPU time per sample is what one uncontended core needs (wall time grows when the cores are shared)
    res = {
        "size": size,
        "n": n,
        "render_samples_per_s": n / dt,
        "render_ms_per_sample": 1000 * dt / n,
        "render_cpu_ms_per_sample": 1000 * dc / n,
    }
    if write_dir is not None:
        wd = Path(write_dir)
        c0 = time.process_time()
        for k, out in enumerate(outs):
            write_sample(wd / ".bench-write", f"s{k}", out)
        res["write_cpu_ms_per_sample"] = 1000 * (time.process_time() - c0) / len(outs)
        shutil.rmtree(wd / ".bench-write", ignore_errors=True)
        t0 = time.perf_counter()
        generate_split(wd, "train", n, size, seed, workers=workers)
        dt = time.perf_counter() - t0
        res.update({"workers": workers, "end_to_end_samples_per_s": n / dt})
        shutil.rmtree(wd / "train", ignore_errors=True)
    print(", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()))
    return res


def bench_generate(size: int = 256, n: int = 100) -> dict:
    """``tryon bench data``: generator speed at ``size`` (render-only on one core, and end-to-end with
    file writing on all cores, up to 2 processes). Prints samples/second and returns the figures."""
    import tempfile

    workers = max(1, min(2, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="tryon-bench-") as tmp:
        return benchmark(size=size, n=n, write_dir=tmp, workers=workers)
