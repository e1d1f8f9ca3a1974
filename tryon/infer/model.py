"""The try-on model wrapper: a person photo, a flat garment photo and a body-shape text -> the try-on
image at the person photo's own size (the method's inference, [0207]-[0216]).

    from tryon.infer import TryOn
    tryon = TryOn("data/05_train/model.pt")
    res = tryon("person.jpg", "garment.jpg", "height 165cm, weight 50kg, pear, thin", parse="parse.png")
    res.image  # uint8 [H, W, 3], the person photo's size

or ``tryon try-on --person P.jpg --garment G.jpg --text "..." --checkpoint C --out O.png`` (see
:func:`tryon.infer.cli.register`; :mod:`tryon.infer.batch` is the batch form over a pairs file).

Steps: read and check the inputs (:mod:`tryon.infer.inputs`) -> trunk regions from a parse map
(``parse=``, CIHP ids or Dress Code ids) or, without one, from the photo (:mod:`tryon.infer.autoparse`:
the learned parser ``models/parser.pt`` by default, or the mediapipe rules, an optional separate
environment; ``auto_parse_method=``) -> zero-pad to 1:1 and resize to the checkpoint's working size -> the
network -> the image at the photo's own size. With the default ``trunk_compose`` fusion the network's
decisions (sampling grid, composition gate, painted image) are applied at full size
(:mod:`tryon.infer.full_res`): the original garment photo is sampled by the upsampled grid and the
photo's trunk pixels are kept, so prints stay sharp and the face is the photo's, by the network itself.
Other fusions are un-padded and upsampled. **Paste back** (``paste_back=True``, off by default) is an
option from before that fusion: it keeps the photo's own pixels outside the replaced region (the old
garment, the arms for upper garments, and the new warped garment within :data:`GARMENT_REACH` of the
person's silhouette), with a feathered edge; figures measured with it are labelled ``pasted``.

Every bad input raises :class:`InferError` whose message is one line naming the input; nothing is
written until every input has been read and the result computed, and files are written atomically.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tryon.data import labels, preprocess
from tryon.infer.full_res import full_resolution, sources_rgb
from tryon.infer.inputs import CATEGORIES, InferError, _read_rgb, garment_mask_of, read_parse

#: how far (fraction of the padded square's side) the pasted garment may reach past the person's
#: silhouette: a looser garment than the old one fits, a stray warp does not cover the background
GARMENT_REACH = 0.04


# --------------------------------------------------------------------------------------------
# Checkpoint
# --------------------------------------------------------------------------------------------
def load_model(path: str | os.PathLike, device: torch.device | str = "cpu"):
    """(model in eval mode, vocabulary, working image size) from a ``05_train/model.pt``.

    A missing file, a file that is not a checkpoint, a checkpoint of another stage (03/04 hold
    sub-networks only) or one whose weights do not fit its architecture -> one-line ``InferError``."""
    from tryon.checkpoint import load_checkpoint
    from tryon.nets.build import build_model

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
    except TypeError as e:  # a setting no constructor here takes: a checkpoint of a newer tryon
        raise InferError(
            f"{path}: its architecture holds a setting this tryon does not know ({str(e).splitlines()[0]}); "
            "a checkpoint of a newer version?"
        ) from None
    except (KeyError, RuntimeError, ValueError):
        raise InferError(
            f"{path}: its architecture cannot be built (another stage's or a damaged file)"
        ) from None
    try:
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

    return Vocabulary.from_dict(d)


def _default_size() -> int:
    # checkpoints written before the image size was stored: the default working size
    from tryon.config import BaseConfig

    return BaseConfig().image_size


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
    #: body keypoints (:func:`tryon.data.pose.read_keypoints`, the photo's pixels); None: no pose file
    keypoints: dict | None = None
    pose_source: str = ""  # which file gave them


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
    #: bool [H, W]: the photo's pixels the network kept (trunk_compose fusion; None for the others)
    kept: np.ndarray | None = None
    #: bool [H, W]: the warped garment's mask (> 0.5), within GARMENT_REACH of the old silhouette
    warped_mask: np.ndarray | None = None
    #: uint8 [H, W, 3]: what made each pixel of ``network`` (:func:`tryon.infer.full_res.sources_rgb`:
    #: grey the kept photo, green the warped garment, blue the fill, red the painted image; trunk_compose only)
    sources: np.ndarray | None = None
    #: float32 [4, H, W]: the weights behind ``sources`` (kept photo, warped garment, fill, painted image;
    #: sum 1 in each pixel; :func:`tryon.eval.sources.error_by_source`; trunk_compose only)
    weights: np.ndarray | None = None


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
        auto_parse_method: str | None = None,
        pose: str | os.PathLike | None = None,
    ) -> Inputs:
        """Read and check every input (no network run). Without ``parse`` the photo is parsed by
        ``auto_parse_method`` (:data:`tryon.infer.autoparse.METHODS`; None: the learned parser when
        ``models/parser.pt`` exists, else mediapipe); for mediapipe, ``auto_parse`` (a result of
        :func:`tryon.infer.autoparse.run_mediapipe` for this person) skips running it. ``pose``: an OpenPose
        (COCO-18, BODY_25) or Dress Code keypoint file of the photo, for a model that reads a pose map
        (:mod:`tryon.data.pose`); without it such a model takes mediapipe's pose landmarks
        (:func:`tryon.infer.autoparse.auto_keypoints`), and an all-zero map (pose unknown) when mediapipe is
        missing or finds no pose (``Inputs.pose_source`` says which)."""
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
            lab, source = _auto_parse(person, rgb, auto_parse, auto_parse_method)
        if not labels.trunk_mask(lab, category).any():
            raise InferError(f"{parse or person}: no person found in the parse map (every pixel is removed)")
        kp, pose_source = None, ""
        if pose is None and self.reads_pose:  # a photo without a keypoint file: mediapipe's pose, if any
            from tryon.infer import autoparse

            kp, pose_source = autoparse.auto_keypoints(person, auto_parse)
        elif pose is not None:
            from tryon.data.pose import read_keypoints

            if not Path(pose).is_file():
                raise InferError(f"--pose: {pose}: file not found")
            try:
                kp = read_keypoints(pose, image_size=(w, h))
            except ValueError as e:
                raise InferError(f"--pose: {str(e).splitlines()[0]}") from None
            pose_source = f"keypoint file {Path(pose).name}"
        return Inputs(
            rgb, lab, source, g, gm, text, category, name=person.stem, strict_text=strict_text,
            keypoints=kp, pose_source=pose_source,
        )  # fmt: skip

    @property
    def reads_pose(self) -> bool:
        """Whether this model's contour generator reads a pose map (``03_contour.pose``)."""
        return getattr(self.model.contour_gen, "pose_channels", 0) > 0

    def pose_map(self, inp: Inputs) -> torch.Tensor:
        """The pose map of ``inp`` at the working size (all zeros without keypoints)."""
        from tryon.data.pose import pose_map

        h, w = inp.person.shape[:2]
        return pose_map(inp.keypoints, (w, h), self.size)

    # ---- the network ----------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, inp: Inputs, paste_back: bool = False, detail: bool = True) -> Result:
        """The try-on of read inputs. ``paste_back``: keep the photo outside the replaced region (off by
        default); ``detail``: add the warped print's detail above the working size to the painted share
        of the garment (:func:`tryon.infer.full_res.garment_detail`; on by default)."""
        t0 = time.perf_counter()
        S = self.size
        p = preprocess.preprocess_person(inp.person, inp.parse, S, inp.category)
        garment, gmask = preprocess.preprocess_garment(inp.garment, inp.garment_mask, S)
        code = self.encode_text(inp.text, inp.strict_text)
        t1 = time.perf_counter()
        dev = self.device
        out = self.model(
            code[None].to(dev),
            p["trunk"][None].to(dev),
            garment[None].to(dev),
            gmask[None].to(dev),
            keep=p["keep"][None].to(dev),
            keep_mask=p["keep_mask"][None].to(dev),
            protect_mask=p["protect_mask"][None].to(dev),
            pose=self.pose_map(inp)[None].to(dev) if self.reads_pose else None,
        )
        t2 = time.perf_counter()
        h, w = inp.person.shape[:2]
        pad, size = p["pad"].tolist(), (w, h)

        def back(x: torch.Tensor) -> torch.Tensor:  # [1, C, S, S] -> [C, H, W]
            return preprocess.unpad(x[0].float().cpu(), pad, size)

        full = None
        if "gate" in out:  # trunk_compose: garment sampled and image composed at the photo's size
            rule = getattr(self.model.fusion, "keep", "warped_mask")
            gate = getattr(self.model.fusion, "kept_gate", 0.0)
            fill_ramp = getattr(self.model.fusion, "fill_ramp", 1.0)
            full = full_resolution(
                out,
                pad,
                inp.person,
                inp.parse,
                inp.garment,
                inp.garment_mask,
                inp.category,
                detail,
                rule,
                gate,
                fill_ramp,
            )
        net = full["tryon"] if full is not None else back(out["tryon"])
        # the new garment may reach past the old silhouette, but only by GARMENT_REACH of the image
        body = (p["parse"] != labels.CIHP.BACKGROUND).float()[None, None]  # [1, 1, S, S]
        k = 2 * max(1, round(GARMENT_REACH * S)) + 1
        reach = torch.nn.functional.max_pool2d(body, k, stride=1, padding=k // 2)
        placed = full["warped_mask"] if full is not None else back(out["warped_mask"])  # [1, H, W]
        wmask = (placed[0] > 0.5) & (back(reach.to(out["tryon"].device))[0] > 0.5)
        warped = full["warped"] if full is not None else back(out["warped"])
        warped = warped * wmask + (1 - wmask.float()) * 0.6  # grey outside the mask
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
            kept=None if full is None else full["keep"][0].numpy() >= 1,
            warped_mask=wmask.numpy(),
            sources=None if full is None else sources_rgb(full["sources"]),
            weights=None if full is None else full["sources"].float().numpy(),
        )

    def __call__(self, person, garment, text, paste_back: bool = False, detail: bool = True, **kw) -> Result:
        return self.predict(self.read_inputs(person, garment, text, **kw), paste_back, detail)


def _auto_parse(
    person: Path, rgb: np.ndarray, found: dict | None, method: str | None = None
) -> tuple[np.ndarray, str]:
    """(CIHP parse, source text) of a photo without a parse map, by ``method`` (None: the default)."""
    from tryon.infer import autoparse

    try:
        method = autoparse.resolve_method(method)
        if method == "parser":
            return autoparse.learned_parse(rgb)
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
def sheet(inp: Inputs, res: Result, height: int = 512) -> np.ndarray:
    """Side-by-side sheet: person | garment | model contour | warped garment | try-on | what made each
    pixel (when the fusion says), with a caption (the text and which parse path was used).
    uint8 [height + caption, W, 3]."""
    from PIL import ImageDraw

    def fit(a: np.ndarray) -> Image.Image:
        im = Image.fromarray(a)
        return im.resize((max(1, round(im.width * height / im.height)), height), Image.BILINEAR)

    panels = [fit(a) for a in (inp.person, inp.garment, res.contour, res.warped, res.image)]
    names = ["person", "garment", "model contour", "warped garment", "try-on"]
    if res.sources is not None:
        panels.append(fit(res.sources))
        names.append("grey kept, green warped, blue fill, red painted")
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
