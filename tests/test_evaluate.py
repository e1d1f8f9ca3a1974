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


def test_bootstrap_interval_narrows_with_n_and_is_seeded():
    """Width and determinism; whether the interval holds the true mean as often as it should is the
    coverage test below (an interval holding its own sample mean tells nothing)."""
    import numpy as np

    rng = np.random.default_rng(0)
    small, large = rng.normal(0.8, 0.1, 16), rng.normal(0.8, 0.1, 256)
    lo, hi = ev.bootstrap_ci(small)
    assert ev.bootstrap_ci(small) == [lo, hi], "seeded: the same interval on every run"
    lo2, hi2 = ev.bootstrap_ci(large)
    assert hi2 - lo2 < (hi - lo) * 0.5, "16x the samples: about a quarter of the width"
    assert abs((hi2 - lo2) / 2 - 1.96 * large.std() / 16) < 0.004  # close to the normal interval
    # NaN and inf are left out; fewer than two finite values give no interval
    assert all(math.isnan(x) for x in ev.bootstrap_ci([0.5, math.nan, math.inf]))
    assert ev.bootstrap_ci([0.2, 0.4, math.nan]) == ev.bootstrap_ci([0.2, 0.4])
    rows = [{"ssim": float(v)} for v in small]
    assert ev.summarise(rows, [], ["ssim"], ci=True)["overall"]["ssim_ci95"] == [lo, hi]


def test_a_difference_is_a_win_only_when_the_intervals_are_apart():
    from tryon.stages.evaluate import verdicts

    assert ev.ci_apart([0.1, 0.2], [0.3, 0.4]) and not ev.ci_apart([0.1, 0.35], [0.3, 0.4])
    ref = {"ssim": 0.90, "ssim_ci95": [0.88, 0.92], "epe_px": 3.0, "epe_px_ci95": [2.5, 3.5]}
    rows = {
        "full_short": ref,
        "no_style": {"ssim": 0.80, "ssim_ci95": [0.78, 0.82], "epe_px": 3.2, "epe_px_ci95": [2.7, 3.7]},
        "method_only": {"ssim": 0.95, "ssim_ci95": [0.93, 0.97], "epe_px": 6.0, "epe_px_ci95": [5.5, 6.5]},
        "no_text_short_seed1": ref,  # its reference (full_short_seed1) is absent: no verdict
    }
    v = verdicts(rows)
    assert v == {
        "no_style": {"ssim": "worse", "epe_px": "within_ci"},
        "method_only": {"ssim": "better", "epe_px": "worse"},  # end-point error: lower is better
    }


def test_metric_keys_are_snake_case_and_never_collide(tmp_path):
    import json

    import pytest

    from tryon.viz import report

    assert report.metric_key("full, unpaired") == "full_unpaired"
    assert report.metric_key("slightly fat") == "slightly_fat"
    assert report.metric_key("trunk_guided (retrained)") == "trunk_guided_retrained"
    assert report.metric_key("face_ssim_share_ge_0.95") == "face_ssim_share_ge_0_95"
    assert report.metric_key("extra-tall") == "extra-tall"
    path = report.write_metrics("99_x", {"build": {"slightly fat": 1.0, "well-proportioned": 2}}, tmp_path)
    assert json.loads(path.read_text()) == {"build": {"slightly_fat": 1.0, "well-proportioned": 2}}
    with pytest.raises(ValueError, match="both give the key 'a_b'"):
        report.write_metrics("99_x", {"a b": 1, "a,b": 2}, tmp_path)


def test_masked_l1_is_the_mean_error_on_the_mask_and_nan_when_empty():
    pred, target = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    target[0, :, :2] = 0.5  # error 0.5 on the top half of sample 0
    mask = torch.zeros(2, 1, 4, 4)
    mask[0, :, :1] = 1  # the top row: all 0.5
    mask[0, :, 3] = 1  # the bottom row: all 0
    out = ev.masked_l1(pred, target, mask)
    assert abs(out[0] - 0.25) < 1e-6 and math.isnan(out[1])


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    """Coverage, the property an interval is for: 400 samples of 30 values each from a skewed
    distribution of known mean (exponential, mean 0.5); the 95% interval of each sample holds 0.5 in
    about 95% of them (the percentile bootstrap runs a little under on 30 skewed values). An interval
    that is too narrow (e.g. the standard error of a single value over n, or no resampling at all)
    or too wide fails."""
    import numpy as np

    rng = np.random.default_rng(1)
    hits = [
        lo <= 0.5 <= hi
        for lo, hi in (ev.bootstrap_ci(rng.exponential(0.5, 30), n_boot=1000, seed=s) for s in range(400))
    ]
    assert 0.90 <= np.mean(hits) <= 0.98, np.mean(hits)


def test_paired_bootstrap_diff_exact_cases():
    import pytest

    # the same difference on every pair: the interval is that one point
    out = ev.paired_bootstrap_diff([0.5, 0.7, 0.9], [0.4, 0.6, 0.8])
    assert out["diff"] == pytest.approx(0.1) and out["ci95"] == pytest.approx([0.1, 0.1])
    assert out["beats"] is True and out["n"] == 3
    assert ev.paired_bootstrap_diff([0.5, 0.7, 0.9], [0.4, 0.6, 0.8], lower_is_better=True)["beats"] is False
    low = ev.paired_bootstrap_diff([0.3, 0.5], [0.4, 0.6], lower_is_better=True)  # lower: better
    assert low["diff"] == pytest.approx(-0.1) and low["beats"] is True
    # equal values: diff 0, interval [0, 0], which does not exclude 0
    tie = ev.paired_bootstrap_diff([0.2, 0.4, 0.6], [0.2, 0.4, 0.6])
    assert tie["diff"] == 0 and tie["ci95"] == [0.0, 0.0] and tie["beats"] is False
    # a NaN on either side drops that pair (both of its values)
    nan = float("nan")
    with_nan = ev.paired_bootstrap_diff([0.5, nan, 0.9, 0.1], [0.4, 0.3, nan, 0.0])
    assert with_nan == ev.paired_bootstrap_diff([0.5, 0.1], [0.4, 0.0]) and with_nan["n"] == 2
    # fewer than two pairs: no interval, never a win
    one = ev.paired_bootstrap_diff([0.9, nan], [0.1, 0.2])
    assert one["diff"] == pytest.approx(0.8) and all(math.isnan(x) for x in one["ci95"])
    assert one["beats"] is False
    assert ev.paired_bootstrap_diff([], [])["beats"] is False
    with pytest.raises(ValueError, match="3 model values but 2 baseline"):
        ev.paired_bootstrap_diff([1, 2, 3], [1, 2])
    # a difference that crosses 0: not a win either way
    mixed = ev.paired_bootstrap_diff([0.5, 0.3, 0.6, 0.2], [0.4, 0.4, 0.5, 0.3])
    assert mixed["ci95"][0] < 0 < mixed["ci95"][1] and not mixed["beats"]
    assert not ev.paired_bootstrap_diff([0.5, 0.3, 0.6, 0.2], [0.4, 0.4, 0.5, 0.3], True)["beats"]


def test_paired_difference_resamples_the_pairs_together():
    """Pairs that vary a lot from one to the next but where the model is always a little better: the two
    separate intervals overlap (no win by :func:`ci_apart`), the paired interval of the difference
    excludes 0. Resampling the two sides apart would give about the separate intervals' width."""
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.9, 20)
    model = base + rng.uniform(0.01, 0.03, 20)
    assert not ev.ci_apart(ev.bootstrap_ci(model), ev.bootstrap_ci(base))
    out = ev.paired_bootstrap_diff(model, base)
    assert out["beats"] and 0.01 < out["ci95"][0] < out["ci95"][1] < 0.03


def test_paired_bootstrap_diff_covers_the_true_difference_about_95_percent_of_the_time():
    """Coverage: 400 draws of 30 correlated pairs (baseline ~ N(0.6, 0.1), model = baseline + a gain
    ~ N(0.02, 0.03) of known mean 0.02); the interval holds 0.02 in about 95% of the draws. And the same
    draws with no gain (true difference 0): a false win ("beats") in about 2.5% of them (one side of a
    95% interval), at most 5% here."""
    import numpy as np

    rng = np.random.default_rng(2)
    hits, false_wins = [], []
    for s in range(400):
        base = rng.normal(0.6, 0.1, 30)
        gain = rng.normal(0.02, 0.03, 30)
        lo, hi = ev.paired_bootstrap_diff(base + gain, base, n_boot=1000, seed=s)["ci95"]
        hits.append(lo <= 0.02 <= hi)
        null = ev.paired_bootstrap_diff(base + gain - 0.02, base, n_boot=1000, seed=s)
        false_wins.append(null["beats"])
    assert 0.90 <= np.mean(hits) <= 0.98, np.mean(hits)
    assert np.mean(false_wins) <= 0.05, np.mean(false_wins)
