"""Bad input gives a one-line error naming the file: corrupt image, parse map of the wrong size,
missing file, unknown label; through the Python API and the CLI (exit status 2)."""

import shutil

import numpy as np
import pytest
from PIL import Image

from tryon.data import io
from tryon.data.cli import main as data_cli
from tryon.data.dataset import RealPairsDataset, TryOnDataset
from tryon.data.synthetic import generate


def _mini_vitonhd(root, w=48, h=64):
    """A tiny VITON-HD folder with one valid pair."""
    for d in ("image", "cloth", "cloth-mask", "image-parse"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / "image" / "p1.jpg")
    Image.fromarray(np.full((h, w, 3), 240, np.uint8)).save(root / "cloth" / "c1.jpg")
    m = np.zeros((h, w), np.uint8)
    m[10:50, 10:38] = 255
    Image.fromarray(m).save(root / "cloth-mask" / "c1.jpg")
    parse = np.zeros((h, w), np.uint8)
    parse[5:15, 18:30] = 13
    parse[15:50, 12:36] = 5
    im = Image.fromarray(parse, mode="P")
    im.putpalette([0] * 768)
    im.save(root / "image-parse" / "p1.png")
    (root / "pairs_paired.txt").write_text("p1.jpg c1.jpg\n")
    return root


def _one_line(msg: str, name: str):
    assert "\n" not in msg and name in msg, msg


def test_valid_mini_folder_loads(tmp_path):
    ds = RealPairsDataset(_mini_vitonhd(tmp_path / "v"), "paired", 32)
    assert ds[0]["person"].shape == (3, 32, 32)


def test_corrupt_image(tmp_path):
    root = _mini_vitonhd(tmp_path / "v")
    (root / "image" / "p1.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(io.DataError) as e:
        RealPairsDataset(root, "paired", 32)[0]
    _one_line(str(e.value), "p1.jpg")
    assert "not a readable image" in str(e.value)


def test_parse_map_of_wrong_size(tmp_path):
    root = _mini_vitonhd(tmp_path / "v")
    im = Image.fromarray(np.zeros((10, 10), np.uint8), mode="P")
    im.putpalette([0] * 768)
    im.save(root / "image-parse" / "p1.png")
    with pytest.raises(io.DataError) as e:
        RealPairsDataset(root, "paired", 32)[0]
    _one_line(str(e.value), "image-parse/p1.png")
    assert "10x10, expected 48x64" in str(e.value)


def test_missing_file(tmp_path):
    root = _mini_vitonhd(tmp_path / "v")
    (root / "cloth" / "c1.jpg").unlink()
    with pytest.raises(io.DataError) as e:
        RealPairsDataset(root, "paired", 32)[0]
    _one_line(str(e.value), "cloth/c1.jpg")
    assert "file not found" in str(e.value)


def test_unknown_label(tmp_path):
    root = _mini_vitonhd(tmp_path / "v")
    parse = np.zeros((64, 48), np.uint8)
    parse[0, 0] = 23
    im = Image.fromarray(parse, mode="P")
    im.putpalette([0] * 768)
    im.save(root / "image-parse" / "p1.png")
    with pytest.raises(io.DataError) as e:
        RealPairsDataset(root, "paired", 32)[0]
    _one_line(str(e.value), "image-parse/p1.png")
    assert "unknown parse label(s) [23]" in str(e.value)


def test_annotation_csv_errors(tmp_path):
    from tryon.data.annotate import read_annotations

    bad = tmp_path / "ann.csv"
    bad.write_text("person,height_cm,weight_kg,body_type,build\np1,170,60,triangle,thin\n")
    with pytest.raises(io.DataError) as e:
        read_annotations(bad)
    _one_line(str(e.value), "ann.csv")
    assert "triangle" in str(e.value)


def test_synthetic_dataset_missing_file(tmp_path):
    generate(tmp_path, n=2, size=32, seed=1)
    (tmp_path / "train" / "gt-grid" / "train_000001.npy").unlink()
    ds = TryOnDataset(tmp_path, "train")
    ds[0]
    with pytest.raises(io.DataError) as e:
        ds[1]
    _one_line(str(e.value), "train_000001.npy")


def test_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    root = _mini_vitonhd(tmp_path / "v")
    shutil.copy(root / "image" / "p1.jpg", root / "image" / "p2.jpg")  # p2 has no parse map
    assert data_cli(["annotate", str(root), "--out", str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "p2.png" in err
    assert not (tmp_path / "a.csv").exists()  # nothing half-written
    assert data_cli(["generate", "--out", str(tmp_path / "g"), "--n", "-1", "--size", "32"]) == 2
    assert capsys.readouterr().err.startswith("error: n:")


def test_cli_generate_and_annotate_ok(tmp_path, capsys):
    assert (
        data_cli(["generate", "--out", str(tmp_path / "g"), "--n", "2", "--size", "32", "--seed", "4"]) == 0
    )
    assert "wrote 2 samples" in capsys.readouterr().out
    assert len(TryOnDataset(tmp_path / "g", "train")) == 2
    # the CLI's default is one process per core; one process writes the same files
    args = ["generate", "--n", "3", "--size", "32", "--seed", "4"]
    assert data_cli([*args, "--out", str(tmp_path / "g1"), "--workers", "1"]) == 0
    assert data_cli([*args, "--out", str(tmp_path / "g0")]) == 0
    assert "processes" in capsys.readouterr().out
    for f in sorted((tmp_path / "g1" / "train").rglob("*.*")):
        assert f.read_bytes() == (tmp_path / "g0" / f.relative_to(tmp_path / "g1")).read_bytes(), f
    assert data_cli([*args, "--out", str(tmp_path / "gx"), "--workers", "-1"]) == 2
    assert "--workers" in capsys.readouterr().err
    root = _mini_vitonhd(tmp_path / "v")
    assert data_cli(["annotate", str(root)]) == 0
    assert (root / "body_text.csv").exists()
