"""Official VITON-HD and Dress Code folder layouts (:mod:`tryon.data.official`): detection, listing per
split / mode, loading a pair, and one-line errors naming the file.

The fixture trees are built in ``tmp_path`` from symlinks to the real files of ``../shared/data/vton-samples``
(nothing is copied into the repo); only the files the samples lack (Dress Code ``dense/``, a bad parse map)
are written.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tryon.data import io, labels, official
from tryon.data.vitonhd import load_record

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "vton-samples"
VTON_TRAIN = ["00000_00", "00001_00", "00002_00", "00003_00", "00005_00"]
VTON_TRAIN += ["00007_00", "00009_00", "00010_00", "00011_00", "00012_00"]
#: the 6 official VITON-HD sample test pairs (person, garment)
VTON_TEST = [
    ("08909_00", "02783_00"),
    ("00891_00", "01430_00"),
    ("03615_00", "09933_00"),
    ("07445_00", "06429_00"),
    ("07573_00", "11791_00"),
    ("10549_00", "01260_00"),
]
DC_CAT_ID = {"upper_body": 0, "lower_body": 1, "dresses": 2}


@pytest.fixture
def samples(shared_samples) -> Path:
    """The real sample files; skip when the shared folder is not beside the checkout."""
    if not (SAMPLES / "vitonhd" / "image").is_dir() or not (SAMPLES / "dresscode" / "image").is_dir():
        pytest.skip(f"no ../shared/data/vton-samples: real samples not found at {SAMPLES}")
    return SAMPLES


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(src.resolve())


def _write_labels(path: Path, arr: np.ndarray) -> None:
    """A palette PNG label map (replacing a symlink, never writing through it)."""
    path.unlink(missing_ok=True)
    im = Image.fromarray(arr.astype(np.uint8), mode="P")
    im.putpalette([0] * 768)
    im.save(path)


@pytest.fixture
def vitonhd_root(samples: Path, tmp_path: Path) -> Path:
    """Official VITON-HD: 10 train persons (paired) and the 6 sample test pairs."""
    src, root = samples / "vitonhd", tmp_path / "VITON-HD"
    pose = src / "openpose_json" / "00891_00_keypoints.json"  # the train samples have no OpenPose json
    for x in VTON_TRAIN:
        t = root / "train"
        _link(src / "image" / f"{x}.jpg", t / "image" / f"{x}.jpg")
        _link(src / "cloth" / f"{x}.jpg", t / "cloth" / f"{x}.jpg")
        _link(src / "cloth-mask" / f"{x}.jpg", t / "cloth-mask" / f"{x}.jpg")
        _link(src / "image-parse" / f"{x}.png", t / "image-parse-v3" / f"{x}.png")
        _link(src / "image-densepose" / f"{x}.jpg", t / "image-densepose" / f"{x}.jpg")
        _link(pose, t / "openpose_json" / f"{x}_keypoints.json")
    t = root / "test"
    (t / "image-densepose").mkdir(parents=True)
    for x, c in VTON_TEST:
        _link(src / "image" / f"{x}.jpg", t / "image" / f"{x}.jpg")
        _link(src / "image-parse" / f"{x}.png", t / "image-parse-v3" / f"{x}.png")
        _link(src / "openpose_json" / f"{x}_keypoints.json", t / "openpose_json" / f"{x}_keypoints.json")
        for name in (c, x):  # the sample test persons' own garments are not public: stand in with c
            _link(src / "cloth" / f"{c}.jpg", t / "cloth" / f"{name}.jpg")
            _link(src / "cloth-mask" / f"{c}.jpg", t / "cloth-mask" / f"{name}.jpg")
    (root / "train_pairs.txt").write_text("".join(f"{x}.jpg {x}.jpg\n" for x in VTON_TRAIN))
    (root / "test_pairs.txt").write_text("".join(f"{x}.jpg {c}.jpg\n" for x, c in VTON_TEST))
    return root


def _dc_write_pairs(root: Path, split_ids: dict[str, dict[str, list[str]]]) -> None:
    """Per-category and top-level pairs files (top level: third column 0|1|2)."""
    top = {name: [] for name in official.DRESSCODE_PAIRS.values()}
    for cat, ids in split_ids.items():
        tr, te = ids["train"], ids["test"]
        files = {
            "train_pairs.txt": [(x, x) for x in tr],
            "test_pairs_paired.txt": [(x, x) for x in te],
            "test_pairs_unpaired.txt": [(x, te[(i + 1) % len(te)]) for i, x in enumerate(te)],
        }
        for name, pairs in files.items():
            lines = [f"{p}_0.jpg {c}_1.jpg" for p, c in pairs]
            (root / cat / name).write_text("\n".join(lines) + "\n")
            top[name] += [f"{line}\t{DC_CAT_ID[cat]}" for line in lines]
    for name, lines in top.items():
        (root / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def dresscode_root(samples: Path, tmp_path: Path) -> Path:
    """Official Dress Code: 10 persons per category, 8 train and 2 test; ``dense/`` written (not in the
    samples)."""
    src, root = samples / "dresscode", tmp_path / "DressCode"
    meta = pd.read_csv(src / "meta.csv")
    meta = meta[meta["mode"] == "paired"]
    dense = np.zeros((64, 48), np.uint8)
    dense[16:48, 12:36] = 2
    split_ids: dict[str, dict[str, list[str]]] = {}
    for cat, rows in meta.groupby("category", sort=False):
        ids = sorted(p[: -len("_0.jpg")] for p in rows["person"])
        split_ids[str(cat)] = {"train": ids[:8], "test": ids[8:]}
        base = root / str(cat)
        for x in ids:
            _link(src / "image" / f"{x}_0.jpg", base / "images" / f"{x}_0.jpg")
            _link(src / "cloth" / f"{x}_1.jpg", base / "images" / f"{x}_1.jpg")
            _link(src / "image-parse" / f"{x}_4.png", base / "label_maps" / f"{x}_4.png")
            _link(src / "keypoints" / f"{x}_2.json", base / "keypoints" / f"{x}_2.json")
            (base / "dense").mkdir(exist_ok=True)
            Image.fromarray(dense, mode="L").save(base / "dense" / f"{x}_5.png")
    _dc_write_pairs(root, split_ids)
    return root


def _one_line_error(fn, *args, name: str, **kwargs) -> str:
    """Run fn, expect a DataError whose message is one line containing ``name``; return the message."""
    with pytest.raises(io.DataError) as e:
        fn(*args, **kwargs)
    msg = str(e.value)
    assert "\n" not in msg and name in msg, msg
    return msg


# ---------------------------------------------------------------- detection


@pytest.mark.shared
def test_detect_each_layout(vitonhd_root: Path, dresscode_root: Path, samples: Path) -> None:
    assert official.detect(vitonhd_root) == "vitonhd_official"
    assert official.detect(dresscode_root) == "dresscode_official"
    assert official.detect(samples) == "flat"
    assert official.detect(samples / "vitonhd") == "flat"
    assert official.detect(samples / "dresscode") == "flat"


@pytest.mark.shared
def test_detect_only_test_split_or_one_category(vitonhd_root: Path, dresscode_root: Path) -> None:
    import shutil

    shutil.rmtree(vitonhd_root / "train")
    assert official.detect(vitonhd_root) == "vitonhd_official"
    shutil.rmtree(dresscode_root / "upper_body")
    shutil.rmtree(dresscode_root / "dresses")
    assert official.detect(dresscode_root) == "dresscode_official"
    assert {r.category for r in official.list_official(dresscode_root, "train")} == {"lower_body"}


def test_detect_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    msg = _one_line_error(official.detect, tmp_path / "empty", name=str(tmp_path / "empty"))
    assert "not a dataset folder" in msg and "train/" in msg and "upper_body/" in msg
    _one_line_error(official.detect, tmp_path / "nope", name=f"{tmp_path / 'nope'}: folder not found")


# ---------------------------------------------------------------- listing


@pytest.mark.shared
def test_vitonhd_counts_and_paths(vitonhd_root: Path) -> None:
    train = official.list_official(vitonhd_root, "train")
    assert len(train) == 10 and all(r.mode == "paired" and r.person_id == r.cloth_id for r in train)
    r = train[0]
    assert r.person == vitonhd_root / "train" / "image" / "00000_00.jpg"
    assert r.parse == vitonhd_root / "train" / "image-parse-v3" / "00000_00.png"
    assert r.pose == vitonhd_root / "train" / "openpose_json" / "00000_00_keypoints.json"
    assert r.densepose == vitonhd_root / "train" / "image-densepose" / "00000_00.jpg"
    assert r.cloth_mask == vitonhd_root / "train" / "cloth-mask" / "00000_00.jpg"
    assert (r.category, r.labelset) == ("upper_body", "cihp")
    unpaired = official.list_official(vitonhd_root, "test", "unpaired")
    assert [(r.person_id, r.cloth_id) for r in unpaired] == VTON_TEST  # the file order, as shipped
    assert all(r.mode == "unpaired" for r in unpaired)
    paired = official.list_official(vitonhd_root, "test", "paired")
    assert [(r.person_id, r.cloth_id) for r in paired] == [(x, x) for x, _ in VTON_TEST]
    assert paired[0].cloth == vitonhd_root / "test" / "cloth" / "08909_00.jpg"
    with pytest.raises(ValueError, match="paired pairs only"):
        official.list_official(vitonhd_root, "train", "unpaired")
    with pytest.raises(ValueError, match="split"):
        official.list_official(vitonhd_root, "val")


@pytest.mark.shared
def test_dresscode_counts_and_paths(dresscode_root: Path) -> None:
    train = official.list_official(dresscode_root, "train")
    assert len(train) == 24
    assert {c: sum(r.category == c for r in train) for c in DC_CAT_ID} == dict.fromkeys(DC_CAT_ID, 8)
    assert len(official.list_official(dresscode_root, "test", "paired")) == 6
    unpaired = official.list_official(dresscode_root, "test", "unpaired")
    assert len(unpaired) == 6 and all(r.mode == "unpaired" for r in unpaired)
    assert all(r.person_id[:-2] != r.cloth_id[:-2] for r in unpaired)
    r = next(r for r in train if r.category == "lower_body")
    base = dresscode_root / "lower_body"
    assert (r.person_id, r.cloth_id) == ("013563_0", "013563_1")
    assert (r.person, r.cloth) == (base / "images" / "013563_0.jpg", base / "images" / "013563_1.jpg")
    assert r.parse == base / "label_maps" / "013563_4.png"
    assert r.pose == base / "keypoints" / "013563_2.json"
    assert r.densepose == base / "dense" / "013563_5.png"
    assert (r.cloth_mask, r.labelset, r.mode) == (None, "dresscode", "paired")
    only = official.list_official(dresscode_root, "test", "paired", categories="dresses")
    assert len(only) == 2 and {r.category for r in only} == {"dresses"}
    with pytest.raises(ValueError, match="category"):
        official.list_official(dresscode_root, "train", categories=["shoes"])


@pytest.mark.shared
def test_dresscode_top_level_fallback(dresscode_root: Path) -> None:
    """A category without its own pairs file reads its lines of the top-level file (third column 0|1|2,
    or, without a third column, the persons found in its images/)."""
    want = [(r.person_id, r.cloth_id) for r in official.list_official(dresscode_root, "train")]
    for cat in DC_CAT_ID:
        (dresscode_root / cat / "train_pairs.txt").unlink()
    got = official.list_official(dresscode_root, "train")
    assert sorted((r.person_id, r.cloth_id) for r in got) == sorted(want)
    assert all(r.person.parent.parent.name == r.category for r in got)
    top = dresscode_root / "train_pairs.txt"
    top.write_text("".join(line.rsplit(None, 1)[0] + "\n" for line in top.read_text().splitlines()))
    got2 = official.list_official(dresscode_root, "train")
    assert sorted((r.category, r.person_id) for r in got2) == sorted((r.category, r.person_id) for r in got)


# ---------------------------------------------------------------- loading


@pytest.mark.shared
@pytest.mark.parametrize("layout", ["vitonhd", "dresscode"])
def test_load_one_pair(layout: str, request: pytest.FixtureRequest) -> None:
    root = request.getfixturevalue(f"{layout}_root")
    rec = official.list_official(root, "test", "unpaired")[0]
    s = load_record(rec)
    assert s["person"].shape == (1024, 768, 3) and s["person"].dtype == np.uint8
    assert s["parse"].shape == (1024, 768) and int(s["parse"].max()) < labels.N_CIHP
    assert s["cloth"].shape == (1024, 768, 3) and s["cloth_mask"].shape == (1024, 768)
    assert s["cloth_mask"].dtype == bool and 0.05 < s["cloth_mask"].mean() < 0.95
    if layout == "dresscode":  # Dress Code ids are remapped: its head (11) becomes the CIHP face (13)
        raw = np.asarray(Image.open(rec.parse))
        assert np.array_equal(s["parse"] == labels.CIHP.FACE, raw == labels.DressCode.HEAD)
    else:
        assert labels.garment_mask(s["parse"]).any()


# ---------------------------------------------------------------- errors


@pytest.mark.shared
@pytest.mark.parametrize(
    ("layout", "folder"),
    [("vitonhd", "train/image-parse-v3"), ("vitonhd", "test/openpose_json"), ("dresscode", "dresses/dense")],
)
def test_missing_folder(layout: str, folder: str, request: pytest.FixtureRequest) -> None:
    import shutil

    root = request.getfixturevalue(f"{layout}_root")
    shutil.rmtree(root / folder)
    msg = _one_line_error(official.detect, root, name=f"{root / folder}: folder not found")
    assert "official" in msg
    _one_line_error(official.list_official, root, "train", name=str(root / folder))


@pytest.mark.shared
def test_missing_pairs_file(vitonhd_root: Path, dresscode_root: Path) -> None:
    (vitonhd_root / "test_pairs.txt").unlink()
    _one_line_error(official.detect, vitonhd_root, name=f"{vitonhd_root / 'test_pairs.txt'}: file not found")
    _one_line_error(official.list_official, vitonhd_root, "test", "unpaired", name="test_pairs.txt")
    (dresscode_root / "upper_body" / "test_pairs_unpaired.txt").unlink()
    assert official.detect(dresscode_root) == "dresscode_official"  # the top-level file stands in
    (dresscode_root / "test_pairs_unpaired.txt").unlink()
    own = dresscode_root / "upper_body" / "test_pairs_unpaired.txt"
    _one_line_error(official.detect, dresscode_root, name=f"{own}: file not found")


@pytest.mark.shared
def test_malformed_pairs_line(vitonhd_root: Path, dresscode_root: Path) -> None:
    p = vitonhd_root / "train_pairs.txt"
    p.write_text(p.read_text() + "00000_00.jpg\n")
    msg = _one_line_error(official.list_official, vitonhd_root, "train", name=f"{p}: line 11: ")
    assert "expected '<person image> <cloth image>', got '00000_00.jpg'" in msg
    p = dresscode_root / "lower_body" / "train_pairs.txt"
    p.write_text("013563_0.jpg 013563_1.jpg\n\n013564_0.jpg 013564_1.jpg 1\n")
    _one_line_error(official.list_official, dresscode_root, "train", name=f"{p}: line 3: expected")
    p.write_text("013563_1.jpg 013563_0.jpg\n")  # swapped columns
    _one_line_error(official.list_official, dresscode_root, "train", name=f"{p}: line 1: expected")
    p.write_text("\n\n")
    _one_line_error(
        official.list_official, dresscode_root, "train", categories=["lower_body"], name="no train"
    )
    top = dresscode_root / "test_pairs_paired.txt"
    (dresscode_root / "dresses" / "test_pairs_paired.txt").unlink()
    top.write_text("020722_0.jpg 020722_1.jpg 7\n")
    msg = _one_line_error(official.list_official, dresscode_root, "test", name=f"{top}: line 1: expected")
    assert "category" in msg


@pytest.mark.shared
def test_pairs_line_naming_missing_image(vitonhd_root: Path, dresscode_root: Path) -> None:
    p = vitonhd_root / "train_pairs.txt"
    p.write_text(p.read_text() + "99999_00.jpg 99999_00.jpg\n")
    missing = vitonhd_root / "train" / "image" / "99999_00.jpg"
    msg = _one_line_error(official.list_official, vitonhd_root, "train", name=f"{missing}: file not found")
    assert f"line 11 of {p}" in msg
    (dresscode_root / "dresses" / "images" / "020723_1.jpg").unlink()
    missing = dresscode_root / "dresses" / "images" / "020723_1.jpg"
    _one_line_error(official.list_official, dresscode_root, "test", name=f"{missing}: file not found")


@pytest.mark.shared
@pytest.mark.parametrize("layout", ["vitonhd", "dresscode"])
def test_parse_map_of_wrong_size(layout: str, request: pytest.FixtureRequest) -> None:
    rec = official.list_official(request.getfixturevalue(f"{layout}_root"), "train")[0]
    _write_labels(rec.parse, np.zeros((512, 384), np.uint8))
    msg = _one_line_error(load_record, rec, name=str(rec.parse))
    assert "384x512, expected 768x1024" in msg


@pytest.mark.shared
@pytest.mark.parametrize(("layout", "bad"), [("vitonhd", 23), ("dresscode", 18)])
def test_parse_map_with_unknown_label(layout: str, bad: int, request: pytest.FixtureRequest) -> None:
    rec = official.list_official(request.getfixturevalue(f"{layout}_root"), "train")[0]
    parse = np.zeros((1024, 768), np.uint8)
    parse[500:520, 300:400] = bad
    _write_labels(rec.parse, parse)
    msg = _one_line_error(load_record, rec, name=str(rec.parse))
    assert f"unknown parse label(s) [{bad}]" in msg


# ---------------------------------------------------------------- listing is cheap


@pytest.mark.shared
def test_listing_reads_no_image(
    vitonhd_root: Path, dresscode_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing 12,000 pairs opens no image and takes well under a second per 10,000 pairs."""

    def no_read(*args, **kwargs):
        raise AssertionError("an image was read while listing")

    for target in ("tryon.data.io.read_rgb", "tryon.data.io.read_labels", "tryon.data.io._open"):
        monkeypatch.setattr(target, no_read)
    monkeypatch.setattr(Image, "open", no_read)
    p = vitonhd_root / "train_pairs.txt"
    p.write_text("".join(f"{VTON_TRAIN[i % 10]}.jpg {VTON_TRAIN[(i + 1) % 10]}.jpg\n" for i in range(12000)))
    t0 = time.perf_counter()
    recs = official.list_official(vitonhd_root, "train")
    assert len(recs) == 12000 and time.perf_counter() - t0 < 5.0
    assert len(official.list_official(dresscode_root, "train")) == 24
    with pytest.raises(AssertionError, match="an image was read"):
        load_record(recs[0])


@pytest.mark.shared
@pytest.mark.parametrize("layout", ["vitonhd_root", "dresscode_root"])
def test_split_table_keeps_the_official_split(layout: str, request: pytest.FixtureRequest) -> None:
    """01_prepare's split of an official folder is the shipped one (train persons from the train
    pairs, test from the test pairs), with a body text for every pair and a training set that loads."""
    from tryon.data.real import RealTrainSet, split_table

    root = request.getfixturevalue(layout)
    df = split_table(root)
    train = df[df["split"] == "train"]
    test = df[df["split"] == "test"]
    assert len(train) and len(test) and (train["mode"] == "paired").all()
    assert not set(train["person_id"]) & set(test["person_id"])
    assert df["text"].str.startswith("height ").all() and (df["text_source"] == "estimated").all()
    d = RealTrainSet(df, root, 32)[0]
    assert d["person"].shape == (3, 32, 32) and d["has_contour"] and d["is_real"]
