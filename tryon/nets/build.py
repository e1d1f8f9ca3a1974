"""Params -> networks: the one place that maps ``params.yaml`` sections to constructor arguments.

Each ``*architecture`` function returns the explicit keyword arguments of a network's ``build_*``
factory (a plain dict, stored in checkpoints so a checkpoint rebuilds its own network without the
params file); each ``build_*`` / ``load_*`` function builds from such a dict. Networks themselves
never see a config object (CONVENTIONS.md, habit 7).

- stage 03 (text MLP + contour generator): :func:`contour_architecture`, :func:`build_contour_net`;
- stage 04 (warping network): :func:`warp_architecture`, :func:`build_warp_from_arch`,
  :func:`load_warp_net`;
- stage 05 and inference (the full :class:`~tryon.nets.model.TryOnNet`): :func:`architecture`,
  :func:`build_model`, :func:`load_pretrained` (03/04 checkpoints into the full network).
"""

from __future__ import annotations

from pathlib import Path

import torch

from tryon.checkpoint import load_checkpoint
from tryon.config import Params, WarpConfig
from tryon.nets.contour import POSE_CHANNELS, TextContourNet, build_contour_generator
from tryon.nets.fusion import build_fusion
from tryon.nets.model import TryOnNet
from tryon.nets.text_mlp import build_text_mlp
from tryon.nets.warp import WarpNet, build_warp_net


def contour_architecture(params: Params, code_dim: int) -> dict:
    """Constructor arguments of the text MLP and the contour generator (same layout as
    :func:`architecture`)."""
    e, c = params.encode, params.contour
    return {
        "text_mlp": dict(
            code_dim=code_dim, hidden=list(e.hidden), activation=e.activation,
            out_dim=e.out_dim, softmax_scale=e.softmax_scale,
        ),
        "contour_gen": dict(
            image_size=params.base.image_size,
            base_channels=c.base_channels,
            pose_channels=POSE_CHANNELS if c.pose else 0,
        ),
    }  # fmt: skip


def build_contour_net(arch: dict) -> TextContourNet:
    """Text MLP + contour generator (stage 03) from :func:`contour_architecture` arguments."""
    return TextContourNet(build_text_mlp(**arch["text_mlp"]), build_contour_generator(**arch["contour_gen"]))


def warp_architecture(cfg: WarpConfig) -> dict:
    """Explicit :func:`build_warp_net` arguments from the params section (stored in the checkpoint)."""
    return dict(
        feature_stride=cfg.feature_stride,
        d_model=cfg.d_model,
        n_layers=cfg.n_layers,
        n_heads=cfg.n_heads,
        matching=cfg.matching,
        base_channels=cfg.base_channels,
        temperature=cfg.temperature,
        upsample=cfg.upsample,
    )


def build_warp_from_arch(arch: dict) -> WarpNet:
    return build_warp_net(**arch)


def load_warp_net(path: str | Path, map_location: str | torch.device = "cpu") -> WarpNet:
    """The warping network of a stage-04 checkpoint (``model.pt``), in eval mode."""
    ck = load_checkpoint(path, map_location)
    if "warp_net" not in ck or "arch" not in ck:
        raise ValueError(f"{path}: not a 04_warp checkpoint (expected keys 'warp_net' and 'arch')")
    net = build_warp_from_arch(ck["arch"])
    net.load_state_dict(ck["warp_net"])
    return net.eval()


def architecture(params: Params, code_dim: int) -> dict:
    """The explicit constructor arguments of every sub-network of the full model (stored in
    checkpoints); the text MLP, contour generator and warping network use the same layout as their
    pretraining stages."""
    return {
        **contour_architecture(params, code_dim),
        "warp_net": warp_architecture(params.warp),
        "fusion": dict(
            kind=params.train.fusion,
            base_channels=params.train.fusion_channels,
            colour=params.train.fusion_colour,
            fill=params.train.fusion_fill,
            keep=params.train.fusion_keep,
            kept_gate=params.train.fusion_kept_gate,
            fill_ramp=params.train.fusion_fill_ramp,
        ),
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
