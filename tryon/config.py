"""``params.yaml`` -> frozen, validated dataclasses (no torch here).

One section per pipeline stage (the stage slug is the section name) plus a shared ``base:``.
Every key is checked before any work is done: an unknown or misspelled key, a value of the
wrong type, or a value out of range raises :class:`ParamsError` whose message is one line naming
the offending key, e.g. ``params.yaml: 01_prepare.n_trian: unknown key (expected one of: ...)``.

Run ``python -m tryon.config check [params.yaml]`` to validate a file (exit status 2 on error);
every DVC stage does this before it starts its notebook, with ``--stage SLUG`` which also checks that
each input file the stage declares in ``dvc.yaml`` exists (one line naming the missing file).
``python -m tryon.config apply PROFILE.yaml [--params params.yaml]`` merges a profile of overrides
(e.g. ``profiles/tiny.yaml``) into ``params.yaml`` (validated first, written atomically).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, get_args, get_origin, get_type_hints

import yaml


class ParamsError(ValueError):
    """A params file or section that does not match the schema (message is one line)."""


# --------------------------------------------------------------------------------------------
# Range helpers: attach constraints to dataclass fields through ``metadata``.
# --------------------------------------------------------------------------------------------
def _f(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    multiple_of: int | None = None,
    doc: str = "",
) -> Any:
    meta = {"ge": ge, "gt": gt, "le": le, "multiple_of": multiple_of, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def _share(doc: str) -> Any:
    """A share in [0, 1], 0 by default (off)."""
    return _f(0.0, ge=0, le=1, doc=doc)


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaseConfig:
    """Shared by every stage."""

    seed: int = _f(0, ge=0, doc="global seed (data generation, init, sampling)")
    image_size: int = _f(128, ge=32, le=1024, multiple_of=32, doc="square working size (pixels)")
    device: Literal["auto", "cpu", "cuda"] = _f("auto", doc="auto = cuda when present, else cpu")
    num_threads: int = _f(0, ge=0, doc="torch CPU threads; 0 = torch default")


@dataclass(frozen=True)
class PrepareConfig:
    """Stage 01_prepare: generate the synthetic wardrobe and/or import real samples."""

    source: Literal["synthetic", "real", "mixed"] = _f(
        "mixed",
        doc="05's last phase trains on: synthetic only, real only, or mixed (03/04 pretrain on synthetic)",
    )
    n_train: int = _f(512, ge=1)
    n_dev: int = _f(64, ge=1, doc="dev split: what 03-05 report and every choice of steps/weights is made on")
    n_test: int = _f(64, ge=1, doc="test split: read once, in 06_evaluate")
    shape_jitter: float = _f(
        0.08, ge=0, le=0.3, doc="body widths vary +- this around what the text implies, independent of it"
    )
    garment_dir: str = _f("", doc="folder of real flat garment photos; '' = procedural garments")
    real_root: str = _f(
        "../shared/data/viton",
        doc="VITON (CP-VTON), VITON-HD, Dress Code or vton-samples folder; absent = no real data",
    )
    real_dev_pairs: int = _f(256, ge=0, doc="official layouts: train persons held out as the real dev split")
    real_max_persons: int = _f(
        0, ge=0, doc="official layouts: first persons of each split read (quick runs); 0 = all"
    )
    real_test_fraction: float = _f(
        0.3, gt=0, le=0.9, doc="flat layout: test share of the persons, split per (subset, category)"
    )
    real_split_seed: int = _f(0, ge=0, doc="flat layout: the shuffle of that split")
    real_text_csv: str = _f("", doc="CSV person,text of real body texts; '' = estimated from the parse")
    n_preview: int = _f(8, ge=1, doc="samples in the report grid")
    workers: int = _f(0, ge=0, doc="generator processes; 0 = up to 2 (the files do not depend on it)")


@dataclass(frozen=True)
class EncodeConfig:
    """Stage 02_encode: body-text vocabulary and the text MLP shape."""

    hidden: list[int] = _f([256], doc="hidden layer widths of the text MLP")
    activation: Literal["sigmoid", "tanh"] = _f("tanh")
    out_dim: int = _f(1024, ge=4, doc="MLP output size; reshaped to a sqrt x sqrt map")
    softmax_scale: float = _f(1024.0, gt=0, doc="softmax output x scale (a softmax sums to 1)")


@dataclass(frozen=True)
class ContourConfig:
    """Stage 03_contour: pretrain text MLP + contour generator."""

    steps: int = _f(2000, ge=1, doc="training steps")
    batch_size: int = _f(4, ge=1)
    lr: float = _f(1e-3, gt=0)
    base_channels: int = _f(16, ge=1, doc="first encoder width (16-32-64-128-256 in the method)")
    style_mode: Literal["feature", "gram"] = _f("feature")
    lambda_style: float = _f(1.0, ge=0)
    lambda_l1: float = _f(1.0, ge=0, doc="pixel L1 to the GT contour (synthetic data only)")
    vgg_weights: str = _f("", doc="path to a torchvision VGG19 state dict; '' = fixed random VGG")
    log_every: int = _f(50, ge=1)
    style_size: int = _f(
        32, ge=0, doc="L_style computed on images resized to this size (CPU cost); 0 = working size"
    )
    style_layers: list[str] = _f(["relu1_1", "relu2_1", "relu3_1"], doc="VGG19 ReLU taps of L_style")
    pose: bool = _f(
        True, doc="feed the pose map (arm and torso bones, tryon.data.pose) to the contour generator"
    )
    amp: bool = _f(
        False, doc="mixed precision: float16 on CUDA, bfloat16 on a CPU with native bfloat16; off: float32"
    )


@dataclass(frozen=True)
class WarpConfig:
    """Stage 04_warp: pretrain the warping network and visualise matching."""

    feature_stride: Literal[4, 8] = _f(8)
    d_model: int = _f(128, ge=8)
    n_layers: int = _f(2, ge=0, doc="transformer layers (6 in the method)")
    n_heads: int = _f(4, ge=1)
    matching: Literal["fused", "naive", "chunked"] = _f("fused")
    base_channels: int = _f(32, ge=4, doc="CNN stem width of each feature stream")
    temperature: float = _f(1.0, gt=0, doc="divides the matching correlation (lower = sharper M)")
    upsample: Literal["bilinear", "convex"] = _f(
        "convex", doc="low-res grid -> full res (convex = learned, RAFT)"
    )
    contour_source: Literal["generated", "ground_truth", "trunk"] = _f(
        "ground_truth", doc="person side of the warp in training: GT or stage-03 contour, or the trunk map"
    )
    steps: int = _f(280, ge=1, doc="training steps")
    batch_size: int = _f(8, ge=1)
    lr: float = _f(1e-3, gt=0)
    lr_schedule: Literal["constant", "cosine"] = _f("cosine", doc="cosine = anneal to 0 over the steps")
    lambda_vgg: float = _f(0.0, ge=0, doc="VGG term of L_warp; 0 = off (it costs ~5 s a step on 2 CPU cores)")
    lambda_mask: float = _f(2.0, ge=0)
    lambda_flow: float = _f(1.0, ge=0, doc="ground-truth flow L1 (synthetic only; departure, docs/method.md)")
    vgg_weights: str = _f("")
    log_every: int = _f(50, ge=1)
    ablation_trunk: bool = _f(
        True, doc="also train a trunk-map-guided warp (same steps, seed, data): 06's fair ablation"
    )
    amp: bool = _f(False, doc="mixed precision as 03_contour.amp, the trunk-guided ablation warp too")


@dataclass(frozen=True)
class TrainConfig:
    """Stage 05_train: end-to-end training of the full try-on network."""

    steps: int = _f(120, ge=1)
    batch_size: int = _f(4, ge=1)
    lr: float = _f(1e-3, gt=0)
    weight_decay: float = _f(5e-4, ge=0)
    lr_schedule: Literal["cosine", "step"] = _f(
        "cosine", doc="cosine: lr annealed to 0 over `steps`; step: x lr_gamma every lr_step (the method's)"
    )
    lr_step: int = _f(1000, ge=1, doc="decay the lr every lr_step iterations (lr_schedule: step)")
    lr_gamma: float = _f(0.5, gt=0, le=1, doc="decay factor (0.1 in the method; lr_schedule: step)")
    lambda_style: float = _f(1.0, ge=0)
    lambda_warp: float = _f(1.0, ge=0)
    lambda_rec: float = _f(1.0, ge=0)
    lambda_flow: float = _f(1.0, ge=0, doc="ground-truth flow L1 (synthetic only; departure, docs/method.md)")
    lambda_contour: float = _f(
        1.0, ge=0, doc="pixel L1 of the contour to the GT contour image (departure, as in 03)"
    )
    lambda_smooth: float = _f(0.1, ge=0, doc="flow smoothness on real pairs (no GT flow; departure)")
    real_steps: int = _f(240, ge=0, doc="steps of the real / mixed phase after the synthetic one")
    real_fraction: float = _f(0.25, gt=0, le=1, doc="real share of each batch in that phase")
    real_lr: float = _f(5e-4, gt=0, doc="learning rate of that phase (cosine-annealed to 0)")
    real_max_pairs: int = _f(
        2000, ge=0, doc="real train pairs that phase draws from (the first of a seeded shuffle); 0 = all"
    )
    unpaired_fraction: float = _share("share of synthetic samples unpaired: another garment, truth rendered")
    skin_drop: float = _share("share of samples whose arm/torso skin is not kept: the fusion must paint it")
    real_skin_drop: float = _share("skin_drop in that phase")
    pose_dropout: float = _f(
        0.1, ge=0, le=1, doc="share of real samples whose pose map is zeroed (pose unknown still works)"
    )
    real_lambda_warp: float = _f(3.0, ge=0, doc="λ1 (the weight of L_warp) in that phase")
    real_jitter: int = _f(
        0, ge=0, doc="jittered copies of each real pair (and its mirror) in that phase; 0 = none"
    )
    real_jitter_shift: float = _f(
        0.1,
        ge=0,
        le=0.5,
        doc="those copies: flat garment scaled and moved by up to this (fraction of half the image)",
    )
    real_jitter_colour: bool = _f(
        True, doc="those copies: garment colours (flat and worn) in a random RGB order"
    )
    fusion: Literal["trunk_compose", "compose", "unet"] = _f(
        "trunk_compose",
        doc="trunk_compose: trunk map in, its pixels kept (METHOD.md 2, 5); compose / unet: without it",
    )
    fusion_channels: int = _f(16, ge=4, doc="first width of the fusion U-Net")
    fusion_colour: bool = _f(True, doc="the flat garment's mean colour is a fusion input too")
    fusion_fill: bool = _f(True, doc="the garment's texture where the warp misses is a third fusion source")
    fusion_keep: Literal["garment", "warped_mask"] = _f(
        "garment",
        doc="garment: a kept pixel gives way to the placed garment only; warped_mask: where the warp lands",
    )
    fusion_kept_gate: float = _f(
        0.5,
        ge=0.0,
        le=0.99,
        doc="photo-size try-on: a kept pixel is the garment where the gate exceeds this; 0 = soft mix",
    )
    fusion_fill_ramp: float = _f(
        0.0,
        ge=0.0,
        le=1.0,
        doc="photo-size try-on: the fill gate's ramp width about 0.5 (1 = soft, as trained; 0 = decided)",
    )
    style_mode: Literal["feature", "gram"] = _f("feature")
    vgg_weights: str = _f("", doc="path to a torchvision VGG19 state dict; '' = fixed random VGG")
    vgg_size: int = _f(
        32, ge=0, doc="VGG terms computed on images resized to this size (CPU cost); 0 = working size"
    )
    vgg_layers: list[str] = _f(["relu1_1", "relu2_1", "relu3_1"], doc="VGG19 ReLU taps of L_style and L_warp")
    init_pretrained: bool = _f(True, doc="start from the 03_contour / 04_warp checkpoints")
    init_checkpoint: str = _f(
        "",
        doc="a model.pt to go on training (its weights, vocabulary; no synthetic phase); '' = off",
    )
    ablation_steps: int = _f(
        50, ge=0, doc="steps of each trained ablation row (synthetic, same init/seed/schedule); 0 = none"
    )
    amp: bool = _f(
        False, doc="mixed precision: float16 on CUDA, bfloat16 on a CPU with native bfloat16; off: float32"
    )
    resume: bool = _f(False)
    checkpoint_every: int = _f(100, ge=1)
    log_every: int = _f(25, ge=1)


@dataclass(frozen=True)
class EvaluateConfig:
    """Stage 06_evaluate: metrics, breakdowns, ablations, galleries."""

    n_gallery: int = _f(4, ge=1)
    lpips_weights: str = _f("", doc="local LPIPS backbone weights; '' = LPIPS not computed")
    inception_weights: str = _f("", doc="local FID Inception weights; '' = FID/KID not computed")
    real_max_pairs: int = _f(
        0, ge=0, doc="real pairs per subset through tryon try-on, and real test pairs measured; 0 = all"
    )
    samples_root: str = _f(
        "../shared/data/vton-samples", doc="VITON-HD / Dress Code samples (flat layout) scored as real.*"
    )
    viton_max_pairs: int = _f(
        200, ge=0, doc="VITON benchmark: test ids scored, evenly spaced over the 2,032; 0 = all"
    )
    unpaired_max_pairs: int = _f(
        60, ge=0, doc="VITON unpaired figures: clean test pairs scored, evenly spaced over the 457; 0 = all"
    )
    parser: str = _f(
        "models/parser.pt",
        doc="human parser that reads the garment's shape off each unpaired try-on (models/PARSER.md)",
    )
    realism_folds: int = _f(5, ge=2, doc="cross-validation folds of the realism critic (two-sample test)")


@dataclass(frozen=True)
class Params:
    """The whole ``params.yaml``."""

    base: BaseConfig
    prepare: PrepareConfig
    encode: EncodeConfig
    contour: ContourConfig
    warp: WarpConfig
    train: TrainConfig
    evaluate: EvaluateConfig

    def section(self, slug: str) -> Any:
        return getattr(self, SLUG_TO_FIELD[slug])


#: stage slug (= notebook name = dvc stage = params section = output folder) -> Params field
SECTIONS: dict[str, tuple[str, type]] = {
    "base": ("base", BaseConfig),
    "01_prepare": ("prepare", PrepareConfig),
    "02_encode": ("encode", EncodeConfig),
    "03_contour": ("contour", ContourConfig),
    "04_warp": ("warp", WarpConfig),
    "05_train": ("train", TrainConfig),
    "06_evaluate": ("evaluate", EvaluateConfig),
}
SLUG_TO_FIELD = {slug: name for slug, (name, _) in SECTIONS.items()}
STAGES = [s for s in SECTIONS if s != "base"]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def _check_value(where: str, value: Any, tp: Any, meta: dict) -> Any:
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed or type(value) is not type(allowed[0]):
            raise ParamsError(f"{where}: expected one of {list(allowed)}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(tp):
            try:
                return _check_value(where, value, arg, meta)
            except ParamsError:
                pass
        raise ParamsError(f"{where}: expected {tp}, got {value!r}")
    if origin is list:
        (item_tp,) = get_args(tp)
        if not isinstance(value, list):
            raise ParamsError(f"{where}: expected a list, got {value!r}")
        return [_check_value(f"{where}[{i}]", v, item_tp, meta) for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{where}: expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{where}: expected a number, got {value!r}")
        value = float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise ParamsError(f"{where}: expected a string, got {value!r}")
        return value
    if meta.get("ge") is not None and value < meta["ge"]:
        raise ParamsError(f"{where}: must be >= {meta['ge']}, got {value!r}")
    if meta.get("gt") is not None and value <= meta["gt"]:
        raise ParamsError(f"{where}: must be > {meta['gt']}, got {value!r}")
    if meta.get("le") is not None and value > meta["le"]:
        raise ParamsError(f"{where}: must be <= {meta['le']}, got {value!r}")
    if meta.get("multiple_of") and value % meta["multiple_of"]:
        raise ParamsError(f"{where}: must be a multiple of {meta['multiple_of']}, got {value!r}")
    return value


def build_section(cls: type, raw: Any, where: str) -> Any:
    """Validate ``raw`` (a mapping from YAML) against dataclass ``cls``; missing keys take defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{where}: expected a mapping of keys, got {raw!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        if key not in fields:
            raise ParamsError(f"{where}.{key}: unknown key (expected one of: {', '.join(fields)})")
        kwargs[key] = _check_value(f"{where}.{key}", value, hints[key], dict(fields[key].metadata))
    return cls(**kwargs)


def parse_params(raw: Any, source: str = "params.yaml") -> Params:
    """Validate a whole parsed params mapping; ``source`` names the file in error messages."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    for key in raw:
        if key not in SECTIONS:
            raise ParamsError(f"{source}: {key}: unknown section (expected one of: {', '.join(SECTIONS)})")
    kwargs = {}
    for slug, (name, cls) in SECTIONS.items():
        kwargs[name] = build_section(cls, raw.get(slug), f"{source}: {slug}")
    return Params(**kwargs)


def read_yaml(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise ParamsError(f"{path}: not valid YAML{at}") from None


def load_params(path: str | os.PathLike = "params.yaml") -> Params:
    """Read and validate ``params.yaml``."""
    return parse_params(read_yaml(path), str(path))


def check_stage_inputs(stage: str, dvc_yaml: str | os.PathLike = "dvc.yaml") -> None:
    """Every dependency of ``stage`` in ``dvc_yaml`` exists (paths relative to its folder); else a
    :class:`ParamsError` naming the first missing file and the stage whose output it is."""
    stages = read_yaml(dvc_yaml).get("stages", {})
    if stage not in stages:
        raise ParamsError(f"{dvc_yaml}: no stage {stage!r} (expected one of: {', '.join(stages)})")
    root = Path(dvc_yaml).parent

    def outs(spec: dict) -> list[str]:
        items = (spec.get("outs") or []) + (spec.get("metrics") or [])
        return [next(iter(o)) if isinstance(o, dict) else str(o) for o in items]

    for dep in stages[stage].get("deps") or []:
        if (root / dep).exists():
            continue
        maker = next(
            (s for s, spec in stages.items() if any(dep == o or dep.startswith(f"{o}/") for o in outs(spec))),
            None,
        )
        hint = f", an output of stage {maker} (run `dvc repro {maker}`)" if maker else ""
        raise ParamsError(f"{dep}: input of stage {stage} not found{hint}")


def to_dict(params: Params) -> dict[str, dict]:
    """Params back to the ``params.yaml`` layout (slug -> mapping)."""
    return {slug: dataclasses.asdict(getattr(params, name)) for slug, (name, _) in SECTIONS.items()}


def merge(base: dict, override: dict) -> dict:
    """Recursive dict merge: ``override`` wins; sections are merged key by key."""
    out = dict(base)
    for k, v in override.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(fh)`` on a temp file beside ``path``, fsync, then rename it into place: readers see
    the old file or the new one, never a half-written one (also after SIGKILL)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) atomically, see :func:`atomic_write`."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def apply_profile(profile: str | os.PathLike, params_path: str | os.PathLike = "params.yaml") -> Params:
    """Merge a profile of overrides into ``params_path`` (validated, atomic). Returns the result."""
    override = read_yaml(profile)
    if not isinstance(override, dict):
        raise ParamsError(f"{profile}: expected a mapping of sections")
    parse_params(merge({}, override), str(profile))  # the profile alone must use known keys
    merged = merge(read_yaml(params_path), override)
    params = parse_params(merged, f"{params_path} + {profile}")
    atomic_write_text(params_path, dump_yaml(params))
    return params


def dump_yaml(params: Params) -> str:
    """``params.yaml`` text for ``params``: every key, with its documentation as a comment."""
    lines = [
        "# Hyperparameters of every stage (one section per stage slug; validated by tryon/config.py).",
        "# `python -m tryon.config dump` rewrites this file with every key and its documentation.",
        "",
    ]
    for slug, (name, cls) in SECTIONS.items():
        lines.append(f"{slug}:  # {(cls.__doc__ or '').strip().splitlines()[0]}")
        section = getattr(params, name)
        for f in dataclasses.fields(cls):
            value = yaml.safe_dump(getattr(section, f.name), default_flow_style=True).strip()
            value = value.removesuffix("\n...").strip()
            doc = f.metadata.get("doc", "")
            lines.append(f"  {f.name}: {value}" + (f"  # {doc}" if doc else ""))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tryon.config", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate a params file")
    c.add_argument("params", nargs="?", default="params.yaml")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing when the file is valid")
    c.add_argument(
        "--stage", help="also check that every input file of this dvc.yaml stage exists (before it starts)"
    )
    c.add_argument("--dvc-yaml", default="dvc.yaml", help="the pipeline file that --stage reads")
    a = sub.add_parser("apply", help="merge a profile of overrides into params.yaml")
    a.add_argument("profile")
    a.add_argument("--params", default="params.yaml")
    d = sub.add_parser("dump", help="rewrite params.yaml with every key (defaults filled in) and its doc")
    d.add_argument("params", nargs="?", default="params.yaml")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "check":
            load_params(args.params)
            if args.stage:
                check_stage_inputs(args.stage, args.dvc_yaml)
            if not args.quiet:
                print(f"{args.params}: ok")
        elif args.cmd == "dump":
            text = dump_yaml(load_params(args.params))
            if parse_params(yaml.safe_load(text)) != load_params(args.params):
                raise ParamsError(f"{args.params}: dump does not round-trip (a bug)")
            atomic_write_text(args.params, text)
            print(f"{args.params}: rewritten with every key")
        else:
            apply_profile(args.profile, args.params)
            print(f"{args.params}: applied {args.profile}")
    except ParamsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
