"""Property tests of the loss terms and the VGG feature extractor (CPU, small images)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.models import vgg19

from tryon.losses import Criterion, combine, flow_loss, gram_matrix, mask_l1, rec_loss, style_loss, warp_loss
from tryon.nets.vgg import VGGFeatures, VGGWeightsError, build_vgg

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


@pytest.fixture(scope="module")
def vgg():
    torch.set_num_threads(1)
    return build_vgg("", layers=LAYERS, seed=0)


def _img(seed, b=2, s=32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, s, s, generator=g) * 2 - 1


def test_vgg_shapes_frozen_and_named(vgg):
    feats = vgg(_img(0, s=32))
    assert list(feats) == list(LAYERS)
    assert feats["relu1_1"].shape == (2, 64, 32, 32)
    assert feats["relu2_1"].shape == (2, 128, 16, 16)
    assert feats["relu3_1"].shape == (2, 256, 8, 8)
    assert all(not p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training  # stays in eval mode inside a parent's .train()
    assert vgg.weights_source == "random(seed=0)"


def test_vgg_random_init_is_fixed_by_seed_and_leaves_global_rng():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = VGGFeatures(("relu1_1",), "", seed=5)
    after = torch.rand(3)
    b = VGGFeatures(("relu1_1",), "", seed=5)
    c = VGGFeatures(("relu1_1",), "", seed=6)
    assert torch.equal(before, after)
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_vgg_loads_torchvision_state_dict(tmp_path):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(99)
        full = vgg19(weights=None).features[:7].state_dict()  # enough for relu2_1
    path = tmp_path / "vgg.pth"
    torch.save({f"features.{k}": v for k, v in full.items()}, path)
    net = build_vgg(str(path), layers=("relu1_1", "relu2_1"))
    assert net.weights_source == f"imagenet:{path}"
    assert torch.equal(net.features[5].weight, full["5.weight"])


def test_vgg_bad_paths_are_one_line_errors(tmp_path):
    with pytest.raises(VGGWeightsError, match="not found") as e:
        build_vgg(str(tmp_path / "nope.pth"))
    assert "\n" not in str(e.value) and "nope.pth" in str(e.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(VGGWeightsError, match="junk.pth") as e:
        build_vgg(str(junk))
    assert "\n" not in str(e.value)
    partial = tmp_path / "partial.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, partial)
    with pytest.raises(VGGWeightsError, match="missing"):
        build_vgg(str(partial), layers=("relu2_1",))
    with pytest.raises(ValueError, match="unknown"):
        build_vgg("", layers=("relu9_9",))


@pytest.mark.parametrize("mode", ["feature", "gram"])
def test_style_loss_zero_on_identical_positive_otherwise(vgg, mode):
    x, y = _img(1), _img(2)
    assert style_loss(x, x.clone(), vgg, mode).item() == pytest.approx(0.0, abs=1e-7)
    assert style_loss(x, y, vgg, mode).item() > 0


def test_gram_mode_ignores_alignment_feature_mode_does_not(vgg):
    # a circular shift moves every feature but keeps the feature statistics; a smoothed copy keeps the
    # layout but changes the statistics
    x = _img(3, b=1, s=64)
    shifted = torch.roll(x, shifts=(16, 16), dims=(2, 3))
    smooth = F.interpolate(F.avg_pool2d(x, 4), scale_factor=4, mode="nearest")
    gram_shift = style_loss(shifted, x, vgg, "gram").item()
    gram_smooth = style_loss(smooth, x, vgg, "gram").item()
    feat_shift = style_loss(shifted, x, vgg, "feature").item()
    feat_smooth = style_loss(smooth, x, vgg, "feature").item()
    assert gram_shift < 0.1 * gram_smooth
    assert feat_shift > 0.5 * feat_smooth  # the method's reading is not shift-invariant


def test_style_loss_gradient_reaches_pred_only(vgg):
    x = _img(5).requires_grad_(True)
    y = _img(6).requires_grad_(True)
    style_loss(x, y, vgg).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert y.grad is None


def test_gram_matrix_matches_definition():
    f = torch.randn(2, 4, 3, 5)
    g = gram_matrix(f)
    ref = torch.einsum("bchw,bdhw->bcd", f, f) / (4 * 3 * 5)
    assert torch.allclose(g, ref, atol=1e-6)
    assert torch.allclose(g, g.transpose(1, 2))


def test_warp_loss_terms(vgg):
    img = _img(7)
    mask = (torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    same = warp_loss(img * mask, img * mask, mask, mask, vgg)
    assert set(same) == {"vgg", "mask"}
    assert same["vgg"].item() == pytest.approx(0.0, abs=1e-7) and same["mask"].item() == 0.0
    diff = warp_loss(img * mask, img * (1 - mask), mask, 1 - mask, vgg)
    assert diff["vgg"].item() > 0 and diff["mask"].item() == pytest.approx(1.0)


def test_rec_and_mask_l1():
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert rec_loss(a, a).item() == 0.0
    assert rec_loss(a, b).item() == pytest.approx(1.0)
    m = torch.zeros(1, 1, 4, 4)
    m[..., :2, :] = 1
    b2 = b.clone()
    b2[..., 2:, :] = 5.0  # outside the mask: ignored
    assert rec_loss(a, b2, m).item() == pytest.approx(1.0)
    assert mask_l1(m, 1 - m).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        rec_loss(a, torch.zeros(1, 3, 4, 5))


def test_flow_loss_masked_l1():
    gt = torch.rand(2, 2, 8, 8) * 2 - 1
    valid = torch.zeros(2, 1, 8, 8)
    valid[:, :, 2:6, 2:6] = 1
    assert flow_loss(gt.clone(), gt, valid).item() == 0.0
    pred = gt + 0.25 * valid - 3.0 * (1 - valid)  # error 0.25 inside, large outside (ignored)
    assert flow_loss(pred, gt, valid).item() == pytest.approx(0.25, rel=1e-5)
    p = pred.clone().requires_grad_(True)
    zero = flow_loss(p, gt, torch.zeros_like(valid))  # real data: nothing valid
    assert zero.item() == 0.0
    zero.backward()
    assert p.grad is not None and p.grad.abs().sum() == 0


def test_flow_loss_of_a_known_shift_is_its_size_in_normalised_units():
    """tryon's own grids: a flow of 2 pixels in x (tryon.geometry.flow_to_grid, source = target + flow)
    differs from the identity grid by 2 * 2 / W in x and 0 in y, so the loss (the mean over both
    coordinates) is 2 / W; the same grid warps the image 2 pixels to the left (x first: a swapped
    convention would move it vertically), which is what the warp terms of the loss are computed on."""
    from tryon.geometry import flow_to_grid, identity_grid, warp

    h, w = 6, 8
    flow = torch.zeros(1, 2, h, w)
    flow[:, 0] = 2.0  # x: sample two pixels to the right
    grid = flow_to_grid(flow)
    valid = torch.ones(1, 1, h, w)
    assert flow_loss(grid, identity_grid(1, h, w), valid).item() == pytest.approx(2 / w)
    img = torch.rand(1, 3, h, w)
    out = warp(img, grid)
    assert torch.allclose(out[..., : w - 2], img[..., 2:], atol=1e-6)  # out[x] = img[x + 2]
    assert (out[..., w - 2 :] == 0).all()  # beyond the right edge: zeros
    assert torch.allclose(warp(img, identity_grid(1, h, w)), img, atol=1e-6)


def test_combine_weights_and_strictness():
    terms = {"a": torch.tensor(2.0), "b": torch.tensor(3.0)}
    out = combine(terms, {"a": 0.5, "b": 2.0})
    assert out["total"].item() == pytest.approx(7.0)
    assert out["a"].item() == 2.0 and out["b"].item() == 3.0
    assert combine(terms, {"a": 0.0, "b": 0.0})["total"].item() == 0.0
    with pytest.raises(ValueError, match="same terms"):
        combine(terms, {"a": 1.0})
    with pytest.raises(ValueError, match="same terms"):
        combine(terms, {"a": 1.0, "b": 1.0, "c": 1.0})
    crit = Criterion({"a": 1.0, "b": 1.0})
    assert crit(terms)["total"].item() == pytest.approx(5.0)
    with pytest.raises(ValueError, match=">= 0"):
        Criterion({"a": -1.0})
