"""Body keypoints of a person photo and the pose map drawn from them.

:func:`read_keypoints` reads OpenPose's COCO-18 (VITON, CP-VTON layout) and BODY_25 (VITON-HD
``openpose_json``) files and Dress Code's own into one ``name -> (x, y) | None`` dict in the photo's pixels
(x = column, y = row; "left" and "right" are the person's own sides). :func:`pose_map` draws the arm and torso
bones at the working size: what the contour generator reads of the arms the person representation hides."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

#: default keypoint confidence threshold (OpenPose scores; VITON's hips score ~0.2-0.4)
MIN_CONF = 0.1

# OpenPose index -> name (the person's own sides)
_COCO18 = {
    0: "nose", 1: "neck", 2: "r_shoulder", 3: "r_elbow", 4: "r_wrist", 5: "l_shoulder", 6: "l_elbow",
    7: "l_wrist", 8: "r_hip", 9: "r_knee", 10: "r_ankle", 11: "l_hip", 12: "l_knee", 13: "l_ankle",
}  # fmt: skip
_BODY25 = {
    0: "nose", 1: "neck", 2: "r_shoulder", 3: "r_elbow", 4: "r_wrist", 5: "l_shoulder", 6: "l_elbow",
    7: "l_wrist", 8: "mid_hip", 9: "r_hip", 10: "r_knee", 11: "r_ankle", 12: "l_hip", 13: "l_knee",
    14: "l_ankle",
}  # fmt: skip
#: every name :func:`read_keypoints` returns
KEYPOINT_NAMES = tuple(dict.fromkeys([*_BODY25.values(), *_COCO18.values()]))

Point = tuple[float, float]
Keypoints = Mapping[str, Point | None]


# ----------------------------------------------------------------------------------------------
# Keypoints
# ----------------------------------------------------------------------------------------------
def read_keypoints(
    path: str | os.PathLike, min_conf: float = MIN_CONF, image_size: tuple[int, int] | None = None
) -> dict[str, Point | None]:
    """Body keypoints of an OpenPose JSON: VITON's COCO-18 (``people[0].pose_keypoints``, 18 x (x, y, conf))
    or VITON-HD's BODY_25 (``people[0].pose_keypoints_2d``, 25 x 3), told apart by the number of points;
    or Dress Code's own file (``keypoints``: 18 x (x, y, score, id), COCO-18 order, computed at 384 x 512 and
    scaled to ``image_size`` (W, H) when given; a missing point is ``[-1, -1, 0, -1]``).

    Returns ``name -> (x, y)`` in the file's pixels for every name of :data:`KEYPOINT_NAMES`, ``None`` where
    the confidence is below ``min_conf`` (OpenPose writes (0, 0, 0) for an undetected point) or the format
    lacks it; COCO-18's ``mid_hip`` is the mean of its two hips. A file with no person (``people: []``)
    gives all ``None``. A malformed file raises a one-line ``ValueError`` naming it."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable JSON file ({type(e).__name__})") from None
    if isinstance(d, dict) and isinstance(d.get("keypoints"), list):  # Dress Code
        return _dresscode(path, d["keypoints"], min_conf, image_size)
    if not isinstance(d, dict) or not isinstance(d.get("people"), list):
        raise ValueError(f"{path}: not an OpenPose keypoint file (no 'people' list)")
    out: dict[str, Point | None] = dict.fromkeys(KEYPOINT_NAMES)
    if not d["people"]:
        return out
    person = d["people"][0]
    flat = None
    if isinstance(person, dict):
        flat = person.get("pose_keypoints_2d", person.get("pose_keypoints"))
    if not isinstance(flat, list):
        raise ValueError(f"{path}: people[0] has no 'pose_keypoints_2d' / 'pose_keypoints' list")
    try:
        kp = np.asarray(flat, dtype=np.float64).reshape(-1, 3)  # [K, (x, y, conf)]
    except (ValueError, TypeError):
        raise ValueError(f"{path}: keypoints are not a flat list of (x, y, confidence) numbers") from None
    names = {18: _COCO18, 25: _BODY25}.get(len(kp))
    if names is None:
        raise ValueError(f"{path}: {len(kp)} keypoints, expected 18 (COCO-18) or 25 (BODY_25)")
    for i, name in names.items():
        x, y, c = kp[i]
        if np.isfinite(kp[i]).all() and c >= min_conf and c > 0:
            out[name] = (float(x), float(y))
    if len(kp) == 18 and out["r_hip"] is not None and out["l_hip"] is not None:
        out["mid_hip"] = midpoint(out["r_hip"], out["l_hip"])
    return out


def midpoint(a: Point, b: Point) -> Point:
    """The point halfway between ``a`` and ``b``."""
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _dresscode(path: Path, rows: list, min_conf: float, image_size) -> dict[str, Point | None]:
    try:
        kp = np.asarray(rows, dtype=np.float64).reshape(-1, 4)  # [18, (x, y, score, id)]
    except (ValueError, TypeError):
        raise ValueError(f"{path}: 'keypoints' is not a list of (x, y, score, id) rows") from None
    if len(kp) != 18:
        raise ValueError(f"{path}: {len(kp)} Dress Code keypoints, expected 18")
    sx, sy = (image_size[0] / 384, image_size[1] / 512) if image_size is not None else (1.0, 1.0)
    out: dict[str, Point | None] = dict.fromkeys(KEYPOINT_NAMES)
    for i, name in _COCO18.items():
        x, y, c, _ = kp[i]
        if np.isfinite(kp[i]).all() and x >= 0 and y >= 0 and c >= min_conf and c > 0:
            out[name] = (float(x) * sx, float(y) * sy)
    if out["r_hip"] is not None and out["l_hip"] is not None:
        out["mid_hip"] = midpoint(out["r_hip"], out["l_hip"])
    return out


# ----------------------------------------------------------------------------------------------
# The pose map: what the contour generator sees of the arms
# ----------------------------------------------------------------------------------------------
#: the pose map's channels: each a set of bones (keypoint pairs), both sides in one channel so that a
#: left-right mirror of the photo is the mirror of its map (no channel swap)
POSE_BONES = (
    ("upper_arms", (("r_shoulder", "r_elbow"), ("l_shoulder", "l_elbow"))),
    ("forearms", (("r_elbow", "r_wrist"), ("l_elbow", "l_wrist"))),
    (
        "torso",
        (("neck", "r_shoulder"), ("neck", "l_shoulder"), ("r_shoulder", "r_hip"), ("l_shoulder", "l_hip")),
    ),
)
POSE_CHANNELS = len(POSE_BONES)
#: a bone's line: Gaussian profile with this standard deviation, a share of the working size (1.5 px at 128)
POSE_SIGMA = 0.012


def to_square(point: Point, image_size: tuple[int, int], size: int) -> Point:
    """A point in the photo's pixels (W, H = ``image_size``) -> the working frame of
    :func:`tryon.data.preprocess.square` (padded to a centred square, resized to ``size``; pixel centres at
    integers in both)."""
    from tryon.data.preprocess import pad_box

    w, h = image_size
    left, top, _, _ = pad_box(w, h)
    s = size / max(w, h)
    return ((point[0] + left + 0.5) * s - 0.5, (point[1] + top + 0.5) * s - 0.5)


def pose_map(keypoints: Keypoints | None, image_size: tuple[int, int], size: int):
    """The pose map of a photo at the working size, float32 tensor [:data:`POSE_CHANNELS`, S, S] in [0, 1]:
    channel c holds the bones of ``POSE_BONES[c]`` drawn as lines with a Gaussian profile (σ =
    :data:`POSE_SIGMA` x S). A bone with a missing end is not drawn; ``keypoints`` None (no pose file) gives
    all zeros, which is also what a model trained with ``05_train.pose_dropout`` takes as "pose unknown".

    Why: the person representation hides the arms (:func:`tryon.data.labels.agnostic_region`), so without
    it nothing tells the network where they are; the bones give their place without their old sleeves'
    outline (VITON, CP-VTON and VITON-HD feed OpenPose keypoints the same way)."""
    import torch

    out = np.zeros((POSE_CHANNELS, size, size), np.float32)
    if keypoints is None:
        return torch.from_numpy(out)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    sigma = max(POSE_SIGMA * size, 0.5)
    for c, (_, bones) in enumerate(POSE_BONES):
        for a, b in bones:
            pa, pb = keypoints.get(a), keypoints.get(b)
            if pa is None or pb is None:
                continue
            (ax, ay), (bx, by) = to_square(pa, image_size, size), to_square(pb, image_size, size)
            dx, dy = bx - ax, by - ay
            t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / max(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
            d2 = (xx - ax - t * dx) ** 2 + (yy - ay - t * dy) ** 2
            np.maximum(out[c], np.exp(-d2 / (2 * sigma * sigma)), out=out[c])
    return torch.from_numpy(out)


def read_pose_map(path, image_size: tuple[int, int], size: int):
    """:func:`pose_map` of a keypoint file (``path`` None or absent: all zeros). A file that cannot be read
    raises a one-line ``ValueError`` naming it."""
    if path is None or not Path(path).is_file():
        return pose_map(None, image_size, size)
    return pose_map(read_keypoints(path, image_size=image_size), image_size, size)
