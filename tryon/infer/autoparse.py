"""Auto-parse: a CIHP pseudo-parse map from a plain person photo, for try-on without a human-parse map.

Method. mediapipe 0.10.21 gives two things (``tryon/infer/_mediapipe_worker.py``): a person-probability map
(selfie segmentation, general model) and 33 BlazePose body landmarks (pose, ``model_complexity=1``).
:func:`pseudo_parse` (its rules and their constants live in :mod:`tryon.infer.parse_rules`) turns them
into CIHP labels with fixed geometric rules and a few colour tests (colours compared in RGB on a lightly
smoothed copy of the photo):

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

The constants were fitted on the 10 VITON-HD train persons of ``../shared/data/vton-samples``.
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

Two methods (:data:`METHODS`, ``tryon try-on --auto-parse``): ``parser``, the learned human parser
(:mod:`tryon.parser`, ``models/parser.pt``, :func:`learned_parse`), the default when that file exists
(:func:`default_method`), and ``mediapipe``, the rules above. Side by side on the real samples
(``python -m tryon.eval.parsers``, ``docs/experiments/2026-12-07_parser_vs_rules.json``, mean IoU over
persons against the true maps, rules -> parser): VITON-HD (16) ``agnostic_region`` 0.82 -> 0.88,
``keep_mask`` 0.91 -> 0.94, ``trunk_mask`` 0.72 -> 0.86, upper garment 0.73 -> 0.88, arms 0.57 -> 0.81;
but on Dress Code upper_body (10; full-length photos cut at the nose, unlike VITON's framing) the parser
is worse: ``agnostic_region`` 0.86 -> 0.60, ``trunk_mask`` 0.78 -> 0.50. For photos framed like Dress
Code, pass ``--auto-parse mediapipe``. The parser never predicts torso skin (10).

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

# the rules (pseudo_parse and AutoParseError are part of this module's interface)
from tryon.infer.parse_rules import N_LANDMARKS, AutoParseError, pseudo_parse

SOURCE = "mediapipe 0.10.21 (selfie segmentation + pose)"
#: the photo-only parse methods (``--auto-parse``): the learned parser, the mediapipe rules
METHODS = ("parser", "mediapipe")
#: the learned parser's checkpoint (model card: models/PARSER.md)
PARSER_PATH = Path(paths.ROOT) / "models" / "parser.pt"
ENV_VAR = "TRYON_MEDIAPIPE_PYTHON"
VENV_DIR = ".venv-mediapipe"
WORKER = Path(__file__).with_name("_mediapipe_worker.py")
HINT = "run `make mediapipe` to install the auto-parse environment, or pass --parse"


class AutoParseUnavailable(RuntimeError):
    """No mediapipe environment: the message says how to get one (or to pass a parse map)."""


# --------------------------------------------------------------------------------------------
# Choosing the method; the learned parser
# --------------------------------------------------------------------------------------------
def default_method() -> str:
    """``parser`` when :data:`PARSER_PATH` exists, else ``mediapipe``."""
    return "parser" if PARSER_PATH.is_file() else "mediapipe"


def resolve_method(method: str | None) -> str:
    """``method`` checked against :data:`METHODS`; None -> :func:`default_method`."""
    if method is None:
        return default_method()
    if method not in METHODS:
        raise ValueError(f"--auto-parse: expected one of {list(METHODS)}, got {method!r}")
    return method


def parser_source(path: str | os.PathLike | None = None) -> str:
    """The ``parse_source`` text of a parse made by the learned parser at ``path`` (None: :data:`PARSER_PATH`)."""
    return f"parser {Path(path or PARSER_PATH).name} (tryon.parser U-Net trained on VITON 256x192)"


@functools.cache
def _load_parser(path: str):
    from tryon.parser import Parser

    return Parser.load(path)


def learned_parser(path: str | os.PathLike | None = None):
    """The learned parser at ``path`` (None: :data:`PARSER_PATH`; a :class:`tryon.parser.Parser`, loaded
    once per path). A missing or unreadable checkpoint -> :class:`AutoParseUnavailable` (one line naming it)."""
    path = Path(path or PARSER_PATH)
    if not path.is_file():
        raise AutoParseUnavailable(
            f"{path}: parser checkpoint not found; pass --auto-parse mediapipe (after `make mediapipe`) "
            "or --parse"
        )
    try:
        return _load_parser(str(path.resolve()))
    except ValueError as e:
        raise AutoParseUnavailable(str(e).splitlines()[0]) from None


def learned_parse(rgb: np.ndarray, path: str | os.PathLike | None = None) -> tuple[np.ndarray, str]:
    """(CIHP parse uint8 [H, W], source text) of an RGB uint8 [H, W, 3] photo by the learned parser."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise AutoParseError(f"expected RGB uint8 [H, W, 3], got {rgb.dtype} {tuple(rgb.shape)}")
    return learned_parser(path)(rgb), parser_source(path)


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
    from tryon.infer import _mediapipe_worker

    return _mediapipe_worker.Models()


def _run_in_process(images: list[Path]) -> list[dict]:
    import time

    from tryon.infer import _mediapipe_worker as w

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


#: BlazePose landmark -> the OpenPose name of :mod:`tryon.data.pose` (both name the person's own sides)
BLAZEPOSE_NAMES = {
    0: "nose", 11: "l_shoulder", 12: "r_shoulder", 13: "l_elbow", 14: "r_elbow", 15: "l_wrist", 16: "r_wrist",
    23: "l_hip", 24: "r_hip", 25: "l_knee", 26: "r_knee", 27: "l_ankle", 28: "r_ankle",
}  # fmt: skip
#: a landmark below this visibility is left out
MIN_VISIBILITY = 0.5


def landmark_keypoints(landmarks: np.ndarray, min_visibility: float = MIN_VISIBILITY) -> dict:
    """BlazePose landmarks float [33, 4] (x_px, y_px, z, visibility; NaN rows: none) -> the keypoint dict of
    :func:`tryon.data.pose.read_keypoints` (every name; ``None`` where not seen). ``neck`` and ``mid_hip``
    are the middles of the shoulders and of the hips, where OpenPose puts them."""
    from tryon.data.pose import KEYPOINT_NAMES, midpoint

    lm = np.asarray(landmarks, dtype=np.float64)
    out: dict = dict.fromkeys(KEYPOINT_NAMES)
    for i, name in BLAZEPOSE_NAMES.items():
        x, y, _, vis = lm[i]
        if np.isfinite([x, y, vis]).all() and vis >= min_visibility:
            out[name] = (float(x), float(y))
    for mid, (a, b) in (("neck", ("r_shoulder", "l_shoulder")), ("mid_hip", ("r_hip", "l_hip"))):
        if out[a] is not None and out[b] is not None:
            out[mid] = midpoint(out[a], out[b])
    return out


def auto_keypoints(image: str | os.PathLike, found: dict | None = None) -> tuple[dict | None, str]:
    """(keypoints or None, what gave them) for a photo without a keypoint file, from mediapipe's pose
    (``found``: a :func:`run_mediapipe` result for it, else mediapipe runs). Never raises: without the
    mediapipe environment, or when no pose is found, the keypoints are None and the text says why."""
    try:
        found = found if found is not None else run_mediapipe([Path(image)])[0]
    except AutoParseUnavailable:
        return None, "none (mediapipe not installed: `make mediapipe`)"
    except (AutoParseError, OSError) as e:
        return None, f"none ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
    if not found.get("pose_found", True):
        return None, "none (mediapipe found no pose)"
    return landmark_keypoints(found["landmarks"]), "mediapipe 0.10.21 pose landmarks"


if __name__ == "__main__":  # pragma: no cover - manual check: python -m tryon.infer.autoparse IMAGE OUT.png
    from tryon.data import io

    if len(sys.argv) != 3:
        sys.exit("usage: python -m tryon.infer.autoparse IMAGE OUT.png")
    try:
        lab, _ = auto_parse(sys.argv[1])
    except (AutoParseUnavailable, AutoParseError) as e:
        sys.exit(f"error: {e}")
    io.write_png(sys.argv[2], lab, palette=True)
