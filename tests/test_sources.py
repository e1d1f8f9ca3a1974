"""The garment error split by the fusion's sources (tryon.eval.sources)."""

import math

import numpy as np
import pytest

from tryon.eval.photo import photo_figures
from tryon.eval.sources import SOURCES, by_source_table, error_by_source


def _pair(seed: int = 0, h: int = 40, w: int = 30):
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    output = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    region = np.zeros((h, w), bool)
    region[8:32, 6:24] = True
    logits = rng.normal(size=(4, h, w))
    weights = np.exp(logits) / np.exp(logits).sum(0)
    return output, photo, region, weights


def test_contributions_add_up_to_the_garment_error():
    output, photo, region, weights = _pair()
    got = error_by_source(output, photo, region, weights)
    assert sum(got[f"share_{s}"] for s in SOURCES) == pytest.approx(1)
    assert sum(got[f"l1_{s}"] for s in SOURCES) == pytest.approx(photo_figures(output, photo, region)["l1"])
    for s in SOURCES:
        assert got[f"error_{s}"] == pytest.approx(got[f"l1_{s}"] / got[f"share_{s}"])
    table = by_source_table(got)
    assert list(table.index) == list(SOURCES) and table.loc["fill", "bias"] == got["bias_fill"]


def test_a_lighter_painted_share_and_an_exact_kept_share():
    output, photo, region, _ = _pair(1)
    photo = (photo // 2).astype(np.uint8)
    weights = np.zeros((4, *photo.shape[:2]))
    weights[0] = 1.0  # kept everywhere but the left half of the region, which is painted
    weights[0, :, :15], weights[3, :, :15] = 0.0, 1.0
    output = photo.copy()
    output[:, :15] += 51  # painted: 51 levels lighter in every channel (0.2 in grey)
    got = error_by_source(output, photo, region, weights)
    painted = region[:, :15].sum() / region.sum()
    assert got["share_painted"] == pytest.approx(painted) and got["share_kept"] == pytest.approx(1 - painted)
    assert got["error_painted"] == pytest.approx(0.2) and got["bias_painted"] == pytest.approx(0.2)
    assert got["error_kept"] == 0 and got["bias_kept"] == 0
    assert math.isnan(got["error_warped"]) and got["share_warped"] == 0  # it makes nothing here


def test_empty_region_and_bad_shapes():
    output, photo, region, weights = _pair()
    assert all(math.isnan(v) for v in error_by_source(output, photo, np.zeros_like(region), weights).values())
    with pytest.raises(ValueError, match=r"weights \(3, 40, 30\)"):
        error_by_source(output, photo, region, weights[:3])


def test_sharpness_by_source():
    """A source that copies the photo is as sharp as it (1); one that blurs it is below 1; a single
    source everywhere gives photo_figures' sharpness ratio."""
    from scipy import ndimage

    _, photo, region, _ = _pair(2)
    blurred = ndimage.uniform_filter(photo.astype(np.float64), size=(5, 5, 1)).round().astype(np.uint8)
    output = photo.copy()
    output[:, 15:] = blurred[:, 15:]
    weights = np.zeros((4, *photo.shape[:2]))
    weights[1, :, :10] = 1.0  # warped: an exact copy (away from the seam at column 15)
    weights[3, :, 10:] = 1.0  # painted: the blurred half
    got = error_by_source(output, photo, region, weights)
    assert got["sharp_warped"] == pytest.approx(1.0)
    assert got["sharp_painted"] < 0.7
    assert math.isnan(got["sharp_fill"]) and math.isnan(got["sharp_kept"])
    whole = np.zeros_like(weights)
    whole[3] = 1.0
    ratio = photo_figures(output, photo, region)["sharpness_ratio"]
    assert error_by_source(output, photo, region, whole)["sharp_painted"] == pytest.approx(ratio)
    assert by_source_table(got).loc["warped", "sharp"] == got["sharp_warped"]
