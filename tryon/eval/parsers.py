"""The photo-only path's two parsers side by side on real parse maps: the mediapipe rules
(:mod:`tryon.infer.autoparse`) and the learned parser (:mod:`tryon.parser`, ``models/parser.pt``).

Both parse each person photo of ``../shared/data/vton-samples`` (VITON-HD: 16 persons, CIHP maps; Dress
Code: 30 persons, its maps converted with :func:`tryon.data.labels.dresscode_to_cihp`) at the photo's
own size (1024 x 768), and each parse is scored against the true map:

* **classes** (``CLASSES``): IoU of a group of CIHP ids taken as one class, in both maps. The learned
  parser never predicts torso skin (10: VITON's LIP maps have none), so 10 is also scored merged, into the
  background (``background_or_neck``: VITON-HD's own 13-channel grouping) and into the upper garment
  (``upper_or_neck``), and with the face (``face_or_neck``: Dress Code's head label covers the neck);
* **try-on inputs** (``MASKS``): IoU of :func:`~tryon.data.labels.trunk_mask`,
  :func:`~tryon.data.labels.keep_mask` and :func:`~tryon.data.labels.agnostic_region` of each parse
  against the same mask of the true parse, with the person's category (VITON-HD: upper_body).

Per subset (``vitonhd``, ``dresscode_<category>``): the mean over persons (a person whose maps both lack
the class is left out), the worst person, the pooled IoU (one confusion over every pixel), and for each
figure the paired difference parser - rules with its bootstrap 95% interval over persons
(:func:`tryon.eval.metrics.paired_bootstrap_diff`).

    python -m tryon.eval.parsers --json docs/experiments/2026-12-07_parser_vs_rules.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tryon.data import labels
from tryon.data.labels import CIHP

C = CIHP
#: scored class groups (name -> CIHP ids, one class in both maps)
CLASSES: dict[str, tuple[int, ...]] = {
    "upper_garment": (C.UPPER_CLOTHES, C.DRESS, C.COAT),
    "arms": (C.LEFT_ARM, C.RIGHT_ARM),
    "face": (C.FACE,),
    "hair": (C.HAIR,),
    "background": (C.BACKGROUND,),
    "lower_clothes": (C.PANTS, C.SKIRT),
    "torso_skin": (C.TORSO_SKIN,),
    "background_or_neck": (C.BACKGROUND, C.TORSO_SKIN),
    "upper_or_neck": (C.UPPER_CLOTHES, C.DRESS, C.COAT, C.TORSO_SKIN),
    "face_or_neck": (C.FACE, C.TORSO_SKIN),
}
#: the try-on's own inputs computed from a parse
MASKS = {
    "trunk_mask": labels.trunk_mask,
    "keep_mask": labels.keep_mask,
    "agnostic_region": labels.agnostic_region,
}
METHODS = ("rules", "parser")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else math.nan


def samples(root: str | os.PathLike) -> list[dict]:
    """Every person with a parse map: ``subset`` (vitonhd | dresscode), ``person``, ``image``, ``parse``
    (path), ``labelset``, ``category``."""
    from tryon.data import dresscode, vitonhd

    root = Path(root)
    out = []
    if (root / "vitonhd").is_dir():
        for pid, img, parse, ls in vitonhd.list_persons(root / "vitonhd"):
            out.append(
                dict(subset="vitonhd", person=pid, image=img, parse=parse, labelset=ls, category="upper_body")
            )
    if (root / "dresscode").is_dir():
        cats = dresscode.categories(root / "dresscode")
        for pid, img, parse, ls in dresscode.list_persons(root / "dresscode"):
            cat = cats.get(img.name, "upper_body")
            out.append(
                dict(subset=f"dresscode_{cat}", person=pid, image=img, parse=parse, labelset=ls, category=cat)
            )
    return [s for s in out if Path(s["parse"]).is_file()]


def score(pred: np.ndarray, true: np.ndarray, category: str) -> dict[str, float]:
    """The figures of one predicted parse against the true one (both CIHP uint8 [H, W])."""
    from tryon.parser.evaluate import confusion, group_iou

    conf = confusion(true, pred)
    out = {name: group_iou(conf, ids) for name, ids in CLASSES.items()}
    for name, fn in MASKS.items():
        out[name] = _iou(fn(pred, category), fn(true, category))
    return out


def _summary(rows: list[dict], conf: dict[str, np.ndarray]) -> dict:
    from tryon.eval.metrics import paired_bootstrap_diff
    from tryon.parser.evaluate import group_iou

    out: dict = {"n": len(rows), "persons": [r["person"] for r in rows]}
    for m in METHODS:
        out[m] = {}
        for k in (*CLASSES, *MASKS):
            v = [r[m][k] for r in rows if math.isfinite(r[m][k])]
            fig = {"mean": float(np.mean(v)) if v else math.nan, "min": float(np.min(v)) if v else math.nan}
            if k in CLASSES:
                fig["pooled"] = group_iou(conf[m], CLASSES[k])
            out[m][k] = fig
    out["parser_minus_rules"] = {
        k: paired_bootstrap_diff([r["parser"][k] for r in rows], [r["rules"][k] for r in rows])
        for k in (*CLASSES, *MASKS)
    }
    return out


def compare_parsers(
    samples_root: str | os.PathLike, parser_path: str | os.PathLike, found: list[dict] | None = None
) -> dict:
    """Score the mediapipe rules and the learned parser against the true parse maps of ``samples_root``
    (a vton-samples folder). ``found``: :func:`tryon.infer.autoparse.run_mediapipe` results in the order
    of :func:`samples` (default: run mediapipe once over every photo). Returns ``{"settings", "subsets":
    {subset: summary}, "persons": [per-person rows]}`` (module doc)."""
    from tryon.data import io, vitonhd
    from tryon.infer import autoparse
    from tryon.parser import Parser
    from tryon.parser.evaluate import confusion

    items = samples(samples_root)
    if not items:
        raise ValueError(f"{samples_root}: no person photos with parse maps")
    parser = Parser.load(parser_path)
    t0 = time.perf_counter()
    if found is None:
        found = autoparse.run_mediapipe([s["image"] for s in items])
    mp_s = time.perf_counter() - t0
    rows, confs, secs = [], {}, {"rules": mp_s, "parser": 0.0}
    for s, f in zip(items, found, strict=True):
        rgb = io.read_rgb(s["image"])
        true = vitonhd.load_parse(Path(s["parse"]), s["labelset"], (rgb.shape[1], rgb.shape[0]))
        t = time.perf_counter()
        rules, _ = autoparse.auto_parse(rgb, name=str(s["image"]), found=f)
        secs["rules"] += time.perf_counter() - t
        t = time.perf_counter()
        learned = parser(rgb)
        secs["parser"] += time.perf_counter() - t
        row = {"subset": s["subset"], "person": s["person"], "category": s["category"]}
        for m, pred in (("rules", rules), ("parser", learned)):
            row[m] = score(pred, true, s["category"])
            c = confs.setdefault(s["subset"], {}).setdefault(m, np.zeros((labels.N_CIHP,) * 2, np.int64))
            c += confusion(true, pred)
        rows.append(row)
    subsets = {
        name: _summary([r for r in rows if r["subset"] == name], confs[name])
        for name in dict.fromkeys(r["subset"] for r in rows)
    }
    return {
        "settings": {
            "samples": str(samples_root),
            "parser": str(parser_path),
            "rules": autoparse.SOURCE + " + tryon.infer.parse_rules.pseudo_parse",
            "resolution": "each photo's own size (768x1024); the parser's logits upsampled to it",
            "iou": "per person, mean over persons (persons whose maps both lack the class left out), worst "
            "person (min), pooled (one confusion over every pixel of the subset)",
            "torso_skin": "the learned parser never predicts 10 (VITON's LIP maps have no neck); scored also "
            "merged into background (background_or_neck), upper garment (upper_or_neck), face (face_or_neck)",
            "masks": "tryon.data.labels trunk_mask / keep_mask / agnostic_region of each parse vs of the true "
            "parse, with the person's category",
            "dresscode": "maps converted by dresscode_to_cihp (head -> face, so its face covers the neck)",
            "parser_minus_rules": "paired difference of the per-person figures, bootstrap 95% interval over "
            "persons (2000 resamples, seed 0); beats = interval above 0",
            "seconds_per_photo": {m: secs[m] / len(items) for m in METHODS},
        },
        "subsets": subsets,
        "persons": rows,
    }


def _finite(x):
    """NaN -> None (strict JSON), recursively."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return None if isinstance(x, float) and not math.isfinite(x) else x


TABLE = ("upper_garment", "arms", "face", "hair", "background", "lower_clothes", "torso_skin",
         "background_or_neck", "upper_or_neck", "face_or_neck", *MASKS)  # fmt: skip


def table(result: dict) -> str:
    """A markdown table: mean IoU over persons, rules vs parser, per subset."""
    subs = list(result["subsets"])
    head = "| IoU (mean over persons) | " + " | ".join(f"{s} rules | {s} parser" for s in subs) + " |"
    lines = [head, "|---" * (1 + 2 * len(subs)) + "|"]
    for k in TABLE:
        cells = []
        for s in subs:
            d = result["subsets"][s]
            r, p = d["rules"][k]["mean"], d["parser"][k]["mean"]
            star = "*" if d["parser_minus_rules"][k]["beats"] else ""
            cells += [f"{r:.3f}", f"{p:.3f}{star}"]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    n = ", ".join(f"{s}: {result['subsets'][s]['n']}" for s in subs)
    lines.append(f"\npersons: {n}; * = parser above rules, paired bootstrap 95% interval above 0")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from tryon import paths

    ap = argparse.ArgumentParser(prog="python -m tryon.eval.parsers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", default=str(paths.SHARED_SAMPLES), help="vton-samples folder")
    ap.add_argument("--parser", default=str(paths.ROOT / "models" / "parser.pt"), help="parser checkpoint")
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args(argv)
    from tryon.infer.autoparse import AutoParseError, AutoParseUnavailable

    try:
        res = compare_parsers(args.samples, args.parser)
    except (ValueError, AutoParseUnavailable, AutoParseError) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    print(table(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(_finite(res), indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
