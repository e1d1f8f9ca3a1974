"""Properties of tryon.matching: the three implementations agree; identity; shifts; batching; grads."""

import pytest
import torch
import torch.nn.functional as F

from tryon import geometry as G
from tryon.matching import MODES, correlation, global_matching, matching_rows, soft_argmax


def _feats(b=2, c=32, h=6, w=5, hg=None, wg=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    t1 = torch.randn(b, c, h, w, generator=gen)
    c1 = torch.randn(b, c, hg or h, wg or w, generator=gen)
    return t1, c1


@pytest.mark.parametrize("shape", [(2, 32, 6, 5, 6, 5), (3, 16, 8, 4, 5, 7), (1, 1, 3, 3, 4, 2)])
def test_naive_fused_chunked_agree(shape):
    b, c, h, w, hg, wg = shape
    t1, c1 = _feats(b, c, h, w, hg, wg)
    grids = {m: global_matching(t1, c1, mode=m, temperature=0.7, chunk_size=7)["grid"] for m in MODES}
    assert grids["naive"].shape == (b, 2, h, w)
    assert torch.allclose(grids["fused"], grids["naive"], atol=1e-5)
    assert torch.allclose(grids["chunked"], grids["naive"], atol=1e-5)


def test_gradients_agree_across_modes():
    t1, c1 = _feats(2, 16, 7, 6, 5, 6, seed=1)
    weight = torch.randn(2, 2, 7, 6)
    grads = {}
    for m in MODES:
        a, b = t1.clone().requires_grad_(), c1.clone().requires_grad_()
        (global_matching(a, b, mode=m, chunk_size=10)["grid"] * weight).sum().backward()
        grads[m] = (a.grad, b.grad)
    for m in ("fused", "chunked"):
        assert torch.allclose(grads[m][0], grads["naive"][0], atol=1e-5)
        assert torch.allclose(grads[m][1], grads["naive"][1], atol=1e-5)


def test_gradients_reach_both_feature_maps():
    t1, c1 = _feats(1, 8, 4, 4)
    t1.requires_grad_()
    c1.requires_grad_()
    global_matching(t1, c1)["grid"].square().sum().backward()
    assert t1.grad.abs().sum() > 0 and c1.grad.abs().sum() > 0


def test_fused_uses_the_flash_kernel_on_cpu():
    """With a 2-wide value SDPA silently falls back to the math path that stores M (FINDINGS.md)."""
    from torch.profiler import profile

    t1, c1 = _feats(1, 32, 8, 8)
    with profile() as prof:
        global_matching(t1, c1, mode="fused")
    ops = {e.key for e in prof.key_averages()}
    assert "aten::_scaled_dot_product_attention_math" not in ops
    assert "aten::_safe_softmax" not in ops and "aten::softmax" not in ops


def test_identical_features_sharp_temperature_give_identity_grid():
    t1, _ = _feats(2, 32, 8, 6)
    t1 = F.normalize(t1, dim=1)  # unit features: each position matches itself best
    for m in MODES:
        grid = global_matching(t1, t1, temperature=1e-3, mode=m)["grid"]
        assert torch.allclose(grid, G.identity_grid(2, 8, 6), atol=1e-4), m


@pytest.mark.parametrize("k", [1, 3])
def test_shifted_garment_is_recovered_within_half_pixel(k):
    h, w = 8, 10
    canvas = F.normalize(torch.randn(1, 32, h + k, w + k, generator=torch.Generator().manual_seed(k)), dim=1)
    person = canvas[..., :h, :w]  # [1, C, h, w]
    garment = canvas[..., k : k + h, k : k + w]  # garment pixel (x, y) shows canvas (x + k, y + k)
    for m in MODES:
        grid = global_matching(person, garment, temperature=0.02, mode=m)["grid"]  # [1, 2, h, w]
        pix = G.denormalize_coords(grid, h, w)  # garment pixels
        expected = G.coords_grid(1, h, w) - k  # person (x, y) comes from garment (x - k, y - k)
        err = (pix - expected).norm(dim=1)[:, k:, k:]  # only where the match exists in the garment
        assert err.max() < 0.5, (m, err.max())


def test_batched_equals_one_by_one():
    t1, c1 = _feats(4, 16, 5, 6)
    for m in MODES:
        batched = global_matching(t1, c1, mode=m)["grid"]
        single = torch.cat([global_matching(t1[i : i + 1], c1[i : i + 1], mode=m)["grid"] for i in range(4)])
        assert torch.allclose(batched, single, atol=1e-6), m


def test_matrix_rows_are_distributions_and_match_matching_rows():
    t1, c1 = _feats(2, 16, 5, 4, 6, 3)
    out = global_matching(t1, c1, mode="naive", return_matrix=True, temperature=0.5)
    m = out["matrix"]  # [B, h*w, hg*wg]
    assert m.shape == (2, 20, 18)
    assert torch.allclose(m.sum(-1), torch.ones(2, 20), atol=1e-6)
    assert torch.allclose(torch.softmax(correlation(t1, c1, 0.5), -1), m, atol=1e-6)
    q = torch.tensor([[[0, 0], [3, 4]], [[2, 1], [1, 3]]])  # (x, y) on the person map
    rows = matching_rows(t1, c1, q, temperature=0.5)  # [B, Q, hg, wg]
    for bi in range(2):
        for qi in range(2):
            x, y = q[bi, qi].tolist()
            assert torch.allclose(rows[bi, qi].flatten(), m[bi, y * 4 + x], atol=1e-6)
            # soft-argmax of a row is the warped grid at that position
            assert torch.allclose(soft_argmax(rows)[bi, qi], out["grid"][bi, :, y, x], atol=1e-5)


def test_bad_arguments_raise_clear_errors():
    t1, c1 = _feats()
    with pytest.raises(ValueError, match="mode must be one of"):
        global_matching(t1, c1, mode="dense")
    with pytest.raises(ValueError, match="return_matrix needs mode='naive'"):
        global_matching(t1, c1, mode="fused", return_matrix=True)
    with pytest.raises(ValueError, match="share batch and channels"):
        global_matching(t1, c1[:, :8])
    with pytest.raises(ValueError, match="temperature"):
        global_matching(t1, c1, temperature=0.0)
