"""Run-time set-up shared by stages: seeding, device choice, thread count (no network, no globals
changed at import)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (CPU and CUDA); return a torch Generator seeded the same."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(device: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("base.device: 'cuda' requested but no CUDA device is available (use auto or cpu)")
    return torch.device(device)


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16): there :func:`autocast_dtype`
    gives bfloat16 when ``amp`` is on; elsewhere bfloat16 is emulated and slower, so it keeps float32.
    Native is not always faster: a default training step ran 1.39x faster in bfloat16 on one AVX512-BF16
    machine and 0.86x on another (``tryon bench train`` prints the ratio), hence ``amp`` off by default."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def autocast_dtype(device: torch.device | str, amp: bool) -> torch.dtype | None:
    """The mixed-precision dtype of a training step (``None``: float32 throughout). ``amp`` on CUDA:
    float16 (with a gradient scaler); ``amp`` on a CPU with native bfloat16 (:func:`cpu_has_bf16`):
    bfloat16 (no scaler: it has float32's exponent range); otherwise float32."""
    kind = torch.device(device).type
    if not amp:
        return None
    if kind == "cuda":
        return torch.float16
    if kind == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


def autocast(device: torch.device | str, dtype: torch.dtype | None):
    """The autocast context of a training step in ``dtype`` (:func:`autocast_dtype`'s; ``None``: off)."""
    return torch.autocast(torch.device(device).type, dtype=dtype or torch.float32, enabled=dtype is not None)


def precision_text(device: torch.device | str, amp: bool) -> str:
    """What :func:`autocast_dtype` chose, in words, for metrics and reports."""
    dtype = autocast_dtype(device, amp)
    if dtype is None:
        why = "amp off" if not amp else "this CPU has no native bfloat16 (AVX512-BF16 / AMX)"
        return f"float32 ({why})"
    where = "CUDA" if dtype == torch.float16 else "CPU with native bfloat16"
    return f"{str(dtype).removeprefix('torch.')} autocast ({where})"


def set_threads(num_threads: int) -> int:
    """Set torch CPU threads (0 = leave torch's default); returns the number in use."""
    if num_threads > 0:
        torch.set_num_threads(num_threads)
    return torch.get_num_threads()


def cpu_load() -> dict:
    """The machine's load, to read beside a measured rate: ``cores`` (``os.cpu_count``) and ``load_1min``
    (the 1-minute load average, this process included; ``nan`` where the OS has none). A rate measured
    while other work shares the cores is low: stage 05's 1.46 samples/s of 25 Nov 2026 (822 s for 300
    steps, commit 632958c) was such a run; the same code ran at 10.3 samples/s 36 minutes earlier."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = float("nan")
    return {"cores": os.cpu_count() or 1, "load_1min": round(load, 2)}


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
