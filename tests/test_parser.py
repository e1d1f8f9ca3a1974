"""The human parser (``tryon.parser``): network shapes, the mirror augmentation, the IoU arithmetic, the
checkpoint loader's errors, and the shipped ``models/parser.pt`` on named VITON test-clean photos."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tryon import paths
from tryon.data.labels import CIHP, N_CIHP
from tryon.parser.data import augment, mirror
from tryon.parser.evaluate import confusion, group_iou, scores
from tryon.parser.model import WORK_SIZE, Parser, build_parser_net
from tryon.parser.train import save_parser

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "parser.pt"
#: the first 8 ids of VITON's test_clean_ids.txt (photos in no train file)
NAMED_CLEAN = ("000038", "000057", "000097", "000284", "000293", "000303", "000370", "000426")
#: a little below the shipped parser's upper-garment IoU over those 8 photos (0.938, models/parser_card.json)
UPPER_GARMENT_MIN = 0.90


def _tiny_parser(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = build_parser_net(widths=(4, 8, 16))
    path = tmp_path / "tiny.pt"
    save_parser(path, net, {"architecture": {"n_classes": N_CIHP, "widths": [4, 8, 16]},
                            "labelset": "cihp", "size": list(WORK_SIZE)})  # fmt: skip
    return path


def test_the_network_gives_one_logit_per_cihp_class_at_the_input_size():
    net = build_parser_net(widths=(4, 8, 16)).eval()
    out = net(torch.zeros(2, 3, *WORK_SIZE))
    assert out["logits"].shape == (2, N_CIHP, *WORK_SIZE)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.zeros(1, 3, 130, 96))


def test_the_mirror_swaps_the_persons_left_and_right_labels():
    parse = np.zeros((4, 6), dtype=np.uint8)
    parse[:, 0] = CIHP.LEFT_ARM
    parse[:, 1] = CIHP.LEFT_LEG
    parse[:, 2] = CIHP.FACE
    parse[:, 4] = CIHP.RIGHT_SHOE
    parse[:, 5] = CIHP.RIGHT_ARM
    photo = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    p2, m2 = mirror(photo, parse)
    assert (p2 == photo[:, ::-1]).all()
    assert m2[0].tolist() == [CIHP.LEFT_ARM, CIHP.LEFT_SHOE, 0, CIHP.FACE, CIHP.RIGHT_LEG, CIHP.RIGHT_ARM]
    p3, m3 = mirror(p2, m2)
    assert (p3 == photo).all() and (m3 == parse).all()


def test_augment_keeps_photo_and_map_aligned():
    rng = np.random.default_rng(0)
    parse = np.zeros((64, 48), dtype=np.uint8)
    parse[20:40, 10:30] = CIHP.UPPER_CLOTHES
    photo = np.full((64, 48, 3), 255, dtype=np.uint8)
    photo[parse > 0] = 0
    for _ in range(5):
        p, m = augment(photo, parse, rng, scale=0.1, shift=0.1, colour=0.0)
        assert p.shape == photo.shape and m.shape == parse.shape
        dark = p[..., 0] < 128
        assert (dark == (m == CIHP.UPPER_CLOTHES)).mean() > 0.97  # edges may differ by interpolation


def test_iou_on_known_masks():
    gt = np.array([[0, 0, 5, 5], [0, 6, 5, 5]])
    pred = np.array([[0, 5, 5, 5], [0, 5, 5, 7]])
    conf = confusion(gt, pred)
    assert conf.sum() == 8 and conf[5, 5] == 3 and conf[6, 5] == 1
    s = scores(conf)
    assert s["iou"]["upper_clothes"] == pytest.approx(3 / 6)  # 4 true, 5 predicted, 3 shared
    assert s["iou"]["upper_garment"] == pytest.approx(5 / 6)  # 5, 6, 7 as one class
    assert s["iou"]["background"] == pytest.approx(2 / 3)
    assert s["iou"]["dress"] == 0.0 and s["iou"]["coat"] == 0.0
    assert math.isnan(s["iou"]["hair"])  # in neither map
    assert s["mean_iou"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)  # classes present in the truth
    assert s["pixel_accuracy"] == pytest.approx(5 / 8)
    assert group_iou(conf, [0, 5, 6, 7]) == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        confusion(gt, pred[:, :3])


def test_parse_batch_matches_single_photos_at_each_photos_size(tmp_path):
    parser = Parser.load(_tiny_parser(tmp_path))
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (256, 192, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (100, 80, 3), dtype=np.uint8)
    out = parser.parse_batch([a, b])
    assert [o.shape for o in out] == [(256, 192), (100, 80)]
    assert out[0].dtype == np.uint8 and out[0].max() < N_CIHP
    assert (parser(a) == out[0]).all() and (parser(b) == out[1]).all()


@pytest.mark.parametrize("content", [None, b"not a checkpoint", "foreign"])
def test_load_raises_a_one_line_error_naming_the_file(tmp_path, content):
    path = tmp_path / "parser.pt"
    if content == "foreign":  # another model's checkpoint
        torch.save({"model": {}, "architecture": {}, "vocab": {}}, path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError) as e:
        Parser.load(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg


@pytest.fixture(scope="module")
def shipped() -> Parser:
    assert SHIPPED.is_file(), "models/parser.pt is committed with the repository"
    assert SHIPPED.stat().st_size < 8e6
    return Parser.load(SHIPPED)


def test_the_shipped_parser_carries_its_provenance(shipped):
    meta = shipped.meta
    assert meta["labelset"] == "cihp" and tuple(meta["size"]) == WORK_SIZE
    assert meta["steps"] > 0 and meta["seconds"] > 0 and meta["dev"]["n"] == 256
    card = json.loads((ROOT / "models" / "parser_card.json").read_text())
    assert card["steps"] == meta["steps"]
    assert card["dev"]["iou"]["upper_garment"] == pytest.approx(meta["dev"]["iou"]["upper_garment"], abs=1e-3)


@pytest.mark.shared
def test_the_shipped_parser_finds_the_upper_garment_on_named_test_clean_photos(shipped):
    if not (paths.SHARED_VITON / "test" / "image").is_dir():
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    from tryon.parser.data import examples_of
    from tryon.parser.evaluate import evaluate

    res = evaluate(shipped, examples_of(paths.SHARED_VITON, "test", [f"{i}_0" for i in NAMED_CLEAN]))
    assert res["n"] == len(NAMED_CLEAN)
    assert res["iou"]["upper_garment"] > UPPER_GARMENT_MIN, res["iou"]
