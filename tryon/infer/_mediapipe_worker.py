"""Person segmentation + body pose with mediapipe 0.10.21, for ``tryon.infer.autoparse``.

Run by the python of ``.venv-mediapipe`` (``make mediapipe``): that env has numpy<2 and mediapipe but no
torch and no ``tryon``, so this file uses only the standard library, numpy, PIL and mediapipe.

    python _mediapipe_worker.py IN_IMAGE OUT.npz
    python _mediapipe_worker.py --batch < pairs.json     # [["in.jpg", "out.npz"], ...], one process

Each OUT.npz (written atomically: temp file, then ``os.replace``) holds
  ``person``     float16 [H, W]  selfie-segmentation person probability, at the image's size
  ``landmarks``  float32 [33, 4] BlazePose landmarks (x_px, y_px, z, visibility); NaN rows when no pose
  ``pose_found`` bool            whether a pose was found
  ``elapsed_s``  float64         seconds spent on this image (reading it + both models)

Models (both ship inside the mediapipe wheel; nothing is downloaded):
  * selfie segmentation, ``model_selection=0`` (the general model, 256x256 input). Model 1 is the
    landscape model (144x256, made for 16:9 video calls); try-on photos are portrait, full-body or
    half-body, which the square general model covers with less distortion.
  * pose, ``static_image_mode=True`` (every image is detected on its own), ``model_complexity=1`` (the
    "full" landmark model shipped in the wheel; complexity 2 would need a download).

The image is read as ``PIL.Image.open(path).convert("RGB")`` without EXIF rotation, the same way
``tryon.data.io.read_rgb`` reads it, so the outputs line up with the image tryon sees.
Errors: one line on stderr naming the image, exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np

N_LANDMARKS = 33
SELFIE_MODEL = 0
POSE_COMPLEXITY = 1


class WorkerError(RuntimeError):
    """A one-line failure naming the image."""


class Models:
    """The two mediapipe graphs, built once and reused for every image of a batch."""

    def __init__(self):
        try:
            from mediapipe.python.solutions import pose as mp_pose
            from mediapipe.python.solutions import selfie_segmentation as mp_selfie
        except ImportError as e:  # pragma: no cover - depends on the env
            raise WorkerError(f"cannot import mediapipe ({e}); run `make mediapipe`") from None
        self.selfie = mp_selfie.SelfieSegmentation(model_selection=SELFIE_MODEL)
        self.pose = mp_pose.Pose(
            static_image_mode=True, model_complexity=POSE_COMPLEXITY, enable_segmentation=False
        )

    def close(self) -> None:
        self.selfie.close()
        self.pose.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_rgb(path: str) -> np.ndarray:
    """RGB uint8 [H, W, 3] (as tryon.data.io.read_rgb: no EXIF rotation)."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.exists(path):
        raise WorkerError(f"{path}: file not found")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise WorkerError(f"{path}: not a readable image ({type(e).__name__})") from None


def analyse(models: Models, rgb: np.ndarray) -> dict:
    """Segmentation + pose of one RGB uint8 [H, W, 3] image -> the npz fields (without ``elapsed_s``)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 16:
        raise WorkerError(f"expected an RGB image of at least 16x16, got shape {tuple(rgb.shape)}")
    h, w = rgb.shape[:2]
    seg = models.selfie.process(rgb).segmentation_mask
    if seg is None or seg.shape[:2] != (h, w):
        raise WorkerError(f"selfie segmentation returned {None if seg is None else seg.shape}")
    person = np.clip(seg, 0.0, 1.0).astype(np.float16)
    lms = np.full((N_LANDMARKS, 4), np.nan, dtype=np.float32)
    res = models.pose.process(rgb).pose_landmarks
    found = res is not None
    if found:
        arr = np.array([(p.x, p.y, p.z, p.visibility) for p in res.landmark], dtype=np.float32)
        arr[:, 0] *= w
        arr[:, 1] *= h
        lms[: len(arr)] = arr[:N_LANDMARKS]
    return {"person": person, "landmarks": lms, "pose_found": np.bool_(found)}


def save_npz(path: str, fields: dict) -> None:
    """Write ``fields`` to ``path`` atomically (temp file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **fields)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_one(models: Models, src: str, dst: str) -> None:
    t0 = time.perf_counter()
    rgb = read_rgb(src)
    try:
        fields = analyse(models, rgb)
    except WorkerError as e:
        raise WorkerError(f"{src}: {e}") from None
    except Exception as e:  # mediapipe raises RuntimeError / ValueError with multi-line text
        msg = " ".join(str(e).split())[:200]
        raise WorkerError(f"{src}: mediapipe failed ({type(e).__name__}: {msg})") from None
    fields["elapsed_s"] = np.float64(time.perf_counter() - t0)
    try:
        save_npz(dst, fields)
    except OSError as e:
        raise WorkerError(f"{src}: cannot write {dst} ({e.strerror or e})") from None


def _read_batch(text: str) -> list[tuple[str, str]]:
    try:
        pairs = json.loads(text)
        out = [(str(a), str(b)) for a, b in pairs]
    except (ValueError, TypeError) as e:
        raise WorkerError(f'stdin: expected a JSON list of ["image", "out.npz"] pairs ({e})') from None
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--batch"]:
        try:
            pairs = _read_batch(sys.stdin.read())
        except WorkerError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    elif len(argv) == 2 and not argv[0].startswith("-"):
        pairs = [(argv[0], argv[1])]
    else:
        print("usage: _mediapipe_worker.py IN_IMAGE OUT.npz | --batch < pairs.json", file=sys.stderr)
        return 2
    err = _quiet_native_stderr()
    try:
        with Models() as models:
            for src, dst in pairs:
                run_one(models, src, dst)
    except WorkerError as e:
        print(f"error: {e}", file=err, flush=True)
        return 1
    except Exception as e:  # anything unexpected still ends as one line
        msg = " ".join(str(e).split())[:200]
        print(f"error: unexpected {type(e).__name__}: {msg}", file=err, flush=True)
        return 1
    return 0


def _quiet_native_stderr():
    """mediapipe's C++ side (glog / absl / TFLite) writes several info lines to fd 2 that no setting
    silences; point fd 2 at /dev/null and return a stream on the real stderr for the one error line.
    ``TRYON_MEDIAPIPE_DEBUG=1`` keeps the native logs."""
    if os.environ.get("TRYON_MEDIAPIPE_DEBUG"):
        return sys.stderr
    sys.stderr.flush()
    err = os.fdopen(os.dup(2), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    return err


if __name__ == "__main__":
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
