"""``tryon bench train``: training throughput of the full try-on network, forward and backward split.

Measures, in one process, the default architecture (``params.yaml`` as shipped) and the full-scale one
(``profiles/full.yaml``: 512x512, 6 transformer layers) on the CPU, and on CUDA when present. Inputs are
random tensors of the right shapes (the data pipeline is not timed). Prints a table of seconds per
step (forward = network + loss terms, backward = gradients + optimiser step) and samples per second.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import yaml

from tryon import config, paths
from tryon.nets.build import architecture, build_model
from tryon.nets.vgg import build_vgg
from tryon.train.step import loss_weights, make_step_fn

CODE_DIM = 20  # the synthetic vocabulary's code length (11 body types + 4 builds + unknowns + 4)


def fake_batch(batch: int, size: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)

    def img():
        return (torch.rand(batch, 3, size, size, generator=g) * 2 - 1).to(device)

    mask = (torch.rand(batch, 1, size, size, generator=g) > 0.5).float().to(device)
    return {
        "code": torch.randn(batch, CODE_DIM, generator=g).to(device),
        "trunk": img(),
        "garment": img(),
        "garment_mask": mask,
        "trunk_mask": 1 - mask,
        "keep": img(),
        "keep_mask": 1 - mask,
        "protect_mask": torch.zeros_like(mask),
        "person": img(),
        "contour": img(),
        "has_contour": torch.ones(batch, dtype=torch.bool, device=device),
        "worn_mask": mask,
        "gt_grid": (torch.rand(batch, 2, size, size, generator=g) * 2 - 1).to(device),
        "flow_valid": mask,
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(params: config.Params, device: torch.device, batch: int, reps: int = 3) -> dict:
    """Median seconds of forward (incl. losses) and backward (incl. optimiser step) over ``reps``."""
    torch.manual_seed(0)
    model = build_model(architecture(params, CODE_DIM)).to(device)
    vgg = build_vgg("", layers=tuple(params.train.vgg_layers)).to(device)
    step_fn = make_step_fn(vgg, loss_weights(params), params.train.style_mode, params.train.vgg_size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    b = fake_batch(batch, params.base.image_size, device)
    use_amp = device.type == "cuda" and params.train.amp
    fwd, bwd = [], []
    for i in range(reps + 1):  # the first step warms up and is not counted
        _sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            terms = step_fn(model, b)
        _sync(device)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        _sync(device)
        t2 = time.perf_counter()
        if i:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
    f, bk = sorted(fwd)[len(fwd) // 2], sorted(bwd)[len(bwd) // 2]
    n_params = sum(p.numel() for p in model.parameters())
    return {"fwd_s": f, "bwd_s": bk, "samples_per_s": batch / (f + bk), "params_M": n_params / 1e6}


def bench_train(reps: int = 3) -> list[dict]:
    """Print and return one row per (architecture, device)."""
    default = config.load_params(paths.ROOT / "params.yaml")
    full_raw = config.merge(
        config.to_dict(default), yaml.safe_load(Path(paths.ROOT / "profiles" / "full.yaml").read_text())
    )
    full = config.parse_params(full_raw, "params.yaml + profiles/full.yaml")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    print(
        f"{'architecture':<28}{'device':<8}{'batch':>6}{'fwd s':>9}{'bwd s':>9}{'samples/s':>11}{'params M':>10}"
    )
    for name, p in (("default", default), ("full-scale (profiles/full)", full)):
        for dev in devices:
            batch = p.train.batch_size if (dev.type == "cuda" or name == "default") else 1
            r = {"architecture": name, "device": dev.type, "batch": batch, "size": p.base.image_size,
                 **time_steps(p, dev, batch, reps if name == "default" else 1)}  # fmt: skip
            rows.append(r)
            print(
                f"{name:<28}{dev.type:<8}{batch:>6}{r['fwd_s']:>9.3f}{r['bwd_s']:>9.3f}"
                f"{r['samples_per_s']:>11.2f}{r['params_M']:>10.2f}",
                flush=True,
            )
    print(f"threads: {torch.get_num_threads()}; full-scale on CPU runs batch 1 (one timed step)")
    return rows


if __name__ == "__main__":
    bench_train()
