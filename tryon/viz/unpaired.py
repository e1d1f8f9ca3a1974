"""Tables and worst-case galleries of the unpaired VITON figures (:mod:`tryon.eval.unpaired`) for stage 06."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryon.viz.report import with_ci

#: row order of the shape table: the models, the baselines, then the two references
_SHAPE_ROWS = ("model", "synthetic_only", "naive_paste", "keep_trunk", "old_garment", "parser_floor")
_ROW_NAMES = {
    "old_garment": "old_garment (the person's own garment, true parse)",
    "parser_floor": "parser_floor (the real photo through the parser)",
}


def shape_table(m: dict) -> pd.DataFrame:
    """Mean absolute disagreement per quantity [bootstrap 95% interval], one row per method / reference."""
    from tryon.eval.unpaired import SHAPE_FIGURES, VS_OLD

    rows = {}
    for name in [n for n in _SHAPE_ROWS if n in m["shape"]] + [n for n in m["shape"] if n not in _SHAPE_ROWS]:
        r = m["shape"][name]
        keep = {k: v for k, v in r.items() if k.split("_ci95")[0] in SHAPE_FIGURES}
        label = _ROW_NAMES.get(name, name)
        if name.endswith(VS_OLD):
            label = f"{name[: -len(VS_OLD)]} against the old garment (near 0: the old outline kept)"
        rows[label] = {**with_ci(keep), "n": r["n"]}
    return pd.DataFrame(rows).T


#: the row of :func:`follows_table` holding :func:`tryon.eval.unpaired.flat_mask_bound`
BOUND_ROW = (
    "bound: R² of the worn value from the flat garment (train pairs; the new slope reaches about this)"
)


def follows_table(m: dict) -> pd.DataFrame:
    """What each method's shape follows (:func:`tryon.eval.unpaired.follow_figures`): per quantity the
    slopes on the new and on the old garment's value with their 95% intervals, one row per method, and
    the flat garment's bound (``follows_bound``, when the metrics have it) as the last row."""

    def cell(r: dict) -> str:
        def one(k: str) -> str:
            lo, hi = r[f"{k}_ci95"]
            return f"{k} {r[k]:.2f} [{lo:.2f}, {hi:.2f}]" if r[k] == r[k] else f"{k} –"

        return f"{one('new')} · {one('old')}"

    rows = {name: {q: cell(r) for q, r in qs.items()} | {"n": max(r["n"] for r in qs.values())}
            for name, qs in m["follows"].items()}  # fmt: skip
    bound = m.get("follows_bound")
    if isinstance(bound, dict):
        rows[BOUND_ROW] = {q: f"R² {b['r2']:.2f}" for q, b in bound.items() if isinstance(b, dict)}
    return pd.DataFrame(rows).T


def realism_table(m: dict) -> pd.DataFrame:
    """Critic ROC AUC [95% interval] per set, unconditional and (where computed) conditional."""
    out: dict = {}
    for col, key in (("AUC", "realism_auc"), ("AUC with the garment", "realism_auc_conditional")):
        for name, r in m[key].items():
            out.setdefault(name, {})[col] = with_ci({"auc": r["auc"], "auc_ci95": r["auc_ci95"]})["auc"]
    return pd.DataFrame(out).T.fillna("")


def worst_galleries(ex: dict, name: str = "model", n: int = 8, size: float = 1.5):
    """One figure per unpaired figure: the ``n`` pairs that ``name``'s try-on scores worst, with the person,
    the new garment, the garment worn by its owner (its true shape), the try-on and, for the shape
    figures, the parser's reading of the try-on. Yields (figure name, matplotlib figure)."""
    from tryon.data.io import label_rgb
    from tryon.data.preprocess import rgb_to_tensor
    from tryon.eval.unpaired import worst
    from tryon.viz.train import image_grid

    for fig_name, rows in worst(ex, name, n).items():
        if not rows:
            continue
        cols = {
            "person": [rgb_to_tensor(r["person"]) for r in rows],
            "new garment": [rgb_to_tensor(r["garment"]) for r in rows],
            "worn by its owner": [rgb_to_tensor(r["owner"]) for r in rows],
            "try-on": [rgb_to_tensor(r["outputs"][name]) for r in rows],
        }
        if "parse" in rows[0]:
            cols["parsed try-on"] = [rgb_to_tensor(label_rgb(np.asarray(r["parse"]))) for r in rows]
        titles = [f"{r['id']}\n{r['value']:.2f}" for r in rows]
        yield fig_name, image_grid(cols, row_titles=titles, size=size)
