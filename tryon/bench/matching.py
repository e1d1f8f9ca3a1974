"""Benchmarks (``tryon bench ...``). Not unit tests: they print measured tables.

``bench_warp`` times naive vs fused global matching (:func:`tryon.matching.global_matching`) forward
and forward+backward at several feature sizes, and measures the **peak extra memory** of each case
honestly on CPU: every case runs in a fresh Python subprocess, which builds its inputs, resets the
kernel's peak-RSS counter (``/proc/self/clear_refs``, Linux; else it takes ``ru_maxrss`` before the
case), runs the case once, and reports ``peak RSS - RSS before``. On CUDA it uses
``torch.cuda.max_memory_allocated`` instead. Times are the median of the repeats after that first run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

DEFAULT_SIZES: tuple[tuple[int, int], ...] = ((32, 24), (64, 48), (128, 96))
LARGE_FUSED_SIZES: tuple[tuple[int, int], ...] = ((256, 192),)

__all__ = ["bench_warp", "run_case", "format_table"]


# --------------------------------------------------------------------------------------------------
# Memory probes (current and peak resident set size of this process, in bytes)
# --------------------------------------------------------------------------------------------------
def _proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024  # kB -> bytes
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM (peak RSS) to the current RSS; True when the kernel supports it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    hwm = _proc_status("VmHWM")
    if hwm is not None:
        return hwm
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024


def _current_rss() -> int:
    rss = _proc_status("VmRSS")
    return rss if rss is not None else _peak_rss()


# --------------------------------------------------------------------------------------------------
# One case (runs inside the subprocess)
# --------------------------------------------------------------------------------------------------
def run_case(
    mode: str,
    height: int,
    width: int,
    *,
    backward: bool,
    batch: int = 2,
    channels: int = 128,
    repeats: int = 3,
    threads: int = 2,
    device: str = "cpu",
    seed: int = 0,
) -> dict:
    """Time and peak extra memory of one matching case in *this* process (call it in a fresh one).

    Returns a dict with ``time_s`` (median of ``repeats`` runs after the first), ``extra_bytes`` (peak
    memory during the first run minus the memory before it) and the case's settings.
    """
    import torch

    from tryon.matching import global_matching

    torch.set_num_threads(threads)
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    t1 = torch.randn(batch, channels, height, width, generator=gen).to(dev)  # [B, C, h, w]
    c1 = torch.randn(batch, channels, height, width, generator=gen).to(dev)  # [B, C, h, w]
    t1.requires_grad_(backward)
    c1.requires_grad_(backward)

    def once() -> None:
        if backward:
            grid = global_matching(t1, c1, mode=mode)["grid"]  # [B, 2, h, w]
            grid.square().sum().backward()
            t1.grad = c1.grad = None
        else:
            with torch.no_grad():
                global_matching(t1, c1, mode=mode)
        if dev.type == "cuda":
            torch.cuda.synchronize()

    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        reset_ok = _reset_peak()
        before = _current_rss() if reset_ok else _peak_rss()
    t0 = time.perf_counter()
    once()
    first = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else _peak_rss()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return {
        "mode": mode,
        "size": f"{height}x{width}",
        "n": height * width,
        "pass": "fwd+bwd" if backward else "fwd",
        "batch": batch,
        "channels": channels,
        "threads": threads,
        "device": device,
        "time_s": statistics.median(times) if times else first,
        "first_s": first,
        "extra_bytes": max(peak - before, 0),
    }


def _run_in_subprocess(kwargs: dict, timeout: float) -> dict:
    code = (
        "import json, sys\n"
        "from tryon.bench.matching import run_case\n"
        "kw = json.loads(sys.argv[1])\n"
        "print('RESULT ' + json.dumps(run_case(**kw)))\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(kwargs.get("threads", 2)))
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"bench case {kwargs} failed (exit {proc.returncode}): {tail[0]}")


# --------------------------------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------------------------------
def _mib(b: float) -> str:
    return f"{b / 2**20:,.1f} MiB" if b < 2**30 else f"{b / 2**30:,.2f} GiB"


def _ms(s: float) -> str:
    return f"{s * 1e3:,.1f} ms" if s < 1 else f"{s:,.2f} s"


def format_table(rows: Sequence[dict]) -> str:
    """Side-by-side table: one line per (size, pass), naive vs fused time and extra memory, ratios."""
    by = {(r["size"], r["pass"], r["mode"]): r for r in rows}
    keys = list(dict.fromkeys((r["size"], r["pass"]) for r in rows))
    head = (
        f"{'features':>9} {'N':>6} {'pass':>8} | {'naive time':>11} {'naive mem':>11} | "
        f"{'fused time':>11} {'fused mem':>11} | {'mem ratio':>9} {'time ratio':>10}"
    )
    lines = [head, "-" * len(head)]
    for size, ps in keys:
        nv, fu = by.get((size, ps, "naive")), by.get((size, ps, "fused"))
        any_row = nv or fu
        cells = [f"{size:>9} {any_row['n']:>6} {ps:>8}"]
        cells.append(
            f"{_ms(nv['time_s']):>11} {_mib(nv['extra_bytes']):>11}" if nv else f"{'-':>11} {'-':>11}"
        )
        cells.append(
            f"{_ms(fu['time_s']):>11} {_mib(fu['extra_bytes']):>11}" if fu else f"{'-':>11} {'-':>11}"
        )
        if nv and fu:
            mem_ratio = nv["extra_bytes"] / max(fu["extra_bytes"], 1)
            time_ratio = fu["time_s"] / nv["time_s"]
            cells.append(f"{mem_ratio:>8.1f}x {time_ratio:>9.2f}x")
        else:
            cells.append(f"{'-':>9} {'-':>10}")
        lines.append(" | ".join(cells))
    lines.append("mem ratio = naive extra / fused extra (higher is better); time ratio = fused / naive")
    return "\n".join(lines)


def bench_warp(
    sizes: Sequence[tuple[int, int]] = DEFAULT_SIZES,
    large_fused_sizes: Sequence[tuple[int, int]] = LARGE_FUSED_SIZES,
    *,
    batch: int = 2,
    channels: int = 128,
    threads: int = 2,
    repeats: int | None = None,
    device: str = "cpu",
    timeout_s: float = 300.0,
    out: Callable[[str], None] | None = print,
) -> list[dict]:
    """Naive vs fused global matching: time and peak extra memory, fwd and fwd+bwd, one table.

    Each case runs in a fresh subprocess (see module docstring). ``repeats`` = timed runs after the
    first (default: 5 below 4k positions, 2 below 16k, else 0: the first run's time, warm-up included). ``large_fused_sizes`` run fused only (the
    naive matrix would not fit). Prints the table and the 128x96 targets through ``out`` and returns the
    rows (one dict per case).
    """
    plan = [(m, h, w, bwd) for (h, w) in sizes for bwd in (False, True) for m in ("naive", "fused")]
    plan += [("fused", h, w, bwd) for (h, w) in large_fused_sizes for bwd in (False, True)]
    rows = []
    for mode, h, w, bwd in plan:
        n = h * w
        reps = repeats if repeats is not None else (5 if n < 4096 else 2 if n < 16384 else 0)
        kw = dict(
            mode=mode, height=h, width=w, backward=bwd, batch=batch, channels=channels,
            repeats=reps, threads=threads, device=device,
        )  # fmt: skip
        row = _run_in_subprocess(kw, timeout_s)
        rows.append(row)
        if out is not None:
            out(f"  {mode:>5} {h}x{w} {row['pass']:>7}: {_ms(row['time_s'])}, +{_mib(row['extra_bytes'])}")
    if out is not None:
        out("")
        out(
            f"global matching, batch {batch}, C={channels}, {threads} thread(s), {device}; "
            "memory = peak extra RSS of a fresh process"
        )
        out(format_table(rows))
        out(summarise(rows))
    return rows


def summarise(rows: Sequence[dict], size: str = "128x96") -> str:
    """One line checking the issue's targets at ``size`` fwd+bwd (>= 20x less memory, <= 1.1x time)."""
    by = {(r["size"], r["pass"], r["mode"]): r for r in rows}
    nv, fu = by.get((size, "fwd+bwd", "naive")), by.get((size, "fwd+bwd", "fused"))
    if not (nv and fu):
        return f"targets at {size}: not measured"
    mem = nv["extra_bytes"] / max(fu["extra_bytes"], 1)
    tim = fu["time_s"] / nv["time_s"]
    ok = "MET" if mem >= 20 and tim <= 1.1 else "NOT MET"
    return (
        f"targets at {size} fwd+bwd: memory {mem:.1f}x less (>= 20x), time {tim:.2f}x naive (<= 1.1x): {ok}"
    )


if __name__ == "__main__":
    bench_warp()
