"""Person / garment preprocessing as in the method [0106]: zero-pad to 1:1 on the short side, resize,
normalise; and the body trunk map [0121]-[0124].

Arrays in: RGB uint8 [H, W, 3], masks bool [H, W], label maps uint8 [H, W]. Tensors out: images float32
[3, S, S] in [-1, 1], masks float32 [1, S, S] in {0, 1}, label maps int64 [S, S].
The pad box ``(left, top, right, bottom)`` is in original pixels; :func:`unpad` inverts the padding and
the resize, so a result at S x S can be returned at the caller's original size.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from tryon.data import labels


def pad_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) zero padding that makes a W x H image square, centred on the short side."""
    d = abs(width - height)
    a, b = d // 2, d - d // 2
    return (a, 0, b, 0) if width < height else (0, a, 0, b)


def pad_to_square(arr: np.ndarray, fill: int = 0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pad [H, W, ...] to [L, L, ...] (L = max(H, W)) with ``fill``; returns (padded, pad box)."""
    h, w = arr.shape[:2]
    left, top, right, bottom = pad_box(w, h)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    return np.pad(arr, widths, mode="constant", constant_values=fill), (left, top, right, bottom)


def resize(arr: np.ndarray, size: int, kind: str) -> np.ndarray:
    """Resize a square array to size x size. kind: 'rgb' (antialiased bilinear), 'mask' (bilinear, >= 0.5)
    or 'labels' (nearest)."""
    if arr.shape[0] == size and arr.shape[1] == size:
        return arr
    if kind == "rgb":
        return np.asarray(Image.fromarray(arr).resize((size, size), Image.BILINEAR))
    if kind == "mask":
        im = Image.fromarray(arr.astype(np.uint8) * 255).resize((size, size), Image.BILINEAR)
        return np.asarray(im) >= 128
    if kind == "labels":
        return np.asarray(Image.fromarray(arr.astype(np.uint8)).resize((size, size), Image.NEAREST))
    raise ValueError(f"kind: expected rgb, mask or labels, got {kind!r}")


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, 3] -> float32 [3, H, W] in [-1, 1]."""
    t = torch.from_numpy(np.array(rgb, dtype=np.float32)).permute(2, 0, 1)  # [3, H, W]
    return t / 127.5 - 1.0


def mask_to_tensor(mask: np.ndarray) -> torch.Tensor:
    """bool [H, W] -> float32 [1, H, W] in {0, 1}."""
    return torch.from_numpy(np.array(mask, dtype=np.float32))[None]


def tensor_to_rgb(t: torch.Tensor) -> np.ndarray:
    """float [3, H, W] in [-1, 1] -> uint8 [H, W, 3]."""
    return ((t.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()


def square(
    arr: np.ndarray, size: int, kind: str, fill: int = 0
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pad to 1:1 with ``fill`` (zeros in the method) and resize to ``size``; returns (array, pad box)."""
    padded, pad = pad_to_square(arr, fill)
    return resize(padded, size, kind), pad


def unpad(img: torch.Tensor, pad, orig_size, mode: str = "bilinear") -> torch.Tensor:
    """Invert :func:`square`: [..., C, S, S] -> [..., C, H, W] at the original size.

    pad: (left, top, right, bottom) in original pixels; orig_size: (W, H). The square of side
    L = max(W, H) is restored by resizing, then the pad is cropped off."""
    left, top, right, bottom = (int(v) for v in pad)
    w, h = (int(v) for v in orig_size)
    side = max(w, h)
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]).float()  # [N, C, S, S]
    x = F.interpolate(x, size=(side, side), mode=mode, align_corners=False if mode != "nearest" else None)
    x = x[..., top : top + h, left : left + w]  # [N, C, H, W]
    return x.reshape(*shape[:-2], h, w)


def trunk(
    person: torch.Tensor, parse: np.ndarray, category: str = "upper_body"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Body trunk map f'_ij = f_ij * m_ij ([0124]). person float [3, S, S] in [-1, 1], parse int [S, S]
    (CIHP) -> (trunk [3, S, S], trunk_mask [1, S, S]). Removed pixels are 0 in the normalised image."""
    m = mask_to_tensor(labels.trunk_mask(np.asarray(parse), category))
    return person * m, m


def kept(person: torch.Tensor, parse: np.ndarray, category: str = "upper_body") -> dict[str, torch.Tensor]:
    """What the fusion keeps of the photo (:func:`tryon.data.labels.keep_mask`: the trunk regions, the
    background and the arms): ``keep`` [3, S, S] (removed pixels 0), ``keep_mask`` [1, S, S] in {0, 1},
    and ``protect_mask`` [1, S, S]: where the new garment never lands (:func:`tryon.data.labels.protect_mask`)."""
    parse = np.asarray(parse)
    m = mask_to_tensor(labels.keep_mask(parse, category))
    return {
        "keep": person * m,
        "keep_mask": m,
        "protect_mask": mask_to_tensor(labels.protect_mask(parse, category)),
    }


def preprocess_person(rgb: np.ndarray, parse: np.ndarray, size: int, category: str = "upper_body") -> dict:
    """A person photo and its CIHP parse map -> the contract's person-side tensors plus the pad info.

    rgb uint8 [H, W, 3]; parse uint8 [H, W] CIHP ids (same H, W). Returns person, parse, trunk,
    trunk_mask, keep, keep_mask, worn_mask, pad (int64 [4], original pixels), orig_size (int64 [2], (W, H))."""
    h, w = rgb.shape[:2]
    img, pad = square(rgb, size, "rgb")
    lab, _ = square(parse, size, "labels")
    person = rgb_to_tensor(img)
    tr, m = trunk(person, lab, category)
    return {
        "person": person,
        "parse": torch.from_numpy(lab.astype(np.int64)),
        "trunk": tr,
        "trunk_mask": m,
        **kept(person, lab, category),
        "worn_mask": mask_to_tensor(labels.category_garment_mask(lab, category)),
        "pad": torch.tensor(pad, dtype=torch.int64),
        "orig_size": torch.tensor([w, h], dtype=torch.int64),
    }


def preprocess_garment(rgb: np.ndarray, mask: np.ndarray, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat garment photo uint8 [H, W, 3] + mask bool [H, W] -> ([3, S, S] in [-1, 1], [1, S, S])."""
    img, _ = square(rgb, size, "rgb")
    m, _ = square(mask, size, "mask")
    return rgb_to_tensor(img), mask_to_tensor(m)


def estimate_cloth_mask(rgb: np.ndarray, thresh: float = 0.06, min_share: float = 0.5) -> np.ndarray:
    """Garment mask of an in-shop photo on a light plain background (Dress Code ships none): pixels that
    differ from the border colour by more than ``thresh`` (RGB distance in [0, 1]), holes filled.

    A garment of about the background's colour (a white tee on a white studio background) differs from it
    by less than ``thresh``: when that mask holds under ``min_share`` of :func:`off_flat_background` (what
    is not the flat background), the latter, less a 2-pixel band of JPEG halo, is the mask. On the 22
    VITON-HD cloths of ``vton-samples`` this changes one mask, the white tee 00005_00 (IoU with its
    cloth-mask 0.124 -> 0.976), and none of the 30 Dress Code cloths. rgb uint8 [H, W, 3] -> bool [H, W]."""
    from scipy import ndimage

    x = rgb.astype(np.float32) / 255.0
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    bg = np.median(border, axis=0)
    fg = np.linalg.norm(x - bg, axis=-1) > thresh
    fg = ndimage.binary_opening(fg, iterations=2)
    fg = ndimage.binary_fill_holes(fg)
    flat = off_flat_background(rgb)
    if fg.sum() < min_share * flat.sum():
        fg = ndimage.binary_erosion(flat, iterations=2)
    return fg


def off_flat_background(rgb: np.ndarray, tol: int = 1) -> np.ndarray:
    """bool [H, W]: what is not the studio background, taken as the pixels within ``tol`` grey levels (every
    channel) of the border's median colour that connect to the border, holes filled. A studio background
    is flat to the JPEG level where a garment of its colour still has weave and shading."""
    from scipy import ndimage

    x = rgb.astype(np.int16)
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    near = np.abs(x - np.median(border, axis=0)).max(axis=-1) <= tol
    lab, _ = ndimage.label(near)
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    fg = ~np.isin(lab, edge[edge > 0])
    fg = ndimage.binary_opening(fg, iterations=2)
    return ndimage.binary_fill_holes(fg)
