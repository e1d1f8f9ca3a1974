"""Helpers for stage notebooks and reports: show params, write metrics JSON atomically,
embed figures. Plot-free logic only; plotting helpers live in :mod:`tryon.viz.images`."""

from __future__ import annotations

import dataclasses
import json
import math
import re
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


def metric_key(label: Any) -> str:
    """The snake_case key of a label (no space, comma, dot or bracket: ``dvc metrics`` and the shell
    read it as it is): ``full, unpaired`` -> ``full_unpaired``, ``slightly fat`` -> ``slightly_fat``,
    ``trunk_guided (retrained)`` -> ``trunk_guided_retrained``. Letters, digits, ``_``, ``-`` and ``/`` (per-source terms: ``syn/rec``) are kept."""
    return re.sub(r"[^0-9A-Za-z_/-]+", "_", str(label)).strip("_") or "_"


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy/torch scalars -> python; NaN/inf -> None (JSON has no NaN); every key
    through :func:`metric_key` (two labels of one key are an error, never a silent overwrite)."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = metric_key(k)
            if key in out:
                raise ValueError(f"metrics: labels {k!r} and another both give the key {key!r}")
            out[key] = _clean(v)
        return out
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


def with_ci(row: dict, digits: int = 3) -> dict[str, str]:
    """A metrics row for a table: ``<figure>`` and its ``<figure>_ci95`` as one cell, ``0.958 [0.951,
    0.964]`` (figures without an interval as they are)."""
    out = {}
    for k, v in row.items():
        if k.endswith("_ci95"):
            continue
        ci = row.get(f"{k}_ci95")
        if isinstance(v, float) and ci and all(isinstance(x, float) and math.isfinite(x) for x in ci):
            out[k] = f"{v:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
        else:
            out[k] = _fmt(v)
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def real_rows(real: dict) -> dict[str, dict]:
    """The real-photo table's rows (``metrics/06_evaluate.json`` ``real``), labelled: the shipped
    model's network output, the synthetic-only model's (when measured), the shipped model without the
    full-resolution detail (when measured), the shipped model pasted back,
    then each network-free baseline (those that read the ground-truth garment region say so)."""
    rows = {"shipped model (real-trained): network output": real["paired"]}
    if isinstance(real.get("synthetic_only"), dict):
        rows["synthetic-only model: network output"] = real["synthetic_only"]
    if isinstance(real.get("paired_no_detail"), dict):
        rows["shipped model: network output without the full-resolution detail"] = real["paired_no_detail"]
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
    rows = {label: with_ci(r) for label, r in real_rows(real).items()}
    cols = [c for c in REAL_COLUMNS if any(c in r for r in rows.values())]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{r.get(c, 'n/a')}</td>" for c in cols) + "</tr>"
        for label, r in rows.items()
    )
    sentence = html.escape(real.get("model_beats_sentence", ""))
    return (
        f"<h2>Real photos: {real['n_test_pairs']} paired pairs, against network-free baselines</h2>"
        f"<table><tr><th>image</th>{head}</tr>{body}</table><p>{sentence}</p>"
    )


#: the front page's headline targets: (stage-06 path, label, target, higher is better, note)
TARGETS = (
    ("ablations.full.ssim", "synthetic SSIM (network output)", 0.90, True, ""),
    ("ablations.full.identity_ssim", "synthetic identity SSIM (trunk regions)", 0.95, True, "kept"),
    ("ablations.full.epe_px", "synthetic warp end-point error (px)", None, False, ""),
    (
        "ablations.full.skin_l1",
        "synthetic error on skin a shorter garment uncovers (unpaired)",
        None,
        False,
        "",
    ),
    (
        "ablations.full_short.skin_l1",
        "the same, trunk-map fusion, trained alike (100 steps)",
        None,
        False,
        "",
    ),
    (
        "ablations.fusion_compose.skin_l1",
        "the same, fusion without the trunk map, trained alike",
        None,
        False,
        "",
    ),
    (
        "forgetting.relative_change.epe_px",
        "synthetic EPE change from the real phase (forgetting)",
        0.05,
        False,
        "",
    ),
    ("real.paired.ssim_net", "real SSIM (network output)", 0.80, True, ""),
    ("real.paired.garment_ssim", "real garment-box SSIM", 0.75, True, ""),
    ("real.paired.warp_mask_iou", "real warped-garment mask IoU", 0.80, True, ""),
    ("real.paired.sharpness_ratio", "real garment sharpness / photo's", 0.85, True, ""),
    ("real.paired.face_ssim_net", "real face SSIM (network output)", 0.90, True, "kept"),
)
KEPT_NOTE = (
    "the trunk_compose fusion keeps these pixels of the photo where the new garment does not land, so "
    "the figure is high largely by construction"
)
FRONT_IMAGES = (
    (
        "front_real.png",
        "Real VITON-HD / Dress Code test pairs (never trained on): garment, shipped model's try-on, photo",
    ),
    ("front_synthetic.png", "Synthetic test samples: garment, ground truth, warped garment, try-on"),
)


def _get(d: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def headline_html(m06: dict | None) -> str:
    """The front page's headline table: each figure of :data:`TARGETS` with its bootstrap interval,
    its target and whether the interval's mean meets it."""
    import html

    if not m06:
        return "<p><em>no stage-06 metrics yet: run <code>dvc repro</code></em></p>"
    rows = []
    for path, label, target, higher, note in TARGETS:
        v, ci = _get(m06, path), _get(m06, f"{path}_ci95")
        if not isinstance(v, (int, float)):
            rows.append(
                f"<tr><td>{html.escape(label)}</td><td colspan=3><em>{html.escape(str(v))}</em></td></tr>"
            )
            continue
        cell = with_ci({"v": v, "v_ci95": ci})["v"]
        if target is None:
            verdict = ""
        else:
            met = v >= target if higher else v <= target
            verdict = f"{'&ge;' if higher else '&le;'} {target:g}: " + ("met" if met else "<b>not met</b>")
        mark = f" <sup title='{html.escape(KEPT_NOTE)}'>*</sup>" if note == "kept" else ""
        rows.append(
            f"<tr><td>{html.escape(label)}{mark}</td><td><code>{path}</code></td><td>{cell}</td><td>{verdict}</td></tr>"
        )
    n_syn, n_real = m06.get("n_test"), _get(m06, "real.n_test_pairs")
    return (
        "<h2>Headline: the network's own output</h2>"
        f"<p>Synthetic test split: {n_syn} samples; real test split: {n_real} paired pairs. Each figure: mean "
        "[bootstrap 95% interval over the samples]. No figure here is measured after pasting the photo back. "
        f"<sup>*</sup> {KEPT_NOTE}.</p>"
        "<table><tr><th>figure</th><th>metrics key (06_evaluate)</th><th>value [95% interval]</th>"
        f"<th>target</th></tr>{''.join(rows)}</table>"
    )


def ablation_html(m06: dict | None) -> str:
    """The front page's ablation table (every row with intervals) and each row's verdict."""
    import html

    abl = (m06 or {}).get("ablations")
    if not isinstance(abl, dict):
        return ""
    verdicts = m06.get("ablation_verdicts", {})
    figs = ("ssim", "identity_ssim", "epe_px", "warp_mask_iou", "contour_iou", "l1", "skin_l1")
    head = "".join(f"<th>{f}</th>" for f in figs)
    body = []
    for name, row in abl.items():
        cells = with_ci(row)
        v = verdicts.get(name, {})
        tds = "".join(
            f"<td>{cells.get(f, 'n/a')}{'' if v.get(f, 'within_ci') == 'within_ci' else f' <b>{v[f]}</b>'}</td>"
            for f in figs
        )
        body.append(f"<tr><td>{html.escape(name)}</td>{tds}</tr>")
    return (
        "<h2>Ablations (synthetic test split)</h2><p>A row is marked <b>better</b> / <b>worse</b> than its "
        "reference (<code>full_short</code> for rows trained alike on the short schedule, <code>full</code> "
        "for the shipped model's test-time ablations) only when the two 95% intervals do not overlap. "
        'Protocol and the reading of each row: <a href="06_evaluate.html">06_evaluate</a>.</p>'
        f"<table><tr><th>row</th>{head}</tr>{''.join(body)}</table>"
    )


def gallery_html(root: Path) -> str:
    """The stage-06 front-page figures (``data/06_evaluate/front_*.png``), embedded (the page is one file)."""
    import base64
    import html

    parts = []
    for name, caption in FRONT_IMAGES:
        path = root / "data" / "06_evaluate" / name
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(
                f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    return "<h2>Try-on examples</h2>" + "".join(parts) if parts else ""


def build_index(root: Path | None = None) -> Path:
    """Write ``reports/index.html``, the front page: the headline figures against their targets (with
    intervals), real and synthetic try-ons, the ablation table, the real-photo table, then a link to
    every stage report with its own headline metrics."""
    import html
    import time

    root = root or paths.ROOT
    m06 = read_metrics("06_evaluate", root)
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
        rows.append(f"<h3>{link}: {html.escape(title)}</h3><table>{figures}</table>")
    links = " &middot; ".join(f'<a href="{slug}.html">{slug}</a>' for slug in STAGE_TITLES)
    body = "\n".join(
        [
            headline_html(m06),
            gallery_html(root),
            ablation_html(m06),
            real_table_html((m06 or {}).get("real")),
            "<h2>Stage reports</h2>",
            *rows,
        ]
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tryon: shape-aware virtual try-on, pipeline report</title>
<style>body{{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin-bottom:1em}}th{{text-align:left;background:#f2f2f2}}
td,th{{border:1px solid #ccc;padding:2px 8px;font-size:90%}}td{{font-family:monospace}}
figure{{margin:1em 0}}img{{max-width:100%;border:1px solid #ddd}}figcaption{{font-size:90%;color:#444}}</style>
</head><body>
<h1>tryon: shape-aware virtual try-on</h1>
<p>A person photo, a flat garment photo and a body-shape text in; the person wearing the garment out.
This page is built by <code>dvc repro</code> ({time.strftime("%Y-%m-%d %H:%M:%S")}) from
<code>params.yaml</code> and <code>metrics/*.json</code>. Stage reports: {links}.</p>
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
