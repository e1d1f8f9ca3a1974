"""Frozen VGG19 multi-scale feature extractor for the style and warp losses ([0186]-[0199]).

ImageNet weights cannot be downloaded here, so the extractor either loads a **local** torchvision
VGG19 state dict (``weights_path``) or builds the same architecture with a **fixed-seed random
init**. ``VGGFeatures.weights_source`` says which (``"imagenet:<path>"`` or ``"random(seed=0)"``);
stages copy it into their metrics JSON and reports, because a random VGG is a much weaker
perceptual metric than an ImageNet one (its features are random projections of local patches).

Inputs are images in [-1, 1] (the project convention); they are mapped to ImageNet normalisation
inside ``forward``. The module is frozen (``requires_grad=False``) and stays in eval mode even when a
parent module calls ``.train()``; gradients still flow to the *input*, which is what a loss needs.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
from torchvision.models.vgg import cfgs, make_layers

#: ReLU outputs of torchvision's ``vgg19().features`` by name -> index in the Sequential
VGG19_LAYERS: dict[str, int] = {
    "relu1_1": 1, "relu1_2": 3,
    "relu2_1": 6, "relu2_2": 8,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15, "relu3_4": 17,
    "relu4_1": 20, "relu4_2": 22, "relu4_3": 24, "relu4_4": 26,
    "relu5_1": 29, "relu5_2": 31, "relu5_3": 33, "relu5_4": 35,
}  # fmt: skip
#: the usual perceptual-loss taps (one per scale: full, 1/2, 1/4, 1/8, 1/16 resolution)
DEFAULT_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGWeightsError(ValueError):
    """A VGG weights file that is missing or is not a torchvision VGG19 state dict (one line)."""


def _load_state(path: Path, features: nn.Sequential) -> None:
    """Load the ``features.*`` convolution weights of a torchvision VGG19 state dict into ``features``
    (already truncated to the layers in use; deeper and classifier weights are ignored)."""
    if not path.is_file():
        raise VGGWeightsError(
            f"{path}: VGG19 weights file not found (give a torchvision vgg19 state dict or '')"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle / zip errors have long multi-line messages
        raise VGGWeightsError(
            f"{path}: not a readable torch state dict ({type(e).__name__}); expected a torchvision vgg19 state dict"
        ) from None
    if not isinstance(state, dict):
        raise VGGWeightsError(f"{path}: expected a torchvision vgg19 state dict, got {type(state).__name__}")
    # accept both the full model's keys ("features.0.weight") and a features-only dict ("0.weight")
    if any(k.startswith("features.") for k in state):
        state = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    own = features.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise VGGWeightsError(
            f"{path}: not a torchvision vgg19 state dict (missing {missing[0]!r} and {len(missing) - 1} more keys)"
        )
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise VGGWeightsError(
                f"{path}: not a torchvision vgg19 state dict ({k!r} has shape {tuple(state[k].shape)}, "
                f"expected {tuple(v.shape)})"
            )
    features.load_state_dict({k: state[k].float() for k in own})


def _vgg19_features(last: int) -> nn.Sequential:
    """``torchvision.models.vgg19().features[: last + 1]`` with torchvision's init (Kaiming-normal fan-out
    convs, zero biases), built without the 140M-parameter classifier that is never used here."""
    features = make_layers(cfgs["E"], batch_norm=False)[: last + 1]
    for m in features:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
    return features


class VGGFeatures(nn.Module):
    """VGG19 (torchvision architecture) truncated after the deepest requested ReLU.

    Args:
        layers: names from :data:`VGG19_LAYERS`, e.g. ``("relu1_1", "relu2_1", "relu3_1")``.
        weights_path: a local torchvision VGG19 state dict (``torch.save(vgg19(...).state_dict())``);
            ``""`` or ``None`` = fixed-seed random init (see ``weights_source``).
        seed: seed of the random init (ignored when weights are loaded). The global RNG is untouched.

    ``forward(x)``: ``x`` [B,3,H,W] in [-1,1] (any H, W >= 2**(number of pools before the deepest layer))
    -> dict ``layer name -> [B,C_l,H/2^s,W/2^s]`` features (ReLU outputs, >= 0), in ``layers`` order.
    """

    def __init__(
        self, layers: tuple[str, ...] = DEFAULT_LAYERS, weights_path: str | None = "", seed: int = 0
    ):
        super().__init__()
        unknown = [n for n in layers if n not in VGG19_LAYERS]
        if not layers or unknown:
            raise ValueError(f"VGG layers: unknown {unknown} (expected names from {list(VGG19_LAYERS)})")
        self.layers = tuple(sorted(layers, key=VGG19_LAYERS.__getitem__))
        last = max(VGG19_LAYERS[n] for n in self.layers)
        with torch.random.fork_rng(devices=[]):  # fixed-seed init without touching the caller's RNG
            torch.manual_seed(seed)
            features = _vgg19_features(last)
        for m in features:
            if isinstance(m, nn.ReLU):
                m.inplace = False  # keep each tapped activation intact for the loss
        if weights_path:
            path = Path(weights_path)
            _load_state(path, features)
            self.weights_source = f"imagenet:{path}"
        else:
            self.weights_source = f"random(seed={seed})"
        self.features = features
        self._taps = {VGG19_LAYERS[n]: n for n in self.layers}
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:  # noqa: ARG002 - always frozen
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"VGGFeatures: expected images [B,3,H,W], got shape {tuple(x.shape)}")
        h = ((x + 1.0) * 0.5 - self.mean) / self.std  # [-1,1] -> ImageNet normalisation
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in self._taps:
                out[self._taps[i]] = h
                if len(out) == len(self._taps):
                    break
        return {n: out[n] for n in self.layers}


def build_vgg(
    weights_path: str | None = "", layers: tuple[str, ...] = DEFAULT_LAYERS, seed: int = 0
) -> VGGFeatures:
    """Factory used by the stages: ``build_vgg(cfg.vgg_weights)``; see :class:`VGGFeatures`."""
    return VGGFeatures(layers=tuple(layers), weights_path=weights_path, seed=seed)
