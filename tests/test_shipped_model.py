"""The shipped model (``models/model.pt``, model card ``models/README.md`` with ``models/card.json``): it loads,
reproduces the card's figures on the named VITON test pairs, and ``tryon try-on`` without ``--checkpoint``
uses it on a fresh clone (no ``data/05_train/model.pt``) and says so."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tryon import paths

ROOT = Path(__file__).resolve().parents[1]
MODEL, CARD = ROOT / "models" / "model.pt", ROOT / "models" / "card.json"


@pytest.fixture(scope="module")
def card() -> dict:
    assert MODEL.is_file(), "models/model.pt is committed with the repository"
    return json.loads(CARD.read_text())


def test_the_card_names_its_data_command_and_licence(card):
    text = (ROOT / "models" / "README.md").read_text()
    for what in ("VITON", "non-commercial", card["command"], "Wall time"):
        assert what in text, f"models/README.md never says {what!r}"
    assert MODEL.stat().st_size < 50e6


@pytest.mark.shared
def test_the_shipped_model_reproduces_the_cards_figures(card):
    if not (paths.SHARED_VITON / "test" / "image").is_dir():
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    from tryon.eval.viton import named_pairs

    got = named_pairs(MODEL, paths.SHARED_VITON, list(card["named_pairs"]))
    for i, want in card["named_pairs"].items():
        for k, v in want.items():
            assert math.isclose(got[i][k], v, abs_tol=2e-3), (
                f"{i} {k}: {got[i][k]:.4f}, the card says {v:.4f}"
            )


@pytest.mark.shared
def test_try_on_without_checkpoint_uses_the_shipped_model_on_a_fresh_clone(tmp_path):
    viton = paths.SHARED_VITON / "test"
    if not (viton / "image").is_dir():
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    fresh = tmp_path / "clone"
    (fresh / "models").mkdir(parents=True)
    (fresh / "models" / "model.pt").symlink_to(MODEL)
    out = tmp_path / "out.png"
    cmd = [
        sys.executable, "-m", "tryon.cli", "try-on",
        "--person", str(viton / "image" / "000038_0.jpg"), "--garment", str(viton / "cloth" / "000057_1.jpg"),
        "--garment-mask", str(viton / "cloth-mask" / "000057_1.jpg"),
        "--parse", str(viton / "image-parse" / "000038_0.png"), "--parse-labels", "lip",
        "--text", "height 165cm, weight 55kg, hourglass, well-proportioned", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "TRYON_ROOT": str(fresh)}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "the shipped model (models/model.pt" in r.stderr
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (192, 256)
