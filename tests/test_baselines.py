"""Network-free baselines and the photo figures (issue #18), on small constructed persons."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tryon.data import labels
from tryon.data.labels import CIHP
from tryon.eval import baselines as B
from tryon.eval.photo import FIGURES, PAINTED_FIGURES, edge_ssim, grey, painted_region, photo_figures
from tryon.eval.sources import SOURCES


@pytest.fixture
def person():
    """A 64 x 48 person: background, face, an upper garment with arms beside it, pants; a photo
    whose every region has its own colour plus texture, and a striped flat garment with its mask."""
    rng = np.random.default_rng(0)
    parse = np.zeros((64, 48), np.uint8)
    parse[4:14, 18:30] = CIHP.FACE
    parse[14:40, 12:36] = CIHP.UPPER_CLOTHES
    parse[14:36, 6:12] = CIHP.LEFT_ARM
    parse[14:36, 36:42] = CIHP.RIGHT_ARM
    parse[40:62, 14:34] = CIHP.PANTS
    photo = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    photo[parse == CIHP.BACKGROUND] = (200, 210, 220)
    garment = np.full((40, 30, 3), 255, np.uint8)
    garment[5:35, 5:25] = 30
    garment[5:35:4, 5:25] = 220  # stripes
    gmask = np.zeros((40, 30), bool)
    gmask[5:35, 5:25] = True
    return photo, parse, garment, gmask


def test_keep_trunk_is_photo_on_kept_pixels_background_colour_elsewhere(person):
    photo, parse, garment, gmask = person
    out = B.keep_trunk(photo, parse)
    keep = labels.trunk_mask(parse)
    assert keep[parse == CIHP.FACE].all() and not keep[parse == CIHP.UPPER_CLOTHES].any()
    assert np.array_equal(out[keep], photo[keep])
    assert (out[~keep] == np.array([200, 210, 220], np.uint8)).all()


def test_naive_paste_puts_the_flat_garment_box_into_the_garment_box(person):
    photo, parse, garment, gmask = person
    out = B.naive_paste(photo, parse, garment, gmask)
    region = parse == CIHP.UPPER_CLOTHES
    trunk = B.keep_trunk(photo, parse)
    assert np.array_equal(out[~region], trunk[~region])
    # the garment box (14:40, 12:36) holds the 30 x 20 garment box resized to 26 x 24: its stripes
    pasted = out[14:40, 12:36]
    assert pasted.std() > 50  # stripes, not a flat fill
    assert abs(float(pasted.mean()) - float(garment[5:35, 5:25].mean())) < 8


def test_mean_fill_fills_the_garment_region_with_the_garment_mean(person):
    photo, parse, garment, gmask = person
    out = B.mean_fill(photo, parse, garment, gmask)
    region = parse == CIHP.UPPER_CLOTHES
    mean = np.round(garment[gmask].astype(float).mean(axis=0)).astype(np.uint8)
    assert (out[region] == mean).all()
    assert np.array_equal(out[~region], photo[~region])


def test_make_names_every_baseline_and_rejects_others(person):
    for name in B.NAMES:
        assert B.make(name, *person).shape == person[0].shape
    with pytest.raises(ValueError, match="baseline"):
        B.make("paste_photo", *person)


def test_edge_ssim_identical_is_one_flat_vs_stripes_is_low():
    rng = np.random.default_rng(1)
    img = rng.random((40, 30))
    assert edge_ssim(img, img) == pytest.approx(1.0)
    stripes = np.zeros((40, 30))
    stripes[::4] = 1.0
    flat = np.full((40, 30), 0.25)
    assert edge_ssim(flat, stripes) < 0.2


def test_photo_figures_of_the_photo_itself(person):
    photo, parse, *_ = person
    region = parse == CIHP.UPPER_CLOTHES
    f = photo_figures(photo, photo, region)
    assert set(f) == set(FIGURES)
    assert f["ssim"] == pytest.approx(1.0) and f["garment_ssim"] == pytest.approx(1.0)
    assert f["garment_edge_ssim"] == pytest.approx(1.0) and f["sharpness_ratio"] == pytest.approx(1.0)
    assert f["l1"] == 0.0 and math.isinf(f["psnr"])


def test_photo_figures_see_a_blurred_flat_garment(person):
    photo, parse, garment, gmask = person
    region = parse == CIHP.UPPER_CLOTHES
    flat = B.mean_fill(photo, parse, garment, gmask)
    f = photo_figures(flat, photo, region)
    assert f["sharpness_ratio"] < 0.3  # the filled region has no gradients but at its border
    assert f["l1"] == pytest.approx(float(np.abs(grey(flat) - grey(photo))[region].mean()))
    with pytest.raises(ValueError, match="differ in size"):
        photo_figures(flat[:-1], photo, region)


def test_painted_figures_measure_only_the_painted_pixels(person):
    """The painted region's figures: an output that differs from the photo only by a known amount on the
    arms (the painted region here) scores exactly that error there; changing the kept pixels or the
    garment leaves them unchanged; an empty region gives NaN."""
    photo, parse, *_ = person
    region = parse == CIHP.UPPER_CLOTHES
    arms = labels.isin(parse, labels.ARMS)
    out = photo.astype(np.int16)
    out[arms] += 51  # +0.2 on every channel of the arms: grey error 0.2 exactly
    out = out.clip(0, 255).astype(np.uint8)
    f = photo_figures(out, photo, region, painted=arms)
    assert set(f) == set(FIGURES) | set(PAINTED_FIGURES)
    expected = float(np.abs(grey(out) - grey(photo))[arms].mean())
    assert f["painted_l1"] == pytest.approx(expected) and 0.15 < f["painted_l1"] <= 0.2
    assert f["painted_ssim"] < 0.999
    elsewhere = out.copy()
    elsewhere[region | (parse == CIHP.FACE)] = 0  # a ruined garment and face: not the painted pixels
    g = photo_figures(elsewhere, photo, region, painted=arms)
    assert g["painted_l1"] == f["painted_l1"] and g["garment_ssim"] < f["garment_ssim"]
    same = photo_figures(photo, photo, region, painted=arms)
    assert same["painted_ssim"] == pytest.approx(1.0) and same["painted_l1"] == 0.0
    empty = photo_figures(out, photo, region, painted=np.zeros_like(arms))
    assert math.isnan(empty["painted_ssim"]) and math.isnan(empty["painted_l1"])
    assert set(photo_figures(out, photo, region)) == set(FIGURES)  # without a region: the plain figures
    with pytest.raises(ValueError, match="painted"):
        photo_figures(out, photo, region, painted=arms[:-1])


def test_painted_region_is_what_the_fusion_does_not_keep_outside_the_garment(person, monkeypatch):
    """The painted region follows :func:`tryon.data.labels.keep_mask` (whatever it keeps) and never holds
    the garment region."""
    _, parse, *_ = person
    region = parse == CIHP.UPPER_CLOTHES
    expected = ~labels.keep_mask(parse, "upper_body") & ~region
    assert np.array_equal(painted_region(parse, "upper_body", region), expected)
    arms = labels.isin(parse, labels.ARMS)
    monkeypatch.setattr(labels, "keep_mask", lambda p, c="upper_body": ~(arms | region))  # arms not kept
    assert np.array_equal(painted_region(parse, "upper_body", region), arms)
    monkeypatch.setattr(labels, "keep_mask", lambda p, c="upper_body": np.zeros_like(region))
    assert np.array_equal(painted_region(parse, "upper_body", region), ~region)


# --------------------------------------------------------------------------------------------
# Reading a try-on against the baselines (stage 06)
# --------------------------------------------------------------------------------------------
def test_versus_decides_by_the_paired_interval_of_the_difference():
    """``real.versus``: the model is always a little better than baseline ``a`` on garment SSIM while
    the pairs vary a lot (means 0.62 vs 0.60, separate intervals overlapping): paired, it beats it.
    On l1 (lower is better) the model is always worse: not a win, and the sentence says worse. On
    sharpness the values are read as their distance to 1 (1.6 is not better than 0.9). A NaN pair is
    left out of that figure only."""
    from tryon.eval.versus import versus, versus_sentence

    rng = np.random.default_rng(0)
    base_ssim = rng.uniform(0.3, 0.9, 12)
    model = [{"garment_ssim": s + 0.02, "l1": 0.10, "sharpness_ratio": 0.9} for s in base_ssim]
    base = [
        {"garment_ssim": s, "l1": 0.08 + 0.001 * i, "sharpness_ratio": 1.6} for i, s in enumerate(base_ssim)
    ]
    base[3]["l1"] = math.nan
    vs = versus(model, {"a": base}, ("garment_ssim", "l1", "sharpness_ratio"))["a"]
    assert vs["garment_ssim"]["beats"] and vs["garment_ssim"]["diff"] == pytest.approx(0.02)
    assert not vs["l1"]["beats"] and vs["l1"]["ci95"][0] > 0 and vs["l1"]["n"] == 11
    assert vs["sharpness_ratio"]["beats"] and vs["sharpness_ratio"]["diff"] == pytest.approx(0.1 - 0.6)
    assert "distance" not in vs["l1"] and "sharpness_ratio - 1" in vs["sharpness_ratio"]["compared"]
    sentence = versus_sentence({"a": vs})
    assert "a: better on garment_ssim, sharpness_ratio; worse on l1." in sentence
    tie = versus(model, {"b": [{**m} for m in model]}, ("garment_ssim",))
    assert not tie["b"]["garment_ssim"]["beats"]
    assert "b: better on no figure; not told apart on garment_ssim" in versus_sentence(tie)
    with pytest.raises(ValueError, match="12 model pairs but 11 pairs of a"):
        versus(model, {"a": base[:-1]}, ("l1",))


def test_better_and_beats_read_each_figure_the_right_way():
    from tryon.stages.evaluate import beats, beats_sentence, better

    assert better("garment_ssim", 0.7, 0.6) and not better("garment_ssim", 0.6, 0.7)
    assert better("l1", 0.1, 0.2) and not better("l1", 0.2, 0.1)
    assert better("sharpness_ratio", 0.9, 0.5) and better("sharpness_ratio", 1.1, 1.5)
    assert not better("sharpness_ratio", 1.6, 0.9)  # sharper than the photo is not better
    model = {"garment_ssim": 0.7, "l1": 0.2, "sharpness_ratio": 0.9}
    base = {"a": {"garment_ssim": 0.6, "l1": 0.1, "sharpness_ratio": 0.2}}
    assert beats(model, base) == {"a": ["garment_ssim", "sharpness_ratio"]}
    sentence = beats_sentence(model, base, ("garment_ssim", "l1", "sharpness_ratio"))
    assert "a: beats it on garment_ssim, sharpness_ratio, not on l1" in sentence


@pytest.mark.slow
@pytest.mark.shared
def test_real_paired_on_the_shared_samples(shared_samples, tmp_path):
    """The real split's first test pairs with a random-weight checkpoint as both models: every row has
    every figure, identical models gain nothing from "real training", the pasted row is labelled,
    the index page shows the table; without a split every paired pair is a test pair."""
    import test_infer

    from tryon.data.real import split_table
    from tryon.stages.evaluate import BEAT_FIGURES, real_paired
    from tryon.viz.report import real_rows, real_table_html

    ck = test_infer._save_ckpt(tmp_path / "model.pt")
    state = torch.load(ck, weights_only=False)  # a "synthetic-only" model: other weights, same arch
    state["model"] = {k: v + 1e-3 if v.is_floating_point() else v for k, v in state["model"].items()}
    torch.save(state, tmp_path / "synthetic_only.pt")
    split_table(shared_samples, 0.3, 0).to_csv(tmp_path / "split.csv", index=False)
    real, extras = real_paired(
        ck, shared_samples, max_pairs=4, n_gallery=1, split_csv=tmp_path / "split.csv",
        synthetic_only=tmp_path / "synthetic_only.pt",
    )  # fmt: skip
    assert real["n_test_pairs"] == 4 and set(real["baselines"]) == set(B.NAMES)
    assert real["split"].startswith("the paired test pairs of the real split")
    for row in (real["paired"], real["synthetic_only"], *real["baselines"].values()):
        assert set(FIGURES) | set(PAINTED_FIGURES) <= set(row)
        assert all(0 <= row[k] <= 1 for k in ("ssim_net", "garment_ssim", "garment_edge_ssim", "l1"))
        assert all(f"{k}_ci95" in row for k in FIGURES)  # the baselines have intervals too
        assert "face_ssim_net" not in row  # the face is kept by construction: under `kept`, not a figure
    for row in (real["paired"], real["synthetic_only"]):
        assert 0 <= row["warp_mask_iou"] <= 1
        assert 0 < row["painted_l1"] < 1 and -1 <= row["painted_ssim"] < 1  # the network paints there
    assert real["baselines"]["mean_fill"]["painted_l1"] == 0  # outside the garment it is the photo
    kept = real["kept"]
    assert "by construction" in kept["note"] and kept["paired_face_ssim"] == pytest.approx(1.0)
    assert set(real["versus"]) == set(B.NAMES)
    for name, figs in real["versus"].items():
        assert set(figs) == set(BEAT_FIGURES)
        for m, d in figs.items():
            assert {"diff", "ci95", "beats"} <= set(d) and d["n"] == 4
            assert real["model_beats"][name].count(m) == int(d["beats"])
    assert set(real["real_training_gain"]) >= {"ssim_net", "garment_ssim", "warp_mask_iou"}
    by_source = real["paired_by_source"]  # the shipped model's garment error, split by source
    assert sum(by_source[f"l1_{s}"] for s in SOURCES) == pytest.approx(real["paired"]["l1"])
    assert sum(by_source[f"share_{s}"] for s in SOURCES) == pytest.approx(1)
    assert all("paired_by_source" not in rows for rows in real["by_group"].values())
    assert all(k.endswith("_pasted") for k in real["paired_pasted"])
    assert set(real["model_beats"]) == set(B.NAMES)
    assert real["model_beats_sentence"].startswith("The network output against the baselines, by the paired")
    assert [g["group"] for g in extras["gallery"]][0] == "vitonhd" and len(extras["gallery"]) == 2
    assert {"synthetic_only", "synthetic_only_warped", "paired_warped"} <= set(extras["gallery"][0])
    assert len(real_rows(real)) == 4 + len(B.NAMES)  # shipped, synthetic-only, no detail, pasted, baselines
    flat = real["paired_no_detail"]  # the same network output less the full-resolution detail: flatter
    assert flat["sharpness_ratio"] < real["paired"]["sharpness_ratio"]
    page = real_table_html(real)
    assert "keep_trunk (no network)" in page and "mean_fill (no network, uses the GT garment region)" in page
    alone, _ = real_paired(ck, shared_samples, max_pairs=1, synthetic_only=ck)  # same weights: no real phase
    assert alone["split"].startswith("every paired real pair")
    assert alone["synthetic_only"].startswith("not computed: the shipped model is the synthetic-only one")
    assert real_paired(ck, tmp_path / "absent")[0].startswith("not computed: no real data at")
