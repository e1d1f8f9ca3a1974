"""The training engine: determinism, kill-and-resume, atomic checkpoints, NaN guard, DDP (gloo)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tryon.train import loop as train

WORKER = Path(__file__).with_name("train_worker.py")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(WORKER.parents[1])
    return env


def _run(out, *args):
    subprocess.run([sys.executable, str(WORKER), str(out), *args], check=True, env=_env(), timeout=300)
    return json.loads((Path(out) / "result.json").read_text())


def test_step_sampler_is_a_function_of_seed_and_step():
    s = train.StepSampler(10, 4, seed=3)
    assert s.indices(5) == train.StepSampler(10, 4, seed=3).indices(5)
    epoch0 = sum((s.global_indices(k) for k in range(5)), [])[:10]
    assert sorted(epoch0) == list(range(10)), "each epoch is a permutation"
    shards = [train.StepSampler(10, 4, 3, rank=r, world_size=2).indices(5) for r in range(2)]
    assert shards[0] + shards[1] == s.indices(5)
    with pytest.raises(ValueError, match="divisible"):
        train.StepSampler(10, 3, 0, world_size=2)


def test_same_seed_same_loss(tmp_path):
    a = _run(tmp_path / "a", "--steps", "12")
    b = _run(tmp_path / "b", "--steps", "12")
    assert abs(a["history"][-1]["total"] - b["history"][-1]["total"]) < 1e-6
    assert a["checksum"] == b["checksum"]


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    ref = _run(tmp_path / "ref", "--steps", "30")
    out = tmp_path / "killed"
    p = subprocess.Popen(
        [sys.executable, str(WORKER), str(out), "--steps", "30", "--sleep", "0.15"], env=_env()
    )
    ckpt = out / "ckpt" / "last.pt"
    deadline = time.time() + 120
    while time.time() < deadline and not ckpt.exists():
        time.sleep(0.05)
    time.sleep(1.0)  # let it run a few more steps (and maybe be mid-write) before the kill
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (out / "result.json").exists(), "the run was meant to be killed mid-training"
    state = train.load_checkpoint(ckpt)  # never half-written: loads fine
    assert 0 < state["step"] < 30
    res = _run(out, "--steps", "30", "--resume")
    assert res["resumed_from"] == state["step"]
    assert abs(res["history"][-1]["total"] - ref["history"][-1]["total"]) < 1e-5
    assert abs(res["checksum"] - ref["checksum"]) < 1e-5
    assert not list((out / "ckpt").glob("*.tmp")), "no temp files left behind"


def test_nan_stops_with_one_line_and_keeps_last_good_checkpoint(tmp_path):
    r = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path), "--steps", "10", "--nan-at", "5"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert "TrainingDiverged: loss term 'l1' is nan at step 5" in last and "last.pt" in last
    assert train.load_checkpoint(tmp_path / "ckpt" / "last.pt")["step"] == 4


def test_atomic_save_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "c.pt"
    train.atomic_torch_save({"a": 1}, path)

    class Boom:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        train.atomic_torch_save({"a": Boom()}, path)
    assert train.load_checkpoint(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pt: not a readable tryon checkpoint"):
        train.load_checkpoint(tmp_path / "bad.pt")


def _weights(out: Path, rank: int = 0) -> dict[str, torch.Tensor]:
    return torch.load(out / f"weights_rank{rank}.pt", weights_only=True)


def _largest_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@pytest.mark.slow
def test_torchrun_gloo_matches_single_process(tmp_path):
    """DDP on CPU (gloo, two ranks of 4 samples) against one process on the same global batch of 8: the
    toy has nothing random in a step (no dropout), so after 6 Adam steps both ranks hold the same
    weights (1e-6) and those are the single process's (1e-5: only the order of the float sums differs).
    Without the gradient all-reduce each rank would follow its own shard's gradient: the ranks would
    part and neither would match; the weights move by far more than the tolerance (checked against
    the untrained weights), so a missing step or a stale rank fails too."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun is installed with torch"
    single = _run(tmp_path / "single", "--steps", "6")
    _run(tmp_path / "init", "--steps", "0")
    cmd = [torchrun, "--standalone", "--nproc_per_node", "2", str(WORKER), str(tmp_path / "ddp"),
           "--steps", "6"]  # fmt: skip
    subprocess.run(cmd, check=True, env=_env(), timeout=600)
    ddp = json.loads((tmp_path / "ddp" / "result.json").read_text())
    rank0, rank1 = _weights(tmp_path / "ddp", 0), _weights(tmp_path / "ddp", 1)
    alone, init = _weights(tmp_path / "single"), _weights(tmp_path / "init")
    assert _largest_difference(rank0, rank1) <= 1e-6, "the ranks' weights parted"
    assert _largest_difference(rank0, alone) <= 1e-5, "DDP is not the single-process run"
    assert _largest_difference(alone, init) > 1e-2, "the weights hardly moved: the test would tell nothing"
    for a, b in zip(single["history"], ddp["history"], strict=True):  # the logged loss: the global batch's
        assert a["total"] == pytest.approx(b["total"], rel=1e-5, abs=1e-7)


def test_bench_step_breakdown_times_every_part_and_restores_the_losses():
    """`tryon bench train`'s breakdown of one step: each sub-network, each loss function, backward and
    optimiser get a positive time; without a dataset the data part is 0; the timed loss wrappers are
    removed afterwards."""
    import dataclasses

    from tryon import config
    from tryon.bench.train import PARTS, step_breakdown
    from tryon.train import step as step_mod

    p = config.parse_params({})
    p = dataclasses.replace(p, base=dataclasses.replace(p.base, image_size=64))
    before = (step_mod.style_loss, step_mod.warp_loss, step_mod.rec_loss, step_mod.flow_loss)
    parts = step_breakdown(p, reps=1)
    assert tuple(parts) == PARTS and parts["data"] == 0
    for part in (
        "text + contour",
        "warp",
        "fusion",
        "style",
        "warp_vgg",
        "rec",
        "flow",
        "backward",
        "optimiser",
    ):
        assert parts[part] > 0, part
    assert parts["other terms"] > -1e-3  # the step's own bookkeeping: what the timed parts leave over
    assert (step_mod.style_loss, step_mod.warp_loss, step_mod.rec_loss, step_mod.flow_loss) == before


def test_bench_step_gflop_counts_a_convolution_forward_and_its_weight_gradient():
    """One 3x3 convolution, 1 -> 1 channel, on an 8x8 input that needs no gradient: the forward costs
    2 * 64 * 9 FLOP, the weight gradient as much (no input gradient is computed); the model is left
    without gradients."""
    from tryon.bench.train import step_gflop

    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    b = {"x": torch.rand(1, 1, 8, 8)}
    gflop = step_gflop(conv, lambda m, batch: {"total": m(batch["x"]).sum()}, b)
    assert gflop * 1e9 == pytest.approx(2 * (2 * 64 * 9))
    assert conv.weight.grad is None


@pytest.mark.parametrize("native", [True, False])
def test_amp_picks_bfloat16_on_a_cpu_that_has_it_and_float32_elsewhere(monkeypatch, native):
    from tryon import runtime

    monkeypatch.setattr(runtime, "cpu_has_bf16", lambda: native)
    assert runtime.autocast_dtype("cpu", True) == (torch.bfloat16 if native else None)
    assert runtime.autocast_dtype("cpu", False) is None
    assert runtime.autocast_dtype("cuda", True) == torch.float16
    text = runtime.precision_text("cpu", True)
    assert text.startswith("bfloat16 autocast") if native else "no native bfloat16" in text
    assert runtime.precision_text("cpu", False) == "float32 (amp off)"


@pytest.mark.parametrize("native", [True, False])
def test_fit_runs_the_step_in_the_amp_dtype_and_keeps_float32_weights(monkeypatch, native):
    from tryon import runtime

    monkeypatch.setattr(runtime, "cpu_has_bf16", lambda: native)  # bfloat16 is emulated where not native
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 1)
    )
    seen = []

    def step_fn(m, batch):
        out = m(batch["x"])
        seen.append(out.dtype)
        loss = (out.float() - batch["x"]).abs().mean()
        return {"l1": loss, "total": loss}

    data = [{"x": torch.randn(3, 16, 16)} for _ in range(8)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    res = train.fit(model, step_fn, data, steps=20, batch_size=4, optimizer=opt, amp=True, progress=False)
    assert set(seen) == {torch.bfloat16 if native else torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert res.history[-1]["total"] < res.history[0]["total"], "the step still learns"
