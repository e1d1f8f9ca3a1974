"""One torch ``Dataset`` dict for synthetic and real samples (the shared data contract).

``ds[i]`` keys (S = image size):
- "id", "text", "body_type", "build", "garment_type": str; "height_cm", "weight_kg": float (nan unknown)
- "person", "garment", "contour", "trunk", "keep": float32 [3, S, S] in [-1, 1]
- "garment_mask", "worn_mask", "trunk_mask", "keep_mask", "flow_valid": float32 [1, S, S] in {0, 1}
  ("keep": the photo on "keep_mask", the trunk regions plus the background: what the fusion keeps)
- "parse": int64 [S, S] CIHP ids; "has_contour", "is_real": bool tensors
- "gt_grid": float32 [2, S, S], (x, y) in the flat garment, normalised [-1, 1], align_corners=False:
  ``F.grid_sample(garment[None], gt_grid.permute(1, 2, 0)[None], align_corners=False)`` reproduces the worn
  garment inside flow_valid (zeros of flow_valid on real data, where gt_grid is the identity)
- "pad": int64 [4] (left, top, right, bottom) in original pixels; "orig_size": int64 [2] (W, H)
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from tryon.data import io, labels, preprocess
from tryon.data.layout import detect_layout  # also re-exported: tryon.infer and tests import it from here
from tryon.data.synthetic import LAYOUT


def identity_grid(size: int) -> torch.Tensor:
    """[2, S, S] normalised pixel-centre coordinates (x, y), align_corners=False."""
    c = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1
    return torch.stack([c[None, :].expand(size, size), c[:, None].expand(size, size)])


def _resize_grid(grid: torch.Tensor, size: int) -> torch.Tensor:
    """Resample a [2, s, s] normalised grid field to [2, S, S] (values stay normalised)."""
    if grid.shape[-1] == size:
        return grid
    return F.interpolate(grid[None], size=(size, size), mode="bilinear", align_corners=False)[0]


class TryOnDataset(Dataset):
    """Prepared synthetic folder (``data/01_prepare``: ``manifest.csv`` + ``<split>/<kind>/<id>.png``).

    image_size: resize on load (None = stored size). Masks and label maps use nearest neighbour."""

    def __init__(self, root: str | os.PathLike, split: str = "train", image_size: int | None = None):
        self.root = Path(root)
        man = self.root / "manifest.csv"
        if not man.exists():
            raise io.DataError(f"{man}: file not found (run `tryon generate` or the 01_prepare stage)")
        df = pd.read_csv(man)
        missing = {"id", "split", "text"} - set(df.columns)
        if missing:
            raise io.DataError(f"{man}: missing column(s) {sorted(missing)}")
        self.table = df[df["split"] == split].reset_index(drop=True)
        self.split = split
        self.dir = self.root / split
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.table)

    @property
    def texts(self) -> list[str]:
        """Body texts in dataset order (from the manifest, no images read)."""
        return [str(t) for t in self.table["text"]]

    def _pose(self, row, s0: int, size: int) -> torch.Tensor:
        """The body's pose map (:func:`tryon.data.pose.pose_map`), its joints re-drawn from the manifest's
        seed and index; all zeros for a manifest without them."""
        from tryon.data.pose import pose_map
        from tryon.data.synthetic.sample import sample_keypoints

        if not {"seed", "index"} <= set(row.index):
            return pose_map(None, (s0, s0), size)
        # manifests written before the shape_jitter column had the text-tied 3% spread
        jitter = float(row["shape_jitter"]) if "shape_jitter" in row.index else 0.03
        kp = sample_keypoints(int(row["seed"]), self.split, int(row["index"]), s0, jitter)
        return pose_map(kp, (s0, s0), size)

    def _path(self, key: str, sid: str, ext: str = "png") -> Path:
        return self.dir / LAYOUT[key] / f"{sid}.{ext}"

    def __getitem__(self, i: int) -> dict:
        row = self.table.iloc[i]
        sid = str(row["id"])
        person = io.read_rgb(self._path("person", sid))
        s0 = person.shape[0]
        size = self.image_size or s0
        parse = io.read_labels(self._path("parse", sid), labels.N_CIHP, (s0, s0))
        garment = io.read_rgb(self._path("garment", sid))
        gmask = io.read_mask(self._path("garment_mask", sid))
        contour = io.read_rgb(self._path("contour", sid))
        valid = io.read_mask(self._path("flow_valid", sid))
        grid = io.read_npy(self._path("gt_grid", sid, "npy"))
        if grid.shape != (2, s0, s0):
            raise io.DataError(
                f"{self._path('gt_grid', sid, 'npy')}: shape {grid.shape}, expected (2, {s0}, {s0})"
            )
        if size != s0:
            person = preprocess.resize(person, size, "rgb")
            garment = preprocess.resize(garment, size, "rgb")
            contour = preprocess.resize(contour, size, "rgb")
            gmask = preprocess.resize(gmask, size, "mask")
            parse = preprocess.resize(parse, size, "labels")
            valid = preprocess.resize(valid, size, "labels").astype(bool)
        p = preprocess.rgb_to_tensor(person)
        trunk, tmask = preprocess.trunk(p, parse)
        return {
            "pose": self._pose(row, s0, size),
            "id": sid,
            "text": str(row["text"]),
            "body_type": str(row.get("body_type", "")),
            "build": str(row.get("build", "")),
            "garment_type": str(row.get("garment_type", "")),
            "height_cm": float(row.get("height_cm", math.nan)),
            "weight_kg": float(row.get("weight_kg", math.nan)),
            "person": p,
            "garment": preprocess.rgb_to_tensor(garment),
            "garment_mask": preprocess.mask_to_tensor(gmask),
            "worn_mask": preprocess.mask_to_tensor(labels.garment_mask(parse)),
            "parse": torch.from_numpy(parse.astype(np.int64)),
            "trunk_mask": tmask,
            "trunk": trunk,
            **preprocess.kept(p, parse),
            "contour": preprocess.rgb_to_tensor(contour),
            "has_contour": torch.tensor(True),
            "gt_grid": _resize_grid(torch.from_numpy(grid.astype(np.float32)), size),
            "flow_valid": preprocess.mask_to_tensor(valid),
            "pad": torch.zeros(4, dtype=torch.int64),
            "orig_size": torch.tensor([s0, s0], dtype=torch.int64),
            "is_real": torch.tensor(False),
        }


class UnpairedSynthetic(Dataset):
    """Unpaired try-on with ground truth, from a prepared synthetic split: sample ``i`` keeps the person
    side of ``paired[i]`` (text, trunk map: the person wearing their own garment) and takes the flat
    garment of ``paired[(i + shift) % n]``; the targets (``person``, ``worn_mask``, ``gt_grid``,
    ``flow_valid``, ``contour``) are body ``i`` rendered wearing that garment
    (:func:`tryon.data.synthetic.make_unpaired`). Only for procedural garments (the manifest's
    ``seed`` and ``index`` columns regenerate them).

    ``n_shifts`` > 1 (training: more garments per person) makes ``n * n_shifts`` samples: sample
    ``j`` is person ``j % n`` in the garment ``shift + (j // n) * ((n - 1) // n_shifts)`` places on.
    ``skin_gain``: also return the ``skin_gain`` mask (the evaluation's; training batches mix these
    samples with paired ones, which have no such key)."""

    def __init__(self, paired: TryOnDataset, shift: int = 1, n_shifts: int = 1, skin_gain: bool = True):
        t = paired.table
        if not {"seed", "index"} <= set(t.columns):
            raise io.DataError(f"{paired.root / 'manifest.csv'}: no seed/index columns to re-render from")
        if "garment_id" in t.columns and not t["garment_id"].astype(str).str.match(r"^\w+-g\d+$").all():
            raise io.DataError(
                "unpaired ground truth needs procedural garments (01_prepare.garment_dir is set)"
            )
        n = len(paired)
        if not 1 <= n_shifts < max(n, 2):
            raise ValueError(f"n_shifts: expected 1..{max(n - 1, 1)} for {n} samples, got {n_shifts}")
        self.paired, self.skin_gain = paired, skin_gain
        self.shifts = [shift + k * ((n - 1) // n_shifts) for k in range(n_shifts)]

    def __len__(self) -> int:
        return len(self.paired) * len(self.shifts)

    def __getitem__(self, k: int) -> dict:
        from tryon.data.synthetic import make_unpaired

        n = len(self.paired)
        i = k % n
        j = (i + self.shifts[k // n]) % n
        a, b = self.paired[i], self.paired[j]
        row_a, row_b = self.paired.table.iloc[i], self.paired.table.iloc[j]
        s0 = int(a["orig_size"][0])
        # manifests written before the shape_jitter column had the text-tied 3% spread
        jitter = float(row_a["shape_jitter"]) if "shape_jitter" in row_a.index else 0.03
        _, _, out = make_unpaired(
            int(row_a["seed"]), self.paired.split, int(row_a["index"]), int(row_b["index"]), s0, jitter
        )
        size = a["person"].shape[-1]

        def rgb(x: np.ndarray) -> torch.Tensor:
            return preprocess.rgb_to_tensor(preprocess.resize(io.to_uint8(x), size, "rgb"))

        def mask(x: np.ndarray) -> torch.Tensor:
            return preprocess.mask_to_tensor(preprocess.resize(x, size, "mask"))

        grid = torch.from_numpy(out["gt_grid"].astype(np.float32))
        # where the new garment uncovers skin: garment in the person photo, arm or torso skin in the truth
        gt_parse = preprocess.resize(out["parse"], size, "labels")
        was_garment = labels.isin(a["parse"].numpy(), labels.UPPER_GARMENT)
        skin_gain = was_garment & labels.isin(gt_parse, (*labels.ARMS, labels.CIHP.TORSO_SKIN))
        extra = {"skin_gain": preprocess.mask_to_tensor(skin_gain)} if self.skin_gain else {}
        return {
            **a,
            **extra,
            "id": f"{a['id']}+{b['id']}",
            "garment": b["garment"],
            "garment_mask": b["garment_mask"],
            "garment_type": b["garment_type"],
            "person": rgb(out["person"]),
            "worn_mask": mask(out["worn_mask"]),
            "contour": rgb(out["contour"]),
            "gt_grid": _resize_grid(grid, size),
            "flow_valid": mask(out["flow_valid"]),
        }


class RealPairsDataset(Dataset):
    """A VITON-HD or Dress Code folder as the same dict as :class:`TryOnDataset` (no contour: zeros and
    has_contour False; no ground-truth flow: identity gt_grid and flow_valid zeros).

    pairs: 'paired' | 'unpaired' | 'all' | a pairs file. annotations: CSV from ``tryon annotate``
    (columns person, height_cm, weight_kg, body_type, build, text); persons missing from it, or all when
    None, get estimates from their parse map."""

    def __init__(
        self,
        root: str | os.PathLike,
        pairs: str = "paired",
        image_size: int = 256,
        layout: str | None = None,
        annotations: str | os.PathLike | None = None,
    ):
        from tryon.data import dresscode, vitonhd

        self.root = Path(root)
        self.layout = layout or detect_layout(self.root)
        mod = {"vitonhd": vitonhd, "dresscode": dresscode}.get(self.layout)
        if mod is None:
            raise ValueError(f"layout: expected vitonhd or dresscode, got {self.layout!r}")
        self.records = mod.list_pairs(self.root, pairs)
        self.image_size = image_size
        self.annotations = None
        if annotations is not None:
            from tryon.data.annotate import read_annotations

            self.annotations = read_annotations(annotations)

    def __len__(self) -> int:
        return len(self.records)

    def _attributes(self, person_id: str, parse: np.ndarray) -> dict:
        from tryon.data.annotate import estimate_attributes

        if self.annotations is not None and person_id in self.annotations.index:
            r = self.annotations.loc[person_id]
            return {k: r[k] for k in ("text", "body_type", "build", "height_cm", "weight_kg")}
        return estimate_attributes(parse)

    def __getitem__(self, i: int) -> dict:
        from tryon.data.pose import read_pose_map
        from tryon.data.vitonhd import load_record

        rec = self.records[i]
        d = load_record(rec)
        S = self.image_size
        out = preprocess.preprocess_person(d["person"], d["parse"], S, rec.category)
        garment, gmask = preprocess.preprocess_garment(d["cloth"], d["cloth_mask"], S)
        att = self._attributes(rec.person_id, d["parse"])
        out.update(
            {
                "pose": read_pose_map(rec.pose, d["person"].shape[1::-1], S),
                "id": f"{rec.person_id}__{rec.cloth_id}",
                "text": str(att["text"]),
                "body_type": str(att["body_type"]),
                "build": str(att["build"]),
                "garment_type": rec.category,
                "height_cm": float(att["height_cm"]),
                "weight_kg": float(att["weight_kg"]),
                "garment": garment,
                "garment_mask": gmask,
                "contour": torch.zeros(3, S, S),
                "has_contour": torch.tensor(False),
                "gt_grid": identity_grid(S),
                "flow_valid": torch.zeros(1, S, S),
                "is_real": torch.tensor(True),
            }
        )
        return out
