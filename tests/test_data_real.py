"""Real VITON-HD / Dress Code samples (../shared/data/vton-samples): every pair loads into the common dict,
trunk maps keep face and neck and remove the garment, annotate writes one row per person."""

import numpy as np
import pandas as pd
import pytest
import torch

from tryon.data import annotate, labels
from tryon.data.dataset import RealPairsDataset, detect_layout
from tryon.data.labels import CIHP

pytestmark = pytest.mark.shared
S = 64
KEYS = {
    "id",
    "text",
    "body_type",
    "build",
    "garment_type",
    "height_cm",
    "weight_kg",
    "person",
    "garment",
    "garment_mask",
    "worn_mask",
    "parse",
    "trunk_mask",
    "trunk",
    "keep",
    "keep_mask",
    "protect_mask",
    "contour",
    "has_contour",
    "gt_grid",
    "flow_valid",
    "pad",
    "orig_size",
    "is_real",
    "pose",
}


@pytest.mark.parametrize("subset", ["vitonhd", "dresscode"])
def test_every_pair_loads_with_correct_shapes(shared_samples, subset):
    root = shared_samples / subset
    meta = pd.read_csv(root / "meta.csv")
    n = 0
    for mode in ("paired", "unpaired"):
        ds = RealPairsDataset(root, mode, S)
        assert len(ds) == (meta["mode"] == mode).sum()
        for i in range(len(ds)):
            d = ds[i]
            n += 1
            assert set(d) == KEYS
            for k in ("person", "garment", "trunk", "keep", "contour"):
                assert d[k].shape == (3, S, S) and d[k].dtype == torch.float32
                assert d[k].min() >= -1 and d[k].max() <= 1
            for k in ("garment_mask", "worn_mask", "trunk_mask", "keep_mask", "protect_mask", "flow_valid"):
                assert d[k].shape == (1, S, S) and set(d[k].unique().tolist()) <= {0.0, 1.0}
            assert d["parse"].shape == (S, S) and d["parse"].dtype == torch.int64 and d["parse"].max() < 20
            assert d["pose"].shape == (3, S, S) and 0 <= d["pose"].min() and d["pose"].max() <= 1
            has_pose = ds.records[i].pose is not None and ds.records[i].pose.is_file()
            assert (d["pose"].amax() > 0.9) == has_pose, f"{d['id']}: bones drawn iff it has a keypoint file"
            assert d["gt_grid"].shape == (2, S, S) and d["flow_valid"].sum() == 0 and not d["has_contour"]
            assert d["orig_size"].tolist() == [768, 1024] and d["pad"].tolist() == [128, 0, 128, 0]
            assert d["garment_mask"].mean() > 0.05  # a garment was found (given or estimated mask)
            assert d["person"][:, :, :4].eq(-1).all()  # zero-padded sides
            assert isinstance(d["text"], str) and "cm" in d["text"]
    assert n == len(meta)


@pytest.mark.parametrize("subset", ["vitonhd", "dresscode"])
def test_trunk_keeps_face_removes_garment_and_the_neck_of_upper_garments(shared_samples, subset):
    ds = RealPairsDataset(shared_samples / subset, "paired", 256)
    for i in range(len(ds)):
        d = ds[i]
        parse, m = d["parse"].numpy(), d["trunk_mask"][0].numpy() > 0
        face = parse == CIHP.FACE
        assert face.sum() > 50 and m[face].all()
        neck = parse == CIHP.TORSO_SKIN
        cat = ds.records[i].category
        assert m[neck].all() if cat == "lower_body" else not m[neck].any()  # agnostic for upper garments
        g = labels.category_garment_mask(parse, cat)
        assert g.sum() > 100 and not m[g].any()
        # the trunk image is the person inside the mask and zero elsewhere
        assert torch.equal(d["trunk"], d["person"] * d["trunk_mask"])
    assert torch.equal(d["keep"], d["person"] * d["keep_mask"])
    assert (d["keep_mask"] >= d["trunk_mask"]).all()


def test_layout_detection(shared_samples):
    assert detect_layout(shared_samples / "vitonhd") == "vitonhd"
    assert detect_layout(shared_samples / "dresscode") == "dresscode"


def test_annotate_writes_one_row_per_person_and_user_rows_win(shared_samples, tmp_path):
    for subset, n_persons in (("vitonhd", 16), ("dresscode", 30)):
        out = tmp_path / f"{subset}.csv"
        df = annotate.annotate(shared_samples / subset, out)
        assert len(df) == n_persons and df["person"].is_unique
        assert (df["source"] == "estimated").all()
        assert df["body_type"].isin(labels_vocab()[0]).all() and df["build"].isin(labels_vocab()[1]).all()
        # the user edits one row (Chinese words accepted); a re-run keeps it and the loader reads it
        edited = pd.read_csv(out, dtype={"person": str})
        pid = edited.loc[0, "person"]
        edited.loc[0, ["height_cm", "weight_kg", "body_type", "build", "source"]] = [
            158,
            49,
            "梨型",
            "瘦",
            "user",
        ]
        edited.to_csv(out, index=False)
        again = annotate.annotate(shared_samples / subset, out)
        assert len(again) == n_persons
        ann = annotate.read_annotations(out)
        assert ann.loc[pid, "text"] == "height 158cm, weight 49kg, pear, thin"
        ds = RealPairsDataset(shared_samples / subset, "paired", 32, annotations=out)
        j = [r.person_id for r in ds.records].index(pid)
        assert ds[j]["text"] == "height 158cm, weight 49kg, pear, thin" and ds[j]["height_cm"] == 158


def labels_vocab():
    from tryon.vocab import BODY_TYPES, BUILDS

    return BODY_TYPES, BUILDS


def test_silhouette_measures_are_finite_on_real_parses(shared_samples):
    from tryon.data.vitonhd import load_parse

    for subset, glob, ls in (("vitonhd", "*.png", "cihp"), ("dresscode", "*_4.png", "dresscode")):
        for p in sorted((shared_samples / subset / "image-parse").glob(glob))[:6]:
            m = annotate.measure_silhouette(load_parse(p, ls))
            assert np.isfinite(m["shoulder_face"]) and m["shoulder_face"] > 0.5


def test_real_garment_photos_as_flat_garments(shared_samples, tmp_path):
    import torch.nn.functional as F

    from tryon.data import synthetic as sy
    from tryon.data.dataset import TryOnDataset

    df = sy.generate(tmp_path, n=3, size=64, seed=2, n_test=2, garment_dir=shared_samples / "vitonhd")
    tr, te = set(df.garment_id[df.split == "train"]), set(df.garment_id[df.split == "test"])
    assert tr and te and not tr & te and all(g.endswith(".jpg") for g in tr | te)
    ds = TryOnDataset(tmp_path, "test")
    for i in range(len(ds)):
        d = ds[i]
        _, _, out = sy.make_sample(2, "test", i, 64, sy.list_garment_photos(shared_samples / "vitonhd"))
        w = F.grid_sample(
            (d["garment"][None] + 1) / 2, d["gt_grid"].permute(1, 2, 0)[None], align_corners=False
        )[0]
        v = d["flow_valid"][0] > 0
        assert v.sum() > 100
        assert (w - torch.from_numpy(out["garment_raw"]).permute(2, 0, 1)).abs().mean(0)[v].mean() < 2 / 255
