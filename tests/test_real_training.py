"""Real photos as a training source (issue #14): the person-disjoint split, the real training set and
its contour target, mixed batches, and the per-source loss terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tryon.data import io
from tryon.data.labels import CIHP
from tryon.data.real import (
    RealTrainSet,
    body_region,
    contour_target,
    flip,
    person_split,
    read_split,
    split_table,
)
from tryon.data.vitonhd import PairRecord
from tryon.train.loop import MixedSampler, StepSampler
from tryon.train.step import smoothness

S = 64


def _rec(person: str, mode: str, category: str = "upper_body") -> PairRecord:
    from pathlib import Path

    return PairRecord(
        person, "c", Path(f"{person}.jpg"), Path("c.jpg"), None, Path("p.png"), None, category, "cihp", mode
    )


def test_person_split_is_disjoint_stratified_and_seeded():
    recs = [("vitonhd", _rec(f"v{i}", "paired")) for i in range(10)]
    recs += [("vitonhd", _rec(f"v{i}", "unpaired")) for i in range(10)]  # same persons, other garments
    recs += [("vitonhd", _rec(f"t{i}", "unpaired")) for i in range(3)]  # no ground truth: test
    recs += [("dresscode", _rec(f"d{i}", "paired", "dresses")) for i in range(5)]
    a = person_split(recs, 0.3, seed=0)
    assert person_split(recs, 0.3, seed=0) == a
    assert person_split(recs, 0.3, seed=1) != a
    assert sum(a[("vitonhd", f"v{i}")] == "test" for i in range(10)) == 3
    assert sum(a[("dresscode", f"d{i}")] == "test" for i in range(5)) == 2  # round(1.5) = 2
    assert all(a[("vitonhd", f"t{i}")] == "test" for i in range(3))


@pytest.mark.shared
def test_split_table_of_the_shared_samples_has_no_person_on_both_sides(shared_samples, tmp_path):
    df = split_table(shared_samples, 0.3, 0)
    train = set(zip(df[df.split == "train"].subset, df[df.split == "train"].person_id, strict=True))
    test = set(zip(df[df.split == "test"].subset, df[df.split == "test"].person_id, strict=True))
    assert train and test and not train & test
    paired = df[df["mode"] == "paired"]
    assert (paired.split == "test").sum() == 12 and (paired.split == "train").sum() == 28  # 3 + 7 per group
    assert (df.text_source == "estimated").all() and df.text.str.startswith("height ").all()
    # a person,text CSV wins for its persons
    pid = paired.person_id.iloc[0]
    csv = tmp_path / "texts.csv"
    csv.write_text(f'person,text\n{pid},"height 160cm, weight 50kg, pear, thin"\n')
    df2 = split_table(shared_samples, 0.3, 0, text_csv=csv)
    row = df2[df2.person_id == pid].iloc[0]
    assert row.text == "height 160cm, weight 50kg, pear, thin" and row.text_source == "given"
    # written and read back
    df.to_csv(tmp_path / "split.csv", index=False)
    assert read_split(tmp_path / "split.csv").shape == df.shape


def test_split_errors_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "bad.csv").write_text("id,split\nx,train\n")
    with pytest.raises(io.DataError, match=r"bad.csv: missing column\(s\)") as e:
        read_split(tmp_path / "bad.csv")
    assert "\n" not in str(e.value)
    with pytest.raises(io.DataError, match="absent.csv: file not found"):
        read_split(tmp_path / "absent.csv")
    with pytest.raises(io.DataError, match="not a dataset folder|folder not found"):
        split_table(tmp_path / "nothing")


def test_contour_target_draws_the_body_in_the_bodysuit_and_keeps_the_trunk():
    from tryon.data.synthetic.render import BODYSUIT_RGB, CONTOUR_BG_RGB

    parse = np.zeros((8, 6), np.uint8)
    parse[1, 2:4] = CIHP.FACE
    parse[2:6, 1:5] = CIHP.UPPER_CLOTHES
    person = np.full((8, 6, 3), 200, np.uint8)
    out = contour_target(person, parse, "upper_body")
    assert (out[0, 0] == np.round(CONTOUR_BG_RGB * 255)).all()  # background
    assert (out[3, 2] == np.round(BODYSUIT_RGB * 255)).all()  # the old garment: bodysuit
    assert (out[1, 2] == 200).all()  # the face: the photo
    dp = np.zeros((8, 6, 3), np.uint8)
    dp[3:5, 2:4] = 120  # DensePose: a narrower body than the parse silhouette
    assert body_region(parse, dp).sum() == 4 and body_region(parse).sum() == 18
    out = contour_target(person, parse, "upper_body", dp)
    assert (out[2, 1] == np.round(CONTOUR_BG_RGB * 255)).all()  # garment outside the DensePose body


@pytest.mark.shared
def test_real_train_set_is_the_data_contract_with_a_contour_and_mirrors(shared_samples, tmp_path):
    from tryon.data.dataset import TryOnDataset

    df = split_table(shared_samples, 0.3, 0)
    ds = RealTrainSet(df, shared_samples, S, "train", cache_dir=tmp_path / "cache", augment=True)
    assert len(ds) == 2 * 28
    d = ds[0]
    assert d["is_real"] and d["has_contour"] and d["flow_valid"].sum() == 0
    assert d["contour"].shape == (3, S, S) and d["contour"].std() > 0.1
    from tryon.data.real import CONTOUR_FILL

    # the 3:4 photo is padded to 1:1: the person is zero-padded, the contour target padded with its grey
    assert d["person"][:, :, :4].eq(-1).all()
    assert torch.allclose(d["contour"][:, :, :4], torch.tensor(CONTOUR_FILL / 127.5 - 1), atol=0.02)
    assert torch.equal(d["keep"], d["person"] * d["keep_mask"])
    assert len(list((tmp_path / "cache").glob(f"{S}px-v*/*.pt"))) == 1  # cached on first read
    assert torch.equal(ds[0]["person"], d["person"])  # read back from the cache
    m = ds[28]  # the same pair mirrored
    assert m["id"] == d["id"] and torch.equal(m["person"], d["person"].flip(-1))
    assert torch.equal(m["gt_grid"], d["gt_grid"])  # the identity stays the identity
    # the same keys as a synthetic sample: the two collate into one batch
    from tryon.data.synthetic import generate

    generate(tmp_path / "syn", n=2, size=S, seed=0, n_test=1, workers=1)
    assert set(TryOnDataset(tmp_path / "syn", "train")[0]) == set(d)


def _pair() -> dict:
    """A pair of the data contract in small: a striped flat garment (a box) and the photo wearing it."""
    g = torch.full((3, S, S), 0.9)
    gm = torch.zeros(1, S, S)
    gm[:, 16:48, 20:44] = 1
    g = torch.where(gm > 0, torch.tensor([0.8, -0.2, -0.6]).view(3, 1, 1), g)
    person = torch.full((3, S, S), 0.5)
    worn = torch.zeros(1, S, S)
    worn[:, 20:50, 18:46] = 1
    person = torch.where(worn > 0, torch.tensor([0.7, 0.1, -0.5]).view(3, 1, 1), person)
    person[:, :10] = torch.tensor([0.6, 0.3, 0.2]).view(3, 1, 1)  # a face, not the garment
    return {
        "garment": g,
        "garment_mask": gm,
        "person": person,
        "worn_mask": worn,
        "keep": person * (1 - worn),
    }


def test_jitter_moves_the_flat_garment_and_recolours_both_sides_alike():
    from tryon.data.real import CHANNEL_ORDERS, jitter

    d = _pair()
    orders = set()
    for k in range(12):
        j = jitter(d, np.random.default_rng([0, k]), 0.2, True)
        # the photo's garment and the flat garment's colours permuted alike; the rest of the photo kept
        worn = d["worn_mask"][0] > 0
        pix = j["person"][:, 30, 30]
        order = [int(torch.argmin((d["person"][:, 30, 30] - v).abs())) for v in pix]
        orders.add(tuple(order))
        assert tuple(order) in CHANNEL_ORDERS
        assert torch.equal(j["person"][:, ~worn], d["person"][:, ~worn])
        inside = j["garment_mask"][0] > 0
        edge = (
            torch.nn.functional.max_pool2d(-j["garment_mask"], 3, 1, 1)[0] > -1
        )  # a 3x3 window leaves the mask
        assert torch.allclose(j["garment"][:, inside & ~edge].mean(1), d["garment"][order, 30, 30], atol=1e-5)
        assert torch.equal(j["keep"], d["keep"])
    assert len(orders) >= 3  # the draws differ
    # the shift alone: the mask moves and scales with the drawn affine, the colours stay
    j = jitter(d, np.random.default_rng(7), 0.2, False)
    assert torch.equal(j["person"], d["person"])
    ys, xs = torch.nonzero(j["garment_mask"][0], as_tuple=True)
    rng = np.random.default_rng(7)
    s = rng.uniform(0.8, 1.1)
    tx, ty = rng.uniform(-0.2, 0.2, 2)
    # a pixel centre x_out maps to the input (x_out - t) / s: the box centre (32 px) lands at 32 + t * 32
    assert abs(xs.float().mean().item() + 0.5 - (32 + tx * 32)) < 1.0
    assert abs(ys.float().mean().item() + 0.5 - (32 + ty * 32)) < 1.0
    assert abs(len(xs) / d["garment_mask"].sum().item() - s * s) < 0.12


@pytest.mark.shared
def test_real_train_set_jittered_copies_follow_the_plain_ones(shared_samples, tmp_path):
    df = split_table(shared_samples, 0.3, 0)
    kw = {"cache_dir": tmp_path / "cache", "augment": True}
    plain = RealTrainSet(df, shared_samples, S, "train", **kw)
    ds = RealTrainSet(df, shared_samples, S, "train", **kw, jitter=2, shift=0.1, colour=True, seed=3)
    n = len(plain)
    assert len(ds) == 3 * n
    assert torch.equal(ds[5]["garment"], plain[5]["garment"])  # copy 0 is the pair itself
    a, b = ds[n + 5], ds[n + 5]
    assert a["id"] == plain[5]["id"] and torch.equal(a["garment"], b["garment"])  # drawn once from the index
    assert not torch.equal(a["garment_mask"], plain[5]["garment_mask"])
    assert not torch.equal(ds[2 * n + 5]["garment_mask"], a["garment_mask"])


def test_flip_mirrors_images_and_keeps_scalars():
    d = {"a": torch.arange(6.0).view(1, 2, 3), "s": torch.tensor(True), "t": "x"}
    f = flip(d)
    assert f["a"][0, 0].tolist() == [2.0, 1.0, 0.0] and f["s"] and f["t"] == "x"


def test_mixed_sampler_puts_the_same_mix_in_every_batch():
    s = MixedSampler(n_first=10, n_second=3, global_batch=4, n_second_per_batch=2, seed=0)
    for step in range(12):
        idx = s.global_indices(step)
        assert len(idx) == 4 and sum(i >= 10 for i in idx) == 2
    # every real sample once per real epoch (3 samples, 2 per batch: 2 epochs in 3 steps)
    second = [i - 10 for step in range(3) for i in s.global_indices(step) if i >= 10]
    assert sorted(second) == [0, 0, 1, 1, 2, 2]
    assert MixedSampler(10, 3, 4, 2, seed=0).global_indices(5) == s.global_indices(5)
    # sharded over two ranks, the union is the global batch
    r0, r1 = (MixedSampler(10, 3, 4, 2, seed=0, rank=r, world_size=2) for r in (0, 1))
    assert r0.indices(3) + r1.indices(3) == s.global_indices(3)
    assert MixedSampler(10, 3, 4, 4, seed=0).global_indices(0) == [
        10 + i for i in StepSampler(3, 4, 1).global_indices(0)
    ]
    with pytest.raises(ValueError, match="expected 1..4"):
        MixedSampler(10, 3, 4, 0, seed=0)


def test_smoothness_is_zero_for_the_identity_and_a_shift_and_positive_for_noise():
    from tryon.data.dataset import identity_grid

    g = identity_grid(16)[None]
    assert smoothness(g) == pytest.approx(0.0, abs=1e-6)
    assert smoothness(g + 0.3) == pytest.approx(0.0, abs=1e-6)
    assert smoothness(g + 0.1 * torch.randn_like(g)) > 0.05


def test_step_logs_each_term_per_source_and_combines_by_count():
    from tryon import paths
    from tryon.bench.train import CODE_DIM, fake_batch
    from tryon.config import load_params
    from tryon.nets.build import architecture, build_model
    from tryon.nets.vgg import build_vgg
    from tryon.train.step import make_step_fn

    torch.manual_seed(0)
    b = fake_batch(4, 128, torch.device("cpu"))  # the default architecture needs 128 px
    model = build_model(architecture(load_params(paths.ROOT / "params.yaml"), CODE_DIM))
    weights = {
        "style": 1.0,
        "warp_vgg": 1.0,
        "warp_mask": 1.0,
        "rec": 1.0,
        "flow": 1.0,
        "contour_l1": 1.0,
        "smooth": 1.0,
    }
    fn = make_step_fn(build_vgg("", layers=("relu1_1",), seed=0), weights, "feature", 16)
    model.eval()
    b["is_real"] = torch.tensor([False, False, True, True])
    b["flow_valid"][2:] = 0
    with torch.no_grad():
        out = fn(model, b)
    for src in ("syn", "real"):
        assert {f"{src}/{t}" for t in weights} <= set(out)
    assert float(out["syn/smooth"]) == 0.0 and float(out["real/flow"]) == 0.0
    for t in weights:
        assert float(out[t]) == pytest.approx(
            (float(out[f"syn/{t}"]) + float(out[f"real/{t}"])) / 2, rel=1e-5
        )
    b["is_real"] = torch.zeros(4, dtype=torch.bool)
    with torch.no_grad():
        plain = fn(model, b)
    assert not any("/" in k for k in plain) and float(plain["smooth"]) == 0.0


@pytest.mark.slow
@pytest.mark.shared
def test_real_split_csv_from_prepare_stage(shared_samples, tmp_path):
    from tryon.config import BaseConfig, PrepareConfig
    from tryon.stages import prepare

    cfg = PrepareConfig(n_train=4, n_test=2, real_root=str(shared_samples), workers=1)
    m = prepare.run(BaseConfig(image_size=32, seed=0), cfg, tmp_path)
    r = m["real"]
    assert r["persons_in_both"] == 0 and r["n_train_pairs"] == 28 and r["n_test_pairs"] == 12
    df = pd.read_csv(tmp_path / "real_split.csv")
    assert len(df) == r["n_pairs"]
    absent = PrepareConfig(n_train=4, n_test=2, real_root=str(tmp_path / "absent"), workers=1)
    m = prepare.run(BaseConfig(image_size=32, seed=0), absent, tmp_path / "a")
    assert m["real"] == f"not computed: no real data at {tmp_path / 'absent'}"
    assert not (tmp_path / "a" / "real_split.csv").exists()


def test_parts_sampler_keeps_the_count_of_each_part_in_every_batch():
    from tryon.train.loop import PartsSampler

    s = PartsSampler([10, 30, 3], [2, 1, 1], seed=0)
    for step in range(20):
        idx = s.global_indices(step)
        assert [sum(lo <= i < hi for i in idx) for lo, hi in ((0, 10), (10, 40), (40, 43))] == [2, 1, 1]
    # two parts are MixedSampler's mix, index for index
    assert PartsSampler([10, 3], [2, 2], seed=5).global_indices(7) == MixedSampler(
        10, 3, 4, 2, 5
    ).global_indices(7)
    # a part with no sample per batch is never drawn
    assert all(
        i < 10 or i >= 40
        for step in range(10)
        for i in PartsSampler([10, 30, 3], [3, 0, 1], 0).global_indices(step)
    )
    with pytest.raises(ValueError, match="one count >= 0 per part"):
        PartsSampler([10, 3], [4], seed=0)


def test_synthetic_counts_round_the_unpaired_share_half_up():
    from tryon.stages.train_data import synthetic_counts

    assert synthetic_counts(4, 0.25, 2) == [3, 1]
    assert synthetic_counts(3, 0.5, 2) == [1, 2]  # 1.5 -> 2
    assert synthetic_counts(2, 0.25, 2) == [1, 1]  # 0.5 -> 1 (Python's round() would give 0)
    assert synthetic_counts(4, 0.1, 2) == [4, 0]
    assert synthetic_counts(4, 0.5, 1) == [4]  # no unpaired part


def test_drop_skin_takes_arm_and_torso_skin_off_the_kept_pixels_of_chosen_samples():
    from tryon.data.labels import ARMS, CIHP
    from tryon.train.step import drop_skin

    parse = torch.zeros(2, 8, 8, dtype=torch.long)
    parse[:, :2] = CIHP.FACE
    parse[:, 2:4] = ARMS[0]
    parse[:, 4:5] = CIHP.TORSO_SKIN
    keep_mask = torch.ones(2, 1, 8, 8)
    b = {
        "parse": parse,
        "keep_mask": keep_mask,
        "keep": torch.full((2, 3, 8, 8), 0.5),
        "person": torch.zeros(2, 3, 8, 8),
    }
    assert drop_skin(b, 0.0) is b
    d = drop_skin(b, 1.0)
    skin = (parse == ARMS[0]) | (parse == CIHP.TORSO_SKIN)
    assert d["keep_mask"][:, 0][skin].eq(0).all() and d["keep_mask"][:, 0][~skin].eq(1).all()
    assert d["keep"][:, :, :5].sum() == 0.5 * 3 * 2 * 8 * 2  # the face rows stay, arm and torso rows go
    assert torch.equal(d["person"], b["person"])  # the target is unchanged
    torch.manual_seed(0)
    half = [drop_skin(b, 0.5)["keep_mask"][:, 0, 2, 0].tolist() for _ in range(50)]
    dropped = sum(v == 0 for row in half for v in row)
    assert 25 < dropped < 75  # about half of 100 samples
