"""Stage 02_encode: the body-text vocabulary ([0111]-[0116]) and a look at the text MLP's maps.

The notebook calls :func:`run` (builds and saves ``data/02_encode/vocab.json`` from the training texts
of ``data/01_prepare`` and returns the metrics), then the figure helpers:
:func:`vocabulary_table`, :func:`code_distribution_figure`, :func:`body_maps_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tryon import paths
from tryon.config import Params
from tryon.nets.text_mlp import TextMLP, build_text_mlp
from tryon.text import BodyText, BodyTextError, Vocabulary, parse_body_text

SLUG = "02_encode"
#: the texts whose body maps the report compares (thin -> fat, pear -> V, short -> tall)
CONTRASTING_TEXTS: tuple[str, ...] = (
    "height 170cm, weight 50kg, pear, thin",
    "height 170cm, weight 95kg, pear, fat",
    "height 170cm, weight 65kg, V, well-proportioned",
    "height 155cm, weight 65kg, pear, well-proportioned",
    "height 190cm, weight 65kg, pear, well-proportioned",
)


def load_texts(prepared: Path, split: str) -> list[str]:
    """Body texts of a prepared split, in dataset order (reads the dataset's metadata, no images)."""
    from tryon.data.dataset import TryOnDataset

    ds = TryOnDataset(prepared, split)
    table = getattr(ds, "table", None)
    if table is not None and "text" in table:  # the manifest: no image is read
        return ["" if not isinstance(t, str) else t for t in table["text"]]
    return [ds[i]["text"] for i in range(len(ds))]


def unit_variants(p: BodyText) -> list[str]:
    """The same fields spelt with other units, orders and the patent's Chinese words (for the
    'unit variants give the same code' check). Only exact conversions are used (m, 斤, lbs to 0.01 kg)."""
    from tryon.vocab import BODY_TYPE_ALIASES, BUILD_ALIASES

    zh_bt = {v: k for k, v in BODY_TYPE_ALIASES.items() if not k.isascii()}
    zh_bd = {v: k for k, v in BUILD_ALIASES.items() if not k.isascii()}
    words = [w for w in (p.body_type, p.build) if w is not None]
    h = (
        []
        if math.isnan(p.height_cm)
        else [f"{p.height_cm / 100:g}m", f"{p.height_cm:g} cm", f"身高{p.height_cm:g}厘米"]
    )
    w = (
        []
        if math.isnan(p.weight_kg)
        else [f"{p.weight_kg:g} kg", f"{2 * p.weight_kg:g}斤", f"weight {p.weight_kg:g}"]
    )
    out = []
    for i in range(3):
        parts = ([h[i]] if h else []) + ([w[i]] if w else [])
        if i == 2:  # Chinese category words, reversed order
            parts += [zh_bt.get(p.body_type, p.body_type), zh_bd.get(p.build, p.build)]
            parts = [x for x in parts if x][::-1]
            out.append("，".join(parts))
        else:
            out.append(", ".join(words[::-1] + parts))
    return out


def run(params: Params, root: Path | None = None) -> dict:
    """Build the vocabulary from the training texts, save it (atomic JSON) and measure it.

    Returns the metrics: number of texts, category words, code length, round-trip rate (decode(encode)
    gives back the parsed fields), unit-variant agreement rate, test texts encodable, unknown counts.
    """
    root = root or paths.ROOT
    prepared = paths.stage_dir("01_prepare", root)
    out_dir = paths.stage_dir(SLUG, root)
    train = load_texts(prepared, "train")
    test = load_texts(prepared, "test")
    vocab = Vocabulary.build(train)
    vocab.save(out_dir / "vocab.json")
    parsed = [parse_body_text(t) for t in train]
    round_trip = [vocab.round_trip_ok(t) for t in train]
    same_code = []
    for t, p in zip(train, parsed, strict=True):
        ref = vocab.encode(t)
        same_code.append(all(np.array_equal(vocab.encode(v), ref) for v in unit_variants(p)))
    test_ok = 0
    for t in test:
        try:
            vocab.encode(t)
            test_ok += 1
        except BodyTextError:
            pass
    codes = vocab.encode_batch(train)
    return {
        "n_train_texts": len(train),
        "n_test_texts": len(test),
        "vocab_size": len(vocab.body_types) + len(vocab.builds),
        "body_types": vocab.body_types,
        "builds": vocab.builds,
        "code_dim": vocab.code_dim,
        "distinct_codes": int(len({c.tobytes() for c in codes})),
        "round_trip_rate": float(np.mean(round_trip)),
        "unit_variant_same_code_rate": float(np.mean(same_code)),
        "test_encodable_rate": test_ok / max(len(test), 1),
        "unknown_height": int(sum(math.isnan(p.height_cm) for p in parsed)),
        "unknown_weight": int(sum(math.isnan(p.weight_kg) for p in parsed)),
        "height_mean_std_cm": [round(vocab.height_mean, 2), round(vocab.height_std, 2)],
        "weight_mean_std_kg": [round(vocab.weight_mean, 2), round(vocab.weight_std, 2)],
        "text_mlp": {
            "hidden": list(params.encode.hidden),
            "activation": params.encode.activation,
            "out_dim": params.encode.out_dim,
            "softmax_scale": params.encode.softmax_scale,
        },
    }


# ------------------------------------------------------------------------------------------------
# Figures / tables
# ------------------------------------------------------------------------------------------------
def vocabulary_table(vocab: Vocabulary):
    """One row per code position: name, group, training count (pandas DataFrame)."""
    import pandas as pd

    rows = []
    for i, name in enumerate(vocab.layout()):
        group, _, word = name.partition("=")
        rows.append(
            {"position": i, "group": group, "word": word or "-", "train_count": vocab.counts.get(word, None)}
        )
    return pd.DataFrame(rows)


def code_distribution_figure(vocab: Vocabulary, texts: Sequence[str]):
    """Histograms of the normalised height/weight codes and bar charts of the category words."""
    import matplotlib.pyplot as plt

    codes = vocab.encode_batch(texts)  # [N, code_dim]
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.2))
    for j, (col, name) in enumerate(((0, "height z"), (2, "weight z"))):
        known = codes[:, col + 1] > 0.5
        ax[j].hist(codes[known, col], bins=30, color="C0")
        ax[j].set_title(f"{name} (known {known.sum()}/{len(codes)})")
    nb = len(vocab.body_types)
    bt = codes[:, 4 : 5 + nb].sum(0)
    bd = codes[:, 5 + nb :].sum(0)
    ax[2].barh(vocab.body_types + ["unknown"], bt, color="C1")
    ax[2].set_title("body type codes")
    ax[3].barh(vocab.builds + ["unknown"], bd, color="C2")
    ax[3].set_title("build codes")
    fig.tight_layout()
    return fig


def body_maps_figure(
    mlp: TextMLP, vocab: Vocabulary, texts: Sequence[str] = CONTRASTING_TEXTS, size: int = 128
):
    """Body feature maps of contrasting texts (rows of images, shared colour scale)."""
    import matplotlib.pyplot as plt

    codes = torch.from_numpy(vocab.encode_batch(texts, strict=False))
    with torch.no_grad():
        maps = mlp(codes, size)["body_map"][:, 0].cpu().numpy()  # [N, H, W]
    vmin, vmax = float(maps.min()), float(maps.max())
    fig, ax = plt.subplots(1, len(texts), figsize=(3 * len(texts), 3.4))
    for a, m, t in zip(np.atleast_1d(ax), maps, texts, strict=True):
        im = a.imshow(m, vmin=vmin, vmax=vmax, cmap="viridis")
        a.set_title(t.replace(", ", "\n", 1), fontsize=8)
        a.axis("off")
    fig.colorbar(im, ax=list(np.atleast_1d(ax)), shrink=0.8)
    return fig


def untrained_mlp(params: Params, vocab: Vocabulary) -> TextMLP:
    """The text MLP at its seeded initialisation (stage 03 trains it; 02 shows the untrained maps)."""
    torch.manual_seed(params.base.seed)
    e = params.encode
    return build_text_mlp(vocab.code_dim, list(e.hidden), e.activation, e.out_dim, e.softmax_scale)
