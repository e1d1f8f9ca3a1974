"""VITON as CP-VTON published it (:mod:`tryon.data.official`, layout ``cpvton``): detection, listing, LIP
labels, the split table with its dev split, and one-line errors naming the file for each bad input.

The fixture trees are built in ``tmp_path`` from symlinks to a few real files of ``../shared/data/viton``
(nothing is copied into the repo); only the broken files of the bad-input cases are written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon import paths
from tryon.data import io, labels, official, real
from tryon.data.vitonhd import load_record

pytestmark = pytest.mark.shared

TRAIN = ["000003", "000004", "000005", "000006", "000010", "000014"]
TEST = ["000001", "000010", "000020"]


@pytest.fixture
def viton() -> Path:
    if not (paths.SHARED_VITON / "train" / "image").is_dir():
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    return paths.SHARED_VITON


def _present(viton: Path, split: str, ids: list[str]) -> list[str]:
    return [i for i in ids if (viton / split / "image" / f"{i}_0.jpg").is_file()]


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    dst.symlink_to(src.resolve())


def _person_files(split: str, i: str) -> list[str]:
    return [f"image/{i}_0.jpg", f"image-parse/{i}_0.png", f"pose/{i}_0_keypoints.json"]


def _cloth_files(split: str, i: str) -> list[str]:
    return [f"cloth/{i}_1.jpg", f"cloth-mask/{i}_1.jpg"]


@pytest.fixture
def root(viton: Path, tmp_path: Path) -> Path:
    """A small CP-VTON tree: a few train persons (paired) and test persons in each other's garments."""
    r = tmp_path / "viton"
    train, test = _present(viton, "train", TRAIN), _present(viton, "test", TEST)
    assert len(train) >= 4 and len(test) >= 2, "the fixture ids are in ../shared/data/viton"
    for split, ids in (("train", train), ("test", test)):
        for i in ids:
            for f in _person_files(split, i) + _cloth_files(split, i):
                _link(viton / split / f, r / split / f)
    (r / "train_pairs.txt").write_text("".join(f"{i}_0.jpg {i}_1.jpg\n" for i in train))
    unpaired = [(a, test[(k + 1) % len(test)]) for k, a in enumerate(test)]
    (r / "test_pairs.txt").write_text("".join(f"{a}_0.jpg {b}_1.jpg\n" for a, b in unpaired))
    return r


def test_detected_and_listed(root: Path):
    assert official.detect(root) == "cpvton"
    train = official.list_official(root, "train")
    assert [r.mode for r in train] == ["paired"] * len(train)
    assert all(r.labelset == "lip" and r.cloth_id[:-2] == r.person_id[:-2] for r in train)
    paired = official.list_official(root, "test", "paired")
    unpaired = official.list_official(root, "test", "unpaired")
    assert [r.cloth_id[:-2] for r in paired] == [r.person_id[:-2] for r in paired], "own garment"
    assert all(r.cloth_id[:-2] != r.person_id[:-2] for r in unpaired)
    d = load_record(paired[0])
    assert d["person"].shape == (256, 192, 3) and d["parse"].shape == (256, 192)
    assert d["cloth_mask"].dtype == bool and d["cloth_mask"].any()


def test_the_official_train_list_with_repeated_ids_loads(root: Path):
    """A user's own download lists 14,221 ids, some repeating a photo under another id: every line loads."""
    lines = (root / "train_pairs.txt").read_text().splitlines()
    (root / "train_pairs.txt").write_text("\n".join(lines + lines[:2]) + "\n")
    assert len(official.list_official(root, "train")) == len(lines) + 2


def test_split_table_holds_out_dev_persons(root: Path):
    df = real.split_table(root, n_dev=2)
    paired = df[df["mode"] == "paired"]
    dev = set(paired[paired["split"] == "dev"]["person_id"])
    train = set(paired[paired["split"] == "train"]["person_id"])
    assert len(dev) == 2 and not dev & train
    assert set(df[df["split"] == "test"]["mode"]) == {"paired", "unpaired"}
    assert df["id"].is_unique and all(i.startswith(("viton/train/", "viton/test/")) for i in df["id"])
    assert set(df["text_source"]) == {"estimated"}
    assert len(set(real.split_table(root, n_dev=2, max_persons=2)["person_id"])) <= 2 * 2


def test_lip_jumpsuits_become_a_dress_every_other_label_kept():
    lip = np.arange(20, dtype=np.uint8).reshape(4, 5)
    cihp = labels.lip_to_cihp(lip)
    assert cihp[lip == labels.LIP_JUMPSUITS].tolist() == [labels.CIHP.DRESS]
    keep = lip != labels.LIP_JUMPSUITS
    assert (cihp[keep] == lip[keep]).all()
    with pytest.raises(labels.LabelError, match="unknown parse label"):
        labels.lip_to_cihp(np.full((2, 2), 20, np.uint8), "x.png")


def test_missing_folder_names_it(root: Path):
    import shutil

    shutil.rmtree(root / "test" / "pose")
    with pytest.raises(io.DataError, match=r"test/pose: folder not found \(CP-VTON"):
        official.detect(root)


def test_missing_pairs_file_names_it(root: Path):
    (root / "test_pairs.txt").unlink()
    with pytest.raises(io.DataError, match=r"test_pairs.txt: file not found"):
        official.detect(root)


def test_missing_image_names_the_file_and_line(root: Path):
    first = (root / "train_pairs.txt").read_text().split()[0]
    (root / "train" / "image" / first).unlink()
    with pytest.raises(
        io.DataError, match=rf"{first}: file not found \(named on line 1 of .*train_pairs.txt\)"
    ):
        official.list_official(root, "train")


@pytest.mark.parametrize(
    "line", ["000003_0.jpg", "000003_0.jpg 000003_1.jpg extra", "000003.jpg 000003_1.jpg"]
)
def test_malformed_pairs_line_names_the_file(root: Path, line: str):
    with open(root / "train_pairs.txt", "a") as fh:
        fh.write(line + "\n")
    with pytest.raises(io.DataError, match=r"train_pairs.txt: line \d+: expected"):
        official.list_official(root, "train")


def _write_labels(path: Path, arr: np.ndarray) -> None:
    path.unlink(missing_ok=True)
    Image.fromarray(arr.astype(np.uint8), mode="L").save(path)


def test_parse_map_of_the_wrong_size_names_the_file(root: Path):
    rec = official.list_official(root, "train")[0]
    _write_labels(rec.parse, np.zeros((128, 96)))
    with pytest.raises(io.DataError, match=rf"{rec.parse.name}: parse map is 96x128, expected 192x256"):
        load_record(rec)


def test_unknown_label_names_the_file(root: Path):
    rec = official.list_official(root, "train")[0]
    _write_labels(rec.parse, np.full((256, 192), 23))
    with pytest.raises(io.DataError, match=rf"{rec.parse.name}: unknown parse label\(s\) \[23\]"):
        load_record(rec)


def test_a_corrupt_image_is_skipped_with_a_count(root: Path, tmp_path: Path):
    df = real.split_table(root)
    ds = real.RealTrainSet(df, root, 64, "train", cache_dir=tmp_path / "cache")
    n = len(ds)
    victim, victim_id = ds.table.loc[1, "person"], str(ds.table.loc[1, "id"])
    (root / victim).unlink()
    (root / victim).write_bytes(b"\xff\xd8 not a jpeg")
    bad = ds.prefill()
    assert len(bad) == 1 and bad[0].startswith(f"{victim_id}: ") and Path(victim).name in bad[0]
    assert len(ds) == n - 1 and victim_id not in set(ds.table["id"])
    assert ds[0]["person"].shape == (3, 64, 64)
    assert len(list((tmp_path / "cache").rglob("*.pt"))) == n - 1, "the readable pairs are cached"


def test_an_unreadable_keypoint_file_is_counted_and_its_pair_kept(root: Path, tmp_path: Path):
    df = real.split_table(root)
    ds = real.RealTrainSet(df, root, 64, "train", cache_dir=tmp_path / "cache")
    n = len(ds)
    assert ds.prefill() == []
    before = list(ds.pose_unreadable)
    i = next(k for k in range(n) if ds.pose(k, (192, 256)).any())  # a pair whose keypoints draw a map
    rec, victim = real.record_of(ds.table.iloc[i], root), str(ds.table.loc[i, "id"])
    rec.pose.unlink()  # the fixture's files are links into ../shared: replace the link, never write through it
    rec.pose.write_text("{not json")
    assert ds.prefill() == [] and len(ds) == n  # the pair stays: its images are fine
    new = [s for s in ds.pose_unreadable if s not in before]
    assert len(new) == 1 and new[0].startswith(f"{victim}: ") and rec.pose.name in new[0]
    assert "not a readable JSON file" in new[0]
    assert not ds.pose(i, (192, 256)).any()  # an empty map, as for a photo without keypoints
