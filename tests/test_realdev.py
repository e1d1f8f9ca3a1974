"""The real dev protocol (``python -m tryon.stages.realdev``): the dev split carved out of the real train
persons, and the params overrides of a dev run."""

from __future__ import annotations

import pandas as pd
import pytest

from tryon import config
from tryon.data.real import COLUMNS
from tryon.stages.realdev import dev_split, params_with


def _table() -> pd.DataFrame:
    rows = []
    for i in range(8):  # 8 train persons with a paired and an unpaired pair, 3 test persons
        split = "test" if i >= 5 else "train"
        for mode in ("paired", "unpaired"):
            rows.append({"subset": "vitonhd" if i % 2 else "dresscode", "person_id": f"p{i}", "split": split,
                         "mode": mode})  # fmt: skip
    rows.append({"subset": "vitonhd", "person_id": "u9", "split": "train", "mode": "unpaired"})  # no paired
    df = pd.DataFrame(rows)
    df["id"] = df["subset"] + "/" + df["person_id"] + "__" + df["mode"]
    for c in COLUMNS:
        if c not in df:
            df[c] = ""
    return df[COLUMNS]


def test_dev_split_holds_out_whole_train_persons_and_hides_the_test_split():
    table = _table()
    out = dev_split(table, n_dev=2, seed=0)
    assert len(out) == len(table) and (out["id"] == table["id"]).all()
    assert (out.loc[table["split"] == "test", "split"] == "heldout").all()  # nobody reads the test split
    dev = out[out["split"] == "test"]
    persons = set(zip(dev["subset"], dev["person_id"], strict=True))
    assert len(persons) == 2 and all(p.startswith("p") and int(p[1:]) < 5 for _, p in persons)
    assert (dev.groupby("person_id").size() == 2).all()  # both pairs of each held-out person
    assert set(out["split"]) == {"train", "test", "heldout"}
    train = out[out["split"] == "train"]
    assert not persons & set(zip(train["subset"], train["person_id"], strict=True))  # no person on both sides
    assert dev_split(table, 2, 0).equals(out) and not dev_split(table, 2, 1).equals(out)  # seeded
    with pytest.raises(ValueError, match="n_dev"):
        dev_split(table, n_dev=5)  # must leave at least one train person


def test_params_with_overrides_are_validated_and_drop_the_ablation_rows(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(config.dump_yaml(config.parse_params({})))
    p = params_with(tmp_path, ["05_train.real_steps=20", "05_train.fusion_keep=warped_mask"])
    assert p.train.real_steps == 20 and p.train.fusion_keep == "warped_mask" and p.train.ablation_steps == 0
    with pytest.raises(ValueError, match="SECTION.KEY=VALUE"):
        params_with(tmp_path, ["real_steps=20"])
    with pytest.raises(config.ParamsError):
        params_with(tmp_path, ["05_train.fusion_keep=sometimes"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    from tryon.stages.realdev import main

    assert main(["eval", "nothing", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "model.pt: not found" in err and "\n" not in err


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("fill_ramp", "expected KEY=NUMBER"),
        ("fill_ramp=soft", "expected KEY=NUMBER"),
        ("gate=0.5", "expected one of ['kept_gate', 'fill_ramp']"),
        ("fill_ramp=2", "expected a width in [0, 1]"),
        ("kept_gate=1", "fusion_kept_gate"),
    ],
)
def test_eval_fusion_settings_are_checked_before_the_model_is_read(tmp_path, capsys, setting, message):
    from tryon.stages.realdev import main

    assert main(["eval", "nothing", "--dir", str(tmp_path), "--fusion", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert "model.pt" not in err  # refused before the (missing) checkpoint is looked for


def _run(path, name: str, figures: dict[str, list[float]], synthetic: dict | None = None):
    """A fake evaluated run: ``eval.csv`` with 3 dev pairs (other figures at 0.5) and its synthetic JSON."""
    import json

    from tryon.stages.realdev import FIGURES

    run = path / name
    run.mkdir()
    df = pd.DataFrame({"group": ["vitonhd"] * 3, "person": ["a", "b", "c"]})
    for k in FIGURES:
        df[k] = figures.get(k, [0.5] * 3)
    df.to_csv(run / "eval.csv", index=False)
    if synthetic is not None:
        (run / "eval_synthetic.json").write_text(json.dumps(synthetic))
    return run


def test_compare_reads_a_difference_against_the_seed_spread(tmp_path):
    from tryon.stages.realdev import compare

    syn = {"ssim": 0.96, "identity_ssim": 0.98, "skin_l1": 0.35}
    a = [
        _run(tmp_path, "a0", {"warp_mask_iou": [0.6, 0.7, 0.8], "l1": [0.10, 0.08, 0.06]}, syn),
        _run(
            tmp_path,
            "a1",
            {"warp_mask_iou": [0.62, 0.72, 0.82], "l1": [0.11, 0.09, 0.07]},
            syn | {"skin_l1": 0.37},
        ),
    ]
    b = [
        _run(tmp_path, "b0", {"warp_mask_iou": [0.7, 0.8, 0.7], "l1": [0.09, 0.09, 0.065], "sharpness_ratio": [3] * 3}, syn),
        _run(tmp_path, "b1", {"warp_mask_iou": [0.7, 0.8, 0.7], "l1": [0.095, 0.08, 0.065], "sharpness_ratio": [3] * 3}, syn),
    ]  # fmt: skip
    t = compare(a, b)
    iou, l1 = t.loc["warp_mask_iou"], t.loc["l1"]
    assert iou["a"] == pytest.approx(0.71) and iou["a_spread"] == pytest.approx(0.02)
    assert iou["b"] == pytest.approx(0.7333333, abs=1e-6) and iou["b_spread"] == pytest.approx(0.0)
    assert iou["read"] == "B better" and iou["b_better_pairs"] == "2/3"  # pair c: 0.81 -> 0.70
    # l1: A 0.085 (runs 0.08, 0.09), B 0.080833 (0.08167, 0.08): |diff| 0.0042 < A's spread 0.01
    assert l1["diff"] == pytest.approx(-0.0041667, abs=1e-6) and l1["read"] == "within the seed spread"
    assert l1["b_better_pairs"] == "1/3"  # lower is better: only pair a (0.105 -> 0.0925)
    sharp = t.loc["sharpness_ratio"]  # B's 3.0 is farther from 1 than A's 0.5: worse although larger
    assert sharp["read"] == "A better" and sharp["b_better_pairs"] == "0/3"
    assert t.loc["skin_l1", "a"] == pytest.approx(0.36) and t.loc["skin_l1", "b_better_pairs"] == ""
    assert t.loc["skin_l1", "read"] == "within the seed spread"  # 0.35 vs 0.36, A's spread 0.02
    one = compare(a[:1], b[:1])
    assert (one["read"] == "no seed spread").all() and one["a_spread"].isna().all()


def test_compare_refuses_runs_of_other_pairs_or_not_evaluated(tmp_path, capsys):
    from tryon.stages.realdev import compare, main

    a = _run(tmp_path, "a", {})
    b = _run(tmp_path, "b", {})
    df = pd.read_csv(b / "eval.csv")
    df.loc[2, "person"] = "z"
    df.to_csv(b / "eval.csv", index=False)
    with pytest.raises(ValueError, match="different dev pairs"):
        compare([a], [b])
    assert set(compare([a], [a]).index) == {"ssim_net", "garment_ssim", "garment_edge_ssim", "l1",
                                            "sharpness_ratio", "warp_mask_iou"}  # no synthetic JSON: none  # fmt: skip
    assert main(["compare", "a,missing", "b", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "eval.csv: not found" in err and "missing" in err and "\n" not in err
    assert main(["compare", "a", "--dir", str(tmp_path)]) == 2
    assert "expected two recipes" in capsys.readouterr().err
    assert main(["compare", "a", "a", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "A = a, B = a" in out and "no seed spread" in out


def test_sharpness_split_tells_a_blurred_outline_from_a_blurred_texture():
    import numpy as np
    from scipy import ndimage

    from tryon.stages.realdev import sharpness_split

    rng = np.random.default_rng(0)
    photo = np.full((80, 60, 3), 230, np.uint8)
    garment = np.zeros((80, 60), bool)
    garment[20:60, 15:45] = True
    photo[garment] = rng.integers(40, 120, (garment.sum(), 1)).astype(np.uint8)  # a textured dark garment
    same = sharpness_split(photo, photo, garment)
    assert same["sharp_inner"] == pytest.approx(1.0) and same["sharp_edge"] == pytest.approx(1.0)
    # edge_share, on photos whose gradients are known to lie in one part: a flat garment on a flat
    # background has all its gradient at the outline, inside the 4-px band; a texture more than 6 px
    # from the outline on a garment of the background's colour has all of it in the interior
    outline = np.full_like(photo, 230)
    outline[garment] = 80
    assert sharpness_split(outline, outline, garment)["edge_share"] == pytest.approx(1.0)
    deep = np.full_like(photo, 230)
    core6 = ndimage.binary_erosion(garment, iterations=6)
    deep[core6] = photo[core6]
    assert sharpness_split(deep, deep, garment)["edge_share"] == pytest.approx(0.0)
    assert 0.05 < same["edge_share"] < 0.95  # the textured garment: both parts hold gradient
    flat = photo.copy()
    flat[ndimage.binary_erosion(garment, iterations=4)] = 80  # the texture gone, the outline kept
    s = sharpness_split(flat, photo, garment)
    assert s["sharp_inner"] < 0.2 and s["sharp_edge"] > 0.6
    soft = ndimage.uniform_filter(photo.astype(float), size=(7, 7, 1)).round().astype(np.uint8)
    core = ndimage.binary_erosion(garment, iterations=3)  # the interior's gradients need one pixel around it
    soft[core] = photo[core]
    s = sharpness_split(soft, photo, garment)  # the outline blurred, the texture kept
    assert s["sharp_inner"] == pytest.approx(1.0) and s["sharp_edge"] < 0.8
    assert 0 < s["edge_share"] < 1
    empty = sharpness_split(photo, photo, np.zeros((80, 60), bool))
    assert all(np.isnan(v) for v in empty.values())


def test_skin_not_kept_takes_the_arm_and_torso_skin_off_the_kept_region_and_restores_it():
    """A lower-body try-on keeps the arms and torso skin; within ``skin_not_kept`` it does not. (An upper
    garment's try-on never keeps them: they are in the garment-agnostic region.)"""
    import numpy as np

    from tryon.data import labels
    from tryon.data.labels import CIHP
    from tryon.stages.realdev import skin_not_kept

    parse = np.zeros((6, 4), np.uint8)  # a face, an arm, torso skin, upper clothes, pants, background
    parse[0, :] = CIHP.FACE
    parse[1, :] = CIHP.LEFT_ARM
    parse[2, :] = CIHP.TORSO_SKIN
    parse[3, :] = CIHP.UPPER_CLOTHES
    parse[4:, :] = CIHP.PANTS
    parse[5, 0] = CIHP.BACKGROUND
    before = labels.keep_mask(parse, "lower_body")
    assert before[:4].all() and before[5, 0] and not before[4].any()
    assert not labels.keep_mask(parse, "upper_body")[2].any(), "upper garments keep no torso skin anyway"
    with skin_not_kept():
        inside = labels.keep_mask(parse, "lower_body")
        from tryon.data import preprocess  # the network's input reads it through the module too

        assert preprocess.labels.keep_mask is labels.keep_mask
    assert (
        inside[0].all() and not inside[1].any() and not inside[2].any() and inside[3].all() and inside[5, 0]
    )
    assert (labels.keep_mask(parse, "lower_body") == before).all()  # restored on the way out
    with pytest.raises(RuntimeError), skin_not_kept():
        raise RuntimeError("an error inside")
    assert (labels.keep_mask(parse, "lower_body") == before).all()  # restored after an error too


def test_compare_reads_real_skin_l1_when_every_run_has_it(tmp_path):
    from tryon.stages.realdev import compare

    a = _run(tmp_path, "a", {})
    b = _run(tmp_path, "b", {})
    assert "real_skin_l1" not in compare([a], [b]).index
    pd.DataFrame({"group": ["vitonhd"] * 2, "person": ["a", "b"], "skin_px": [900, 700],
                  "real_skin_l1": [0.6, 0.7]}).to_csv(a / "eval_skin.csv", index=False)  # fmt: skip
    assert "real_skin_l1" not in compare([a], [b]).index  # b has none
    pd.DataFrame({"group": ["vitonhd"] * 2, "person": ["a", "b"], "skin_px": [900, 700],
                  "real_skin_l1": [0.3, 0.8]}).to_csv(b / "eval_skin.csv", index=False)  # fmt: skip
    row = compare([a], [b]).loc["real_skin_l1"]
    assert row["a"] == pytest.approx(0.65) and row["b"] == pytest.approx(0.55)
    assert row["b_better_pairs"] == "1/2"  # lower is better
    for run in (a, b):  # an evaluation with a --tag reads the skin table of that tag only
        (run / "eval_x.csv").write_text((run / "eval.csv").read_text())
    assert "real_skin_l1" not in compare([a], [b], tag="_x").index
