"""Where a checkpoint loses the VITON benchmark's figures, and what a perfect network at its working size
would score: ``python -m tryon.eval.headroom CHECKPOINT --split dev``.

Each row is the network's own output (``tryon try-on`` without paste-back) with one region replaced by the
photo **as the network could see it**: padded to its square, resized to the working size (antialiased) and
back (:func:`seen_at`). A row's gain over ``network`` is what a network that were perfect on that region,
at that size, would add; ``agnostic`` (every pixel the network makes) is the ceiling of the working size
itself. Two rows use the photo at its own size instead, and one the photo's low-frequency shading, to read
what a larger working size or a shading model could add:

- ``network``: the output as it is;
- ``garment_placed`` / ``garment_painted``: the photo's garment region where the composition took the
  garment photo (warped or filled, weight > 0.5) / the painted image;
- ``arms``, ``wall``, ``other``: the agnostic region's arms, background and the rest, outside the garment;
- ``outside_garment``: the three together; ``outside_garment_full``: the same at the photo's own size;
- ``garment``: the whole garment region; ``agnostic``: every pixel the network makes;
- ``photo``: the whole image seen at the working size (what even the kept pixels lose there);
- ``placed_shaded``: the placed garment pixels times the photo's local grey gain over them (gaussian,
  ``SHADE_SIGMA`` pixels of the photo): a perfect shading of the warped garment, its placement unchanged.

Figures and settings are the benchmark's (:data:`tryon.eval.viton.SETTINGS`); regions come from the
photo's parse map (the agnostic region of :func:`tryon.data.labels.agnostic_region`, the garment region of
:func:`tryon.data.labels.category_garment_mask`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from tryon.eval.viton import FIGURES, figures, test_records

#: the rows, in report order (the module docstring says what each replaces)
ROWS = (
    "network",
    "garment_placed",
    "garment_painted",
    "placed_shaded",
    "arms",
    "wall",
    "other",
    "outside_garment",
    "outside_garment_full",
    "garment",
    "agnostic",
    "photo",
)
#: the shading row's gaussian, in pixels of the photo
SHADE_SIGMA = 4.0


def seen_at(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` uint8 [H, W, 3] as a network of working size ``size`` sees it: zero-padded to its centred
    square, resized to ``size`` x ``size`` (bilinear, antialiased) and back, un-padded. uint8 [H, W, 3]."""
    import torch
    import torch.nn.functional as F

    h, w = image.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    sq = np.zeros((side, side, 3), np.float32)
    sq[top : top + h, left : left + w] = image
    t = torch.from_numpy(sq).permute(2, 0, 1)[None]
    t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    t = F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)
    out = t[0].permute(1, 2, 0).numpy()[top : top + h, left : left + w]
    return out.clip(0, 255).round().astype(np.uint8)


def regions(parse: np.ndarray, garment: np.ndarray, placed: np.ndarray, category: str) -> dict:
    """The rows' regions, bool [H, W] each: ``parse`` the photo's CIHP parse map, ``garment`` its garment
    region, ``placed`` where the composition took the garment photo (warped or filled)."""
    from tryon.data import labels

    agn = labels.agnostic_region(parse, category) | garment
    out = agn & ~garment
    arms = out & labels.isin(parse, labels.ARMS)
    wall = out & (parse == labels.CIHP.BACKGROUND)
    return {
        "garment_placed": garment & placed,
        "garment_painted": garment & ~placed,
        "arms": arms,
        "wall": wall,
        "other": out & ~arms & ~wall,
        "outside_garment": out,
        "garment": garment,
        "agnostic": agn,
    }


def shaded(
    network: np.ndarray, person: np.ndarray, where: np.ndarray, sigma: float = SHADE_SIGMA
) -> np.ndarray:
    """``network`` with its pixels of ``where`` multiplied by the photo's local grey gain over them
    (gaussian means of both greys over ``where``, ``sigma`` pixels): uint8 [H, W, 3]."""
    from scipy import ndimage

    net, ph = network.astype(np.float64), person.astype(np.float64)
    m = where.astype(np.float64)
    wsum = ndimage.gaussian_filter(m, sigma) + 1e-6
    num = ndimage.gaussian_filter(ph.mean(2) * m, sigma) / wsum + 1.0
    den = ndimage.gaussian_filter(net.mean(2) * m, sigma) / wsum + 1.0
    out = net.copy()
    out[where] = (net * (num / den)[..., None])[where]
    return out.clip(0, 255).round().astype(np.uint8)


def rows_of(network, person, parse, garment, placed, size: int, category: str = "upper_body") -> dict:
    """The :data:`ROWS` images of one try-on: ``network`` its output and ``person`` the photo (uint8 [H, W,
    3]), ``parse``, ``garment`` and ``placed`` as in :func:`regions`, ``size`` the working size."""
    seen = seen_at(person, size)
    masks = regions(parse, garment, placed, category)

    def replaced(mask: np.ndarray, source: np.ndarray) -> np.ndarray:
        out = network.copy()
        out[mask] = source[mask]
        return out

    out = {"network": network}
    for name in ROWS:
        if name in masks:
            out[name] = replaced(masks[name], seen)
    out["outside_garment_full"] = replaced(masks["outside_garment"], person)
    out["placed_shaded"] = shaded(network, person, masks["garment_placed"])
    out["photo"] = seen
    return {name: out[name] for name in ROWS}


def measure(
    checkpoint, root, split_csv, split: str = "dev", max_pairs: int = 128, progress: bool = False
) -> dict:
    """The :data:`ROWS`' mean figures (and each region's share of the image) over ``max_pairs`` persons of
    ``split`` (evenly spaced; each with its own garment), as :func:`tryon.eval.viton.benchmark` reads them."""
    from tryon.data import labels
    from tryon.infer.batch import read_pair
    from tryon.infer.model import TryOn

    model = TryOn(checkpoint)
    recs = test_records(split_csv, root, "paired", split)
    if max_pairs and max_pairs < len(recs):
        recs = [recs[i] for i in np.unique(np.linspace(0, len(recs) - 1, max_pairs).round().astype(int))]
    if progress:
        from tqdm.auto import tqdm

        recs = tqdm(recs, desc="headroom", unit="pair", mininterval=10)
    scores: dict = {name: [] for name in ROWS}
    shares: dict = {}
    for rec, text in recs:
        inp, gt_parse, _ = read_pair(model, rec, text=text or None)
        res = model.predict(inp)
        garment = labels.category_garment_mask(gt_parse, rec.category)
        placed = (res.weights[1] + res.weights[2]) > 0.5 if res.weights is not None else res.warped_mask
        images = rows_of(res.network, inp.person, inp.parse, garment, placed, model.size, rec.category)
        for name, img in images.items():
            scores[name].append(figures(img, inp.person, garment, res.warped_mask))
        for name, m in regions(inp.parse, garment, placed, rec.category).items():
            shares.setdefault(name, []).append(float(m.mean()))
    mean = {n: {f: float(np.nanmean([r[f] for r in v])) for f in FIGURES} for n, v in scores.items()}
    return {
        "checkpoint": str(checkpoint),
        "split": split,
        "n": len(scores["network"]),
        "working_size": model.size,
        "rows": mean,
        "image_share": {n: float(np.mean(v)) for n, v in shares.items()},
        "rows_meaning": "each row: the network's output with that region replaced by the photo seen at the "
        "working size (outside_garment_full: at the photo's size; placed_shaded: the photo's local shading)",
    }


def table(result: dict) -> str:
    """The rows as a markdown table (figures of :data:`tryon.eval.viton.FIGURES`)."""
    head = "| row | " + " | ".join(FIGURES) + " |\n|---|" + "---|" * len(FIGURES)
    lines = [
        f"| {n} | " + " | ".join("nan" if math.isnan(v[f]) else f"{v[f]:.3f}" for f in FIGURES) + " |"
        for n, v in result["rows"].items()
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> int:
    from tryon import paths

    ap = argparse.ArgumentParser(prog="python -m tryon.eval.headroom", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a 05_train model.pt (e.g. models/model.pt)")
    ap.add_argument("--split", choices=("dev", "test"), default="dev", help="VITON split (choices on dev)")
    ap.add_argument("--max-pairs", type=int, default=128, help="persons, evenly spaced; 0 = all")
    ap.add_argument("--root", default=str(paths.SHARED_VITON), help="the VITON (CP-VTON) folder")
    ap.add_argument("--split-csv", default=str(paths.DATA_DIR / "01_prepare" / "real_split.csv"))
    ap.add_argument("--json", help="write the result here too")
    a = ap.parse_args(argv)
    for what, p in (("checkpoint", a.checkpoint), ("--root", a.root), ("--split-csv", a.split_csv)):
        if not os.path.exists(p):
            print(f"error: {what}: {p} does not exist", file=sys.stderr)
            return 2
    result = measure(a.checkpoint, a.root, a.split_csv, a.split, a.max_pairs, progress=True)
    result["command"] = "python -m tryon.eval.headroom " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(table(result))
    if a.json:
        from tryon.config import atomic_write_text

        atomic_write_text(a.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
