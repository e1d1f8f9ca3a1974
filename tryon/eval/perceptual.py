"""LPIPS, FID and KID through torchmetrics, from LOCAL weight files only (stage 06_evaluate).

Nothing here downloads anything: every network is built with random/no weights and then loaded from the
file named in params, after checking that the file is a plain tensor state dict (``torch.load(...,
weights_only=True)``) of the right architecture. A bad file raises :class:`WeightsError` (one line naming
the param, the file and what was expected). An empty path gives the ``"<NAME> not computed: no weights"``
string of :func:`tryon.eval.metrics.optional_metric`, never a number.

LPIPS (:func:`lpips`)
    torchmetrics' LPIPS network (``torchmetrics.functional.image.lpips._NoTrainLpips``, the v0.1 model of
    Zhang et al. 2018, the same code ``LearnedPerceptualImagePatchSimilarity`` runs). Backbone: torchvision
    AlexNet / VGG16 / SqueezeNet1.1 ``features`` loaded from ``06_evaluate.lpips_weights`` (a torchvision
    state dict such as ``alexnet-owt-7be5be79.pth``, full model or ``features`` only). Linear heads: the
    files shipped inside the torchmetrics wheel (``torchmetrics/functional/image/lpips_models/{net}.pth``,
    overridable with ``heads_path``). Images [N,3,H,W] in [-1,1] (uint8 accepted), paired; the result is
    the mean over pairs (lower = more similar).

FID / KID (:func:`fid_kid`)
    The torch-fidelity InceptionV3 (torchmetrics' ``NoTrainInceptionV3``, 2048-d pool3 features) loaded
    from ``06_evaluate.inception_weights``: the standard FID weights ``pt_inception-2015-12-05-6726825d.pth``
    (pytorch-fid's name; torch-fidelity ships the same file as ``weights-inception-2015-12-05-6726825d.pth``).
    Images are quantised to uint8 as when saved to PNG (``round((x+1)/2*255)`` for floats in [-1,1]; uint8
    taken as is; this rounds where torchmetrics' ``normalize=True`` would truncate ``(x*255).byte()``) and
    resized to 299 with torch-fidelity's TF1-compatible bilinear resize (``antialias=False``, what the
    reference FID code does). The features are extracted once per set and fed to torchmetrics'
    ``FrechetInceptionDistance`` and ``KernelInceptionDistance`` through an identity feature extractor
    (KID in torchmetrics 1.9 cannot take a local weights path for its own Inception). KID: polynomial
    kernel of degree 3, gamma 1/2048, coef 1, ``kid_subsets`` subsets of ``kid_subset_size`` samples
    (default ``min(1000, N)``: torchmetrics' default 1000 exceeds the 64 test images); with a subset size
    equal to N every subset holds all the samples, so KID is the unbiased MMD^2 of the full sets and its std
    is 0 by construction. The subsets are drawn with a fixed ``seed`` (the global RNG is left as it was).
    With N of the order of 64, FID is strongly biased upwards (2048-d covariances from 64 samples): compare
    FIDs only at the same N; KID is unbiased.

Paired vs unpaired: FID/KID compare two image *sets*, so the unpaired try-on setting (a different garment,
no ground truth) is the same :func:`fid_kid` applied to the unpaired results and the real test images;
LPIPS needs pairs, so it exists only in the paired setting.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from tryon.eval.metrics import optional_metric

LPIPS_PARAM = "06_evaluate.lpips_weights"
INCEPTION_PARAM = "06_evaluate.inception_weights"

# LPIPS net -> (torchvision model, official torchvision weights file: name ends in its sha256 prefix)
BACKBONES = {
    "alex": ("alexnet", "alexnet-owt-7be5be79.pth"),
    "vgg": ("vgg16", "vgg16-397923af.pth"),
    "squeeze": ("squeezenet1_1", "squeezenet1_1-b8a52dc0.pth"),
}
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_FEATURES = 2048
KID_DEFAULT_SUBSET_SIZE = 1000  # torchmetrics' and torch-fidelity's default
KID_DEFAULT_SUBSETS = 100


class WeightsError(ValueError):
    """A weights file given in params is missing, unreadable or not the expected network."""


# --------------------------------------------------------------------------------------------- helpers
def _sha256_prefix(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:8]


def _provenance(path: Path, official: str) -> str:
    """``name (sha256 xxxxxxxx, official)``: whether the file is the published one (torch hub convention:
    the official file name ends in the first 8 hex digits of its sha256)."""
    sha = _sha256_prefix(path)
    tag = "official" if official.rsplit("-", 1)[-1].split(".")[0] == sha else f"NOT the official {official}"
    return f"{path.name} (sha256 {sha}, {tag})"


def _load_state_dict(path: str, param: str, expected: str) -> tuple[Path, dict[str, torch.Tensor]]:
    """The tensors of a plain state dict file; no arbitrary unpickling (``weights_only=True``)."""
    p = Path(path).expanduser()
    if not p.is_file():
        why = "is a directory, not a file" if p.is_dir() else "not found"
        raise WeightsError(f"{param}: weights file {why}: {p} (expected {expected})")
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsError(
            f"{param}: {p} is not a plain tensor state dict (torch.load weights_only=True refused it; "
            f"expected {expected})"
        ) from None
    except Exception as e:  # any other failure also means "not a loadable state dict"
        raise WeightsError(
            f"{param}: {p} is not a loadable torch file ({type(e).__name__}; expected {expected})"
        ) from None
    if isinstance(sd, Mapping) and "state_dict" in sd and isinstance(sd["state_dict"], Mapping):
        sd = sd["state_dict"]
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise WeightsError(
            f"{param}: {p} holds a {type(sd).__name__}, not a state dict of tensors (expected {expected})"
        )
    return p, dict(sd)


def _describe_mismatch(missing: list[str], unexpected: list[str], shapes: list[str]) -> str:
    parts = []
    for what, keys in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", shapes),
    ):
        if keys:
            parts.append(f"{len(keys)} {what} (e.g. {keys[0]})")
    return ", ".join(parts)


def _mismatch(expected: Mapping[str, torch.Tensor], got: Mapping[str, torch.Tensor]) -> str:
    """'' when ``got`` has exactly the keys and shapes of ``expected``, else a one-line summary."""
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k}: {tuple(got[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in got and got[k].shape != v.shape
    ]
    return _describe_mismatch(missing, unexpected, shapes)


def _check_images(imgs: torch.Tensor) -> torch.Tensor:
    if imgs.ndim != 4 or imgs.shape[1] != 3:
        raise ValueError(f"expected images [N,3,H,W], got shape {tuple(imgs.shape)}")
    return imgs


def _to_pm1(imgs: torch.Tensor) -> torch.Tensor:
    """uint8 [0,255] or float [-1,1] -> float32 [-1,1] (floats clamped, as tryon.eval.metrics does)."""
    if imgs.dtype == torch.uint8:
        return imgs.float() / 127.5 - 1
    return imgs.detach().float().clamp(-1, 1)


def _to_uint8(imgs: torch.Tensor) -> torch.Tensor:
    """uint8 as is; float [-1,1] -> uint8 by rounding (what saving a PNG does)."""
    if imgs.dtype == torch.uint8:
        return imgs
    return ((imgs.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


# ----------------------------------------------------------------------------------------------- LPIPS
def _lpips_heads_file(net: str) -> Path:
    from torchmetrics.functional.image import lpips as tm_lpips

    return Path(inspect.getfile(tm_lpips)).parent / "lpips_models" / f"{net}.pth"


def _backbone_layers(backbone: nn.Module) -> dict[int, nn.Module]:
    """torchvision ``features`` index -> layer, from the slices of torchmetrics' LPIPS backbone (each slice
    is an ``nn.Sequential`` whose children keep their ``features`` index as name)."""
    return {
        int(name): child
        for mod in backbone.modules()
        if isinstance(mod, nn.Sequential)
        for name, child in mod.named_children()
        if name.isdigit()
    }


def lpips_model(weights_path: str, net: str = "alex", heads_path: str | None = None) -> nn.Module:
    """torchmetrics' LPIPS network (eval mode, no grad) with its backbone from ``weights_path`` and its
    linear heads from the torchmetrics wheel (or ``heads_path``). Call it as ``model(a, b)`` on [-1,1]."""
    from torchmetrics.functional.image import lpips as tm_lpips

    if net not in BACKBONES:
        raise ValueError(f"LPIPS net must be one of {sorted(BACKBONES)}, got {net!r}")
    tv_name, official = BACKBONES[net]
    expected = f"a torchvision {tv_name} state dict such as {official} (full model or features only)"
    p, sd = _load_state_dict(weights_path, LPIPS_PARAM, expected)
    if any(k.startswith("features.") for k in sd):  # full-model file: keep the convolutional part
        sd = {k.removeprefix("features."): v for k, v in sd.items() if k.startswith("features.")}

    # pretrained=False: no heads loaded yet; pnet_rand=True: torchvision builds the backbone with
    # weights=None, so neither step can reach the network.
    model = tm_lpips._NoTrainLpips(pretrained=False, net=net, pnet_rand=True)
    layers = _backbone_layers(model.net)
    want = {f"{i}.{k}": v for i, m in layers.items() for k, v in m.state_dict().items()}
    if problem := _mismatch(want, sd):
        raise WeightsError(f"{LPIPS_PARAM}: {p} is not {expected}: {problem}")
    for i, m in layers.items():
        m.load_state_dict({k: sd[f"{i}.{k}"] for k in m.state_dict()}, strict=True)

    what = f"the LPIPS v0.1 linear heads for {net!r} (lin0.model.1.weight ...)"
    heads_file, heads = _load_state_dict(str(heads_path or _lpips_heads_file(net)), "lpips heads_path", what)
    # the heads are registered twice (lin0 ... and lins.0 ..., the same tensors): compare with the first
    want = {k: v for k, v in model.state_dict().items() if k.startswith("lin") and not k.startswith("lins.")}
    if problem := _mismatch(want, heads):
        raise WeightsError(f"lpips heads_path: {heads_file} is not {what}: {problem}")
    model.load_state_dict(heads, strict=False)
    return model.eval().requires_grad_(False)


@torch.no_grad()
def lpips_scores(
    fake: torch.Tensor,
    real: torch.Tensor,
    weights_path: str,
    net: str = "alex",
    *,
    heads_path: str | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> list[float]:
    """Per-pair LPIPS of [N,3,H,W] images (float in [-1,1] or uint8)."""
    from torchmetrics.functional.image import lpips as tm_lpips

    fake, real = _check_images(fake), _check_images(real)
    if fake.shape != real.shape:
        raise ValueError(
            f"LPIPS needs pairs of the same shape, got {tuple(fake.shape)} and {tuple(real.shape)}"
        )
    model = lpips_model(weights_path, net, heads_path).to(device)
    out = []
    for i in range(0, fake.shape[0], batch_size):
        a = _to_pm1(fake[i : i + batch_size]).to(device)
        b = _to_pm1(real[i : i + batch_size]).to(device)
        out.append(tm_lpips._lpips_update(a, b, net=model, normalize=False).reshape(-1).cpu())
    return torch.cat(out).tolist()


def lpips(fake: torch.Tensor, real: torch.Tensor, weights_path: str, net: str = "alex", **kwargs) -> float:
    """Mean LPIPS over the pairs (``fake[i]``, ``real[i]``); images [N,3,H,W] float in [-1,1] (or uint8).
    ``kwargs``: those of :func:`lpips_scores` (``heads_path``, ``batch_size``, ``device``)."""
    scores = lpips_scores(fake, real, weights_path, net, **kwargs)
    return float(sum(scores) / len(scores))


# ------------------------------------------------------------------------------------------- FID / KID
class _PrecomputedFeatures(nn.Module):
    """Identity "feature extractor": FID/KID receive Inception features extracted once."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class _InceptionMismatch(Exception):
    pass


def _checked_inception_class():
    """torchmetrics' ``NoTrainInceptionV3`` whose weight loading reports what does not match (the
    torch-fidelity constructor calls ``self.load_state_dict`` with the file it was given)."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    class _CheckedInceptionV3(NoTrainInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            own = self.state_dict()
            shapes = [
                f"{k}: {tuple(v.shape)} vs {tuple(own[k].shape)}"
                for k, v in state_dict.items()
                if k in own and v.shape != own[k].shape
            ]
            if shapes:
                raise _InceptionMismatch(_describe_mismatch([], [], shapes))
            res = super().load_state_dict(state_dict, strict=False, assign=assign)
            if res.missing_keys or res.unexpected_keys:
                raise _InceptionMismatch(_describe_mismatch(res.missing_keys, res.unexpected_keys, []))
            return res

    return _CheckedInceptionV3


def inception_model(weights_path: str, antialias: bool = False) -> nn.Module:
    """torchmetrics' torch-fidelity InceptionV3 (uint8 [N,3,H,W] -> [N,2048] pool3 features) with the
    weights of ``weights_path``."""
    expected = f"the torch-fidelity/pytorch-fid InceptionV3 FID weights {INCEPTION_FILE}"
    p, _ = _load_state_dict(weights_path, INCEPTION_PARAM, expected)  # refuses non-tensor pickles
    try:
        return _checked_inception_class()(
            name="inception-v3-compat",
            features_list=[str(INCEPTION_FEATURES)],
            feature_extractor_weights_path=str(p),
            antialias=antialias,
        )
    except _InceptionMismatch as e:
        raise WeightsError(f"{INCEPTION_PARAM}: {p} is not {expected}: {e}") from None


@torch.no_grad()
def _features(model: nn.Module, imgs: torch.Tensor, batch_size: int, device) -> torch.Tensor:
    imgs = _to_uint8(_check_images(imgs))
    out = [
        model(imgs[i : i + batch_size].to(device)).double().cpu() for i in range(0, imgs.shape[0], batch_size)
    ]
    return torch.cat(out)


def fid_kid(
    fake: torch.Tensor,
    real: torch.Tensor,
    weights_path: str,
    kid_subset_size: int | None = None,
    *,
    kid_subsets: int = KID_DEFAULT_SUBSETS,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    seed: int = 0,
    antialias: bool = False,
) -> dict:
    """FID and KID between the image sets ``fake`` and ``real`` ([N,3,H,W], float in [-1,1] or uint8;
    the two N and sizes may differ). ``kid_subset_size=None`` -> ``min(1000, N_fake, N_real)``.

    Returns ``{"fid": float, "kid_mean": float, "kid_std": float, "kid_subset_size": int,
    "feature_extractor": str}``."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    n = min(fake.shape[0], real.shape[0])
    if n < 2:
        raise ValueError(f"FID/KID need at least 2 images per set, got {fake.shape[0]} and {real.shape[0]}")
    subset = min(KID_DEFAULT_SUBSET_SIZE, n) if kid_subset_size is None else int(kid_subset_size)
    if not 2 <= subset <= n:
        raise ValueError(f"kid_subset_size must be in [2, {n}] (the smaller set), got {subset}")

    model = inception_model(weights_path, antialias=antialias).to(device)
    f_fake, f_real = _features(model, fake, batch_size, device), _features(model, real, batch_size, device)

    fid = FrechetInceptionDistance(feature=_PrecomputedFeatures(INCEPTION_FEATURES))
    fid.update(f_real, real=True)
    fid.update(f_fake, real=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        kid = KernelInceptionDistance(
            feature=_PrecomputedFeatures(INCEPTION_FEATURES), subsets=kid_subsets, subset_size=subset
        )
    kid.update(f_real, real=True)
    kid.update(f_fake, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()

    resize = "antialiased bilinear" if antialias else "TF1-compatible bilinear"
    return {
        "fid": float(fid.compute()),
        "kid_mean": float(kid_mean),
        "kid_std": float(kid_std),
        "kid_subset_size": subset,
        "feature_extractor": (
            f"torch-fidelity InceptionV3 pool3 ({INCEPTION_FEATURES}-d) from "
            f"{_provenance(Path(weights_path).expanduser(), INCEPTION_FILE)}; uint8 images, {resize} "
            f"resize to 299; N fake {fake.shape[0]}, N real {real.shape[0]}; KID degree 3, "
            f"{kid_subsets} subsets of {subset}"
        ),
    }


# ------------------------------------------------------------------------------------------ the stage
def perceptual_metrics(
    fake: torch.Tensor,
    real: torch.Tensor,
    lpips_weights: str,
    inception_weights: str,
    *,
    net: str = "alex",
    kid_subset_size: int | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> dict:
    """LPIPS (paired), FID and KID of ``fake`` vs ``real`` ([N,3,H,W] in [-1,1]) for stage 06.

    Returns ``{"lpips": float | str, "fid": float | str, "kid": {"mean": float, "std": float} | str,
    "perceptual_settings": str}``: a metric whose weights path is '' is the string of
    :func:`tryon.eval.metrics.optional_metric` (e.g. ``"LPIPS not computed: no weights"``). A path that is
    given but wrong raises :class:`WeightsError`."""
    out: dict = {}
    settings = []
    if reason := optional_metric(lpips_weights, "LPIPS"):
        out["lpips"] = reason
        settings.append(reason)
    else:
        out["lpips"] = lpips(fake, real, lpips_weights, net, batch_size=batch_size, device=device)
        tv_name, official = BACKBONES[net]
        heads = _lpips_heads_file(net)
        settings.append(
            f"LPIPS v0.1 (torchmetrics): {tv_name} features from "
            f"{_provenance(Path(lpips_weights).expanduser(), official)}, linear heads "
            f"torchmetrics/{heads.relative_to(heads.parents[3]).as_posix()}; mean over {fake.shape[0]} pairs"
        )
    fid_reason = optional_metric(inception_weights, "FID")
    kid_reason = optional_metric(inception_weights, "KID")
    if fid_reason:
        out["fid"], out["kid"] = fid_reason, kid_reason
        settings.append(f"FID/KID {fid_reason.removeprefix('FID ')}")
    else:
        r = fid_kid(fake, real, inception_weights, kid_subset_size, batch_size=batch_size, device=device)
        out["fid"] = r["fid"]
        out["kid"] = {"mean": r["kid_mean"], "std": r["kid_std"]}
        settings.append(f"FID/KID: {r['feature_extractor']}")
    out["perceptual_settings"] = "; ".join(settings)
    return out
