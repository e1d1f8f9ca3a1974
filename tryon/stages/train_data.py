"""What stage 05 trains on: the synthetic parts of a batch and the batch mix (with the real part).

The paired synthetic train split teaches the warp and the fusion on a person wearing the garment
itself, where every pixel of skin is visible in the photo and kept. With ``05_train.unpaired_fraction``
> 0 a share of the synthetic samples of each batch is **unpaired with ground truth**: a train person
in another train person's procedural garment, the truth rendered (:class:`UnpairedSynthetic`). Only
there does the old garment hide skin that the new one uncovers, so only there does the fusion learn to
paint that skin (``skin_l1`` of stage 06).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import ConcatDataset

from tryon.config import Params
from tryon.data.dataset import TryOnDataset, UnpairedSynthetic
from tryon.stages.contour import CodedDataset
from tryon.text import Vocabulary
from tryon.train.loop import PartsSampler

#: other train garments per person in the unpaired part
UNPAIRED_SHIFTS = 8


def synthetic_parts(params: Params, prepared: Path, vocab: Vocabulary) -> list:
    """The synthetic training parts: ``[paired]`` or, with ``unpaired_fraction`` > 0,
    ``[paired, unpaired]`` (each person in :data:`UNPAIRED_SHIFTS` other train garments)."""
    paired = TryOnDataset(prepared, "train", params.base.image_size)
    parts = [CodedDataset(paired, vocab)]
    if params.train.unpaired_fraction > 0 and len(paired) > 1:
        n_shifts = min(UNPAIRED_SHIFTS, len(paired) - 1)
        parts.append(CodedDataset(UnpairedSynthetic(paired, n_shifts=n_shifts, skin_gain=False), vocab))
    return parts


def synthetic_counts(n_synthetic: int, fraction: float, n_parts: int) -> list[int]:
    """Per-part counts of the ``n_synthetic`` synthetic samples of a batch: ``fraction`` of them
    (rounded half up) unpaired when there is an unpaired part."""
    if n_parts == 1:
        return [n_synthetic]
    k = min(n_synthetic, int(fraction * n_synthetic + 0.5))
    return [n_synthetic - k, k]


def mixed(parts: list, counts: list[int], seed: int, rank: int = 0, world_size: int = 1):
    """``(dataset, sampler)`` for :func:`tryon.train.loop.fit`: the parts concatenated, each batch
    ``counts[p]`` samples of part ``p``; a single part keeps fit's default sampler (``None``)."""
    if len(parts) == 1:
        return parts[0], None
    sampler = PartsSampler([len(p) for p in parts], counts, seed, rank, world_size)
    return ConcatDataset(parts), sampler


def unpaired_note(params: Params, parts: list) -> str:
    """The synthetic mix in words, for the metrics and the report."""
    t = params.train
    if len(parts) == 1:
        return "paired only (05_train.unpaired_fraction 0)"
    k = synthetic_counts(t.batch_size, t.unpaired_fraction, 2)[1]
    return (
        f"{k} of every {t.batch_size} synthetic samples unpaired with rendered ground truth "
        f"(a train person in another train garment, {len(parts[1])} such pairs)"
    )
