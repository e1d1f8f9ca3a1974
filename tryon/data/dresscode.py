"""Dress Code layout adapter: ``image/X_0.jpg`` person, ``cloth/X_1.jpg`` garment, ``keypoints/X_2.json``,
``image-parse/X_4.png`` (Dress Code label ids, remapped to CIHP on load), ``pairs*.txt``; the category
(upper_body | lower_body | dresses) comes from ``meta.csv`` when present (else ``upper_body``).
Dress Code ships no cloth masks: they are estimated from the light background.
"""

from __future__ import annotations

import os
from pathlib import Path

from tryon.data.vitonhd import PairRecord, _pairs_path, read_pairs


def _stem(name: str) -> str:
    """``000123_0.jpg`` -> ``000123``."""
    s = Path(name).stem
    return s.rsplit("_", 1)[0] if "_" in s else s


def categories(root: Path) -> dict[str, str]:
    """person file name -> category, from ``meta.csv`` (empty when absent)."""
    meta = Path(root) / "meta.csv"
    if not meta.exists():
        return {}
    import pandas as pd

    df = pd.read_csv(meta)
    if "category" not in df.columns or "person" not in df.columns:
        return {}
    return dict(zip(df["person"].astype(str), df["category"].astype(str), strict=False))


def list_pairs(root: str | os.PathLike, pairs: str | os.PathLike = "paired") -> list[PairRecord]:
    """Pairs of a Dress Code folder. pairs: 'paired' | 'unpaired' | 'all' | a pairs file path."""
    root = Path(root)
    cats = categories(root)
    mode = str(pairs) if str(pairs) in ("paired", "unpaired") else "all"
    recs = []
    for person, cloth in read_pairs(_pairs_path(root, pairs)):
        pid, cid = _stem(person), _stem(cloth)
        m = mode if mode != "all" else ("paired" if pid == cid else "unpaired")
        recs.append(
            PairRecord(
                person_id=Path(person).stem,
                cloth_id=Path(cloth).stem,
                person=root / "image" / person,
                cloth=root / "cloth" / cloth,
                cloth_mask=None,
                parse=root / "image-parse" / f"{pid}_4.png",
                pose=root / "keypoints" / f"{pid}_2.json",
                category=cats.get(person, "upper_body"),
                labelset="dresscode",
                mode=m,
            )
        )
    return recs


def list_persons(root: str | os.PathLike) -> list[tuple[str, Path, Path, str]]:
    """Every person: (person_id, image path, parse path, labelset)."""
    root = Path(root)
    return [
        (p.stem, p, root / "image-parse" / f"{_stem(p.name)}_4.png", "dresscode")
        for p in sorted((root / "image").glob("*_0.jpg"))
    ]
