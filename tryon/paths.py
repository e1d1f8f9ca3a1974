"""Where things live. Every stage writes into ``data/<slug>/``, ``metrics/<slug>.json`` and
``reports/<slug>.html`` (slug = notebook = DVC stage = params section = output folder)."""

from __future__ import annotations

import os
from pathlib import Path

#: repository root (the folder holding ``params.yaml``); override with ``TRYON_ROOT``
ROOT = Path(os.environ.get("TRYON_ROOT", Path(__file__).resolve().parents[1]))
DATA_DIR = ROOT / "data"
METRICS_DIR = ROOT / "metrics"
REPORTS_DIR = ROOT / "reports"
#: the real VITON-HD / Dress Code fixtures shipped beside the repo (absent in a user's clone)
SHARED_SAMPLES = ROOT.parent / "shared" / "data" / "vton-samples"


def stage_dir(slug: str, root: Path | None = None) -> Path:
    """Output folder of a stage, e.g. ``data/01_prepare``."""
    return (root or ROOT) / "data" / slug
