"""Contour generator shapes and its ability to copy the trunk (identity) through the skips."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tryon.nets.contour import ContourGenerator, build_contour_generator, levels_for


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def test_levels_follow_the_method():
    assert levels_for(512) == 6 and 512 // 2 ** levels_for(512) == 8  # 8x8 bottleneck at 512 ([0128])
    assert levels_for(256) == 6 and levels_for(128) == 6
    assert 64 // 2 ** levels_for(64) == 2 and 32 // 2 ** levels_for(32) == 2


@pytest.mark.parametrize("size", [128, 256, 512])
def test_generator_runs_at_method_sizes(size):
    g = build_contour_generator(size, base_channels=4 if size == 512 else 16)
    with torch.no_grad():
        out = g(torch.randn(1, 1, size, size), torch.rand(1, 3, size, size) * 2 - 1)["contour"]
    assert out.shape == (1, 3, size, size)
    assert out.abs().max() <= 1.0


def test_widths_are_16_to_256():
    g = build_contour_generator(512)
    widths = [blk[0].out_channels for blk in g.enc]
    assert widths == [16, 32, 64, 128, 256, 256]
    assert all(
        isinstance(m, torch.nn.InstanceNorm2d) for blk in g.enc[1:] for m in blk if "Norm" in type(m).__name__
    )


def test_padded_non_square_real_image():
    # a portrait photo 3:4 zero-padded to square (what the data pipeline does), and a raw non-square input
    g = build_contour_generator(128, base_channels=8)
    photo = torch.rand(1, 3, 128, 96) * 2 - 1
    padded = F.pad(photo, (16, 16, 0, 0))  # [1,3,128,128]
    with torch.no_grad():
        assert g(torch.zeros(1, 1, 128, 128), padded)["contour"].shape == (1, 3, 128, 128)
        assert g(torch.zeros(1, 1, 128, 96), photo)["contour"].shape == (1, 3, 128, 96)
        assert g(torch.zeros(1, 1, 100, 75), photo[..., :100, :75])["contour"].shape == (1, 3, 100, 75)
    with pytest.raises(ValueError, match="differ in size"):
        g(torch.zeros(1, 1, 64, 64), padded)


def test_batched_equals_single():
    g = build_contour_generator(64, base_channels=8).eval()
    body, trunk = torch.randn(3, 1, 64, 64), torch.rand(3, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        full = g(body, trunk)["contour"]
        one = g(body[1:2], trunk[1:2])["contour"]
    torch.testing.assert_close(full[1:2], one, atol=1e-5, rtol=1e-4)


def test_skips_let_it_copy_the_trunk_quickly():
    # identity must survive: with the input skip, learning to reproduce the trunk is fast
    torch.manual_seed(0)
    g = ContourGenerator(1, 3, base_channels=8, n_down=4)
    trunk = torch.rand(4, 3, 32, 32) * 1.6 - 0.8
    body = torch.zeros(4, 1, 32, 32)
    opt = torch.optim.Adam(g.parameters(), 3e-3)
    first = None
    for _ in range(150):
        loss = (g(body, trunk)["contour"] - trunk).abs().mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.25 * first
