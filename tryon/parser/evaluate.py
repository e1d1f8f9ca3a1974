"""Per-class IoU of a parser on a VITON split, against the true parse maps (LIP -> CIHP ids) at the
photos' own 256x192.

    python -m tryon.parser.evaluate models/parser.pt --split test --ids test_clean_ids --json out.json

IoUs are **dataset-level**: one confusion matrix summed over every pixel of every photo, then
``IoU_c = TP / (TP + FP + FN)`` (the LIP / CIHP benchmarks' convention). A group of labels (e.g. the
upper garment = upper clothes + dress + coat) is scored as one class: a pixel of the group predicted as
another member of the group counts as right. ``mean_iou`` averages the classes that occur in the true
maps (VITON has no hat or sunglasses pixels); ``pixel_accuracy`` is the share of pixels labelled right.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tryon.data.labels import ARMS, CIHP, N_CIHP, UPPER_GARMENT

#: groups scored as one class, beside the 20 classes
GROUPS: dict[str, tuple[int, ...]] = {
    "upper_garment": tuple(int(c) for c in UPPER_GARMENT),  # 5 + 6 + 7
    "arms": tuple(int(c) for c in ARMS),  # 14 + 15
    "lower_clothes": (int(CIHP.PANTS), int(CIHP.SKIRT)),  # 9 + 12
    "body": tuple(range(1, N_CIHP)),  # person vs background
}
#: the rows of the printed table (the figures the try-on relies on), in order; no torso skin: VITON's LIP maps
#: have none (LIP's id 10 is jumpsuits, which becomes a dress)
TABLE_ROWS = (
    "upper_clothes", "upper_garment", "dress", "coat", "left_arm", "right_arm", "arms", "face", "hair",
    "background", "lower_clothes", "pants", "skirt", "left_leg", "right_leg", "body",
)  # fmt: skip


def class_name(c: int) -> str:
    return CIHP(c).name.lower()


def confusion(gt: np.ndarray, pred: np.ndarray, n: int = N_CIHP) -> np.ndarray:
    """int64 [n, n] confusion matrix (rows: true id, columns: predicted id) of two id maps of the same
    shape. Ids outside 0..n-1 raise ``ValueError``."""
    gt, pred = np.asarray(gt), np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"confusion: shapes differ, true {gt.shape} vs predicted {pred.shape}")
    g, p = gt.astype(np.int64).ravel(), pred.astype(np.int64).ravel()
    if g.size and (g.min() < 0 or p.min() < 0 or g.max() >= n or p.max() >= n):
        raise ValueError(f"confusion: ids must be in 0..{n - 1}")
    return np.bincount(g * n + p, minlength=n * n).reshape(n, n)


def group_iou(conf: np.ndarray, ids: Iterable[int]) -> float:
    """IoU of the union of ``ids`` as one class (NaN when neither map holds any of them)."""
    ids = sorted({int(i) for i in ids})
    inside = conf[np.ix_(ids, ids)].sum()
    union = conf[ids, :].sum() + conf[:, ids].sum() - inside
    return float(inside / union) if union else float("nan")


def scores(conf: np.ndarray) -> dict:
    """Named figures of a confusion matrix: ``iou`` (every class by name, then every group of
    :data:`GROUPS`), ``mean_iou`` (classes present in the true maps), ``pixel_accuracy``, ``pixels``
    (true pixels per class)."""
    n = conf.shape[0]
    iou = {class_name(c): group_iou(conf, [c]) for c in range(n)}
    iou.update({name: group_iou(conf, ids) for name, ids in GROUPS.items()})
    present = [c for c in range(n) if conf[c].sum() > 0]
    return {
        "iou": iou,
        "mean_iou": float(np.mean([iou[class_name(c)] for c in present])) if present else float("nan"),
        "pixel_accuracy": float(np.trace(conf) / conf.sum()) if conf.sum() else float("nan"),
        "pixels": {class_name(c): int(conf[c].sum()) for c in range(n)},
    }


def evaluate(
    parser, examples: Sequence[tuple[str, Path, Path]], batch: int = 16, progress: bool = False
) -> dict:
    """:func:`scores` of ``parser`` on ``examples`` = (id, photo path, LIP parse path), plus ``n`` and
    ``ms_per_photo`` (the parser's own time, reading excluded)."""
    from tryon.parser.data import read_example

    conf = np.zeros((N_CIHP, N_CIHP), dtype=np.int64)
    t_net, t0 = 0.0, time.perf_counter()
    for i in range(0, len(examples), batch):
        chunk = [read_example(photo, parse) for _, photo, parse in examples[i : i + batch]]
        t = time.perf_counter()
        preds = parser.parse_batch([p for p, _ in chunk])
        t_net += time.perf_counter() - t
        for (_, gt), pred in zip(chunk, preds, strict=True):
            conf += confusion(gt, pred)
        if progress and (i // batch) % 20 == 0:
            print(f"  evaluated {min(i + batch, len(examples))}/{len(examples)} photos "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    out = scores(conf)
    out["n"] = len(examples)
    out["ms_per_photo"] = 1000.0 * t_net / max(1, len(examples))
    out["confusion"] = conf.tolist()
    return out


def table(results: dict[str, dict], rows: Sequence[str] = TABLE_ROWS) -> str:
    """A markdown table: one row per figure, one column per named result."""
    names = list(results)
    lines = ["| IoU | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def fmt(v: float) -> str:
        return "–" if v != v else f"{v:.3f}"

    for r in rows:
        lines.append(f"| {r} | " + " | ".join(fmt(results[n]["iou"][r]) for n in names) + " |")
    lines.append(
        "| **mean IoU** (classes present) | " + " | ".join(fmt(results[n]["mean_iou"]) for n in names) + " |"
    )
    lines.append("| pixel accuracy | " + " | ".join(fmt(results[n]["pixel_accuracy"]) for n in names) + " |")
    lines.append("| photos | " + " | ".join(str(results[n]["n"]) for n in names) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from tryon import paths
    from tryon.config import atomic_write_text
    from tryon.parser.data import examples_of, split_ids
    from tryon.parser.model import Parser

    ap = argparse.ArgumentParser(prog="python -m tryon.parser.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="parser checkpoint (models/parser.pt)")
    ap.add_argument("--root", default=str(paths.SHARED_VITON), help="VITON (CP-VTON layout) folder")
    ap.add_argument("--split", default="test", choices=("train", "dev", "test"),
                    help="test, train (minus dev) or dev (the 256 held-out train persons)")  # fmt: skip
    ap.add_argument("--ids", default=None,
                    help="ids to score: a file in the root (test_clean_ids) or a path, one id a line; "
                         "default: every person of the split")  # fmt: skip
    ap.add_argument("--limit", type=int, default=0, help="score only the first N ids (0 = all)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None, help="write the figures here (atomic)")
    args = ap.parse_args(argv)

    try:
        parser = Parser.load(args.checkpoint, args.device)
        ids = split_ids(args.root, args.split, args.ids)
        if args.limit:
            ids = ids[: args.limit]
        examples = examples_of(args.root, args.split, ids)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    res = evaluate(parser, examples, args.batch, progress=True)
    name = f"{args.split}" + (f" ({Path(args.ids).stem})" if args.ids else "")
    res.update({"checkpoint": str(args.checkpoint), "split": args.split, "ids": args.ids or "all"})
    print(table({name: res}))
    print(f"{res['ms_per_photo']:.1f} ms per photo (batch {args.batch}, {args.device}, "
          f"{os.environ.get('OMP_NUM_THREADS', 'default')} threads)")  # fmt: skip
    if args.json:
        atomic_write_text(args.json, json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
