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


def _viton_folder(params: Params, root: Path) -> tuple[Path, Path] | str:
    """(VITON folder, split table) when ``01_prepare.real_root`` is a VITON (CP-VTON) folder that stage 01
    split; else the "not computed" reason."""
    from tryon.data import official
    from tryon.stages.prepare import resolve

    real = resolve(params.prepare.real_root)
    split = root / "data" / "01_prepare" / "real_split.csv"
    try:
        kind = official.detect(real)
    except DataError as e:
        return f"not computed: {e}"
    if kind != "cpvton" or not split.is_file():
        return f"not computed: 01_prepare.real_root ({real}) is not a VITON (CP-VTON) folder"
    return real, split


def viton_unpaired(params: Params, root: Path | None = None) -> tuple[dict | str, dict]:
    """The unpaired VITON figures (:func:`tryon.eval.unpaired.benchmark`: garment-shape agreement through
    ``06_evaluate.parser`` and the realism critic) of ``data/05_train/model.pt`` and, when the run had a
    real phase, its ``synthetic_only.pt``, on ``06_evaluate.unpaired_max_pairs`` clean test pairs."""
    from tryon.eval import unpaired as U
    from tryon.stages.evaluate import had_real_phase
    from tryon.stages.prepare import resolve
    from tryon.stages.train import SYNTHETIC_ONLY

    root = root or paths.ROOT
    found = _viton_folder(params, root)
    if isinstance(found, str):
        return found, {}
    real, split = found
    train_dir = root / "data" / "05_train"
    ckpts = {"model": train_dir / "model.pt"}
    if had_real_phase(train_dir / SYNTHETIC_ONLY, ckpts["model"]):
        ckpts["synthetic_only"] = train_dir / SYNTHETIC_ONLY
    cfg = params.evaluate
    device = str(runtime.resolve_device(params.base.device))
    parser = resolve(cfg.parser) if cfg.parser else None
    m, ex = U.benchmark(
        ckpts, parser, real, split, "test", cfg.unpaired_max_pairs, folds=cfg.realism_folds, device=device,
        progress=True,
    )  # fmt: skip
    m["vitonhd_samples"] = U.samples_shape(ckpts, parser, resolve(cfg.samples_root), device)
    return m, ex


def viton(params: Params, root: Path | None = None, n_gallery: int = 16) -> tuple[dict | str, dict]:
    """The VITON benchmark (:func:`tryon.eval.viton.benchmark`) of ``data/05_train/model.pt`` when
    ``01_prepare.real_root`` is a VITON (CP-VTON) folder; else a "not computed" string."""
    from tryon.eval import viton as V

    root = root or paths.ROOT
    found = _viton_folder(params, root)
    if isinstance(found, str):
        return found, {}
    real, split = found
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
