"""Training engine shared by the pretraining stages and end-to-end training (stage 05_train).

What it guarantees:

* **Determinism**: the batch at global step ``s`` is a pure function of ``(seed, s)`` (an epoch-wise
  seeded permutation, :class:`StepSampler`), so two runs with one seed see the same data in the same
  order, and a resumed run continues with exactly the batches it would have seen.
* **Checkpoints that survive a kill**: written to a temp file and renamed (``os.replace`` is atomic
  on POSIX), holding model, optimiser, scheduler, step, loss history and every RNG state. ``last.pt``
  every ``checkpoint_every`` steps and at the end; ``best.pt`` when the logged loss improves.
  ``resume=True`` continues from ``last.pt`` exactly where it stopped.
* **Guard rails**: a NaN/inf loss term stops training with :class:`TrainingDiverged`, one line naming
  the term and the step; nothing is written after the last good checkpoint.
* **Distributed data parallel** under ``torchrun`` (NCCL on CUDA, gloo on CPU): each rank takes its
  shard of the same global batch (a distributed sampler), gradients are averaged by DDP, and only rank
  0 writes checkpoints and logs.
* **Mixed precision** with ``amp=True`` (:func:`tryon.runtime.autocast_dtype`): float16 autocast and a
  gradient scaler on CUDA; bfloat16 autocast on a CPU that computes it natively (AVX512-BF16, AMX);
  float32 on other CPUs. Weights, gradients and the optimiser stay float32.

The engine knows nothing about try-on: the caller passes ``step_fn(model, batch) -> dict of named
loss terms + "total"``.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from tryon import runtime
from tryon.checkpoint import atomic_torch_save, load_checkpoint


class TrainingDiverged(RuntimeError):
    """A loss term became NaN/inf (message is one line naming the term and the step)."""


# --------------------------------------------------------------------------------------------
# Data order
# --------------------------------------------------------------------------------------------
class StepSampler:
    """Indices of the global batch at step ``s``: epoch-wise permutations seeded by ``(seed, epoch)``.

    With ``world_size > 1`` each rank gets a contiguous shard of the same global batch, so the union
    over ranks equals the single-process batch (``global_batch`` must divide by ``world_size``).
    """

    def __init__(self, n: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1):
        if n < 1:
            raise ValueError("training set is empty")
        if global_batch % world_size:
            raise ValueError(f"batch_size {global_batch} must be divisible by the world size {world_size}")
        self.n, self.batch, self.seed, self.rank, self.world = n, global_batch, seed, rank, world_size
        self._cache: dict[int, torch.Tensor] = {}

    def _perm(self, epoch: int) -> torch.Tensor:
        if epoch not in self._cache:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = {epoch: torch.randperm(self.n, generator=g)}
        return self._cache[epoch]

    def global_indices(self, step: int) -> list[int]:
        out = []
        for k in range(step * self.batch, (step + 1) * self.batch):
            epoch, i = divmod(k, self.n)
            out.append(int(self._perm(epoch)[i]))
        return out

    def indices(self, step: int) -> list[int]:
        shard = self.batch // self.world
        return self.global_indices(step)[self.rank * shard : (self.rank + 1) * shard]


class PartsSampler:
    """Batches of several datasets concatenated (``ConcatDataset(parts)``): at every step ``per_batch[p]``
    of the global batch's indices come from part ``p`` (``sizes[p]`` samples), each part drawn by its own
    :class:`StepSampler` seeded ``seed + p`` (epochs over each part apart), so every batch has the same
    mix and the order is reproducible and resumable. Sharded over ranks like :class:`StepSampler`."""

    def __init__(
        self, sizes: Sequence[int], per_batch: Sequence[int], seed: int, rank: int = 0, world_size: int = 1
    ):
        if len(sizes) != len(per_batch) or any(k < 0 for k in per_batch) or sum(per_batch) < 1:
            raise ValueError(
                f"per-part batch counts: expected one count >= 0 per part, got {list(per_batch)}"
            )
        self.batch = sum(per_batch)
        if self.batch % world_size:
            raise ValueError(f"batch_size {self.batch} must be divisible by the world size {world_size}")
        offsets = [sum(sizes[:p]) for p in range(len(sizes))]
        self.parts = [
            (off, StepSampler(n, k, seed + p))
            for p, (off, n, k) in enumerate(zip(offsets, sizes, per_batch, strict=True))
            if k
        ]
        self.rank, self.world = rank, world_size

    def global_indices(self, step: int) -> list[int]:
        return [off + i for off, part in self.parts for i in part.global_indices(step)]

    def indices(self, step: int) -> list[int]:
        shard = self.batch // self.world
        return self.global_indices(step)[self.rank * shard : (self.rank + 1) * shard]


class MixedSampler(PartsSampler):
    """Two parts (``ConcatDataset([first, second])``): ``n_second_per_batch`` of the ``global_batch``
    indices from ``second``, the rest from ``first`` (:class:`PartsSampler`)."""

    def __init__(
        self, n_first: int, n_second: int, global_batch: int, n_second_per_batch: int, seed: int,
        rank: int = 0, world_size: int = 1,
    ):  # fmt: skip
        if not 0 < n_second_per_batch <= global_batch:
            raise ValueError(
                f"second-dataset samples per batch: expected 1..{global_batch}, got {n_second_per_batch}"
            )
        per_batch = [global_batch - n_second_per_batch, n_second_per_batch]
        super().__init__([n_first, n_second], per_batch, seed, rank, world_size)


def collate(samples: Sequence[dict]) -> dict:
    """Stack tensors, keep everything else (strings, floats) as lists."""
    out: dict[str, Any] = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        out[key] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return out


def to_device(batch: dict, device: torch.device) -> dict:
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()
    }


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------
def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model


# --------------------------------------------------------------------------------------------
# Distributed
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when launched by ``torchrun`` (WORLD_SIZE > 1); else single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------
@dataclass
class FitResult:
    step: int
    history: list[dict] = field(default_factory=list)
    last_checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    seconds: float = 0.0
    resumed_from: int = 0


def fit(
    model: nn.Module,
    step_fn: Callable[[nn.Module, dict], dict[str, torch.Tensor]],
    dataset: Sequence[dict],
    *,
    steps: int,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    ckpt_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    log_every: int = 10,
    resume: bool = False,
    amp: bool = False,
    extra_state: Callable[[], dict] | None = None,
    on_log: Callable[[int, dict], None] | None = None,
    progress: bool = True,
    dist_info: DistInfo | None = None,
    sampler: StepSampler | PartsSampler | None = None,
) -> FitResult:
    """Train ``model`` for ``steps`` optimiser steps.

    ``step_fn(model, batch)`` returns named scalar loss terms and ``"total"`` (what is optimised).
    ``history`` holds one dict per logged step: ``step``, ``lr``, every term (float) averaged over the
    ``log_every`` steps since the previous log. ``extra_state()`` adds caller data to checkpoints
    (e.g. the architecture arguments). ``on_log(step, record)`` is called on rank 0 at each log.
    ``sampler``: the batch indices of each step (default: a :class:`StepSampler` over ``dataset``).
    """
    device = torch.device(device)
    info = dist_info or DistInfo()
    sampler = sampler or StepSampler(len(dataset), batch_size, seed, info.rank, info.world_size)
    last_path, best_path = (
        (Path(ckpt_dir) / "last.pt", Path(ckpt_dir) / "best.pt") if ckpt_dir else (None, None)
    )
    amp_dtype = runtime.autocast_dtype(device, amp)  # float16 on CUDA, bfloat16 on a CPU that has it
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    start, history, best = _start_state(last_path, resume, info, device, model, optimizer, scheduler, scaler)

    def save(path: Path, step: int) -> None:
        if path is not None and info.is_main:
            extra = extra_state() if extra_state else {}
            state = _train_state(model, optimizer, scheduler, scaler if scaler.is_enabled() else None)
            atomic_torch_save({**state, "step": step, "history": history, "best": best, **extra}, path)

    bar = _progress_bar(steps, start) if progress and info.is_main else None
    t0 = time.perf_counter()
    model.train()
    acc = _TermMeans()
    last_saved = last_path if (last_path is not None and last_path.is_file()) else None
    for step in range(start, steps):
        batch = to_device(collate([dataset[i] for i in sampler.indices(step)]), device)
        with runtime.autocast(device, amp_dtype):
            terms = step_fn(model, batch)
        _check_finite(terms, step, last_saved)
        _optimiser_step(terms["total"], optimizer, scaler, scheduler)
        acc.add(terms)
        done = step + 1
        if done % log_every == 0 or done == steps:
            record = {"step": done, "lr": optimizer.param_groups[0]["lr"], **acc.pop_means(info, device)}
            history.append(record)
            if info.is_main:
                _report(done, record, on_log, bar)
                if record["total"] < best and best_path is not None:
                    best = record["total"]
                    save(best_path, done)
        if bar is not None:
            bar.update(1)
        if last_path is not None and (done % checkpoint_every == 0 or done == steps):
            save(last_path, done)
            last_saved = last_path
    if bar is not None:
        bar.close()
    best_saved = best_path if best_path is not None and best_path.exists() else None
    seconds = time.perf_counter() - t0
    return FitResult(steps, history, last_path, best_saved, seconds=seconds, resumed_from=start)


def _start_state(
    last_path, resume, info, device, model, optimizer, scheduler, scaler
) -> tuple[int, list, float]:
    """``(step, history, best)`` to start from: ``last.pt`` restored on ``resume``, else a fresh start.
    Removes the half-written temp files a kill during a checkpoint write leaves behind (the checkpoints
    themselves are never half-written: see :func:`tryon.config.atomic_write`)."""
    if last_path is not None and info.is_main:
        for tmp in last_path.parent.glob(".*.pt.*.tmp"):
            tmp.unlink(missing_ok=True)
    if resume and last_path is not None and last_path.is_file():
        return _restore(last_path, device, model, optimizer, scheduler, scaler)
    return 0, [], math.inf


def _restore(last_path: Path, device, model, optimizer, scheduler, scaler) -> tuple[int, list, float]:
    """Load ``last.pt`` into model, optimiser, scheduler, scaler and every RNG; ``(step, history, best)``."""
    ck = load_checkpoint(last_path, device)
    unwrap(model).load_state_dict(ck["model"])
    optimizer.load_state_dict(ck["optimizer"])
    if scheduler is not None and ck.get("scheduler") is not None:
        scheduler.load_state_dict(ck["scheduler"])
    if ck.get("scaler"):
        scaler.load_state_dict(ck["scaler"])
    set_rng_state(ck["rng"])
    return ck["step"], ck["history"], ck.get("best", math.inf)


def _train_state(model, optimizer, scheduler, scaler) -> dict:
    """What a resume needs besides step and history: weights, optimiser, scheduler, scaler, RNGs."""
    return {
        "model": unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_state(),
    }


def _report(step: int, record: dict, on_log, bar) -> None:
    if on_log is not None:
        on_log(step, record)
    if bar is not None:
        bar.set_postfix(loss=f"{record['total']:.4f}")


def _progress_bar(steps: int, start: int):
    from tqdm.auto import tqdm

    return tqdm(total=steps, initial=start, desc="train", file=sys.stderr, mininterval=5, dynamic_ncols=True)


def _check_finite(terms: dict[str, torch.Tensor], step: int, last_saved: Path | None) -> None:
    """:class:`TrainingDiverged` (one line: the term, the step, the last good checkpoint) on NaN/inf."""
    for name, value in terms.items():
        if not torch.isfinite(value.detach()).all():
            where = f"; last good checkpoint: {last_saved}" if last_saved else ""
            raise TrainingDiverged(f"loss term '{name}' is {value.item()} at step {step}{where}")


def _optimiser_step(total: torch.Tensor, optimizer, scaler, scheduler) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(total).backward()
    scaler.step(optimizer)
    scaler.update()
    if scheduler is not None:
        scheduler.step()


class _TermMeans:
    """Running sums of the named loss terms since the last log."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.n = 0

    def add(self, terms: dict[str, torch.Tensor]) -> None:
        for name, value in terms.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value.detach())
        self.n += 1

    def pop_means(self, info: DistInfo, device: torch.device) -> dict:
        """Mean of each term since the last log, then reset; under DDP the mean over every rank (the
        loss of the global batch, not of this rank's shard)."""
        means = {k: v / self.n for k, v in self.sums.items()}
        self.sums, self.n = {}, 0
        if info.world_size > 1:
            vec = torch.tensor(list(means.values()), dtype=torch.float64, device=device)
            dist.all_reduce(vec)
            means = dict(zip(means, (vec / info.world_size).tolist(), strict=True))
        return means
