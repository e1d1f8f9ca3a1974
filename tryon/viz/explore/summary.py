"""What an explorer run measured, written down: :func:`write_summary` (one JSON) and :func:`latency_note`
(one Markdown line of :meth:`~tryon.viz.explore.widgets.ExplorerUI.time_updates`)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tryon.viz.explore.sweeps import Sweep
    from tryon.viz.explore.widgets import ExplorerUI


def write_summary(path: str | os.PathLike, ui: ExplorerUI, latency: dict, sw: Sweep | None) -> Path:
    """The explorer run's figures in one JSON (checkpoint, inputs, text, update latency, the sweep's
    widths and rank correlation); atomic."""
    import json

    from tryon.config import atomic_write_text

    v = ui.view
    d = {
        "checkpoint": str(ui.ex.checkpoint),
        "person": v.inputs.name if v is not None else None,
        "trunk_from": v.result.parse_source if v is not None else None,
        "text": v.text if v is not None else None,
        "latency": {k: (list(x) if isinstance(x, tuple) else x) for k, x in latency.items()},
    }
    if sw is not None:
        d["sweep"] = {
            "field": sw.field, "values": list(sw.values), "widths": [round(float(x), 5) for x in sw.widths],
            "spearman": None if math.isnan(sw.rank_correlation()) else round(sw.rank_correlation(), 4),
            "seconds": round(sw.seconds, 2),
        }  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(d, indent=2) + "\n")
    return path


def latency_note(lat: dict) -> str:
    """One Markdown line of :meth:`ExplorerUI.time_updates`'s measurement."""
    w, h = lat["size"]
    ok = "within" if lat["max"] <= 2.0 else "OVER"
    return (
        f"**Update latency** ({lat['n']} text changes, photo at {w}x{h} px, working size {lat['working_size']} "
        f"px, {lat['threads']} torch thread{'s' if lat['threads'] != 1 else ''}, 1-min load {lat['load_1min']:.1f} on {lat['cores']} cores): "
        f"median {lat['median']:.2f} s, max {lat['max']:.2f} s, {ok} the 2 s target "
        f"(network + composition {lat['predict_median']:.2f} s, drawing the rest)."
        + f" CPU time per update (all threads): median {lat['cpu_median']:.2f} s, max {lat['cpu_max']:.2f} s"
        + (
            "; other work kept the cores busy (load above the core count), so the wall times are inflated: on an "
            "idle machine an update takes at most its CPU time."
            if lat["load_1min"] > lat["cores"]
            else "."
        )
    )
