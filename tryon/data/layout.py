"""Which real dataset layout a folder holds (VITON-HD or Dress Code), told from its person image names.

A module of its own so that :mod:`tryon.data.annotate` and :mod:`tryon.data.dataset` both use it without
importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from tryon.data import io


def detect_layout(root: str | os.PathLike) -> str:
    """'dresscode' when the person images use Dress Code's ``_0`` suffix, else 'vitonhd'."""
    imgs = sorted((Path(root) / "image").glob("*.jpg"))
    if not imgs:
        raise io.DataError(f"{Path(root) / 'image'}: no person images (*.jpg) found")
    return "dresscode" if all(p.stem.endswith("_0") for p in imgs) else "vitonhd"
