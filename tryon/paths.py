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
#: VITON as CP-VTON published it, beside the repo (absent in a user's clone)
SHARED_VITON = ROOT.parent / "shared" / "data" / "viton"
#: the model the pipeline trains, and the shipped one (committed; models/README.md is its model card)
PIPELINE_MODEL = ROOT / "data" / "05_train" / "model.pt"
SHIPPED_MODEL = ROOT / "models" / "model.pt"


def default_checkpoint() -> tuple[Path, str]:
    """(checkpoint, what it is): the pipeline's model when ``dvc repro`` has made it, else the shipped one."""
    if PIPELINE_MODEL.is_file():
        return PIPELINE_MODEL, "the pipeline's model (data/05_train/model.pt)"
    return SHIPPED_MODEL, "the shipped model (models/model.pt; run the pipeline to train your own)"


def stage_dir(slug: str, root: Path | None = None) -> Path:
    """Output folder of a stage, e.g. ``data/01_prepare``."""
    return (root or ROOT) / "data" / slug
