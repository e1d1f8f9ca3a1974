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
    """Every test that reads ../shared (through the ``shared_samples`` fixture, directly or through
    another fixture) carries the ``shared`` marker, so ``-m "not shared"`` runs without it; a test that
    lacks the marker stops the collection, naming it. Without CUDA the ``gpu`` tests skip."""
    import torch

    unmarked = [
        item.nodeid
        for item in items
        if "shared_samples" in getattr(item, "fixturenames", ()) and item.get_closest_marker("shared") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests read ../shared (the shared_samples fixture) without @pytest.mark.shared: "
            + ", ".join(unmarked)
        )
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# Weight files for the LPIPS / FID / KID plumbing (tests/test_perceptual.py, stage 06 tests)
@pytest.fixture(scope="session")
def weights(tmp_path_factory):
    """Small weight files of the right (and of wrong) architectures, randomly initialised (seeded)."""
    import torch
    import torchvision

    d = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).features.state_dict(), d / "alexnet_features.pth")
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), d / "resnet18.pth")
    (d / "notes.txt").write_text("not weights\n")
    return d


@pytest.fixture(scope="session")
def alexnet_full(weights):
    """A full-model torchvision AlexNet state dict (like alexnet-owt-7be5be79.pth) whose ``features`` are
    those of alexnet_features.pth."""
    import torch
    import torchvision

    alex = torchvision.models.alexnet(weights=None)
    alex.features.load_state_dict(torch.load(weights / "alexnet_features.pth"))
    torch.save(alex.state_dict(), weights / "alexnet_full.pth")
    return weights / "alexnet_full.pth"


@pytest.fixture(scope="session")
def inception(weights):
    """torch-fidelity's InceptionV3 with random weights, built without downloading: its constructor loads
    the file it is given through ``self.load_state_dict``, a no-op on this subclass (nothing global is
    patched)."""
    import torch
    from torch import nn
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Skeleton(FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):
            return None

    torch.manual_seed(0)
    torch.save({}, weights / "empty.pth")
    model = Skeleton(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights / "empty.pth")
    )
    for m in model.modules():  # variance-preserving init, else the 2048-d features all but vanish
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    torch.save(model.state_dict(), weights / "inception.pth")
    return weights / "inception.pth"
