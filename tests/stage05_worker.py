"""Stage 05_train (the real trainer: synthetic phase, then the mixed real phase) on a tiny prepared root,
as a subprocess that tests can SIGKILL (tests/test_train_stage.py).

    python tests/stage05_worker.py ROOT [--resume] [--sleep S] [--die-in-save N]

``ROOT`` holds ``data/01_prepare`` and ``data/02_encode`` (prepared by the test). ``--sleep`` slows each
step of the real phase so that a kill lands inside it; ``--die-in-save N`` SIGKILLs this process half
way through writing the N-th checkpoint of the real phase (``data/05_train/real/last.pt``).
Writes ``ROOT/done.json`` when the stage has finished.
"""

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import torch
import yaml

from tryon import checkpoint, config
from tryon.stages import train as train_stage

TINY = {
    "base": {"image_size": 64, "device": "cpu", "num_threads": 1},
    # the flat vton-samples layout (28 real train pairs): VITON, the default real_root, is read in
    # tests/test_pipeline.py's tiny end-to-end run
    "01_prepare": {"n_train": 12, "n_dev": 4, "n_test": 4, "real_root": "../shared/data/vton-samples"},
    "05_train": {
        "steps": 4,
        "real_steps": 6,
        "ablation_steps": 0,
        "batch_size": 2,
        "log_every": 1,
        "checkpoint_every": 1,
    },
}


def tiny_params(**train) -> config.Params:
    """The tiny profile of these tests (``params.yaml`` with ``TINY`` and ``train`` merged in)."""
    raw = yaml.safe_load((Path(config.__file__).parents[1] / "params.yaml").read_text())
    return config.parse_params(config.merge(config.merge(raw, TINY), {"05_train": train}))


def _slow_real_steps(seconds: float) -> None:
    make = train_stage._step_fn

    def step_fn(params, vgg, real_phase=False):
        inner = make(params, vgg, real_phase)
        if not real_phase:
            return inner

        def slow(model, batch):
            time.sleep(seconds)
            return inner(model, batch)

        return slow

    train_stage._step_fn = step_fn


def _die_in_save(n: int) -> None:
    """SIGKILL half way through the ``n``-th write of ``real/last.pt`` (a kill during the checkpoint write)."""
    write = checkpoint.atomic_write
    seen = {"n": 0}

    def atomic_write(path, fn):
        path = Path(path)
        if path.name != "last.pt" or path.parent.name != "real":
            return write(path, fn)
        seen["n"] += 1
        if seen["n"] < n:
            return write(path, fn)

        def half_then_die(fh):
            import io

            buf = io.BytesIO()
            fn(buf)
            data = buf.getvalue()
            fh.write(data[: len(data) // 2])
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        return write(path, half_then_die)

    checkpoint.atomic_write = atomic_write


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--die-in-save", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.sleep:
        _slow_real_steps(a.sleep)
    if a.die_in_save:
        _die_in_save(a.die_in_save)
    metrics = train_stage.run(tiny_params(resume=a.resume), a.root, progress=False)
    done = {"real_steps": metrics["real_phase"]["steps"], "resumed_from": metrics["resumed_from"]}
    (a.root / "done.json").write_text(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
