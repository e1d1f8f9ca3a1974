"""Properties of tryon.geometry: conventions (x first, align_corners=False), round trips, warping."""

import pytest
import torch
import torch.nn.functional as F

from tryon import geometry as G


def test_coords_grid_pixel_and_normalised_conventions():
    g = G.coords_grid(2, 3, 4)  # [B, 2, H, W]
    assert g.shape == (2, 2, 3, 4)
    assert torch.equal(g[0, 0, 0], torch.arange(4.0))  # x first: channel 0 runs along columns
    assert torch.equal(g[0, 1, :, 0], torch.arange(3.0))
    n = G.identity_grid(1, 3, 4)
    # pixel centre i of W maps to (2 i + 1) / W - 1
    assert torch.allclose(n[0, 0, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.allclose(n[0, 1, :, 0], torch.tensor([-2 / 3, 0.0, 2 / 3]))


def test_identity_grid_matches_affine_grid_align_corners_false():
    theta = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]])
    ref = F.affine_grid(theta, (1, 1, 5, 7), align_corners=False).permute(0, 3, 1, 2)  # [1, 2, H, W]
    assert torch.allclose(G.identity_grid(1, 5, 7), ref, atol=1e-6)


def test_normalize_denormalize_round_trip():
    pix = torch.rand(3, 2, 6, 5) * 40 - 5
    back = G.denormalize_coords(G.normalize_coords(pix, 17, 23), 17, 23)
    assert torch.allclose(back, pix, atol=1e-5)


def test_flow_grid_round_trip_and_zero_flow_is_identity():
    flow = torch.randn(2, 2, 8, 10) * 3
    assert torch.allclose(G.grid_to_flow(G.flow_to_grid(flow)), flow, atol=1e-5)
    assert torch.allclose(G.flow_to_grid(torch.zeros(1, 2, 8, 10)), G.identity_grid(1, 8, 10))


def test_warp_with_identity_grid_reproduces_image():
    img = torch.rand(2, 3, 9, 11)
    assert torch.allclose(G.warp(img, G.identity_grid(2, 9, 11)), img, atol=1e-6)


def test_warp_integer_shift_moves_pixels():
    img = torch.rand(1, 3, 12, 12)
    flow = torch.zeros(1, 2, 12, 12)
    flow[:, 0] = 2.0  # sample 2 px to the right: out[x] = img[x + 2]
    flow[:, 1] = -1.0  # and 1 px up: out[y] = img[y - 1]
    out = G.warp(img, G.flow_to_grid(flow))
    assert torch.allclose(out[..., 1:, :10], img[..., :11, 2:], atol=1e-6)
    assert torch.all(out[..., 0, :] == 0)  # row above the image reads zero padding


def test_warp_rejects_bad_grid():
    with pytest.raises(ValueError, match=r"\[B, 2, H, W\]"):
        G.warp(torch.rand(1, 3, 4, 4), torch.rand(1, 4, 4, 2))


def test_upsample_grid_keeps_identity_and_constant_shift():
    up = G.upsample_grid(G.identity_grid(2, 4, 3), (32, 24))
    assert torch.allclose(up, G.identity_grid(2, 32, 24), atol=1e-6)
    shift = torch.tensor([0.1, -0.2]).view(1, 2, 1, 1)
    up = G.upsample_grid(G.identity_grid(1, 4, 3) + shift, (32, 24))
    assert torch.allclose(up, G.identity_grid(1, 32, 24) + shift, atol=1e-6)


def test_upsample_grid_of_affine_warp_is_exact():
    # an affine map is linear in position: upsampling its low-res grid must give the full-res grid
    theta = torch.tensor([[[0.8, 0.1, 0.05], [-0.1, 0.9, -0.1]]])
    low = F.affine_grid(theta, (1, 1, 8, 6), align_corners=False).permute(0, 3, 1, 2)  # [1, 2, 8, 6]
    high = F.affine_grid(theta, (1, 1, 64, 48), align_corners=False).permute(0, 3, 1, 2)
    up = G.upsample_grid(low, (64, 48))
    # bilinear interpolation is exact inside; the outermost half low-res pixel is extrapolated flat
    inner = (slice(None), slice(None), slice(4, -4), slice(4, -4))
    assert torch.allclose(up[inner], high[inner], atol=1e-5)


def test_upsample_flow_scales_pixels():
    flow = torch.ones(1, 2, 4, 4)
    up = G.upsample_flow(flow, (16, 8))
    assert torch.allclose(up[:, 0], torch.full((1, 16, 8), 2.0))  # x scaled by 8 / 4
    assert torch.allclose(up[:, 1], torch.full((1, 16, 8), 4.0))  # y scaled by 16 / 4


def test_grid_pixel_distance():
    a = G.identity_grid(1, 10, 20)
    b = G.flow_to_grid(torch.tensor([3.0, 4.0]).view(1, 2, 1, 1).expand(1, 2, 10, 20).contiguous())
    d = G.grid_pixel_distance(a, b, (10, 20))
    assert torch.allclose(d, torch.full_like(d, 5.0), atol=1e-5)


def test_convex_upsample_preserves_identity_and_shift_for_any_weights():
    shift = torch.tensor([0.1, -0.2]).view(1, 2, 1, 1)
    w = torch.randn(2, 9 * 16, 4, 3)
    up = G.convex_upsample_grid(G.identity_grid(2, 4, 3) + shift, w, 4)
    assert torch.allclose(up, G.identity_grid(2, 16, 12) + shift, atol=1e-6)


def test_convex_upsample_one_hot_centre_weights_is_nearest():
    g = G.identity_grid(1, 4, 3) + torch.randn(1, 2, 4, 3, generator=torch.Generator().manual_seed(0)) * 0.1
    w = torch.full((1, 9, 4, 4, 4, 3), -1e4)
    w[:, 4] = 0  # all weight on the cell itself
    up = G.convex_upsample_grid(g, w.view(1, 144, 4, 3), 4)
    delta = F.interpolate(g - G.identity_grid(1, 4, 3), scale_factor=4, mode="nearest")
    assert torch.allclose(up, G.identity_grid(1, 16, 12) + delta, atol=1e-6)
    # one-hot on the right-hand neighbour: the sub-pixels of cell (0, 0) take cell (0, 1)'s displacement
    w = torch.full((1, 9, 4, 4, 4, 3), -1e4)
    w[:, 5] = 0
    up = G.convex_upsample_grid(g, w.view(1, 144, 4, 3), 4)
    d01 = (g - G.identity_grid(1, 4, 3))[0, :, 0, 1]
    # absolute tolerance: a displacement near 0 makes a relative one fail on float32 rounding (flaky before)
    assert torch.allclose(
        (up - G.identity_grid(1, 16, 12))[0, :, :4, :4], d01.view(2, 1, 1).expand(2, 4, 4), atol=1e-6
    )
    with pytest.raises(ValueError, match="weights must be"):
        G.convex_upsample_grid(g, torch.zeros(1, 9, 4, 3), 4)
