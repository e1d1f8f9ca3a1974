"""LPIPS / FID / KID plumbing (tryon.eval.perceptual) with weight files made here from randomly initialised
networks of the right architectures: the real pretrained weights are not available (nor downloadable),
so these tests check loading, validation, the no-download guarantee and the metrics' basic properties,
not published values."""

import socket
import urllib.request

import pytest
import torch
import torchvision

from tryon.eval import perceptual as pc
from tryon.eval.metrics import NOT_COMPUTED


class NetworkBlocked(RuntimeError):
    pass


def _blocked(*args, **kwargs):
    raise NetworkBlocked(f"network access attempted: {args[:1]}")


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """An empty TORCH_HOME (no cached weights) and every download path used by torch, torchvision,
    torch-fidelity and torchmetrics made to raise."""
    import torch_fidelity.feature_extractor_inceptionv3 as tfi
    import torchvision.models._api as tv_api

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", _blocked)
    monkeypatch.setattr(torch.hub, "download_url_to_file", _blocked)
    monkeypatch.setattr(tv_api, "load_state_dict_from_url", _blocked)
    monkeypatch.setattr(tfi, "load_state_dict_from_url", _blocked)
    monkeypatch.setattr(urllib.request, "urlopen", _blocked)
    monkeypatch.setattr(socket.socket, "connect", _blocked)


def _images(n, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


# ------------------------------------------------------------------------------------------- fast tests
def test_download_guard_catches_the_download_paths(no_network):
    """The guard is real: the pretrained constructors torchvision and torchmetrics would use fail loudly."""
    from torchmetrics.image.kid import KernelInceptionDistance
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    with pytest.raises(NetworkBlocked):
        torchvision.models.squeezenet1_1(weights="DEFAULT")
    with pytest.raises(NetworkBlocked):
        LearnedPerceptualImagePatchSimilarity(net_type="squeeze")  # the stock metric downloads its backbone
    with pytest.raises(NetworkBlocked), pytest.warns(UserWarning):
        KernelInceptionDistance()  # torchmetrics' KID cannot take a local Inception path


def test_lpips_values_without_network(weights, no_network):
    x, y = _images(4, seed=0), _images(4, seed=1)
    near = (x + 0.05 * y).clamp(-1, 1)
    path = str(weights / "alexnet_features.pth")
    scores = pc.lpips_scores(torch.cat([x, x, y]), torch.cat([x, near, x]), path)
    same, small, d_yx = scores[:4], scores[4:8], scores[8:]
    assert same == [0.0] * 4 and all(0 < s for s in small) and all(s > 0 for s in d_yx)
    assert max(small) < min(d_yx)  # a small change is closer than another image
    assert pc.lpips(x, y, path) == pytest.approx(sum(d_yx) / 4, rel=1e-5)  # symmetric; lpips = mean


def test_lpips_full_model_file_equals_features_only_and_heads_come_from_torchmetrics(weights, alexnet_full):
    full = pc.lpips_model(str(alexnet_full))
    feat = pc.lpips_model(str(weights / "alexnet_features.pth"))
    a, b = full.state_dict(), feat.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(full.net.slice1[0].weight, torch.load(weights / "alexnet_features.pth")["0.weight"])
    heads = torch.load(
        pc._lpips_heads_file("alex"), map_location="cpu", weights_only=True
    )  # shipped in the torchmetrics wheel
    assert torch.equal(full.lin0.model[1].weight, heads["lin0.model.1.weight"])


def test_missing_and_wrong_files_raise_weights_error(weights, tmp_path):
    """One-line messages naming the param, the file and what was expected; checked before any compute."""
    x = _images(2)
    missing = tmp_path / "alexnet-owt-7be5be79.pth"
    with pytest.raises(pc.WeightsError, match=rf"06_evaluate\.lpips_weights: .*not found: {missing}"):
        pc.lpips(x, x, str(missing))
    with pytest.raises(pc.WeightsError, match=r"06_evaluate\.inception_weights: .*not found"):
        pc.fid_kid(x, x, str(missing))
    resnet = weights / "resnet18.pth"
    with pytest.raises(
        pc.WeightsError, match=rf"lpips_weights: {resnet} is not a torchvision alexnet.*missing keys"
    ):
        pc.lpips(x, x, str(resnet))
    with pytest.raises(pc.WeightsError, match=rf"inception_weights: {resnet} is not the .*InceptionV3"):
        pc.fid_kid(x, x, str(resnet))
    with pytest.raises(
        pc.WeightsError, match=r"inception_weights: .*alexnet_features.pth is not .*missing keys"
    ):
        pc.inception_model(str(weights / "alexnet_features.pth"))
    with pytest.raises(pc.WeightsError, match=r"notes.txt is not a plain tensor state dict"):
        pc.lpips(x, x, str(weights / "notes.txt"))
    with pytest.raises(pc.WeightsError, match=r"heads_path: .*alexnet_features.pth is not the LPIPS"):
        pc.lpips_model(
            str(weights / "alexnet_features.pth"), heads_path=str(weights / "alexnet_features.pth")
        )
    assert issubclass(pc.WeightsError, ValueError)


def test_inception_loads_from_local_file_without_network(inception, no_network):
    model = pc.inception_model(str(inception))
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert torch.equal(model.fc.weight, torch.load(inception)["fc.weight"])
    with pytest.raises(pc.WeightsError, match=r"lpips_weights: .*inception.pth is not a torchvision alexnet"):
        pc.lpips(_images(2), _images(2), str(inception))


def test_empty_paths_give_the_not_computed_strings():
    x = _images(2)
    out = pc.perceptual_metrics(x, x, "", "")
    assert out["lpips"] == f"LPIPS {NOT_COMPUTED}"
    assert out["fid"] == f"FID {NOT_COMPUTED}" and out["kid"] == f"KID {NOT_COMPUTED}"
    assert NOT_COMPUTED in out["perceptual_settings"]


# ------------------------------------------------------------------------------------------- slow tests
@pytest.mark.slow
def test_fid_kid_values(inception, no_network):
    path = str(inception)
    x = _images(4)
    far = torch.zeros(4, 3, 64, 64)  # flat grey images: very different from noise
    far[:, 0] = torch.linspace(-1, 1, 4).view(4, 1, 1)
    same, diff = pc.fid_kid(x, x, path), pc.fid_kid(x, far, path)
    assert abs(same["fid"]) < 1e-4 and diff["fid"] > 1e3 * max(abs(same["fid"]), 1e-6)
    assert same["kid_subset_size"] == 4 and "subsets of 4" in same["feature_extractor"]
    # unbiased MMD^2: slightly negative for identical sets, positive for different ones
    assert abs(same["kid_mean"]) < diff["kid_mean"]
    assert all(isinstance(r[k], float) for r in (same, diff) for k in ("fid", "kid_mean", "kid_std"))
    assert "NOT the official pt_inception-2015-12-05-6726825d.pth" in same["feature_extractor"]


@pytest.mark.slow
def test_fid_kid_match_torchmetrics_and_torch_fidelity(inception):
    """The one-pass feature extraction gives what the stock torchmetrics metrics give on uint8 images,
    and the features are torch-fidelity's own InceptionV3 features."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    path = str(inception)
    fake, real = pc._to_uint8(_images(4, seed=2)), pc._to_uint8(_images(5, seed=3) * 0.5)
    ours = pc.fid_kid(fake, real, path, kid_subset_size=3, kid_subsets=20, seed=7)

    fid = FrechetInceptionDistance(feature_extractor_weights_path=path, antialias=False)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    assert ours["fid"] == pytest.approx(float(fid.compute()), rel=1e-4)
    with pytest.warns(UserWarning):
        kid = KernelInceptionDistance(feature=pc.inception_model(path), subsets=20, subset_size=3)
    kid.update(real, real=True)
    kid.update(fake, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        mean, std = kid.compute()
    assert ours["kid_mean"] == pytest.approx(float(mean), rel=1e-3, abs=1e-9)
    assert ours["kid_std"] == pytest.approx(float(std), rel=1e-3, abs=1e-9)

    reference = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=path
    )
    with torch.no_grad():
        assert torch.allclose(reference(fake)[0], pc.inception_model(path)(fake), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_perceptual_metrics_with_weights(alexnet_full, inception, no_network):
    fake, real = _images(3, seed=4), _images(3, seed=5)
    out = pc.perceptual_metrics(fake, real, str(alexnet_full), str(inception))
    assert isinstance(out["lpips"], float) and out["lpips"] > 0
    assert isinstance(out["fid"], float) and set(out["kid"]) == {"mean", "std"}
    s = out["perceptual_settings"]
    assert "alexnet features from alexnet_full.pth" in s and "lpips_models/alex.pth" in s
    assert "(2048-d)" in s and "subsets of 3" in s
    only_lpips = pc.perceptual_metrics(fake, real, str(alexnet_full), "")
    assert isinstance(only_lpips["lpips"], float) and only_lpips["fid"] == f"FID {NOT_COMPUTED}"
