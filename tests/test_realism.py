"""The realism critic (tryon.eval.realism, `tryon eval realism`): it separates sets that differ, reads
0.5 on sets that do not (including PNG against JPEG copies of the same images), the conditional form
tells a matching garment from another's, and bad input is one `error:` line."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from tryon import cli
from tryon.eval import realism
from tryon.eval.realism import CriticSettings, realism_auc

#: a small, fast critic for the synthetic sets (the defaults are sized for 128x96 photos)
FAST = CriticSettings(width=8, epochs=16)
SIZE = (48, 48)


def blobs(n: int, seed: int, shape=(96, 96)) -> list[np.ndarray]:
    """Smooth random colour fields: 4x4 random colours upsampled bicubically, uint8 [H, W, 3]."""
    rng = np.random.default_rng(seed)
    return [
        np.asarray(
            Image.fromarray(rng.integers(30, 226, (4, 4, 3), dtype=np.uint8)).resize(
                shape[::-1], Image.Resampling.BICUBIC
            )
        )
        for _ in range(n)
    ]


def noisy(images: list[np.ndarray], std: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(im + rng.normal(0, std, im.shape), 0, 255).astype(np.uint8) for im in images]


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    r, f = rng.integers(0, 5, 30).astype(float), rng.integers(0, 5, 20).astype(float)  # many ties
    pairs = [(1.0 if b > a else 0.5 if b == a else 0.0) for a, b in itertools.product(r, f)]
    assert realism.roc_auc(r, f) == pytest.approx(np.mean(pairs))
    assert realism.roc_auc([0, 1], [2, 3]) == 1.0
    lo, hi = realism.bootstrap_auc_ci(r, f, n_boot=500)
    assert lo <= realism.roc_auc(r, f) <= hi


def test_derangement_and_mismatch():
    for n in (2, 3, 10, 457):
        p = realism.derangement(n, seed=n)
        assert sorted(p) == list(range(n)) and not np.any(p == np.arange(n))
    assert list(realism.derangement(50, 3)) == list(realism.derangement(50, 3))
    ids = ["a", "a", "b", "c"]  # two images of one person: neither may get the other's garment
    out = realism.mismatch_garments(["ga1", "ga2", "gb", "gc"], seed=0, ids=ids)
    assert all(g[1] != i for g, i in zip(out, ids, strict=True))
    with pytest.raises(ValueError, match="at least 2"):
        realism.derangement(1)


def test_folds_split_by_id_when_the_sets_share_one():
    fr, ff, split = realism.assign_folds(10, 10, 5, ids_real=list("abcdefghij"), ids_fake=list("abcdefghij"))
    assert split == "id" and list(fr) == list(ff)
    fr, ff, split = realism.assign_folds(
        10, 12, 5, ids_real=list("abcdefghij"), ids_fake=list("ABCDEFGHIJKL")
    )
    assert split == "index" and np.bincount(np.concatenate([fr, ff])).tolist() == [5, 5, 4, 4, 4]


def test_garment_matching_rule():
    have = {"001744_1", "000001_1", "00000_00"}
    assert realism.garment_stem("000001_0__001744_1", have) == "001744_1"  # try-on output P__G
    assert realism.garment_stem("000001_0", have) == "000001_1"  # CP-VTON <id>_0 -> <id>_1
    assert realism.garment_stem("00000_00", have) == "00000_00"  # VITON-HD: same stem
    assert realism.garment_stem("000002_0", have) is None


def test_separates_noisy_from_smooth():
    """Smooth fields against the same fields with high-frequency noise: an easy difference."""
    base = blobs(200, seed=1)
    res = realism_auc(base[:100], noisy(base[100:], 12, 2), size=SIZE, settings=FAST)
    assert res["auc"] > 0.9, res
    assert res["n_real"] == res["n_fake"] == 100 and res["split"] == "index"
    assert res["auc_ci95"][0] <= res["auc"] <= res["auc_ci95"][1]


def test_same_distribution_reads_one_half():
    res = realism_auc(blobs(150, seed=3), blobs(150, seed=4), size=SIZE, settings=FAST, seed=1)
    assert abs(res["auc"] - 0.5) < 0.1, res


def test_deterministic_for_a_seed():
    a, b = blobs(30, seed=5), noisy(blobs(30, seed=6), 6, 7)
    st = CriticSettings(width=4, epochs=2)
    r1 = realism_auc(a, b, size=(32, 32), settings=st, seed=2, n_boot=100)
    r2 = realism_auc(a, b, size=(32, 32), settings=st, seed=2, n_boot=100)
    assert r1["auc"] == r2["auc"] and r1["auc_ci95"] == r2["auc_ci95"]


def textured(n: int, seed: int, shape=(128, 96)) -> list[np.ndarray]:
    """Smooth fields with fine texture, which JPEG compression partly smooths away."""
    return noisy(blobs(n, seed, shape=shape), 10, seed + 100)


def write(folder, images, ext, **kw):
    folder.mkdir()
    for i, im in enumerate(images):
        Image.fromarray(im).save(folder / f"{i:04d}_0{ext}", **kw)


def test_png_and_jpeg_copies_read_one_half(tmp_path):
    """The same images as PNG and as JPEG (quality 75, that of the VITON photos): the alike
    re-encoding hides the format. (The folders share ids, so folds split by id: an image and its copy
    never sit on both sides of a fold.)"""
    images = textured(120, seed=8)
    write(tmp_path / "png", images, ".png")
    write(tmp_path / "jpg", images, ".jpg", quality=75)
    ids_r, real, _ = realism.read_folder(tmp_path / "png")
    ids_f, fake, _ = realism.read_folder(tmp_path / "jpg")
    res = realism_auc(real, fake, ids_real=ids_r, ids_fake=ids_f, size=(64, 48), settings=FAST)
    assert res["split"] == "id"
    assert abs(res["auc"] - 0.5) < 0.1, res


def test_png_and_jpeg_differ_without_the_alike_reencoding(tmp_path):
    """The control of the test above: at the images' own size with a near-lossless re-encoding, the
    critic does see the JPEG (so the test above can fail)."""
    images = textured(120, seed=8, shape=(64, 48))
    jpeg = []
    for im in images:
        path = tmp_path / "x.jpg"
        Image.fromarray(im).save(path, quality=75)
        jpeg.append(np.asarray(Image.open(path).convert("RGB")))
    st = CriticSettings(width=8, epochs=8, jpeg_quality=100)
    ids = list(range(120))
    res = realism_auc(images, jpeg, size=(64, 48), settings=st, ids_real=ids, ids_fake=ids)
    assert res["auc"] > 0.8, res


def test_conditional_tells_a_matching_garment_from_another(tmp_path):
    """A person whose "torso" has the colour of their garment, against the same person with another
    person's garment (a derangement): only the pairing differs."""
    rng = np.random.default_rng(9)
    n = 100
    colours = rng.integers(0, 256, (n, 3))
    people, garments = [], []
    for c, bg in zip(colours, blobs(n, seed=10, shape=(64, 48)), strict=True):
        person = bg.copy()
        person[16:48, 12:36] = c
        people.append(np.clip(person + rng.normal(0, 4, person.shape), 0, 255).astype(np.uint8))
        garment = np.full((64, 48, 3), 255, np.uint8)
        garment[12:52, 8:40] = c
        garments.append(garment)
    ids = [f"{i:03d}" for i in range(n)]
    res = realism_auc(
        people,
        people,
        garments_real=garments,
        garments_fake=realism.mismatch_garments(garments, seed=0),
        ids_real=ids,
        ids_fake=ids,
        size=(64, 48),
        settings=CriticSettings(width=8, epochs=12),
    )
    assert res["conditional"] and res["split"] == "id"
    assert res["auc"] > 0.8, res


def test_cli_missing_folder_is_one_error_line(tmp_path, capsys):
    write(tmp_path / "real", blobs(3, seed=0), ".png")
    assert cli.main(["eval", "realism", str(tmp_path / "real"), str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nope" in err[0]


def test_bad_folders_name_the_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: no images"):
        realism.read_folder(tmp_path / "empty")
    write(tmp_path / "imgs", blobs(2, seed=0), ".png")
    (tmp_path / "imgs" / "0002_0.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="0002_0.jpg: not a readable image"):
        realism.read_folder(tmp_path / "imgs")
    (tmp_path / "imgs" / "0002_0.jpg").unlink()
    write(tmp_path / "cloth", blobs(1, seed=0), ".png")  # 0000_0.png only: 0001_0 has no garment
    with pytest.raises(ValueError, match="0001_0.png: no garment"):
        realism.read_folder(tmp_path / "imgs", garments=tmp_path / "cloth")


def test_cli_table_and_json(tmp_path, capsys):
    import json

    write(tmp_path / "real", blobs(12, seed=0), ".png")
    write(tmp_path / "fake", noisy(blobs(12, seed=1), 12, 2), ".jpg")
    out = tmp_path / "res.json"
    argv = ["eval", "realism", str(tmp_path / "real"), str(tmp_path / "fake"), "--folds", "2"]
    assert cli.main(argv + ["--size", "32x32", "--epochs", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["n_real"] == res["n_fake"] == 12 and res["folds"] == 2 and 0 <= res["auc"] <= 1
    assert "AUC" in capsys.readouterr().out
