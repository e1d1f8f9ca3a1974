"""The training step of end-to-end training (stage 05, [0177]): the method's losses on one batch.

loss = λ0 L_style + λ1 L_warp + λ2 L_rec, plus three terms the method does not have (departures,
stated in the stage-05 report): ``flow`` (L1 of the predicted grid to the synthetic ground-truth
grid; FINDINGS.md: the matcher does not learn without it), ``contour_l1`` (pixel L1 of the generated
contour to the contour target) and ``smooth`` (a flow smoothness prior on real pairs, which have no
ground-truth flow). L_warp is its two named terms
(``warp_vgg``, ``warp_mask``), both weighted by λ1. :func:`make_step_fn` returns the
``step_fn(model, batch)`` that :func:`tryon.train.loop.fit` calls.
"""

from __future__ import annotations

import torch

from tryon.config import Params
from tryon.data.labels import ARMS, CIHP
from tryon.losses import Criterion, flow_loss, rec_loss, resize_for_vgg, style_loss, warp_loss
from tryon.nets.model import TryOnNet


def smoothness(grid: torch.Tensor) -> torch.Tensor:
    """Mean |first difference| of the flow (grid minus the identity) along x and y, in normalised
    units: a smoothness prior for real pairs, which have no ground-truth flow (a departure, reported).
    ``grid`` [B, 2, H, W]; the identity's own differences are constant, so they cancel."""
    dx = grid[..., :, 1:] - grid[..., :, :-1]
    dy = grid[..., 1:, :] - grid[..., :-1, :]
    step_x, step_y = 2.0 / grid.shape[-1], 2.0 / grid.shape[-2]
    return 0.5 * ((dx[:, 0] - step_x).abs().mean() + dx[:, 1].abs().mean()) + 0.5 * (
        dy[:, 0].abs().mean() + (dy[:, 1] - step_y).abs().mean()
    )


def _terms(out: dict, b: dict, weights: dict, vgg, style_mode: str, vgg_size: int, real: bool) -> dict:
    """The named terms of one source's samples (``out`` and ``b`` already cut to them)."""
    zero = out["tryon"].new_zeros(())
    has = b["has_contour"].float().view(-1, 1, 1, 1)  # samples without a contour target: no contour terms
    worn_mask = b["worn_mask"]
    warped, worn = out["warped"] * out["warped_mask"], b["person"] * worn_mask
    return {
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
        "smooth": smoothness(out["grid"]) if real and weights["smooth"] > 0 else zero,
    }


def drop_skin(b: dict, p: float) -> dict:
    """Training augmentation (``05_train.skin_drop``): for a random ``p`` of the samples, the arm and
    torso skin of the photo is taken off what the fusion keeps (``keep``, ``keep_mask``), so it must
    paint that skin, in the tone of the skin it still sees (face, neck), as where a shorter garment
    uncovers it. The targets are unchanged. Draws from torch's global generator (seeded, and restored
    on resume with the other RNG states)."""
    if p <= 0 or "parse" not in b:
        return b
    chosen = (torch.rand(b["keep_mask"].shape[0]) < p).to(b["keep_mask"].device).view(-1, 1, 1, 1)
    parse = b["parse"].view(b["keep_mask"].shape)
    skin = torch.zeros_like(b["keep_mask"], dtype=torch.bool)
    for label in (*ARMS, CIHP.TORSO_SKIN):
        skin |= parse == label
    stay = (~(skin & chosen)).to(b["keep_mask"].dtype)
    return {**b, "keep": b["keep"] * stay, "keep_mask": b["keep_mask"] * stay}


def drop_pose(b: dict, p: float) -> dict:
    """Training augmentation (``05_train.pose_dropout``): for a random ``p`` of the real samples the pose
    map is all zeros, so a photo without keypoints (``tryon try-on`` without ``--pose``) is still a case
    the network has seen. Draws from torch's global generator, like :func:`drop_skin`."""
    if p <= 0 or "pose" not in b:
        return b
    real = b.get("is_real")
    chosen = torch.rand(b["pose"].shape[0]) < p
    if real is not None:
        chosen &= real.view(-1).cpu().bool()
    keep = (~chosen).to(b["pose"].dtype).to(b["pose"].device).view(-1, 1, 1, 1)
    return {**b, "pose": b["pose"] * keep}


def _cut(d: dict, idx: torch.Tensor) -> dict:
    return {k: v[idx] if isinstance(v, torch.Tensor) and v.dim() > 0 else v for k, v in d.items()}


def forward_batch(model: TryOnNet, b: dict, garment: dict | None = None, **kw) -> dict[str, torch.Tensor]:
    """The try-on network on a collated batch of the data contract: its text code, trunk map, kept and
    protected regions, and the flat garment of ``garment`` (another batch: unpaired try-on) or of
    ``b`` itself. ``kw``: the network's ablation switches (``zero_text``, ``warp_guide``, ...)."""
    g = b if garment is None else garment
    return model(
        b["code"], b["trunk"], g["garment"], g["garment_mask"],
        keep=b["keep"], keep_mask=b["keep_mask"], protect_mask=b["protect_mask"], pose=b.get("pose"), **kw,
    )  # fmt: skip


def make_step_fn(
    vgg,
    weights: dict[str, float],
    style_mode: str,
    vgg_size: int = 0,
    skin_drop: float = 0.0,
    pose_dropout: float = 0.0,
):
    """``step_fn(model, batch) -> named terms + "total"``. A term with weight 0 is logged as 0 and not
    computed (the VGG terms dominate a CPU step). ``skin_drop``: :func:`drop_skin` in training mode;
    ``pose_dropout``: :func:`drop_pose` in training mode.

    A batch with real samples (``is_real``) computes each term per source and combines them in
    proportion to the sample counts; ``smooth`` (:func:`smoothness`) applies to real samples only,
    ``flow`` to synthetic ones only (real ``flow_valid`` is zero). The per-source terms are logged too
    as ``syn/<term>`` and ``real/<term>``."""
    criterion = Criterion(weights)

    def step_fn(model: TryOnNet, b: dict) -> dict[str, torch.Tensor]:
        if model.training:
            b = drop_pose(drop_skin(b, skin_drop), pose_dropout)
        out = forward_batch(model, b)
        is_real = b.get("is_real")
        if is_real is None or not bool(is_real.any()):
            return criterion(_terms(out, b, weights, vgg, style_mode, vgg_size, real=False))
        parts = {}
        for name, sel in (("syn", ~is_real), ("real", is_real)):
            idx = sel.nonzero()[:, 0]
            if len(idx):
                parts[name] = (
                    len(idx),
                    _terms(_cut(out, idx), _cut(b, idx), weights, vgg, style_mode, vgg_size, name == "real"),
                )
        n = sum(k for k, _ in parts.values())
        terms = {t: sum(k * d[t] for k, d in parts.values()) / n for t in weights}
        result = criterion(terms)
        for name, (_, d) in parts.items():
            result |= {f"{name}/{t}": v.detach() for t, v in d.items()}
        return result

    return step_fn


def loss_weights(params: Params, real_phase: bool = False) -> dict[str, float]:
    """The named terms' weights of stage 05 (``real_phase``: λ1 is ``real_lambda_warp``)."""
    t = params.train
    warp = t.real_lambda_warp if real_phase else t.lambda_warp
    return {
        "style": t.lambda_style,
        "warp_vgg": warp,
        "warp_mask": warp,
        "rec": t.lambda_rec,
        "flow": t.lambda_flow,
        "contour_l1": t.lambda_contour,
        "smooth": t.lambda_smooth,
    }


def make_scheduler(opt: torch.optim.Optimizer, t, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """``05_train.lr_schedule`` (``t``: the TrainConfig): ``cosine`` anneals the lr to 0 over ``steps``
    (the run's own length); ``step`` multiplies it by ``lr_gamma`` every ``lr_step`` steps ([0178])."""
    if t.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    return torch.optim.lr_scheduler.StepLR(opt, step_size=t.lr_step, gamma=t.lr_gamma)


def schedule_text(t, lr: float, steps: int) -> str:
    """The schedule of :func:`make_scheduler` in words, with the values used (for the reports)."""
    if t.lr_schedule == "cosine":
        return f"cosine: {lr:g} annealed to 0 over {steps} steps"
    decays = (steps - 1) // t.lr_step
    return f"step: {lr:g} x {t.lr_gamma:g} every {t.lr_step} steps ({decays} decays in {steps} steps)"
