"""The real dev protocol: how the real-phase settings of ``params.yaml`` were chosen.

The real test split is read once, in stage 06. Choices about the real phase (its steps, weights, the
fusion's inputs, inference options) are made on a **dev** split carved out of the real *train* persons
instead: ``n_dev`` persons with a paired pair (default 9 of the 28 of ``../shared``), drawn with a fixed
seed, are held out; stage 05 runs on the other train pairs (synthetic phase, then the real phase; no
trained ablation rows), and the held-out pairs are measured by stage 06's own code
(:func:`tryon.stages.evaluate._real_pair`: network output at the photo's size, no paste-back).

Each run lives in its own folder (default ``/tmp/tryon-dev/<name>``): ``data/01_prepare`` links to the
repository's prepared data except ``real_split.csv`` (the dev split: held-out persons are ``test``, the
real test persons ``heldout``, read by nobody), ``data/02_encode``-``04_warp`` link to the repository's
pretrained stages, ``data/05_train`` is the run's own. Needs a ``dvc repro 04_warp`` first.

    python -m tryon.stages.realdev train NAME [05_train.KEY=VALUE ...]   # 10-13 min on 2 CPU cores
    python -m tryon.stages.realdev eval NAME                             # one line of means, a CSV per pair,
                                                                         # the garment error by source
    python -m tryon.stages.realdev eval NAME --fusion fill_ramp=1 --tag _soft   # a photo-size setting
    python -m tryon.stages.realdev compare base,base_s1 new,new_s1               # two recipes, each
                                                                         # trained with one or more seeds

A recipe's dev figures move from one training to the next (``base.seed``; at commit c9faa53 the
shipped recipe trained with seeds 0 and 1 gave warp IoU 0.669 / 0.680, garment error 0.082 / 0.079,
sharpness 0.991 / 0.970), so ``compare`` reads a difference against that seed spread (:func:`compare`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tryon import config, paths
from tryon.data.labels import ARMS, CIHP

#: the per-pair figures :func:`evaluate` reports (:func:`tryon.eval.photo.photo_figures` + IoU)
FIGURES = ("ssim_net", "garment_ssim", "garment_edge_ssim", "l1", "sharpness_ratio", "warp_mask_iou")
DEFAULT_DIR = Path("/tmp/tryon-dev")
#: the synthetic dev figures :func:`evaluate_synthetic` returns, and which of them are lower-is-better
SYNTHETIC = ("ssim", "identity_ssim", "skin_l1")
LOWER = ("l1", "skin_l1", "real_skin_l1")
#: the photo's skin that :func:`skin_not_kept` takes off the kept region (as 05's ``skin_drop``)
SKIN = (*ARMS, CIHP.TORSO_SKIN)
#: the fusion's settings that act at the photo's size only, so ``eval --fusion KEY=VALUE`` may change them
INFERENCE_SETTINGS = ("kept_gate", "fill_ramp")


def check_fusion_settings(fusion: dict) -> None:
    """``eval --fusion`` settings: known keys (:data:`INFERENCE_SETTINGS`) with values the fusion accepts
    (:mod:`tryon.nets.fusion`'s own checks); a one-line ``ValueError`` otherwise."""
    from tryon.nets.fusion import check_fill_ramp, check_kept_gate

    checks = dict(zip(INFERENCE_SETTINGS, (check_kept_gate, check_fill_ramp), strict=True))
    for key, value in fusion.items():
        if key not in checks:
            raise ValueError(f"--fusion {key}: expected one of {list(INFERENCE_SETTINGS)}")
        checks[key](value)


def dev_split(table: pd.DataFrame, n_dev: int = 9, seed: int = 0) -> pd.DataFrame:
    """The real split table with ``n_dev`` train persons (those with a paired pair; by (subset, person),
    shuffled with ``seed``) moved to ``test`` and the real test rows to ``heldout``. Every row of a picked
    person moves, so no person is on both sides."""
    out = table.copy()
    out.loc[out["split"] == "test", "split"] = "heldout"
    paired = out[(out["split"] == "train") & (out["mode"] == "paired")]
    persons = sorted(set(zip(paired["subset"], paired["person_id"], strict=True)))
    if not 0 < n_dev < len(persons):
        raise ValueError(
            f"n_dev: expected 1..{len(persons) - 1} (train persons with a paired pair), got {n_dev}"
        )
    order = np.random.default_rng(seed).permutation(len(persons))
    picked = {persons[i] for i in order[:n_dev]}
    held = [(s, p) in picked for s, p in zip(out["subset"], out["person_id"], strict=True)]
    out.loc[held, "split"] = "test"
    return out


def make_root(run_dir: Path, repo: Path, n_dev: int = 9, seed: int = 0) -> Path:
    """The run's folder (see the module doc); returns it."""
    from tryon.data.real import read_split

    prepared = repo / "data" / "01_prepare"
    if not (repo / "data" / "04_warp" / "model.pt").is_file():
        raise FileNotFoundError(
            f"{repo / 'data' / '04_warp' / 'model.pt'}: not found (run dvc repro 04_warp)"
        )
    (run_dir / "data" / "01_prepare").mkdir(parents=True, exist_ok=True)
    for stage in ("02_encode", "03_contour", "04_warp"):
        link = run_dir / "data" / stage
        if not link.exists():
            link.symlink_to((repo / "data" / stage).resolve())
    for f in prepared.iterdir():
        link = run_dir / "data" / "01_prepare" / f.name
        if f.name != "real_split.csv" and not link.exists():
            link.symlink_to(f.resolve())
    split = dev_split(read_split(prepared / "real_split.csv"), n_dev, seed)
    config.atomic_write_text(run_dir / "data" / "01_prepare" / "real_split.csv", split.to_csv(index=False))
    return run_dir


def params_with(repo: Path, overrides: list[str]) -> config.Params:
    """``params.yaml`` of ``repo`` with ``SECTION.KEY=VALUE`` overrides (YAML values, validated as
    params.yaml is) and no trained ablation rows."""
    raw = config.to_dict(config.load_params(repo / "params.yaml"))
    raw["05_train"]["ablation_steps"] = 0
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or section not in raw:
            raise ValueError(f"override {item!r}: expected SECTION.KEY=VALUE, e.g. 05_train.real_steps=300")
        raw[section][name] = yaml.safe_load(value)
    return config.parse_params(raw, "params.yaml + overrides " + " ".join(overrides))


def train(run_dir: Path, repo: Path, overrides: list[str], n_dev: int = 9, seed: int = 0) -> dict:
    """Stage 05 on the dev split's train pairs; writes ``train_metrics.json`` in the run's folder."""
    from tryon.stages.train import run

    params = params_with(repo, overrides)  # a bad override fails before any folder is made
    make_root(run_dir, repo, n_dev, seed)
    metrics = run(params, root=run_dir, progress=False)
    metrics["overrides"] = overrides
    config.atomic_write_text(run_dir / "train_metrics.json", json.dumps(metrics, default=str, indent=1))
    return metrics


def sharpness_split(
    output: np.ndarray, photo: np.ndarray, garment: np.ndarray, band: int = 4
) -> dict[str, float]:
    """The sharpness ratio of :func:`tryon.eval.photo.photo_figures` (the output's mean Sobel gradient over
    the photo's) on two parts of the photo's garment region ``garment`` bool [H, W]: ``sharp_edge``, the
    band ``band`` pixels wide inside its border (the garment's outline against skin and background, where
    the warp's placement decides), and ``sharp_inner``, the rest (the garment's own texture, folds,
    prints); ``edge_share``: the band's part of the photo's gradient in the region. ``output``, ``photo``
    uint8 [H, W, 3]. NaN for an empty part."""
    from scipy import ndimage

    from tryon.eval.photo import grey, sobel_magnitude

    inner = ndimage.binary_erosion(garment, iterations=band)
    edge = garment & ~inner
    out, ref = sobel_magnitude(grey(output)), sobel_magnitude(grey(photo))

    def ratio(part: np.ndarray) -> float:
        return float(out[part].sum() / ref[part].sum()) if part.any() and ref[part].sum() > 0 else math.nan

    total = ref[garment].sum()
    return {
        "sharp_inner": ratio(inner),
        "sharp_edge": ratio(edge),
        "edge_share": float(ref[edge].sum() / total) if total > 0 else math.nan,
    }


def evaluate(run_dir: Path, samples: Path, tag: str = "", fusion: dict | None = None) -> pd.DataFrame:
    """The dev pairs through the run's model (stage 06's code): one row per pair, written to
    ``eval<tag>.csv`` in the run's folder. ``fusion``: inference settings the fusion stores with its
    architecture, set for this evaluation (``{"fill_ramp": 1.0, "kept_gate": 0.0}``: both gates soft,
    as trained)."""
    from tryon.data.labels import category_garment_mask
    from tryon.infer.batch import read_pair
    from tryon.infer.model import TryOn
    from tryon.stages.evaluate import _real_pair, real_test_records

    check_fusion_settings(fusion or {})
    checkpoint = run_dir / "data" / "05_train" / "model.pt"
    if not checkpoint.is_file():
        raise FileNotFoundError(
            f"{checkpoint}: not found (run: python -m tryon.stages.realdev train {run_dir.name})"
        )
    if not samples.is_dir():
        raise FileNotFoundError(f"{samples}: the real samples are not there (the dev pairs are read from it)")
    records, _ = real_test_records(samples, run_dir / "data" / "01_prepare" / "real_split.csv")
    models = {"paired": TryOn(checkpoint, "cpu")}
    for key, value in (fusion or {}).items():
        setattr(models["paired"].model.fusion, key, value)
    rows = []
    for group, rec, text in records:
        images, fig = _real_pair(models, rec, text)
        by_source = fig.get("paired_by_source", {})  # trunk_compose: the garment error by source
        _, gt_parse, _ = read_pair(models["paired"], rec, text=text or None)
        split = sharpness_split(
            images["paired"], images["person"], category_garment_mask(gt_parse, rec.category)
        )
        rows.append(
            {
                "group": group,
                "person": rec.person_id,
                **{k: fig["paired"][k] for k in FIGURES},
                **split,
                **by_source,
            }
        )
    df = pd.DataFrame(rows)
    config.atomic_write_text(run_dir / f"eval{tag}.csv", df.to_csv(index=False))
    return df


@contextlib.contextmanager
def skin_not_kept():
    """Within it, the fusion keeps no arm or torso skin of the photo (:func:`tryon.data.labels.keep_mask`
    is replaced by one without :data:`SKIN`, for the network's input and the composition at the photo's
    size alike), so it must paint that skin, as where a shorter garment uncovers it: what 05's
    ``skin_drop`` trains (:func:`tryon.train.step.drop_skin`). A dev measurement only."""
    from tryon.data import labels

    kept = labels.keep_mask

    def keep_mask(parse: np.ndarray, category: str = "upper_body") -> np.ndarray:
        return kept(parse, category) & ~labels.isin(np.asarray(parse), SKIN)

    labels.keep_mask = keep_mask
    try:
        yield
    finally:
        labels.keep_mask = kept


def evaluate_skin(
    run_dir: Path, samples: Path, tag: str = "", fusion: dict | None = None, min_pixels: int = 500
) -> pd.DataFrame:
    """Real skin painting on the dev pairs: each paired pair tried on with its arm and torso skin not kept
    (:func:`skin_not_kept`); ``real_skin_l1`` is the mean |output - photo| on those skin pixels (RGB, on
    stage 06's [-1, 1] scale, as the synthetic ``skin_l1``): the photo is their truth. The real analogue
    of the synthetic ``skin_l1``, which paired real pairs cannot measure otherwise (their old garment is
    the new one, so a fusion that paints garment colour everywhere is not caught). Pairs with fewer than
    ``min_pixels`` skin pixels are left out. ``fusion``: as :func:`evaluate`'s. Written to
    ``eval_skin<tag>.csv`` in the run's folder."""
    from tryon.data import labels
    from tryon.infer.batch import read_pair
    from tryon.infer.model import TryOn
    from tryon.stages.evaluate import real_test_records

    records, _ = real_test_records(samples, run_dir / "data" / "01_prepare" / "real_split.csv")
    model = TryOn(run_dir / "data" / "05_train" / "model.pt", "cpu")
    for key, value in (fusion or {}).items():
        setattr(model.model.fusion, key, value)
    rows = []
    for group, rec, text in records:
        inp, gt_parse, _ = read_pair(model, rec, text=text or None)
        skin = labels.isin(gt_parse, SKIN)
        if skin.sum() < min_pixels:
            continue
        with skin_not_kept():
            out = model.predict(inp, paste_back=False).network
        err = np.abs(out.astype(np.float64) - inp.person.astype(np.float64)) / 127.5
        rows.append({"group": group, "person": rec.person_id, "skin_px": int(skin.sum()),
                     "real_skin_l1": float(err[skin].mean())})  # fmt: skip
    df = pd.DataFrame(rows, columns=["group", "person", "skin_px", "real_skin_l1"])
    config.atomic_write_text(run_dir / f"eval_skin{tag}.csv", df.to_csv(index=False))
    return df


def evaluate_synthetic(run_dir: Path, image_size: int) -> dict[str, float]:
    """The run's model on the synthetic **dev** split (stage 06's per-sample code): ``ssim`` and
    ``identity_ssim`` on the paired samples, ``skin_l1`` on the unpaired ones (each dev person in the next
    sample's garment, ground truth rendered). Means."""
    import torch

    from tryon.data.dataset import TryOnDataset, UnpairedSynthetic
    from tryon.stages.evaluate import load_model, per_sample_metrics
    from tryon.stages.train import CodedDataset

    model, vocab = load_model(run_dir / "data" / "05_train" / "model.pt", torch.device("cpu"))
    raw = TryOnDataset(run_dir / "data" / "01_prepare", "dev", image_size)
    paired, _ = per_sample_metrics(model, CodedDataset(raw, vocab), torch.device("cpu"))
    unpaired, _ = per_sample_metrics(model, CodedDataset(UnpairedSynthetic(raw), vocab), torch.device("cpu"))
    out = {k: float(np.mean([r[k] for r in paired])) for k in ("ssim", "identity_ssim")}
    out["skin_l1"] = float(np.nanmean([r["skin_l1"] for r in unpaired]))
    return out


def _better(figure: str, a: float, b: float) -> bool:
    """Is ``a`` a better value of ``figure`` than ``b``? Lower for :data:`LOWER`, closer to 1 for the
    sharpness ratio, higher for the others (stage 06's :func:`tryon.stages.evaluate.better`)."""
    from tryon.stages.evaluate import better

    return a < b if figure in LOWER else better(figure, a, b)


def read_run(run_dir: Path, tag: str = "") -> tuple[pd.DataFrame, dict[str, float]]:
    """A run's dev figures as ``eval`` wrote them: the per-pair table (``eval<tag>.csv``) and a dict of the
    synthetic dev means (``eval<tag>_synthetic.json``) and the per-pair ``real_skin_l1``
    (``eval_skin<tag>.csv``, :func:`evaluate_skin`); what an older run's evaluation lacks is left out."""
    table = run_dir / f"eval{tag}.csv"
    if not table.is_file():
        raise FileNotFoundError(
            f"{table}: not found (run: python -m tryon.stages.realdev eval {run_dir.name})"
        )
    df = pd.read_csv(table)
    missing = [c for c in ("group", "person", *FIGURES) if c not in df]
    if missing:
        raise ValueError(f"{table}: expected the columns of realdev eval, missing {missing}")
    syn = run_dir / f"eval{tag}_synthetic.json"
    extra = json.loads(syn.read_text()) if syn.is_file() else {}
    skin = run_dir / f"eval_skin{tag}.csv"  # evaluate_skin: one figure per pair (older runs lack it)
    if skin.is_file():
        extra["real_skin_l1"] = pd.read_csv(skin)["real_skin_l1"].to_numpy()
    return df, extra


def compare(runs_a: list[Path], runs_b: list[Path], tag: str = "") -> pd.DataFrame:
    """Recipe B against recipe A, each given as one or more runs (the same recipe trained with other seeds)
    evaluated on the same dev pairs. One row per figure (:data:`FIGURES`, then ``real_skin_l1`` and
    :data:`SYNTHETIC` where every run has them): each recipe's mean (of its runs' means) and seed spread
    (max - min of its runs' means; NaN with one run), ``diff`` (B - A), ``b_better_pairs`` (on how many
    dev pairs B is better, each pair's figure averaged over a recipe's runs) and ``read``: ``B better`` /
    ``A better`` where the difference is larger than both spreads, ``within the seed spread`` otherwise, ``no seed spread`` with one run a
    side (a single training decides nothing: ``real_jitter``'s gain changed sign between two trainings)."""
    a, b = [read_run(d, tag) for d in runs_a], [read_run(d, tag) for d in runs_b]
    pairs = [tuple(zip(df["group"], df["person"], strict=True)) for df, _ in a + b]
    if len(set(pairs)) != 1:
        raise ValueError(
            "compare: the runs were evaluated on different dev pairs (another --n-dev or --seed?)"
        )
    extra = [k for k in ("real_skin_l1", *SYNTHETIC) if all(k in x for _, x in a + b)]
    if "real_skin_l1" in extra and len({len(x["real_skin_l1"]) for _, x in a + b}) != 1:
        raise ValueError(f"compare: the runs' eval_skin{tag}.csv hold different pairs (evaluate them again)")
    rows = []
    for k in list(FIGURES) + extra:
        side = {}
        for name, runs in (("a", a), ("b", b)):
            values = [df[k].to_numpy() if k in FIGURES else np.atleast_1d(x[k]) for df, x in runs]
            means = np.array([v.mean() for v in values])
            per_pair = None if k in SYNTHETIC else np.mean(values, axis=0)
            side[name] = (means.mean(), np.ptp(means) if len(means) > 1 else np.nan, per_pair)
        (ma, sa, pa), (mb, sb, pb) = side["a"], side["b"]
        spread = np.nanmax([sa, sb]) if not (np.isnan(sa) and np.isnan(sb)) else np.nan
        if np.isnan(spread):
            read = "no seed spread"
        elif abs(mb - ma) <= spread:
            read = "within the seed spread"
        else:
            read = "B better" if _better(k, mb, ma) else "A better"
        wins = "" if pa is None else f"{sum(_better(k, y, x) for x, y in zip(pa, pb, strict=True))}/{len(pa)}"
        rows.append({"figure": k, "a": ma, "a_spread": sa, "b": mb, "b_spread": sb, "diff": mb - ma,
                     "b_better_pairs": wins, "read": read})  # fmt: skip
    return pd.DataFrame(rows).set_index("figure")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tryon.stages.realdev", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("train", "eval", "compare"))
    ap.add_argument(
        "name",
        help=f"the run's folder under --dir ({DEFAULT_DIR}); compare: recipe A's runs, comma-separated",
    )
    ap.add_argument(
        "overrides", nargs="*", help="train: SECTION.KEY=VALUE params overrides; compare: recipe B's runs"
    )
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--n-dev", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="", help="eval: suffix of the CSV name")
    ap.add_argument(
        "--fusion",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"eval: a photo-size setting of the fusion for this evaluation, one of {list(INFERENCE_SETTINGS)}",
    )
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, ValueError) as e:  # ValueError: ParamsError, DataError, a bad override
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "compare":
        if len(args.overrides) != 1:
            raise ValueError("compare: expected two recipes, e.g. compare base,base_s1 new,new_s1")
        a, b = ([args.dir / n for n in arg.split(",") if n] for arg in (args.name, args.overrides[0]))
        table = compare(a, b, args.tag)
        print(f"A = {args.name}, B = {args.overrides[0]} (dev pairs; spread: max - min over a recipe's runs)")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
        return 0
    run_dir = args.dir / args.name
    if args.command == "train":
        m = train(run_dir, paths.ROOT, args.overrides, args.n_dev, args.seed)
        real = m.get("real_phase")
        print(
            f"{args.name}: trained in {m['seconds']} s + {real['seconds'] if isinstance(real, dict) else real}"
        )
        return 0
    fusion = dict(_key_value(kv) for kv in args.fusion)
    df = evaluate(run_dir, paths.SHARED_SAMPLES, args.tag, fusion)
    print(df[["group", "person", *FIGURES]].round(3).to_string(index=False))
    means = " ".join(f"{k} {df[k].mean():.4f}" for k in FIGURES)
    print(f"{args.name}{args.tag}: {len(df)} real dev pairs, means: {means}")
    split = " ".join(f"{k} {df[k].mean():.4f}" for k in ("sharp_inner", "sharp_edge", "edge_share"))
    print(f"{args.name}{args.tag}: the sharpness ratio inside the garment and on its 4-px edge band: {split}")
    if "share_warped" in df:
        from tryon.eval.sources import by_source_table

        print(f"{args.name}{args.tag}: the garment error by source (means over the pairs):")
        print(by_source_table(df.drop(columns=["group", "person"]).mean().to_dict()).round(4).to_string())
    size = config.load_params(paths.ROOT / "params.yaml").base.image_size
    skin = evaluate_skin(run_dir, paths.SHARED_SAMPLES, args.tag, fusion)
    print(
        f"{args.name}{args.tag}: real skin painted where the arm and torso skin is not kept, {len(skin)} dev pairs: "
        f"real_skin_l1 {skin['real_skin_l1'].mean():.4f}"
    )
    synthetic = evaluate_synthetic(run_dir, size)
    config.atomic_write_text(run_dir / f"eval{args.tag}_synthetic.json", json.dumps(synthetic, indent=1))
    syn = " ".join(f"{k} {v:.4f}" for k, v in synthetic.items())
    print(f"{args.name}{args.tag}: synthetic dev, means: {syn}")
    return 0


def _key_value(text: str) -> tuple[str, float]:
    key, _, value = text.partition("=")
    try:
        return key, float(value)
    except ValueError:
        raise ValueError(f"--fusion {text}: expected KEY=NUMBER, e.g. fill_ramp=1") from None


if __name__ == "__main__":
    sys.exit(main())
