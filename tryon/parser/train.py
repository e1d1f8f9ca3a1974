"""Train the human parser (:mod:`tryon.parser.model`) on VITON's parse maps.

    python -m tryon.parser.train --out models/parser.pt --minutes 25 --steps 6000

Data: VITON as CP-VTON published it (``../shared/data/viton``): every train person photo (6,824, one per
distinct photo) with its LIP parse map, remapped to CIHP ids (:func:`tryon.data.labels.lip_to_cihp`: LIP's
jumpsuits become a dress), read from disk as needed (no cache: decoding a 256x192 JPEG and PNG is a few ms
against ~30 ms of network time per photo). **Dev split by person photo**: the 256 train persons that the
try-on pipeline holds out (``01_prepare.real_dev_pairs`` = 256, seed ``real_split_seed`` = 0, drawn by
:func:`tryon.data.real.dev_persons` over the official train listing, the same draw as
:func:`tryon.data.real.split_table`'s ``dev`` rows); the rest is trained on.

Augmentation: a random similarity transform (scale and shift, applied to photo and map together, the map
by nearest neighbour, the uncovered border filled with the photo's corner colour / background), a
left-right mirror half the time (the person's left and right arm, leg and shoe labels swap:
:func:`mirror`) and a mild brightness / contrast jitter. Loss: cross-entropy of the logits upsampled
bilinearly to the map's 256x192 (edges are learned at the resolution they are scored at), with class
weights ``(median frequency / frequency) ** weight_power`` from the first maps of the train split.
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
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data.labels import CIHP, N_CIHP

#: the person's left <-> right labels: what a left-right mirror swaps
MIRROR_PAIRS = (
    (CIHP.LEFT_ARM, CIHP.RIGHT_ARM),
    (CIHP.LEFT_LEG, CIHP.RIGHT_LEG),
    (CIHP.LEFT_SHOE, CIHP.RIGHT_SHOE),
)
_MIRROR_LUT = np.arange(256, dtype=np.uint8)
for _a, _b in MIRROR_PAIRS:
    _MIRROR_LUT[int(_a)], _MIRROR_LUT[int(_b)] = int(_b), int(_a)

#: the try-on pipeline's real dev split (params.yaml 01_prepare: real_dev_pairs, real_split_seed)
N_DEV, DEV_SEED = 256, 0


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def _person_ids(pairs_file: Path) -> list[str]:
    """Distinct person ids (``000003_0``) of a pairs file, in file order."""
    from tryon.data.official import _file_stem, read_pair_lines

    return list(dict.fromkeys(_file_stem(p) for _, p, _, _ in read_pair_lines(pairs_file)))


def dev_person_ids(root: str | os.PathLike, n_dev: int = N_DEV, seed: int = DEV_SEED) -> set[str]:
    """The dev persons: the try-on pipeline's (``split_table(root, n_dev=256)``'s ``dev`` rows)."""
    from tryon.data import official
    from tryon.data.real import dev_persons

    return dev_persons([r.person_id for r in official.list_official(root, "train", "paired")], n_dev, seed)


def _normalise_id(s: str) -> str:
    """``000038`` / ``000038_0`` / ``000038_0.jpg`` -> ``000038_0``."""
    stem = os.path.splitext(os.path.basename(s.strip()))[0]
    return stem if stem.endswith("_0") else f"{stem}_0"


def split_ids(root: str | os.PathLike, split: str, ids: str | os.PathLike | None = None) -> list[str]:
    """Person ids (``000003_0``) of ``split`` ('train' = train minus dev | 'dev' | 'test'), or those listed
    in ``ids`` (a file of ``root`` such as ``test_clean_ids``, or a path; one id a line), which must
    belong to the split. One-line ``ValueError`` naming the file otherwise."""
    root = Path(root)
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split: expected train | dev | test, got {split!r}")
    if not root.is_dir():
        raise ValueError(f"{root}: VITON folder not found")
    everyone = _person_ids(root / ("test_pairs.txt" if split == "test" else "train_pairs.txt"))
    if split != "test":
        dev = dev_person_ids(root)
        everyone = [p for p in everyone if (p in dev) == (split == "dev")]
    if ids is None:
        return everyone
    cands = [root / f"{ids}.txt", root / str(ids), Path(ids)]
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        raise ValueError(f"{ids}: id list not found (looked for {cands[0]} and {cands[2]})")
    listed = [_normalise_id(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    known = set(everyone)
    bad = [i for i in listed if i not in known]
    if bad:
        raise ValueError(f"{path}: {len(bad)} id(s) not in the {split} split, e.g. {bad[0]}")
    return list(dict.fromkeys(listed))


def examples_of(root: str | os.PathLike, split: str, ids: Sequence[str]) -> list[tuple[str, Path, Path]]:
    """(id, photo path, LIP parse path) of person ids of ``split`` (dev photos live in ``train/``)."""
    base = Path(root) / ("test" if split == "test" else "train")
    return [(i, base / "image" / f"{i}.jpg", base / "image-parse" / f"{i}.png") for i in ids]


def read_example(photo: str | os.PathLike, parse: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(photo uint8 [H, W, 3], parse uint8 [H, W] CIHP ids); errors name the file."""
    from tryon.data import io
    from tryon.data.vitonhd import load_parse

    img = io.read_rgb(photo)
    return img, load_parse(Path(parse), "lip", (img.shape[1], img.shape[0]))


def mirror(photo: np.ndarray, parse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left-right mirror of a photo [H, W, 3] and its CIHP map [H, W]: the person's left arm / leg / shoe
    becomes the right one (:data:`MIRROR_PAIRS` swapped)."""
    return np.ascontiguousarray(photo[:, ::-1]), _MIRROR_LUT[parse[:, ::-1]]


def augment(
    photo: np.ndarray, parse: np.ndarray, rng: np.random.Generator,
    scale: float = 0.08, shift: float = 0.05, colour: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Random scale (1 +- ``scale``) about the centre and shift (+- ``shift`` of each side), photo bilinear
    and map nearest; the mirror half the time; brightness / contrast +- ``colour``. Same shapes out."""
    from PIL import Image

    h, w = parse.shape
    if scale or shift:
        s = 1.0 + rng.uniform(-scale, scale)
        tx, ty = rng.uniform(-shift, shift) * w, rng.uniform(-shift, shift) * h
        # PIL's affine maps output (x, y) to input (a x + b y + c, d x + e y + f)
        cx, cy = w / 2.0, h / 2.0
        coeffs = (1 / s, 0.0, cx - (cx + tx) / s, 0.0, 1 / s, cy - (cy + ty) / s)
        fill = tuple(int(v) for v in np.median(photo[[0, 0, -1, -1], [0, -1, 0, -1]], axis=0))
        photo = np.asarray(
            Image.fromarray(photo).transform((w, h), Image.AFFINE, coeffs, Image.BILINEAR, fillcolor=fill)
        )
        parse = np.asarray(
            Image.fromarray(parse).transform((w, h), Image.AFFINE, coeffs, Image.NEAREST, fillcolor=0)
        )
    if rng.random() < 0.5:
        photo, parse = mirror(photo, parse)
    if colour:
        a, b = 1.0 + rng.uniform(-colour, colour), rng.uniform(-colour, colour) * 255
        photo = np.clip(photo.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
    return photo, parse


def class_weights(parses: Sequence[np.ndarray], power: float) -> torch.Tensor:
    """float [N_CIHP]: ``(median frequency / frequency) ** power`` over the classes present (1 for absent
    ones, which never occur in a target), clipped to [0.2, 5]."""
    counts = np.zeros(N_CIHP, dtype=np.float64)
    for p in parses:
        counts += np.bincount(p.ravel(), minlength=N_CIHP)[:N_CIHP]
    w = np.ones(N_CIHP)
    present = counts > 0
    if power and present.any():
        freq = counts / counts.sum()
        w[present] = np.clip((np.median(freq[present]) / freq[present]) ** power, 0.2, 5.0)
    return torch.tensor(w, dtype=torch.float32)


def batch_tensors(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]], size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(photos float [B, 3, h, w] in [-1, 1] at the working size, maps int64 [B, H, W] at full size)."""
    from tryon.parser.model import photos_to_tensor

    x = photos_to_tensor([p for p, _ in pairs], size)
    y = torch.from_numpy(np.stack([m for _, m in pairs])).long()
    return x, y


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
    from tryon.parser.evaluate import evaluate
    from tryon.parser.model import WORK_SIZE, Parser, build_parser_net, n_params

    t_start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    root = Path(root)
    train_ex = examples_of(root, "train", split_ids(root, "train"))
    if max_train:
        train_ex = train_ex[:max_train]
    dev_ex = examples_of(root, "dev", split_ids(root, "dev"))
    if dev_limit:
        dev_ex = dev_ex[:dev_limit]
    weights = class_weights([read_example(p, m)[1] for _, p, m in train_ex[:300]], weight_power)
    arch = {"n_classes": N_CIHP, "widths": [int(w) for w in widths]}
    net = build_parser_net(**arch).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    budget = 60.0 * minutes
    print(f"parser: {n_params(net) / 1e6:.2f} M parameters, {len(train_ex)} train / {len(dev_ex)} dev photos, "
          f"batch {batch}, up to {steps} steps or {minutes:g} min; {_machine()}", flush=True)  # fmt: skip

    meta = {
        "architecture": arch,
        "labelset": "cihp",
        "labels": [c.name.lower() for c in CIHP],
        "size": list(WORK_SIZE),
        "steps": 0,
        "samples": 0,
        "seconds": 0.0,
        "dev": {},
        "data": {
            "root": str(root), "train_photos": len(train_ex), "dev_photos": len(dev_ex),
            "dev_split": f"the try-on pipeline's real dev persons (dev_persons, n_dev={N_DEV}, seed={DEV_SEED})",
            "labels": "LIP -> CIHP (tryon.data.labels.lip_to_cihp: jumpsuits -> dress)",
        },
        "settings": {
            "batch": batch, "lr": lr, "warmup": warmup, "minutes": minutes, "max_steps": steps,
            "weight_power": weight_power, "class_weights": [round(float(w), 4) for w in weights],
            "scale": scale, "shift": shift, "colour": colour, "seed": seed, "loss_size": "full (logits upsampled)",
        },
        "machine": _machine(),
        "command": command,
        "interrupted": False,
    }  # fmt: skip

    def checkpoint(step: int, final: bool = False) -> None:
        net.eval()
        res = evaluate(Parser(net, WORK_SIZE, device=device), dev_ex, batch=16)
        net.train()
        meta.update(steps=step, samples=step * batch, seconds=round(time.perf_counter() - t_start, 1),
                    epochs=round(step * batch / len(train_ex), 3),
                    dev={k: res[k] for k in ("iou", "mean_iou", "pixel_accuracy", "n")})  # fmt: skip
        save_parser(out, net, meta)
        iou = res["iou"]
        print(f"{'final' if final else 'checkpoint'} step {step}: dev mIoU {res['mean_iou']:.3f}, "
              f"upper garment {iou['upper_garment']:.3f}, arms {iou['arms']:.3f}, face {iou['face']:.3f}, "
              f"pixel acc {res['pixel_accuracy']:.3f} -> {out}", flush=True)  # fmt: skip

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    step, order, pos, loss_sum, n_sum = 0, np.arange(0), 0, 0.0, 0
    t_train, last_ckpt = time.perf_counter(), time.perf_counter()
    try:
        net.train()
        while True:
            elapsed = time.perf_counter() - t_train
            progress = max(step / steps, elapsed / budget if budget > 0 else 0.0)
            if progress >= 1.0:
                break
            if pos + batch > len(order):
                order, pos = rng.permutation(len(train_ex)), 0
            pairs = [augment(*read_example(*train_ex[i][1:]), rng, scale, shift, colour)
                     for i in order[pos : pos + batch]]  # fmt: skip
            pos += batch
            x, y = batch_tensors(pairs, WORK_SIZE)
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            y = y.to(device)
            for g in opt.param_groups:
                g["lr"] = lr_at(progress, step, lr, warmup)
            logits = net(x)["logits"]  # [B, C, h, w]
            logits = F.interpolate(
                logits, size=y.shape[-2:], mode="bilinear", align_corners=False
            )  # [B, C, H, W]
            loss = F.cross_entropy(logits, y, weight=weights.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum, n_sum = loss_sum + loss.item(), n_sum + 1
            if step % log_every == 0:
                el = time.perf_counter() - t_train
                frac = max(step / steps, el / budget if budget > 0 else 0.0)
                eta = el * (1 - frac) / max(frac, 1e-9)
                print(f"step {step} ({100 * frac:.1f}%): loss {loss_sum / n_sum:.4f}, lr {opt.param_groups[0]['lr']:.2e}, "
                      f"{step * batch / el:.1f} photos/s, elapsed {_fmt_s(el)}, ETA {_fmt_s(eta)}", flush=True)  # fmt: skip
                loss_sum, n_sum = 0.0, 0
            if ckpt_minutes and time.perf_counter() - last_ckpt >= 60.0 * ckpt_minutes:
                checkpoint(step)
                last_ckpt = time.perf_counter()
    except KeyboardInterrupt:
        print(f"interrupted at step {step}: writing the current weights", flush=True)
        meta["interrupted"] = True
    finally:
        signal.signal(signal.SIGTERM, old)
    checkpoint(step, final=True)
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
