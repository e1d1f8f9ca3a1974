"""Checkpoint files: atomic ``torch.save`` and a loader with a one-line error.

Below every layer that writes or reads weights (training loop, network factory, inference), so none
of them needs another to touch a checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from tryon.config import atomic_write


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temp file in the same folder, fsync, then rename: never a half-written file."""
    atomic_write(path, lambda fh: torch.save(obj, fh))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by :func:`atomic_torch_save`; one-line error when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # a truncated or foreign file
        raise ValueError(f"{path}: not a readable tryon checkpoint ({type(e).__name__})") from None


def save_inference_checkpoint(
    path: str | os.PathLike, model, arch: dict, vocab, step: int, image_size: int
) -> None:
    """What inference loads (the ``05_train/model.pt`` format): weights, architecture arguments,
    vocabulary, step and working image size; atomic."""
    atomic_torch_save(
        {"model": model.state_dict(), "architecture": arch, "vocab": vocab.to_dict(),
         "step": step, "image_size": image_size},
        path,
    )  # fmt: skip
