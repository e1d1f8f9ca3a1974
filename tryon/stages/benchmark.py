"""Stage 06_evaluate's real-photo test sets: the VITON benchmark (:mod:`tryon.eval.viton`) of the
pipeline's model when ``01_prepare.real_root`` is VITON, and the split of the VITON-HD / Dress Code
samples (``06_evaluate.samples_root``) whose test pairs ``real.*`` scores."""

from __future__ import annotations

from pathlib import Path

from tryon import paths, runtime
from tryon.config import Params
from tryon.data.io import DataError

#: the by-person split of the flat samples that ``real.*`` scores (its test persons: 12 VITON-HD pairs
#: and the Dress Code ones); the split stage 01 made of these samples when they were the training source
SAMPLES_TEST_FRACTION, SAMPLES_SPLIT_SEED = 0.3, 0


def samples_split(samples: Path, out_dir: Path) -> Path | None:
    """Write the split table of the flat samples folder (:data:`SAMPLES_TEST_FRACTION`,
    :data:`SAMPLES_SPLIT_SEED`) to ``out_dir/samples_split.csv``; its test rows are what ``real.*``
    scores. None when ``samples`` is absent."""
    from tryon.config import atomic_write_text
    from tryon.data.real import split_table

    if not Path(samples).is_dir():
        return None
    df = split_table(samples, SAMPLES_TEST_FRACTION, SAMPLES_SPLIT_SEED)
    path = Path(out_dir) / "samples_split.csv"
    atomic_write_text(path, df.to_csv(index=False))
    return path


def viton(params: Params, root: Path | None = None, n_gallery: int = 16) -> tuple[dict | str, dict]:
    """The VITON benchmark (:func:`tryon.eval.viton.benchmark`) of ``data/05_train/model.pt`` when
    ``01_prepare.real_root`` is a VITON (CP-VTON) folder; else a "not computed" string."""
    from tryon.data import official
    from tryon.eval import viton as V
    from tryon.stages.prepare import resolve

    root = root or paths.ROOT
    real = resolve(params.prepare.real_root)
    split = root / "data" / "01_prepare" / "real_split.csv"
    try:
        kind = official.detect(real)
    except DataError as e:
        return f"not computed: {e}", {}
    if kind != "cpvton" or not split.is_file():
        return f"not computed: 01_prepare.real_root ({real}) is not a VITON (CP-VTON) folder", {}
    device = str(runtime.resolve_device(params.base.device))
    return V.benchmark(
        root / "data" / "05_train" / "model.pt",
        real,
        split,
        device,
        params.evaluate.viton_max_pairs,
        n_gallery,
        progress=True,
    )
