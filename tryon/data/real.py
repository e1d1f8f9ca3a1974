"""Real photos as a training source (VITON-HD, Dress Code): the train/test split of a real folder, the
contour target without a contour photo, and the training dataset.

``real_root`` may hold (:func:`tryon.data.official.detect` tells which):

- the **official VITON-HD** or **Dress Code** folder: their own train/test splits, kept as shipped;
- the **flat layout** of ``../shared/data/vton-samples`` (``vitonhd/`` and/or ``dresscode/``, or one of
  them): no split is shipped, so the persons with a paired pair are split **by person** (no person on
  both sides), per (subset, category), ``test_fraction`` of them to test, shuffled with ``seed``; a
  person with only unpaired pairs (no ground truth) goes to test.

:func:`split_table` lists every pair with its split and body text (from a ``person,text`` CSV when
given, else estimated from the parse map and marked ``estimated``); stage 01 writes it as
``data/01_prepare/real_split.csv``. :class:`RealTrainSet` reads the train rows as the data contract of
:mod:`tryon.data.dataset`, with the contour target made by :func:`contour_target` and a per-pair cache
of the preprocessed tensors on disk (a 10,000-pair folder streams from disk, never all in memory).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from tryon.data import io, labels, preprocess
from tryon.data.vitonhd import PairRecord

#: the columns of the split table (paths relative to ``real_root``; '' when the dataset has no such file)
COLUMNS = [
    "id",
    "subset",
    "split",
    "mode",
    "category",
    "person_id",
    "cloth_id",
    "labelset",
    "person",
    "cloth",
    "cloth_mask",
    "parse",
    "pose",
    "densepose",
    "text",
    "text_source",
]
SUBSETS = ("vitonhd", "dresscode")
#: the split-table name of the subset each layout of :func:`tryon.data.official.detect` holds
LAYOUT_SUBSET = {"cpvton": "viton", "vitonhd_official": "vitonhd", "dresscode_official": "dresscode"}
#: bump when the cached tensors of :class:`RealTrainSet` change (keys or meaning): old caches are not read
CACHE_VERSION = 2


def _contour_fill() -> int:
    from tryon.data.synthetic.render import CONTOUR_BG_RGB

    return int(round(float(CONTOUR_BG_RGB[0]) * 255))  # a uniform grey


#: the contour target's padding value (the contour background's grey)
CONTOUR_FILL = _contour_fill()


def _rel(path: Path | None, root: Path) -> str:
    if path is None:
        return ""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _flat_records(root: Path) -> list[tuple[str, PairRecord]]:
    """(subset, record) of every pair ('all' pairs file) of a flat folder or of its subsets."""
    from tryon.data import dresscode, vitonhd
    from tryon.data.layout import detect_layout

    subs = [(s, root / s) for s in SUBSETS if (root / s / "image").is_dir()]
    if not subs and (root / "image").is_dir():
        subs = [(detect_layout(root), root)]
    out = []
    for name, folder in subs:
        mod = vitonhd if detect_layout(folder) == "vitonhd" else dresscode
        out += [(name, r) for r in mod.list_pairs(folder, "all")]
    return out


def person_split(
    records: list[tuple[str, PairRecord]], test_fraction: float, seed: int
) -> dict[tuple[str, str], str]:
    """(subset, person image stem) -> 'train' | 'test'. Per (subset, category), the persons with a
    paired pair are shuffled with ``seed`` and ``round(test_fraction * n)`` of them (at least one when
    n >= 2) go to test; persons with no paired pair (no ground truth) go to test."""
    groups: dict[tuple[str, str], set[str]] = {}
    everyone: set[tuple[str, str]] = set()
    for subset, r in records:
        everyone.add((subset, r.person.stem))
        if r.mode == "paired":
            groups.setdefault((subset, r.category), set()).add(r.person.stem)
    out = dict.fromkeys(everyone, "test")
    rng = np.random.default_rng(seed)
    for (subset, _), persons in sorted(groups.items()):
        order = sorted(persons)
        rng.shuffle(order)
        n_test = round(test_fraction * len(order))
        if len(order) >= 2:
            n_test = min(max(1, n_test), len(order) - 1)
        for i, p in enumerate(order):
            out[(subset, p)] = "test" if i < n_test else "train"
    return out


def dev_persons(persons, n_dev: int, seed: int) -> set[str]:
    """``n_dev`` of ``persons`` (sorted, then shuffled with ``seed``): the dev split held out of an official
    train split, by person photo (every pair of a dev person is dev)."""
    order = sorted(set(persons))
    np.random.default_rng(seed).shuffle(order)
    return set(order[: min(n_dev, max(0, len(order) - 1))])


def _first_persons(recs: list[PairRecord], n: int) -> list[PairRecord]:
    """The records of the first ``n`` distinct persons, in listing order (all with ``n`` = 0)."""
    if not n:
        return recs
    first: dict[str, None] = {}
    for r in recs:
        if len(first) >= n:
            break
        first.setdefault(r.person_id, None)
    return [r for r in recs if r.person_id in first]


def _official_records(
    root: Path, kind: str, n_dev: int = 0, seed: int = 0, max_persons: int = 0
) -> list[tuple[str, str, PairRecord]]:
    """(subset, split, record) of an official layout: its own train / test split (the first
    ``max_persons`` persons of each split and mode when > 0), and ``n_dev`` train persons moved to ``dev``
    (:func:`dev_persons`)."""
    from tryon.data import official

    subset = LAYOUT_SUBSET[kind]
    out = [
        (subset, split, r)
        for split in ("train", "test")
        for mode in ("paired", "unpaired")
        if not (split == "train" and mode == "unpaired")
        for r in _first_persons(official.list_official(root, split, mode), max_persons)
    ]
    dev = dev_persons([r.person_id for _, sp, r in out if sp == "train"], n_dev, seed) if n_dev else set()
    return [(s, "dev" if sp == "train" and r.person_id in dev else sp, r) for s, sp, r in out]


def _texts(rows: list[dict], root: Path, text_csv: Path | None, progress: bool) -> None:
    """Fill ``text`` and ``text_source`` of each row in place: the CSV's text for its persons, else an
    estimate from the person's parse map (read once per person)."""
    from tryon.data.annotate import estimate_attributes
    from tryon.data.vitonhd import load_parse

    given: dict[str, str] = {}
    if text_csv is not None:
        df = read_csv(text_csv, ("person", "text"))
        given = {str(p): str(t) for p, t in zip(df["person"], df["text"], strict=True)}
    cache: dict[str, str] = {}  # by parse file: a person id may name other photos in train and test
    it = rows
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(rows, desc="real body texts", unit="pair")
    for row in it:
        pid = row["person_id"]
        if pid in given:
            row["text"], row["text_source"] = given[pid], "given"
            continue
        key = row["parse"]
        if key not in cache:
            parse = load_parse(root / row["parse"], row["labelset"])
            cache[key] = str(estimate_attributes(parse)["text"])
        row["text"], row["text_source"] = cache[key], "estimated"


def _id_prefix(subset: str, split: str) -> str:
    """VITON reuses ids across its train and test folders (other photos): its ids name the folder."""
    if subset == "viton":
        return f"{subset}/{'test' if split == 'test' else 'train'}/"
    return f"{subset}/"


def split_table(
    root: str | os.PathLike,
    test_fraction: float = 0.3,
    seed: int = 0,
    text_csv: str | os.PathLike | None = None,
    progress: bool = False,
    n_dev: int = 0,
    max_persons: int = 0,
) -> pd.DataFrame:
    """Every pair of a real folder with its split and body text (:data:`COLUMNS`). Official layouts keep
    their train / test split, with ``n_dev`` train persons held out as ``dev`` (every training choice is
    made there; ``max_persons`` > 0 keeps the first that many persons of each official split, for quick
    runs); the flat layout is split by person into train / test. A folder that is neither official
    layout nor flat -> one-line :class:`~tryon.data.io.DataError` (from ``detect``)."""
    from tryon.data import official

    root = Path(root)
    kind = official.detect(root)
    if kind == "flat":
        recs = _flat_records(root)
        split = person_split(recs, test_fraction, seed)
        triples = [(s, split[(s, r.person.stem)], r) for s, r in recs]
    else:
        triples = _official_records(root, kind, n_dev, seed, max_persons)
    rows = []
    for subset, sp, r in triples:
        rows.append(
            {
                "id": f"{_id_prefix(subset, sp)}{r.person_id}__{r.cloth_id}",
                "subset": subset,
                "split": sp,
                "mode": r.mode,
                "category": r.category,
                "person_id": r.person_id,
                "cloth_id": r.cloth_id,
                "labelset": r.labelset,
                "person": _rel(r.person, root),
                "cloth": _rel(r.cloth, root),
                "cloth_mask": _rel(r.cloth_mask, root),
                "parse": _rel(r.parse, root),
                "pose": _rel(r.pose, root),
                "densepose": _rel(r.densepose, root),
            }
        )
    _texts(rows, root, Path(text_csv) if text_csv else None, progress)
    return pd.DataFrame(rows, columns=COLUMNS)


def record_of(row, root: str | os.PathLike) -> PairRecord:
    """A split-table row (a Series, a dict or an ``itertuples`` tuple) -> the
    :class:`~tryon.data.vitonhd.PairRecord` its files make."""
    root = Path(root)
    get = row.__getitem__ if hasattr(row, "keys") else lambda k: getattr(row, k)

    def p(key: str) -> Path | None:
        v = get(key)
        return None if not isinstance(v, str) or not v else root / v

    return PairRecord(
        person_id=str(get("person_id")),
        cloth_id=str(get("cloth_id")),
        person=p("person"),
        cloth=p("cloth"),
        cloth_mask=p("cloth_mask"),
        parse=p("parse"),
        pose=p("pose"),
        category=str(get("category")),
        labelset=str(get("labelset")),
        mode=str(get("mode")),
        densepose=p("densepose"),
    )


def read_split(path: str | os.PathLike) -> pd.DataFrame:
    """The split table written by stage 01 (checks its columns; one-line error naming the file)."""
    return read_csv(path, COLUMNS).fillna("")


def read_csv(path: str | os.PathLike, columns) -> pd.DataFrame:
    """A CSV read as strings, with one-line errors naming the file (absent, unreadable, columns missing)."""
    path = Path(path)
    if not path.is_file():
        raise io.DataError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise io.DataError(f"{path}: not a readable CSV ({type(e).__name__})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise io.DataError(f"{path}: missing column(s) {missing} (expected {list(columns)})")
    return df


# ------------------------------------------------------------------------------------------------
# The contour target of a real photo
# ------------------------------------------------------------------------------------------------
def body_region(parse: np.ndarray, densepose: np.ndarray | None = None) -> np.ndarray:
    """bool [H, W]: the body as the contour image draws it. With a DensePose rendering or label map
    (any non-black pixel is body) the body under the clothes; else the parse silhouette (every
    non-background label, so loose clothes widen it)."""
    if densepose is not None:
        dp = np.asarray(densepose)
        body = (dp.max(axis=-1) if dp.ndim == 3 else dp) > 16
        if body.any():
            return body
    return np.asarray(parse) != labels.CIHP.BACKGROUND


def contour_target(
    person: np.ndarray, parse: np.ndarray, category: str, densepose: np.ndarray | None = None
) -> np.ndarray:
    """The model contour image of a real photo, uint8 [H, W, 3], drawn like the synthetic ones
    (:mod:`tryon.data.synthetic.render`): the light contour background, the body (:func:`body_region`)
    in the tight dark bodysuit, and on it the photo's kept trunk pixels (face, hair, neck, hands, the
    clothes not replaced) and arms. A departure the method does not need: it has contour photos."""
    from tryon.data.synthetic.render import BODYSUIT_RGB, CONTOUR_BG_RGB

    body = body_region(parse, densepose)
    keep = labels.trunk_mask(parse, category) | labels.isin(parse, labels.ARMS)
    out = np.empty_like(person)
    out[:] = np.round(CONTOUR_BG_RGB * 255).astype(np.uint8)
    out[body] = np.round(BODYSUIT_RGB * 255).astype(np.uint8)
    out[keep] = person[keep]
    return out


def _read_densepose(path: Path | None, size: tuple[int, int]) -> np.ndarray | None:
    """A DensePose rendering (RGB) or label map resized to ``size`` (W, H) nearest; None when absent."""
    if path is None or not Path(path).exists():
        return None
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.resize(size, Image.NEAREST))


# ------------------------------------------------------------------------------------------------
# The training dataset
# ------------------------------------------------------------------------------------------------
def flip(d: dict) -> dict:
    """The pair mirrored left-right (person side and garment together: still a valid pair). The
    identity ``gt_grid`` stays the identity; ``flow_valid`` is all zeros on real pairs."""
    out = dict(d)
    for k, v in d.items():
        if isinstance(v, torch.Tensor) and v.dim() >= 2 and k not in ("gt_grid",):
            out[k] = v.flip(-1)
    return out


#: the orders of the RGB channels (the first keeps the colours)
CHANNEL_ORDERS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def jitter(d: dict, rng: np.random.Generator, shift: float, colour: bool) -> dict:
    """A pair made new for the warp and the fusion (still a valid pair; ``05_train.real_jitter``): the
    flat garment and its mask scaled by a factor in [1 - shift, 1 + shift / 2] about the centre and moved
    by up to ``shift`` of half the image each way (the warp has no ground-truth flow on real pairs, so any
    placement is as true), and with ``colour`` the RGB channels of the flat garment and of the worn
    garment in the photo (``worn_mask``) put in one random order (:data:`CHANNEL_ORDERS`): the
    garment's look changes, its folds and shading do not."""
    import torch.nn.functional as F

    out = dict(d)
    if shift > 0:
        s = rng.uniform(1 - shift, 1 + shift / 2)
        tx, ty = rng.uniform(-shift, shift, 2)
        theta = torch.tensor([[[1 / s, 0, -tx / s], [0, 1 / s, -ty / s]]], dtype=torch.float32)
        grid = F.affine_grid(theta, [1, 1, *d["garment"].shape[-2:]], align_corners=False)
        g = F.grid_sample(d["garment"][None], grid, padding_mode="border", align_corners=False)[0]
        m = F.grid_sample(d["garment_mask"][None], grid, align_corners=False)[0]
        out["garment"], out["garment_mask"] = g, (m > 0.5).to(m.dtype)
    if colour:
        order = list(CHANNEL_ORDERS[int(rng.integers(len(CHANNEL_ORDERS)))])
        out["garment"] = out["garment"][order]
        worn = d["worn_mask"] > 0.5
        out["person"] = torch.where(worn, d["person"][order], d["person"])
    return out


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


class RealTrainSet(Dataset):
    """The ``split`` rows (paired pairs only: the photo is the target) of a split table as the data
    contract of :mod:`tryon.data.dataset`, with ``contour`` = :func:`contour_target` and
    ``has_contour`` True, identity ``gt_grid`` and zero ``flow_valid`` (no ground-truth flow), and
    ``is_real`` True. ``cache_dir``: each pair's tensors are saved there on first read (atomic) and
    read back after. ``augment``: the set is twice as long, index ``n + i`` is pair ``i`` mirrored
    (:func:`flip`), so a seeded sampler draws both and the order stays reproducible. ``jitter`` > 0:
    that many more copies of those, each drawn once from ``seed`` and the index (:func:`jitter`:
    the flat garment moved and scaled by up to ``shift``, garment colours permuted with ``colour``).
    ``max_pairs`` > 0: only that many pairs, a subset drawn with ``seed``."""

    def __init__(
        self,
        table: pd.DataFrame,
        root: str | os.PathLike,
        size: int,
        split: str = "train",
        cache_dir: str | os.PathLike | None = None,
        augment: bool = False,
        jitter: int = 0,
        shift: float = 0.0,
        colour: bool = False,
        seed: int = 0,
        max_pairs: int = 0,
    ):
        t = table[(table["split"] == split) & (table["mode"] == "paired")].reset_index(drop=True)
        if max_pairs and len(t) > max_pairs:  # a seeded subset: the first of a shuffle, in table order
            pick = np.sort(np.random.default_rng(seed).permutation(len(t))[:max_pairs])
            t = t.iloc[pick].reset_index(drop=True)
        self.table, self.root, self.size = t, Path(root), size
        self.pose_unreadable: list[str] = []  # pairs whose keypoint file cannot be read (prefill)
        self.cache_dir = Path(cache_dir) / f"{size}px-v{CACHE_VERSION}" if cache_dir else None
        self.augment = augment
        self.jitter, self.shift, self.colour, self.seed = jitter, shift, colour, seed

    def __len__(self) -> int:
        return len(self.table) * (2 if self.augment else 1) * (1 + self.jitter)

    def prefill(self, progress: bool = False) -> list[str]:
        """Read every pair once into the cache (a pair cached before is not read again), with a progress
        bar; a pair whose files cannot be read (a corrupt or missing image, a bad parse map) is dropped.
        Returns those pairs as ``'<id>: <one-line reason>'``. A pair whose keypoint file cannot be read is
        kept, with an empty pose map (:meth:`pose`), and listed in ``pose_unreadable`` the same way."""
        from tryon.data.pose import read_keypoints

        it = range(len(self.table))
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc="real pairs", unit="pair", mininterval=5)
        bad, keep, self.pose_unreadable = [], [], []
        for i in it:
            try:
                if self._cache_path(i) is None or not self._cache_path(i).exists():  # cached: read before
                    self.tensors(i)
                keep.append(i)
            except (io.DataError, labels.LabelError, OSError, ValueError) as e:
                bad.append(f"{self.table.loc[i, 'id']}: {_first_line(e)}")
                continue
            pose = record_of(self.table.iloc[i], self.root).pose
            if pose is not None and Path(pose).is_file():
                try:
                    read_keypoints(pose)
                except ValueError as e:
                    self.pose_unreadable.append(f"{self.table.loc[i, 'id']}: {_first_line(e)}")
        if bad:
            self.table = self.table.iloc[keep].reset_index(drop=True)
        return bad

    @property
    def texts(self) -> list[str]:
        return [str(t) for t in self.table["text"]]

    def _load(self, i: int) -> dict:
        from tryon.data.dataset import identity_grid
        from tryon.data.vitonhd import load_record

        row = self.table.iloc[i]
        rec = record_of(row, self.root)
        d = load_record(rec)
        h, w = d["person"].shape[:2]
        S = self.size
        out = preprocess.preprocess_person(d["person"], d["parse"], S, rec.category)
        garment, gmask = preprocess.preprocess_garment(d["cloth"], d["cloth_mask"], S)
        contour = contour_target(
            d["person"], d["parse"], rec.category, _read_densepose(rec.densepose, (w, h))
        )
        # padded with the contour background, as synthetic contour images are (no pad bars to learn)
        cimg, _ = preprocess.square(contour, S, "rgb", fill=CONTOUR_FILL)
        return {
            **out,
            "garment": garment,
            "garment_mask": gmask,
            "contour": preprocess.rgb_to_tensor(cimg),
            "has_contour": torch.tensor(True),
            "gt_grid": identity_grid(S),
            "flow_valid": torch.zeros(1, S, S),
        }

    def _cache_path(self, i: int) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{str(self.table.loc[i, 'id']).replace('/', '__')}.pt"

    def tensors(self, i: int) -> dict:
        """The pair's preprocessed tensors (from the cache when there)."""
        path = self._cache_path(i)
        if path is None:
            return self._load(i)
        if path.exists():
            return torch.load(path, weights_only=True)
        d = self._load(i)
        from tryon.checkpoint import atomic_torch_save

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_torch_save(d, path)
        return d

    def pose(self, i: int, image_size: tuple[int, int], mirrored: bool = False) -> torch.Tensor:
        """Pair ``i``'s pose map (:func:`tryon.data.pose.read_pose_map`; ``image_size`` the photo's (W, H))
        from its keypoint file, drawn on each read (the cache keeps only the images); all zeros when the
        pair has none or it cannot be read (:meth:`prefill` counts those). Both sides share a channel, so the mirrored pair's map is the
        map mirrored."""
        from tryon.data.pose import read_pose_map

        path = record_of(self.table.iloc[i], self.root).pose
        try:
            m = read_pose_map(path, image_size, self.size)
        except ValueError:
            m = read_pose_map(None, image_size, self.size)
        return m.flip(-1) if mirrored else m

    def __getitem__(self, i: int) -> dict:
        copy, i = divmod(i, len(self.table) * (2 if self.augment else 1))
        mirrored, i = divmod(i, len(self.table))
        row = self.table.iloc[i]
        d = self.tensors(i)
        if mirrored:
            d = flip(d)
        if copy:
            d = jitter(d, np.random.default_rng([self.seed, i, mirrored, copy]), self.shift, self.colour)
        return {
            **d,
            "pose": self.pose(i, tuple(int(v) for v in d["orig_size"]), bool(mirrored)),
            "id": str(row["id"]),
            "text": str(row["text"]),
            "body_type": "",
            "build": "",
            "garment_type": str(row["category"]),
            "height_cm": float("nan"),
            "weight_kg": float("nan"),
            "is_real": torch.tensor(True),
        }
