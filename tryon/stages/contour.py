"""Stage 03_contour: pretrain the text MLP + contour generator ([0111]-[0132], L_style [0186]-[0193]).

loss = lambda_style * L_style(ĥ, h) + lambda_l1 * |ĥ - h|_1, where h is the body contour image of the
sample (synthetic data renders the same body in a tight bodysuit; real samples have none and their
terms are masked out). L_style runs on a VGG19 that is either ImageNet (a local weights file,
``03_contour.vgg_weights``) or a fixed-seed random VGG: the metrics say which (``vgg_weights``). For
speed on CPU the style loss is computed at ``style_size`` pixels (``0`` = the working size).
The pixel L1 is an addition to the method, possible because the synthetic contour is pixel-aligned.

Notebook entry points: :func:`run` (train, save ``data/03_contour/model.pt``, return the metrics),
:func:`load_trained`, :func:`comparison_figure`, :func:`text_variation_figure` (loss curves: :func:`tryon.viz.train.loss_curves`).

Metrics on the dev split (synthetic samples only, the ones with a contour image):
- ``silhouette_iou``: IoU of thresholded foregrounds of generated and ground-truth contour images;
- ``face_ssim``: SSIM (:func:`tryon.eval.metrics.ssim`) of generated contour vs the input photo, averaged
  inside the face region (parse label FACE);
- ``hip_width_monotone_rate``: with the trunk map fixed, the text's weight is stepped through the
  middle of the four build BMI ranges (thin, well-proportioned, slightly fat, fat; build word changed
  with it, as a body text would): fraction of bodies whose generated hip width never decreases and ends
  wider than it started;
- ``pear_v_flip_rate``: fraction of bodies whose generated hip/shoulder width ratio is larger with
  ``pear`` than with ``V`` (other fields unchanged).
Widths are measured on the generated contour alone: the foreground run through the body's centre line
(the face's x centre) at the hip row and the shoulder row, rows from the synthetic body geometry for
the text's height (:func:`tryon.data.synthetic.body_geometry`, the same camera as the data).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from tryon import paths, runtime
from tryon.checkpoint import atomic_torch_save, load_checkpoint
from tryon.config import Params
from tryon.data.labels import CIHP
from tryon.eval.metrics import contour_foreground, silhouette_iou, ssim
from tryon.losses import Criterion, rec_loss, resize_for_vgg, style_loss
from tryon.nets.build import build_contour_net as build_net
from tryon.nets.build import contour_architecture as architecture
from tryon.nets.contour import TextContourNet
from tryon.nets.vgg import build_vgg
from tryon.text import BodyText, Vocabulary, parse_body_text
from tryon.train.loop import collate, fit, to_device

SLUG = "03_contour"
#: BMI at the middle of each build's range in the synthetic data (thin -> fat)
BUILD_LADDER: tuple[tuple[str, float], ...] = (
    ("thin", 17.5), ("well-proportioned", 21.25), ("slightly fat", 25.75), ("fat", 31.0),
)  # fmt: skip


#: what a training step reads from a sample
TRAIN_KEYS = ("trunk", "contour", "has_contour", "pose")


class CodedDataset:
    """A dataset of contract dicts whose samples also carry ``"code"`` (float32 [code_dim]).

    ``keys``: keep only these keys (plus ``"code"``) and memoise each sample after its first read, images
    stored as float16 (error < 5e-4 on [-1, 1]), so training epochs after the first read no PNG. Use it
    for the training split only; 512 samples at 128 px hold about 100 MB.
    """

    def __init__(self, dataset, vocab: Vocabulary, keys: tuple[str, ...] | None = None):
        self.dataset, self.vocab, self.keys = dataset, vocab, keys
        self._cache: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        if i in self._cache:
            return {k: v.float() if v.dtype == torch.float16 else v for k, v in self._cache[i].items()}
        s = dict(self.dataset[i])
        s["code"] = torch.from_numpy(self.vocab.encode(s["text"], strict=False))
        if self.keys is None:
            return s
        s = {k: s[k] for k in (*self.keys, "code")}
        self._cache[i] = {
            k: v.half() if isinstance(v, torch.Tensor) and v.dtype == torch.float32 and v.ndim == 3 else v
            for k, v in s.items()
        }
        return s


def make_step_fn(vgg, weights: dict[str, float], style_mode: str, style_size: int):
    """``step_fn(net, batch) -> {"style", "l1", "total"}``; samples without a contour image count zero."""
    criterion = Criterion(weights)

    def step_fn(net: TextContourNet, b: dict) -> dict[str, torch.Tensor]:
        out = net(b["code"], b["trunk"], b.get("pose"))["contour"]
        has = b["has_contour"].float().view(-1, 1, 1, 1)  # [B,1,1,1]
        pred, gt = out * has, b["contour"] * has
        terms = {
            "style": style_loss(
                resize_for_vgg(pred, style_size), resize_for_vgg(gt, style_size), vgg, style_mode
            ),
            "l1": rec_loss(pred, gt),
        }
        return criterion(terms)

    return step_fn


def run(params: Params, root: Path | None = None, progress: bool = True) -> dict:
    """Train on ``data/01_prepare`` (train split) with the vocabulary of stage 02; save
    ``data/03_contour/model.pt`` (atomic) and ``history.json``; evaluate on the dev split (test is read in 06 only)."""
    from tryon.data.dataset import TryOnDataset

    root = root or paths.ROOT
    c = params.contour
    runtime.set_threads(params.base.num_threads)
    device = runtime.resolve_device(params.base.device)
    runtime.seed_everything(params.base.seed)
    out_dir = paths.stage_dir(SLUG, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = Vocabulary.load(paths.stage_dir("02_encode", root) / "vocab.json")
    prepared = paths.stage_dir("01_prepare", root)
    size = params.base.image_size
    train_set = CodedDataset(TryOnDataset(prepared, "train", size), vocab, keys=TRAIN_KEYS)
    arch = architecture(params, vocab.code_dim)
    net = build_net(arch).to(device)
    vgg = build_vgg(c.vgg_weights, layers=tuple(c.style_layers), seed=params.base.seed).to(device)
    weights = {"style": c.lambda_style, "l1": c.lambda_l1}
    opt = torch.optim.Adam(net.parameters(), lr=c.lr)
    result = fit(
        net, make_step_fn(vgg, weights, c.style_mode, c.style_size), train_set,
        steps=c.steps, batch_size=c.batch_size, optimizer=opt, seed=params.base.seed, device=device,
        ckpt_dir=None, log_every=c.log_every, progress=progress, amp=c.amp,
    )  # fmt: skip
    atomic_torch_save(
        {
            "text_mlp": net.text_mlp.state_dict(), "contour_gen": net.contour_gen.state_dict(),
            "architecture": arch, "vocab": vocab.to_dict(), "step": result.step, "history": result.history,
            "vgg_weights": vgg.weights_source,
        },
        out_dir / "model.pt",
    )  # fmt: skip
    (out_dir / "history.json").write_text(json.dumps(result.history, indent=1) + "\n")
    test_set = CodedDataset(
        TryOnDataset(prepared, "dev", size), vocab
    )  # the dev split: test is read in 06 only
    t0 = time.perf_counter()
    metrics = evaluate_contours(net, test_set, vocab, device)
    return {
        "steps": result.step,
        "train_seconds": round(result.seconds, 1),
        "eval_seconds": round(time.perf_counter() - t0, 1),
        "device": str(device),
        "precision": runtime.precision_text(device, c.amp),
        "threads": torch.get_num_threads(),
        "final_train_loss": result.history[-1] if result.history else None,
        "vgg_weights": vgg.weights_source,
        "style_mode": c.style_mode,
        "style_size": c.style_size or size,
        "style_layers": list(c.style_layers),
        "loss_weights": weights,
        **metrics,
    }


def load_trained(
    root: Path | None = None, device: str | torch.device = "cpu"
) -> tuple[TextContourNet, Vocabulary, dict]:
    """The stage's trained network (eval mode), its vocabulary and the checkpoint dict."""
    root = root or paths.ROOT
    ck = load_checkpoint(paths.stage_dir(SLUG, root) / "model.pt", device)
    net = build_net(ck["architecture"])
    net.text_mlp.load_state_dict(ck["text_mlp"])
    net.contour_gen.load_state_dict(ck["contour_gen"])
    vocab = Vocabulary.from_dict(ck["vocab"])
    return net.to(device).eval(), vocab, ck


# ------------------------------------------------------------------------------------------------
# Shape measurements
# ------------------------------------------------------------------------------------------------
def body_rows(p: BodyText, size: int, default_height: float) -> dict[str, float]:
    """Image rows (pixels, y down) of the hip and shoulder lines for a text's height and weight, from
    the synthetic camera and body geometry (the rows depend on the height; the shoulder offset on the
    limb thickness, i.e. on the weight)."""
    from tryon.data.synthetic import body_geometry, sample_body

    h = default_height if math.isnan(p.height_cm) else p.height_cm
    w = p.weight_kg if not math.isnan(p.weight_kg) else 21.5 * (h / 100) ** 2
    body = sample_body(
        np.random.default_rng(0),
        body_type="H",
        build="well-proportioned",
        height_cm=h,
        weight_kg=w,
        jitter=0.0,
    )
    geo = body_geometry(body, size)
    return {"hip": geo.y["hip"], "shoulder": geo.y["shoulder"] + 0.5 * geo.r["upper_arm"]}


def run_width(fg: np.ndarray, row: float, cx: float, band: int = 1) -> float:
    """Width (pixels) of the foreground run through column ``cx`` at image row ``row``, averaged over
    rows ``row - band .. row + band``; 0 where the centre pixel is background. ``fg``: bool [H, W]."""
    h, w = fg.shape
    c = int(np.clip(round(cx - 0.5), 0, w - 1))
    widths = []
    for r in range(int(row) - band, int(row) + band + 1):
        line = fg[int(np.clip(r, 0, h - 1))]
        if not line[c]:
            widths.append(0.0)
            continue
        left = c
        while left > 0 and line[left - 1]:
            left -= 1
        right = c
        while right < w - 1 and line[right + 1]:
            right += 1
        widths.append(float(right - left + 1))
    return float(np.mean(widths))


def face_centre_x(parse: torch.Tensor) -> float:
    """x (pixels, continuous coords) of the face's centroid in an int parse map [H, W]; image centre if none."""
    ys, xs = torch.nonzero(parse == CIHP.FACE, as_tuple=True)
    return float(xs.float().mean()) + 0.5 if len(xs) else parse.shape[-1] / 2


def weight_ladder(p: BodyText, default_height: float) -> list[BodyText]:
    """The text with weight stepped thin -> fat (BMI mid-ranges) and the build word changed with it."""
    h = default_height if math.isnan(p.height_cm) else p.height_cm
    return [
        replace(p, height_cm=h, weight_kg=round(bmi * (h / 100) ** 2, 1), build=b) for b, bmi in BUILD_LADDER
    ]


@torch.no_grad()
def generate(
    net: TextContourNet,
    vocab: Vocabulary,
    texts: list[BodyText | str],
    trunk: torch.Tensor,
    pose: torch.Tensor | None = None,
) -> torch.Tensor:
    """Contours [N,3,H,W] for N texts with one trunk map [3,H,W] (and pose map [P,H,W]; repeated)."""
    dev = next(net.parameters()).device
    codes = torch.from_numpy(vocab.encode_batch(texts, strict=False)).to(dev)
    trunks = trunk.to(dev)[None].expand(len(texts), -1, -1, -1)
    poses = None if pose is None else pose.to(dev)[None].expand(len(texts), -1, -1, -1)
    return net(codes, trunks, poses)["contour"].cpu()


@torch.no_grad()
def evaluate_contours(net: TextContourNet, dataset, vocab: Vocabulary, device, batch_size: int = 16) -> dict:
    """The issue's metrics over the samples of ``dataset`` that have a contour image (see module doc).
    ``per_sample`` holds one dict per sample (for a pandas breakdown by body type / build)."""
    was_training = net.training
    net.eval()
    try:
        return _evaluate(net, dataset, vocab, device, batch_size)
    finally:
        net.train(was_training)


def _evaluate(net: TextContourNet, dataset, vocab: Vocabulary, device, batch_size: int) -> dict:
    rows = []
    for start in range(0, len(dataset), batch_size):
        idx = list(range(start, min(start + batch_size, len(dataset))))
        b = collate([dataset[i] for i in idx])
        keep = [j for j in range(len(idx)) if bool(b["has_contour"][j])]
        if not keep:
            continue
        bd = to_device(b, device)
        out = net(bd["code"], bd["trunk"], bd.get("pose"))["contour"].cpu()
        iou = silhouette_iou(out, b["contour"])
        face = (b["parse"] == CIHP.FACE).float()[:, None]  # [B,1,H,W]
        fssim = ssim(out, b["person"], face)
        gt_fssim = ssim(b["contour"], b["person"], face)
        for j in keep:
            rows.append({"id": b["id"][j], "body_type": b["body_type"][j], "build": b["build"][j],
                         "silhouette_iou": iou[j], "face_ssim": fssim[j], "gt_face_ssim": gt_fssim[j],
                         "l1": float((out[j] - b["contour"][j]).abs().mean())})  # fmt: skip
    if not rows:
        return {
            "n_test_with_contour": 0,
            "note": "no test sample has a contour image: shape metrics not computed",
        }
    ctrl = controllability(net, dataset, vocab, [r["id"] for r in rows])
    by = {r["id"]: r for r in rows}
    for r in ctrl["rows"]:
        by[r["id"]].update(r)
    df_rows = list(by.values())
    nanmean = lambda k: float(np.nanmean([r[k] for r in df_rows]))  # noqa: E731
    return {
        "n_test_with_contour": len(rows),
        "silhouette_iou": nanmean("silhouette_iou"),
        "silhouette_iou_min": float(np.min([r["silhouette_iou"] for r in rows])),
        "face_ssim": nanmean("face_ssim"),
        # the same measurement for the ground-truth contour: its ceiling (the SSIM window near the face
        # outline sees the photo's background, which the contour image replaces)
        "face_ssim_of_gt_contour": nanmean("gt_face_ssim"),
        "contour_l1": nanmean("l1"),
        "hip_width_monotone_rate": ctrl["hip_width_monotone_rate"],
        "hip_width_thin_to_fat_px": ctrl["hip_width_thin_to_fat_px"],
        "pear_v_flip_rate": ctrl["pear_v_flip_rate"],
        "targets": {
            "silhouette_iou": 0.90,
            "face_ssim": 0.90,
            "hip_width_monotone_rate": 0.90,
            "pear_v_flip_rate": 0.90,
        },
        "per_sample": df_rows,
    }


@torch.no_grad()
def controllability(net: TextContourNet, dataset, vocab: Vocabulary, ids: list[str] | None = None) -> dict:
    """Text-control measurements with each sample's trunk map (and pose map) fixed (see the module docstring)."""
    wanted = set(ids) if ids is not None else None
    size_rows = []
    mono, flips, spans = [], [], []
    for i in range(len(dataset)):
        s = dataset[i]
        if wanted is not None and s["id"] not in wanted:
            continue
        p = parse_body_text(s["text"])
        S = s["trunk"].shape[-1]
        cx = face_centre_x(s["parse"])
        ladder = weight_ladder(p, vocab.height_mean)
        pv = [replace(p, body_type="pear"), replace(p, body_type="V")]
        out = generate(net, vocab, ladder + pv, s["trunk"], s.get("pose"))  # the body's own pose, fixed
        fg = contour_foreground(out)[:, 0].numpy() > 0.5  # [N,H,W]
        hips = [run_width(fg[k], body_rows(t, S, vocab.height_mean)["hip"], cx) for k, t in enumerate(ladder)]
        ratios = []
        for k, t in enumerate(pv, start=len(ladder)):
            r = body_rows(t, S, vocab.height_mean)
            sh = run_width(fg[k], r["shoulder"], cx)
            ratios.append(run_width(fg[k], r["hip"], cx) / sh if sh > 0 else math.nan)
        ok = all(b >= a for a, b in zip(hips, hips[1:], strict=False)) and hips[-1] > hips[0]
        flip = bool(ratios[0] > ratios[1]) if not any(math.isnan(x) for x in ratios) else False
        mono.append(ok)
        flips.append(flip)
        spans.append(hips[-1] - hips[0])
        size_rows.append({"id": s["id"], "hip_widths_thin_to_fat": hips, "hip_monotone": ok,
                          "hip_shoulder_ratio_pear_v": ratios, "pear_v_flip": flip})  # fmt: skip
    return {
        "hip_width_monotone_rate": float(np.mean(mono)) if mono else math.nan,
        "hip_width_thin_to_fat_px": float(np.mean(spans)) if spans else math.nan,
        "pear_v_flip_rate": float(np.mean(flips)) if flips else math.nan,
        "rows": size_rows,
    }


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------
def _show(ax, img: torch.Tensor, title: str = "") -> None:
    ax.imshow(((img.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy())
    ax.set_title(title, fontsize=7)
    ax.axis("off")


@torch.no_grad()
def comparison_figure(net: TextContourNet, dataset, vocab: Vocabulary, n: int = 4):
    """Rows of dev (or any) samples: person photo, trunk map, generated contour, ground-truth contour."""
    import matplotlib.pyplot as plt

    samples = [dataset[i] for i in range(min(n, len(dataset)))]
    fig, axes = plt.subplots(len(samples), 4, figsize=(8, 2.1 * len(samples)), squeeze=False)
    for ax, s in zip(axes, samples, strict=True):
        out = generate(net, vocab, [s["text"]], s["trunk"], s.get("pose"))[0]
        iou = silhouette_iou(out[None], s["contour"][None])[0]
        _show(ax[0], s["person"], s["text"].replace(", ", "\n", 2))
        _show(ax[1], s["trunk"], "trunk map")
        _show(ax[2], out, f"generated (IoU {iou:.2f})")
        _show(ax[3], s["contour"], "ground truth" if bool(s["has_contour"]) else "(no contour image)")
    fig.tight_layout()
    return fig


@torch.no_grad()
def text_variation_figure(net: TextContourNet, sample: dict, vocab: Vocabulary):
    """One trunk map, the body text varied: thin -> fat, pear -> H -> V, 155 -> 190 cm (three rows)."""
    import matplotlib.pyplot as plt

    p = parse_body_text(sample["text"])
    h = vocab.height_mean if math.isnan(p.height_cm) else p.height_cm
    rows = [
        ("build / weight", weight_ladder(p, vocab.height_mean)),
        ("body type", [replace(p, height_cm=h, body_type=b) for b in ("pear", "H", "V") if b in vocab.body_types]),
        ("height", [replace(p, height_cm=hh, weight_kg=round(22 * (hh / 100) ** 2, 1), build="well-proportioned")
                    for hh in (155.0, 172.0, 190.0)]),
    ]  # fmt: skip
    ncol = 1 + max(len(r[1]) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.1 * ncol, 2.4 * len(rows)), squeeze=False)
    for ax, (name, texts) in zip(axes, rows, strict=True):
        _show(ax[0], sample["trunk"], f"trunk map (0 = grey)\n{name} varied")
        outs = generate(net, vocab, texts, sample["trunk"], sample.get("pose"))
        for k in range(1, ncol):
            if k - 1 < len(texts):
                _show(ax[k], outs[k - 1], texts[k - 1].to_text().replace(", ", "\n", 2))
            else:
                ax[k].axis("off")
    fig.tight_layout()
    return fig
