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
from tryon.config import Params, load_params
from tryon.data.dataset import TryOnDataset
from tryon.losses import Criterion, flow_loss, rec_loss, resize_for_vgg, style_loss, warp_loss
from tryon.nets.contour import build_contour_generator
from tryon.nets.fusion import build_fusion
from tryon.nets.model import TryOnNet
from tryon.nets.text_mlp import build_text_mlp
from tryon.nets.vgg import build_vgg
from tryon.nets.warp import build_warp_net
from tryon.stages import contour as contour_stage
from tryon.stages import warp as warp_stage
from tryon.stages.contour import CodedDataset
from tryon.text import Vocabulary
from tryon.train import (
    DistInfo,
    FitResult,
    collate,
    fit,
    init_distributed,
    load_checkpoint,
    to_device,
    unwrap,
)

SLUG = "05_train"


def architecture(params: Params, code_dim: int) -> dict:
    """The explicit constructor arguments of every sub-network (stored in checkpoints); the text MLP,
    contour generator and warping network use the same layout as their pretraining stages."""
    return {
        **contour_stage.architecture(params, code_dim),
        "warp_net": warp_stage.architecture(params.warp),
        "fusion": dict(kind=params.train.fusion, base_channels=params.train.fusion_channels),
    }


def build_model(arch: dict) -> TryOnNet:
    """TryOnNet from :func:`architecture` arguments."""
    return TryOnNet(
        build_text_mlp(**arch["text_mlp"]),
        build_contour_generator(**arch["contour_gen"]),
        build_warp_net(**arch["warp_net"]),
        build_fusion(**arch["fusion"]),
    )


def load_pretrained(model: TryOnNet, root: Path) -> list[str]:
    """Initialise sub-networks from the stage 03/04 checkpoints when present; returns what was loaded.

    The checkpoints hold ``{"text_mlp": state, "contour_gen": state}`` (03) and ``{"warp_net": state}``
    (04); a sub-network whose shapes no longer match the params is left at its initialisation and
    the note says so.
    """
    notes = []
    for slug, parts in (("03_contour", ("text_mlp", "contour_gen")), ("04_warp", ("warp_net",))):
        path = root / "data" / slug / "model.pt"
        if not path.is_file():
            notes.append(f"{slug}: no checkpoint at {path}, random init")
            continue
        ck = load_checkpoint(path)
        for part in parts:  # 03: {"text_mlp", "contour_gen"}; 04: {"warp_net"}
            try:
                getattr(model, part).load_state_dict(ck[part])
                notes.append(f"{part}: from {path.relative_to(root)}")
            except (KeyError, RuntimeError) as e:
                notes.append(
                    f"{part}: NOT loaded from {path.name} ({type(e).__name__}: shapes or keys differ)"
                )
    return notes


def make_step_fn(vgg, weights: dict[str, float], style_mode: str, vgg_size: int = 0):
    """``step_fn(model, batch) -> named terms + "total"``. A term with weight 0 is logged as 0 and not
    computed (the VGG terms dominate a CPU step)."""
    criterion = Criterion(weights)

    def step_fn(model: TryOnNet, b: dict) -> dict[str, torch.Tensor]:
        out = model(b["code"], b["trunk"], b["garment"], b["garment_mask"])
        zero = out["tryon"].new_zeros(())
        has = b["has_contour"].float().view(-1, 1, 1, 1)  # real samples have no contour image
        worn_mask = b["worn_mask"]
        warped, worn = out["warped"] * out["warped_mask"], b["person"] * worn_mask
        terms = {
            "style": style_loss(
                resize_for_vgg(out["contour"] * has, vgg_size),
                resize_for_vgg(b["contour"] * has, vgg_size),
                vgg,
                style_mode,
            )
            if weights["style"] > 0
            else zero,
            "warp_vgg": warp_loss(
                resize_for_vgg(warped, vgg_size), resize_for_vgg(worn, vgg_size), worn_mask, worn_mask, vgg
            )["vgg"]
            if weights["warp_vgg"] > 0
            else zero,
            "warp_mask": (out["warped_mask"] - worn_mask).abs().mean(),  # the mask term of L_warp
            # without it L_rec pulls garment texture into the contour image (seen in the first CPU runs)
            "contour_l1": rec_loss(out["contour"] * has, b["contour"] * has),
            "rec": rec_loss(out["tryon"], b["person"]),
            "flow": flow_loss(out["grid"], b["gt_grid"], b["flow_valid"]),
        }
        return criterion(terms)

    return step_fn


def loss_weights(params: Params) -> dict[str, float]:
    t = params.train
    return {
        "style": t.lambda_style,
        "warp_vgg": t.lambda_warp,
        "warp_mask": t.lambda_warp,
        "rec": t.lambda_rec,
        "flow": t.lambda_flow,
        "contour_l1": t.lambda_contour,
    }


def run(
    params: Params, root: Path | None = None, dist_info: DistInfo | None = None, progress: bool = True
) -> dict:
    """Train end to end; writes ``data/05_train/{last,best}.pt``, ``model.pt`` (weights + architecture
    + vocabulary + working image size, what inference loads) and dvclive logs; returns the metrics dict."""
    root = root or paths.ROOT
    out_dir = root / "data" / SLUG
    out_dir.mkdir(parents=True, exist_ok=True)
    runtime.set_threads(params.base.num_threads)
    device = runtime.resolve_device(params.base.device)
    info = dist_info or init_distributed(device)
    if device.type == "cuda" and info.world_size > 1:
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    runtime.seed_everything(params.base.seed)

    vocab = Vocabulary.load(root / "data" / "02_encode" / "vocab.json")
    prepared = root / "data" / "01_prepare"
    train_set = CodedDataset(TryOnDataset(prepared, "train", params.base.image_size), vocab)
    arch = architecture(params, vocab.code_dim)
    model = build_model(arch)
    notes = load_pretrained(model, root) if params.train.init_pretrained else ["init_pretrained: false"]
    model.to(device)
    if info.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    vgg = build_vgg(
        params.train.vgg_weights, layers=tuple(params.train.vgg_layers), seed=params.base.seed
    ).to(device)
    t = params.train
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=t.lr_step, gamma=t.lr_gamma)

    live = None
    if info.is_main:
        from dvclive import Live

        live = Live(str(out_dir / "dvclive"), save_dvc_exp=False, dvcyaml=False, resume=t.resume)

    def on_log(step: int, record: dict) -> None:
        if live is None:
            return
        for k, v in record.items():
            if k != "step":
                live.log_metric(f"train/{k}", v)
        live.step = step
        live.next_step()

    result: FitResult = fit(
        model,
        make_step_fn(vgg, loss_weights(params), t.style_mode, t.vgg_size),
        train_set,
        steps=t.steps,
        batch_size=t.batch_size,
        optimizer=opt,
        scheduler=sched,
        seed=params.base.seed,
        device=device,
        ckpt_dir=out_dir,
        checkpoint_every=t.checkpoint_every,
        log_every=t.log_every,
        resume=t.resume,
        amp=t.amp,
        extra_state=lambda: {"architecture": arch, "vocab": vocab.to_dict()},
        on_log=on_log,
        progress=progress,
        dist_info=info,
    )
    if live is not None:
        live.end()
    metrics: dict = {}
    if info.is_main:
        from tryon.train import atomic_torch_save

        atomic_torch_save(
            {
                "model": unwrap(model).state_dict(),
                "architecture": arch,
                "vocab": vocab.to_dict(),
                "step": result.step,
                "image_size": params.base.image_size,
            },
            out_dir / "model.pt",
        )
        test_set = CodedDataset(TryOnDataset(prepared, "test", params.base.image_size), vocab)
        metrics = {
            "steps": result.step,
            "resumed_from": result.resumed_from,
            "seconds": round(result.seconds, 2),
            "samples_per_second": round(
                (result.step - result.resumed_from) * t.batch_size / max(result.seconds, 1e-9), 3
            ),
            "final_train_loss": result.history[-1] if result.history else None,
            "test_loss": test_losses(
                unwrap(model),
                test_set,
                make_step_fn(vgg, loss_weights(params), t.style_mode, t.vgg_size),
                device,
            ),
            "device": str(device),
            "world_size": info.world_size,
            "vgg_weights": vgg.weights_source,
            "init": notes,
            "optimiser": {
                "name": "Adam",
                "lr": t.lr,
                "weight_decay": t.weight_decay,
                "lr_step": t.lr_step,
                "lr_gamma": t.lr_gamma,
            },
            "loss_weights": loss_weights(params),
        }
        (out_dir / "history.json").write_text(json.dumps(result.history))
    return metrics


@torch.no_grad()
def test_losses(model, dataset, step_fn, device, batch_size: int = 8) -> dict[str, float]:
    """Mean of every named loss term over the test split (eval mode)."""
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
