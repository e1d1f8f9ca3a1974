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

#: columns of the real-photo table (lower is better for l1 and painted_l1; 1.0 is as sharp as the photo);
#: ``painted_*``: the pixels the fusion leaves to the network outside the garment (arms, neck)
REAL_COLUMNS = (
    "ssim_net",
    "garment_ssim",
    "warp_mask_iou",
    "garment_edge_ssim",
    "l1",
    "sharpness_ratio",
    "painted_ssim",
    "painted_l1",
    "ssim",
    "psnr",
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
        "<p>Each cell: mean [bootstrap 95% interval over the pairs]. A baseline is beaten on a figure only "
        "when the paired 95% interval of the per-pair difference excludes 0 (<code>real.versus</code>).</p>"
        f"<table><tr><th>image</th>{head}</tr>{body}</table><p>{sentence}</p>{kept_html(real)}"
    )


def kept_html(real: dict) -> str:
    """``real.kept``: figures of pixels the fusion keeps (the face), listed apart with the reason they
    are no network result."""
    import html

    kept = real.get("kept")
    if not isinstance(kept, dict):
        return ""
    figs = ", ".join(f"{k} {_fmt(v)}" for k, v in kept.items() if k != "note")
    return f"<p><em>Kept, not a network result</em> ({html.escape(kept.get('note', ''))}): {html.escape(figs)}.</p>"


#: the front page's headline targets: (stage-06 path, label, target, higher is better, note)
TARGETS = (
    ("ablations.full.ssim", "synthetic SSIM (network output)", 0.90, True, ""),
    ("ablations.full.identity_ssim", "synthetic identity SSIM (trunk regions)", None, True, "kept"),
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
    ("real.paired.painted_ssim", "real SSIM where the network paints outside the garment", None, True, ""),
    ("real.paired.painted_l1", "real error where the network paints outside the garment", None, False, ""),
)
KEPT_NOTE = (
    "the trunk_compose fusion keeps these pixels of the photo where the new garment does not land, so "
    "the figure is high largely by construction: no target is set on it"
)
#: where the network-free baselines of a headline figure are: the figure's row -> the baselines' rows
BASELINE_ROWS = {"ablations.full": "baselines", "real.paired": "real.baselines"}

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


def baselines_of(m06: dict, path: str) -> dict[str, float]:
    """The network-free baselines' value of the headline figure at ``path`` (:data:`BASELINE_ROWS`):
    ``{baseline: value}``, empty when they have no such figure."""
    row, _, fig = path.rpartition(".")
    base = _get(m06, BASELINE_ROWS.get(row, ""))
    if not isinstance(base, dict):
        return {}
    out = {n: r.get(fig) for n, r in base.items() if n != "model" and isinstance(r, dict)}
    return {n: float(v) for n, v in out.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def constant_across_models(m06: dict, path: str) -> bool:
    """Is the headline figure at ``path`` the same for every model measured (the shipped one and, for a
    synthetic figure, every other row of ``ablations`` on the same pairs; for a real one the
    synthetic-only model)? Such a figure is fixed by the composition, not by the network."""
    row, _, fig = path.rpartition(".")
    if row == "ablations.full":
        others = [
            r for k, r in (m06.get("ablations") or {}).items() if k != "full" and not k.endswith("_unpaired")
        ]
    elif row == "real.paired":
        others = [_get(m06, "real.synthetic_only")]
    else:
        others = []
    vals = [r.get(fig) for r in others if isinstance(r, dict) and isinstance(r.get(fig), (int, float))]
    v = _get(m06, path)
    return bool(vals) and all(math.isclose(x, v, rel_tol=0, abs_tol=1e-9) for x in vals)


def target_verdict(m06: dict, path: str, v: float, target: float | None, higher: bool) -> str:
    """The headline table's verdict on ``v`` (the figure at ``path``) against ``target``: "met" only when
    the figure differs between models and no network-free baseline reaches the target too; otherwise
    it says which of those it is (never "met")."""
    if target is None:
        return ""
    rel = f"{'&ge;' if higher else '&le;'} {target:g}: "

    def reaches(x: float) -> bool:
        return x >= target if higher else x <= target

    if constant_across_models(m06, path):
        return rel + "<b>no network result</b> (the same for every model)"
    free = {n: x for n, x in baselines_of(m06, path).items() if reaches(x)}
    if free:
        names = ", ".join(f"{n} {x:.3f}" for n, x in free.items())
        return rel + f"<b>not evidence</b>: reached without a network ({names})"
    return rel + ("met" if reaches(v) else "<b>not met</b>")


def versus_cell(m06: dict, path: str) -> str:
    """Which baselines the shipped model beats on a real headline figure, by the paired bootstrap of the
    difference (``real.versus.<baseline>.<figure>``); empty for other figures."""
    row, _, fig = path.rpartition(".")
    vs = _get(m06, "real.versus") if row == "real.paired" else None
    if not isinstance(vs, dict):
        return ""
    won = [n for n, figs in vs.items() if isinstance(figs, dict) and (figs.get(fig) or {}).get("beats")]
    lost = [n for n, figs in vs.items() if isinstance(figs, dict) and fig in figs and n not in won]
    if not won and not lost:
        return ""
    return "beats " + (", ".join(won) or "none") + (f"; not {', '.join(lost)}" if lost else "")


def headline_html(m06: dict | None) -> str:
    """The front page's headline table: each figure of :data:`TARGETS` with its bootstrap interval, the
    network-free baselines' value beside it (and, on real photos, which of them the paired interval
    says it beats), its target and the verdict (:func:`target_verdict`)."""
    import html

    if not m06:
        return "<p><em>no stage-06 metrics yet: run <code>dvc repro</code></em></p>"
    rows = []
    for path, label, target, higher, note in TARGETS:
        v, ci = _get(m06, path), _get(m06, f"{path}_ci95")
        if not isinstance(v, (int, float)):
            why = "not in the metrics (run stage 06)" if v is None else str(v)
            rows.append(
                f"<tr><td>{html.escape(label)}</td><td><code>{path}</code></td>"
                f"<td colspan=4><em>{html.escape(why)}</em></td></tr>"
            )
            continue
        cell = with_ci({"v": v, "v_ci95": ci})["v"]
        free = ", ".join(f"{n} {x:.3f}" for n, x in baselines_of(m06, path).items())
        verdict = target_verdict(m06, path, v, target, higher)
        mark = f" <sup title='{html.escape(KEPT_NOTE)}'>*</sup>" if note == "kept" else ""
        rows.append(
            f"<tr><td>{html.escape(label)}{mark}</td><td><code>{path}</code></td><td>{cell}</td>"
            f"<td>{html.escape(free)}</td><td>{html.escape(versus_cell(m06, path))}</td><td>{verdict}</td></tr>"
        )
    n_syn, n_real = m06.get("n_test"), _get(m06, "real.n_test_pairs")
    return (
        "<h2>Headline: the network's own output</h2>"
        f"<p>Synthetic test split: {n_syn} samples; real test split: {n_real} paired pairs. Each figure: mean "
        "[bootstrap 95% interval over the samples]. No figure here is measured after pasting the photo back. "
        "Beside each, the network-free baselines (<code>naive_paste</code> and <code>mean_fill</code> read "
        "the ground-truth garment region); on real photos, the baselines the paired 95% interval of the "
        "per-pair difference says the model beats. A target reached by a baseline, or by every model alike, "
        f"is not counted as met. <sup>*</sup> {KEPT_NOTE}.</p>"
        "<table><tr><th>figure</th><th>metrics key (06_evaluate)</th><th>value [95% interval]</th>"
        "<th>network-free baselines</th><th>paired: beats</th>"
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


#: what a stage's metric measures, where its key alone would mislead (the stage tables of the front page)
KEY_NOTES = {
    "01_prepare": {
        "gt_mae_255_mean": "a storage round trip: the stored gt_grid re-applied to the stored garment "
        "against the renderer's own sampling at that map (float16 rounding), not a check that the "
        "ground truth is right (tests/test_gt_flow.py checks that against independent renders)",
        "gt_mae_255_max": "the same storage round trip, worst sample",
        "annotate_body_type_acc": "text estimator: body type right (synthetic dev, 11 types; 1/11 by chance)",
        "annotate_build_acc": "text estimator: build right (synthetic dev, 4 builds; 1/4 by chance)",
    },
}
#: the text estimator's tracked figures (metrics/01_prepare.json): key, what it is, number of classes
ESTIMATOR = (("annotate_body_type_acc", "body type", 11), ("annotate_build_acc", "build", 4))


def estimator_html(m01: dict | None) -> str:
    """The body text of every real person is estimated from its parse map (``tryon annotate``): the
    estimator's accuracy where the truth is known (the synthetic dev split, ``metrics/01_prepare.json``),
    beside chance, so every real figure is read knowing how rough its text input is."""
    if not m01:
        return ""
    cells = []
    for key, what, n in ESTIMATOR:
        v = m01.get(key)
        value = f"{v:.3f}" if isinstance(v, (int, float)) else "not computed"
        cells.append(
            f"<tr><td>{what}</td><td><code>01_prepare.{key}</code></td><td>{value}</td><td>{1 / n:.3f}</td></tr>"
        )
    return (
        "<h2>The body text of real photos is estimated</h2><p>No real photo comes with a body-shape text: "
        "each is estimated from the person's parse map (<code>tryon annotate</code>). Where the truth is "
        "known (the synthetic dev split) the estimate is right this often:</p>"
        "<table><tr><th>attribute</th><th>metrics key</th><th>accuracy</th><th>chance (uniform)</th></tr>"
        f"{''.join(cells)}</table>"
    )


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
        notes = KEY_NOTES.get(slug, {})
        figures = (
            "".join(
                f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td>"
                f"<td>{html.escape(notes.get(k, ''))}</td></tr>"
                for k, v in headline(read_metrics(slug, root))
            )
            or "<tr><td colspan=3><em>no metrics</em></td></tr>"
        )
        rows.append(f"<h3>{link}: {html.escape(title)}</h3><table>{figures}</table>")
    links = " &middot; ".join(f'<a href="{slug}.html">{slug}</a>' for slug in STAGE_TITLES)
    body = "\n".join(
        [
            headline_html(m06),
            estimator_html(read_metrics("01_prepare", root)),
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
