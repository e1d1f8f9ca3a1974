"""The unpaired VITON figures (tryon.eval.unpaired): the garment's owner files, the plumbing of the shape
figures (with a parser that reads the truth, every figure is known), the worst-case lists, the tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tryon import paths
from tryon.eval import unpaired as U

needs_viton = pytest.mark.skipif(
    not paths.SHARED_VITON.is_dir(),
    reason=f"VITON not found at {paths.SHARED_VITON} (only present beside the CI checkout)",
)


def test_owner_files_follow_the_cpvton_layout():
    img, parse, pose = U.owner_files("/d/viton/test/cloth/012345_1.jpg")
    assert img == Path("/d/viton/test/image/012345_0.jpg")
    assert parse == Path("/d/viton/test/image-parse/012345_0.png")
    assert pose == Path("/d/viton/test/pose/012345_0_keypoints.json")


def test_owner_files_of_a_vitonhd_garment_and_short_ids():
    img, parse, pose = U.owner_files("/s/vitonhd/cloth/00001_00.jpg")
    assert img == Path("/s/vitonhd/image/00001_00.jpg")
    assert parse == Path("/s/vitonhd/image-parse/00001_00.png")
    assert pose == Path("/s/vitonhd/openpose_json/00001_00_keypoints.json")
    assert U._short("000038_0") == U._short("000038_1") == "000038" and U._short("00001_00") == "00001_00"
    assert U.keypoints_of(None) == {} and U.keypoints_of("/nonexistent/pose.json") == {}


@pytest.mark.shared
def test_vitonhd_samples_shape_without_pose_files(shared_samples):
    """The VITON-HD unpaired pairs whose garment's owner has a parse map (10 train persons, no pose file):
    hem and covers measured from parse-estimated shoulders and hips, the sleeves not (no elbow, no wrist)."""
    r = U.samples_shape({"model": paths.ROOT / "models" / "model.pt"}, paths.ROOT / "models" / "parser.pt",
                        shared_samples)  # fmt: skip
    assert r["n_pairs"] == 10 and r["n_skipped"] == 0
    methods = ("model", *U.BASELINES)
    assert {*methods, "parser_floor", "old_garment", *(f"{n}{U.VS_OLD}" for n in methods)} == set(r["shape"])
    for name, row in r["shape"].items():
        assert row["sleeve_reach_n"] == 0 and math.isnan(row["sleeve_reach"]), name
        assert row["hem_n"] == 10 and 0 <= row["hem"] < 1, name
    assert "not computed" in U.samples_shape({}, "/nonexistent/parser.pt", shared_samples)


class _TruthParser:
    """Reads every image as the person's true parse map (the one whose photo it was given first)."""

    def __init__(self, truth: dict[int, np.ndarray]):
        self.truth = truth

    def parse_batch(self, photos):
        lab = self.truth[id(photos[0])]
        return [lab for _ in photos]


@pytest.fixture(scope="module")
def viton_pairs(tmp_path_factory):
    if not paths.SHARED_VITON.is_dir():
        pytest.skip(f"VITON not found at {paths.SHARED_VITON} (only present beside the CI checkout)")
    from tryon.data.real import split_table
    from tryon.infer.model import TryOn

    split = tmp_path_factory.mktemp("split") / "real_split.csv"
    split_table(paths.SHARED_VITON, max_persons=40).to_csv(split, index=False)
    recs = U.unpaired_records(paths.SHARED_VITON, split, "test", max_pairs=4)
    pairs, skipped = U.try_on_all({"model": TryOn(paths.ROOT / "models" / "model.pt")}, recs)
    return pairs, skipped


@pytest.mark.shared
@needs_viton
def test_shape_figures_with_a_parser_that_reads_the_truth(viton_pairs):
    """A parser that returns the person's true parse map for every image: the floor is exactly 0, and
    every try-on reads as the old garment, so each method's disagreement equals ``old_garment``'s."""
    pairs, skipped = viton_pairs
    assert len(pairs) >= 3 and not skipped
    assert {"model", *U.BASELINES} == set(pairs[0]["outputs"])
    assert all(p["outputs"]["model"].shape == p["person"].shape == (256, 192, 3) for p in pairs)
    parser = _TruthParser({id(p["person"]): p["parse"] for p in pairs})
    summary, rows = U.shape_figures(parser, pairs)
    methods = ("model", *U.BASELINES)
    assert set(summary) == {*methods, "parser_floor", "old_garment", *(f"{n}{U.VS_OLD}" for n in methods)}
    for q in U.SHAPE_FIGURES:
        assert summary["parser_floor"][q] == 0.0
        for name in methods:
            assert summary[name][q] == pytest.approx(summary["old_garment"][q], nan_ok=True)
            # read as the old garment, every try-on has exactly the old garment's shape
            v = summary[f"{name}{U.VS_OLD}"][q]
            assert v == 0.0 or (math.isnan(v) and math.isnan(summary["old_garment"][q])), (name, q)
    # and every try-on's shape follows the old garment's exactly, nothing of the new one's
    follows = U.follow_figures(rows)
    assert set(follows) == set(methods)
    fitted = [f for name in methods for f in follows[name].values() if f["new"] == f["new"]]
    assert fitted, "at least one quantity varies over the pairs"
    for f in fitted:
        assert f["old"] == pytest.approx(1.0, abs=1e-6) and f["new"] == pytest.approx(0.0, abs=1e-6)
    # the pairs were chosen with different garments: some quantity tells the old garment from the new
    assert any(summary["old_garment"][q] > 0.05 for q in U.SHAPE_FIGURES)
    worst = U.worst({"pairs": pairs, "shape_rows": rows}, "model", n=2)
    for q in U.SHAPE_FIGURES:
        vals = [w["value"] for w in worst[f"shape.{q}"]]
        assert len(vals) <= 2 and vals == sorted(vals, reverse=True)
        assert all(math.isfinite(v) for v in vals)


def test_tables_show_every_row_with_its_interval():
    from tryon.viz.unpaired import realism_table, shape_table

    row = {"n": 3, **{q: 0.1 for q in U.SHAPE_FIGURES}, **{f"{q}_ci95": [0.05, 0.2] for q in U.SHAPE_FIGURES}}
    m = {
        "shape": {"model": row, "parser_floor": row, f"model{U.VS_OLD}": row},
        "realism_auc": {"model": {"auc": 0.7, "auc_ci95": [0.6, 0.8]}, "real_vs_real": {"auc": 0.5, "auc_ci95": [0.4, 0.6]}},
        "realism_auc_conditional": {"mismatch": {"auc": 0.9, "auc_ci95": [0.85, 0.95]}},
    }  # fmt: skip
    t = shape_table(m)
    assert t.loc["model", "sleeve_reach"] == "0.100 [0.050, 0.200]"
    assert list(t.index) == [
        "model",
        "parser_floor (the real photo through the parser)",
        "model against the old garment (near 0: the old outline kept)",
    ]
    r = realism_table(m)
    assert r.loc["model", "AUC"] == "0.700 [0.600, 0.800]"
    assert (
        r.loc["mismatch", "AUC with the garment"] == "0.900 [0.850, 0.950]" and r.loc["mismatch", "AUC"] == ""
    )


def test_follow_slopes_recover_what_a_try_on_follows():
    rng = np.random.default_rng(0)
    new, old = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    f = U.follow_slopes(np.c_[new, old, new])
    assert f["new"] == pytest.approx(1.0) and f["old"] == pytest.approx(0.0, abs=1e-9) and f["n"] == 200
    mixed = 0.3 * new + 0.7 * old + 0.1 + rng.normal(0, 0.05, 200)
    f = U.follow_slopes(np.c_[new, old, mixed])
    assert f["new_ci95"][0] < 0.3 < f["new_ci95"][1] and f["old_ci95"][0] < 0.7 < f["old_ci95"][1]
    assert abs(f["new"] - 0.3) < 0.05 and f["new_ci95"][1] - f["new_ci95"][0] < 0.2
    # an average shape whatever the garments: no slope on either
    f = U.follow_slopes(np.c_[new, old, 0.5 + rng.normal(0, 0.05, 200)])
    assert f["new_ci95"][0] < 0 < f["new_ci95"][1] and f["old_ci95"][0] < 0 < f["old_ci95"][1]
    # a missing value drops its pair; too few pairs or new == old: NaN, not a number that means nothing
    f = U.follow_slopes([(1.0, None, 1.0), (math.nan, 0.2, 0.3), *np.c_[new[:10], old[:10], new[:10]]])
    assert f["n"] == 10 and f["new"] == pytest.approx(1.0)
    assert math.isnan(U.follow_slopes(np.c_[new[:3], old[:3], new[:3]])["new"])
    assert math.isnan(U.follow_slopes(np.c_[new, new, old])["old"])
    # four pairs: an exact fit, and most resamples singular (left out of the interval, not an error)
    four = U.follow_slopes(np.c_[new[:4], old[:4], new[:4]])
    assert four["new"] == pytest.approx(1.0) and four["n"] == 4 and len(four["new_ci95"]) == 2


def test_follows_table_shows_both_slopes_with_their_intervals():
    from tryon.viz.unpaired import follows_table

    f = {"new": 0.07, "old": 0.85, "new_ci95": [-0.05, 0.19], "old_ci95": [0.8, 0.9], "n": 128}
    nan = {"new": math.nan, "old": math.nan, "new_ci95": [math.nan] * 2, "old_ci95": [math.nan] * 2, "n": 2}
    t = follows_table({"follows": {"model": {"hem": f, "width": nan}}})
    assert t.loc["model", "hem"] == "new 0.07 [-0.05, 0.19] · old 0.85 [0.80, 0.90]"
    assert t.loc["model", "width"] == "new – · old –" and t.loc["model", "n"] == 128


def test_ridge_r2_reads_what_a_linear_signal_explains_and_zero_for_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 20))
    signal = x @ rng.normal(size=20)
    y = signal + rng.normal(0, 1, 600) * signal.std()  # half the variance explained
    assert 0.38 < U.ridge_r2(x, y) < 0.6
    assert U.ridge_r2(x, signal) > 0.98
    assert abs(U.ridge_r2(x, rng.normal(size=600))) < 0.08  # noise: nothing held out is explained
    assert math.isnan(U.ridge_r2(x[:10], signal[:10]))


@needs_viton
def test_flat_mask_bound_sleeves_are_in_the_flat_photo_the_hem_is_not():
    """On VITON train pairs the flat garment's mask tells the sleeves' reach (R² about 0.7 on 1,000 pairs)
    and next to nothing of the hem (about 0): a try-on's hem cannot follow the new garment's."""
    b = U.flat_mask_bound(paths.SHARED_VITON, n_pairs=300)
    assert b["sleeve_reach"]["n"] >= 290 and b["pairs"].startswith("300 random VITON train pairs")
    assert b["sleeve_reach"]["r2"] > 0.5 and b["shoulder_cover"]["r2"] > 0.3
    assert b["hem"]["r2"] < 0.15 and b["torso_cover"]["r2"] < 0.2
    assert b["sleeve_reach"]["r2"] - b["hem"]["r2"] > 0.4


def test_follows_table_shows_the_flat_garments_bound():
    from tryon.viz.unpaired import BOUND_ROW, follows_table

    f = {"new": 0.07, "old": 0.85, "new_ci95": [-0.05, 0.19], "old_ci95": [0.8, 0.9], "n": 128}
    bound = {"hem": {"r2": 0.019, "n": 998}, "pairs": "1000 random VITON train pairs", "features": "mask"}
    t = follows_table({"follows": {"model": {"hem": f}}, "follows_bound": bound})
    assert list(t.index) == ["model", BOUND_ROW] and t.loc[BOUND_ROW, "hem"] == "R² 0.02"
    assert list(follows_table({"follows": {"model": {"hem": f}}}).index) == ["model"]  # older metrics


def test_flat_mask_bound_with_no_readable_pair_is_nan_not_an_error(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train_pairs.txt").write_text("a_0.jpg a_1.jpg\n")  # its files are missing
    b = U.flat_mask_bound(tmp_path)
    assert b["pairs"].startswith("0 random") and all(math.isnan(b[q]["r2"]) for q in U.SHAPE_FIGURES)
