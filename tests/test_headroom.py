"""tryon.eval.headroom: the photo as the network sees it, the regions each row replaces, the shading row."""

from __future__ import annotations

import numpy as np

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
