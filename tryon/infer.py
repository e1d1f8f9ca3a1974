"""Try-on for users: a person photo, a flat garment photo and a body-shape text -> the try-on image at
the person photo's own size (the method's inference, [0207]-[0216]).

    from tryon.infer import TryOn
    tryon = TryOn("data/05_train/model.pt")
    res = tryon("person.jpg", "garment.jpg", "height 165cm, weight 50kg, pear, thin", parse="parse.png")
    res.image  # uint8 [H, W, 3], the person photo's size

or ``tryon try-on --person P.jpg --garment G.jpg --text "..." --checkpoint C --out O.png`` (see
:func:`register` for the batch form over a pairs file).

Steps: read and check the inputs -> trunk regions from a parse map (``parse=``, CIHP ids or Dress
Code ids) or, without one, from mediapipe (:mod:`tryon.autoparse`, an optional separate environment)
-> zero-pad to 1:1 and resize to the checkpoint's working size -> the network -> un-pad back to the
photo's size -> paste back. **Paste back**: the network works at a small square size (128 px by
default), far below a 768 x 1024 photo, so the result keeps the photo's own pixels wherever the try-on
changes nothing (the kept trunk regions: face, hair, neck, hands, the clothes not replaced, and the
background) and takes the network's image only in the replaced region (the old garment, the arms for
upper garments, and the new warped garment within :data:`GARMENT_REACH` of the person's silhouette),
with a feathered edge. ``paste_back=False`` returns the
network's image alone (un-padded), which is what the method outputs.

Every bad input raises :class:`InferError` whose message is one line naming the input; nothing is
written until every input has been read and the result computed, and files are written atomically.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tryon.data import io, labels, preprocess

#: accepted person / garment image sides (pixels)
MIN_SIDE = 64
MAX_SIDE = 8192
#: output formats (from the file suffix)
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
CATEGORIES = tuple(labels.CATEGORY_GARMENT)
#: how far (fraction of the padded square's side) the pasted garment may reach past the person's
#: silhouette: a looser garment than the old one fits, a stray warp does not cover the background
GARMENT_REACH = 0.04
LABELSETS = ("cihp", "dresscode")


class InferError(ValueError):
    """A bad try-on input; the message is one line and names the input."""


# --------------------------------------------------------------------------------------------
# Checkpoint
# --------------------------------------------------------------------------------------------
def load_model(path: str | os.PathLike, device: torch.device | str = "cpu"):
    """(model in eval mode, vocabulary, working image size) from a ``05_train/model.pt``.

    A missing file, a file that is not a checkpoint, a checkpoint of another stage (03/04 hold
    sub-networks only) or one whose weights do not fit its architecture -> one-line ``InferError``."""
    from tryon.stages.train import build_model
    from tryon.train import load_checkpoint

    path = Path(path)
    try:
        ck = load_checkpoint(path, device)
    except FileNotFoundError as e:
        raise InferError(str(e)) from None
    except ValueError as e:
        raise InferError(str(e)) from None
    if not isinstance(ck, dict) or not {"model", "architecture", "vocab"} <= set(ck):
        raise InferError(
            f"{path}: not a tryon model checkpoint (expected keys 'model', 'architecture' and 'vocab'; "
            "use data/05_train/model.pt)"
        )
    try:
        model = build_model(ck["architecture"])
        model.load_state_dict(ck["model"])
    except (KeyError, TypeError, RuntimeError, ValueError):
        raise InferError(
            f"{path}: checkpoint weights do not match its architecture (another architecture or a "
            "damaged file)"
        ) from None
    try:
        vocab = _vocab(ck["vocab"])
    except (KeyError, TypeError, ValueError):
        raise InferError(f"{path}: checkpoint holds no readable body-text vocabulary") from None
    size = int(ck.get("image_size") or _default_size())
    return model.to(device).eval(), vocab, size


def _vocab(d: dict):
    from tryon.text import Vocabulary

    return Vocabulary(**{k: v for k, v in d.items() if k != "layout"})


def _default_size() -> int:
    # checkpoints written before the image size was stored: the default working size
    from tryon.config import Base

    return Base().image_size


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
def check_image(path: str | os.PathLike, role: str) -> tuple[int, int]:
    """(W, H) of an image file, read from its header; one-line error when unreadable or out of size."""
    path = Path(path)
    if not path.is_file():
        raise InferError(f"{path}: {role} image not found")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as e:  # PIL raises many types for foreign files
        raise InferError(f"{path}: {role} image is not a readable image ({type(e).__name__})") from None
    if min(w, h) < MIN_SIDE or max(w, h) > MAX_SIDE:
        raise InferError(
            f"{path}: {role} image is {w}x{h}, expected each side between {MIN_SIDE} and {MAX_SIDE} px"
        )
    return w, h


def _read_rgb(path: Path, role: str) -> np.ndarray:
    check_image(path, role)
    try:
        return io.read_rgb(path)
    except io.DataError as e:
        raise InferError(f"{e} ({role} image)") from None


def read_parse(path: str | os.PathLike, size: tuple[int, int], labelset: str = "cihp") -> np.ndarray:
    """A parse map as CIHP ids at ``size`` = (W, H) of the person photo. A map of another size but
    the same aspect ratio (within 1%) is resized (nearest); otherwise a one-line error."""
    path = Path(path)
    if labelset not in LABELSETS:
        raise InferError(f"--parse-labels: expected one of {list(LABELSETS)}, got {labelset!r}")
    n = labels.N_CIHP if labelset == "cihp" else labels.N_DRESSCODE
    try:
        lab = io.read_labels(path, n)
    except io.DataError as e:
        raise InferError(f"{e} (parse map)") from None
    h, w = lab.shape
    if (w, h) != tuple(size):
        if abs(w / h - size[0] / size[1]) > 0.01 * size[0] / size[1]:
            raise InferError(
                f"{path}: parse map is {w}x{h}, expected the person photo's size {size[0]}x{size[1]} "
                "(or the same aspect ratio)"
            )
        lab = np.asarray(Image.fromarray(lab).resize(tuple(size), Image.NEAREST))
    return lab if labelset == "cihp" else labels.dresscode_to_cihp(lab, str(path))


@dataclass
class Inputs:
    """Everything one try-on needs, read and checked (arrays at their original sizes)."""

    person: np.ndarray  # uint8 [H, W, 3]
    parse: np.ndarray  # uint8 [H, W], CIHP ids
    parse_source: str  # which path made the parse map
    garment: np.ndarray  # uint8 [h, w, 3]
    garment_mask: np.ndarray  # bool [h, w]
    text: str
    category: str = "upper_body"
    name: str = ""
    strict_text: bool = True  # False: words outside the training vocabulary are encoded as unknown


@dataclass
class Result:
    """A try-on: ``image`` (uint8 [H, W, 3], the person photo's size) and what explains it."""

    image: np.ndarray
    network: np.ndarray  # the network's image alone, un-padded to [H, W, 3]
    warped: np.ndarray  # the warped garment, un-padded [H, W, 3] (grey outside its mask)
    contour: np.ndarray  # the generated model contour image, un-padded [H, W, 3]
    replaced: np.ndarray  # float32 [H, W] in [0, 1], where the network's image was pasted
    parse_source: str
    seconds: dict = field(default_factory=dict)


def garment_mask_of(rgb: np.ndarray, mask_path: str | os.PathLike | None) -> np.ndarray:
    """The garment's mask from a file, else estimated from the plain background of the photo."""
    if mask_path is None:
        m = preprocess.estimate_cloth_mask(rgb)
    else:
        try:
            m = io.read_mask(mask_path)
        except io.DataError as e:
            raise InferError(f"{e} (garment mask)") from None
        if m.shape != rgb.shape[:2]:
            raise InferError(
                f"{mask_path}: garment mask is {m.shape[1]}x{m.shape[0]}, expected the garment "
                f"photo's size {rgb.shape[1]}x{rgb.shape[0]}"
            )
    if m.mean() < 0.01:
        raise InferError(
            f"{mask_path or 'garment photo'}: garment mask covers {100 * m.mean():.2f}% of the image "
            "(expected a garment on a plain background, or pass --garment-mask)"
        )
    return m


# --------------------------------------------------------------------------------------------
# The predictor
# --------------------------------------------------------------------------------------------
class TryOn:
    """A loaded try-on network. ``TryOn(checkpoint)(person, garment, text, parse=None) -> Result``."""

    def __init__(self, checkpoint: str | os.PathLike, device: str = "cpu", num_threads: int = 0):
        from tryon import runtime

        runtime.set_threads(num_threads)
        self.device = runtime.resolve_device(device)
        self.checkpoint = Path(checkpoint)
        self.model, self.vocab, self.size = load_model(self.checkpoint, self.device)

    # ---- inputs ---------------------------------------------------------------------------
    def encode_text(self, text: str, strict: bool = True) -> torch.Tensor:
        """float32 [code_dim]; a text that cannot be read -> one-line ``InferError``. ``strict=False``
        encodes a body type or build outside the training vocabulary as unknown (estimated texts)."""
        from tryon.text import BodyTextError

        if not isinstance(text, str) or not text.strip():
            raise InferError("--text: empty body-shape text (e.g. 'height 165cm, weight 50kg, pear, thin')")
        try:
            return torch.from_numpy(self.vocab.encode(text, strict=strict))
        except BodyTextError as e:
            raise InferError(f"--text: {str(e).splitlines()[0]}") from None

    def read_inputs(
        self,
        person: str | os.PathLike,
        garment: str | os.PathLike,
        text: str,
        parse: str | os.PathLike | None = None,
        parse_labels: str = "cihp",
        garment_mask: str | os.PathLike | None = None,
        category: str = "upper_body",
        auto_parse: dict | None = None,
        strict_text: bool = True,
    ) -> Inputs:
        """Read and check every input (no network run). Without ``parse``, ``auto_parse`` (a result of
        :func:`tryon.autoparse.run_mediapipe` for this person) or mediapipe itself makes the parse map."""
        if category not in CATEGORIES:
            raise InferError(f"--category: expected one of {list(CATEGORIES)}, got {category!r}")
        self.encode_text(text, strict_text)  # fail on the text before any image work
        person, garment = Path(person), Path(garment)
        rgb = _read_rgb(person, "person")
        g = _read_rgb(garment, "garment")
        gm = garment_mask_of(g, garment_mask)
        h, w = rgb.shape[:2]
        if parse is not None:
            lab = read_parse(parse, (w, h), parse_labels)
            source = f"parse map {Path(parse).name} ({parse_labels} labels)"
        else:
            lab, source = _auto_parse(person, rgb, auto_parse)
        if not labels.trunk_mask(lab, category).any():
            raise InferError(f"{parse or person}: no person found in the parse map (every pixel is removed)")
        return Inputs(rgb, lab, source, g, gm, text, category, name=person.stem, strict_text=strict_text)

    # ---- the network ----------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, inp: Inputs, paste_back: bool = True) -> Result:
        t0 = time.perf_counter()
        S = self.size
        p = preprocess.preprocess_person(inp.person, inp.parse, S, inp.category)
        garment, gmask = preprocess.preprocess_garment(inp.garment, inp.garment_mask, S)
        code = self.encode_text(inp.text, inp.strict_text)
        t1 = time.perf_counter()
        dev = self.device
        out = self.model(
            code[None].to(dev), p["trunk"][None].to(dev), garment[None].to(dev), gmask[None].to(dev)
        )
        t2 = time.perf_counter()
        h, w = inp.person.shape[:2]
        pad, size = p["pad"].tolist(), (w, h)

        def back(x: torch.Tensor) -> torch.Tensor:  # [1, C, S, S] -> [C, H, W]
            return preprocess.unpad(x[0].float().cpu(), pad, size)

        net = back(out["tryon"])
        # the new garment may reach past the old silhouette, but only by GARMENT_REACH of the image
        body = (p["parse"] != labels.CIHP.BACKGROUND).float()[None, None]  # [1, 1, S, S]
        k = 2 * max(1, round(GARMENT_REACH * S)) + 1
        reach = torch.nn.functional.max_pool2d(body, k, stride=1, padding=k // 2)
        wmask = (back(out["warped_mask"])[0] > 0.5) & (back(reach.to(out["tryon"].device))[0] > 0.5)
        warped = back(out["warped"]) * wmask + (1 - wmask.float()) * 0.6  # grey outside the mask
        contour = back(out["contour"])
        replaced = replaced_region(inp.parse, wmask.numpy(), inp.category)
        net_rgb = preprocess.tensor_to_rgb(net)
        image = paste(inp.person, net_rgb, replaced) if paste_back else net_rgb
        t3 = time.perf_counter()
        return Result(
            image=image,
            network=net_rgb,
            warped=preprocess.tensor_to_rgb(warped),
            contour=preprocess.tensor_to_rgb(contour),
            replaced=replaced,
            parse_source=inp.parse_source,
            seconds={"preprocess": t1 - t0, "network": t2 - t1, "postprocess": t3 - t2},
        )

    def __call__(self, person, garment, text, paste_back: bool = True, **kw) -> Result:
        return self.predict(self.read_inputs(person, garment, text, **kw), paste_back)


def _auto_parse(person: Path, rgb: np.ndarray, found: dict | None) -> tuple[np.ndarray, str]:
    from tryon import autoparse

    try:
        if found is None:
            found = autoparse.run_mediapipe([person])[0]
        lab = autoparse.pseudo_parse(rgb, found["person"], found["landmarks"], name=str(person))
    except autoparse.AutoParseUnavailable as e:
        raise InferError(f"{person}: no --parse given and {e}") from None
    except ValueError as e:
        raise InferError(str(e).splitlines()[0]) from None
    return lab, autoparse.SOURCE


def replaced_region(parse: np.ndarray, warped_mask: np.ndarray, category: str) -> np.ndarray:
    """Where the try-on changes the photo, float32 [H, W] in [0, 1]: the old garment, the arms (upper
    garments and dresses: their visible part depends on the sleeves) and the new warped garment, minus
    the kept trunk regions, with an edge feathered over about 0.5% of the image height outside them."""
    from scipy import ndimage

    keep = labels.trunk_mask(parse, category)
    region = labels.category_garment_mask(parse, category) | warped_mask
    if category != "lower_body":
        region |= labels.isin(parse, labels.ARMS)
    region &= ~keep
    sigma = max(1.0, 0.005 * parse.shape[0])
    soft = ndimage.gaussian_filter(region.astype(np.float32), sigma)
    soft = np.maximum(soft, region)  # feather outwards only: the replaced region itself is whole
    soft[keep] = 0.0  # the kept regions are never touched
    return soft


def paste(photo: np.ndarray, network: np.ndarray, soft: np.ndarray) -> np.ndarray:
    """photo * (1 - soft) + network * soft, uint8 [H, W, 3]."""
    a = soft[..., None]
    return np.clip(np.rint(photo * (1 - a) + network * a), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------
def check_out(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InferError(f"--out {path}: expected a .png or .jpg file name")
    if path.is_dir():
        raise InferError(f"--out {path}: is a folder, expected a file name")
    return path


def save_image(path: str | os.PathLike, img: np.ndarray) -> Path:
    """Write uint8 [H, W, 3] atomically (a temp file renamed into place); format from the suffix."""
    path = check_out(path)
    fmt = FORMATS[path.suffix.lower()]
    im = Image.fromarray(img)
    kw = {"quality": 95} if fmt == "JPEG" else {"compress_level": 1}
    io._atomic_save(path, lambda t: im.save(t, format=fmt, **kw))
    return path


def sheet(inp: Inputs, res: Result, height: int = 512) -> np.ndarray:
    """Side-by-side sheet: person | garment | model contour | warped garment | try-on, with a caption
    (the text and which parse path was used). uint8 [height + caption, W, 3]."""
    from PIL import ImageDraw

    def fit(a: np.ndarray) -> Image.Image:
        im = Image.fromarray(a)
        return im.resize((max(1, round(im.width * height / im.height)), height), Image.BILINEAR)

    panels = [fit(a) for a in (inp.person, inp.garment, res.contour, res.warped, res.image)]
    names = ["person", "garment", "model contour", "warped garment", "try-on"]
    cap = 36
    W = sum(p.width for p in panels) + 4 * (len(panels) - 1)
    canvas = Image.new("RGB", (W, height + cap), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for p, n in zip(panels, names, strict=True):
        canvas.paste(p, (x, cap))
        draw.text((x + 4, 20), n, fill=(0, 0, 0))
        x += p.width + 4
    draw.text((4, 4), f"{inp.text}  |  trunk from: {res.parse_source}", fill=(0, 0, 0))
    return np.asarray(canvas)


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
    """SSIM (scikit-image, gaussian sigma 1.5, on [0, 1] RGB) of the face between a result and the
    input photo, over the bounding box of the face (CIHP face label of ``parse``; Dress Code's "head"
    label, which on its tight crops is chin, neck and bare shoulders).

    Default: only the face pixels are compared (the box's other pixels are taken from the photo in
    both images), so the garment that the try-on rightly replaces next to the face cannot lower it.
    ``crop=True``: the raw box (hair, background and, on close crops, some replaced garment too).
    ``neck_y``: keep only the face pixels above this row (Dress Code's head label also covers the neck
    and, on its crops, which cut the face at the nose, it is mostly neck; see :func:`neck_row`).
    NaN when the parse has no face."""
    from skimage.metrics import structural_similarity

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
    kw = dict(channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    return float(structural_similarity(a, b, **kw))


def image_ssim(image: np.ndarray, photo: np.ndarray) -> float:
    """Whole-image SSIM, same settings as :func:`face_ssim`."""
    from skimage.metrics import structural_similarity

    a, b = image.astype(np.float32) / 255, photo.astype(np.float32) / 255
    kw = dict(channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    return float(structural_similarity(a, b, **kw))


# --------------------------------------------------------------------------------------------
# Batch form over a pairs file (VITON-HD / Dress Code layout)
# --------------------------------------------------------------------------------------------
def dataset_records(root: str | os.PathLike, pairs: str = "all") -> list:
    """The pairs of a VITON-HD or Dress Code folder (``pairs``: paired | unpaired | all | a file)."""
    from tryon.data import dresscode, vitonhd
    from tryon.data.dataset import detect_layout

    root = Path(root)
    if not root.is_dir():
        raise InferError(f"--dataset {root}: folder not found")
    try:
        mod = {"vitonhd": vitonhd, "dresscode": dresscode}[detect_layout(root)]
        recs = mod.list_pairs(root, pairs)
    except io.DataError as e:
        raise InferError(str(e)) from None
    if not recs:
        raise InferError(f"--pairs {pairs}: no pairs listed in {root}")
    return recs


#: text_source of a body text estimated from the parse map (its words outside the training vocabulary
#: are encoded as unknown; a given or annotated text must use known words)
ESTIMATED = "estimated from the parse map"


def _record_text(rec, text: str | None, annotations, parse: np.ndarray) -> tuple[str, str]:
    from tryon.data.annotate import estimate_attributes

    if text:
        return text, "given"
    if annotations is not None and rec.person_id in annotations.index:
        return str(annotations.loc[rec.person_id, "text"]), "annotations"
    return str(estimate_attributes(parse)["text"]), ESTIMATED


def run_pairs(
    model: TryOn,
    records: list,
    out_dir: str | os.PathLike,
    text: str | None = None,
    annotations: str | os.PathLike | None = None,
    use_parse: bool = True,
    write_sheet: bool = False,
    paste_back: bool = True,
    progress=None,
    ext: str = ".png",
):
    """Try on every pair; writes ``<out_dir>/<person>__<garment>.png`` (and ``..._sheet.png``) and
    ``summary.csv`` (one row per pair: which parse path, the text and its source, seconds, face SSIM
    of the output and of the network's image alone against the photo, and for paired pairs the SSIM of
    the whole output against the photo, which shows the same person in the same garment).

    Every input is read and checked before anything is written. ``ext``: .png or .jpg (quality 95).
    Returns the summary DataFrame."""
    import pandas as pd

    from tryon.data.vitonhd import load_parse

    out_dir = Path(out_dir)
    ann = None
    if annotations is not None:
        from tryon.data.annotate import read_annotations

        try:
            ann = read_annotations(annotations)
        except (io.DataError, ValueError) as e:
            raise InferError(str(e).splitlines()[0]) from None
    found: dict = {}
    if not use_parse:
        from tryon import autoparse

        persons = sorted({str(r.person) for r in records})
        for p in persons:
            check_image(p, "person")
        try:
            found = dict(zip(persons, autoparse.run_mediapipe([Path(p) for p in persons]), strict=True))
        except autoparse.AutoParseUnavailable as e:
            raise InferError(f"--no-parse: {e}") from None
        except ValueError as e:
            raise InferError(str(e).splitlines()[0]) from None
    jobs = []
    for rec in records:  # read and check everything first
        gt_parse = None
        if Path(rec.parse).is_file():
            rgb_size = check_image(rec.person, "person")
            try:
                gt_parse = load_parse(rec.parse, rec.labelset, rgb_size)
            except (io.DataError, ValueError) as e:
                raise InferError(str(e).splitlines()[0]) from None
        elif use_parse:
            raise InferError(f"{rec.parse}: parse map not found (pass --no-parse to use mediapipe)")
        cmask = rec.cloth_mask if rec.cloth_mask is not None and Path(rec.cloth_mask).is_file() else None
        text_parse = gt_parse
        if text_parse is None and not text:  # estimate the body text from the automatic parse
            text_parse, _ = _auto_parse(Path(rec.person), io.read_rgb(rec.person), found.get(str(rec.person)))
        t, t_src = _record_text(rec, text, ann, text_parse)
        inp = model.read_inputs(
            rec.person,
            rec.cloth,
            t,
            parse=rec.parse if use_parse else None,
            parse_labels=rec.labelset,
            garment_mask=cmask,
            category=rec.category,
            auto_parse=found.get(str(rec.person)),
            strict_text=t_src != ESTIMATED,  # an estimate may name a body type the model never saw
        )
        jobs.append((rec, inp, gt_parse, t_src))
    rows = []
    for i, (rec, inp, gt_parse, t_src) in enumerate(jobs):
        t0 = time.perf_counter()
        res = model.predict(inp, paste_back)
        sec = time.perf_counter() - t0
        name = f"{rec.person_id}__{rec.cloth_id}"
        save_image(out_dir / f"{name}{ext}", res.image)
        if write_sheet:
            save_image(out_dir / f"{name}_sheet.png", sheet(inp, res))
        face_parse = gt_parse if gt_parse is not None else inp.parse
        neck = neck_row(rec.pose, inp.person.shape[0]) if rec.labelset == "dresscode" else None
        rows.append(
            {
                "pair": name,
                "person": rec.person_id,
                "garment": rec.cloth_id,
                "person_file": str(rec.person),
                "garment_file": str(rec.cloth),
                "category": rec.category,
                "mode": rec.mode,
                "parse_source": res.parse_source,
                "text": inp.text,
                "text_source": t_src,
                "width": res.image.shape[1],
                "height": res.image.shape[0],
                "same_size": res.image.shape == inp.person.shape,
                "seconds": round(sec, 4),
                "face_ssim": face_ssim(res.image, inp.person, face_parse, neck_y=neck),
                "face_crop_ssim": face_ssim(res.image, inp.person, face_parse, crop=True, neck_y=neck),
                "face_ssim_network": face_ssim(res.network, inp.person, face_parse, neck_y=neck),
                "ssim_vs_photo": image_ssim(res.image, inp.person) if rec.mode == "paired" else math.nan,
                "ssim_vs_photo_network": (
                    image_ssim(res.network, inp.person) if rec.mode == "paired" else math.nan
                ),
            }
        )
        if progress is not None:
            progress(i + 1, len(jobs), rows[-1])
    df = pd.DataFrame(rows)
    io._atomic_save(out_dir / "summary.csv", lambda t: df.to_csv(t, index=False))
    return df


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def register(sub) -> None:
    p = sub.add_parser(
        "try-on",
        help="try a garment on a person photo (or every pair of a VITON-HD / Dress Code folder)",
        description=(
            "Single: --person P --garment G --text T --out O.png. Batch: --dataset DIR --pairs "
            "{paired,unpaired,all,FILE} --out-dir DIR. Without a parse map (--parse, or --no-parse in "
            "the batch form) the trunk regions come from mediapipe (`make mediapipe`)."
        ),
    )
    p.add_argument("--checkpoint", default="data/05_train/model.pt", help="a 05_train model.pt")
    p.add_argument("--person", help="person photo (any size; padded to 1:1 and restored)")
    p.add_argument("--garment", help="flat garment photo on a plain background")
    p.add_argument("--text", help='body-shape text, e.g. "height 165cm, weight 50kg, pear, thin"')
    p.add_argument("--out", help="output image (.png or .jpg), the person photo's size")
    p.add_argument("--parse", help="human-parse label map of the person photo (CIHP ids by default)")
    p.add_argument("--parse-labels", choices=LABELSETS, default="cihp", help="label set of --parse")
    p.add_argument("--garment-mask", help="garment mask (default: estimated from the background)")
    p.add_argument("--category", choices=CATEGORIES, default="upper_body")
    p.add_argument("--dataset", help="batch: a VITON-HD or Dress Code folder")
    p.add_argument("--pairs", default="all", help="batch: paired | unpaired | all | a pairs file")
    p.add_argument("--out-dir", help="batch: output folder (images, sheets, summary.csv)")
    p.add_argument(
        "--annotations", help="batch: body-text CSV from `tryon annotate` (else --text or estimated)"
    )
    p.add_argument(
        "--no-parse", action="store_true", help="batch: ignore the dataset's parse maps (mediapipe)"
    )
    p.add_argument("--sheet", action="store_true", help="also write a side-by-side sheet with the warp")
    p.add_argument("--no-paste-back", action="store_true", help="output the network's image alone")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    batch = args.dataset is not None or args.out_dir is not None
    if batch:
        missing = [f"--{k.replace('_', '-')}" for k in ("dataset", "out_dir") if getattr(args, k) is None]
        extra = [f"--{k}" for k in ("person", "garment", "out", "parse") if getattr(args, k) is not None]
        if missing or extra:
            raise InferError(
                "batch form: needs --dataset and --out-dir"
                + (f" (missing {', '.join(missing)})" if missing else "")
                + (f"; {', '.join(extra)} belong to the single form" if extra else "")
            )
    else:
        missing = [f"--{k}" for k in ("person", "garment", "text", "out") if getattr(args, k) is None]
        if missing:
            raise InferError(f"try-on: missing {', '.join(missing)} (or use --dataset/--out-dir)")
        check_out(args.out)
        if args.no_parse:
            raise InferError(
                "--no-parse: batch form only (the single form uses mediapipe when --parse is absent)"
            )
    model = TryOn(args.checkpoint, args.device, args.threads)
    if batch:
        records = dataset_records(args.dataset, args.pairs)

        def show(i: int, n: int, row: dict) -> None:
            print(
                f"[{i}/{n}] {row['pair']}: face SSIM {row['face_ssim']:.3f}, {row['seconds']:.2f} s",
                flush=True,
            )

        df = run_pairs(
            model,
            records,
            args.out_dir,
            text=args.text,
            annotations=args.annotations,
            use_parse=not args.no_parse,
            write_sheet=args.sheet,
            paste_back=not args.no_paste_back,
            progress=show,
        )
        print(
            f"wrote {len(df)} try-ons to {args.out_dir} (summary.csv); trunk from: "
            f"{', '.join(sorted(set(df['parse_source'].str.split(' ').str[0])))}; "
            f"face SSIM min {df['face_ssim'].min():.3f}"
        )
        return 0
    inp = model.read_inputs(
        args.person,
        args.garment,
        args.text,
        parse=args.parse,
        parse_labels=args.parse_labels,
        garment_mask=args.garment_mask,
        category=args.category,
    )
    t0 = time.perf_counter()
    res = model.predict(inp, paste_back=not args.no_paste_back)
    sec = time.perf_counter() - t0
    out = save_image(args.out, res.image)
    msg = f"wrote {out} ({res.image.shape[1]}x{res.image.shape[0]}) in {sec:.2f} s; trunk from: {res.parse_source}"
    if args.sheet:
        sp = save_image(out.with_name(f"{out.stem}_sheet.png"), sheet(inp, res))
        msg += f"; sheet {sp}"
    print(msg)
    return 0
