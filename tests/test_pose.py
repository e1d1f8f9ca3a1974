"""The pose map (tryon.data.pose): keypoint files of the three layouts, bones drawn where the photo's joints
land in the working frame, the synthetic bodies' joints on their rendered arms, and the widened contour
generator that starts as the network it was widened from."""

import json

import numpy as np
import pytest
import torch

from tryon import paths
from tryon.data import labels, preprocess
from tryon.data.pose import POSE_BONES, POSE_CHANNELS, pose_map, read_keypoints, read_pose_map, to_square
from tryon.nets.contour import ContourGenerator, widen_inputs


def _coco18(path, points: dict[int, tuple[float, float]]):
    flat = []
    for i in range(18):
        x, y = points.get(i, (0.0, 0.0))
        flat += [x, y, 0.9 if i in points else 0.0]
    path.write_text(json.dumps({"people": [{"pose_keypoints": flat}]}))
    return path


def test_dresscode_keypoints_scale_to_the_photo(tmp_path):
    rows = [[-1.0, -1.0, 0.0, -1.0]] * 18
    rows[1] = [192.0, 100.0, 0.9, 1.0]  # neck at 384 x 512
    rows[2] = [150.0, 110.0, 0.9, 2.0]
    p = tmp_path / "x_2.json"
    p.write_text(json.dumps({"keypoints": rows}))
    kp = read_keypoints(p, image_size=(768, 1024))
    assert kp["neck"] == (384.0, 200.0) and kp["r_shoulder"] == (300.0, 220.0)
    assert kp["l_shoulder"] is None and kp["nose"] is None  # [-1, -1, 0, -1] is missing
    assert read_keypoints(p)["neck"] == (192.0, 100.0)  # no size: the file's own 384 x 512 frame


def test_bad_keypoint_files_fail_with_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keypoints": [[1, 2, 3, 4]] * 5}))
    with pytest.raises(ValueError, match="bad.json: 5 Dress Code keypoints, expected 18"):
        read_keypoints(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a readable JSON file"):
        read_pose_map(bad, (192, 256), 64)


def test_no_keypoints_is_an_empty_map(tmp_path):
    assert pose_map(None, (192, 256), 32).shape == (POSE_CHANNELS, 32, 32)
    assert pose_map(None, (192, 256), 32).abs().sum() == 0
    assert read_pose_map(tmp_path / "absent.json", (192, 256), 32).abs().sum() == 0
    # a bone with a missing end is not drawn
    assert pose_map({"r_shoulder": (10.0, 10.0), "r_elbow": None}, (192, 256), 32).abs().sum() == 0


def test_bones_land_where_the_photo_is_padded_and_resized(tmp_path):
    """A 192 x 256 photo is padded to 256 x 256 (32 columns each side) and resized: the forearm drawn from
    the file must lie on the pixels where a line drawn into the photo lands after preprocess.square."""
    w, h, size = 192, 256, 64
    elbow, wrist = (40.0, 100.0), (40.0, 180.0)  # a vertical forearm at column 40 of the photo
    path = _coco18(tmp_path / "p.json", {3: elbow, 4: wrist})
    m = read_pose_map(path, (w, h), size)
    forearms = [c for c, (name, _) in enumerate(POSE_BONES) if name == "forearms"][0]
    assert (
        m[forearms].amax() > 0.8 and m.sum() == m[forearms].sum()
    )  # only that channel (between pixel centres)
    photo = np.zeros((h, w), bool)
    photo[100:181, 39:42] = True
    sq, _ = preprocess.square(photo, size, "mask")
    on = m[forearms].numpy() > 0.5
    assert (on & sq).sum() >= 0.8 * sq.sum()  # the bone covers the line where the photo puts it
    cols = np.flatnonzero(on.any(axis=0))
    assert abs(cols.mean() - to_square(elbow, (w, h), size)[0]) < 0.6
    assert abs(to_square(elbow, (w, h), size)[0] - ((40 + 32 + 0.5) * size / 256 - 0.5)) < 1e-9


def test_the_mirrored_keypoints_draw_the_mirrored_map():
    """Both sides share a channel, so the data's left-right flip needs no channel swap."""
    w = h = 64
    kp = {"neck": (30.0, 12.0), "r_shoulder": (20.0, 14.0), "r_elbow": (15.0, 30.0), "r_wrist": (12.0, 44.0),
          "l_shoulder": (41.0, 14.0), "l_elbow": (49.0, 28.0), "r_hip": (24.0, 50.0)}  # fmt: skip
    swap = {"r_": "l_", "l_": "r_"}
    mirrored = {
        swap.get(k[:2], "") + k[2:] if k[:2] in swap else k: (w - 1 - x, y) for k, (x, y) in kp.items()
    }
    a, b = pose_map(kp, (w, h), w), pose_map(mirrored, (w, h), w)
    assert torch.allclose(a.flip(-1), b, atol=1e-5)


def test_synthetic_joints_lie_on_the_rendered_arms():
    """The joints re-drawn from the manifest's seed and index match the rendered body: elbows and wrists
    on its arm labels, shoulders near them, the neck between the shoulders."""
    from tryon.data.synthetic.sample import make_sample, sample_keypoints

    hits = 0
    for i in range(6):
        _, _, out = make_sample(0, "train", i, 128, shape_jitter=0.08)
        kp = sample_keypoints(0, "train", i, 128, 0.08)
        parse = out["parse"]
        assert kp["r_shoulder"][0] < kp["neck"][0] < kp["l_shoulder"][0]  # facing the camera
        for name in ("r_elbow", "l_elbow", "r_wrist", "l_wrist"):
            x, y = (int(round(v)) for v in kp[name])
            window = parse[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
            hits += bool(labels.isin(window, (*labels.ARMS, *labels.UPPER_GARMENT)).any())
    assert hits >= 23  # of 24: on the arm (bare or in its sleeve)


def test_the_network_reads_as_many_pose_channels_as_the_map_has():
    from tryon.nets import contour

    assert contour.POSE_CHANNELS == POSE_CHANNELS == len(POSE_BONES)


def test_widened_contour_generator_starts_as_the_old_one():
    torch.manual_seed(0)
    old = ContourGenerator(1, 3, 8, 3).eval()
    new = ContourGenerator(1, 3, 8, 3, pose_channels=POSE_CHANNELS).eval()
    state, widened = widen_inputs(old.state_dict(), new)
    assert sorted(widened) == ["enc.0.0.weight", "head.1.weight"]
    new.load_state_dict(state)
    body, trunk = torch.rand(2, 1, 32, 32), torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        a = old(body, trunk)["contour"]
        b = new(body, trunk, torch.rand(2, POSE_CHANNELS, 32, 32))["contour"]
        c = new(body, trunk)["contour"]  # no pose: an all-zero map
    assert torch.equal(a, b) and torch.equal(a, c)


def test_pose_dropout_empties_real_samples_only():
    from tryon.train.step import drop_pose

    b = {"pose": torch.ones(200, 3, 4, 4), "is_real": torch.arange(200) < 100}
    out = drop_pose(b, 0.5)
    dropped = out["pose"].flatten(1).amax(1) == 0
    assert not dropped[100:].any()  # synthetic samples keep theirs
    assert 30 <= int(dropped[:100].sum()) <= 70
    assert drop_pose(b, 0.0) is b


@pytest.mark.shared
def test_viton_keypoints_draw_the_arms(shared_samples):
    """On VITON photos the bones of the COCO-18 files lie on the arms and the upper garment of the true parse
    map (what the contour generator is told about the arms it cannot see)."""
    from tryon.data.io import read_rgb
    from tryon.data.vitonhd import load_parse

    root = paths.SHARED_VITON / "test"
    if not root.is_dir():
        pytest.skip(f"VITON not found at {paths.SHARED_VITON}")
    shares = []
    for pid in ("000001_0", "000010_0", "000020_0", "000038_0"):
        rgb = read_rgb(root / "image" / f"{pid}.jpg")
        h, w = rgb.shape[:2]
        parse = load_parse(root / "image-parse" / f"{pid}.png", "lip", (w, h))
        lab, _ = preprocess.square(parse, 64, "labels")
        m = read_pose_map(root / "pose" / f"{pid}_keypoints.json", (w, h), 64)
        arms = (m[0] + m[1]).numpy() > 0.5
        on_body = labels.isin(lab, (*labels.ARMS, *labels.UPPER_GARMENT, labels.CIHP.TORSO_SKIN))
        shares.append((arms & on_body).sum() / max(arms.sum(), 1))
    assert min(shares) > 0.7, shares


def test_blazepose_landmarks_become_openpose_names():
    from tryon.infer.autoparse import landmark_keypoints

    lm = np.full((33, 4), np.nan, np.float32)
    lm[11] = (60, 40, 0, 0.9)  # the person's left shoulder: the image's right
    lm[12] = (20, 42, 0, 0.9)
    lm[14] = (15, 70, 0, 0.9)
    lm[16] = (14, 95, 0, 0.2)  # barely visible: left out
    kp = landmark_keypoints(lm)
    assert (
        kp["l_shoulder"] == (60.0, 40.0)
        and kp["r_shoulder"] == (20.0, 42.0)
        and kp["r_elbow"] == (15.0, 70.0)
    )
    assert kp["neck"] == (40.0, 41.0) and kp["r_wrist"] is None and kp["mid_hip"] is None


@pytest.mark.shared
def test_mediapipe_keypoints_agree_with_the_openpose_files(shared_samples):
    """The photo-only route's keypoints (mediapipe's pose) land near VITON's OpenPose ones: shoulders,
    elbows and wrists within 8% of the photo's height in most cases."""
    from tryon.infer import autoparse

    if not autoparse.available():
        pytest.skip("the mediapipe environment is not installed (make mediapipe)")
    root = paths.SHARED_VITON / "test"
    if not root.is_dir():
        pytest.skip(f"VITON not found at {paths.SHARED_VITON}")
    ids = ("000001_0", "000010_0", "000020_0", "000038_0", "000057_0", "000097_0")
    found = autoparse.run_mediapipe([root / "image" / f"{i}.jpg" for i in ids])
    close = total = 0
    for pid, f in zip(ids, found, strict=True):
        ours = autoparse.landmark_keypoints(f["landmarks"])
        ref = read_keypoints(root / "pose" / f"{pid}_keypoints.json")
        for side in ("r_", "l_"):
            for joint in ("shoulder", "elbow", "wrist"):
                a, b = ours[side + joint], ref[side + joint]
                if a is None or b is None:
                    continue
                total += 1
                close += np.hypot(a[0] - b[0], a[1] - b[1]) < 0.08 * 256
    assert total >= 24 and close >= 0.8 * total, (close, total)


def test_the_benchmark_can_take_the_pose_from_elsewhere():
    """``tryon.eval.viton.benchmark(pose=...)``: ``none`` empties the keypoints, ``mediapipe`` maps its
    landmarks, a photo where mediapipe found no pose gets none; anything else is refused."""
    from tryon.eval import viton as V
    from tryon.infer.model import Inputs

    inp = Inputs(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), "", np.zeros((8, 8, 3), np.uint8),
                 np.ones((8, 8), bool), "t", keypoints={"neck": (1.0, 1.0)}, pose_source="keypoint file x")  # fmt: skip
    assert V._other_pose(inp, None, "none").keypoints is None
    lm = np.full((33, 4), np.nan, np.float32)
    lm[12] = (3, 4, 0, 1.0)
    got = V._other_pose(inp, {"landmarks": lm, "pose_found": True}, "mediapipe")
    assert got.keypoints["r_shoulder"] == (3.0, 4.0) and got.pose_source == V.POSE_SOURCES["mediapipe"]
    assert V._other_pose(inp, {"landmarks": lm, "pose_found": False}, "mediapipe").keypoints is None
    with pytest.raises(ValueError, match="pose: expected one of"):
        V.benchmark("absent.pt", ".", "absent.csv", pose="openpose")


def test_the_contour_stage_trains_on_the_pose_map():
    """Stage 03 keeps only the keys it trains on: the pose map must be one of them, or a pose model's
    contour generator learns from empty maps there."""
    from tryon.stages.contour import TRAIN_KEYS

    assert "pose" in TRAIN_KEYS
