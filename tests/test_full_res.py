"""The try-on at the photo's own resolution (issue #13): the garment photo sampled by the upsampled
grid, the trunk-keeping composition, and the output size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tryon.data import labels
from tryon.geometry import identity_grid
from tryon.infer.full_res import full_resolution
from tryon.nets.fusion import TrunkComposeFusion, build_fusion, compose

S = 32


def _out(grid: torch.Tensor) -> dict:
    """Network outputs at the working size: the given grid, a gate that takes the garment everywhere,
    a grey painted image, no working-size warp (so no full-resolution detail is added)."""
    z = torch.zeros(1, 1, S, S)
    return {"grid": grid, "gate": z + 1, "rendered": torch.zeros(1, 3, S, S), "warped": z, "warped_mask": z}


def _stripes(h: int, w: int, period: int = 6) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, (np.arange(w) // (period // 2)) % 2 == 0] = (240, 200, 20)
    img[: h // 3] += 10  # not symmetric vertically
    return img


def test_identity_grid_returns_the_garment_photo_at_its_own_resolution():
    """Person and garment photos of the same size: an identity flow at the working size samples the
    full-resolution garment photo back unchanged (not a 32-px image upsampled)."""
    garment = np.random.default_rng(0).integers(0, 256, (200, 150, 3), dtype=np.uint8)
    parse = np.zeros((200, 150), np.uint8)  # all background: nothing kept, the garment everywhere
    full = full_resolution(
        _out(identity_grid(1, S, S)), (25, 0, 25, 0), garment, parse, garment, np.ones((200, 150), bool)
    )
    want = torch.from_numpy(garment.astype(np.float32)).permute(2, 0, 1) / 127.5 - 1
    assert full["warped"].shape == (3, 200, 150)
    assert torch.allclose(full["warped"], want, atol=1e-4)
    assert torch.allclose(full["tryon"], want, atol=1e-4)


def test_a_known_shift_moves_full_resolution_stripes_by_exactly_that_shift():
    h = w = 192
    stripes = _stripes(h, w)
    shift = 7  # full-resolution pixels: the person pixel x reads the garment at x + 7
    grid = identity_grid(1, S, S)
    grid[:, 0] += 2 * shift / w  # a constant normalised shift
    parse = np.zeros((h, w), np.uint8)
    full = full_resolution(_out(grid), (0, 0, 0, 0), stripes, parse, stripes, np.ones((h, w), bool))
    got = full["warped"][:, :, : w - shift]
    want = torch.from_numpy(stripes[:, shift:].astype(np.float32)).permute(2, 0, 1) / 127.5 - 1
    assert torch.allclose(got, want, atol=1e-4)


def test_fusion_with_an_all_kept_mask_returns_the_photo():
    torch.manual_seed(0)
    fusion = TrunkComposeFusion(base_channels=8).eval()
    photo = torch.rand(2, 3, S, S) * 2 - 1
    warped = torch.rand(2, 3, S, S) * 2 - 1
    out = fusion(
        warped,
        torch.zeros(2, 1, S, S),
        torch.zeros(2, 3, S, S),
        keep=photo,
        keep_mask=torch.ones(2, 1, S, S),
    )
    assert torch.equal(out["tryon"], photo)
    with pytest.raises(ValueError, match="trunk_compose needs the kept photo"):
        fusion(warped, torch.zeros(2, 1, S, S), torch.zeros(2, 3, S, S))
    with pytest.raises(ValueError, match="trunk_compose"):
        build_fusion("trunk")


def test_compose_puts_the_garment_over_the_trunk_and_paints_the_rest():
    trunk, warped, rendered = (
        torch.full((1, 3, 4, 4), 0.5),
        torch.full((1, 3, 4, 4), -0.5),
        torch.zeros(1, 3, 4, 4),
    )
    trunk_mask = torch.zeros(1, 1, 4, 4)
    trunk_mask[..., :2, :] = 1  # top half kept
    warped_mask = torch.zeros(1, 1, 4, 4)
    warped_mask[..., 1:3, :] = 1  # the new garment over rows 1-2 (row 1 is also trunk)
    out = compose(rendered, warped_mask, warped, warped_mask, trunk, trunk_mask)["tryon"][0, 0]
    assert out[0].eq(0.5).all()  # trunk, no garment: the photo
    assert out[1].eq(-0.5).all() and out[2].eq(-0.5).all()  # the new garment, over the trunk too
    assert out[3].eq(0.0).all()  # neither: painted


def test_try_on_has_the_photo_size_for_vitonhd_and_other_aspects(tmp_path):
    """768 x 1024 (VITON-HD) and a landscape photo through TryOn with a random-weight checkpoint of
    the default (trunk_compose) architecture; the kept pixels away from the new garment are the photo's,
    and the face (protected) is always kept."""
    import test_infer

    from tryon.infer.model import Inputs, TryOn

    model = TryOn(test_infer._save_ckpt(tmp_path / "model.pt"))
    rng = np.random.default_rng(2)
    for h, w in ((1024, 768), (300, 500)):
        person = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        parse = np.zeros((h, w), np.uint8)
        parse[h // 10 : h // 4, w // 3 : 2 * w // 3] = labels.CIHP.FACE
        parse[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = labels.CIHP.UPPER_CLOTHES
        garment = np.full((256, 192, 3), 250, np.uint8)
        garment[40:220, 30:160] = (40, 80, 170)
        mask = np.zeros((256, 192), bool)
        mask[40:220, 30:160] = True
        res = model.predict(Inputs(person, parse, "test", garment, mask, test_infer.TEXT))
        assert res.image.shape == person.shape and res.network.shape == person.shape
        assert np.array_equal(res.image[res.kept], person[res.kept])  # kept: the photo's own pixels
        assert not res.kept[parse == labels.CIHP.UPPER_CLOTHES].any()  # the old garment never is
        assert not res.warped_mask[parse == labels.CIHP.FACE].any()  # the garment never lands on a face
        assert res.kept[parse == labels.CIHP.FACE].all()
        assert res.sources.shape == person.shape and res.sources.dtype == np.uint8  # what made each pixel
        assert (res.sources[res.kept] == (200, 200, 200)).all()  # kept pixels: the kept colour
        assert res.weights.shape == (4, h, w) and np.allclose(res.weights.sum(0), 1, atol=1e-5)
        assert np.allclose(res.weights[0][res.kept], 1)  # the weights behind the colours


def test_trunk_pixels_are_the_photo_where_no_garment_lands():
    """A grid that reads outside the garment everywhere (no garment lands): the face and the background
    away from the garment (the kept regions) are the photo's own full-resolution pixels; the old garment
    and the garment-agnostic margin round it are painted."""
    rng = np.random.default_rng(3)
    person = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    parse = np.zeros((120, 90), np.uint8)
    parse[10:40, 30:60] = labels.CIHP.FACE
    parse[40:100, 20:70] = labels.CIHP.UPPER_CLOTHES
    far = torch.full((1, 2, S, S), 5.0)  # outside [-1, 1]: the warped mask is 0
    garment = np.full((50, 40, 3), 30, np.uint8)
    full = full_resolution(_out(far), (15, 0, 15, 0), person, parse, garment, np.ones((50, 40), bool))
    img = ((full["tryon"].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    keep = labels.keep_mask(parse)
    far_bg = keep & (parse == labels.CIHP.BACKGROUND)  # the background away from the garment
    assert keep[parse == labels.CIHP.FACE].all() and far_bg.sum() > 0.5 * (parse == 0).sum()
    assert np.array_equal(img[keep], person[keep])
    assert (img[~keep] == 128).all()  # the old garment and the margin round it painted (grey 0 in [-1, 1])


def test_painted_share_of_the_garment_gets_the_detail_above_the_working_size():
    """Gate 0 (the U-Net paints the whole garment) and a painted image equal to the garment warped at the
    working size: with the detail the full-size try-on is the full-resolution warped stripes where both
    warps cover the pixel; without it, the 32-px image upsampled (flat: the 6-px stripes are lost)."""
    from tryon.data import preprocess
    from tryon.geometry import warp

    h = w = 192
    stripes = _stripes(h, w)
    grid = identity_grid(1, S, S)
    parse = np.zeros((h, w), np.uint8)  # nothing kept: the fusion's output everywhere
    ones = np.ones((h, w), bool)
    low, low_mask = preprocess.preprocess_garment(stripes, ones, S)
    out = {
        "grid": grid,
        "gate": torch.zeros(1, 1, S, S),
        "warped": warp(low[None], grid),
        "warped_mask": warp(low_mask[None], grid),
    }
    out["rendered"] = out["warped"]
    full = full_resolution(out, (0, 0, 0, 0), stripes, parse, stripes, ones)
    flat = full_resolution(out, (0, 0, 0, 0), stripes, parse, stripes, ones, detail=False)
    inner = np.s_[:, 8:-8, 8:-8]  # away from the border, where the working-size warp fades out
    assert torch.allclose(full["tryon"][inner], full["warped"][inner], atol=1e-4)
    assert not torch.allclose(flat["tryon"][inner], full["warped"][inner], atol=0.1)
    sharp = {k: v["tryon"][inner].diff(dim=-1).abs().mean().item() for k, v in (("on", full), ("off", flat))}
    assert sharp["on"] > 3 * sharp["off"]


def test_fusion_colour_input_is_the_flat_garments_mean_colour():
    """``colour=True``: the U-Net sees the flat garment's mean colour (inside its mask) as a constant map,
    three more input channels; TryOnNet computes it; a colour fusion called without it says so."""
    from tryon.nets import model as model_mod

    seen = {}

    class Probe(torch.nn.Module):
        def forward(self, warped, warped_mask, contour, garment_colour=None, **_):
            seen["colour"] = garment_colour
            return {"tryon": warped}

    garment = torch.zeros(2, 3, S, S)
    mask = torch.zeros(2, 1, S, S)
    garment[0, 0, :8], mask[0, :, :8] = 0.5, 1  # red 0.5 on the masked rows; 0 elsewhere
    garment[1, 2] = -1.0  # blue -1 everywhere, empty mask

    class Fn(torch.nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, *a):
            return self.fn(*a)

    net = model_mod.TryOnNet(
        Fn(lambda code, size: {"body_map": torch.zeros(2, 1, S, S)}),
        Fn(lambda body, trunk: {"contour": trunk}),
        Fn(lambda c, g, m: {"warped": g, "warped_mask": m}),
        Probe(),
    )
    net(torch.zeros(2, 4), torch.zeros(2, 3, S, S), garment, mask)
    assert torch.allclose(seen["colour"][:, :, 0, 0], torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    for kind, cin in (("trunk_compose", 14), ("compose", 10), ("unet", 10)):
        fusion = build_fusion(kind, base_channels=4, colour=True)
        assert fusion.net.stem[0].in_channels == cin
        with pytest.raises(ValueError, match="needs garment_colour"):
            fusion(garment, mask, garment, keep=garment, keep_mask=mask)
