"""Stage 04_warp: pretrain the clothes warping network (METHOD.md step 4, patent [0133]-[0171]).

The person side of the warp is a contour image: the ground-truth body contour of the prepared data
(``contour_source: ground_truth``) or the stage-03 generated contour (``generated``: the caller passes
``contour_fn(batch) -> [B, 3, H, W]``; loading the contour model is the caller's business).

Loss (named terms, weights from ``params.yaml`` 04_warp):

* ``warp_vgg`` + ``warp_mask``: L_warp of the method ([0194]-[0199]) via :func:`tryon.losses.warp_loss`
  (the VGG term compares ``warped * warped_mask`` with ``person * worn_mask``);
* ``flow``: L1 of the predicted grid against the ground-truth grid inside ``flow_valid`` - a departure
  from the method: its photometric losses alone do not start the global matcher (FINDINGS.md).

Outputs: ``data/04_warp/model.pt`` ({"warp_net": state_dict, "arch": constructor args, ...}, written
atomically) and ``metrics/04_warp.json``: the dev-split end-point error of the flow (pixels at the
working size and as a fraction of the width, inside ``flow_valid``), the warped-mask IoU against the
worn-garment mask, a collapse check (spread of the predicted flow vs the ground truth's), and the
identity-warp baseline for scale.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tryon import paths, runtime
from tryon.checkpoint import atomic_torch_save
from tryon.config import Params, WarpConfig
from tryon.eval import metrics as ev
from tryon.geometry import identity_grid
from tryon.losses import Criterion, flow_loss, warp_loss
from tryon.nets.build import build_warp_from_arch as build_from_arch
from tryon.nets.build import load_warp_net
from tryon.nets.build import warp_architecture as architecture
from tryon.nets.warp import WarpNet
from tryon.train.loop import collate, fit, to_device

SLUG = "04_warp"
ContourFn = Callable[[dict], torch.Tensor]

__all__ = [
    "SLUG",
    "architecture",
    "build_from_arch",
    "contour_input",
    "departures",
    "evaluate_warp",
    "evaluate_real",
    "fair_ablation",
    "generated_contour_fn",
    "load_warp_net",
    "loss_weights",
    "make_step_fn",
    "parse_contour_proxy",
    "predict",
    "run",
    "train_warp",
]


def loss_weights(cfg: WarpConfig) -> dict[str, float]:
    return {"warp_vgg": cfg.lambda_vgg, "warp_mask": cfg.lambda_mask, "flow": cfg.lambda_flow}


def contour_input(batch: dict, source: str, contour_fn: ContourFn | None = None) -> torch.Tensor:
    """The person-side input of the warp: ``[B, 3, H, W]`` in [-1, 1].

    ``source="ground_truth"``: ``batch["contour"]``; ``"generated"``: ``contour_fn(batch)`` (no grad);
    ``"trunk"``: ``batch["trunk"]`` (the trunk map, for the ablation of the method's claim).
    """
    if source == "ground_truth":
        return batch["contour"]
    if source == "trunk":  # the fair ablation: the parse-derived trunk map instead of a contour
        return batch["trunk"]
    if source == "generated":
        if contour_fn is None:
            raise ValueError(
                "04_warp.contour_source: 'generated' needs a contour_fn(batch) -> [B,3,H,W] "
                "(load the stage-03 model and pass it), or use 'ground_truth'"
            )
        with torch.no_grad():
            out = contour_fn(batch)
        if out.shape != batch["garment"].shape:
            raise ValueError(f"contour_fn: expected [B,3,H,W] like the garment, got {tuple(out.shape)}")
        return out.detach()
    raise ValueError(
        f"04_warp.contour_source: expected 'ground_truth', 'generated' or 'trunk', got {source!r}"
    )


def make_step_fn(
    weights: dict[str, float], vgg: torch.nn.Module | None, source: str, contour_fn: ContourFn | None = None
) -> Callable[[WarpNet, dict], dict[str, torch.Tensor]]:
    """``step_fn(model, batch) -> named loss terms + "total"`` for :func:`tryon.train.loop.fit`.

    With ``weights["warp_vgg"] == 0`` (or no ``vgg``) the VGG term is not computed (it costs more than
    the whole warping network on a CPU) and is logged as 0.
    """
    criterion = Criterion(weights)

    def step_fn(model: WarpNet, b: dict) -> dict[str, torch.Tensor]:
        out = model(contour_input(b, source, contour_fn), b["garment"], b["garment_mask"])
        worn_mask = b["worn_mask"]
        if vgg is not None and weights["warp_vgg"] > 0:
            lw = warp_loss(
                out["warped"] * out["warped_mask"],
                b["person"] * worn_mask,
                out["warped_mask"],
                worn_mask,
                vgg,
            )
            vgg_term, mask_term = lw["vgg"], lw["mask"]
        else:
            vgg_term = out["grid"].new_zeros(())
            mask_term = (out["warped_mask"] - worn_mask).abs().mean()  # = losses.mask_l1
        terms = {
            "warp_vgg": vgg_term,
            "warp_mask": mask_term,
            "flow": flow_loss(out["grid"], b["gt_grid"], b["flow_valid"]),
        }
        return criterion(terms)

    return step_fn


@torch.no_grad()
def predict(
    model: WarpNet,
    dataset: Sequence[dict],
    indices: Sequence[int],
    *,
    source: str = "ground_truth",
    contour_fn: ContourFn | None = None,
    device: torch.device | str = "cpu",
    return_matrix: bool = False,
) -> tuple[dict, dict]:
    """Run the model on ``dataset[indices]``: returns ``(batch, outputs)`` on the CPU (for figures)."""
    model.eval()
    batch = to_device(collate([dataset[i] for i in indices]), torch.device(device))
    out = model(contour_input(batch, source, contour_fn), batch["garment"], batch["garment_mask"],
                return_matrix=return_matrix)  # fmt: skip
    cpu = {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    return cpu, {k: v.cpu() for k, v in out.items()}


@torch.no_grad()
def evaluate_warp(
    model: WarpNet,
    dataset: Sequence[dict],
    *,
    source: str = "ground_truth",
    contour_fn: ContourFn | None = None,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Flow and mask metrics over a dataset (the synthetic dev split in this stage).

    Returns ``{"summary": {...}, "rows": [per-sample dicts]}``. Summary keys: ``epe_px`` (mean over
    samples of the mean end-point error inside ``flow_valid``, pixels at the working size),
    ``epe_frac_width`` (= epe_px / W), ``warp_mask_iou`` (warped garment mask > 0.5 vs worn mask),
    ``identity_epe_px`` (EPE of the no-warp identity grid, for scale), ``flow_spread_ratio`` (std of the
    predicted grid over the valid pixels / std of the ground truth, averaged; near 0 = collapsed to a
    constant), ``collapsed`` (ratio < 0.1).
    """
    model.eval()
    rows = []
    for start in range(0, len(dataset), batch_size):
        idx = list(range(start, min(start + batch_size, len(dataset))))
        b, out = predict(model, dataset, idx, source=source, contour_fn=contour_fn, device=device)
        w = b["garment"].shape[-1]
        ident = identity_grid(len(idx), *b["garment"].shape[-2:])
        epe = ev.end_point_error(out["grid"], b["gt_grid"], b["flow_valid"])
        epe_id = ev.end_point_error(ident, b["gt_grid"], b["flow_valid"])
        iou = ev.mask_iou(out["warped_mask"], b["worn_mask"])
        for j, i in enumerate(idx):
            v = b["flow_valid"][j, 0] > 0.5  # [H, W]
            spread = math.nan
            if v.sum() > 1:
                gt_std = b["gt_grid"][j][:, v].std(dim=1).norm()
                spread = float(out["grid"][j][:, v].std(dim=1).norm() / gt_std.clamp_min(1e-8))
            rows.append({
                "index": i, "id": b["id"][j] if "id" in b else str(i),
                "garment_type": b["garment_type"][j] if "garment_type" in b else "",
                "epe_px": epe[j], "epe_frac_width": epe[j] / w, "identity_epe_px": epe_id[j],
                "warp_mask_iou": iou[j], "flow_spread_ratio": spread,
            })  # fmt: skip

    def mean(key: str) -> float:
        vals = [r[key] for r in rows if not (isinstance(r[key], float) and math.isnan(r[key]))]
        return float(np.mean(vals)) if vals else math.nan

    summary = {k: mean(k) for k in ("epe_px", "epe_frac_width", "identity_epe_px", "warp_mask_iou",
                                    "flow_spread_ratio")}  # fmt: skip
    summary["collapsed"] = bool(summary["flow_spread_ratio"] < 0.1)
    summary["n_samples"] = len(rows)
    return {"summary": summary, "rows": rows}


def parse_contour_proxy(batch: dict) -> torch.Tensor:
    """A stand-in contour image ``[B, 3, H, W]`` for real photos, built from their parse map.

    Real pairs have no body contour image. This proxy paints the whole parsed person (every
    non-background label) in the synthetic bodysuit colour on the synthetic contour background and
    keeps the trunk pixels (face, hair, arms, legs) from the photo. Caveat, stated in the report: the
    silhouette includes the worn garment's outline (a loose garment widens it), so the warp's mask IoU
    on real pairs measured with this proxy is optimistic compared with a generated contour.
    """
    from tryon.data.labels import body_mask
    from tryon.data.synthetic import BODYSUIT_RGB, CONTOUR_BG_RGB

    parse = batch["parse"]  # [B, H, W] int64 CIHP ids
    body = torch.as_tensor(body_mask(parse.cpu().numpy()), device=parse.device)[:, None].float()  # [B,1,H,W]
    suit = torch.as_tensor(BODYSUIT_RGB * 2 - 1, dtype=torch.float32, device=parse.device).view(1, 3, 1, 1)
    bg = torch.as_tensor(CONTOUR_BG_RGB * 2 - 1, dtype=torch.float32, device=parse.device).view(1, 3, 1, 1)
    img = bg * (1 - body) + suit * body  # [B, 3, H, W]
    tm = batch["trunk_mask"]  # [B, 1, H, W]
    return img * (1 - tm) + batch["person"] * tm


@torch.no_grad()
def evaluate_real(
    model: WarpNet,
    dataset: Sequence[dict],
    indices: Sequence[int] | None = None,
    *,
    contour_fn: ContourFn | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Warp real (paired) samples: no ground-truth flow, so only the warped-mask IoU against the worn
    garment region. The person side is ``contour_fn(batch)`` (e.g. the stage-03 generator) or, when
    None, :func:`parse_contour_proxy` (see its caveat). Returns ``{"rows", "summary", "batch", "out",
    "contour_source"}`` (batch and outputs on the CPU, for :func:`tryon.viz.warp.fig_real`).
    """
    indices = list(range(len(dataset))) if indices is None else list(indices)
    fn = contour_fn if contour_fn is not None else parse_contour_proxy
    batch, out = predict(model, dataset, indices, source="generated", contour_fn=fn, device=device)
    ious = ev.mask_iou(out["warped_mask"], batch["worn_mask"])
    rows = [{"id": batch["id"][j], "warp_mask_iou": ious[j]} for j in range(len(indices))]
    return {
        "rows": rows,
        "summary": {"warp_mask_iou": float(np.mean(ious)) if ious else math.nan, "n_samples": len(rows)},
        "batch": batch,
        "out": out,
        "contour_source": "contour_fn"
        if contour_fn is not None
        else "parse proxy (leaks the garment outline)",
    }


def train_warp(
    params: Params,
    train_set: Sequence[dict],
    *,
    contour_fn: ContourFn | None = None,
    ckpt_dir: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    on_log: Callable[[int, dict], None] | None = None,
) -> tuple[WarpNet, Any]:
    """Build the network from ``params.warp`` and train it on ``train_set`` (Adam; constant lr or cosine
    annealing to 0 over ``steps``, by ``lr_schedule``).

    Returns ``(model, FitResult)``; the engine's resumable checkpoints go to ``ckpt_dir`` when given.
    """
    cfg = params.warp
    dev = torch.device(device) if device is not None else runtime.resolve_device(params.base.device)
    runtime.seed_everything(params.base.seed)
    model = build_from_arch(architecture(cfg)).to(dev)
    vgg = None
    if cfg.lambda_vgg > 0:
        from tryon.nets.vgg import build_vgg

        vgg = build_vgg(cfg.vgg_weights).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)
        if cfg.lr_schedule == "cosine"
        else None
    )
    result = fit(
        model,
        make_step_fn(loss_weights(cfg), vgg, cfg.contour_source, contour_fn),
        train_set,
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        optimizer=opt,
        scheduler=sched,
        seed=params.base.seed,
        device=dev,
        ckpt_dir=ckpt_dir,
        checkpoint_every=max(cfg.steps // 4, 1),
        log_every=cfg.log_every,
        progress=progress,
        on_log=on_log,
        amp=cfg.amp,
    )
    result.vgg_source = vgg.weights_source if vgg is not None else "not used (lambda_vgg = 0)"
    return model.eval(), result


def departures(cfg: WarpConfig) -> list[str]:
    """Where this stage's settings depart from the method's text (for the metrics and the report)."""
    out = []
    if cfg.lambda_flow > 0:
        out.append(
            "flow L1 to the ground-truth grid (lambda_flow): the method's losses alone do not start the matcher (FINDINGS.md)"
        )
    if cfg.lambda_vgg == 0:
        out.append(
            "VGG term of L_warp off (lambda_vgg = 0): ~5 s/step on 2 CPU cores; L_warp = mask term only"
        )
    if cfg.upsample == "convex":
        out.append(
            "learned convex upsampling of the 1/stride grid (RAFT/GMFlow); the method only says 'sample at G''"
        )
    if cfg.n_layers != 6:
        out.append(f"{cfg.n_layers} transformer layers (the method suggests 6)")
    return out


def run(
    params: Params,
    *,
    root: Path | None = None,
    train_set: Sequence[dict] | None = None,
    test_set: Sequence[dict] | None = None,
    contour_fn: ContourFn | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Stage entry point: train, save ``data/04_warp/model.pt`` atomically, evaluate, write metrics.

    ``train_set`` / ``test_set`` default to ``TryOnDataset(data/01_prepare, "train" | "dev")`` (the dev split: test is read in 06 only).
    Returns ``{"model", "fit", "metrics", "eval"}`` (the notebook plots from these).
    """
    root = Path(root) if root is not None else paths.ROOT
    cfg = params.warp
    runtime.set_threads(params.base.num_threads)
    if train_set is None or test_set is None:
        from tryon.data.dataset import TryOnDataset

        prep = paths.stage_dir("01_prepare", root)
        train_set = train_set if train_set is not None else TryOnDataset(prep, "train")
        test_set = test_set if test_set is not None else TryOnDataset(prep, "dev")  # test is read in 06 only
    out_dir = paths.stage_dir(SLUG, root)
    dev = torch.device(device) if device is not None else runtime.resolve_device(params.base.device)
    t0 = time.perf_counter()
    model, result = train_warp(
        params, train_set, contour_fn=contour_fn, ckpt_dir=out_dir / "ckpt", device=dev, progress=progress
    )
    train_s = time.perf_counter() - t0
    atomic_torch_save(
        {"warp_net": model.state_dict(), "arch": architecture(cfg), "history": result.history,
         "steps": cfg.steps, "contour_source": cfg.contour_source},
        out_dir / "model.pt",
    )  # fmt: skip
    evaluation = evaluate_warp(model, test_set, source=cfg.contour_source, contour_fn=contour_fn, device=dev)
    s = evaluation["summary"]
    last = result.history[-1] if result.history else {}
    metrics = {
        **{k: s[k] for k in s},
        "epe_target_frac_width": 0.02,
        "warp_mask_iou_target": 0.90,
        "meets_epe_target": bool(s["epe_frac_width"] <= 0.02),
        "meets_iou_target": bool(s["warp_mask_iou"] >= 0.90),
        "train_seconds": train_s,
        "steps": cfg.steps,
        "batch_size": cfg.batch_size,
        "image_size": int(test_set[0]["garment"].shape[-1]) if len(test_set) else None,
        "contour_source": cfg.contour_source,
        "matching": cfg.matching,
        "threads": torch.get_num_threads(),
        "precision": runtime.precision_text(dev, cfg.amp),
        "vgg": result.vgg_source,
        "final_loss": {k: v for k, v in last.items() if k not in ("step", "lr")},
        "departures": departures(cfg),
    }
    out: dict[str, Any] = {"model": model, "fit": result, "metrics": metrics, "eval": evaluation}
    if cfg.ablation_trunk:
        out["ablation"] = fair_ablation(
            params, model, train_set, test_set, root=root, device=dev, progress=progress
        )
        metrics["fair_ablation"] = out["ablation"]["summary"]
    from tryon.viz.report import write_metrics

    write_metrics(SLUG, metrics, root)
    return out


def generated_contour_fn(root: Path | None = None, device: torch.device | str = "cpu") -> ContourFn | None:
    """``contour_fn(batch)`` from the stage-03 checkpoint (its text code + the batch's trunk map), or
    None when stage 03 has not been run."""
    from tryon.stages import contour as contour_stage

    if not (paths.stage_dir("03_contour", root) / "model.pt").is_file():
        return None
    net, vocab, _ = contour_stage.load_trained(root, device)

    def contour_fn(batch: dict) -> torch.Tensor:
        code = torch.stack([torch.from_numpy(vocab.encode(t, strict=False)) for t in batch["text"]])
        return net(code.to(batch["trunk"].device), batch["trunk"], batch.get("pose"))["contour"]

    return contour_fn


def fair_ablation(
    params: Params,
    contour_model: WarpNet,
    train_set: Sequence[dict],
    test_set: Sequence[dict],
    *,
    root: Path,
    device: torch.device,
    progress: bool = True,
) -> dict[str, Any]:
    """The method's central claim, tested fairly: a second warping network trained exactly like the
    first (same params, steps, seed and data) but guided by the trunk map, against the contour-guided
    one fed at test time with the stage-03 generated contour (what inference has) and with the ground
    truth contour (an upper bound). Saves ``data/04_warp/model_trunk.pt``.

    On a procedural synthetic dev split the same comparison also runs **unpaired** (each person with
    the next sample's garment, ground truth rendered by :class:`tryon.data.dataset.UnpairedSynthetic`):
    there the trunk map's hole has the old garment's outline, not the new one's, which is the case the
    method's claim is about.

    Returns ``{"summary": {"rows": {row: {epe_px, epe_frac_width, warp_mask_iou}}, "contour_beats_trunk":
    bool, "contour_beats_trunk_unpaired": bool (when run), "unpaired": note, "protocol": str},
    "trunk_model", "trunk_fit", "trunk_eval"}``."""
    cfg = dataclasses.replace(params.warp, contour_source="trunk")
    t0 = time.perf_counter()
    trunk_model, trunk_fit = train_warp(
        dataclasses.replace(params, warp=cfg), train_set, ckpt_dir=paths.stage_dir(SLUG, root) / "ckpt_trunk",
        device=device, progress=progress,
    )  # fmt: skip
    train_s = time.perf_counter() - t0
    atomic_torch_save(
        {"warp_net": trunk_model.state_dict(), "arch": architecture(cfg), "history": trunk_fit.history,
         "steps": cfg.steps, "contour_source": "trunk"},
        paths.stage_dir(SLUG, root) / "model_trunk.pt",
    )  # fmt: skip
    keys = ("epe_px", "epe_frac_width", "warp_mask_iou")
    rows: dict[str, Any] = {}
    fn = generated_contour_fn(root, device)
    if fn is not None:
        ev_gen = evaluate_warp(contour_model, test_set, source="generated", contour_fn=fn, device=device)
        rows["contour_guided (generated contour)"] = {k: ev_gen["summary"][k] for k in keys}
    ev_gt = evaluate_warp(contour_model, test_set, source="ground_truth", device=device)
    rows["contour_guided (ground-truth contour)"] = {k: ev_gt["summary"][k] for k in keys}
    ev_tr = evaluate_warp(trunk_model, test_set, source="trunk", device=device)
    rows["trunk_guided (retrained)"] = {k: ev_tr["summary"][k] for k in keys}
    rows["trunk_guided (retrained)"]["train_seconds"] = train_s
    ref = rows.get("contour_guided (generated contour)", rows["contour_guided (ground-truth contour)"])
    trunk = rows["trunk_guided (retrained)"]
    unpaired = _unpaired(test_set)
    name = "generated" if fn is not None else "ground-truth"
    if isinstance(unpaired, str):
        unpaired_note = unpaired
    else:  # each person with the next sample's garment: the trunk map still shows the old garment's hole
        unpaired_note = "each test person with the next test sample's garment, ground truth rendered"
        src = "generated" if fn is not None else "ground_truth"
        ev_u = evaluate_warp(contour_model, unpaired, source=src, contour_fn=fn, device=device)
        rows[f"unpaired: contour_guided ({name} contour)"] = {k: ev_u["summary"][k] for k in keys}
        ev_ut = evaluate_warp(trunk_model, unpaired, source="trunk", device=device)
        rows["unpaired: trunk_guided (retrained)"] = {k: ev_ut["summary"][k] for k in keys}
    summary = {
        "rows": rows,
        "unpaired": unpaired_note,
        "contour_beats_trunk": bool(
            ref["epe_px"] < trunk["epe_px"] and ref["warp_mask_iou"] > trunk["warp_mask_iou"]
        ),
        "compared": "generated contour" if fn is not None else "ground-truth contour (no stage-03 model)",
        "protocol": (
            f"two warping networks trained alike ({cfg.steps} steps, batch {cfg.batch_size}, seed "
            f"{params.base.seed}, same train split), one guided by the contour image, one by the trunk map"
        ),
    }
    if not isinstance(unpaired, str):
        u_ref = rows[f"unpaired: contour_guided ({name} contour)"]
        u_tr = rows["unpaired: trunk_guided (retrained)"]
        summary["contour_beats_trunk_unpaired"] = bool(
            u_ref["epe_px"] < u_tr["epe_px"] and u_ref["warp_mask_iou"] > u_tr["warp_mask_iou"]
        )
    return {"summary": summary, "trunk_model": trunk_model, "trunk_fit": trunk_fit, "trunk_eval": ev_tr}


def _unpaired(test_set: Sequence[dict]):
    """The unpaired test set with rendered ground truth, or why there is none."""
    from tryon.data.dataset import TryOnDataset, UnpairedSynthetic
    from tryon.data.io import DataError

    if not isinstance(test_set, TryOnDataset):
        return "not run: the evaluation set is not a prepared synthetic split"
    try:
        return UnpairedSynthetic(test_set)
    except DataError as e:
        return f"not run: {e}"
