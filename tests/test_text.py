"""Body-text parsing, vocabulary codes and the text MLP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tryon.nets.text_mlp import TextMLP, build_text_mlp
from tryon.text import BodyText, BodyTextError, Vocabulary, parse_body_text
from tryon.vocab import BODY_TYPES, BUILDS


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


TRAIN = [
    "height 165cm, weight 50kg, apple, well-proportioned",
    "height 172cm, weight 68kg, pear, slightly fat",
    "height 158cm, weight 45kg, V, thin",
    "height 181cm, weight 92kg, round, fat",
    "height 169cm, weight 61kg, hourglass, well-proportioned",
    "height 190cm, weight 80kg, H, thin",
]


def test_parse_example_of_the_method():
    p = parse_body_text("height 165cm, weight 50kg, apple, well-proportioned")
    assert p == BodyText(165.0, 50.0, "apple", "well-proportioned")
    assert parse_body_text(p.to_text()) == p


@pytest.mark.parametrize(
    "text",
    [
        "height 165cm, weight 50kg, apple, well-proportioned",
        "165 cm, 50 kg, apple, well proportioned",
        "1.65m, 50kg, apple, well-proportioned",
        "well-proportioned, apple, weight 50kg, height 1.65 m",
        "Height: 165cm; Weight: 50KG; Apple; Well-Proportioned",
        "身高165厘米，体重100斤，苹果型，匀称",
        "165公分 50公斤 苹果型 匀称",
        "height 165, weight 50, apple, well-proportioned",
        "height 165cm, weight 110.23lbs, apple, well-proportioned",
    ],
)
def test_unit_variants_and_orders_give_the_same_fields_and_code(text):
    vocab = Vocabulary.build(TRAIN)
    ref = "height 165cm, weight 50kg, apple, well-proportioned"
    assert parse_body_text(text) == parse_body_text(ref)
    np.testing.assert_array_equal(vocab.encode(text), vocab.encode(ref))


def test_imperial_heights():
    assert parse_body_text("5ft 5in").height_cm == pytest.approx(165.1)
    assert parse_body_text("5'5\"").height_cm == pytest.approx(165.1)
    assert parse_body_text("6 ft").height_cm == pytest.approx(182.88)
    assert parse_body_text("65in").height_cm == pytest.approx(165.1)
    assert parse_body_text("154 lb").weight_kg == pytest.approx(69.85, abs=0.01)


def test_chinese_words_without_separators_and_longest_match():
    p = parse_body_text("梨型微胖")
    assert (p.body_type, p.build) == ("pear", "slightly fat")
    assert parse_body_text("plump hourglass, fat").body_type == "plump hourglass"
    assert parse_body_text("胖沙漏型").body_type == "plump hourglass"
    assert parse_body_text("hourglass").body_type == "hourglass"  # "h" must not eat it
    assert parse_body_text("h").body_type == "H"


def test_missing_fields_are_unknown_not_guessed():
    p = parse_body_text("pear")
    assert math.isnan(p.height_cm) and math.isnan(p.weight_kg) and p.build is None
    p = parse_body_text("height unknown, weight ?, V, thin")
    assert math.isnan(p.height_cm) and math.isnan(p.weight_kg)
    vocab = Vocabulary.build(TRAIN)
    code = vocab.encode("pear")
    assert code[0] == 0 and code[1] == 0 and code[2] == 0 and code[3] == 0
    assert vocab.decode(code).build is None


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("height abc", "'height' has no readable value"),
        ("apple, banana", "cannot read 'banana'"),
        ("height 165cm, height 170cm", "height given twice"),
        ("apple, pear", "body type given twice"),
        ("height 50kg", "is not a height"),
        ("weight 70cm", "is not a weight"),
        ("170", "a number needs a unit"),
        ("height 9m", "outside"),
    ],
)
def test_malformed_text_is_a_one_line_error_listing_what_is_accepted(text, fragment):
    with pytest.raises(BodyTextError) as e:
        parse_body_text(text)
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg
    assert "accepted:" in msg and "pear" in msg and "kg" in msg


def test_vocabulary_round_trip_and_injective_codes(tmp_path):
    vocab = Vocabulary.build(TRAIN)
    assert vocab.body_types == [
        b for b in BODY_TYPES if b in {"apple", "pear", "V", "round", "hourglass", "H"}
    ]
    assert set(vocab.builds) == set(BUILDS)
    assert vocab.code_dim == 4 + 6 + 1 + 4 + 1 == len(vocab.layout())
    codes = vocab.encode_batch(TRAIN)
    assert codes.shape == (len(TRAIN), vocab.code_dim) and codes.dtype == np.float32
    assert len({c.tobytes() for c in codes}) == len(TRAIN)
    assert all(vocab.round_trip_ok(t) for t in TRAIN)
    for t in TRAIN:
        assert vocab.decode(vocab.encode(t)) == parse_body_text(t)
    # numeric fields are standardised with the training statistics
    assert abs(codes[:, 0].mean()) < 1e-5 and abs(codes[:, 0].std() - 1) < 1e-4
    path = vocab.save(tmp_path / "vocab.json")
    again = Vocabulary.load(path)
    np.testing.assert_array_equal(again.encode_batch(TRAIN), codes)


def test_vocabulary_rejects_unseen_words_and_bad_files(tmp_path):
    vocab = Vocabulary.build(TRAIN)
    with pytest.raises(BodyTextError, match="not in the training vocabulary"):
        vocab.encode("petite")
    unk = vocab.encode("petite", strict=False)
    assert unk[4 + len(vocab.body_types)] == 1.0
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        Vocabulary.load(bad)
    bad.write_text('{"body_types": []}')
    with pytest.raises(ValueError, match="missing"):
        Vocabulary.load(bad)
    with pytest.raises(ValueError, match="not found"):
        Vocabulary.load(tmp_path / "none.json")
    with pytest.raises(BodyTextError):
        Vocabulary.build(["height abc"])


def test_text_mlp_scale_and_shapes():
    torch.manual_seed(0)
    mlp = build_text_mlp(code_dim=16, hidden=[32], activation="sigmoid", out_dim=1024, softmax_scale=1024.0)
    out = mlp(torch.randn(3, 16), (96, 64))
    assert out["probs"].shape == (3, 1024)
    torch.testing.assert_close(out["probs"].sum(1), torch.ones(3))
    assert out["code_map"].shape == (3, 1, 32, 32)
    assert out["body_map"].shape == (3, 1, 96, 64)
    # scale * softmax - 1: mean exactly 0, and not the ~1e-3 of a raw softmax
    assert out["code_map"].mean().abs() < 1e-4
    assert out["code_map"].std() > 1e-3
    with pytest.raises(ValueError, match="square"):
        TextMLP(16, out_dim=1000)
    with pytest.raises(ValueError, match=r"\[B,16\]"):
        mlp(torch.randn(3, 15), 32)


def test_text_mlp_can_learn_different_maps_for_different_codes():
    torch.manual_seed(0)
    vocab = Vocabulary.build(TRAIN)
    codes = torch.from_numpy(vocab.encode_batch(TRAIN[:2]))
    target = torch.zeros(2, 1, 32, 32)
    target[0, :, :, :16] = 1.0  # first text: mass on the left; second: on the right
    target[1, :, :, 16:] = 1.0
    mlp = TextMLP(vocab.code_dim, [32], "tanh", 1024, 1024.0)
    opt = torch.optim.Adam(mlp.parameters(), 1e-2)
    for _ in range(60):
        m = mlp(codes, 32)["code_map"]
        loss = ((m - (2 * target - 1)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    m = mlp(codes, 32)["code_map"]
    assert m[0, :, :, :16].mean() > m[0, :, :, 16:].mean() + 0.5
    assert m[1, :, :, 16:].mean() > m[1, :, :, :16].mean() + 0.5


def test_unit_variants_helper_spells_the_same_fields():
    from tryon.stages.encode import unit_variants

    p = parse_body_text("height 172cm, weight 68kg, pear, slightly fat")
    variants = unit_variants(p)
    assert len(variants) == 3 and len(set(variants)) == 3
    assert all(parse_body_text(v) == p for v in variants)


def test_stage_02_builds_and_saves_the_vocabulary(tmp_path):
    import matplotlib.figure

    from tryon.config import parse_params
    from tryon.data.synthetic import generate
    from tryon.stages import encode

    generate(tmp_path / "data" / "01_prepare", n=12, size=32, seed=0, n_test=3)
    params = parse_params({"base": {"image_size": 32}})
    m = encode.run(params, tmp_path)
    vocab = Vocabulary.load(tmp_path / "data" / "02_encode" / "vocab.json")
    assert m["n_train_texts"] == 12 and m["n_test_texts"] == 3
    assert m["round_trip_rate"] == 1.0 and m["unit_variant_same_code_rate"] == 1.0
    assert m["code_dim"] == vocab.code_dim and m["vocab_size"] == len(vocab.body_types) + len(vocab.builds)
    texts = encode.load_texts(tmp_path / "data" / "01_prepare", "train")
    assert len(encode.vocabulary_table(vocab)) == vocab.code_dim
    figs = [
        encode.code_distribution_figure(vocab, texts),
        encode.body_maps_figure(encode.untrained_mlp(params, vocab), vocab, size=32),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
