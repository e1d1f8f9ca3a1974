"""Figures of a try-on image against the real photo (paired pairs: the photo is the ground truth).

Every figure is computed on grey images in [0, 1] at the photo's own resolution, except ``ssim_net``
(at 256 x 192, the size at which the try-on anchors of the field report SSIM). The garment region is
the photo's parse garment for the try-on's category (:func:`tryon.data.labels.category_garment_mask`),
the garment box its bounding box. SSIM is always :func:`tryon.eval.metrics.ssim_image`.

- ``ssim``: whole image; ``ssim_net``: whole image at 256 x 192;
- ``garment_ssim``: inside the garment box;
- ``garment_edge_ssim``: SSIM of the Sobel gradient magnitudes inside the garment box, data range the
  larger maximum of the two: a flat, blurred or misplaced print scores low, unlike plain SSIM;
- ``l1``: mean absolute error inside the garment region; ``psnr``: whole image (dB);
- ``sharpness_ratio``: mean Sobel gradient magnitude of the output over that of the photo inside the
  garment region (1.0: as sharp as the photo);
- with a ``painted`` region (:func:`painted_region`: the pixels the fusion leaves to the network outside
  the garment region, e.g. the arms and neck it repaints), ``painted_ssim`` (the SSIM map's mean there)
  and ``painted_l1`` (mean absolute error there): how well the network paints what it must paint besides
  the garment. The kept pixels are the photo's by construction, so no figure of them says anything about
  the network.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from tryon.eval.metrics import ssim_image

#: (width, height) of ``ssim_net``
NET_SIZE = (192, 256)
#: the figures :func:`photo_figures` returns (and the order of report tables)
FIGURES = ("ssim", "ssim_net", "garment_ssim", "garment_edge_ssim", "l1", "psnr", "sharpness_ratio")
#: the figures :func:`photo_figures` adds when it is given the painted region
PAINTED_FIGURES = ("painted_ssim", "painted_l1")
#: why a figure of the pixels the fusion keeps (stage 06's ``real.kept``: the face) is no network result
KEPT_NOTE = (
    "the fusion keeps these pixels of the photo (tryon.data.labels.keep_mask; the face is also protected "
    "from the warped garment), so each figure is the photo's own by construction, whatever the network "
    "does: a check of the compositing rule, not a network result"
)


def grey(rgb: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] -> float64 [H, W] in [0, 1] (ITU-R 601 luma, as PIL's ``L`` mode)."""
    return (rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])) / 255.0


def sobel_magnitude(img: np.ndarray) -> np.ndarray:
    """Gradient magnitude of a grey image [H, W] (Sobel, edges reflected)."""
    return np.hypot(ndimage.sobel(img, axis=0, mode="reflect"), ndimage.sobel(img, axis=1, mode="reflect"))


def box_of(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of a bool mask [H, W] as slices, or None when it is empty."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    return np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def edge_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of the Sobel gradient magnitudes of two grey images, data range the larger maximum."""
    ga, gb = sobel_magnitude(a), sobel_magnitude(b)
    data_range = max(float(ga.max()), float(gb.max()))
    if data_range == 0:  # both flat: identical structure
        return 1.0
    return float(ssim_image(ga, gb, data_range=data_range))


def _resize_grey(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(
        Image.fromarray(img.astype(np.float32), mode="F").resize(size, Image.BILINEAR), np.float64
    )


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool masks [H, W]; NaN when both are empty."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else math.nan


def painted_region(parse: np.ndarray, category: str, garment: np.ndarray) -> np.ndarray:
    """The pixels the network decides outside the photo's ``garment`` region (bool [H, W]): those the
    fusion does not keep (:func:`tryon.data.labels.keep_mask` of the CIHP ``parse`` for ``category``),
    less the garment region. Bool [H, W]; empty where the fusion keeps everything but the garment."""
    from tryon.data import labels

    return ~labels.keep_mask(parse, category) & ~garment


def painted_figures(a: np.ndarray, b: np.ndarray, painted: np.ndarray) -> dict[str, float]:
    """:data:`PAINTED_FIGURES` of grey images ``a`` (output) and ``b`` (photo) [H, W] in [0, 1] on the
    bool region ``painted`` [H, W]: the SSIM map (whole image, :func:`ssim_image`) averaged there, and
    the mean absolute error there. NaN when the region is empty."""
    if not painted.any():
        return dict.fromkeys(PAINTED_FIGURES, math.nan)
    _, smap = ssim_image(a, b, full=True)
    return {"painted_ssim": float(smap[painted].mean()), "painted_l1": float(np.abs(a - b)[painted].mean())}


def photo_figures(
    output: np.ndarray, photo: np.ndarray, garment: np.ndarray, painted: np.ndarray | None = None
) -> dict[str, float]:
    """The :data:`FIGURES` of a try-on ``output`` uint8 [H, W, 3] against the ``photo`` uint8 [H, W, 3],
    with ``garment`` the photo's garment region, bool [H, W]. NaN where the region is empty. With
    ``painted`` (bool [H, W], :func:`painted_region`) also the :data:`PAINTED_FIGURES`."""
    shapes = [garment.shape] + ([] if painted is None else [painted.shape])
    if output.shape != photo.shape or any(s != photo.shape[:2] for s in shapes):
        raise ValueError(
            f"output {output.shape}, photo {photo.shape} and garment {garment.shape} differ in size"
            + ("" if painted is None else f" (painted {painted.shape})")
        )
    a, b = grey(output), grey(photo)
    extra = {} if painted is None else painted_figures(a, b, painted)
    mse = float(((a - b) ** 2).mean())
    out = {
        "ssim": float(ssim_image(a, b)),
        "ssim_net": float(ssim_image(_resize_grey(a, NET_SIZE), _resize_grey(b, NET_SIZE))),
        "psnr": math.inf if mse == 0 else -10 * math.log10(mse),
    }
    box = box_of(garment)
    if box is None or min(a[box].shape) < 7:  # SSIM's 7 x 7 window needs a box at least that big
        return {
            **out,
            **dict.fromkeys(("garment_ssim", "garment_edge_ssim", "l1", "sharpness_ratio"), math.nan),
            **extra,
        }
    sharp_photo = float(sobel_magnitude(b)[garment].mean())
    out |= {
        "garment_ssim": float(ssim_image(a[box], b[box])),
        "garment_edge_ssim": edge_ssim(a[box], b[box]),
        "l1": float(np.abs(a - b)[garment].mean()),
        "sharpness_ratio": float(sobel_magnitude(a)[garment].mean()) / sharp_photo
        if sharp_photo > 0
        else math.nan,
    }
    return {**{k: out[k] for k in FIGURES}, **extra}
