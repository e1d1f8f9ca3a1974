"""The background plate (``05_train.fusion_plate``): the studio wall extended behind the person from the
background the fusion keeps (tryon.geometry.fill_from, tryon.nets.fusion.background_plate), which never
reads the agnostic region or the padding, and a fusion widened to read it that starts as the old one."""

import numpy as np
import pytest
import torch

from tryon import paths
from tryon.data import labels, preprocess
from tryon.data.preprocess import kept_background
from tryon.geometry import fill_from
from tryon.nets.contour import widen_inputs
from tryon.nets.fusion import TrunkComposeFusion, background_plate, build_fusion


def test_fill_keeps_the_known_pixels_and_extends_them_smoothly():
    x = torch.rand(2, 3, 40, 56) * 2 - 1
    known = torch.zeros(2, 1, 40, 56)
    known[..., :12], known[..., 44:] = 1, 1  # a wall on each side, unknown between
    x[..., :12], x[..., 44:] = 0.5, -0.5
    y = fill_from(x, known)
    assert torch.equal(y[..., :12], x[..., :12]) and torch.equal(y[..., 44:], x[..., 44:])
    row = y[0, 0, 20, 12:44]
    assert (row.diff() <= 1e-6).all() and row.max() <= 0.5 and row.min() >= -0.5  # from one wall to the other
    assert row[0] > 0.2 and row[-1] < -0.2
    one = torch.zeros(1, 1, 7, 5)
    one[0, 0, 3, 2] = 1
    assert torch.allclose(fill_from(torch.full((1, 3, 7, 5), 0.3), one), torch.full((1, 3, 7, 5), 0.3))
    assert not fill_from(torch.rand(1, 3, 9, 9), torch.zeros(1, 1, 9, 9)).any()  # nothing known: zeros


def _person():
    """A 60x40 photo and its CIHP parse: head, an upper garment with arms, trousers, a wall of two tones."""
    parse = np.zeros((60, 40), np.uint8)
    parse[4:14, 15:25] = labels.CIHP.FACE
    parse[14:36, 10:30] = labels.CIHP.UPPER_CLOTHES
    parse[14:34, 6:10] = labels.CIHP.LEFT_ARM
    parse[14:34, 30:34] = labels.CIHP.RIGHT_ARM
    parse[36:58, 12:28] = labels.CIHP.PANTS
    rgb = np.zeros((60, 40, 3), np.uint8)
    rgb[:, :20], rgb[:, 20:] = (200, 210, 220), (230, 225, 215)  # the wall
    rgb[parse > 0] = (90, 40, 30)
    return rgb, parse


def test_the_plate_reads_neither_the_agnostic_region_nor_the_padding():
    rgb, parse = _person()
    p = preprocess.preprocess_person(rgb, parse, 32)
    bg = kept_background(p["parse"][None], p["keep_mask"][None], p["pad"][None], p["orig_size"][None])
    assert not (bg * (1 - p["keep_mask"][None])).any()  # nothing of what the fusion paints
    left, _, right, _ = (int(v) for v in p["pad"])
    cols = bg[0, 0].sum(0)
    s = 32 / 60
    assert left > 0 and not cols[: int(left * s)].any() and not cols[32 - int(right * s) :].any()
    assert (labels.isin(p["parse"].numpy(), (labels.CIHP.BACKGROUND,)) >= bg[0, 0].numpy()).all()
    plate = background_plate(p["keep"][None], bg)
    from scipy import ndimage

    other = rgb.copy()  # anything where the old garment was (away from the edge the resize blends)
    other[ndimage.binary_erosion(labels.agnostic_region(parse), iterations=3)] = (255, 0, 255)
    q = preprocess.preprocess_person(other, parse, 32)
    assert not torch.equal(q["person"], p["person"])
    assert torch.equal(background_plate(q["keep"][None], bg), plate)
    wall = (np.array([200, 210, 220]) / 127.5 - 1, np.array([230, 225, 215]) / 127.5 - 1)
    torso = plate[0, :, 14, 12:20].mean(1).numpy()  # behind the torso, the left wall's side
    assert np.abs(torso - wall[0]).max() < np.abs(torso - wall[1]).max()


def test_a_fusion_widened_for_the_plate_starts_as_the_old_one():
    old = TrunkComposeFusion(8, 2, colour=True, fill=True, keep="garment").eval()
    new = TrunkComposeFusion(8, 2, colour=True, fill=True, keep="garment", plate=True).eval()
    state, widened = widen_inputs(old.state_dict(), new)
    assert widened == ["net.stem.0.weight"]
    new.load_state_dict(state)
    b = 2
    img = lambda c=3: torch.rand(b, c, 16, 16) * 2 - 1  # noqa: E731
    mask = lambda: (torch.rand(b, 1, 16, 16) > 0.5).float()  # noqa: E731
    args = (img(), mask(), img())
    kw = dict(keep=img(), keep_mask=mask(), garment_colour=torch.rand(b, 3, 1, 1), filled=img(),
              fill_cover=torch.ones(b, 1, 16, 16))  # fmt: skip
    with torch.no_grad():
        a, c = old(*args, **kw)["tryon"], new(*args, **kw, plate=img())["tryon"]
    assert torch.equal(a, c)
    with pytest.raises(ValueError, match="plate=True needs plate="):
        new(*args, **kw)
    with pytest.raises(ValueError, match="fusion unet keeps no background"):
        build_fusion("unet", plate=True)


@pytest.mark.shared
def test_the_plate_finds_the_wall_behind_viton_persons():
    """On VITON test photos, the wall hidden by the agnostic region (background in the dataset's parse, not
    kept): the plate is closer to the photo there than the kept wall's mean colour is."""
    from PIL import Image

    from tryon.data.vitonhd import load_parse

    root = paths.SHARED_VITON / "test"
    if not (root / "image").is_dir():
        pytest.skip(f"no ../shared/data/viton: VITON not found at {paths.SHARED_VITON}")
    errs = []
    for i in ("000001_0", "004814_0", "009643_0", "014452_0"):
        rgb = np.array(Image.open(root / "image" / f"{i}.jpg").convert("RGB"))
        p = preprocess.preprocess_person(rgb, load_parse(root / "image-parse" / f"{i}.png", "lip"), 128)
        bg = kept_background(p["parse"][None], p["keep_mask"][None], p["pad"][None], p["orig_size"][None])
        plate = background_plate(p["keep"][None], bg)[0]
        hidden = (p["parse"] == labels.CIHP.BACKGROUND) & (p["keep_mask"][0] == 0)
        mean = (p["keep"] * bg[0]).sum((1, 2)) / bg.sum()
        errs.append(
            (
                (plate - p["person"]).abs().mean(0)[hidden].mean(),
                (mean[:, None] - p["person"][:, hidden]).abs().mean(),
            )
        )
    for plate_err, mean_err in errs:
        assert plate_err < mean_err
