"""``tryon bench train``: training throughput of the full try-on network, forward and backward split.

Measures, in one process, the default architecture (``params.yaml`` as shipped), the same at a 256-px
working size (the option VITON's 256x192 photos suggest), the VITON full profile (``profiles/viton_full.yaml``)
and the full-scale one (``profiles/full.yaml``: 512x512, 6 transformer layers) on the CPU, and on CUDA when
present; the default
on a CPU with native bfloat16 twice, float32 and bfloat16 autocast side by side, with their ratio (what
``amp`` would give there: 1.39x on one AVX512-BF16 machine, 0.86x on another). Inputs are
random tensors of the right shapes (the data pipeline is not timed). Prints a table of seconds per
step (forward = network + loss terms, backward = gradients + optimiser step), samples per second and
the floating-point work of one step (GFLOP, and GFLOP/s: a step near the cores' limit gets faster only
with less arithmetic), then where one step of the default profile spends its time
(:func:`step_breakdown`: data, text + contour, warp, fusion, each loss, backward, optimiser), on the
prepared train split when there is one.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import yaml

from tryon import config, paths, runtime
from tryon.nets.build import architecture, build_model
from tryon.nets.vgg import build_vgg
from tryon.train.step import loss_weights, make_step_fn

#: steps :func:`time_steps` runs before timing (one left the bfloat16 step about 1.3x slow)
WARMUP = 2
CODE_DIM = 20  # the synthetic vocabulary's code length (11 body types + 4 builds + unknowns + 4)


def fake_batch(batch: int, size: int, device: torch.device, code_dim: int = CODE_DIM) -> dict:
    g = torch.Generator().manual_seed(0)

    def img():
        return (torch.rand(batch, 3, size, size, generator=g) * 2 - 1).to(device)

    mask = (torch.rand(batch, 1, size, size, generator=g) > 0.5).float().to(device)
    return {
        "code": torch.randn(batch, code_dim, generator=g).to(device),
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


def time_steps(
    params: config.Params, device: torch.device, batch: int, reps: int = 3, amp: bool | None = None
) -> dict:
    """Median seconds of forward (incl. losses) and backward (incl. optimiser step) over ``reps``;
    ``amp``: mixed precision as training uses it (:func:`tryon.runtime.autocast_dtype`; ``None``:
    ``params.train.amp``)."""
    torch.manual_seed(0)
    model = build_model(architecture(params, CODE_DIM)).to(device)
    vgg = build_vgg("", layers=tuple(params.train.vgg_layers)).to(device)
    step_fn = make_step_fn(vgg, loss_weights(params), params.train.style_mode, params.train.vgg_size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    b = fake_batch(batch, params.base.image_size, device)
    dtype = runtime.autocast_dtype(device, params.train.amp if amp is None else amp)
    fwd, bwd = [], []
    for i in range(reps + WARMUP):  # not counted: the first steps build oneDNN's kernels
        _sync(device)
        t0 = time.perf_counter()
        with runtime.autocast(device, dtype):
            terms = step_fn(model, b)
        _sync(device)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        _sync(device)
        t2 = time.perf_counter()
        if i >= WARMUP:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
    f, bk = sorted(fwd)[len(fwd) // 2], sorted(bwd)[len(bwd) // 2]
    n_params = sum(p.numel() for p in model.parameters())
    gflop = step_gflop(model, step_fn, b)
    return {"fwd_s": f, "bwd_s": bk, "samples_per_s": batch / (f + bk), "params_M": n_params / 1e6,
            "gflop": gflop, "gflop_per_s": gflop / (f + bk),
            "precision": str(dtype or torch.float32).removeprefix("torch.")}  # fmt: skip


def step_gflop(model, step_fn, b: dict) -> float:
    """Floating-point operations of one training step (forward, losses and backward; torch's
    ``FlopCounterMode``: convolutions, matmuls and attention, not element-wise ops), in GFLOP. With the
    measured seconds it says how far a step is from the cores' arithmetic limit."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step_fn(model, b)["total"].backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 1e9


#: the parts of a training step that :func:`step_breakdown` times, in step order
PARTS = ("data", "text + contour", "warp", "fusion", "style", "warp_vgg", "rec", "flow",
         "other terms", "backward", "optimiser")  # fmt: skip
_SUBNETS = {
    "text_mlp": "text + contour",
    "contour_gen": "text + contour",
    "warp_net": "warp",
    "fusion": "fusion",
}
_LOSSES = {"style_loss": "style", "warp_loss": "warp_vgg", "rec_loss": "rec", "flow_loss": "flow"}


def _coded(sample: dict, vocab) -> dict:
    return {**sample, "code": torch.from_numpy(vocab.encode(sample["text"], strict=False))}


def step_breakdown(params: config.Params, reps: int = 5, data=None, vocab=None) -> dict[str, float]:
    """Mean seconds per part of one CPU training step of ``params`` (batch ``05_train.batch_size``): the
    batch from ``data`` (a dataset of the data contract, e.g. the prepared train split, with ``vocab`` to
    code its texts; first reads: stage 05 memoises samples after them; random tensors and ``data`` 0
    without it), each sub-network's forward (hooks), each loss function (timed wrappers of
    the functions the step calls), the other terms and bookkeeping of the step, backward, optimiser.
    The first step warms up and is not counted. The step runs in training's precision
    (:func:`tryon.runtime.autocast_dtype` of ``05_train.amp``)."""
    from collections import defaultdict

    from tryon.train import step as step_mod
    from tryon.train.loop import collate

    torch.manual_seed(0)
    device, batch = torch.device("cpu"), params.train.batch_size
    dtype = runtime.autocast_dtype(device, params.train.amp)
    code_dim = vocab.code_dim if vocab is not None else CODE_DIM
    model = build_model(architecture(params, code_dim))
    vgg = build_vgg("", layers=tuple(params.train.vgg_layers))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    acc: dict[str, float] = defaultdict(float)
    t_in: dict[str, float] = {}

    for attr, part in _SUBNETS.items():
        sub = getattr(model, attr)
        sub.register_forward_pre_hook(lambda m, i, a=attr: t_in.__setitem__(a, time.perf_counter()))
        sub.register_forward_hook(
            lambda m, i, o, a=attr, p=part: acc.__setitem__(p, acc[p] + time.perf_counter() - t_in[a])
        )

    originals = {name: getattr(step_mod, name) for name in _LOSSES}

    def timed(fn, part):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            out = fn(*a, **k)
            acc[part] += time.perf_counter() - t0
            return out

        return wrapper

    try:
        for name, part in _LOSSES.items():
            setattr(step_mod, name, timed(originals[name], part))
        step_fn = make_step_fn(vgg, loss_weights(params), params.train.style_mode, params.train.vgg_size)
        fake = fake_batch(batch, params.base.image_size, device, code_dim)
        totals: dict[str, float] = defaultdict(float)
        for i in range(reps + 1):
            acc.clear()
            t0 = time.perf_counter()
            b = (
                collate([_coded(data[(i * batch + j) % len(data)], vocab) for j in range(batch)])
                if data
                else fake
            )
            t1 = time.perf_counter()
            with runtime.autocast(device, dtype):
                terms = step_fn(model, b)
            t2 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            t3 = time.perf_counter()
            opt.step()
            t4 = time.perf_counter()
            if i == 0:
                continue
            parts = {**acc, "data": t1 - t0 if data else 0.0, "backward": t3 - t2, "optimiser": t4 - t3}
            parts["other terms"] = (t2 - t1) - sum(acc.values())
            for k, v in parts.items():
                totals[k] += v / reps
    finally:
        for name, fn in originals.items():
            setattr(step_mod, name, fn)
    return {p: totals.get(p, 0.0) for p in PARTS}


def print_breakdown(params: config.Params, reps: int = 5) -> dict[str, float]:
    """Print :func:`step_breakdown` of the default profile, on the prepared train split when
    ``data/01_prepare`` exists (else random inputs, and ``data`` says so)."""
    from tryon.data.dataset import TryOnDataset
    from tryon.text import Vocabulary

    prepared, vocab = paths.ROOT / "data" / "01_prepare", paths.ROOT / "data" / "02_encode" / "vocab.json"
    data, v, source = None, None, "random tensors (no data/01_prepare: run dvc repro 02_encode)"
    if (prepared / "manifest.csv").is_file() and vocab.is_file():
        data, v = TryOnDataset(prepared, "train", params.base.image_size), Vocabulary.load(vocab)
        source = "the prepared train split, first reads (PNG decode, resize, trunk map, text code)"
    parts = step_breakdown(params, reps, data, v)
    total = sum(parts.values())
    print(
        f"one training step, default profile, batch {params.train.batch_size}, CPU "
        f"({runtime.precision_text('cpu', params.train.amp)}), mean of {reps}; data: {source}"
    )
    for p, sec in parts.items():
        print(f"  {p:<16}{sec:>8.4f} s {sec / total:>7.1%}")
    print(f"  {'total':<16}{total:>8.4f} s -> {params.train.batch_size / total:.2f} samples/s")
    return parts


def bench_train(reps: int = 3) -> list[dict]:
    """Print and return one row per (architecture, device)."""
    default = config.load_params(paths.ROOT / "params.yaml")
    full_raw = config.merge(
        config.to_dict(default), yaml.safe_load(Path(paths.ROOT / "profiles" / "full.yaml").read_text())
    )
    full = config.parse_params(full_raw, "params.yaml + profiles/full.yaml")
    viton_raw = config.merge(
        config.to_dict(default),
        yaml.safe_load(Path(paths.ROOT / "profiles" / "viton_full.yaml").read_text()),
    )
    viton = config.parse_params(viton_raw, "params.yaml + profiles/viton_full.yaml")
    at_256 = config.parse_params(
        config.merge(config.to_dict(default), {"base": {"image_size": 256}}), "256 px"
    )
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    load = runtime.cpu_load()
    print(f"load average (1 min) before the timing: {load['load_1min']} on {load['cores']} cores")
    if load["load_1min"] > load["cores"] / 2:
        print("warning: other work shared these cores in the last minute; every rate below may be low")
    print(
        f"{'architecture':<28}{'device':<8}{'precision':<10}{'batch':>6}{'fwd s':>9}{'bwd s':>9}"
        f"{'samples/s':>11}{'params M':>10}{'GFLOP':>8}{'GFLOP/s':>9}"
    )
    profiles = (
        ("default", default),
        ("default at 256 px", at_256),  # the working-size option VITON's 256x192 photos suggest
        ("VITON full (viton_full)", viton),
        ("full-scale (profiles/full)", full),
    )
    for name, p in profiles:
        for dev in devices:
            batch = p.train.batch_size if (dev.type == "cuda" or not name.startswith("full-scale")) else 1
            # the default profile: float32 beside mixed precision wherever this device has it (amp on or off)
            amps = (False, True) if name == "default" and runtime.autocast_dtype(dev, True) else (None,)
            for amp in amps:
                r = {"architecture": name, "device": dev.type, "batch": batch, "size": p.base.image_size,
                     **time_steps(p, dev, batch, 1 if name.startswith("full-scale") else reps, amp)}  # fmt: skip
                rows.append(r)
                print(
                    f"{name:<28}{dev.type:<8}{r['precision']:<10}{batch:>6}{r['fwd_s']:>9.3f}{r['bwd_s']:>9.3f}"
                    f"{r['samples_per_s']:>11.2f}{r['params_M']:>10.2f}{r['gflop']:>8.1f}{r['gflop_per_s']:>9.1f}",
                    flush=True,
                )
            if len(amps) == 2:
                before, after = rows[-2]["samples_per_s"], rows[-1]["samples_per_s"]
                print(f"{'':<28}{dev.type:<8}mixed precision / float32, side by side: {after / before:.2f}x")
    print(f"training's precision on this machine: {runtime.precision_text('cpu', default.train.amp)}")
    print(
        f"threads: {torch.get_num_threads()}; full-scale on CPU runs batch 1 (one timed step); GFLOP: one "
        "step, forward + losses + backward (convolutions, matmuls, attention), GFLOP/s: that over the step's time"
    )
    print_breakdown(default)
    return rows


if __name__ == "__main__":
    bench_train()
