"""Stage 05_train: end-to-end training of the full try-on network ([0177]-[0178]).

loss = λ0 L_style + λ1 L_warp + λ2 L_rec, plus two terms that the synthetic ground truth allows and the
method does not have (departures, both stated in the report): ``flow`` (L1 of the predicted grid to
the GT grid; FINDINGS.md: the matcher does not learn without it) and ``contour_l1`` (pixel L1 of the
generated contour to the GT contour image, as in stage 03; without it L_rec drags garment texture
into the contour). L_warp is logged as its two named terms (``warp_vgg``, ``warp_mask``), both
weighted by λ1.

Run single-process from the notebook, or distributed with
``torchrun --nproc_per_node N -m tryon.stages.train`` (gloo on CPU, NCCL on CUDA; rank 0 writes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from tryon import paths, runtime
from tryon.checkpoint import save_inference_checkpoint
from tryon.config import Params, load_params
from tryon.data.dataset import TryOnDataset
from tryon.nets.build import architecture, build_model, load_pretrained
from tryon.nets.vgg import build_vgg
from tryon.stages.ablations import train_rows
from tryon.stages.contour import CodedDataset
from tryon.stages.train_data import mixed, synthetic_counts, synthetic_parts, unpaired_note
from tryon.text import Vocabulary
from tryon.train.loop import (
    DistInfo,
    FitResult,
    collate,
    fit,
    init_distributed,
    to_device,
    unwrap,
)
from tryon.train.step import loss_weights, make_scheduler, make_step_fn, schedule_text

SLUG = "05_train"


def _device_and_dist(params: Params, dist_info: DistInfo | None) -> tuple[torch.device, DistInfo]:
    """Threads, the device (``base.device``) and the process group (one rank without torchrun)."""
    runtime.set_threads(params.base.num_threads)
    device = runtime.resolve_device(params.base.device)
    info = dist_info or init_distributed(device)
    if device.type == "cuda" and info.world_size > 1:
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    return device, info


def _live_logger(out_dir: Path, resume: bool, is_main: bool):
    """``(live, on_log)``: dvclive under ``data/05_train/dvclive`` on rank 0, a no-op logger elsewhere."""
    live = None
    if is_main:
        from dvclive import Live

        live = Live(str(out_dir / "dvclive"), save_dvc_exp=False, dvcyaml=False, resume=resume)

    def on_log(step: int, record: dict) -> None:
        if live is None:
            return
        for k, v in record.items():
            if k != "step":
                live.log_metric(f"train/{k}", v)
        live.step = step
        live.next_step()

    return live, on_log


def run(
    params: Params, root: Path | None = None, dist_info: DistInfo | None = None, progress: bool = True
) -> dict:
    """Train end to end; writes ``data/05_train/{last,best}.pt``, ``model.pt`` (weights + architecture
    + vocabulary + working image size, what inference loads) and dvclive logs; returns the metrics dict."""
    root = root or paths.ROOT
    out_dir = root / "data" / SLUG
    out_dir.mkdir(parents=True, exist_ok=True)
    device, info = _device_and_dist(params, dist_info)
    runtime.seed_everything(params.base.seed)
    load_at_start = runtime.cpu_load()

    t = params.train
    model, arch, vocab, notes = _initial_model(params, root)
    init = bool(t.init_checkpoint)
    prepared = root / "data" / "01_prepare"
    parts = synthetic_parts(params, prepared, vocab)
    counts = synthetic_counts(params.train.batch_size, params.train.unpaired_fraction, len(parts))
    train_set, sampler = mixed(parts, counts, params.base.seed, info.rank, info.world_size)
    model.to(device)
    if info.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    vgg = build_vgg(
        params.train.vgg_weights, layers=tuple(params.train.vgg_layers), seed=params.base.seed
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    sched = make_scheduler(opt, t, t.steps)
    live, on_log = _live_logger(out_dir, t.resume, info.is_main)

    result: FitResult = fit(
        model,
        _step_fn(params, vgg),
        train_set,
        steps=0 if init else t.steps,  # a continued model skips the synthetic phase
        batch_size=t.batch_size,
        optimizer=opt,
        scheduler=sched,
        seed=params.base.seed,
        device=device,
        ckpt_dir=out_dir,
        checkpoint_every=t.checkpoint_every,
        log_every=t.log_every,
        resume=resumable(params, out_dir, info.is_main),
        amp=t.amp,
        extra_state=lambda: {"architecture": arch, "vocab": vocab.to_dict()},
        on_log=on_log,
        progress=progress,
        dist_info=info,
        sampler=sampler,
    )

    def save_model(name: str, step: int) -> None:
        if info.is_main:
            save_inference_checkpoint(
                out_dir / name, unwrap(model), arch, vocab, step, params.base.image_size
            )

    if not init:  # a continued model has no synthetic-only stage of its own
        save_model(SYNTHETIC_ONLY, result.step)
    test_set = CodedDataset(TryOnDataset(prepared, "dev", params.base.image_size), vocab)  # test: 06 only
    if info.is_main:
        synthetic_dev_loss = test_losses(unwrap(model), test_set, _step_fn(params, vgg), device)
    real = real_phase(params, root, model, parts, vgg, device, info, on_log, arch, vocab)
    if live is not None:
        live.end()
    if not info.is_main:
        return {}
    save_model("model.pt", result.step + (real["steps"] if isinstance(real, dict) else 0))
    metrics = _metrics(params, result, unwrap(model), test_set, vgg, device, info, notes)
    metrics["real_phase"] = real
    metrics["synthetic_only_dev_loss"] = synthetic_dev_loss
    metrics["synthetic_mix"] = unpaired_note(params, parts)
    metrics["cpu_load"] = _cpu_load(load_at_start)
    metrics["trained_ablations"] = train_rows(params, root, parts, device, info, arch, vocab)
    (out_dir / "history.json").write_text(json.dumps(result.history))
    return metrics


def _initial_model(params: Params, root: Path):
    """``(model, arch, vocab, notes)`` to start from: ``05_train.init_checkpoint`` when set, else a model of
    the params' architecture initialised from the stage 03/04 checkpoints (``init_pretrained``)."""
    if params.train.init_checkpoint:
        return continued_model(params, root)
    vocab = Vocabulary.load(root / "data" / "02_encode" / "vocab.json")
    arch = architecture(params, vocab.code_dim)
    model = build_model(arch)
    notes = load_pretrained(model, root) if params.train.init_pretrained else ["init_pretrained: false"]
    return model, arch, vocab, notes


def continued_model(params: Params, root: Path):
    """``(model, arch, vocab, notes)`` from ``05_train.init_checkpoint`` (a ``model.pt`` as this stage
    writes it): go on training a trained model, e.g. the shipped ``models/model.pt`` for more real steps,
    without stages 03/04. Its architecture and vocabulary are the checkpoint's; the working size must be
    ``base.image_size``. One-line error naming the file otherwise."""
    from tryon.checkpoint import load_checkpoint
    from tryon.nets.contour import POSE_CHANNELS, widen_inputs

    path = Path(params.train.init_checkpoint)
    path = path if path.is_absolute() else root / path
    ck = load_checkpoint(path)
    if "architecture" not in ck or "model" not in ck or "vocab" not in ck:
        raise ValueError(
            f"{path}: 05_train.init_checkpoint expects a model.pt (weights, architecture, vocab)"
        )
    size = ck.get("image_size", params.base.image_size)
    if size != params.base.image_size:
        raise ValueError(f"{path}: trained at {size} px, base.image_size is {params.base.image_size}")
    arch, state = ck["architecture"], ck["model"]
    note = f"init_checkpoint: {path} (step {ck.get('step', '?')}), its vocabulary; no synthetic phase"
    want = POSE_CHANNELS if params.contour.pose else 0
    have = arch["contour_gen"].get("pose_channels", 0)
    if want != have:
        if have > want:
            raise ValueError(f"{path}: the model reads a pose map, 03_contour.pose is false")
        arch = {**arch, "contour_gen": {**arch["contour_gen"], "pose_channels": want}}
    model = build_model(arch)
    if want != have:
        state, widened = widen_inputs(state, model)
        note += f"; pose map input added ({len(widened)} weights widened with zero columns)"
    model.load_state_dict(state)
    vocab = Vocabulary.from_dict(ck["vocab"])
    return model, arch, vocab, [note]


#: the model after the synthetic phase alone (what ``real.synthetic_only`` of stage 06 measures)
SYNTHETIC_ONLY = "synthetic_only.pt"


def _cpu_load(at_start: dict) -> dict:
    """The cores and their 1-minute load average at the start and the end of the run, beside its rates
    (:func:`tryon.runtime.cpu_load`: a run on cores that other work shares is slow)."""
    end = runtime.cpu_load()
    return {
        "cores": end["cores"],
        "load_1min_start": at_start["load_1min"],
        "load_1min_end": end["load_1min"],
    }


#: train keys a resumed run may change: bookkeeping, and the step counts (extending a finished run is a
#: resume; under the step schedule it equals the longer run)
_NOT_RECIPE = ("resume", "checkpoint_every", "log_every", "steps", "real_steps")


def resumable(params: Params, ckpt_dir: Path, is_main: bool = True) -> bool:
    """Whether a phase may resume from ``ckpt_dir/last.pt``: ``05_train.resume`` is on and the checkpoint
    was written by the same recipe (``recipe.json`` beside it: base, 05_train and the real data's params);
    with another recipe the phase starts afresh and says why. Writes this run's recipe there."""
    import dataclasses

    recipe = {
        "base": dataclasses.asdict(params.base),
        "train": {k: v for k, v in dataclasses.asdict(params.train).items() if k not in _NOT_RECIPE},
        "real_root": params.prepare.real_root,
        "real_dev_pairs": params.prepare.real_dev_pairs,
    }
    path = Path(ckpt_dir) / "recipe.json"
    old = json.loads(path.read_text()) if path.is_file() else None
    ok = params.train.resume and old == recipe
    if params.train.resume and old is not None and old != recipe and is_main:
        print(
            f"05_train.resume: {path.parent} holds another recipe's checkpoint; starting afresh", flush=True
        )
    if is_main:
        from tryon.config import atomic_write_text

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(recipe, indent=1, sort_keys=True))
    return ok


def _step_fn(params: Params, vgg, real_phase: bool = False):
    t = params.train
    drop = t.real_skin_drop if real_phase else t.skin_drop
    return make_step_fn(
        vgg,
        loss_weights(params, real_phase),
        t.style_mode,
        t.vgg_size,
        drop,
        t.pose_dropout if real_phase else 0.0,
    )


def real_cache_dir(root: Path) -> Path:
    """Where the real pairs' preprocessed tensors are cached: under ``data/`` but outside the stage's
    declared output, so a rerun of the stage (DVC deletes its outputs first) reads them back."""
    return root / "data" / "cache" / "real"


def real_train_set(params: Params, table, real_root: Path, root: Path):
    """The paired real train pairs (``05_train.real_max_pairs`` of them, a seeded subset, when > 0),
    mirrored, with ``05_train.real_jitter`` jittered copies of each."""
    from tryon.data.real import RealTrainSet

    t = params.train
    return RealTrainSet(
        table, real_root, params.base.image_size, "train", real_cache_dir(root), augment=True,
        jitter=t.real_jitter, shift=t.real_jitter_shift, colour=t.real_jitter_colour, seed=params.base.seed,
        max_pairs=t.real_max_pairs,
    )  # fmt: skip


def _jitter_note(t) -> str:
    if t.real_jitter == 0:
        return ""
    what = (
        f"flat garment moved and scaled by up to {t.real_jitter_shift:g}" if t.real_jitter_shift > 0 else ""
    )
    if t.real_jitter_colour:
        what += (", " if what else "") + "garment colours in a random RGB order"
    return f", plus {t.real_jitter} jittered copies of each ({what or 'unchanged'})"


def real_phase(
    params: Params, root: Path, model, syn_parts, vgg, device, info: DistInfo, on_log, arch, vocab
):
    """The real (or mixed) phase after the synthetic one, from its weights (warm start): ``real_steps``
    steps on the train pairs of ``data/01_prepare/real_split.csv``, ``real_fraction`` of each batch real
    (all of it with ``01_prepare.source: real``), Adam at ``real_lr`` annealed to 0 (cosine), checkpoints
    under ``data/05_train/real/``. Returns its metrics, or a "not computed" / "not used" string."""
    from tryon.data.real import read_split
    from tryon.stages.prepare import resolve

    t, src = params.train, params.prepare.source
    if src == "synthetic" or t.real_steps == 0:
        return f"not used: 01_prepare.source is {src}, 05_train.real_steps is {t.real_steps}"
    real_root = resolve(params.prepare.real_root)
    split = root / "data" / "01_prepare" / "real_split.csv"
    if not real_root.exists() or not split.exists():
        return f"not computed: no real data at {real_root}"
    out_dir = root / "data" / SLUG
    pairs = real_train_set(params, read_split(split), real_root, root)
    skipped = pairs.prefill(progress=info.is_main)  # every pair read once: the unreadable ones are dropped
    real_set = CodedDataset(pairs, vocab)
    if len(real_set) == 0:
        return f"not computed: no paired train pairs in {split}"
    k = t.batch_size if src == "real" else min(t.batch_size, max(1, round(t.real_fraction * t.batch_size)))
    counts = synthetic_counts(t.batch_size - k, t.unpaired_fraction, len(syn_parts)) + [k]
    dataset, sampler = mixed([*syn_parts, real_set], counts, params.base.seed + 1, info.rank, info.world_size)
    opt = torch.optim.Adam(model.parameters(), lr=t.real_lr, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.real_steps)
    result = fit(
        model,
        _step_fn(params, vgg, real_phase=True),
        dataset,
        steps=t.real_steps,
        batch_size=t.batch_size,
        optimizer=opt,
        scheduler=sched,
        seed=params.base.seed + 1,
        device=device,
        ckpt_dir=out_dir / "real",
        checkpoint_every=t.checkpoint_every,
        log_every=t.log_every,
        resume=resumable(params, out_dir / "real", info.is_main),
        amp=t.amp,
        extra_state=lambda: {"architecture": arch, "vocab": vocab.to_dict()},
        on_log=lambda step, rec: on_log(
            t.steps + step, {k if k == "step" else f"real_phase/{k}": v for k, v in rec.items()}
        ),
        progress=True,
        dist_info=info,
        sampler=sampler,
    )
    if info.is_main:
        (out_dir / "history_real.json").write_text(json.dumps(result.history))
    return {
        "steps": result.step,
        "seconds": round(result.seconds, 2),
        "source": src,
        "real_train_pairs": len(real_set.dataset.table),
        "real_pairs_skipped": len(skipped),
        "real_pairs_skipped_examples": skipped[:10],
        "real_pose_unreadable": len(pairs.pose_unreadable),
        "real_pose_unreadable_examples": pairs.pose_unreadable[:10],
        "real_train_samples": len(real_set),
        "augment": "left-right mirror (each pair twice)" + _jitter_note(t),
        "real_per_batch": k,
        "batch_size": t.batch_size,
        "lr": t.real_lr,
        "lr_schedule": "cosine to 0",
        "loss_weights": loss_weights(params, real_phase=True),
        "skin_drop": t.real_skin_drop,
        "pose_dropout": t.pose_dropout,
        "synthetic_per_batch": counts[:-1],
        "final": result.history[-1] if result.history else None,
    }


def _metrics(params: Params, result: FitResult, model, test_set, vgg, device, info: DistInfo, notes) -> dict:
    """The stage-05 metrics: speed, final train loss, every loss term on the dev split, set-up."""
    t = params.train
    return {
        "steps": result.step,
        "resumed_from": result.resumed_from,
        "seconds": round(result.seconds, 2),
        "samples_per_second": round(
            (result.step - result.resumed_from) * t.batch_size / max(result.seconds, 1e-9), 3
        ),
        "final_train_loss": result.history[-1] if result.history else None,
        "dev_loss": test_losses(model, test_set, _step_fn(params, vgg), device),
        "device": str(device),
        "precision": runtime.precision_text(device, t.amp),
        "world_size": info.world_size,
        "vgg_weights": vgg.weights_source,
        "init": notes,
        "optimiser": {
            "name": "Adam",
            "lr": t.lr,
            "weight_decay": t.weight_decay,
            "lr_schedule": schedule_text(t, t.lr, t.steps),
        },
        "loss_weights": loss_weights(params),
    }


@torch.no_grad()
def test_losses(model, dataset, step_fn, device, batch_size: int = 8) -> dict[str, float]:
    """Mean of every named loss term over a split (eval mode)."""
    model.eval()
    sums: dict[str, float] = {}
    n = 0
    for start in range(0, len(dataset), batch_size):
        idx = range(start, min(start + batch_size, len(dataset)))
        b = to_device(collate([dataset[i] for i in idx]), device)
        for k, v in step_fn(model, b).items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
        n += len(idx)
    model.train()
    return {k: v / max(n, 1) for k, v in sums.items()}


def main(argv: list[str] | None = None) -> int:
    """``torchrun --nproc_per_node N -m tryon.stages.train [--params params.yaml]``."""
    ap = argparse.ArgumentParser(prog="python -m tryon.stages.train")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args(argv)
    metrics = run(load_params(args.params))
    if metrics:
        print(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, dict)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
