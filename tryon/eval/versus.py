"""A try-on against network-free baselines on the same pairs (stage 06's ``real.versus``): the paired
bootstrap of the per-pair difference (:func:`tryon.eval.metrics.paired_bootstrap_diff`), one figure and
one baseline at a time, and the sentence that says what it decides.

A figure is read the way it improves: ``l1`` and ``painted_l1`` lower is better; ``sharpness_ratio`` as
its distance to 1 (``|ratio - 1|``, lower is better: sharper than the photo is noise, not detail, as
:mod:`tryon.eval.viton` reads it); every other figure higher is better.
"""

from __future__ import annotations

import math

from tryon.eval.metrics import paired_bootstrap_diff

#: figures where lower is better (``sharpness_ratio`` is compared as its distance to 1, also lower)
LOWER_IS_BETTER = ("l1", "painted_l1")


def lower_is_better(figure: str) -> bool:
    """How the paired comparison reads ``figure`` (see the module docstring)."""
    return figure in LOWER_IS_BETTER or figure == "sharpness_ratio"


def paired_values(figure: str, rows: list[dict]) -> list[float]:
    """One figure of each pair as the comparison reads it: ``sharpness_ratio`` as ``|ratio - 1|``; a
    missing figure is NaN (the pair is left out)."""
    vals = [float(r.get(figure, math.nan)) for r in rows]
    return [abs(v - 1) for v in vals] if figure == "sharpness_ratio" else vals


def versus(model_rows: list[dict], baselines: dict[str, list[dict]], figures: tuple[str, ...]) -> dict:
    """For each baseline and each figure of ``figures``: the paired bootstrap of model - baseline over
    the pairs (``diff``, ``ci95``, ``beats``, ``n``; ``model_rows`` and each baseline's rows are the same
    pairs in the same order). ``beats`` only when the interval excludes 0 on the better side; the
    ``sharpness_ratio`` entry says what it compared (``compared``)."""
    out: dict[str, dict] = {}
    for name, rows in baselines.items():
        if len(rows) != len(model_rows):
            raise ValueError(f"versus: {len(model_rows)} model pairs but {len(rows)} pairs of {name}")
        out[name] = {}
        for m in figures:
            d = paired_bootstrap_diff(
                paired_values(m, model_rows), paired_values(m, rows), lower_is_better(m)
            )
            if m == "sharpness_ratio":
                d["compared"] = "|sharpness_ratio - 1| (lower is better)"
            out[name][m] = d
    return out


def worse(ci95: list[float], lower: bool) -> bool:
    """Does an interval of model - baseline exclude 0 on the worse side?"""
    lo, hi = ci95
    return bool(math.isfinite(lo) and math.isfinite(hi) and (lo > 0 if lower else hi < 0))


def versus_sentence(vs: dict[str, dict[str, dict]]) -> str:
    """One sentence, from :func:`versus`' result: for each baseline the figures on which the network
    output is better (the paired 95% interval of the difference excludes 0 on the better side), those the
    pairs cannot tell apart (the interval holds 0) and those on which it is worse."""
    parts = []
    for name, figs in vs.items():
        won = [m for m, d in figs.items() if d["beats"]]
        lost = [m for m, d in figs.items() if worse(d["ci95"], lower_is_better(m))]
        tied = [m for m in figs if m not in won and m not in lost]
        text = f"{name}: better on {', '.join(won) if won else 'no figure'}"
        text += f"; not told apart on {', '.join(tied)}" if tied else ""
        text += f"; worse on {', '.join(lost)}" if lost else ""
        parts.append(text)
    return (
        "The network output against the baselines, by the paired 95% interval of the per-pair difference: "
        + "; ".join(parts)
        + "."
    )
