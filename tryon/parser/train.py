"""Train the human parser (:mod:`tryon.parser.model`) on VITON's parse maps.

    python -m tryon.parser.train --out models/parser.pt --minutes 25 --steps 6000

Data (:mod:`tryon.parser.data`): every VITON train person photo (6,824, one per distinct photo) with its LIP
parse map as CIHP ids, read from disk as needed (no cache: decoding a 256x192 JPEG and PNG is a few ms
against ~30 ms of network time per photo), minus the **dev split by person photo**: the 256 train persons
that the try-on pipeline holds out (:func:`tryon.parser.data.split_ids`).

Augmentation (:func:`tryon.parser.data.augment`): a random similarity transform (scale and shift, photo
and map together), a left-right mirror half the time (the person's left and right arm, leg and shoe labels
swap: :func:`tryon.parser.data.mirror`) and a mild brightness / contrast jitter. Loss: cross-entropy of the
logits upsampled bilinearly to the map's 256x192 (edges are learned at the resolution they are scored at),
with class weights ``(median frequency / frequency) ** weight_power`` from the first maps of the train split
(:func:`tryon.parser.data.class_weights`).
Adam; learning rate warmed up linearly, then cosine-annealed to 0 over the run's length, which is
whichever of ``--steps`` and ``--minutes`` ends first (progress = the larger of the two fractions, so a
run cut by time still ends annealed).

Every ``--ckpt-minutes`` the parser is scored on the dev split and written to ``--out`` atomically
(:func:`tryon.checkpoint.atomic_torch_save`), so the run can be stopped at any time; Ctrl-C / SIGTERM
writes the current weights too. The checkpoint holds the weights, the architecture arguments, the label
set, the working size, steps, seconds, the dev IoUs and the run's settings.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data.labels import CIHP, N_CIHP
from tryon.parser.data import (
    DEV_SEED,
    N_DEV,
    augment,
    batch_tensors,
    class_weights,
    examples_of,
    read_example,
    split_ids,
)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def lr_at(progress: float, step: int, lr: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from ``lr`` to 0 over progress in [0, 1]."""
    cos = 0.5 * lr * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return cos * min(1.0, (step + 1) / warmup) if warmup else cos


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}"


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s"


def save_parser(path: str | os.PathLike, net, meta: dict) -> None:
    """Write a parser checkpoint (what :meth:`tryon.parser.model.Parser.load` reads), atomically."""
    from tryon.checkpoint import atomic_torch_save
    from tryon.parser.model import CHECKPOINT_FORMAT

    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    atomic_torch_save({"format": CHECKPOINT_FORMAT, "version": 1, "model": state, **meta}, path)


@dataclass
class _Run:
    """One training run's state: network, optimiser, class weights, data, metadata and where it is written."""

    net: torch.nn.Module
    opt: torch.optim.Optimizer
    weights: torch.Tensor
    train_ex: list[tuple[str, Path, Path]]
    dev_ex: list[tuple[str, Path, Path]]
    meta: dict
    out: str | os.PathLike
    batch: int
    device: str
    t_start: float


def _examples(root: Path, max_train: int, dev_limit: int) -> tuple[list, list]:
    """(train, dev) examples of ``root``, cut to the first ``max_train`` / ``dev_limit`` (0 = all)."""
    train_ex = examples_of(root, "train", split_ids(root, "train"))
    if max_train:
        train_ex = train_ex[:max_train]
    dev_ex = examples_of(root, "dev", split_ids(root, "dev"))
    if dev_limit:
        dev_ex = dev_ex[:dev_limit]
    return train_ex, dev_ex


def _initial_meta(root: Path, arch: dict, n_train: int, n_dev: int, settings: dict, command: str) -> dict:
    """The checkpoint's metadata before the first step (steps, seconds and dev IoUs come later)."""
    from tryon.parser.model import WORK_SIZE

    return {
        "architecture": arch,
        "labelset": "cihp",
        "labels": [c.name.lower() for c in CIHP],
        "size": list(WORK_SIZE),
        "steps": 0,
        "samples": 0,
        "seconds": 0.0,
        "dev": {},
        "data": {
            "root": str(root), "train_photos": n_train, "dev_photos": n_dev,
            "dev_split": f"the try-on pipeline's real dev persons (dev_persons, n_dev={N_DEV}, seed={DEV_SEED})",
            "labels": "LIP -> CIHP (tryon.data.labels.lip_to_cihp: jumpsuits -> dress)",
        },
        "settings": settings,
        "machine": _machine(),
        "command": command,
        "interrupted": False,
    }  # fmt: skip


def _checkpoint(run: _Run, step: int, final: bool = False) -> None:
    """Score the parser on the dev split, record the scores in the metadata and write the checkpoint."""
    from tryon.parser.evaluate import evaluate
    from tryon.parser.model import WORK_SIZE, Parser

    run.net.eval()
    res = evaluate(Parser(run.net, WORK_SIZE, device=run.device), run.dev_ex, batch=16)
    run.net.train()
    run.meta.update(steps=step, samples=step * run.batch, seconds=round(time.perf_counter() - run.t_start, 1),
                    epochs=round(step * run.batch / len(run.train_ex), 3),
                    dev={k: res[k] for k in ("iou", "mean_iou", "pixel_accuracy", "n")})  # fmt: skip
    save_parser(run.out, run.net, run.meta)
    iou = res["iou"]
    print(f"{'final' if final else 'checkpoint'} step {step}: dev mIoU {res['mean_iou']:.3f}, "
          f"upper garment {iou['upper_garment']:.3f}, arms {iou['arms']:.3f}, face {iou['face']:.3f}, "
          f"pixel acc {res['pixel_accuracy']:.3f} -> {run.out}", flush=True)  # fmt: skip


def _step(run: _Run, pairs: Sequence[tuple[np.ndarray, np.ndarray]], lr: float) -> float:
    """One optimiser step at learning rate ``lr`` on a batch of (photo, map) pairs; returns the loss."""
    from tryon.parser.model import WORK_SIZE

    x, y = batch_tensors(pairs, WORK_SIZE)
    x = x.to(run.device).contiguous(memory_format=torch.channels_last)
    y = y.to(run.device)
    for g in run.opt.param_groups:
        g["lr"] = lr
    logits = run.net(x)["logits"]  # [B, C, h, w]
    logits = F.interpolate(logits, size=y.shape[-2:], mode="bilinear", align_corners=False)  # [B, C, H, W]
    loss = F.cross_entropy(logits, y, weight=run.weights.to(run.device))
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    return loss.item()


def _on_term(signum, frame):
    """SIGTERM handler: stop the run as Ctrl-C would (the current weights are written)."""
    raise KeyboardInterrupt


def _train_loop(
    run: _Run, rng: np.random.Generator, steps: int, minutes: float, lr: float, warmup: int,
    aug: tuple[float, float, float], ckpt_minutes: float, log_every: int,
) -> int:  # fmt: skip
    """Train until the step or time budget ends (or Ctrl-C / SIGTERM), checkpointing; returns the steps."""
    budget, batch = 60.0 * minutes, run.batch
    old = signal.signal(signal.SIGTERM, _on_term)
    step, order, pos, loss_sum, n_sum = 0, np.arange(0), 0, 0.0, 0
    t_train, last_ckpt = time.perf_counter(), time.perf_counter()
    try:
        run.net.train()
        while True:
            elapsed = time.perf_counter() - t_train
            progress = max(step / steps, elapsed / budget if budget > 0 else 0.0)
            if progress >= 1.0:
                break
            if pos + batch > len(order):
                order, pos = rng.permutation(len(run.train_ex)), 0
            pairs = [
                augment(*read_example(*run.train_ex[i][1:]), rng, *aug) for i in order[pos : pos + batch]
            ]
            pos += batch
            loss = _step(run, pairs, lr_at(progress, step, lr, warmup))
            step += 1
            loss_sum, n_sum = loss_sum + loss, n_sum + 1
            if step % log_every == 0:
                el = time.perf_counter() - t_train
                frac = max(step / steps, el / budget if budget > 0 else 0.0)
                eta = el * (1 - frac) / max(frac, 1e-9)
                print(f"step {step} ({100 * frac:.1f}%): loss {loss_sum / n_sum:.4f}, lr {run.opt.param_groups[0]['lr']:.2e}, "
                      f"{step * batch / el:.1f} photos/s, elapsed {_fmt_s(el)}, ETA {_fmt_s(eta)}", flush=True)  # fmt: skip
                loss_sum, n_sum = 0.0, 0
            if ckpt_minutes and time.perf_counter() - last_ckpt >= 60.0 * ckpt_minutes:
                _checkpoint(run, step)
                last_ckpt = time.perf_counter()
    except KeyboardInterrupt:
        print(f"interrupted at step {step}: writing the current weights", flush=True)
        run.meta["interrupted"] = True
    finally:
        signal.signal(signal.SIGTERM, old)
    return step


def train(
    root: str | os.PathLike,
    out: str | os.PathLike,
    minutes: float = 25.0,
    steps: int = 100_000,
    batch: int = 8,
    lr: float = 2e-3,
    warmup: int = 100,
    widths: Sequence[int] = (16, 32, 64, 128, 192),
    weight_power: float = 0.25,
    scale: float = 0.08,
    shift: float = 0.05,
    colour: float = 0.1,
    ckpt_minutes: float = 3.0,
    dev_limit: int = 0,
    max_train: int = 0,
    seed: int = 0,
    log_every: int = 50,
    device: str = "cpu",
    command: str = "",
) -> dict:
    """Train and write the parser to ``out``; returns the checkpoint's metadata (see the module doc)."""
    from tryon.parser.model import build_parser_net, n_params

    t_start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    root = Path(root)
    train_ex, dev_ex = _examples(root, max_train, dev_limit)
    weights = class_weights([read_example(p, m)[1] for _, p, m in train_ex[:300]], weight_power)
    arch = {"n_classes": N_CIHP, "widths": [int(w) for w in widths]}
    net = build_parser_net(**arch).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    print(f"parser: {n_params(net) / 1e6:.2f} M parameters, {len(train_ex)} train / {len(dev_ex)} dev photos, "
          f"batch {batch}, up to {steps} steps or {minutes:g} min; {_machine()}", flush=True)  # fmt: skip
    settings = {
        "batch": batch, "lr": lr, "warmup": warmup, "minutes": minutes, "max_steps": steps,
        "weight_power": weight_power, "class_weights": [round(float(w), 4) for w in weights],
        "scale": scale, "shift": shift, "colour": colour, "seed": seed, "loss_size": "full (logits upsampled)",
    }  # fmt: skip
    meta = _initial_meta(root, arch, len(train_ex), len(dev_ex), settings, command)
    run = _Run(net, opt, weights, train_ex, dev_ex, meta, out, batch, device, t_start)
    step = _train_loop(run, rng, steps, minutes, lr, warmup, (scale, shift, colour), ckpt_minutes, log_every)
    _checkpoint(run, step, final=True)
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    from tryon import paths

    ap = argparse.ArgumentParser(prog="python -m tryon.parser.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(paths.SHARED_VITON), help="VITON (CP-VTON layout) folder")
    ap.add_argument(
        "--out", default="models/parser.pt", help="checkpoint to write (atomic; rewritten as it trains)"
    )
    ap.add_argument("--minutes", type=float, default=25.0, help="wall-time budget of the training loop")
    ap.add_argument(
        "--steps", type=int, default=100_000, help="step budget (the run ends at the first budget hit)"
    )
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument(
        "--widths", type=int, nargs="+", default=[16, 32, 64, 128, 192], help="U-Net widths per level"
    )
    ap.add_argument(
        "--weight-power",
        type=float,
        default=0.25,
        help="class weights (median freq / freq) ** this; 0 = none",
    )
    ap.add_argument("--scale", type=float, default=0.08, help="random scale jitter (+-)")
    ap.add_argument("--shift", type=float, default=0.05, help="random shift jitter (+- share of each side)")
    ap.add_argument("--colour", type=float, default=0.1, help="brightness / contrast jitter (+-)")
    ap.add_argument(
        "--ckpt-minutes", type=float, default=3.0, help="score on dev and write the checkpoint this often"
    )
    ap.add_argument(
        "--dev-limit", type=int, default=0, help="score only the first N dev photos (0 = all 256)"
    )
    ap.add_argument(
        "--max-train", type=int, default=0, help="train on the first N train photos only (0 = all)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 = torch default")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    command = "python -m tryon.parser.train " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        train(
            args.root, args.out, minutes=args.minutes, steps=args.steps, batch=args.batch, lr=args.lr,
            warmup=args.warmup, widths=args.widths, weight_power=args.weight_power, scale=args.scale,
            shift=args.shift, colour=args.colour, ckpt_minutes=args.ckpt_minutes, dev_limit=args.dev_limit,
            max_train=args.max_train, seed=args.seed, log_every=args.log_every, device=args.device,
            command=command,
        )  # fmt: skip
    except ValueError as e:  # a missing folder / file: one line
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
