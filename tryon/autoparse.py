"""Auto-parse: a CIHP pseudo-parse map from a plain person photo, for try-on without a human-parse map.

Method. mediapipe 0.10.21 gives two things (``tryon/_mediapipe_worker.py``): a person-probability map
(selfie segmentation, general model) and 33 BlazePose body landmarks (pose, ``model_complexity=1``).
:func:`pseudo_parse` turns them into CIHP labels with fixed geometric rules and a few colour tests
(colours compared in RGB on a lightly smoothed copy of the photo):

* background: segmentation probability < 0.5 (exactly; every other pixel gets a body label);
* face: an ellipse on the eyes / mouth (size from the ear-to-ear distance, or 1.9x the eye-mouth distance
  when the head is turned), ending a little under the mouth; its part above the eyebrows whose colour is
  far from the skin colour (sampled between the eyes and the mouth, else on the hands) is hair (a fringe);
* hair: the person above the chin line, plus hair-coloured pixels (colour sampled above the face) beside
  the neck down to a little below the shoulders when that colour differs from the garment's;
* neck (``TORSO_SKIN``): a narrow band from the chin to just above the shoulder line, plus the
  skin-coloured pixels connected to it down to 0.6 shoulder widths below the shoulders (V-necks,
  off-shoulder and one-shoulder tops), which the garment polygon would otherwise claim;
* upper clothes: a polygon from the shoulders (widened, raised) to a line 0.3 shoulder widths above the
  hip landmarks, plus the person pixels between the chin line and that line that nothing else claims;
* arms: capsules shoulder -> elbow -> wrist minus the torso polygon; arm pixels closer in colour to the
  garment (sampled in the torso's core) than to the skin are sleeves (upper clothes). Hands: capsules from
  the wrist past the index / pinky landmarks and to the thumb, labelled as the arm, over everything but
  face and neck (CIHP has no hand class; :func:`tryon.data.labels.hands_mask` takes the distal end of
  each arm label, i.e. these pixels, so ``trunk_mask`` keeps the hands);
* below the garment line: ``PANTS``; where a shin is skin-coloured, the skin-coloured pixels of that leg
  are ``LEFT_LEG`` / ``RIGHT_LEG``; heel -> toe capsules are ``LEFT_SHOE`` / ``RIGHT_SHOE``.

The constants below were fitted on the 10 VITON-HD train persons of ``../shared/data/vton-samples``.
Agreement with the real parse maps (IoU, mean over persons; ``tests/test_autoparse.py`` checks them):
VITON-HD (16 persons) face 0.81, upper garment 0.73, background 0.975, ``trunk_mask`` 0.79; Dress Code
upper_body (10) garment 0.76, background 0.98, ``trunk_mask`` 0.81 (its crops cut the head at the nose
and its head label also covers the neck, which this map calls torso skin: "face" IoU 0.52 there).

Limits (read these before trusting it). It is a heuristic, not a human-parsing network: boundaries are
geometric guesses, so only the big regions are right, and small ones are rough (neck IoU about 0.5, arms
about 0.55, hair 0.6). It cannot tell a skirt from trousers (both ``PANTS``), a coat from a shirt, a bag
or a hat from the body; long hair over the shoulders of the garment's colour becomes upper clothes; the
garment's lower edge is a fixed line (tucked-in shirts, crop tops and long tops are off); arms crossed
over the torso become garment; a hand resting on the body may not be the distal end of its arm, so
``hands_mask`` can miss it; the colour tests fail on skin-coloured or strongly patterned garments (a
skin-coloured top's sleeves stay arms, beige trousers may become legs). It needs one upright person
whose face, shoulders and hips are found (mediapipe returns one pose; with several people it picks one,
and when the hips are outside the photo their landmarks are extrapolated); without a pose it raises
:class:`AutoParseError`. Photos are read without EXIF rotation, as everywhere in tryon. Made for
``upper_body`` try-on; for ``lower_body`` and ``dresses`` the lower garment is everything below the
garment line that is not bare skin or shoes.

mediapipe 0.10.21 needs numpy<2, so it lives in its own environment (``make mediapipe`` ->
``.venv-mediapipe``, ``requirements-mediapipe.txt``) and runs in a subprocess (one process per
:func:`run_mediapipe` call, about 1 s to start, then about 0.1 s per photo on CPU); when mediapipe imports
in this environment it runs in-process instead. ``$TRYON_MEDIAPIPE_PYTHON`` names another python to use.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from tryon import paths
from tryon.data.labels import CIHP

SOURCE = "mediapipe 0.10.21 (selfie segmentation + pose)"
ENV_VAR = "TRYON_MEDIAPIPE_PYTHON"
VENV_DIR = ".venv-mediapipe"
WORKER = Path(__file__).with_name("_mediapipe_worker.py")
HINT = "run `make mediapipe` to install the auto-parse environment, or pass --parse"

#: BlazePose landmark ids (mediapipe pose, 33 landmarks; left / right = the person's own side)
NOSE, L_EYE_IN, R_EYE_OUT, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 1, 6, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_HEEL, R_HEEL, L_FOOT, R_FOOT = 25, 26, 27, 28, 29, 30, 31, 32
N_LANDMARKS = 33
#: landmarks the pseudo-parse cannot do without (face, shoulders, hips)
REQUIRED = (*range(0, 13), L_HIP, R_HIP)

# geometry, in face sizes f (face) or body widths s (body); measured on the VITON-HD train persons
FACE_CENTER = 0.15  # ellipse centre below the eye midpoint (f)
FACE_AXES = (0.60, 0.77)  # half width, half height (f)
CHIN = 0.6  # chin line (hair above, garment below) under the mouth (eye-mouth distances)
FACE_BOTTOM = 0.8  # the face ends this far under the mouth (eye-mouth distances)
NECK_HALF_WIDTH = 0.40  # (f)
NECK_BOTTOM = 0.10  # neck ends this far above the shoulder line (s)
NECKLINE_DEPTH = 0.6  # skin connected to the neck is looked for down to this far below the shoulders (s)
NECKLINE_TOL = 100.0  # ... within this RGB distance of the skin colour (shadowed skin included)
NECKLINE_TOL_HIGH = 160.0  # ... above the shoulder line (deep shadow under the jaw)
NECKLINE_RATIO_HIGH = 2.0  # ... where it is skin unless clearly nearer to the garment's colour
NECKLINE_HALF_SPAN = 0.36  # ... within this distance of the body axis (s): between the upper arms
NECK_MIN_HALF_WIDTH = 0.15  # the neck band is at least this wide (s): when the face is cut off
NECKLINE_RATIO = 0.8  # ... and nearer to the skin than this x the distance to the garment colour
COLLAR = (0.25, 0.20)  # garment top corners beside the neck: lateral, above the shoulder line (s)
SHOULDER_OUT = (0.15, 0.08)  # garment corners at the shoulders: outwards, upwards (s)
HIP_OUT = 0.05  # garment corners at the hips: outwards (s)
GARMENT_BOTTOM = -0.3  # garment lower edge below the hip line (s)
ARM_RADIUS = (0.14, 0.11)  # upper arm, forearm (s)
HAND_RADIUS = 0.09  # (s)
HAND_REACH = 1.5  # hand capsule end: wrist + this x (mean of index / pinky - wrist)
FRINGE = 0.5  # above this (eye-mouth distances) over the eyes, non-skin face pixels are hair
HAIR_BELOW_SHOULDER = 0.3  # hair below the chin is looked for down to here (s)
HAIR_REACH = 1.3  # ... and this far beside the face axis (f)
HAIR_TOL = 60.0  # RGB distance from the hair colour
FOOT_RADIUS = 0.12  # shoe capsule heel -> toe (s)
LEG_RADIUS = 0.25  # leg capsule hip -> knee -> ankle, where bare skin is looked for (s)
LEG_MATCH = 80.0  # a shin this close to the skin colour is bare
LEG_TOL = 50.0  # RGB distance from the shin colour under which a leg pixel is bare skin
SKIN_TOL = 80.0  # RGB distance from the skin colour under which a pixel counts as skin
SLEEVE_RATIO = 0.5  # arm pixel is a sleeve when |c - garment| < this x |c - skin|


class AutoParseUnavailable(RuntimeError):
    """No mediapipe environment: the message says how to get one (or to pass a parse map)."""


class AutoParseError(ValueError):
    """mediapipe ran but an image gave no usable result (unreadable, no person, no pose, timeout)."""


# --------------------------------------------------------------------------------------------
# Finding mediapipe
# --------------------------------------------------------------------------------------------
def find_mediapipe_python() -> str | None:
    """The python of the mediapipe environment: ``$TRYON_MEDIAPIPE_PYTHON`` (a path or a command on
    PATH; set but not executable -> :class:`AutoParseUnavailable`), else ``<repo>/.venv-mediapipe/bin/
    python`` when it exists, else None."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        found = shutil.which(env)
        if found is None:
            raise AutoParseUnavailable(f"{ENV_VAR}={env}: not an executable python; {HINT}")
        return found
    default = Path(paths.ROOT) / VENV_DIR / "bin" / "python"
    if default.is_file() and os.access(default, os.X_OK):
        return str(default)
    return None


@functools.cache
def in_process_available() -> bool:
    """Whether mediapipe imports in this environment (normally not: it needs numpy<2)."""
    try:
        import mediapipe.python.solutions.pose  # noqa: F401
        import mediapipe.python.solutions.selfie_segmentation  # noqa: F401
    except Exception:  # ImportError, or a binary built against another numpy
        return False
    return True


def available() -> bool:
    """Whether :func:`run_mediapipe` can run (a mediapipe python is found, or mediapipe imports here)."""
    try:
        return find_mediapipe_python() is not None or in_process_available()
    except AutoParseUnavailable:
        return False


# --------------------------------------------------------------------------------------------
# Running mediapipe
# --------------------------------------------------------------------------------------------
def run_mediapipe(images, timeout: float | None = None) -> list[dict]:
    """Person segmentation + pose of each image (paths), in one mediapipe process.

    Returns one dict per image, in order: ``path`` (str), ``person`` float32 [H, W] (probability),
    ``landmarks`` float32 [33, 4] (x_px, y_px, z, visibility; NaN rows without a pose), ``pose_found``
    (bool), ``elapsed_s`` (float). ``timeout`` (s) defaults to 60 + 10 per image.
    Raises :class:`AutoParseUnavailable` without a mediapipe environment and :class:`AutoParseError`
    (one line naming the image) when an image fails."""
    images = [Path(p) for p in images]
    if not images:
        return []
    for p in images:
        if not p.is_file():
            raise AutoParseError(f"{p}: image not found")
    env_set = bool(os.environ.get(ENV_VAR, "").strip())
    python = find_mediapipe_python()
    if (not env_set or python is None) and in_process_available():
        return _run_in_process(images)
    if python is None:
        raise AutoParseUnavailable(f"mediapipe not found ({VENV_DIR}/ missing); {HINT}")
    return _run_subprocess(python, images, 60.0 + 10.0 * len(images) if timeout is None else timeout)


def _run_subprocess(python: str, images: list[Path], timeout: float) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="tryon-autoparse-") as tmp:
        outs = [Path(tmp) / f"{i:05d}.npz" for i in range(len(images))]
        job = json.dumps([[str(p.resolve()), str(o)] for p, o in zip(images, outs, strict=True)])
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.setdefault("OMP_NUM_THREADS", "1")
        # a Jupyter kernel sets MPLBACKEND to its inline backend, which mediapipe's matplotlib lacks
        env["MPLBACKEND"] = "Agg"
        what = f"{images[0]}" + (f" and {len(images) - 1} more" if len(images) > 1 else "")
        try:
            proc = subprocess.run(
                [python, "-I", str(WORKER), "--batch"],
                input=job,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise AutoParseError(f"{what}: mediapipe took longer than {timeout:g} s") from None
        except OSError as e:
            raise AutoParseUnavailable(f"cannot run {python} ({e.strerror or e}); {HINT}") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            errs = [ln for ln in lines if ln.startswith("error: ")]
            msg = (errs or lines or [f"exit status {proc.returncode}"])[-1].removeprefix("error: ")
            if msg.startswith("cannot import mediapipe") or "No module named" in msg:
                raise AutoParseUnavailable(f"{python}: {msg}; {HINT}")
            raise AutoParseError(f"mediapipe worker failed: {msg}" if what not in msg else msg)
        return [_load_npz(o, p) for o, p in zip(outs, images, strict=True)]


def _load_npz(path: Path, image: Path) -> dict:
    try:
        with np.load(path) as d:
            out = {
                "path": str(image),
                "person": d["person"].astype(np.float32),
                "landmarks": d["landmarks"].astype(np.float32),
                "pose_found": bool(d["pose_found"]),
                "elapsed_s": float(d["elapsed_s"]),
            }
    except (OSError, KeyError, ValueError) as e:
        raise AutoParseError(
            f"{image}: mediapipe worker wrote no usable result ({type(e).__name__})"
        ) from None
    if out["landmarks"].shape != (N_LANDMARKS, 4) or out["person"].ndim != 2:
        raise AutoParseError(f"{image}: mediapipe worker result has unexpected shapes")
    return out


@functools.cache
def _in_process_models():
    from tryon import _mediapipe_worker

    return _mediapipe_worker.Models()


def _run_in_process(images: list[Path]) -> list[dict]:
    import time

    from tryon import _mediapipe_worker as w

    models = _in_process_models()
    out = []
    for p in images:
        t0 = time.perf_counter()
        try:
            d = w.analyse(models, w.read_rgb(str(p)))
        except w.WorkerError as e:
            raise AutoParseError(f"{p}: {e}" if str(p) not in str(e) else str(e)) from None
        except Exception as e:
            raise AutoParseError(f"{p}: mediapipe failed ({type(e).__name__})") from None
        out.append(
            {
                "path": str(p),
                "person": d["person"].astype(np.float32),
                "landmarks": d["landmarks"],
                "pose_found": bool(d["pose_found"]),
                "elapsed_s": time.perf_counter() - t0,
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Pseudo-parse
# --------------------------------------------------------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-6 else np.array([0.0, 1.0])


def _box(shape, pts: np.ndarray, pad: float):
    """Slices of the image box holding ``pts`` [N, 2] (x, y) grown by ``pad``, and its pixel grids."""
    h, w = shape
    x0, y0 = np.floor(pts.min(0) - pad).astype(int)
    x1, y1 = np.ceil(pts.max(0) + pad).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.ogrid[y0:y1, x0:x1]
    return (slice(y0, y1), slice(x0, x1)), xs.astype(np.float32), ys.astype(np.float32)


def _capsule(shape, chain: np.ndarray, radius: float) -> np.ndarray:
    """bool [H, W]: pixels within ``radius`` of the polyline ``chain`` [N, 2] (x, y)."""
    out = np.zeros(shape, dtype=bool)
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        box = _box(shape, np.stack([a, b]), radius)
        if box is None:
            continue
        sl, xs, ys = box
        d = b - a
        L2 = float(d @ d)
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / L2, 0, 1) if L2 > 0 else 0.0
        px, py = xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1])
        out[sl] |= px * px + py * py <= radius * radius
    return out


def _ellipse(shape, centre: np.ndarray, down: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    """bool [H, W]: the ellipse with axes ``half_w`` across and ``half_h`` along ``down`` (unit)."""
    out = np.zeros(shape, dtype=bool)
    box = _box(shape, centre[None], max(half_w, half_h))
    if box is not None:
        sl, xs, ys = box
        dx, dy = xs - centre[0], ys - centre[1]
        v = dx * down[0] + dy * down[1]
        u = dx * down[1] - dy * down[0]
        out[sl] = (u / half_w) ** 2 + (v / half_h) ** 2 <= 1.0
    return out


def _polygon(shape, pts: np.ndarray) -> np.ndarray:
    h, w = shape
    im = Image.new("1", (w, h), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(im).polygon([(float(x), float(y)) for x, y in pts], fill=1)
    return np.asarray(im, dtype=bool)


def _smooth(rgb: np.ndarray) -> np.ndarray:
    """A lightly smoothed copy of ``rgb`` (box 6x6, via half resolution) for the colour tests: single
    pixels of texture or JPEG noise do not flip a label."""
    from scipy.ndimage import uniform_filter

    h, w = rgb.shape[:2]
    small = uniform_filter(np.ascontiguousarray(rgb[::2, ::2], dtype=np.uint8), size=(3, 3, 1))
    return np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)[:h, :w]


def _median_colour(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    if mask.sum() < 20:
        return None
    return np.median(rgb[mask].astype(np.float32), axis=0)


def _colour_dist(rgb: np.ndarray, mask: np.ndarray, *colours: np.ndarray) -> list[np.ndarray]:
    """RGB distances of the pixels in ``mask`` to each colour (float32 [n] each)."""
    px = rgb[mask].astype(np.float32)
    return [np.sqrt(np.einsum("ij,ij->i", px - c, px - c)) for c in colours]


def pseudo_parse(rgb, person_prob, landmarks, name: str = "image") -> np.ndarray:
    """CIHP label map uint8 [H, W] from an RGB uint8 [H, W, 3] photo, its person probability float
    [H, W] and its 33 pose landmarks float [33, 4] (x_px, y_px, z, visibility). See the module docstring
    for the rules and their limits. ``name`` (the image) goes into the one-line errors:
    :class:`AutoParseError` when no pose or no person was found."""
    rgb = np.asarray(rgb)
    prob = np.asarray(person_prob, dtype=np.float32)
    lm = np.asarray(landmarks, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or prob.shape != rgb.shape[:2]:
        raise AutoParseError(
            f"{name}: expected RGB [H, W, 3] and person probability [H, W] of the same size, got "
            f"{tuple(rgb.shape)} and {tuple(prob.shape)}"
        )
    if lm.shape != (N_LANDMARKS, 4):
        raise AutoParseError(f"{name}: expected pose landmarks [33, 4], got {tuple(lm.shape)}")
    if not np.isfinite(lm[list(REQUIRED), :2]).all():
        raise AutoParseError(f"no person pose found in {name}")
    shape = prob.shape
    person = prob >= 0.5
    if not person.any():
        raise AutoParseError(f"no person found in {name} (the segmentation is empty)")
    xy = lm[:, :2]
    # colour tests read a lightly smoothed copy (single pixels of texture or JPEG noise do not flip labels)
    colours = _smooth(rgb)

    # body frame: down = shoulders -> hips; s = body width (shoulder width, kept sane in side views)
    msh = (xy[L_SHOULDER] + xy[R_SHOULDER]) / 2
    mhip = (xy[L_HIP] + xy[R_HIP]) / 2
    down = _unit(mhip - msh)
    up = -down
    torso = float(np.hypot(*(mhip - msh)))
    s = max(float(np.hypot(*(xy[L_SHOULDER] - xy[R_SHOULDER]))), 0.6 * torso, 4.0)

    # face frame: down = eyes -> mouth; f = face size
    eye = xy[L_EYE_IN : R_EYE_OUT + 1].mean(0)
    mouth = (xy[MOUTH_L] + xy[MOUTH_R]) / 2
    dem = max(float(np.hypot(*(mouth - eye))), 1.0)
    fdown = _unit(mouth - eye)
    f = max(float(np.hypot(*(xy[L_EAR] - xy[R_EAR]))), 1.9 * dem)
    chin = mouth + fdown * CHIN * dem
    face_c = eye + fdown * FACE_CENTER * f

    ys, xs = np.ogrid[: shape[0], : shape[1]]
    xs, ys = xs.astype(np.float32), ys.astype(np.float32)

    along = {id(down): xs * np.float32(down[0]) + ys * np.float32(down[1])}
    along[id(fdown)] = xs * np.float32(fdown[0]) + ys * np.float32(fdown[1])

    def below(p: np.ndarray, d: np.ndarray = down) -> np.ndarray:  # bool [H, W]: past the line through p
        return along[id(d)] > np.float32(p @ d)

    below_chin = below(chin)
    below_garment = below(mhip + down * GARMENT_BOTTOM * s)

    # zones: head (hair) above the chin line, upper clothes down to the hip line, pants below
    lab = np.zeros(shape, dtype=np.uint8)
    lab[person] = CIHP.HAIR
    lab[person & below_chin] = CIHP.UPPER_CLOTHES
    lab[person & below_garment] = CIHP.PANTS

    # torso polygon (upper clothes)
    across = np.array([down[1], -down[0]])
    out_l, out_r = _unit(xy[L_SHOULDER] - msh), _unit(xy[R_SHOULDER] - msh)
    hip_l, hip_r = _unit(xy[L_HIP] - mhip), _unit(xy[R_HIP] - mhip)
    side_l = across if out_l @ across >= 0 else -across
    poly = np.stack(
        [
            msh - side_l * COLLAR[0] * s + up * COLLAR[1] * s,
            xy[R_SHOULDER] + out_r * SHOULDER_OUT[0] * s + up * SHOULDER_OUT[1] * s,
            xy[R_HIP] + hip_r * HIP_OUT * s + down * GARMENT_BOTTOM * s,
            xy[L_HIP] + hip_l * HIP_OUT * s + down * GARMENT_BOTTOM * s,
            xy[L_SHOULDER] + out_l * SHOULDER_OUT[0] * s + up * SHOULDER_OUT[1] * s,
            msh + side_l * COLLAR[0] * s + up * COLLAR[1] * s,
        ]
    )
    torso_m = _polygon(shape, poly) & person
    lab[torso_m] = CIHP.UPPER_CLOTHES

    # hands (wrist -> past the index / pinky, wrist -> thumb)
    hands = []
    for arm_label, (wr, pk, ix, th) in (
        (CIHP.LEFT_ARM, (L_WRIST, L_PINKY, L_INDEX, L_THUMB)),
        (CIHP.RIGHT_ARM, (R_WRIST, R_PINKY, R_INDEX, R_THUMB)),
    ):
        if np.isfinite(xy[[wr, pk, ix, th]]).all():
            tip = xy[wr] + HAND_REACH * (xy[[pk, ix]].mean(0) - xy[wr])
            hand = _capsule(shape, np.stack([xy[wr], tip]), HAND_RADIUS * s)
            hand |= _capsule(shape, np.stack([xy[wr], xy[th]]), 0.6 * HAND_RADIUS * s)
            hands.append((hand & person, arm_label))

    # colours: skin between the eyes and the mouth (else on the hands), garment in the torso's core
    # (when the photo cuts the face, as Dress Code's do at the nose, the skin is sampled on the neck)
    neck_end = msh - down * NECK_BOTTOM * s
    neck_r = max(NECK_HALF_WIDTH * f, NECK_MIN_HALF_WIDTH * s)
    neck = _capsule(shape, np.stack([chin, neck_end]), neck_r) & person & below_chin & ~below(neck_end)
    cheek = _ellipse(shape, (eye + mouth) / 2, fdown, 0.22 * f, 0.5 * dem) & person
    skin = _median_colour(colours, cheek) if cheek.sum() >= 200 else None
    if skin is None:
        skin = _median_colour(colours, neck)
    if skin is None and hands:
        skin = _median_colour(colours, np.logical_or.reduce([h for h, _ in hands]))
    ctr = (msh + mhip) / 2
    cloth = _median_colour(colours, _polygon(shape, ctr + (poly - ctr) * 0.5) & person)

    # arms: capsules minus the torso; pixels closer to the garment's colour than the skin's are sleeves
    for arm_label, (sh, el, wr) in (
        (CIHP.LEFT_ARM, (L_SHOULDER, L_ELBOW, L_WRIST)),
        (CIHP.RIGHT_ARM, (R_SHOULDER, R_ELBOW, R_WRIST)),
    ):
        if not np.isfinite(xy[[sh, el, wr]]).all():
            continue
        arm = _capsule(shape, xy[[sh, el]], ARM_RADIUS[0] * s)
        arm |= _capsule(shape, xy[[el, wr]], ARM_RADIUS[1] * s)
        arm &= person & ~torso_m
        lab[arm] = arm_label
        if skin is not None and cloth is not None and arm.any():
            d_skin, d_cloth = _colour_dist(colours, arm, skin, cloth)
            sleeve = (d_cloth < SLEEVE_RATIO * d_skin) & (d_skin > SKIN_TOL)
            lab[arm] = np.where(sleeve, np.uint8(CIHP.UPPER_CLOTHES), np.uint8(arm_label))

    # hair below the chin (long hair beside the neck): hair-coloured pixels near the head, down to a bit
    # below the shoulder line, when the hair colour (sampled above the face) differs from the garment's
    face_m = _ellipse(shape, face_c, fdown, FACE_AXES[0] * f, FACE_AXES[1] * f) & person
    crown = _ellipse(shape, face_c - fdown * FACE_AXES[1] * f, fdown, 0.5 * f, 0.3 * f) & person & ~face_m
    hair_c = _median_colour(colours, crown)
    if hair_c is not None and cloth is not None:
        near = person & below_chin & ~below(msh + down * HAIR_BELOW_SHOULDER * s)
        near &= np.abs((xs - face_c[0]) * fdown[1] - (ys - face_c[1]) * fdown[0]) < HAIR_REACH * f
        if near.any():
            d_hair, d_cloth = _colour_dist(colours, near, hair_c, cloth)
            hair = np.zeros(shape, dtype=bool)
            hair[near] = (d_hair < HAIR_TOL) & (d_hair < SLEEVE_RATIO * d_cloth)
            lab[hair] = CIHP.HAIR

    # below the garment: bare legs (skin-coloured, when the shin is), the feet are shoes
    low = person & below_garment & (lab == CIHP.PANTS)
    for leg_label, (hp, kn, an) in (
        (CIHP.LEFT_LEG, (L_HIP, L_KNEE, L_ANKLE)),
        (CIHP.RIGHT_LEG, (R_HIP, R_KNEE, R_ANKLE)),
    ):
        if skin is None or not np.isfinite(xy[[hp, kn, an]]).all():
            continue
        shin = _median_colour(colours, _capsule(shape, xy[[kn, an]], 0.05 * s) & low)
        if shin is None or np.linalg.norm(shin - skin) > LEG_MATCH:
            continue  # this leg is covered (trousers, tights) or not in the photo
        side = low & _capsule(shape, xy[[hp, kn, an]], LEG_RADIUS * s)
        if side.any():
            bare = np.zeros(shape, dtype=bool)
            bare[side] = _colour_dist(colours, side, shin)[0] < LEG_TOL
            lab[bare] = leg_label
    for shoe_label, (heel, toe) in ((CIHP.LEFT_SHOE, (L_HEEL, L_FOOT)), (CIHP.RIGHT_SHOE, (R_HEEL, R_FOOT))):
        if np.isfinite(xy[[heel, toe]]).all():
            lab[_capsule(shape, xy[[heel, toe]], FOOT_RADIUS * s) & person & below_garment] = shoe_label
    for hand, arm_label in hands:
        lab[hand] = arm_label

    # neck: a narrow band from the chin to just above the shoulder line (computed with the colours)
    lab[neck] = CIHP.TORSO_SKIN

    # bare skin at the neckline (V-necks, off-shoulder and one-shoulder tops): garment-labelled pixels
    # down to NECKLINE_DEPTH below the shoulder line whose colour is skin (near the skin colour, much
    # nearer to it than to the garment's; above the shoulder line, where a garment rarely is, unless
    # clearly nearer to the garment's, shadows included) and that connect to the neck are torso skin
    if skin is not None and neck.any():
        from scipy import ndimage

        zone = person & (lab == CIHP.UPPER_CLOTHES) & ~below(msh + down * NECKLINE_DEPTH * s)
        # between the shoulders, inside the upper arms (bare arms are the arms' business)
        zone &= np.abs((xs - msh[0]) * across[0] + (ys - msh[1]) * across[1]) < NECKLINE_HALF_SPAN * s
        if zone.any():
            d = _colour_dist(colours, zone, skin, *([cloth] if cloth is not None else []))
            high = ~below(msh)[zone]
            tol = np.where(high, NECKLINE_TOL_HIGH, NECKLINE_TOL)
            ratio = np.where(high, NECKLINE_RATIO_HIGH, NECKLINE_RATIO)
            bare = (d[0] < tol) & ((d[0] < ratio * d[1]) if len(d) > 1 else True)
            cand = np.zeros(shape, dtype=bool)
            cand[zone] = bare
            comps, _ = ndimage.label(cand | neck)
            touching = np.unique(comps[neck])
            lab[cand & np.isin(comps, touching[touching > 0])] = CIHP.TORSO_SKIN

    # face: the ellipse; above the eyebrows, pixels far from the skin colour are hair (a fringe)
    if skin is not None:
        upper = face_m & ~below(eye - fdown * FRINGE * dem, fdown)
        if upper.any():
            fringe = np.zeros(shape, dtype=bool)
            fringe[upper] = _colour_dist(colours, upper, skin)[0] > SKIN_TOL
            lab[fringe] = CIHP.HAIR
            face_m &= ~fringe
    lab[face_m & ~below(mouth + fdown * FACE_BOTTOM * dem, fdown)] = CIHP.FACE
    return lab


def auto_parse(image, name: str | None = None, found: dict | None = None) -> tuple[np.ndarray, dict]:
    """(CIHP parse uint8 [H, W], info) for a person photo (path, or RGB uint8 [H, W, 3]).

    ``found`` = a :func:`run_mediapipe` result for this image (skips running mediapipe). ``info`` holds
    ``source`` (:data:`SOURCE`), ``landmarks``, ``person_fraction`` and ``elapsed_s`` (mediapipe time)."""
    if isinstance(image, (str, os.PathLike)):
        from tryon.data import io

        path = Path(image)
        name = name or str(path)
        if found is None:
            found = run_mediapipe([path])[0]
        try:
            rgb = io.read_rgb(path)
        except io.DataError as e:
            raise AutoParseError(str(e)) from None
    else:
        rgb = np.asarray(image)
        name = name or "image"
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise AutoParseError(f"{name}: expected RGB uint8 [H, W, 3], got {rgb.dtype} {tuple(rgb.shape)}")
        if found is None:
            with tempfile.TemporaryDirectory(prefix="tryon-autoparse-") as tmp:
                png = Path(tmp) / "person.png"
                Image.fromarray(rgb).save(png)
                found = run_mediapipe([png])[0]
    if not found.get("pose_found", True):
        raise AutoParseError(f"no person pose found in {name}")
    parse = pseudo_parse(rgb, found["person"], found["landmarks"], name=name)
    info = {
        "source": SOURCE,
        "landmarks": np.asarray(found["landmarks"], dtype=np.float32),
        "person_fraction": float((parse != CIHP.BACKGROUND).mean()),
        "elapsed_s": float(found.get("elapsed_s", float("nan"))),
    }
    return parse, info


if __name__ == "__main__":  # pragma: no cover - manual check: python -m tryon.autoparse IMAGE OUT.png
    from tryon.data import io

    if len(sys.argv) != 3:
        sys.exit("usage: python -m tryon.autoparse IMAGE OUT.png")
    try:
        lab, _ = auto_parse(sys.argv[1])
    except (AutoParseUnavailable, AutoParseError) as e:
        sys.exit(f"error: {e}")
    io.write_png(sys.argv[2], lab, palette=True)
