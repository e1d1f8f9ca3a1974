"""The fusion's fill source (``05_train.fusion_fill``, issue #13): the garment's own texture where the warp
misses it. Geometry (erosion, nearest pixel inside a mask, a grid moved into a mask), the fusion's third
source, the network's ``filled`` input and the same source at the photo's own resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from tryon.data import labels
from tryon.geometry import denormalize_coords, erode, grid_into_mask, identity_grid, nearest_inside, warp
from tryon.infer.full_res import SOURCE_COLOURS, full_resolution, sources_rgb
from tryon.nets.fusion import build_fusion

S = 32
EXACT = "donot_use_mm_for_euclid_dist"  # cdist without the matmul shortcut (it rounds to ~1e-3)


def _blobs(h: int, w: int, seed: int) -> np.ndarray:
    """A few random rectangles and discs: a mask with holes, corners and separate parts."""
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), bool)
    yy, xx = np.mgrid[:h, :w]
    for _ in range(4):
        y, x = rng.integers(0, h), rng.integers(0, w)
        if rng.random() < 0.5:
            m[y : y + rng.integers(2, h // 2), x : x + rng.integers(2, w // 2)] = True
        else:
            m |= (yy - y) ** 2 + (xx - x) ** 2 <= rng.integers(2, min(h, w) // 3) ** 2
    m[rng.integers(0, h), :] = False  # a cut through it
    return m


@pytest.mark.parametrize("seed", range(12))
def test_nearest_inside_matches_the_exact_nearest_pixel(seed):
    h, w = (37, 53) if seed % 2 else (64, 48)
    m = _blobs(h, w, seed)
    got = nearest_inside(torch.from_numpy(m.astype(np.float32))[None, None])  # [1, 2, H, W] normalised
    gx = ((got[0, 0].numpy() + 1) * w - 1) / 2  # back to pixels
    gy = ((got[0, 1].numpy() + 1) * h - 1) / 2
    assert np.allclose(gx, gx.round(), atol=1e-4) and np.allclose(gy, gy.round(), atol=1e-4)
    gx, gy = gx.round().astype(int), gy.round().astype(int)
    assert m[gy, gx].all()  # every answer is a mask pixel
    exact = ndimage.distance_transform_edt(~m)  # distance to the nearest mask pixel
    yy, xx = np.mgrid[:h, :w]
    err = np.hypot(gx - xx, gy - yy) - exact
    assert err.min() > -1e-4 and err.max() < 1.0  # never nearer than the nearest, and within a pixel
    assert (err < 1e-4).mean() > 0.97  # jump flooding's known misses: a few pixels, by under a pixel
    inside = nearest_inside(torch.zeros(1, 1, 5, 7))  # an empty mask: every pixel its own
    assert torch.allclose(inside, identity_grid(1, 5, 7))


def test_erode_is_a_square_erosion_with_the_image_edge_not_an_edge_of_the_mask():
    m = _blobs(40, 30, 7)
    for r in (0, 1, 3):
        got = erode(torch.from_numpy(m.astype(np.float32))[None, None], r)[0, 0].numpy() > 0.5
        want = ndimage.binary_erosion(m, np.ones((2 * r + 1,) * 2), border_value=1) if r else m
        assert np.array_equal(got, want)


def test_grid_into_mask_keeps_positions_inside_and_moves_the_rest_into_the_mask():
    m = torch.zeros(1, 1, S, S)
    m[..., 8:20, 10:24] = 1
    grid = identity_grid(1, S, S)
    grid[:, 0] += 0.3  # every pixel reads 4.8 px to its right; some of it lands outside the mask
    grid.requires_grad_(True)
    moved = grid_into_mask(grid, m)
    inside = warp(m, grid.detach(), mode="nearest") > 0.5
    assert inside.any() and (~inside).any()
    assert torch.equal(torch.where(inside, moved, 0.0), torch.where(inside, grid.detach(), 0.0))
    assert (warp(m, moved.detach(), mode="nearest") == 1).all()  # every position now reads the mask
    moved.sum().backward()  # gradients reach the kept positions only
    assert torch.equal(grid.grad[:, :1] > 0, inside)


def test_grid_into_mask_keeping_the_phase_moves_by_whole_pixels_of_the_coarse_map():
    """With the nearest-pixel map 4x coarser than the source, ``keep_phase`` moves each outside position by
    whole pixels of that map (multiples of 4 source pixels; the print continues instead of streaking),
    and every moved position still reads inside the mask."""
    n = 64
    m = torch.zeros(1, 1, n, n)
    m[..., 8:56, 8:30] = 1
    coarse = erode(torch.nn.functional.interpolate(m, size=(16, 16), mode="nearest"), 1)
    near = nearest_inside(coarse)
    grid = identity_grid(1, n, n)
    moved = grid_into_mask(grid, coarse, near, keep_phase=True)
    outside = warp(coarse, grid, mode="nearest") < 0.5
    step = denormalize_coords(moved, n, n) - denormalize_coords(grid, n, n)  # source pixels
    inner = (grid.abs().amax(dim=1, keepdim=True) < 1 - 1 / 16).expand_as(step)  # not clamped to the edge
    assert outside.sum() > 1000 and inner.sum() > 1000
    assert torch.allclose(step[inner], (step[inner] / 4).round() * 4, atol=1e-3)  # whole coarse pixels
    assert (step.abs().amax(dim=1, keepdim=True)[outside] > 0).all()  # and every outside one moved
    assert (warp(m, moved, mode="nearest") == 1).all()  # still on the garment
    plain = grid_into_mask(grid, coarse, near)  # without: the centre of the coarse pixel
    assert not torch.allclose(plain, moved)


def _fusion(kind: str, gate: float, fill_gate: float):
    """A fill fusion whose gates are constants: the head's weights zero, its biases the logits."""
    f = build_fusion(kind, base_channels=4, colour=False, fill=True).eval()
    with torch.no_grad():
        f.net.head.weight.zero_()
        f.net.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, gate, fill_gate]))
    return f


def test_the_fill_source_takes_the_pixels_the_warp_misses_and_only_those():
    b = 2
    warped, filled = torch.full((b, 3, S, S), 0.8), torch.rand(b, 3, S, S) * 2 - 1
    wmask = torch.zeros(b, 1, S, S)
    wmask[..., :16, :] = 1  # the warp covers the top half
    cover = torch.ones(b, 1, S, S)
    cover[..., :, :4] = 0  # where the garment never lands
    zeros = torch.zeros(b, 3, S, S)
    for kind in ("trunk_compose", "compose"):
        kw = {"keep": zeros, "keep_mask": torch.zeros(b, 1, S, S)} if kind == "trunk_compose" else {}
        out = _fusion(kind, 50.0, 50.0)(warped, wmask, zeros, filled=filled, fill_cover=cover, **kw)
        top, bottom = out["tryon"][..., :16, 4:], out["tryon"][..., 16:, 4:]
        assert torch.allclose(top, warped[..., :16, 4:], atol=1e-5)  # the warp where it covers
        assert torch.allclose(bottom, filled[..., 16:, 4:], atol=1e-5)  # the fill where it misses
        assert torch.allclose(out["tryon"][..., 16:, :4], zeros[..., 16:, :4], atol=1e-5)  # painted
        off = _fusion(kind, 50.0, -50.0)(warped, wmask, zeros, filled=filled, fill_cover=cover, **kw)
        assert torch.allclose(off["tryon"][..., 16:, :], zeros[..., 16:, :], atol=1e-5)
        with pytest.raises(ValueError, match="fill=True needs filled="):
            _fusion(kind, 0.0, 0.0)(warped, wmask, zeros, **kw)
    with pytest.raises(ValueError, match="unet composes nothing"):
        build_fusion("unet", fill=True)


def test_the_network_feeds_the_fusion_the_garment_moved_into_its_mask():
    from tryon.nets.model import fill_source

    garment = torch.rand(1, 3, S, S) * 2 - 1
    mask = torch.zeros(1, 1, S, S)
    mask[..., 6:26, 8:24] = 1
    grid = identity_grid(1, S, S) * 1.5  # reads outside the garment near the borders
    src = fill_source(grid, garment, mask, None)
    core = erode(mask, 1)
    colours = garment[0].permute(1, 2, 0)[core[0, 0] > 0.5]  # [n, 3] the core's pixels
    got = src["filled"][0].permute(1, 2, 0).reshape(-1, 3)
    # bilinear reads inside the core mix core pixels; the moved ones read a core pixel exactly
    outside = (warp(core, grid.clamp(-1 + 1 / S, 1 - 1 / S), mode="nearest") < 0.5).view(-1)
    d = torch.cdist(got[outside], colours, compute_mode=EXACT).min(dim=1).values
    assert outside.sum() > 100 and d.max() < 1e-5
    assert src["fill_cover"].eq(1).all()
    protect = torch.zeros(1, 1, S, S)
    protect[..., :5, :] = 1
    assert torch.equal(fill_source(grid, garment, mask, protect)["fill_cover"], 1 - protect)
    thin = torch.zeros(1, 1, S, S)
    thin[..., 10, :] = 1  # one pixel wide: the erosion empties it, so no fill
    assert fill_source(grid, garment, thin, None)["fill_cover"].eq(0).all()


def test_the_fill_at_the_photo_size_reads_the_garment_photo_itself():
    """A warp that misses the garment everywhere (it reads below it): with the fill gate on, every pixel of
    the try-on is made by the fill, which reads the full-resolution garment photo: its 8-px stripes, 1.6
    pixels of the 32-px working size (where they would blur to one mixed colour), stay pure colours."""
    h, w = 160, 120
    garment = np.zeros((h, w, 3), np.uint8)
    garment[:, (np.arange(w) // 8) % 2 == 0] = (250, 30, 30)
    garment[:, (np.arange(w) // 8) % 2 == 1] = (20, 40, 230)
    gmask = np.zeros((h, w), bool)
    gmask[30:130, 20:100] = True
    grid = identity_grid(1, S, S)
    grid[:, 1] += 1.9  # every pixel reads past the garment's lower edge
    z = torch.zeros(1, 1, S, S)
    out = {"grid": grid, "gate": z + 1, "fill_gate": z + 1, "rendered": torch.zeros(1, 3, S, S)}
    out.update(warped=torch.zeros(1, 3, S, S), warped_mask=z)
    parse = np.full((h, w), labels.CIHP.UPPER_CLOTHES, np.uint8)  # all old garment: nothing kept
    person = np.full((h, w, 3), 128, np.uint8)  # grey: a kept or painted pixel would show
    full = full_resolution(out, (20, 0, 20, 0), person, parse, garment, gmask)
    assert full["warped_mask"].max() == 0
    src = full["sources"]  # [4, H, W]: kept, warped, fill, painted
    assert src.shape == (4, h, w) and torch.allclose(src.sum(0), torch.ones(h, w), atol=1e-5)
    assert torch.allclose(src[2], torch.ones(h, w), atol=1e-5)  # every pixel made by the fill
    rgb = (full["tryon"].permute(1, 2, 0).reshape(-1, 3) + 1) * 127.5
    pure = torch.tensor([[250.0, 30, 30], [20, 40, 230]])
    d = torch.cdist(rgb, pure, compute_mode=EXACT)  # [pixels, 2]
    assert (d.min(dim=1).values < 1.0).float().mean() > 0.6  # most pixels one stripe or the other
    assert 0.1 < (d.argmin(dim=1) == 0).float().mean() < 0.9  # both stripes, side by side


def test_sources_image_colours_each_pixel_by_what_made_it():
    src = torch.zeros(4, 2, 4)
    for i in range(4):
        src[i, 0, i] = 1.0  # row 0: one pixel made by each source alone
    src[:, 1, :] = 0.25  # row 1: an even mix
    rgb = sources_rgb(src)
    colours = np.array(list(SOURCE_COLOURS.values()))  # [4, 3]: kept, warped, fill, painted
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 4, 3)
    assert np.array_equal(rgb[0], colours)
    assert np.array_equal(rgb[1], np.repeat(np.round(colours.mean(0))[None], 4, 0))
