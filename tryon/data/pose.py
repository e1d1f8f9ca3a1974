"""Body keypoints of a person photo: OpenPose's COCO-18 (VITON, CP-VTON layout) and BODY_25 (VITON-HD
``openpose_json``) files, read into one ``name -> (x, y) | None`` dict in the photo's pixels (x = column,
y = row; "left" and "right" are the person's own sides)."""

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
def read_keypoints(path: str | os.PathLike, min_conf: float = MIN_CONF) -> dict[str, Point | None]:
    """Body keypoints of an OpenPose JSON: VITON's COCO-18 (``people[0].pose_keypoints``, 18 x (x, y, conf))
    or VITON-HD's BODY_25 (``people[0].pose_keypoints_2d``, 25 x 3), told apart by the number of points.

    Returns ``name -> (x, y)`` in the file's pixels for every name of :data:`KEYPOINT_NAMES`, ``None`` where
    the confidence is below ``min_conf`` (OpenPose writes (0, 0, 0) for an undetected point) or the format
    lacks it; COCO-18's ``mid_hip`` is the mean of its two hips. A file with no person (``people: []``)
    gives all ``None``. A malformed file raises a one-line ``ValueError`` naming it."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable JSON file ({type(e).__name__})") from None
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
        out["mid_hip"] = _mean(out["r_hip"], out["l_hip"])
    return out


def _mean(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
