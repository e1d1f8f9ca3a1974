"""Label ids, Dress Code -> CIHP remap, trunk / hands / garment masks; padding and un-padding."""

import numpy as np
import pytest
import torch

from tryon.data import labels, preprocess
from tryon.data.labels import CIHP, DressCode


def test_label_sets_and_remap():
    assert len(CIHP) == 20 and len(DressCode) == 18
    dc = np.arange(18, dtype=np.uint8).reshape(3, 6)
    cihp = labels.dresscode_to_cihp(dc)
    assert cihp[np.unravel_index(DressCode.HEAD, dc.shape)] == CIHP.FACE
    assert cihp[np.unravel_index(DressCode.UPPER_CLOTHES, dc.shape)] == CIHP.UPPER_CLOTHES
    assert cihp[np.unravel_index(DressCode.PANTS, dc.shape)] == CIHP.PANTS
    assert cihp[np.unravel_index(DressCode.LEFT_ARM, dc.shape)] == CIHP.LEFT_ARM
    with pytest.raises(labels.LabelError, match=r"x\.png: unknown parse label\(s\) \[18\]"):
        labels.dresscode_to_cihp(np.array([[0, 18]], np.uint8), "x.png")


def _toy_parse():
    p = np.zeros((40, 30), np.uint8)
    p[2:8, 12:18] = CIHP.FACE
    p[8:10, 13:17] = CIHP.TORSO_SKIN
    p[10:25, 8:22] = CIHP.UPPER_CLOTHES
    p[10:30, 4:8] = CIHP.RIGHT_ARM  # hanging arm, the hand is its lower end
    p[25:38, 9:21] = CIHP.PANTS
    return p


def test_trunk_keeps_face_hands_and_lower_body_removes_garment_neck_and_upper_arm():
    p = _toy_parse()
    m = labels.trunk_mask(p)
    assert m[p == CIHP.FACE].all() and m[35:38, 9:21].all()  # the face and the trousers away from the top
    assert not m[p == CIHP.TORSO_SKIN].any(), "the neck is part of the garment-agnostic region"
    assert not m[25, 9:21].any(), "the trousers' top edge is within the margin (a longer top may cover it)"
    assert not m[p == CIHP.UPPER_CLOTHES].any() and not m[p == CIHP.BACKGROUND].any()
    arm = p == CIHP.RIGHT_ARM
    assert m[29, 4:8].all() and m[28:30, 4:8].mean() > 0.8  # hand (distal end) kept
    assert not m[10:14, 4:8].any()  # upper arm removed
    assert 0 < (m & arm).sum() < arm.sum()
    # lower-body try-on keeps the upper garment and arms, removes the pants
    low = labels.trunk_mask(p, "lower_body")
    assert low[p == CIHP.UPPER_CLOTHES].all() and not low[p == CIHP.PANTS].any() and low[arm].all()
    # torso mask helpers accept torch too
    t = torch.from_numpy(p.astype(np.int64))
    assert torch.equal(labels.garment_mask(t), torch.from_numpy(labels.garment_mask(p)))


def _dressed(top: str) -> np.ndarray:
    """One body (head, neck, shoulders, arms, trousers) in a camisole or in a short-sleeved tee."""
    p = np.zeros((80, 60), np.uint8)
    p[4:16, 24:36] = CIHP.FACE
    p[16:22, 18:42] = CIHP.TORSO_SKIN  # neck and shoulders
    p[22:48, 18:42] = CIHP.TORSO_SKIN
    p[18:60, 10:18] = CIHP.RIGHT_ARM
    p[18:60, 42:50] = CIHP.LEFT_ARM
    p[48:78, 18:42] = CIHP.PANTS
    if top == "camisole":
        p[24:48, 20:40] = CIHP.UPPER_CLOTHES
    else:  # a tee: shoulders covered, sleeves to mid upper arm
        p[18:48, 18:42] = CIHP.UPPER_CLOTHES
        p[18:30, 10:18] = p[18:30, 42:50] = CIHP.UPPER_CLOTHES
    return p


def test_agnostic_region_does_not_show_the_old_garments_outline():
    """The same body in a camisole and in a tee: the person representation (trunk map, kept pixels) is the
    same, so a network cannot read the old garment's cut from it."""
    cami, tee = _dressed("camisole"), _dressed("tee")
    assert (labels.garment_mask(cami) != labels.garment_mask(tee)).sum() > 300
    assert (labels.agnostic_region(cami) == labels.agnostic_region(tee)).all()
    assert (labels.trunk_mask(cami) == labels.trunk_mask(tee)).all()
    assert (labels.keep_mask(cami) == labels.keep_mask(tee)).all()
    region = labels.agnostic_region(cami)
    assert not region[cami == CIHP.FACE].any() and region[cami == CIHP.TORSO_SKIN].all()
    assert labels.keep_mask(cami)[0].all(), "the background away from the body is kept"


def test_trunk_map_multiplies_person():
    p = _toy_parse()
    person = torch.rand(3, 40, 30) * 2 - 1
    tr, m = preprocess.trunk(person, p)
    assert tr.shape == (3, 40, 30) and m.shape == (1, 40, 30)
    assert torch.equal(tr, person * m)
    assert set(m.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("wh", [(768, 1024), (1024, 768), (50, 50), (33, 80)])
def test_pad_box_centres_and_unpad_round_trip(wh):
    w, h = wh
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    sq, pad = preprocess.pad_to_square(rgb)
    L = max(w, h)
    assert sq.shape == (L, L, 3)
    left, top, right, bottom = pad
    assert (
        left + right == L - w and top + bottom == L - h and abs(left - right) <= 1 and abs(top - bottom) <= 1
    )
    assert (sq[top : top + h, left : left + w] == rgb).all()
    assert sq.sum() == rgb.astype(np.int64).sum()  # zero padding
    t = preprocess.rgb_to_tensor(sq)
    back = preprocess.unpad(t, pad, (w, h))  # same size: exact crop
    assert back.shape == (3, h, w)
    assert torch.allclose(back, preprocess.rgb_to_tensor(rgb), atol=1e-6)
    # through a resize to 64 and back: the original size and roughly the content
    small, _ = preprocess.square(rgb, 64, "rgb")
    up = preprocess.unpad(preprocess.rgb_to_tensor(small)[None], pad, (w, h))
    assert up.shape == (1, 3, h, w)


def test_preprocess_person_keys_and_ranges():
    rgb = np.full((40, 30, 3), 200, np.uint8)
    out = preprocess.preprocess_person(rgb, _toy_parse(), 32)
    assert out["person"].shape == (3, 32, 32) and out["parse"].dtype == torch.int64
    assert out["person"].min() >= -1 and out["person"].max() <= 1
    assert out["pad"].tolist() == [5, 0, 5, 0] and out["orig_size"].tolist() == [30, 40]
    assert out["person"][:, :, :2].eq(-1).all()  # zero-padded side is black (-1 after normalising)


def test_keep_mask_is_everything_outside_the_agnostic_region():
    """The fusion keeps what no upper garment covers (face, lower body, the background away from the
    body); the old garment, the arms and the margin around them are painted."""
    from tryon.data.labels import CIHP, agnostic_region, keep_mask, trunk_mask

    p = _toy_parse()
    keep = keep_mask(p, "upper_body")
    assert (keep == ~agnostic_region(p, "upper_body")).all()
    assert keep[p == CIHP.FACE].all() and keep[0].all() and keep[35:38, 9:21].all()
    assert not keep[p == CIHP.UPPER_CLOTHES].any() and not keep[10:14, 4:8].any()
    assert (trunk_mask(p, "upper_body") == (keep & (p != CIHP.BACKGROUND))).all()
    low = keep_mask(p, "lower_body")  # a lower garment keeps the arms and the background as before
    assert (low == (trunk_mask(p, "lower_body") | np.isin(p, [CIHP.BACKGROUND, *labels.ARMS]))).all()


def test_protect_mask_keeps_the_garment_off_the_head_feet_and_the_other_category():
    from tryon.data.labels import CIHP, protect_mask

    parse = np.array([[CIHP.FACE, CIHP.UPPER_CLOTHES, CIHP.PANTS, CIHP.LEFT_SHOE, CIHP.LEFT_ARM]], np.uint8)
    assert protect_mask(parse, "upper_body").tolist() == [[True, False, True, True, False]]
    assert protect_mask(parse, "lower_body").tolist() == [[True, True, False, True, True]]
    assert protect_mask(parse, "dresses").tolist() == [[True, False, False, True, False]]
    with pytest.raises(ValueError, match="category"):
        protect_mask(parse, "hats")


def _shirt(colour, texture: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A shirt-like block (with a shaded edge) of ``colour`` +- ``texture`` grey levels on a flat studio grey."""
    rng = np.random.default_rng(seed)
    img = np.full((360, 270, 3), 246, np.uint8)
    mask = np.zeros((360, 270), bool)
    mask[60:300, 60:210] = True
    mask[60:135, 24:246] = True  # sleeves
    body = np.asarray(colour, np.int16) + rng.integers(-texture, texture + 1, (360, 270, 1))
    img[mask] = np.clip(body, 0, 255).astype(np.uint8)[mask]
    from scipy import ndimage

    edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
    img[edge] = np.clip(np.asarray(colour) - 20, 0, 255)  # seams and shading outline a real garment
    return img, mask


@pytest.mark.parametrize("colour", [(30, 60, 160), (200, 40, 40)])
def test_cloth_mask_of_a_coloured_garment_is_its_distance_from_the_background(colour):
    img, mask = _shirt(colour, 3)
    est = preprocess.estimate_cloth_mask(img)
    assert (est == mask).mean() > 0.995


def test_cloth_mask_of_a_white_garment_on_white_comes_from_the_flat_background():
    # 245 +- 4 on a 246 studio background: under the distance threshold everywhere
    img, mask = _shirt((245, 245, 245), 4)
    flat = preprocess.off_flat_background(img)
    est = preprocess.estimate_cloth_mask(img)
    iou = (est & mask).sum() / (est | mask).sum()
    assert iou > 0.9 and (est & ~mask).sum() == 0, iou  # the 2-pixel erosion keeps it inside
    assert flat.sum() >= mask.sum() * 0.98


@pytest.mark.shared
def test_cloth_masks_of_the_real_vitonhd_cloths_match_their_cloth_masks(shared_samples):
    from PIL import Image

    root = shared_samples / "vitonhd"
    ious = {}
    for p in sorted((root / "cloth").glob("*.jpg")):
        rgb = np.asarray(Image.open(p).convert("RGB"))
        gt = np.asarray(Image.open(root / "cloth-mask" / p.name).convert("L")) > 127
        est = preprocess.estimate_cloth_mask(rgb)
        ious[p.stem] = (gt & est).sum() / (gt | est).sum()
    assert len(ious) >= 10
    assert min(ious.values()) > 0.92, ious  # the white tee 00005_00 scored 0.124 with the distance alone
