"""tryon.eval.headroom: the photo as the network sees it, the regions each row replaces, the shading row."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.data.labels import CIHP
from tryon.eval import headroom as H


def _person(h: int = 64, w: int = 48):
    """A parse map (wall, face, upper clothes, two arms, trousers) and a textured photo of it."""
    parse = np.full((h, w), CIHP.BACKGROUND, np.uint8)
    parse[4:14, 18:30] = CIHP.FACE
    parse[14:40, 14:34] = CIHP.UPPER_CLOTHES
    parse[14:38, 8:14] = CIHP.LEFT_ARM
    parse[14:38, 34:40] = CIHP.RIGHT_ARM
    parse[40:62, 14:34] = CIHP.PANTS
    rng = np.random.default_rng(0)
    photo = (rng.uniform(0, 255, (h, w, 3))).astype(np.uint8)
    return parse, photo


def test_seen_at_keeps_a_photo_at_its_own_size_and_blurs_it_below():
    _, photo = _person()
    assert np.abs(H.seen_at(photo, 64).astype(int) - photo).max() <= 1  # the 64-px square of a 64x48 photo
    small = H.seen_at(photo, 16)
    assert small.shape == photo.shape and small.std() < 0.5 * photo.std()  # noise averaged away


def test_each_row_replaces_its_own_region_only_and_the_rows_nest():
    parse, photo = _person()
    garment = parse == CIHP.UPPER_CLOTHES
    placed = garment.copy()
    placed[30:40] = False  # the hem painted
    network = np.full_like(photo, 128)
    rows = H.rows_of(network, photo, parse, garment, placed, size=16)
    masks = H.regions(parse, garment, placed, "upper_body")
    assert list(rows) == list(H.ROWS) and np.array_equal(rows["network"], network)
    seen = H.seen_at(photo, 16)
    for name, m in masks.items():
        assert np.array_equal(rows[name][m], seen[m]) and np.array_equal(rows[name][~m], network[~m]), name
    assert not (masks["garment_placed"] & masks["garment_painted"]).any()
    assert np.array_equal(masks["garment_placed"] | masks["garment_painted"], garment)
    parts = masks["arms"] | masks["wall"] | masks["other"]
    assert np.array_equal(parts, masks["outside_garment"]) and not (parts & garment).any()
    assert masks["arms"].any() and masks["wall"].any()  # the agnostic region grows onto the wall
    assert not masks["agnostic"][parse == CIHP.FACE].any()  # the head is kept; so are the trousers,
    assert not masks["agnostic"][50:].any()  # but for their top, where a longer garment may land
    full = masks["outside_garment"]
    assert np.array_equal(rows["outside_garment_full"][full], photo[full])
    assert np.array_equal(rows["photo"], seen)


def test_the_shading_row_restores_a_dimmed_garment_and_leaves_the_rest():
    parse, photo = _person()
    where = parse == CIHP.UPPER_CLOTHES
    photo = np.full_like(photo, 200)
    network = photo.copy()
    network[where] = 100  # the garment placed right, but half as bright
    out = H.shaded(network, photo, where)
    assert np.abs(out[where].astype(int) - 200).max() <= 2
    assert np.array_equal(out[~where], network[~where])


def test_the_command_names_a_missing_file_in_one_line(tmp_path, capsys):
    assert H.main([str(tmp_path / "none.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: checkpoint: {tmp_path / 'none.pt'} does not exist"


def test_the_table_prints_the_benchmarks_figures_in_order():
    result = {"rows": {"network": dict.fromkeys(H.FIGURES, 0.5)}}
    first = H.table(result).splitlines()[0]
    assert first == "| row | " + " | ".join(H.FIGURES) + " |"


@pytest.mark.shared
def test_the_shipped_model_row_is_the_benchmarks_figure_and_a_perfect_painter_scores_higher(tmp_path):
    """On a small VITON tree (links to a few real files of ``../shared``, nothing copied): the ``network``
    row is exactly what :func:`tryon.eval.viton.benchmark` scores for the same dev persons, and the photo
    seen at the working size in every pixel the network makes (or in the garment region) scores higher."""
    from tryon import paths
    from tryon.data import real
    from tryon.eval import viton as V

    src = paths.SHARED_VITON
    ids = {"train": ["000003", "000004", "000005", "000006"], "test": ["000001", "000010"]}
    if not all((src / s / "image" / f"{i}_0.jpg").is_file() for s, got in ids.items() for i in got):
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    root = tmp_path / "viton"
    for split, got in ids.items():
        for i in got:
            for f in (f"image/{i}_0.jpg", f"image-parse/{i}_0.png", f"pose/{i}_0_keypoints.json",
                      f"cloth/{i}_1.jpg", f"cloth-mask/{i}_1.jpg"):  # fmt: skip
                dst = root / split / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.symlink_to((src / split / f).resolve())
    (root / "train_pairs.txt").write_text("".join(f"{i}_0.jpg {i}_1.jpg\n" for i in ids["train"]))
    (root / "test_pairs.txt").write_text("000001_0.jpg 000010_1.jpg\n000010_0.jpg 000001_1.jpg\n")
    csv = tmp_path / "real_split.csv"
    real.split_table(root, n_dev=2).to_csv(csv, index=False)
    model = paths.ROOT / "models" / "model.pt"
    got = H.measure(model, root, csv, split="dev", max_pairs=2)
    bench, _ = V.benchmark(model, root, csv, max_pairs=2, n_gallery=0, split="dev")
    assert got["n"] == bench["n_paired"] == 2
    for f in H.FIGURES:
        assert got["rows"]["network"][f] == pytest.approx(bench["paired"][f], abs=1e-9), f
    rows = got["rows"]
    assert (
        rows["agnostic"]["ssim"] > rows["network"]["ssim"] and rows["agnostic"]["l1"] < rows["network"]["l1"]
    )
    assert rows["garment"]["garment_ssim"] > rows["network"]["garment_ssim"]
    assert 0 < got["image_share"]["garment"] < got["image_share"]["agnostic"] < 1
