"""A sweep of one text field (:func:`sweep`): one try-on per value and the warped garment's width;
:func:`weight_width_rank` is its rank correlation with the weight on the VITON-HD test persons."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon.viz.explore.inputs import DEFAULT_VALUES, FIELDS, RANK_PERSONS, VITONHD
from tryon.viz.explore.run import Explorer, garment_width

if TYPE_CHECKING:
    import pandas as pd

    from tryon.infer.model import Inputs


@dataclass
class Sweep:
    """One try-on per value of a text field. ``widths``: the warped garment's width per value
    (:func:`garment_width`, a fraction of the photo width); ``row_widths`` [n, H]: its pixels per image row."""

    field: str
    values: list
    texts: list[str]
    images: list[np.ndarray]
    warped: list[np.ndarray]
    widths: np.ndarray
    row_widths: np.ndarray
    seconds: float = 0.0
    person: str = ""

    def rank_correlation(self) -> float:
        """Spearman's rank correlation of the width with a numeric field's values (nan for a category,
        or when the widths are all equal)."""
        if self.field not in DEFAULT_VALUES or len(set(self.widths.tolist())) < 2:
            return math.nan
        from scipy.stats import spearmanr

        return float(spearmanr(np.asarray(self.values, float), self.widths).statistic)


def with_field(text: str, field: str, value) -> str:
    """``text`` with one field (:data:`FIELDS`) set to ``value`` (a number in cm / kg, a word, or None for
    unknown), in the canonical spelling (:meth:`tryon.text.BodyText.to_text`)."""
    from tryon.text import parse_body_text

    if field not in FIELDS:
        raise ValueError(f"field: expected one of {list(FIELDS)}, got {field!r}")
    if value is None:
        value = math.nan if field in DEFAULT_VALUES else None
    elif field in DEFAULT_VALUES:
        value = float(value)
    return replace(parse_body_text(text), **{FIELDS[field]: value}).to_text()


def check_values(field: str, values: Sequence, vocab=None) -> list:
    """The sweep values as a list: a numeric field's must be strictly monotone (two or more), a
    category's words of ``vocab`` (when given), each once."""
    vals = list(values)
    if field not in FIELDS:
        raise ValueError(f"sweep: field must be one of {list(FIELDS)}, got {field!r}")
    if len(vals) < 2:
        raise ValueError(f"sweep: needs at least two values, got {vals}")
    if field in DEFAULT_VALUES:
        d = np.diff(np.asarray(vals, dtype=float))
        if not ((d > 0).all() or (d < 0).all()):
            raise ValueError(f"sweep: {field} values must be strictly increasing or decreasing, got {vals}")
        return [float(v) for v in vals]
    if len(set(vals)) != len(vals):
        raise ValueError(f"sweep: {field} values repeat: {vals}")
    if vocab is not None:
        known = vocab.body_types if field == "body type" else vocab.builds
        bad = [v for v in vals if v not in known]
        if bad:
            raise ValueError(f"sweep: {bad} not in this model's {field} vocabulary ({', '.join(known)})")
    return vals


def parse_values(field: str, spec: str) -> list:
    """Sweep values from a string: ``45:110:5`` (start, stop inclusive, step) or ``45, 60, 80`` (numbers
    or words)."""
    spec = spec.strip()
    if field in DEFAULT_VALUES and spec.count(":") == 2:
        a, b, s = (float(v) for v in spec.split(":"))
        if s == 0 or (b - a) / s < 0:
            raise ValueError(f"sweep: {spec!r} is not start:stop:step towards stop")
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        return [a + i * s for i in range(n)]
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return [float(p) for p in parts] if field in DEFAULT_VALUES else parts


def sweep(
    explorer: Explorer,
    inp: Inputs,
    field: str = "weight",
    values: Sequence | None = None,
    text: str | None = None,
) -> Sweep:
    """Try ``inp`` on once per value of one text field (the other fields as in ``text``, default
    ``inp.text``). Numeric values must be strictly monotone (:func:`check_values`)."""
    vals = check_values(field, DEFAULT_VALUES.get(field, ()) if values is None else values, explorer.vocab)
    base = text if text is not None else inp.text
    texts = [with_field(base, field, v) for v in vals]
    for t in texts:  # every text readable before the first try-on
        explorer.model.encode_text(t)
    t0 = time.perf_counter()
    images, warped, widths, rows = [], [], [], []
    for t in texts:
        res = explorer.model.predict(replace(inp, text=t))
        wd, per_row = garment_width(res.warped_mask)
        images.append(res.image)
        warped.append(res.warped)
        widths.append(wd)
        rows.append(per_row)
    return Sweep(
        field, vals, texts, images, warped, np.asarray(widths), np.stack(rows), time.perf_counter() - t0,
        person=inp.name,
    )  # fmt: skip


def weight_width_rank(
    checkpoint: str | os.PathLike | None = None,
    persons: Sequence[str] = RANK_PERSONS,
    values: Sequence[float] = DEFAULT_VALUES["weight"],
    text: str | None = None,
    height: int | None = None,
    threads: int = 1,
    roots: dict[str, Path] | None = None,
    show: bool = True,
) -> pd.DataFrame:
    """Spearman's rank correlation of the warped garment's width with the weight, per VITON-HD sample
    person (``vton-samples/vitonhd``, each with its parse map and the first garment its pairs files give it,
    unpaired first). The other fields: ``text``, else the text estimated from the person's parse map
    (:meth:`Explorer.estimate_text`, what ``tryon try-on`` uses without ``--text``). ``height``: the rows
    the photos are scaled to (None: their own size, 1024). Prints the table when ``show``."""
    import pandas as pd

    ex = Explorer(checkpoint, threads, height, roots)
    cat = ex.catalogue(VITONHD)
    garment_of = {}
    for p, g in cat.pairs:
        garment_of.setdefault(p, g)
    rows = []
    for name in persons:
        if name not in cat.persons:
            raise ValueError(
                f"weight_width_rank: {name!r} is not a VITON-HD sample person ({sorted(cat.persons)})"
            )
        inp = ex.read(cat.persons[name], cat.garments[garment_of[name]])
        base = text if text is not None else ex.estimate_text(inp)[0]
        sw = sweep(ex, inp, "weight", values, base)
        d = np.diff(sw.widths)
        rows.append({
            "person": name, "garment": garment_of[name], "text": with_field(base, "weight", None),
            "spearman": sw.rank_correlation(), "width_first": sw.widths[0], "width_last": sw.widths[-1],
            "growth": sw.widths[-1] / sw.widths[0] - 1 if sw.widths[0] > 0 else math.nan,
            "monotone": bool((d >= 0).all()), "steps_down": int((d < 0).sum()), "seconds": sw.seconds,
        })  # fmt: skip
    df = pd.DataFrame(rows)
    df.attrs["checkpoint"] = str(ex.checkpoint)
    if show:
        v = list(values)
        print(
            f"warped-garment width vs weight ({v[0]:g}..{v[-1]:g} kg, {len(v)} values), checkpoint "
            f"{ex.checkpoint}, photos at {'their own size' if height is None else f'{height} rows'}:"
        )
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(df.drop(columns="seconds").round(3).to_string(index=False))
    return df
