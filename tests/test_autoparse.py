"""tryon.infer.autoparse: the pseudo-parse rules on a synthetic person (always run), finding the mediapipe
environment, the subprocess error paths (with fake pythons), and, when ``make mediapipe`` was run and the
real samples are present, agreement with the real VITON-HD / Dress Code parse maps."""

import ast
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tryon import paths
from tryon.data import dresscode, io, labels, vitonhd
from tryon.data.labels import CIHP
from tryon.infer import autoparse as ap

ROOT = Path(ap.__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------
# A synthetic frontal person, 768 x 1024, with BlazePose landmarks (left = the person's left = image right)
# --------------------------------------------------------------------------------------------
H, W, CX = 1024, 768, 384
SKIN, HAIR_C, RED, BLUE, BLACK = (225, 180, 150), (60, 40, 30), (200, 30, 40), (40, 50, 150), (20, 20, 20)
SHOULDER_Y, HIP_Y, MOUTH_Y = 300, 580, 200


def _landmarks() -> np.ndarray:
    pts = {
        0: (0, 175),  # nose
        1: (15, 150), 2: (25, 150), 3: (35, 150), 4: (-15, 150), 5: (-25, 150), 6: (-35, 150),  # eyes
        7: (50, 165), 8: (-50, 165),  # ears
        9: (18, MOUTH_Y), 10: (-18, MOUTH_Y),  # mouth
        11: (110, SHOULDER_Y), 12: (-110, SHOULDER_Y),
        13: (135, 450), 14: (-135, 450),  # elbows
        15: (145, 590), 16: (-145, 590),  # wrists
        17: (150, 625), 18: (-150, 625), 19: (140, 630), 20: (-140, 630), 21: (130, 610), 22: (-130, 610),
        23: (75, HIP_Y), 24: (-75, HIP_Y),
        25: (70, 780), 26: (-70, 780), 27: (65, 960), 28: (-65, 960),  # knees, ankles
        29: (65, 985), 30: (-65, 985), 31: (85, 1000), 32: (-85, 1000),  # heels, toes
    }  # fmt: skip
    lm = np.zeros((33, 4), dtype=np.float32)
    for i, (dx, y) in pts.items():
        lm[i] = (CX + dx, y, 0.0, 0.99)
    return lm


def _capsule(mask, a, b, r):
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
    mask |= (xs - a[0] - t * d[0]) ** 2 + (ys - a[1] - t * d[1]) ** 2 <= r * r


def synthetic_person(long_sleeves=False, bare_legs=False):
    """(rgb uint8 [H, W, 3], person probability float32 [H, W], landmarks float32 [33, 4])."""
    lm = _landmarks()
    xy = lm[:, :2]
    ys, xs = np.mgrid[:H, :W]
    rgb = np.full((H, W, 3), 255, dtype=np.uint8)
    head = ((xs - CX) / 65.0) ** 2 + ((ys - 160) / 85.0) ** 2 <= 1
    neck = (np.abs(xs - CX) <= 30) & (ys >= 220) & (ys <= SHOULDER_Y)
    poly = Image.new("1", (W, H), 0)
    ImageDraw.Draw(poly).polygon([(CX - 130, 290), (CX + 130, 290), (CX + 95, 600), (CX - 95, 600)], fill=1)
    torso = np.asarray(poly, dtype=bool)
    arms, hands, legs, feet = (np.zeros((H, W), bool) for _ in range(4))
    for sh, el, wr, ix in ((11, 13, 15, 19), (12, 14, 16, 20)):
        _capsule(arms, xy[sh], xy[el], 28)
        _capsule(arms, xy[el], xy[wr], 24)
        _capsule(hands, xy[wr], xy[ix] + (xy[ix] - xy[wr]) * 0.3, 20)
    for hp, kn, an, he, to in ((23, 25, 27, 29, 31), (24, 26, 28, 30, 32)):
        _capsule(legs, xy[hp], xy[kn], 45)
        _capsule(legs, xy[kn], xy[an], 35)
        _capsule(feet, xy[he], xy[to], 18)
    legs &= ~torso
    rgb[legs] = BLUE
    if bare_legs:
        rgb[legs & (ys > 700)] = SKIN
    rgb[torso] = RED
    rgb[arms & ~torso] = RED if long_sleeves else SKIN
    rgb[hands] = SKIN
    rgb[feet] = BLACK
    rgb[neck] = SKIN
    rgb[head] = SKIN
    rgb[head & ((ys < 118) | (np.abs(xs - CX) > 52))] = HAIR_C
    person = head | neck | torso | arms | hands | legs | feet
    prob = np.where(person, 0.97, 0.02).astype(np.float32)
    return rgb, prob, lm


@pytest.fixture(scope="module")
def synth():
    rgb, prob, lm = synthetic_person()
    return rgb, prob, lm, ap.pseudo_parse(rgb, prob, lm, name="synthetic.jpg")


def _at(lab, x, y):
    return CIHP(int(lab[int(y), int(x)]))


def test_background_is_exactly_outside_the_person_mask(synth):
    rgb, prob, lm, lab = synth
    assert lab.dtype == np.uint8 and lab.shape == (H, W)
    np.testing.assert_array_equal(lab == CIHP.BACKGROUND, prob < 0.5)
    assert int(lab.max()) < labels.N_CIHP


def test_face_sits_on_the_face_landmarks_above_the_shoulders(synth):
    _, _, lm, lab = synth
    face = lab == CIHP.FACE
    assert _at(lab, CX, 175) == CIHP.FACE  # nose
    assert _at(lab, CX, MOUTH_Y) == CIHP.FACE
    ys, xs = np.nonzero(face)
    assert abs(xs.mean() - CX) < 5 and 140 < ys.mean() < 190
    assert ys.max() < SHOULDER_Y - 50  # the chin, not the chest
    ear_to_ear = lm[7, 0] - lm[8, 0]
    assert xs.max() - xs.min() <= 1.3 * ear_to_ear


def test_hair_above_the_face_and_the_fringe_by_colour(synth):
    _, _, _, lab = synth
    assert _at(lab, CX, 85) == CIHP.HAIR  # crown
    assert _at(lab, CX, 110) == CIHP.HAIR  # hair-coloured forehead inside the face ellipse
    assert not (lab[SHOULDER_Y:] == CIHP.HAIR).any()


def test_neck_is_a_narrow_band_between_chin_and_shoulders(synth):
    _, _, lm, lab = synth
    neck = lab == CIHP.TORSO_SKIN
    assert _at(lab, CX, 265) == CIHP.TORSO_SKIN
    ys, xs = np.nonzero(neck)
    assert ys.min() > MOUTH_Y and ys.max() <= SHOULDER_Y + 2  # the skin drawn down to the shoulder line
    high = ys < SHOULDER_Y - 12  # the colour tests blend a few rows at the garment's top edge
    assert xs[high].max() - xs[high].min() < lm[7, 0] - lm[8, 0]  # narrower than the head
    assert (lab[SHOULDER_Y + 5 :] != CIHP.TORSO_SKIN).all()  # no torso skin on the red top


def test_bare_skin_at_the_neckline_is_torso_skin_not_garment():
    """A V-neck (skin triangle from the neck into the garment) stays skin; a skin-coloured patch low on the
    garment, not connected to the neck, stays garment. Both are in the garment-agnostic region: the try-on
    paints them."""
    rgb, prob, lm = synthetic_person()
    ys, xs = np.mgrid[:H, :W]
    vneck = (
        (ys >= SHOULDER_Y - 12) & (ys <= SHOULDER_Y + 90) & (np.abs(xs - CX) <= (SHOULDER_Y + 90 - ys) * 0.4)
    )
    patch = (np.abs(ys - 500) <= 15) & (np.abs(xs - CX) <= 15)
    rgb[vneck | patch] = SKIN
    lab = ap.pseudo_parse(rgb, prob, lm, name="vneck.jpg")
    deep = vneck & (ys > SHOULDER_Y + 10) & (ys < SHOULDER_Y + 70)
    assert (lab[deep] == CIHP.TORSO_SKIN).mean() > 0.9
    assert (lab[patch] == CIHP.UPPER_CLOTHES).mean() > 0.9
    assert not labels.trunk_mask(lab)[deep].any()  # the neckline skin is painted (agnostic region)


def test_upper_garment_fills_the_torso_between_shoulders_and_hips(synth):
    _, _, _, lab = synth
    core = lab[330:520, CX - 80 : CX + 80]
    assert (core == CIHP.UPPER_CLOTHES).mean() > 0.95
    ys, _ = np.nonzero(lab == CIHP.UPPER_CLOTHES)
    assert ys.min() > MOUTH_Y and ys.max() < HIP_Y + 10


def test_arms_on_the_persons_own_side_and_hands_are_arm_labels(synth):
    _, _, lm, lab = synth
    assert _at(lab, CX + 140, 520) == CIHP.LEFT_ARM  # person's left forearm = image right
    assert _at(lab, CX - 140, 520) == CIHP.RIGHT_ARM
    assert _at(lab, *lm[19, :2]) == CIHP.LEFT_ARM  # index finger: hand, below the hip line
    assert _at(lab, *lm[20, :2]) == CIHP.RIGHT_ARM


def test_hands_are_kept_by_trunk_mask_and_the_arms_removed(synth):
    _, _, lm, lab = synth
    keep = labels.trunk_mask(lab, "upper_body")
    hands = labels.hands_mask(lab)
    for i in (19, 20):  # index fingers
        x, y = lm[i, :2].astype(int)
        assert hands[y, x] and keep[y, x]
    assert not keep[520, CX + 140] and not keep[520, CX - 140]  # forearms go with the old garment
    assert not keep[430, CX]  # the garment itself
    assert keep[175, CX] and keep[700, CX + 70]  # face, lower body
    assert not keep[265, CX]  # the neck: in the garment-agnostic region


def test_lower_body_pants_then_bare_legs_and_shoes_by_colour(synth):
    _, _, lm, lab = synth
    assert _at(lab, CX + 70, 700) == CIHP.PANTS
    assert _at(lab, CX - 68, 880) == CIHP.PANTS  # blue trousers down to the ankle
    assert _at(lab, *lm[31, :2]) == CIHP.LEFT_SHOE
    assert _at(lab, *lm[32, :2]) == CIHP.RIGHT_SHOE
    rgb, prob, lm = synthetic_person(bare_legs=True)
    bare = ap.pseudo_parse(rgb, prob, lm)
    assert _at(bare, CX + 68, 880) == CIHP.LEFT_LEG and _at(bare, CX - 68, 880) == CIHP.RIGHT_LEG
    assert _at(bare, CX + 70, 650) == CIHP.PANTS  # the shorts stay pants


def test_long_sleeves_are_garment_but_hands_stay_arms():
    rgb, prob, lm = synthetic_person(long_sleeves=True)
    lab = ap.pseudo_parse(rgb, prob, lm)
    assert _at(lab, CX + 140, 520) == CIHP.UPPER_CLOTHES
    assert _at(lab, CX - 140, 520) == CIHP.UPPER_CLOTHES
    assert _at(lab, *lm[19, :2]) == CIHP.LEFT_ARM
    assert labels.hands_mask(lab)[int(lm[19, 1]), int(lm[19, 0])]


def test_shifting_the_photo_shifts_the_parse(synth):
    rgb, prob, lm, lab = synth
    dx, dy = -40, 20  # even shifts keep the half-resolution colour smoothing aligned
    rgb2 = np.full_like(rgb, 255)
    prob2 = np.zeros_like(prob)
    rgb2[dy:, : W + dx] = rgb[: H - dy, -dx:]
    prob2[dy:, : W + dx] = prob[: H - dy, -dx:]
    lm2 = lm.copy()
    lm2[:, 0] += dx
    lm2[:, 1] += dy
    lab2 = ap.pseudo_parse(rgb2, prob2, lm2)
    assert (lab2[dy:, : W + dx] == lab[: H - dy, -dx:]).mean() > 0.995


def test_no_pose_is_a_one_line_error_naming_the_image(synth):
    rgb, prob, lm, _ = synth
    with pytest.raises(ap.AutoParseError, match=r"^no person pose found in photo\.jpg$"):
        ap.pseudo_parse(rgb, prob, np.full((33, 4), np.nan, np.float32), name="photo.jpg")
    no_hips = lm.copy()
    no_hips[23] = np.nan
    with pytest.raises(ap.AutoParseError, match="no person pose found in photo.jpg"):
        ap.pseudo_parse(rgb, prob, no_hips, name="photo.jpg")
    with pytest.raises(ap.AutoParseError, match="no person found in photo.jpg"):
        ap.pseudo_parse(rgb, np.zeros_like(prob), lm, name="photo.jpg")


def test_bad_shapes_are_one_line_errors(synth):
    rgb, prob, lm, _ = synth
    with pytest.raises(ap.AutoParseError, match="same size") as e:
        ap.pseudo_parse(rgb, prob[:-1], lm, name="p.jpg")
    assert "\n" not in str(e.value)
    with pytest.raises(ap.AutoParseError, match=r"landmarks \[33, 4\], got \(17, 4\)"):
        ap.pseudo_parse(rgb, prob, lm[:17], name="p.jpg")


# --------------------------------------------------------------------------------------------
# Finding the environment; the subprocess error paths with fake pythons
# --------------------------------------------------------------------------------------------
def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No TRYON_MEDIAPIPE_PYTHON, an empty repo root, and mediapipe not importable in-process."""
    monkeypatch.delenv(ap.ENV_VAR, raising=False)
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setattr(ap, "in_process_available", lambda: False)
    return tmp_path


def test_find_mediapipe_python_env_var_then_repo_venv_then_none(no_env, monkeypatch):
    assert ap.find_mediapipe_python() is None
    venv_py = _script(no_env / ".venv-mediapipe" / "bin" / "python", "exit 0")
    assert ap.find_mediapipe_python() == str(venv_py)
    other = _script(no_env / "elsewhere" / "python3", "exit 0")
    monkeypatch.setenv(ap.ENV_VAR, str(other))
    assert ap.find_mediapipe_python() == str(other)  # the variable wins over the repo's venv
    monkeypatch.setenv(ap.ENV_VAR, "  ")
    assert ap.find_mediapipe_python() == str(venv_py)  # blank = unset


def test_env_var_pointing_nowhere_is_a_clear_error(no_env, monkeypatch):
    monkeypatch.setenv(ap.ENV_VAR, str(no_env / "missing" / "python"))
    with pytest.raises(ap.AutoParseUnavailable, match=r"TRYON_MEDIAPIPE_PYTHON=.*missing.*make mediapipe"):
        ap.find_mediapipe_python()
    assert not ap.available()


def test_run_mediapipe_without_an_environment_says_make_mediapipe(no_env):
    img = no_env / "p.png"
    Image.new("RGB", (32, 32)).save(img)
    with pytest.raises(ap.AutoParseUnavailable) as e:
        ap.run_mediapipe([img])
    msg = str(e.value)
    assert "make mediapipe" in msg and "--parse" in msg and "\n" not in msg


def test_run_mediapipe_missing_image_names_it(no_env):
    with pytest.raises(ap.AutoParseError, match=r"nope\.jpg: image not found"):
        ap.run_mediapipe([no_env / "nope.jpg"])


def test_worker_failure_becomes_one_line_naming_the_image(no_env, monkeypatch):
    img = no_env / "p.png"
    Image.new("RGB", (32, 32)).save(img)
    fake = _script(
        no_env / "fake" / "python",
        f"cat >/dev/null; echo 'W0000 native log noise' >&2; echo 'error: {img}: not a readable image' >&2; exit 1",
    )
    monkeypatch.setenv(ap.ENV_VAR, str(fake))
    with pytest.raises(ap.AutoParseError) as e:
        ap.run_mediapipe([img])
    assert str(e.value) == f"{img}: not a readable image"


def test_worker_timeout_is_an_error(no_env, monkeypatch):
    img = no_env / "p.png"
    Image.new("RGB", (32, 32)).save(img)
    monkeypatch.setenv(ap.ENV_VAR, str(_script(no_env / "slow" / "python", "exec sleep 5")))
    t0 = time.perf_counter()
    with pytest.raises(ap.AutoParseError, match=r"p\.png: mediapipe took longer than 0\.3 s"):
        ap.run_mediapipe([img], timeout=0.3)
    assert time.perf_counter() - t0 < 4


def test_worker_env_without_mediapipe_is_unavailable(no_env, monkeypatch):
    img = no_env / "p.png"
    Image.new("RGB", (32, 32)).save(img)
    import importlib.util

    if importlib.util.find_spec("mediapipe") is not None:
        pytest.skip("mediapipe is installed in the main environment")
    monkeypatch.setenv(ap.ENV_VAR, sys.executable)  # this env's python: no mediapipe here
    with pytest.raises(ap.AutoParseUnavailable, match="cannot import mediapipe.*make mediapipe"):
        ap.run_mediapipe([img])


def test_worker_uses_only_stdlib_numpy_pil_mediapipe():
    tree = ast.parse(ap.WORKER.read_text())
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods.add((node.module or "").split(".")[0])
    third_party = mods - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"numpy", "PIL", "mediapipe"}


def test_mediapipe_requirements_are_pinned_and_apart_from_the_default_install():
    def pins(name):
        out = {}
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                pkg, _, ver = line.partition("==")
                assert ver, f"{name}: unpinned requirement {line!r}"
                out[pkg.lower()] = ver
        return out

    mp = pins("requirements-mediapipe.txt")
    assert mp["mediapipe"] == "0.10.21"
    assert mp["numpy"].startswith("1.26.")
    assert "pillow" in mp
    main = pins("requirements.txt")
    assert "mediapipe" not in main and main["numpy"].startswith("2.")
    assert ".venv-mediapipe/" in (ROOT / ".gitignore").read_text().splitlines()


# --------------------------------------------------------------------------------------------
# The real worker (needs `make mediapipe`) on the real samples (needs ../shared/data/vton-samples)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mp_python():
    try:
        py = ap.find_mediapipe_python()
    except ap.AutoParseUnavailable as e:
        pytest.skip(f"mediapipe env unusable: {e}")
    if py is None:
        pytest.skip("mediapipe env missing: run `make mediapipe`")
    return py


def _iou(a, b):
    return float((a & b).sum() / max((a | b).sum(), 1))


# IoU with the real parse maps, measured on the samples (mean over persons, worst person in brackets):
#   VITON-HD (16):             face 0.81 (0.69), upper garment 0.73 (0.47), background 0.975 (0.92),
#                              trunk_mask 0.78 (0.52)
#   Dress Code upper_body (10): face+neck 0.62 (0.42) (its "head" label holds the neck), upper garment
#                              0.76 (0.58), background 0.98 (0.96), trunk_mask 0.81 (0.75)
# thresholds: (mean, worst person), with a margin of about 0.1 below the measured figures
THRESHOLDS = {
    "vitonhd": {
        "face": (0.72, 0.58),
        "garment": (0.63, 0.35),
        "background": (0.95, 0.85),
        "trunk": (0.68, 0.40),
    },
    "dresscode": {
        "face": (0.52, 0.30),
        "garment": (0.66, 0.45),
        "background": (0.95, 0.90),
        "trunk": (0.70, 0.60),
    },
}


@pytest.fixture(scope="module")
def real_parses(mp_python):
    """(subset, person id, pseudo parse, real parse) for the VITON-HD persons and the Dress Code
    upper_body persons, from one worker run."""
    root = paths.SHARED_SAMPLES
    if not root.is_dir():
        pytest.skip(f"real samples not found at {root} (only present beside the CI checkout)")
    items = [("vitonhd", *p) for p in vitonhd.list_persons(root / "vitonhd")]
    cats = dresscode.categories(root / "dresscode")
    items += [
        ("dresscode", *p)
        for p in dresscode.list_persons(root / "dresscode")
        if cats.get(p[1].name, "upper_body") == "upper_body"
    ]
    found = ap.run_mediapipe([it[2] for it in items])
    out = []
    for (subset, pid, img, ppath, labelset), res in zip(items, found, strict=True):
        assert res["pose_found"], f"{img}: no pose"
        pseudo = ap.pseudo_parse(io.read_rgb(img), res["person"], res["landmarks"], name=str(img))
        out.append((subset, pid, pseudo, vitonhd.load_parse(ppath, labelset)))
    return out


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("subset", ["vitonhd", "dresscode"])
def test_pseudo_parse_agrees_with_the_real_parse_maps(shared_samples, real_parses, subset):
    face_ids = (CIHP.FACE,) if subset == "vitonhd" else (CIHP.FACE, CIHP.TORSO_SKIN)
    limits = THRESHOLDS[subset]
    scores = {k: [] for k in limits}
    for sub, pid, pseudo, real in real_parses:
        if sub != subset:
            continue
        s = {
            "face": _iou(labels.isin(pseudo, face_ids), labels.isin(real, face_ids)),
            "garment": _iou(labels.garment_mask(pseudo), labels.garment_mask(real)),
            "background": _iou(pseudo == CIHP.BACKGROUND, real == CIHP.BACKGROUND),
            "trunk": _iou(labels.trunk_mask(pseudo), labels.trunk_mask(real)),
        }
        for k, v in s.items():
            assert v >= limits[k][1], f"{subset} {pid}: {k} IoU {v:.3f} < {limits[k][1]}"
            scores[k].append(v)
    assert len(scores["face"]) >= 10
    for k, vals in scores.items():
        assert np.mean(vals) >= limits[k][0], f"{subset}: mean {k} IoU {np.mean(vals):.3f} < {limits[k][0]}"


@pytest.mark.shared
def test_worker_contract_on_a_real_photo(shared_samples, mp_python, tmp_path):
    img = shared_samples / "vitonhd" / "image" / "00000_00.jpg"
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 400), (255, 255, 255)).save(blank)
    person, empty, again = ap.run_mediapipe([img, blank, img])  # one process; duplicates allowed
    h, w = io.read_rgb(img).shape[:2]
    assert person["person"].shape == (h, w) and person["person"].dtype == np.float32
    assert person["landmarks"].shape == (33, 4) and person["pose_found"] is True
    assert np.isfinite(person["landmarks"]).all()
    nose, l_sh, r_sh, l_hip = (person["landmarks"][i, :2] for i in (0, 11, 12, 23))
    assert nose[1] < l_sh[1] < l_hip[1] and l_sh[0] > r_sh[0]  # upright, facing the camera
    assert 0.2 < (person["person"] >= 0.5).mean() < 0.8
    np.testing.assert_array_equal(person["landmarks"], again["landmarks"])
    assert empty["pose_found"] is False and np.isnan(empty["landmarks"]).all()
    parse, info = ap.auto_parse(img, found=person)
    assert info["source"] == ap.SOURCE == "mediapipe 0.10.21 (selfie segmentation + pose)"
    assert parse.shape == (h, w) and (parse == CIHP.FACE).any()
    with pytest.raises(ap.AutoParseError, match=r"^no person pose found in .*blank\.png$"):
        ap.auto_parse(blank, found=empty)


@pytest.mark.shared
def test_worker_runs_from_a_jupyter_kernel(shared_samples, mp_python, monkeypatch):
    """A notebook kernel exports MPLBACKEND=module://matplotlib_inline...; the worker's matplotlib
    (imported by mediapipe) has no such backend and must not see it (stage 06 runs in papermill)."""
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    (found,) = ap.run_mediapipe([shared_samples / "vitonhd" / "image" / "00000_00.jpg"])
    assert found["pose_found"] is True


@pytest.mark.shared
def test_worker_cli_one_error_line_and_atomic_output(shared_samples, mp_python, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    r = subprocess.run(
        [mp_python, "-I", str(ap.WORKER), str(bad), str(tmp_path / "o.npz")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"error: {bad}: not a readable image (UnidentifiedImageError)"]
    job = json.dumps([[str(shared_samples / "vitonhd" / "image" / "00000_00.jpg"), str(tmp_path / "ok.npz")]])
    r = subprocess.run(
        [mp_python, "-I", str(ap.WORKER), "--batch"],
        input=job,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # native mediapipe logs are silenced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg", "ok.npz"]  # no temp files left
    with np.load(tmp_path / "ok.npz") as d:
        assert d["person"].dtype == np.float16 and d["landmarks"].dtype == np.float32
        assert d["pose_found"].dtype == bool and bool(d["pose_found"])
