"""Which kept pixels give way to the new garment (``05_train.fusion_keep``, issue #13): with ``garment``
a kept pixel (an arm, the background) is the photo's unless the garment is placed on it; with
``warped_mask`` (checkpoints before commit 74a82c1) the painted image may replace it wherever the warped
mask lands."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tryon.data import labels
from tryon.geometry import identity_grid
from tryon.infer.full_res import full_resolution
from tryon.nets.fusion import KEEP_RULES, TrunkComposeFusion, build_fusion, compose, kept_alpha

S = 32


def _images(seed: int = 0, n: int = 2, size: int = 8) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    rendered, warped, photo, filled = (torch.rand(n, 3, size, size, generator=g) * 2 - 1 for _ in range(4))
    gate = torch.rand(n, 1, size, size, generator=g)
    warped_mask = (torch.rand(n, 1, size, size, generator=g) > 0.4).float()
    keep_mask = (torch.rand(n, 1, size, size, generator=g) > 0.5).float()
    fill_gate = torch.rand(n, 1, size, size, generator=g)
    return rendered, warped, photo, filled, gate, warped_mask, keep_mask, fill_gate


def test_garment_rule_kept_pixels_are_the_photo_unless_the_garment_is_placed():
    rendered, warped, photo, filled, gate, wm, km, fill_gate = _images()
    alpha, beta = gate * wm, fill_gate * (1 - wm)
    out = compose(rendered, alpha, warped, wm, photo * km, km, beta, filled, rule="garment")
    kept = km.bool().expand_as(photo)
    want_kept = alpha * warped + (1 - alpha) * photo  # no painted image, no fill on a kept pixel
    assert torch.allclose(out["tryon"][kept], want_kept[kept], atol=1e-6)
    want_old = alpha * warped + beta * filled + (1 - alpha - beta) * rendered  # the old garment's pixels
    assert torch.allclose(out["tryon"][~kept], want_old[~kept], atol=1e-6)
    # the four weights sum to 1 and rebuild the image
    src = out["sources"]
    assert torch.allclose(src.sum(1), torch.ones_like(src[:, 0]), atol=1e-6)
    rebuilt = src[:, :1] * photo + src[:, 1:2] * warped + src[:, 2:3] * filled + src[:, 3:4] * rendered
    assert torch.allclose(rebuilt, out["tryon"], atol=1e-6)
    assert torch.equal(out["keep"], src[:, :1])


def test_warped_mask_rule_is_the_stop_26_formula():
    rendered, warped, photo, filled, gate, wm, km, fill_gate = _images(1)
    alpha, beta = gate * wm, fill_gate * (1 - wm)
    out = compose(rendered, alpha, warped, wm, photo * km, km, beta, filled)  # the default rule
    k = km * (1 - wm)
    want = k * photo * km + (1 - k) * (alpha * warped + beta * filled + (1 - alpha - beta) * rendered)
    assert torch.allclose(out["tryon"], want, atol=1e-6)
    assert torch.equal(out["keep"], k)
    # an arm under the warped mask with a closed gate: painted under the old rule, the photo under the new
    arm = km[:, 0].bool() & wm[:, 0].bool() & (gate[:, 0] < 0.5)
    assert arm.any()
    new = compose(rendered, alpha * 0, warped, wm, photo * km, km, beta, filled, rule="garment")["tryon"]
    old = compose(rendered, alpha * 0, warped, wm, photo * km, km, beta, filled)["tryon"]
    assert torch.allclose(new.permute(0, 2, 3, 1)[arm], photo.permute(0, 2, 3, 1)[arm])
    assert torch.allclose(old.permute(0, 2, 3, 1)[arm], rendered.permute(0, 2, 3, 1)[arm])
    with pytest.raises(ValueError, match="keep rule"):
        compose(rendered, alpha, warped, wm, photo, km, rule="paint")


def test_fusion_takes_the_rule_and_older_checkpoints_build_the_old_one():
    assert set(KEEP_RULES) == {"garment", "warped_mask"}
    assert build_fusion("trunk_compose", 8).keep == "warped_mask"  # an architecture without the key
    assert build_fusion("trunk_compose", 8, keep="garment").keep == "garment"
    build_fusion("compose", 8, keep="garment")  # the kinds that keep nothing ignore it
    with pytest.raises(ValueError, match="keep rule"):
        TrunkComposeFusion(8, keep="never")
    torch.manual_seed(0)
    fusion = TrunkComposeFusion(8, keep="garment", fill=True).eval()
    rendered, warped, photo, filled, _, wm, _, _ = _images(2, size=S)
    km = torch.ones(2, 1, S, S)  # everything kept: the photo or the placed garment, never painted
    out = fusion(
        warped, wm, rendered, keep=photo, keep_mask=km, filled=filled, fill_cover=torch.ones_like(km)
    )
    want = out["alpha"] * warped + (1 - out["alpha"]) * photo
    assert torch.allclose(out["tryon"], want, atol=1e-6)


def _out(gate: float) -> dict:
    z = torch.zeros(1, 1, S, S)
    return {
        "grid": identity_grid(1, S, S), "gate": z + gate, "rendered": torch.zeros(1, 3, S, S),
        "warped": z, "warped_mask": z,
    }  # fmt: skip


H, W, PAD, GREEN = 96, 72, (12, 0, 12, 0), (20, 200, 90)


def _scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 96x72 photo with an upper garment and a right arm beside it, a green garment photo and a garment
    mask that covers everything: (parse, person, garment, mask)."""
    parse = np.zeros((H, W), np.uint8)
    parse[20:80, 15:50] = labels.CIHP.UPPER_CLOTHES
    parse[25:85, 52:60] = labels.CIHP.RIGHT_ARM
    person = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
    return parse, person, np.full((H, W, 3), GREEN, np.uint8), np.ones((H, W), bool)


def _to_rgb(t: torch.Tensor) -> np.ndarray:
    return ((t.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()


def test_at_the_photo_size_a_kept_pixel_under_the_warp_stays_the_photo_where_the_gate_is_closed():
    """A garment photo that covers everything lands on the kept background away from the body too. With the
    gate closed (0) the garment rule keeps those pixels as photographed; the old rule paints them (grey
    here). (The arms are in the garment-agnostic region, painted either way.)"""
    parse, person, garment, full_mask = _scene(5)
    arm = labels.keep_mask(parse) & (parse == labels.CIHP.BACKGROUND)  # the kept pixels under test
    arm[:4], arm[-4:], arm[:, :4], arm[:, -4:] = False, False, False, False  # not the resampled frame
    assert arm.sum() > 1000
    pad, to_rgb = PAD, _to_rgb
    new = full_resolution(_out(0.0), pad, person, parse, garment, full_mask, keep_rule="garment")
    old = full_resolution(_out(0.0), pad, person, parse, garment, full_mask)
    assert np.array_equal(to_rgb(new["tryon"])[arm], person[arm])
    assert (to_rgb(old["tryon"])[arm] == 128).all()  # the painted grey
    assert (new["sources"][0][torch.from_numpy(arm)] == 1).all()  # the kept photo made every arm pixel
    # with the gate open the garment covers those pixels under either rule
    opened = to_rgb(
        full_resolution(_out(1.0), pad, person, parse, garment, full_mask, keep_rule="garment")["tryon"]
    )
    assert (np.abs(opened[arm].astype(int) - GREEN).max(axis=1) <= 1).all()


def test_kept_gate_decides_each_kept_pixel_garment_or_photo():
    """``05_train.fusion_kept_gate``: with the gate decided, a kept pixel is the placed garment
    (gate above the threshold) or the photo, never the translucent mix that left a garment ghost over
    the background; the old garment's pixels are composed as before."""
    rendered, warped, photo, filled, gate, wm, km, fill_gate = _images(3)
    alpha, beta = gate * wm, fill_gate * (1 - wm)
    kept = kept_alpha(gate, wm, 0.5)
    assert set(kept.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(kept.bool(), (gate > 0.5) & wm.bool())
    out = compose(rendered, alpha, warped, wm, photo * km, km, beta, filled, rule="garment", kept=kept)
    soft = compose(rendered, alpha, warped, wm, photo * km, km, beta, filled, rule="garment")
    on_kept = km.bool().expand_as(photo)
    garment_there = (kept.bool() & km.bool()).expand_as(photo)
    assert torch.equal(out["tryon"][garment_there], warped[garment_there])
    photo_there = on_kept & ~garment_there
    assert torch.equal(out["tryon"][photo_there], photo[photo_there])
    assert torch.allclose(
        out["tryon"][~on_kept], soft["tryon"][~on_kept], atol=1e-6
    )  # old garment: as before
    mixed = photo_there & (wm.bool() & (gate > 0.05)).expand_as(photo)  # where the soft rule left a ghost
    assert mixed.any() and not torch.allclose(soft["tryon"][mixed], photo[mixed])
    src = out["sources"]
    assert torch.allclose(src.sum(1), torch.ones_like(src[:, 0]), atol=1e-6)
    rebuilt = src[:, :1] * photo + src[:, 1:2] * warped + src[:, 2:3] * filled + src[:, 3:4] * rendered
    assert torch.allclose(rebuilt, out["tryon"], atol=1e-6)
    with pytest.raises(ValueError, match="garment keep rule only"):
        compose(rendered, alpha, warped, wm, photo, km, kept=kept)


def test_fusion_stores_the_kept_gate_and_composes_softly_at_the_working_size():
    """The threshold travels with the architecture to the photo-size composition; the module itself
    (training, the working-size evaluation) keeps the soft gate, whose edge a 128-px decision would alias."""
    assert build_fusion("trunk_compose", 8, keep="garment").kept_gate == 0.0  # checkpoints before 7f1610f
    assert build_fusion("trunk_compose", 8, keep="garment", kept_gate=0.5).kept_gate == 0.5
    with pytest.raises(ValueError, match="fusion_kept_gate"):
        TrunkComposeFusion(8, keep="garment", kept_gate=1.0)
    torch.manual_seed(0)
    fusion = TrunkComposeFusion(8, keep="garment", kept_gate=0.5)
    rendered, warped, photo, _, _, wm, _, _ = _images(4, size=S)
    kw = dict(keep=photo, keep_mask=torch.ones(2, 1, S, S))
    for mode in (fusion.train(), fusion.eval()):
        out = mode(warped, wm, rendered, **kw)
        assert torch.allclose(out["tryon"], out["alpha"] * warped + (1 - out["alpha"]) * photo, atol=1e-6)
        assert ((out["alpha"] > 0.01) & (out["alpha"] < 0.99)).any()  # a soft mix, not decided


@pytest.mark.parametrize("gate", [0.3, 0.7])
def test_at_the_photo_size_the_kept_gate_leaves_no_garment_ghost_on_the_background(gate):
    """A warp that spills over the background with the gate half open: the soft rule darkens the
    background (a ghost of the garment); with the gate decided at the photo's size the background is
    the photo's own (gate 0.3) or the garment (0.7), nothing in between."""
    parse, person, garment, full_mask = _scene(6)
    background = (parse == labels.CIHP.BACKGROUND) & labels.keep_mask(parse)  # away from the body
    decided, soft = (
        _to_rgb(full_resolution(_out(gate), PAD, person, parse, garment, full_mask, "upper_body", True,
                                "garment", kept_gate)["tryon"])
        for kept_gate in (0.5, 0.0)
    )  # fmt: skip
    want = person[background] if gate < 0.5 else np.broadcast_to(GREEN, person[background].shape)
    assert (np.abs(decided[background].astype(int) - want).max(axis=1) <= 1).all()
    mix = gate * np.array(GREEN) + (1 - gate) * person[background].astype(float)
    assert (np.abs(soft[background].astype(int) - mix).max(axis=1) <= 1.5).all()  # the ghost


def test_fill_ramp_steepens_the_gate_about_one_half():
    """``05_train.fusion_fill_ramp``: 1 leaves the gate as trained, 0 decides it, a width between is linear
    over [0.5 - w/2, 0.5 + w/2]; out of [0, 1] it is refused; checkpoints before fd737b2 build with 1."""
    from tryon.nets.fusion import ramp

    g = torch.tensor([0.0, 0.3, 0.45, 0.5, 0.55, 0.7, 1.0])
    assert torch.equal(ramp(g, 1.0), g)
    assert ramp(g, 0.0).tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert torch.allclose(ramp(g, 0.2), torch.tensor([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]))
    assert build_fusion("trunk_compose", 8, keep="garment", fill=True).fill_ramp == 1.0
    assert build_fusion("trunk_compose", 8, keep="garment", fill=True, fill_ramp=0.25).fill_ramp == 0.25
    with pytest.raises(ValueError, match="fusion_fill_ramp"):
        TrunkComposeFusion(8, keep="garment", fill_ramp=1.5)


@pytest.mark.parametrize("fill_gate", [0.3, 0.7])
def test_at_the_photo_size_a_decided_fill_gate_shows_the_texture_whole_or_the_painted_image(fill_gate):
    """Where the warp misses the old garment (its left part: the garment mask holds only the right part
    of the garment photo), the soft fill gate mixes the garment's texture (green) with the painted image
    (grey 128); ``fill_ramp`` 0 shows the one or the other, never the lighter mix."""
    parse, person, garment, full_mask = _scene(7)
    mask = full_mask.copy()
    mask[:, :36] = False  # identity grid: the person's columns < 36 land outside the garment mask
    missed = (parse == labels.CIHP.UPPER_CLOTHES) & (np.arange(W) < 32)[None]
    out = _out(0.0)
    out["fill_gate"] = torch.full((1, 1, S, S), fill_gate)
    decided, soft = (
        full_resolution(out, PAD, person, parse, garment, mask, "upper_body", False, "garment", 0.5, width)
        for width in (0.0, 1.0)
    )
    want = np.array(GREEN) if fill_gate > 0.5 else np.array([128, 128, 128])
    assert (np.abs(_to_rgb(decided["tryon"])[missed].astype(int) - want).max(axis=1) <= 1).all()
    mix = fill_gate * np.array(GREEN) + (1 - fill_gate) * 127.5
    assert (np.abs(_to_rgb(soft["tryon"])[missed].astype(int) - mix).max(axis=1) <= 1.5).all()
    fill_weight = decided["sources"][2][torch.from_numpy(missed)]
    assert torch.equal(fill_weight, torch.full_like(fill_weight, float(fill_gate > 0.5)))
