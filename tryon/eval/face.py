"""Face and whole-image SSIM of a try-on against its input photo (the try-on batch summary's columns,
stage 06's report), and the neck row (from a dataset's pose file) that bounds the face on Dress Code's
head label.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from tryon.data import labels
from tryon.eval.metrics import ssim_image


def neck_row(pose: str | os.PathLike | None, height: int) -> float | None:
    """Image row of the neck keypoint (the base of the neck) from a dataset's pose file, or None.
    VITON-HD ``openpose_json`` (BODY_25, image pixels) and Dress Code ``keypoints`` (18 points computed
    at 512 x 384, scaled to ``height``); keypoint 1 is the neck in both."""
    import json

    if pose is None or not Path(pose).is_file():
        return None
    try:
        d = json.loads(Path(pose).read_text())
        if "keypoints" in d:  # Dress Code
            x, y = d["keypoints"][1][:2]
            return None if y < 0 else float(y) * height / 512
        kp = d["people"][0]["pose_keypoints_2d"]  # OpenPose
        return float(kp[4]) if kp[5] > 0 else None
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def face_ssim(
    image: np.ndarray, photo: np.ndarray, parse: np.ndarray, crop: bool = False, neck_y: float | None = None
) -> float:
    """SSIM (:func:`tryon.eval.metrics.ssim_image`, on [0, 1] RGB) of the face between a result and the
    input photo, over the bounding box of the face (CIHP face label of ``parse``; Dress Code's "head"
    label, which on its tight crops is chin, neck and bare shoulders).

    Default: only the face pixels are compared (the box's other pixels are taken from the photo in
    both images), so the garment that the try-on rightly replaces next to the face cannot lower it.
    ``crop=True``: the raw box (hair, background and, on close crops, some replaced garment too).
    ``neck_y``: keep only the face pixels above this row (Dress Code's head label also covers the neck
    and, on its crops, which cut the face at the nose, it is mostly neck; see :func:`neck_row`).
    NaN when the parse has no face."""
    face = parse == labels.CIHP.FACE
    if neck_y is not None:
        face[int(max(neck_y, 0)) :] = False
    ys, xs = np.nonzero(face)
    if len(ys) < 49:
        return math.nan
    sl = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    a, b = image[sl].astype(np.float32) / 255, photo[sl].astype(np.float32) / 255
    if not crop:
        a = np.where(face[sl][..., None], a, b)
    return float(ssim_image(a, b))


def image_ssim(image: np.ndarray, photo: np.ndarray) -> float:
    """Whole-image SSIM, same settings as :func:`face_ssim`."""
    a, b = image.astype(np.float32) / 255, photo.astype(np.float32) / 255
    return float(ssim_image(a, b))
