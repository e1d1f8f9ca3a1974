"""The VITON benchmark (stage 06): the paired test protocol of the papers, on VITON as CP-VTON published it.

Two protocols, each test person with its own garment (the photo is the ground truth):

- ``paired``: the 2,032 test ids of ``test_pairs.txt``, as CP-VTON, ACGPN, PF-AFN and FS-VTON report them
  (1,575 of their person photos are byte-identical to train photos: the figure is comparable, not held out);
- ``paired_clean``: the ids of ``test_clean_ids.txt`` (457 ids whose photo and garment are in no train
  file): the held-out figure.

Every figure is the **network's own output** (``tryon try-on`` without paste-back, un-padded to the photo's
256 x 192), scored against the photo by :data:`SETTINGS`. The network-free baselines of
:mod:`tryon.eval.baselines` are scored alike on the clean ids. The published figures are in
:data:`tryon.report.PUBLISHED` (from the dataset's README, with where each was printed).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from tryon.eval import photo
from tryon.eval.metrics import ssim_image
from tryon.eval.versus import versus

#: the benchmark's figures (``viton.<protocol>.<figure>`` in ``metrics/06_evaluate.json``)
FIGURES = ("ssim", "garment_ssim", "garment_edge_ssim", "l1", "warp_mask_iou", "sharpness_ratio")
#: the figures on which the model is read against the baselines (:func:`tryon.eval.versus.versus`:
#: ``l1`` lower is better, ``sharpness_ratio`` as its distance to 1; the baselines warp nothing)
BEAT_FIGURES = ("ssim", "garment_ssim", "garment_edge_ssim", "l1", "sharpness_ratio")
SETTINGS = (
    "at the photo's 256x192, network output (no paste-back) vs the photo: ssim = skimage structural_similarity "
    "on grey images in [0, 1] (ITU-R 601 luma), gaussian window sigma 1.5, data_range 1, whole image; "
    "garment_ssim / garment_edge_ssim = the same SSIM of the images / of their Sobel magnitudes inside the "
    "bounding box of the parse garment region (LIP 5, 6, 7 and 10); l1 = mean absolute RGB error in [0, 1] "
    "inside that region; warp_mask_iou = IoU of the warped garment's mask with that region; sharpness_ratio "
    "= mean Sobel magnitude of the output over the photo's inside the region (1 = as sharp)"
)


def clean_ids(root: str | os.PathLike) -> set[str]:
    """The ids of ``test_clean_ids.txt`` (``000038``; empty when the file is absent)."""
    p = Path(root) / "test_clean_ids.txt"
    if not p.is_file():
        return set()
    return {line.strip() for line in p.read_text().splitlines() if line.strip()}


def figures(
    output: np.ndarray, person: np.ndarray, region: np.ndarray, warped_mask: np.ndarray | None
) -> dict:
    """The :data:`FIGURES` of one try-on ``output`` uint8 [H, W, 3] against the ``person`` photo, with
    ``region`` the photo's garment region bool [H, W] and ``warped_mask`` bool [H, W] (None: NaN IoU)."""
    f = photo.photo_figures(output, person, region)
    a, b = output.astype(np.float64) / 255, person.astype(np.float64) / 255
    l1 = float(np.abs(a - b)[region].mean()) if region.any() else math.nan
    return {
        "ssim": float(ssim_image(photo.grey(output), photo.grey(person))),
        "garment_ssim": f["garment_ssim"],
        "garment_edge_ssim": f["garment_edge_ssim"],
        "l1": l1,
        "warp_mask_iou": photo.mask_iou(warped_mask, region) if warped_mask is not None else math.nan,
        "sharpness_ratio": f["sharpness_ratio"],
    }


def _given(row) -> str | None:
    """A split-table row's body text when a user gave it; None when it was estimated (the try-on estimates
    it again from the parse map and encodes a body type outside the vocabulary as unknown)."""
    return row.text if row.text_source == "given" else None


def test_records(
    split_csv: str | os.PathLike, root: str | os.PathLike, mode: str = "paired", split: str = "test"
) -> list:
    """The VITON rows of ``split`` of a split table (``data/01_prepare/real_split.csv``) of ``mode`` as
    (record, body text) pairs, in table order. The dev split has paired rows only: its ``unpaired`` rows
    are made here, each dev person with the next dev person's garment. The text is None unless given."""
    import dataclasses

    from tryon.data.real import read_split, record_of

    df = read_split(split_csv)
    df = df[(df["subset"] == "viton") & (df["split"] == split)]
    if split != "dev" or mode == "paired":
        df = df[df["mode"] == mode]
        return [(record_of(r, root), _given(r)) for r in df.itertuples()]
    own = [(record_of(r, root), _given(r)) for r in df[df["mode"] == "paired"].itertuples()]
    return [
        (
            dataclasses.replace(
                rec, cloth=nxt.cloth, cloth_mask=nxt.cloth_mask, cloth_id=nxt.cloth_id, mode="unpaired"
            ),
            t,
        )
        for (rec, t), (nxt, _) in zip(own, own[1:] + own[:1], strict=True)
    ]


def means(rows: list[dict], ci: bool = True) -> dict:
    """Mean of each figure (NaN-aware) and, with ``ci``, its bootstrap 95% interval ``<figure>_ci95``."""
    from tryon.eval.metrics import bootstrap_ci

    out: dict = {"n": len(rows)}
    for k in FIGURES:
        v = [r[k] for r in rows if math.isfinite(r[k])]
        out[k] = float(np.mean(v)) if v else math.nan
        if ci:
            out[f"{k}_ci95"] = bootstrap_ci(v)
    return out


#: where a pose model's keypoints come from in :func:`benchmark`
POSE_SOURCES = {
    "file": "the dataset's OpenPose COCO-18 files",
    "mediapipe": "mediapipe's pose of each photo (as a photo without a keypoint file)",
    "none": "none (an empty pose map)",
}


def _mediapipe_poses(recs) -> dict:
    """mediapipe's result for every person photo of ``recs``, in one process (``{}`` without mediapipe)."""
    from tryon.infer import autoparse

    persons = list(dict.fromkeys(str(rec.person) for rec, _ in recs))
    try:
        return dict(zip(persons, autoparse.run_mediapipe(persons), strict=True))
    except autoparse.AutoParseUnavailable:
        return {}


def _pose_setup(recs, reads_pose: bool, pose: str) -> tuple[dict, str]:
    """(mediapipe's results by person photo, or {}; the figures' ``pose`` label) for ``benchmark(pose=...)``."""
    if not reads_pose:
        return {}, "the model reads no pose map"
    found = _mediapipe_poses(recs) if pose == "mediapipe" else {}
    if pose == "mediapipe" and not found:
        return {}, "none: mediapipe is not installed (`make mediapipe`), every pose map was empty"
    return found, POSE_SOURCES[pose]


def _other_pose(inp, found: dict | None, pose: str):
    import dataclasses

    from tryon.infer import autoparse

    if pose == "none" or found is None:
        return dataclasses.replace(inp, keypoints=None, pose_source=POSE_SOURCES["none"])
    if not found.get("pose_found", True):
        return dataclasses.replace(inp, keypoints=None, pose_source="none (mediapipe found no pose)")
    return dataclasses.replace(inp, keypoints=autoparse.landmark_keypoints(found["landmarks"]),
                               pose_source=POSE_SOURCES["mediapipe"])  # fmt: skip


def benchmark(
    checkpoint: str | os.PathLike,
    root: str | os.PathLike,
    split_csv: str | os.PathLike,
    device: str = "cpu",
    max_pairs: int = 0,
    n_gallery: int = 16,
    progress: bool = False,
    split: str = "test",
    pose: str = "file",
) -> tuple[dict, dict]:
    """Score ``checkpoint`` on the VITON test split of ``split_csv`` (both protocols), the baselines on the
    clean ids, and try on ``n_gallery`` unpaired test pairs (``test_pairs.txt``) for the report.

    ``max_pairs`` > 0: that many test ids, evenly spaced over the list (the clean ids among them are the
    ``paired_clean`` figure; ``n_paired`` and ``n_paired_clean`` say how many).
    ``split='dev'``: the dev persons held out of train instead (every training choice is read there; no
    id of it is clean, so ``paired_clean`` is empty). ``pose`` (a model that reads a pose map): ``file``
    the dataset's OpenPose keypoints, ``mediapipe`` mediapipe's pose of each photo (the photo-only route),
    ``none`` an empty map. Returns (metrics, extras: per-pair rows and the gallery images)."""
    from tryon.data import labels
    from tryon.eval import baselines as B
    from tryon.infer.batch import read_pair
    from tryon.infer.inputs import InferError
    from tryon.infer.model import TryOn

    if pose not in POSE_SOURCES:
        raise ValueError(f"pose: expected one of {list(POSE_SOURCES)}, got {pose!r}")
    model = TryOn(checkpoint, device)
    clean = clean_ids(root)
    recs = test_records(split_csv, root, "paired", split)
    n_all = len(recs)
    if max_pairs and max_pairs < len(recs):  # an evenly spaced subsample of the list: no part favoured
        recs = [recs[i] for i in np.unique(np.linspace(0, len(recs) - 1, max_pairs).round().astype(int))]
    it = recs
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(recs, desc="VITON test", unit="pair", mininterval=10)
    found, pose_label = _pose_setup(recs, model.reads_pose, pose)
    rows, base_rows, skipped = [], {n: [] for n in B.NAMES}, []
    for rec, text in it:
        try:
            inp, gt_parse, _ = read_pair(model, rec, text=text or None)
        except InferError as e:  # a broken file of the dataset: counted and named, not a crash
            skipped.append(f"{rec.person_id} {rec.cloth_id}: {e}")
            continue
        if pose != "file" and model.reads_pose:
            inp = _other_pose(inp, found.get(str(rec.person)), pose)
        region = labels.category_garment_mask(gt_parse, rec.category)
        res = model.predict(inp)
        row = {"id": rec.person_id[:-2], "clean": split == "test" and rec.person_id[:-2] in clean}
        row |= figures(res.network, inp.person, region, res.warped_mask)
        rows.append(row)
        if row["clean"]:
            for n in B.NAMES:
                img = B.make(n, inp.person, gt_parse, inp.garment, inp.garment_mask, rec.category)
                base_rows[n].append({"id": row["id"], **figures(img, inp.person, region, None)})
    clean_rows = [r for r in rows if r["clean"]]
    metrics: dict = {
        "checkpoint": str(checkpoint),
        "settings": SETTINGS,
        "pose": pose_label,
        "text": "estimated from each person's parse map (VITON has no body-shape text)",
        "n_paired": len(rows),
        "ids": f"all {n_all}"
        if len(recs) == n_all
        else f"{len(recs)} of {n_all}, evenly spaced over the list",
        "n_paired_clean": len(clean_rows),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "paired": means(rows),
        "paired_clean": means(clean_rows),
        "baselines_clean": {n: means(r) for n, r in base_rows.items()},
        "versus_clean": versus(clean_rows, {n: r for n, r in base_rows.items() if r}, BEAT_FIGURES),
        "baselines_use_gt_region": list(B.USES_GT_REGION),
    }
    gallery = unpaired_gallery(model, root, split_csv, n_gallery, split) if n_gallery else []
    return metrics, {"rows": rows, "baseline_rows": base_rows, "gallery": gallery}


def unpaired_gallery(model, root, split_csv, n: int, split: str = "test") -> list[dict]:
    """``n`` unpaired test pairs (``test_pairs.txt``, evenly spaced over the list): person, garment, the
    model's try-on (network output) and ``naive_paste`` (the new garment in the old garment's box)."""
    from tryon.eval import baselines as B
    from tryon.infer.batch import read_pair
    from tryon.infer.inputs import InferError

    recs = test_records(split_csv, root, "unpaired", split)
    if not recs:
        return []
    pick = np.linspace(0, len(recs) - 1, min(n, len(recs))).round().astype(int)
    out = []
    for i in pick:
        rec, text = recs[int(i)]
        try:
            inp, gt_parse, _ = read_pair(model, rec, text=text or None)
        except InferError:  # a broken file: the next pair of the list shows instead
            continue
        res = model.predict(inp)
        out.append(
            {
                "name": f"{rec.person_id} + {rec.cloth_id}",
                "person": inp.person,
                "garment": inp.garment,
                "tryon": res.network,
                "naive_paste": B.make("naive_paste", inp.person, gt_parse, inp.garment, inp.garment_mask),
            }
        )
    return out


def named_pairs(
    checkpoint: str | os.PathLike, root: str | os.PathLike, ids: list[str], device: str = "cpu"
) -> dict:
    """The :data:`FIGURES` of ``checkpoint`` on named VITON test ids (each person with its own garment, the
    body text estimated from the parse map): what a model card records and a test reproduces."""
    from tryon.data import labels, official
    from tryon.infer.batch import read_pair
    from tryon.infer.model import TryOn

    model = TryOn(checkpoint, device)
    recs = {r.person_id[:-2]: r for r in official.list_official(root, "test", "paired")}
    out = {}
    for i in ids:
        if i not in recs:
            raise KeyError(f"{i}: not a VITON test id of {Path(root) / 'test_pairs.txt'}")
        inp, gt_parse, _ = read_pair(model, recs[i])
        res = model.predict(inp)
        out[i] = figures(res.network, inp.person, labels.category_garment_mask(gt_parse), res.warped_mask)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m tryon.eval.viton CHECKPOINT --split dev``: the benchmark's figures of one checkpoint (a
    ``model.pt`` or a training ``last.pt``) on the dev or test split, as JSON (``--json``; the dev runs
    behind a recipe choice are kept in ``docs/experiments/``), and a gallery of unpaired pairs (``--gallery``)."""
    import argparse
    import json
    import sys

    from tryon import paths

    ap = argparse.ArgumentParser(prog="python -m tryon.eval.viton", description=main.__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--root", default=str(paths.SHARED_VITON), help="the VITON (CP-VTON) folder")
    ap.add_argument("--split-csv", default=str(paths.DATA_DIR / "01_prepare" / "real_split.csv"))
    ap.add_argument("--max-pairs", type=int, default=0)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--gallery", help="write a PNG of unpaired try-ons here")
    ap.add_argument("--n-gallery", type=int, default=8)
    ap.add_argument("--pose", choices=tuple(POSE_SOURCES), default="file", help="a pose model's keypoints")
    args = ap.parse_args(argv)
    m, ex = benchmark(
        args.checkpoint, args.root, args.split_csv, max_pairs=args.max_pairs, n_gallery=args.n_gallery,
        split=args.split, pose=args.pose,
    )  # fmt: skip
    m["command"] = "python -m tryon.eval.viton " + " ".join(argv if argv is not None else sys.argv[1:])
    text = json.dumps(m, indent=1, default=float)
    if args.json:
        from tryon.config import atomic_write_text

        atomic_write_text(args.json, text + "\n")
    if args.gallery and ex["gallery"]:
        from PIL import Image

        rows = [
            np.concatenate([g["person"], g["garment"], g["tryon"], g["naive_paste"]], 1)
            for g in ex["gallery"]
        ]
        Image.fromarray(np.concatenate(rows, 0)).save(args.gallery)
    print(json.dumps({k: m[k] for k in ("n_paired", "paired")}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
