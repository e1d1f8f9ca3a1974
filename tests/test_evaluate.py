"""Metric functions: known values on constructed inputs."""

import math

import torch

from tryon.eval import metrics as ev


def test_identical_images_are_perfect():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert all(abs(s - 1) < 1e-9 for s in ev.ssim(x, x))
    assert all(math.isinf(p) for p in ev.psnr(x, x))
    assert ev.l1(x, x) == [0.0, 0.0]


def test_psnr_value():
    a = torch.zeros(1, 3, 8, 8)
    b = a + 0.2  # 0.1 on the [0,1] scale -> mse 0.01 -> 20 dB
    assert abs(ev.psnr(a, b)[0] - 20.0) < 1e-4
    assert abs(ev.l1(a, b)[0] - 0.2) < 1e-6


def test_ssim_drops_with_noise_and_mask_restricts():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 48, 48, generator=g) * 2 - 1
    y = x.clone()
    y[..., :, 24:] = torch.rand(1, 3, 48, 24, generator=g) * 2 - 1  # right half replaced
    left = torch.zeros(1, 1, 48, 48)
    left[..., :, :16] = 1
    assert ev.ssim(x, y)[0] < 0.8
    assert ev.ssim(x, y, left)[0] > 0.99
    assert math.isnan(ev.ssim(x, y, torch.zeros(1, 1, 48, 48))[0])


def test_mask_iou_and_epe():
    a = torch.zeros(1, 1, 10, 10)
    a[..., :5, :] = 1
    b = torch.zeros(1, 1, 10, 10)
    b[..., :, :5] = 1
    assert abs(ev.mask_iou(a, b)[0] - 25 / 75) < 1e-6
    assert ev.mask_iou(torch.zeros_like(a), torch.zeros_like(a)) == [1.0]
    grid = torch.zeros(1, 2, 10, 20)
    shifted = grid.clone()
    shifted[:, 0] += 2 / 20 * 3  # 3 pixels in x at width 20
    valid = torch.ones(1, 1, 10, 20)
    assert abs(ev.end_point_error(shifted, grid, valid)[0] - 3.0) < 1e-5


def test_silhouette_iou_uses_background_colour():
    bg = torch.full((1, 3, 32, 32), 0.8)
    body = bg.clone()
    body[..., 8:24, 10:22] = -0.5
    assert ev.silhouette_iou(body, body) == [1.0]
    fg = ev.contour_foreground(body)
    assert int(fg.sum()) == 16 * 12


def test_summarise_breakdowns():
    rows = [
        {"body_type": "pear", "ssim": 0.5},
        {"body_type": "pear", "ssim": 0.7},
        {"body_type": "V", "ssim": 0.9},
    ]
    s = ev.summarise(rows, ["body_type", "missing"], ["ssim", "psnr"])
    assert abs(s["overall"]["ssim"] - 0.7) < 1e-9 and s["n"] == 3
    assert s["body_type"]["pear"]["n"] == 2 and abs(s["body_type"]["pear"]["ssim"] - 0.6) < 1e-9
    assert "missing" not in s
