"""A small deterministic training job for tests of tryon.train.loop (run as a script or under torchrun).

    python tests/train_worker.py OUT_DIR --steps N [--resume] [--sleep S] [--nan-at K]
Writes OUT_DIR/result.json (rank 0) with the loss history and final parameter checksum, and every
rank's final weights to OUT_DIR/weights_rank<R>.pt. The model has no dropout (nothing random in a step),
so a DDP run and a single-process run on the same global batch must end with the same weights.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

from tryon.train.loop import DistInfo, fit, init_distributed, unwrap


class ToyData:
    def __init__(self, n=32, size=16):
        g = torch.Generator().manual_seed(123)
        self.x = torch.randn(n, 3, size, size, generator=g)
        self.y = torch.tanh(self.x.flip(1) * 0.5)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "y": self.y[i], "id": f"s{i}"}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--nan-at", type=int, default=-1)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    info = init_distributed(torch.device("cpu"))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))
    if info.world_size > 1:
        model = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    calls = {"n": 0}

    def step_fn(m, b):
        calls["n"] += 1
        if a.sleep:
            time.sleep(a.sleep)
        l1 = (m(b["x"]) - b["y"]).abs().mean()
        if a.nan_at >= 0 and calls["n"] > a.nan_at:
            l1 = l1 * float("nan")
        return {"l1": l1, "total": l1}

    res = fit(
        model,
        step_fn,
        ToyData(),
        steps=a.steps,
        batch_size=a.batch,
        optimizer=opt,
        scheduler=sched,
        seed=7,
        ckpt_dir=Path(a.out) / "ckpt",
        checkpoint_every=2,
        log_every=1,
        resume=a.resume,
        progress=False,
        dist_info=info if info.world_size > 1 else DistInfo(),
    )
    Path(a.out).mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().clone() for k, v in unwrap(model).state_dict().items()}
    torch.save(weights, Path(a.out) / f"weights_rank{info.rank}.pt")
    if info.is_main:
        checksum = float(sum(p.double().sum() for p in model.parameters()))
        Path(a.out, "result.json").write_text(
            json.dumps({"history": res.history, "checksum": checksum, "resumed_from": res.resumed_from})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
