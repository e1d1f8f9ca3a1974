"""Helpers for stage notebooks and reports: show params, write metrics JSON atomically,
embed figures. Plot-free logic only; plotting helpers live in :mod:`tryon.viz.images`."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from tryon import paths
from tryon.config import Params, atomic_write_text

#: columns of the real-photo table (lower is better for l1; 1.0 is as sharp as the photo)
REAL_COLUMNS = (
    "ssim_net",
    "garment_ssim",
    "warp_mask_iou",
    "garment_edge_ssim",
    "l1",
    "sharpness_ratio",
    "ssim",
    "psnr",
    "face_ssim_net",
)


def params_table(params: Params, slug: str):
    """The ``base`` section and the stage's section as a pandas DataFrame (for display)."""
    import pandas as pd

    rows = []
    for sec in ("base", slug):
        for k, v in dataclasses.asdict(params.section(sec) if sec != "base" else params.base).items():
            rows.append({"section": sec, "key": k, "value": repr(v)})
    return pd.DataFrame(rows)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy/torch scalars -> python; NaN/inf -> None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_metrics(slug: str, metrics: dict, root: Path | None = None) -> Path:
    """Write ``metrics/<slug>.json`` atomically (temp file + rename) and return its path."""
    path = (root or paths.ROOT) / "metrics" / f"{slug}.json"
    atomic_write_text(path, json.dumps(_clean(metrics), indent=2, sort_keys=True) + "\n")
    return path


def read_metrics(slug: str, root: Path | None = None) -> dict | None:
    path = (root or paths.ROOT) / "metrics" / f"{slug}.json"
    return json.loads(path.read_text()) if path.exists() else None


#: one line per stage for the index page
STAGE_TITLES = {
    "01_prepare": "Data: synthetic wardrobe and real samples",
    "02_encode": "Body-text encoding (bag of words + MLP)",
    "03_contour": "Contour generation (text + trunk -> body contour image)",
    "04_warp": "Garment warping: correlation, matching matrix, flow",
    "05_train": "End-to-end training",
    "06_evaluate": "Evaluation: metrics, breakdowns, ablations",
}


def headline(metrics: dict | None, limit: int = 12) -> list[tuple[str, Any]]:
    """The scalar entries of a metrics dict (nested dicts flattened one level, ``a.b``), first ``limit``.

    A stage may put its key figures under ``"headline"``; those are shown first.
    """
    if not metrics:
        return []
    items: list[tuple[str, Any]] = []
    src = metrics.get("headline") if isinstance(metrics.get("headline"), dict) else metrics
    for k, v in src.items():
        if isinstance(v, (int, float, str, bool)) or v is None:
            items.append((k, v))
        elif isinstance(v, dict) and src is metrics:
            items += [(f"{k}.{k2}", v2) for k2, v2 in v.items() if isinstance(v2, (int, float, str, bool))]
    return items[:limit]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def real_rows(real: dict) -> dict[str, dict]:
    """The real-photo table's rows (``metrics/06_evaluate.json`` ``real``), labelled: the shipped
    model's network output, the synthetic-only model's (when measured), the shipped model pasted back,
    then each network-free baseline (those that read the ground-truth garment region say so)."""
    rows = {"shipped model (real-trained): network output": real["paired"]}
    if isinstance(real.get("synthetic_only"), dict):
        rows["synthetic-only model: network output"] = real["synthetic_only"]
    rows |= {
        "shipped model: pasted back (kept pixels = photo by construction)": {
            k.removesuffix("_pasted"): v for k, v in real["paired_pasted"].items()
        },
    }
    for name, row in real["baselines"].items():
        gt = ", uses the GT garment region" if name in real["baselines_use_gt_region"] else ""
        rows[f"{name} (no network{gt})"] = row
    return rows


def real_table_html(real: dict | str | None) -> str:
    """The front page's real-photo table: the model rows, then the baselines, one column per figure,
    and the generated sentence saying which baselines the model beats."""
    import html

    if not isinstance(real, dict):
        return f"<p><em>Real photos: {html.escape(str(real or 'no stage-06 metrics yet'))}</em></p>"
    rows = real_rows(real)
    cols = [c for c in REAL_COLUMNS if any(c in r for r in rows.values())]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>"
        for label, r in rows.items()
    )
    sentence = html.escape(real.get("model_beats_sentence", ""))
    return (
        f"<h2>Real photos: {real['n_test_pairs']} paired pairs, against network-free baselines</h2>"
        f"<table><tr><th>image</th>{head}</tr>{body}</table><p>{sentence}</p>"
    )


def build_index(root: Path | None = None) -> Path:
    """Write ``reports/index.html``: a link to every stage report and its headline metrics."""
    import html
    import time

    root = root or paths.ROOT
    rows = []
    for slug, title in STAGE_TITLES.items():
        report = root / "reports" / f"{slug}.html"
        link = f'<a href="{slug}.html">{slug}</a>' if report.exists() else f"{slug} <em>(no report)</em>"
        figures = (
            "".join(
                f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>"
                for k, v in headline(read_metrics(slug, root))
            )
            or "<tr><td colspan=2><em>no metrics</em></td></tr>"
        )
        rows.append(f"<h2>{link}: {html.escape(title)}</h2><table>{figures}</table>")
    body = real_table_html((read_metrics("06_evaluate", root) or {}).get("real")) + "\n".join(rows)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tryon pipeline reports</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:2px 8px;font-family:monospace}}</style>
</head><body>
<h1>tryon pipeline reports</h1>
<p>Built {time.strftime("%Y-%m-%d %H:%M:%S")} by <code>dvc repro</code> from <code>params.yaml</code>.
Each stage report is the executed notebook (code, tables, figures); the figures below come from
<code>metrics/&lt;stage&gt;.json</code>.</p>
{body}
</body></html>
"""
    out = root / "reports" / "index.html"
    atomic_write_text(out, page)
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tryon.viz.report")
    ap.add_argument("cmd", choices=["index"])
    ap.parse_args(argv)
    print(build_index())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
