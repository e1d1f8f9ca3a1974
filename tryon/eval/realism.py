"""Realism critic: a classifier two-sample test of real photos against try-on images.

A small CNN, trained from scratch, learns to tell the two sets apart; k-fold cross-validation gives
every image an out-of-fold score ("how fake does it look"), and the ROC AUC of the pooled scores is the
figure (Lopez-Paz & Oquab, *Revisiting Classifier Two-Sample Tests*, ICLR 2017). 0.5 = the critic cannot
tell them apart; 1.0 = every try-on scores above every photo. The 95% interval is a percentile bootstrap
over images (reals and fakes resampled separately, the critic not retrained).

* **Alike re-encoding.** Every image (and garment) is resized to the working size (PIL bilinear, which
  low-passes when shrinking) and JPEG-encoded in memory at :data:`JPEG_QUALITY`, on both sides alike,
  so that the file format or resampling of the inputs cannot give the answer away.
* **Folds.** Split by image index (seeded, each class spread evenly over the folds); when the two sets
  share ids (the same person on both sides, e.g. a photo and its own try-on), split by id instead, so a
  person never sits on both sides of a fold (the critic could otherwise learn the person).
* **Conditional form** (garments given): the critic sees the image and the flat garment photo it is
  supposed to wear, stacked as 6 channels at the working size (early fusion: VITON's garment photos
  are framed like the person photos, so garment and torso roughly overlap), and can tell whether the
  worn garment is the given one. :func:`mismatch_garments` builds the calibration set "a real photo
  with another person's garment" (a seeded derangement).
* **Names** (:func:`read_folder`, :func:`garment_stem`): an image ``P__G.ext`` (the file names of
  ``tryon try-on --dataset``) is person ``P`` wearing garment ``G``; any other image ``S.ext`` is person
  ``S``. Its garment, in conditional mode, is the garment folder's file of stem ``G`` (``P__G``), else
  of stem ``S``, else, for CP-VTON names ``<id>_0``, of stem ``<id>_1``. The id used for folds is ``P``
  (``S``). Files named ``*_sheet.*`` (try-on sheets) are skipped.

Calibration on the VITON test photos (defaults, 5 folds, one CPU thread): real against real (the
416 distinct clean photos split in two halves, 7 seeds) 0.50 on average (0.45-0.54, each interval
holding 0.5), about a minute; a real photo with its own garment against the same photo with another
clean id's garment (the conditional "mismatch" set, 457 + 457) 0.885 [0.863, 0.906], two minutes. The
457 clean photos against 457 other test photos read 0.63: not a null, the clean ones hold more fine
detail (a 3x3 high-pass energy alone tells them apart at 0.60).

Images in the API are uint8 numpy arrays [H, W, 3] of any size; the network sees float tensors
[B, C, h, w] in [-1, 1] (C = 3, or 6 with garments), ``size = (h, w)``.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.stats import rankdata
from torch import nn

from tryon.data.io import read_rgb

#: JPEG quality of the alike re-encoding (both sides, and garments): 75, the quality of the VITON
#: photos, so a PNG try-on gets the compression its real counterparts already had (at 90, PNG against
#: quality-75 copies of textured synthetic images read 0.56; at 75, 0.51)
JPEG_QUALITY = 75
#: image files a folder reader takes (case-insensitive)
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True)
class CriticSettings:
    """How the critic is trained (one set for every fold). ``width``: channels of the first strided
    layer (doubled twice); ``full_res``: one more layer (width / 2 channels) at the working size before
    the strided ones (it reads pixel-level detail: on VITON photos with a blurred garment it raised the
    AUC from 0.71 to 0.75); ``residual_gain``: the image's high-pass residual (image minus its 3x3 box
    mean) times this gain is fed as 3 more channels (0 = not): try-on artefacts (blur, seams,
    resampling) live at high frequency, where the content of a few hundred photos hides them from a
    critic trained from scratch (same probe: 0.75 -> 0.89; smooth fields against the same with faint
    noise: 0.54 -> 1.0); ``lr``: peak of a one-cycle AdamW schedule; ``mirror``: random horizontal flips
    in training and the mean of the image's and its mirror's logits when scoring. The defaults take
    about a minute for 450 + 450 images at 128x96 on one CPU thread (two with garments)."""

    width: int = 16
    epochs: int = 10
    batch: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    jpeg_quality: int = JPEG_QUALITY
    mirror: bool = True
    full_res: bool = True
    residual_gain: float = 8.0

    def describe(self, size: tuple[int, int], folds: int, conditional: bool, split: str) -> str:
        s = ", ".join(f"{k}={v}" for k, v in asdict(self).items())
        return (
            f"CNN critic from scratch at {size[0]}x{size[1]} (HxW), {'image+garment' if conditional else 'image'}"
            f" input, {folds}-fold CV split by {split}, {s}"
        )


# --------------------------------------------------------------------------------------------- images


def reencode(img: np.ndarray, size: tuple[int, int], quality: int = JPEG_QUALITY) -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [h, w, 3], ``size = (h, w)``: bilinear resize, then a JPEG round trip
    in memory at ``quality`` (the same for every image, whatever its file format was)."""
    arr = np.asarray(img)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 [H, W, 3] image, got {arr.dtype} {tuple(arr.shape)}")
    im = Image.fromarray(arr).resize((size[1], size[0]), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def to_tensor(images: Sequence[np.ndarray], size: tuple[int, int], quality: int) -> torch.Tensor:
    """Re-encoded images as float [N, 3, h, w] in [-1, 1]."""
    arr = np.stack([reencode(im, size, quality) for im in images])  # [N, h, w, 3]
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # [N, 3, h, w]


# ---------------------------------------------------------------------------------------- statistics


def roc_auc(scores_real: Sequence[float], scores_fake: Sequence[float]) -> float:
    """P(a fake scores above a real), ties counted half (Mann-Whitney U / (n_real n_fake))."""
    r = np.asarray(scores_real, dtype=np.float64)
    f = np.asarray(scores_fake, dtype=np.float64)
    if not len(r) or not len(f):
        return math.nan
    ranks = rankdata(np.concatenate([r, f]))
    return float((ranks[len(r) :].sum() - len(f) * (len(f) + 1) / 2) / (len(r) * len(f)))


def bootstrap_auc_ci(
    scores_real: Sequence[float], scores_fake: Sequence[float], n_boot: int = 1000, seed: int = 0
) -> list[float]:
    """95% percentile bootstrap interval of :func:`roc_auc`, reals and fakes resampled separately
    (the class sizes stay fixed). :func:`tryon.eval.metrics.bootstrap_ci` bootstraps a mean over
    samples, which an AUC is not (it pairs every real with every fake), hence this one. Seeded."""
    r = np.asarray(scores_real, dtype=np.float64)
    f = np.asarray(scores_fake, dtype=np.float64)
    if len(r) < 2 or len(f) < 2 or n_boot < 1:
        return [math.nan, math.nan]
    rng = np.random.default_rng(seed)
    both = np.concatenate(
        [r[rng.integers(0, len(r), (n_boot, len(r)))], f[rng.integers(0, len(f), (n_boot, len(f)))]], 1
    )  # [n_boot, n_real + n_fake]
    ranks = rankdata(both, axis=1)[:, len(r) :].sum(1)  # [n_boot] rank sums of the fakes
    aucs = (ranks - len(f) * (len(f) + 1) / 2) / (len(r) * len(f))
    lo, hi = np.quantile(aucs, [0.025, 0.975])
    return [float(lo), float(hi)]


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A seeded permutation of ``range(n)`` with no fixed point (uniform, by rejection; n >= 2)."""
    if n < 2:
        raise ValueError(f"derangement: needs at least 2 items, got {n}")
    rng = np.random.default_rng(seed)
    while True:
        p = rng.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


def mismatch_garments(garments: Sequence, seed: int = 0, ids: Sequence[str] | None = None) -> list:
    """Each item's garment replaced by another item's (:func:`derangement`): the "mismatch" calibration
    set pairs a real photo with this list. With ``ids``, a garment of the same id (a repeated person)
    is never given back either; raises ValueError when no such assignment is found."""
    n = len(garments)
    for attempt in range(1000):
        p = derangement(n, seed + attempt)
        if ids is None or all(ids[i] != ids[j] for i, j in enumerate(p)):
            return [garments[j] for j in p]
    raise ValueError("mismatch_garments: every derangement gives some image a garment of its own id")


def assign_folds(
    n_real: int,
    n_fake: int,
    folds: int,
    seed: int = 0,
    ids_real: Sequence[str] | None = None,
    ids_fake: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Fold of each real and each fake image, and how they were split: ``"index"`` (each class shuffled
    and dealt round-robin, so both spread evenly) or ``"id"`` when the two sets share an id (the ids
    shuffled and dealt round-robin: all images of one id fall in one fold)."""
    if folds < 2:
        raise ValueError(f"folds: expected 2 or more, got {folds}")
    rng = np.random.default_rng(seed)
    shared = ids_real is not None and ids_fake is not None and set(ids_real) & set(ids_fake)
    if not shared:
        fr, ff = np.empty(n_real, np.int64), np.empty(n_fake, np.int64)
        fr[rng.permutation(n_real)] = np.arange(n_real) % folds
        ff[rng.permutation(n_fake)] = (np.arange(n_fake) + n_real) % folds  # fill the folds evenly
        return fr, ff, "index"
    uniq = sorted(set(ids_real) | set(ids_fake))
    fold_of = {u: i % folds for i, u in enumerate(np.asarray(uniq)[rng.permutation(len(uniq))])}
    fr = np.array([fold_of[i] for i in ids_real], np.int64)
    ff = np.array([fold_of[i] for i in ids_fake], np.int64)
    return fr, ff, "id"


# ------------------------------------------------------------------------------------------- network


class Critic(nn.Module):
    """Image (or image + garment) -> one logit, "fake" positive.

    Input: x, plus (``residual_gain`` > 0) the high-pass residual of its image channels. With
    ``full_res`` a 3x3 convolution at [h, w] (w/2 channels), then five 3x3 stride-2 convolutions
    (w, w, 2w, 4w, 4w channels: [h, w] -> [h/32, w/32]), each with batch norm and ReLU; global average
    pooling; a two-layer head (its hidden layer lets the conditional critic compare what it pooled of
    the person with what it pooled of the garment)."""

    def __init__(self, in_channels: int, width: int, full_res: bool = True, residual_gain: float = 8.0):
        super().__init__()
        self.residual_gain = float(residual_gain)
        c_in = in_channels + (3 if self.residual_gain else 0)  # + the image's high-pass residual
        chans = [c_in, width, width, 2 * width, 4 * width, 4 * width]
        strides = [2] * 5
        if full_res:
            chans.insert(1, width // 2)
            strides.insert(0, 1)
        layers: list[nn.Module] = []
        for a, b, s in zip(chans[:-1], chans[1:], strides, strict=True):
            layers += [nn.Conv2d(a, b, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(chans[-1], chans[-1]), nn.ReLU(True), nn.Linear(chans[-1], 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x: [B, C, h, w] in [-1, 1], the image in channels 0-2 -> {"logit": [B]}."""
        if self.residual_gain:
            img = x[:, :3]  # [B, 3, h, w]
            local_mean = nn.functional.avg_pool2d(
                nn.functional.pad(img, (1, 1, 1, 1), mode="replicate"), 3, 1
            )
            x = torch.cat([x, (img - local_mean) * self.residual_gain], 1)  # [B, C + 3, h, w]
        feat = self.trunk(x).mean((2, 3))  # [B, 4w]
        return {"logit": self.head(feat)[:, 0]}


def build_critic(
    in_channels: int = 3, width: int = 16, full_res: bool = True, residual_gain: float = 8.0
) -> Critic:
    return Critic(in_channels, width, full_res, residual_gain)


def train_critic(x: torch.Tensor, y: torch.Tensor, settings: CriticSettings, seed: int) -> Critic:
    """A critic trained on ``x`` [N, C, h, w] with labels ``y`` [N] in {0 real, 1 fake}; the classes
    weighted to count equally. Deterministic for a seed (the global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_critic(x.shape[1], settings.width, settings.full_res, settings.residual_gain)
        opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        n_pos = float(y.sum())
        pos_weight = torch.tensor((len(y) - n_pos) / max(n_pos, 1.0))
        steps = settings.epochs * math.ceil(len(x) / settings.batch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, settings.lr, total_steps=max(steps, 1))
        rng = np.random.default_rng(seed)
        net.train()
        for _ in range(settings.epochs):
            order = torch.from_numpy(rng.permutation(len(x)))
            for k in range(0, len(x), settings.batch):
                idx = order[k : k + settings.batch]
                if len(idx) < 2:  # batch norm needs two samples
                    continue
                xb = x[idx]
                if settings.mirror:
                    flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
                    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
                loss = nn.functional.binary_cross_entropy_with_logits(
                    net(xb)["logit"], y[idx], pos_weight=pos_weight
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    return net.eval()


@torch.no_grad()
def score(net: Critic, x: torch.Tensor, mirror: bool = True, batch: int = 128) -> np.ndarray:
    """Logits [N] of ``x`` [N, C, h, w] (with ``mirror``: the mean over the image and its mirror)."""
    out = []
    for k in range(0, len(x), batch):
        xb = x[k : k + batch]
        s = net(xb)["logit"]
        if mirror:
            s = (s + net(xb.flip(3))["logit"]) / 2
        out.append(s)
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


# ------------------------------------------------------------------------------------------ the test


def _inputs(
    images: Sequence[np.ndarray], garments: Sequence[np.ndarray] | None, size: tuple[int, int], q: int
) -> torch.Tensor:
    """[N, 3, h, w], or [N, 6, h, w] with garments (image channels first)."""
    x = to_tensor(images, size, q)
    if garments is None:
        return x
    return torch.cat([x, to_tensor(garments, size, q)], 1)  # [N, 6, h, w]


def _check_sets(real, fake, garments_real, garments_fake, ids_real, ids_fake) -> None:
    if len(real) < 2 or len(fake) < 2:
        raise ValueError(
            f"realism: needs at least 2 images a side, got {len(real)} real and {len(fake)} fake"
        )
    if (garments_real is None) != (garments_fake is None):
        raise ValueError("realism: garments must be given for both sets or for neither")
    for name, g, imgs in (("real", garments_real, real), ("fake", garments_fake, fake)):
        if g is not None and len(g) != len(imgs):
            raise ValueError(f"realism: {len(imgs)} {name} images but {len(g)} garments")
    for name, ids, imgs in (("real", ids_real, real), ("fake", ids_fake, fake)):
        if ids is not None and len(ids) != len(imgs):
            raise ValueError(f"realism: {len(imgs)} {name} images but {len(ids)} ids")


def realism_auc(
    real_images: Sequence[np.ndarray],
    fake_images: Sequence[np.ndarray],
    garments_real: Sequence[np.ndarray] | None = None,
    garments_fake: Sequence[np.ndarray] | None = None,
    folds: int = 5,
    size: tuple[int, int] = (128, 96),
    seed: int = 0,
    epochs: int = CriticSettings.epochs,
    n_boot: int = 1000,
    ids_real: Sequence[str] | None = None,
    ids_fake: Sequence[str] | None = None,
    settings: CriticSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """The classifier two-sample test of ``real_images`` against ``fake_images`` (uint8 [H, W, 3], any
    size; see the module docstring). With ``garments_real`` / ``garments_fake`` (one garment photo per
    image) the conditional form. ``ids_*``: the person of each image; when the sets share one, folds
    split by id. ``settings`` overrides the critic's (``epochs`` then ignored).

    Returns ``{"auc", "auc_ci95": [lo, hi], "n_real", "n_fake", "folds", "split": "index" | "id",
    "conditional", "seconds", "settings": one line, "scores_real" and "scores_fake": each image's
    out-of-fold score (higher = judged fake), in input order}``. Deterministic for a seed."""
    t0 = time.perf_counter()
    _check_sets(real_images, fake_images, garments_real, garments_fake, ids_real, ids_fake)
    st = settings or CriticSettings(epochs=epochs)
    size = (int(size[0]), int(size[1]))
    x = torch.cat(
        [
            _inputs(real_images, garments_real, size, st.jpeg_quality),
            _inputs(fake_images, garments_fake, size, st.jpeg_quality),
        ]
    )  # [n_real + n_fake, C, h, w]
    n_real, n_fake = len(real_images), len(fake_images)
    y = torch.cat([torch.zeros(n_real), torch.ones(n_fake)])  # [N] 1 = fake
    fr, ff, split = assign_folds(n_real, n_fake, folds, seed, ids_real, ids_fake)
    fold = np.concatenate([fr, ff])
    scores = np.full(len(x), np.nan)
    for k in range(folds):
        test = np.flatnonzero(fold == k)
        train = np.flatnonzero(fold != k)
        if not len(test):
            continue
        if len(torch.unique(y[train])) < 2:
            raise ValueError(f"realism: fold {k} leaves one class out of training (too few ids?)")
        net = train_critic(x[train], y[train], st, seed * 1000 + k)
        scores[test] = score(net, x[test], st.mirror)
        if progress:
            progress(f"fold {k + 1}/{folds}: {len(test)} images scored, {time.perf_counter() - t0:.0f} s")
    s_real, s_fake = scores[:n_real], scores[n_real:]
    return {
        "auc": roc_auc(s_real, s_fake),
        "auc_ci95": bootstrap_auc_ci(s_real, s_fake, n_boot, seed),
        "n_real": n_real,
        "n_fake": n_fake,
        "folds": int(folds),
        "split": split,
        "conditional": garments_real is not None,
        "seconds": round(time.perf_counter() - t0, 2),
        "settings": st.describe(size, folds, garments_real is not None, split),
        "scores_real": s_real.tolist(),  # out-of-fold fake scores, in input order (the report's worst cases)
        "scores_fake": s_fake.tolist(),
    }


# ------------------------------------------------------------------------------------------- folders


def person_and_garment(stem: str) -> tuple[str, str | None]:
    """``"P__G"`` -> ``("P", "G")``; any other stem ``S`` -> ``("S", None)``."""
    p, sep, g = stem.partition("__")
    return (p, g) if sep and p and g else (stem, None)


def garment_stem(stem: str, available: set[str] | dict) -> str | None:
    """The garment file stem of an image (the rule of the module docstring), or None when absent."""
    person, worn = person_and_garment(stem)
    candidates = [worn] if worn else [person]
    if not worn and person.endswith("_0"):
        candidates.append(person[:-2] + "_1")  # CP-VTON: <id>_0.jpg wears <id>_1.jpg
    return next((c for c in candidates if c in available), None)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files of ``folder`` (not recursive, sorted, try-on sheets left out); ValueError when
    the folder is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: folder not found")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not p.stem.endswith("_sheet")
    )
    if not files:
        raise ValueError(f"{folder}: no images ({', '.join(IMAGE_EXTS)})")
    return files


def read_folder(
    folder: str | os.PathLike, garments: str | os.PathLike | None = None
) -> tuple[list[str], list[np.ndarray], list[np.ndarray] | None]:
    """``(ids, images, garment images or None)`` of a folder; with ``garments`` (a folder) each image's
    garment by :func:`garment_stem`. A missing folder, an unreadable image or a missing garment raises
    ValueError naming it."""
    files = list_images(folder)
    ids = [person_and_garment(p.stem)[0] for p in files]
    images = [read_rgb(p) for p in files]
    if garments is None:
        return ids, images, None
    by_stem = {p.stem: p for p in list_images(garments)}
    cache: dict[str, np.ndarray] = {}  # a garment worn by several images is read once
    worn = []
    for p in files:
        g = garment_stem(p.stem, by_stem)
        if g is None:
            raise ValueError(f"{p}: no garment for it in {garments} (see `tryon eval realism --help`)")
        if g not in cache:
            cache[g] = read_rgb(by_stem[g])
        worn.append(cache[g])
    return ids, images, worn
