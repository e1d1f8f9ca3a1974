"""TryOnDataset contract on a generated folder, resizing, and the 01_prepare stage on tiny params."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from tryon.data.dataset import TryOnDataset, identity_grid
from tryon.data.labels import CIHP
from tryon.data.synthetic import generate


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("prep")
    generate(root, n=4, size=64, seed=3, n_test=2)
    return root


def test_contract_keys_shapes_ranges(folder):
    ds = TryOnDataset(folder, "train")
    assert len(ds) == 4 and len(TryOnDataset(folder, "test")) == 2
    d = ds[0]
    for k in ("person", "garment", "contour", "trunk"):
        assert d[k].shape == (3, 64, 64) and d[k].dtype == torch.float32 and d[k].abs().max() <= 1
    for k in ("garment_mask", "worn_mask", "trunk_mask", "flow_valid"):
        assert d[k].shape == (1, 64, 64) and set(d[k].unique().tolist()) <= {0.0, 1.0}
    assert d["parse"].dtype == torch.int64 and d["gt_grid"].shape == (2, 64, 64)
    assert d["has_contour"].item() is True and d["flow_valid"].sum() > 0
    assert torch.equal(d["worn_mask"][0] > 0, d["parse"] == CIHP.UPPER_CLOTHES)
    assert torch.equal(d["trunk"], d["person"] * d["trunk_mask"])
    assert torch.equal(d["keep"], d["person"] * d["keep_mask"])
    assert (d["keep_mask"] >= d["trunk_mask"]).all()
    assert not (d["trunk_mask"][0].bool() & (d["parse"] == CIHP.UPPER_CLOTHES)).any()
    assert d["text"].startswith("height ") and not math.isnan(d["height_cm"])
    assert ds.texts == [ds[i]["text"] for i in range(len(ds))]
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["person"].shape == (2, 3, 64, 64) and len(batch["text"]) == 2


def test_resize_on_load_keeps_grid_meaning(folder):
    small = TryOnDataset(folder, "train", image_size=32)
    err = base = 0.0
    for i in range(len(small)):
        s = small[i]
        assert s["person"].shape == (3, 32, 32) and s["parse"].shape == (32, 32)
        # the resized grid still warps the (resized) garment onto the worn garment (shading aside),
        # much better than no warp at all
        w = F.grid_sample(s["garment"][None], s["gt_grid"].permute(1, 2, 0)[None], align_corners=False)[0]
        ident = F.grid_sample(
            s["garment"][None], identity_grid(32).permute(1, 2, 0)[None], align_corners=False
        )[0]
        v = s["flow_valid"][0] > 0
        err += (w - s["person"]).abs().mean(0)[v].mean().item()
        base += (ident - s["person"]).abs().mean(0)[v].mean().item()
    assert err / len(small) < 0.15 and err < 0.7 * base
    assert torch.allclose(
        identity_grid(64),
        F.interpolate(identity_grid(128)[None], size=64, mode="bilinear", align_corners=False)[0],
        atol=1e-6,
    )


def test_prepare_stage_tiny(tmp_path):
    from tryon.config import BaseConfig, PrepareConfig
    from tryon.stages import prepare

    base = BaseConfig(image_size=64, seed=1)
    cfg = PrepareConfig(n_train=6, n_dev=2, n_test=3, real_root=str(tmp_path / "absent"), workers=1)
    m = prepare.run(base, cfg, tmp_path / "out")
    assert m["real"] == f"not computed: no real data at {tmp_path / 'absent'}"
    assert m["n_train"] == 6 and m["n_dev"] == 2 and m["n_test"] == 3 and m["samples_per_s"] > 0
    assert m["gt_mae_255_mean"] < 2 and m["shared_garments_train_test"] == 0 and m["real_pairs_loaded"] == 0
    assert m["shared_garments_train_dev"] == 0 and m["shape_jitter"] == 0.08
    assert set(m["width_r2_from_text"]) == {"shoulder_w_px", "waist_w_px", "hip_w_px"}
    import pandas as pd

    man = pd.read_csv(tmp_path / "out" / "manifest.csv")
    assert len(man) == 11 and {"text", "height_cm", "body_type", "build", "garment_type"} <= set(man.columns)
    figs = [
        prepare.samples_figure(tmp_path / "out", "train", 2),
        prepare.distributions_figure(man),
        prepare.shape_figure(man),
    ]
    assert all(len(f.axes) > 0 for f in figs)
    assert prepare.real_samples_figure(tmp_path / "absent") is None


def test_unpaired_synthetic_renders_the_other_garment_on_the_same_body(folder):
    from tryon.data.dataset import UnpairedSynthetic

    paired = TryOnDataset(folder, "train")
    same = UnpairedSynthetic(paired, shift=0)[1]  # shift 0 re-renders the paired sample exactly
    p = paired[1]
    assert torch.equal(same["person"], p["person"]) and torch.equal(same["worn_mask"], p["worn_mask"])
    assert (same["gt_grid"] - p["gt_grid"]).abs().max() < 2e-3  # stored grids are float16
    u = UnpairedSynthetic(paired)[1]
    nxt = paired[2]
    assert u["id"] == f"{p['id']}+{nxt['id']}"
    assert torch.equal(u["trunk"], p["trunk"]) and u["text"] == p["text"]  # the person side is sample 1
    assert torch.equal(u["garment"], nxt["garment"])  # the garment is sample 2's
    assert not torch.equal(u["worn_mask"], p["worn_mask"])  # the body now wears another garment
    # the ground truth: the new flat garment warped by the rendered grid is the new person's garment
    v = u["flow_valid"][0] > 0.5
    warped = F.grid_sample(u["garment"][None], u["gt_grid"].permute(1, 2, 0)[None], align_corners=False)[0]
    assert v.sum() > 50 and (warped - u["person"]).abs()[:, v].mean() < 0.15
    wrong = F.grid_sample(u["garment"][None], p["gt_grid"].permute(1, 2, 0)[None], align_corners=False)[0]
    assert (wrong - u["person"]).abs()[:, v].mean() > (warped - u["person"]).abs()[:, v].mean()
    # skin_gain: garment in the person photo, arm or torso skin in the truth (skin_l1 of stage 06)
    assert same["skin_gain"].sum() == 0, "the same garment uncovers no skin"
    gains = [UnpairedSynthetic(paired)[i] for i in range(len(paired))]
    for g, base in zip(gains, (paired[i] for i in range(len(paired))), strict=True):
        assert ((g["skin_gain"] > 0) <= (base["worn_mask"] > 0)).all()  # only where a garment was
        assert ((g["skin_gain"] > 0) <= (g["worn_mask"] < 0.5)).all()  # and the new one is not
    assert sum(float(g["skin_gain"].sum()) for g in gains) > 0, "some garment change uncovers skin"


def test_unpaired_synthetic_with_several_shifts_gives_each_person_other_garments(folder):
    from tryon.data.dataset import UnpairedSynthetic

    paired = TryOnDataset(folder, "train")
    n = len(paired)
    u = UnpairedSynthetic(paired, n_shifts=2, skin_gain=False)
    assert len(u) == 2 * n and u.shifts == [1, 1 + (n - 1) // 2]
    ids = [u[k]["id"] for k in range(len(u))]
    assert len(set(ids)) == 2 * n, "no pair twice"
    for k, sid in enumerate(ids):
        person, garment = sid.split("+")
        assert person == paired[k % n]["id"] and garment != person  # never the paired garment
    assert "skin_gain" not in u[0]  # training batches mix these with paired samples (same keys)
    assert set(u[0]) == set(paired[0])
    with pytest.raises(ValueError, match="n_shifts"):
        UnpairedSynthetic(paired, n_shifts=n)
