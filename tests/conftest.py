import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

from tryon import paths  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same RNG state, so random inputs cannot make a test flaky."""
    import random

    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def shared_samples():
    """The real VITON-HD / Dress Code fixtures (../shared/data/vton-samples); skip when absent."""
    if not paths.SHARED_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {paths.SHARED_SAMPLES} (only present beside the CI checkout)")
    return paths.SHARED_SAMPLES


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
