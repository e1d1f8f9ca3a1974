"""Helpers for stage notebooks and reports: show params, write metrics JSON atomically,
embed figures. Plot-free logic only; plotting helpers live in :mod:`tryon.viz`."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from tryon import paths
from tryon.config import Params, atomic_write_text


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
