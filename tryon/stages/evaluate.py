"""Stage 06_evaluate: metrics on the synthetic test split, breakdowns, ablations, galleries.

Ablations, two kinds, every row with a bootstrap 95% interval per figure (``<figure>_ci95``) and a
verdict against its reference row (:func:`verdicts`: better / worse only when the intervals are apart):

- **test-time** (``no_text``, ``trunk_guided_warp``): the shipped weights with the text code zeroed, or
  with the warp guided by the trunk map instead of the generated contour image. They show how much the
  trained network relies on the text and on the contour; stage 04's fair ablation retrains the warp.
- **trained alike** (:mod:`tryon.stages.ablations`): one network per row on a short common schedule,
  read against ``full_short`` (the shipped recipe on that schedule): ``method_only``, ``no_style``,
  ``style_gram``, and a second seed of the short recipe with its own test-time ablations.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch

from tryon import paths, runtime
from tryon.config import Params
from tryon.data.dataset import TryOnDataset, UnpairedSynthetic
from tryon.data.io import DataError
from tryon.eval import metrics as ev
from tryon.stages.train import CodedDataset
from tryon.train.loop import collate, to_device
from tryon.train.step import forward_batch

SLUG = "06_evaluate"
GROUPS = ("body_type", "build", "garment_type")
METRICS = ("ssim", "psnr", "l1", "epe_px", "warp_mask_iou", "contour_iou", "identity_ssim", "skin_l1")
#: ``skin_l1``: mean |try-on - truth| on the pixels that are garment in the person photo and arm or torso
#: skin in the truth (where a shorter garment uncovers skin). Only unpaired pairs have such pixels, so
#: every row's ``skin_l1`` is measured on the unpaired pairs of the same test persons (its ``_unpaired``
#: twin, or an unpaired pass of a trained row).
ABLATIONS = {
    "full": {},
    "no_text": {"zero_text": True},
    "trunk_guided_warp": {"warp_guide": "trunk"},
}


def load_model(path: Path, device: torch.device):
    """(model in eval mode, vocabulary) from a ``05_train/model.pt``; one-line error on a wrong file
    (see :func:`tryon.infer.model.load_model`)."""
    from tryon.infer.model import load_model as load

    model, vocab, _ = load(path, device)
    return model, vocab


@torch.no_grad()
def per_sample_metrics(model, dataset, device, batch_size: int = 8, **forward_kw) -> tuple[list[dict], dict]:
    """One row per test sample (ids, attributes, every metric) and the outputs kept for galleries."""
    rows, keep = [], {"tryon": [], "warped": [], "contour": []}
    for start in range(0, len(dataset), batch_size):
        idx = list(range(start, min(start + batch_size, len(dataset))))
        b = to_device(collate([dataset[i] for i in idx]), device)
        out = forward_batch(model, b, **forward_kw)
        worn = b["worn_mask"]
        cols = {
            "ssim": ev.ssim(out["tryon"], b["person"]),
            "psnr": ev.psnr(out["tryon"], b["person"]),
            "l1": ev.l1(out["tryon"], b["person"]),
            "epe_px": ev.end_point_error(out["grid"], b["gt_grid"], b["flow_valid"]),
            "warp_mask_iou": ev.mask_iou(out["warped_mask"], worn),
            "contour_iou": [
                v if h else math.nan
                for v, h in zip(
                    ev.silhouette_iou(out["contour"], b["contour"]), b["has_contour"].tolist(), strict=True
                )
            ],
            "identity_ssim": ev.ssim(out["tryon"], b["person"], b["trunk_mask"]),
        }
        if "skin_gain" in b:
            cols["skin_l1"] = ev.masked_l1(out["tryon"], b["person"], b["skin_gain"])
        for j in range(len(idx)):
            row = {"id": b["id"][j], **{g: b[g][j] for g in GROUPS}}
            row.update({k: float(v[j]) for k, v in cols.items()})
            rows.append(row)
        for k in keep:
            keep[k].append(out[k].cpu())
    return rows, {k: torch.cat(v) for k, v in keep.items()}


def run(params: Params, root: Path | None = None) -> tuple[dict, dict]:
    """Evaluate ``data/05_train/model.pt`` on the test split. Returns (metrics, extras for the figures)."""
    root = root or paths.ROOT
    runtime.set_threads(params.base.num_threads)
    device = runtime.resolve_device(params.base.device)
    model, vocab = load_model(root / "data" / "05_train" / "model.pt", device)
    raw = TryOnDataset(root / "data" / "01_prepare", "test", params.base.image_size)
    test = CodedDataset(raw, vocab)
    w = params.evaluate.__dict__
    results, extras = {}, {}
    for name, kw in ABLATIONS.items():
        rows, outs = per_sample_metrics(model, test, device, **kw)
        results[name] = rows
        extras[name] = outs
    # unpaired: each test person in the next sample's garment, ground truth rendered (procedural data)
    unpaired_note = "each test person with the next test sample's garment, ground truth rendered"
    try:
        unpaired = CodedDataset(UnpairedSynthetic(raw), vocab)
    except DataError as e:
        unpaired, unpaired_note = None, f"not run: {e}"
    if unpaired is not None:
        unpaired = [unpaired[i] for i in range(len(unpaired))]  # rendered once, read by every row
        for name, kw in ABLATIONS.items():
            rows, outs = per_sample_metrics(model, unpaired, device, **kw)
            results[f"{name}_unpaired"] = rows
            extras[f"{name}_unpaired"] = outs
    full = results["full"]
    metrics = {
        "n_test": len(full),
        "headline": ev.summarise(full, [], METRICS, ci=True)["overall"],
        "full": ev.summarise(full, GROUPS, METRICS),
        "ablations": {
            name: ev.summarise(rows, [], METRICS, ci=True)["overall"] for name, rows in results.items()
        },
        "unpaired": unpaired_note,
        **perceptual(model, test, extras["full"]["tryon"], w, device),
        "baselines": synthetic_baselines(model, test, device),
        "ssim_settings": "skimage structural_similarity, [0,1] RGB, gaussian sigma 1.5, data_range 1",
    }
    abl = metrics["ablations"]
    for name in ABLATIONS:  # skin_l1 exists on unpaired pairs only: each row carries its twin's
        for k in ("skin_l1", "skin_l1_ci95"):
            if k in abl.get(f"{name}_unpaired", {}):
                abl[name][k] = abl[f"{name}_unpaired"][k]
    metrics["headline"] = dict(abl["full"])
    # Same weights for all three (no retraining): this measures how much the trained network relies on
    # the text and on the contour. The fair test of the claim (a warp retrained on trunk maps) is
    # stage 04's, read below.
    metrics["ablation_protocol"] = "same trained weights, inputs changed at test time (no retraining)"
    metrics["contour_guided_beats_trunk_guided"] = bool(
        abl["full"]["epe_px"] < abl["trunk_guided_warp"]["epe_px"]
        and abl["full"]["warp_mask_iou"] > abl["trunk_guided_warp"]["warp_mask_iou"]
    )
    metrics["ablations"] |= trained_ablations(root, test, device, unpaired)
    metrics["ablation_verdicts"] = verdicts(metrics["ablations"])
    metrics["fair_ablation"] = fair_ablation(root)
    metrics["forgetting"] = forgetting(root, test, metrics["ablations"]["full"], device)
    extras["rows"] = results
    extras["test"] = test
    return metrics, extras


def trained_ablations(root: Path, test, device, unpaired=None) -> dict[str, dict]:
    """``ablations.<row>`` of the rows stage 05 trained alike (:mod:`tryon.stages.ablations`), on the
    synthetic test split (``skin_l1`` on ``unpaired``, the same persons in other garments, when given).
    The two seeds of the short shipped recipe also run the test-time ablations: ``no_text_short``,
    ``trunk_guided_warp_short`` and their ``_seed1`` twins."""
    from tryon.stages.ablations import ROWS, SEEDED, SUBDIR

    out = {}
    for name in ROWS:
        path = root / "data" / "05_train" / SUBDIR / f"{name}.pt"
        if not path.is_file():
            continue
        model, _ = load_model(path, device)
        runs = {name: {}}
        if name in SEEDED:
            runs |= {f"{a}{name.removeprefix('full')}": kw for a, kw in ABLATIONS.items() if a != "full"}
        for row, kw in runs.items():
            rows, _ = per_sample_metrics(model, test, device, **kw)
            out[row] = ev.summarise(rows, [], METRICS, ci=True)["overall"]
            if unpaired is not None:
                rows, _ = per_sample_metrics(model, unpaired, device, **kw)
                out[row] |= {k: v for k, v in ev.summarise(rows, [], ["skin_l1"], ci=True)["overall"].items()}
    return out


#: synthetic figures where lower is better
SYNTHETIC_LOWER = ("l1", "epe_px", "skin_l1")


def reference_row(row: str) -> str:
    """The row an ablation row is read against: ``full_short`` (``_seed1``: its seed-1 twin) for the
    trained rows and the short-schedule test-time ablations, ``full`` (or ``full_unpaired``) else."""
    from tryon.stages.ablations import ROWS

    if row.endswith("_seed1") and row not in ROWS:
        return "full_short_seed1"
    if row.endswith("_short") or row in ROWS:
        return "full_short"
    return "full_unpaired" if row.endswith("_unpaired") else "full"


def verdicts(ablations: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Per row and figure, against :func:`reference_row`: ``better`` / ``worse`` only when the two
    bootstrap 95% intervals do not overlap, else ``within_ci`` (not a difference these test samples
    can tell)."""
    out = {}
    for row, figs in ablations.items():
        ref = ablations.get(reference_row(row))
        if ref is None or ref is figs:
            continue
        out[row] = {}
        for m in METRICS:
            a, b = figs.get(f"{m}_ci95"), ref.get(f"{m}_ci95")
            if a is None or b is None or any(math.isnan(x) for x in (*a, *b)):
                continue
            if not ev.ci_apart(a, b):
                out[row][m] = "within_ci"
            else:
                out[row][m] = "better" if (figs[m] < ref[m]) == (m in SYNTHETIC_LOWER) else "worse"
    return out


@torch.no_grad()
def perceptual(model, test, tryon: torch.Tensor, w: dict, device) -> dict:
    """LPIPS (paired), FID and KID of the test try-ons against the test photos, and FID/KID of
    unpaired try-ons (each person with the next sample's garment) against the same photos, through
    :mod:`tryon.eval.perceptual` when local weights are given; otherwise the "not computed" strings."""
    from tryon.eval.perceptual import perceptual_metrics

    real = torch.stack([test[i]["person"] for i in range(len(test))])
    out = perceptual_metrics(tryon, real, w["lpips_weights"], w["inception_weights"], device=device)
    if isinstance(out["fid"], float):
        unpaired = []
        for start in range(0, len(test), 8):
            idx = list(range(start, min(start + 8, len(test))))
            b = to_device(collate([test[i] for i in idx]), device)
            nxt = to_device(collate([test[(i + 1) % len(test)] for i in idx]), device)
            unpaired.append(forward_batch(model, b, garment=nxt)["tryon"].cpu())
        u = perceptual_metrics(torch.cat(unpaired), real, "", w["inception_weights"], device=device)
        out["unpaired_fid"], out["unpaired_kid"] = u["fid"], u["kid"]
    else:
        out["unpaired_fid"], out["unpaired_kid"] = out["fid"], out["kid"]
    return out


def had_real_phase(synthetic_only: Path | None, shipped: Path) -> bool:
    """Is there a synthetic-only checkpoint whose weights differ from the shipped model's? (05 writes
    it before its real phase; without that phase the two are the same weights.)"""
    if synthetic_only is None or not Path(synthetic_only).is_file():
        return False
    a = torch.load(synthetic_only, map_location="cpu", weights_only=False)["model"]
    b = torch.load(shipped, map_location="cpu", weights_only=False)["model"]
    return any(not torch.equal(a[k], b[k]) for k in a)


def forgetting(root: Path, test, shipped: dict, device) -> dict | str:
    """The synthetic test figures of the synthetic-only model (``05_train/synthetic_only.pt``) beside
    the shipped one's, and each relative change: does the real phase forget the synthetic task?"""
    from tryon.stages.train import SYNTHETIC_ONLY

    path = root / "data" / "05_train" / SYNTHETIC_ONLY
    if not had_real_phase(path, root / "data" / "05_train" / "model.pt"):
        return "not computed: 05_train ran no real phase (the shipped model is the synthetic-only one)"
    model, _ = load_model(path, device)
    rows, _ = per_sample_metrics(model, test, device)
    before = ev.summarise(rows, [], METRICS)["overall"]
    change = {
        m: (shipped[m] - before[m]) / abs(before[m]) if before[m] else math.nan
        for m in ("ssim", "psnr", "l1", "epe_px", "warp_mask_iou")
    }
    return {
        "synthetic_only": before,
        "shipped": {m: shipped[m] for m in before},
        "relative_change": change,
        # better or at most 5% worse on every figure (l1 and epe: lower is better)
        "within_5pct": bool(
            all(change[m] >= -0.05 for m in ("ssim", "psnr", "warp_mask_iou"))
            and all(change[m] <= 0.05 for m in ("l1", "epe_px"))
        ),
    }


def fair_ablation(root: Path) -> dict | str:
    """Stage 04's fair ablation (a warp trained on trunk maps vs the contour-guided one, each trained
    alike; see :func:`tryon.stages.warp.fair_ablation`), read from ``metrics/04_warp.json``."""
    import json

    path = root / "metrics" / "04_warp.json"
    if not path.is_file():
        return f"not available: {path.relative_to(root)} missing (run stage 04)"
    fair = json.loads(path.read_text()).get("fair_ablation")
    return fair if fair else "not run: 04_warp.ablation_trunk is false"


def real_samples(
    checkpoint: Path,
    out_dir: Path,
    samples: Path | None = None,
    device: str = "cpu",
    subsets: tuple[str, ...] = ("vitonhd", "dresscode"),
    max_pairs: int = 0,
) -> tuple[dict, dict]:
    """Run ``tryon try-on`` (:mod:`tryon.infer`) on every pair of the real VITON-HD and Dress Code
    samples (the first ``max_pairs`` of each subset when > 0), with their parse maps and, when
    mediapipe is installed, without them. Writes the try-ons
    (JPEG) and a ``summary.csv`` per subset and path under ``out_dir``.

    Returns (metrics: per subset and path, the mean/min face SSIM against the photo and, on paired
    pairs, the mean SSIM of the output and of the network's image alone against the photo;
    frames: the summary DataFrames, for the report)."""
    from tryon.infer import autoparse
    from tryon.infer.batch import dataset_records, run_pairs
    from tryon.infer.model import TryOn

    samples = Path(samples or paths.SHARED_SAMPLES)
    if not samples.is_dir():
        return {"skipped": f"no real samples at {samples}"}, {}
    model = TryOn(checkpoint, device)
    have_mp = autoparse.available()
    metrics: dict = {
        "text": "estimated from each person's parse map (the samples have no body-shape text)",
        "face_ssim": (
            "SSIM vs the input photo of the face pixels (dataset parse label face; Dress Code: head label "
            "above the neck keypoint) in their bounding box; face_crop_ssim: the raw bounding box"
        ),
        "paste_back": "off: the network output at the photo size (paste-back is an option, see tryon.infer.model)",
        "without_parse": "mediapipe" if have_mp else "not run: mediapipe env missing (make mediapipe)",
    }
    frames = {}
    for subset in subsets:
        if not (samples / subset).is_dir():
            continue
        recs = dataset_records(samples / subset, "all")
        recs = recs[:max_pairs] if max_pairs else recs
        for name, use_parse in (("with_parse", True), ("without_parse", False)):
            if not use_parse and not have_mp:
                continue
            mp = {"auto_parse_method": "mediapipe"}  # this stage's photo-only path (its label says so)
            df = run_pairs(model, recs, out_dir / subset / name, use_parse=use_parse, ext=".jpg", **mp)
            failed, df = df[df["status"] == "error"], df[df["status"] == "ok"].reset_index(drop=True)
            frames[(subset, name)] = df
            paired = df[df["mode"] == "paired"]
            metrics.setdefault(subset, {})[name] = {
                "n_pairs": len(df),
                "n_failed": len(failed),
                "failed": [f"{r.pair}: {r.error}" for r in failed.itertuples()],
                "n_paired": len(paired),
                "face_ssim_mean": float(df["face_ssim"].mean()),
                "face_ssim_min": float(df["face_ssim"].min()),
                "face_ssim_share_ge_0.95": float((df["face_ssim"] >= 0.95).mean()),
                "face_crop_ssim_mean": float(df["face_crop_ssim"].mean()),
                "face_ssim_network_mean": float(df["face_ssim_network"].mean()),
                "paired_ssim_vs_photo": float(paired["ssim_vs_photo"].mean()) if len(paired) else math.nan,
                "paired_ssim_vs_photo_network": (
                    float(paired["ssim_vs_photo_network"].mean()) if len(paired) else math.nan
                ),
                "seconds_per_pair": float(df["seconds"].mean()),
                "parse_source": sorted(set(df["parse_source"].str.split(" ").str[0]))[0],
                "same_size_as_photo": bool(df["same_size"].all()),
            }
    return metrics, frames


def gallery_indices(rows: list[dict], key: str = "ssim", n: int = 3) -> dict[str, list[int]]:
    """Indices of the best, median and worst samples by ``key`` (NaNs last)."""
    vals = np.array([r[key] if r[key] == r[key] else -np.inf for r in rows])
    order = np.argsort(-vals)
    mid = len(order) // 2
    return {
        "best": order[:n].tolist(),
        "median": order[max(0, mid - n // 2) : max(0, mid - n // 2) + n].tolist(),
        "worst": order[::-1][:n].tolist(),
    }


# --------------------------------------------------------------------------------------------
# Against network-free baselines (real photos and the synthetic test split)
# --------------------------------------------------------------------------------------------
#: figures where lower is better (``sharpness_ratio``: closer to 1; every other figure: higher)
LOWER_IS_BETTER = ("l1",)
#: the figures on which a try-on is read against the baselines (issue #18)
BEAT_FIGURES = ("ssim_net", "garment_ssim", "garment_edge_ssim", "l1", "sharpness_ratio")


def _means(rows: list[dict], ci: bool = False) -> dict:
    """Mean of each figure over ``rows`` (NaN-aware); with ``ci`` also ``<figure>_ci95``, a bootstrap
    95% interval over the pairs (:func:`tryon.eval.metrics.bootstrap_ci`)."""
    keys = list(rows[0].keys()) if rows else []
    with warnings.catch_warnings():  # a figure NaN on every row (a source that makes nothing) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        out: dict = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
    if ci:
        out |= {f"{k}_ci95": ev.bootstrap_ci([r[k] for r in rows]) for k in keys}
    return out


def real_test_records(samples: Path, split_csv: Path | None) -> tuple[list[tuple[str, object, str]], str]:
    """The real paired test pairs as (group, record, given body text or None: estimated again from the
    parse map, as in the split) and what they are: the test rows of
    the real split (``data/01_prepare/real_split.csv``) when it exists, else every paired pair of the
    flat samples (no real photo trained on). Group: ``vitonhd`` or ``dresscode_<category>``."""
    from tryon.data.real import read_split, record_of
    from tryon.infer.batch import dataset_records

    if split_csv is not None and Path(split_csv).is_file():
        df = read_split(split_csv)
        df = df[(df["split"] == "test") & (df["mode"] == "paired")]
        out = [
            (
                r.subset if r.subset == "vitonhd" else f"{r.subset}_{r.category}",
                record_of(r, samples),
                r.text if r.text_source == "given" else None,
            )
            for r in df.itertuples()
        ]
        return (
            out,
            f"the paired test pairs of the real split ({Path(split_csv).name}: by person, none trained on)",
        )
    out = []
    for subset in ("vitonhd", "dresscode"):
        if (samples / subset).is_dir():
            out += [
                (subset if subset == "vitonhd" else f"{subset}_{r.category}", r, None)
                for r in dataset_records(samples / subset, "paired")
            ]
    return out, "every paired real pair (no real split: no real photo trained on)"


def real_paired(
    checkpoint: Path,
    samples: Path | None = None,
    device: str = "cpu",
    max_pairs: int = 0,
    n_gallery: int = 3,
    split_csv: Path | None = None,
    synthetic_only: Path | None = None,
) -> tuple[dict | str, dict]:
    """The shipped model, the synthetic-only model (``synthetic_only``, when given) and the
    network-free baselines (:mod:`tryon.eval.baselines`) on the real **paired** test pairs
    (:func:`real_test_records`; the photo is the ground truth), by one code
    (:func:`tryon.eval.photo.photo_figures` with the painted-region figures, plus ``warp_mask_iou``).

    The models' figures are their **network output** (un-padded to the photo's size, no paste-back);
    the shipped model's after paste-back are under ``paired_pasted`` (kept pixels are the photo's by
    construction), without the full-resolution detail (:func:`tryon.infer.full_res.garment_detail`)
    under ``paired_no_detail``. The garment region is the dataset's parse garment of the pair's category.
    Every row, the baselines' too, has ``<figure>_ci95``; ``versus``: the paired bootstrap of the shipped
    model against each baseline (:func:`tryon.eval.versus.versus`), which ``model_beats(_sentence)`` follow;
    ``kept``: the face, kept by construction (no network result). Returns (metrics, or a "not computed"
    string without real data; extras: example images for the gallery)."""
    from tryon.eval import baselines as B
    from tryon.eval.photo import KEPT_NOTE
    from tryon.eval.versus import versus, versus_sentence
    from tryon.infer.model import TryOn

    samples = Path(samples or paths.SHARED_SAMPLES)
    if not samples.is_dir():
        return f"not computed: no real data at {samples}", {}
    records, what = real_test_records(samples, split_csv)
    if max_pairs:
        records = records[:max_pairs]
    models = {"paired": TryOn(checkpoint, device)}
    if had_real_phase(synthetic_only, checkpoint):
        models["synthetic_only"] = TryOn(synthetic_only, device)
    rows: dict[str, dict[str, list[dict]]] = {}  # group -> row name -> one figure dict per pair
    gallery = []
    for group, rec, text in records:
        images, figures = _real_pair(models, rec, text)
        for name, fig in figures.items():
            rows.setdefault(group, {}).setdefault(name, []).append(fig)
        if len(rows[group]["paired"]) <= (n_gallery if group == "vitonhd" else 1):
            gallery.append({"group": group, "name": rec.person_id, **images})
    names = ("paired", "paired_pasted", "paired_no_detail", *([k for k in models if k != "paired"]), *B.NAMES)
    every = {n: [f for g in rows.values() for f in g[n]] for n in names}
    if not every["paired"]:
        return f"not computed: no paired test pairs under {samples}", {}
    pasted = _means(every["paired_pasted"])
    out = {
        "n_test_pairs": len(every["paired"]),
        "split": what,
        "paired": _means(every["paired"], ci=True),
        "paired_pasted": {k if k.endswith("_pasted") else f"{k}_pasted": v for k, v in pasted.items()},
        "paired_no_detail": _means(every["paired_no_detail"], ci=True),
        "synthetic_only": _means(every["synthetic_only"], ci=True)
        if "synthetic_only" in models
        else "not computed: the shipped model is the synthetic-only one (no real phase in 05_train)",
        "baselines": {n: _means(every[n], ci=True) for n in B.NAMES},
        "baselines_use_gt_region": list(B.USES_GT_REGION),
        "by_group": {
            g: {n: _means(r) for n, r in d.items() if n not in ("paired_by_source", "kept")}
            for g, d in rows.items()
        },
        "kept": {"note": KEPT_NOTE, **_means([f for d in rows.values() for f in d["kept"]])},
        "versus": versus(every["paired"], {n: every[n] for n in B.NAMES}, BEAT_FIGURES),
    }
    by_source = [f for d in rows.values() for f in d.get("paired_by_source", [])]  # trunk_compose only
    if by_source:  # the garment error split by the source of each pixel
        out["paired_by_source"] = _means(by_source)
    out["model_beats"] = {n: [m for m, v in fig.items() if v["beats"]] for n, fig in out["versus"].items()}
    out["model_beats_sentence"] = versus_sentence(out["versus"])
    if isinstance(out["synthetic_only"], dict):
        out["real_training_gain"] = {
            k: out["paired"][k] - out["synthetic_only"][k]
            for k in out["paired"]
            if k in out["synthetic_only"] and not k.endswith("_ci95")
        }
    return out, {"gallery": gallery}


def _real_pair(models: dict, rec, text: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """One paired real pair: the images (person, garment, each model's network output and warped garment,
    the shipped model's pasted output, each baseline) and the photo figures of each try-on image, with
    those of the painted region (:func:`tryon.eval.photo.painted_region`, the same pixels for every row);
    ``kept``: each output's face SSIM (kept by the fusion: the photo's by construction)."""
    from tryon.data import labels
    from tryon.eval import baselines as B
    from tryon.eval.face import face_ssim, neck_row
    from tryon.eval.photo import mask_iou, painted_region, photo_figures
    from tryon.eval.sources import error_by_source
    from tryon.infer.batch import read_pair

    shipped = models["paired"]
    inp, gt_parse, _ = read_pair(shipped, rec, text=text or None)
    region = labels.category_garment_mask(gt_parse, rec.category)
    painted = painted_region(gt_parse, rec.category, region)
    neck = neck_row(rec.pose, inp.person.shape[0]) if rec.labelset == "dresscode" else None
    images = {"person": inp.person, "garment": inp.garment}
    figures: dict[str, dict] = {"kept": {}}
    for name, model in models.items():
        res = model.predict(inp, paste_back=name == "paired")
        figures[name] = photo_figures(res.network, inp.person, region, painted)
        figures[name]["warp_mask_iou"] = mask_iou(res.warped_mask, region)
        figures["kept"][f"{name}_face_ssim"] = face_ssim(res.network, inp.person, gt_parse, neck_y=neck)
        images[name] = res.network
        images[f"{name}_warped"] = res.warped
        if name == "paired":
            if res.sources is not None:
                images["paired_sources"] = res.sources
            if res.weights is not None:  # the garment error split by the source of each pixel
                figures["paired_by_source"] = error_by_source(res.network, inp.person, region, res.weights)
            flat = model.predict(inp, detail=False).network  # the row without the full-resolution detail
            figures["paired_no_detail"] = photo_figures(flat, inp.person, region, painted)
            images["paired_pasted"] = res.image
            figures["paired_pasted"] = photo_figures(res.image, inp.person, region, painted)
            figures["kept"]["paired_pasted_face_ssim"] = face_ssim(
                res.image, inp.person, gt_parse, neck_y=neck
            )
    for n in B.NAMES:
        images[n] = B.make(n, inp.person, gt_parse, inp.garment, inp.garment_mask, rec.category)
        figures[n] = photo_figures(images[n], inp.person, region, painted)
    return images, figures


def better(figure: str, a: float, b: float) -> bool:
    """Is ``a`` a better value of ``figure`` than ``b``? ``l1``: lower; ``sharpness_ratio``: closer to
    1 (sharper than the photo is noise, not detail); every other figure: higher."""
    if figure in LOWER_IS_BETTER:
        return a < b
    if figure == "sharpness_ratio":
        return abs(math.log(max(a, 1e-9))) < abs(math.log(max(b, 1e-9)))
    return a > b


def beats(model: dict, baselines: dict[str, dict]) -> dict[str, list[str]]:
    """For each baseline, the figures on which ``model`` is :func:`better`."""
    return {
        name: [k for k, v in row.items() if k in model and better(k, model[k], v)]
        for name, row in baselines.items()
    }


def beats_sentence(model: dict, baselines: dict[str, dict], figures: tuple[str, ...]) -> str:
    """One sentence, from the figures, saying which baselines ``model`` beats on which figure."""
    wins = beats({k: model[k] for k in figures if k in model}, baselines)
    parts = []
    for name in baselines:
        won = [k for k in figures if k in wins[name]]
        lost = [k for k in figures if k in baselines[name] and k not in won]
        parts.append(
            f"{name}: beats it on {', '.join(won) if won else 'no figure'}"
            + (f", not on {', '.join(lost)}" if lost else "")
        )
    return "The network output against the baselines: " + "; ".join(parts) + "."


@torch.no_grad()
def synthetic_baselines(model, dataset, device, batch_size: int = 8) -> dict:
    """The baselines and the full model's network output on the synthetic test split, by the same
    photo-figure code as the real rows; the ground-truth garment region is the synthetic parse's."""
    from tryon.data import labels
    from tryon.data.preprocess import tensor_to_rgb
    from tryon.eval import baselines as B
    from tryon.eval.photo import photo_figures

    rows: dict[str, list[dict]] = {"model": [], **{n: [] for n in B.NAMES}}
    for start in range(0, len(dataset), batch_size):
        idx = list(range(start, min(start + batch_size, len(dataset))))
        b = to_device(collate([dataset[i] for i in idx]), device)
        tryon = forward_batch(model, b)["tryon"].cpu()
        for j in range(len(idx)):
            photo, parse = tensor_to_rgb(b["person"][j].cpu()), b["parse"][j].cpu().numpy()
            garment = tensor_to_rgb(b["garment"][j].cpu())
            gmask = b["garment_mask"][j, 0].cpu().numpy() > 0.5
            region = labels.category_garment_mask(parse)
            rows["model"].append(photo_figures(tensor_to_rgb(tryon[j]), photo, region))
            for n in B.NAMES:
                rows[n].append(photo_figures(B.make(n, photo, parse, garment, gmask), photo, region))
    # ssim_net is SSIM at 256 x 192, the real photos' aspect: not defined for square synthetic images
    return {n: {k: v for k, v in _means(r).items() if k != "ssim_net"} for n, r in rows.items()}
