"""Trained ablation rows of stage 05 (evaluated by stage 06 as ``ablations.<row>``).

Each row is a try-on network trained **alike** on the synthetic train split: the same initialisation
(the 03_contour / 04_warp checkpoints, as the shipped model), the same ``05_train.ablation_steps``
steps, batch, optimiser, cosine schedule over those steps and data order; one thing differs per row
(:data:`ROWS`). ``full_short`` is the shipped recipe on that short schedule, the reference every row
is read against (the shipped model trains longer, so it is not comparable to these rows);
``full_short_seed1`` repeats it with the next seed, so the spread between two seeds is measured.
No real phase: these rows isolate the losses on the synthetic task, where ground truth exists.

:func:`skin_gallery` draws stage 06's skin figure from the shipped model and two of these rows.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from tryon import runtime
from tryon.checkpoint import save_inference_checkpoint
from tryon.config import Params
from tryon.nets.build import architecture, build_model, load_pretrained
from tryon.nets.vgg import build_vgg
from tryon.stages.train_data import mixed, synthetic_counts, unpaired_note
from tryon.train.loop import DistInfo, fit
from tryon.train.step import loss_weights, make_scheduler, make_step_fn, schedule_text

#: row -> (what differs from the shipped recipe, 05_train overrides, seed offset)
ROWS: dict[str, tuple[str, dict, int]] = {
    "full_short": ("the shipped recipe (every loss of 05_train)", {}, 0),
    "full_short_seed1": (
        "the shipped recipe, seed + 1 (init of the non-pretrained parts, data order)",
        {},
        1,
    ),
    "method_only": (
        "only the method's three losses (L_style, L_warp, L_rec): no flow L1, no contour L1",
        {"lambda_flow": 0.0, "lambda_contour": 0.0, "lambda_smooth": 0.0},
        0,
    ),
    "no_style": ("L_style off (lambda_style 0)", {"lambda_style": 0.0}, 0),
    "style_gram": (
        "L_style on Gram matrices (the alignment-free reading of [0182])",
        {"style_mode": "gram"},
        0,
    ),
    "fusion_compose": (
        "the fusion without the trunk-map input (learned composition only)",
        {"fusion": "compose"},
        0,
    ),
}
#: rows whose test-time ablations (no_text, trunk_guided_warp) stage 06 also runs: two seeds of each
SEEDED = ("full_short", "full_short_seed1")
SUBDIR = "ablations"


def train_rows(
    params: Params, root: Path, parts: list, device: torch.device, info: DistInfo, arch: dict, vocab
) -> dict | str:
    """Train every row of :data:`ROWS` on the synthetic ``parts`` (the shipped mix,
    :mod:`tryon.stages.train_data`); write ``data/05_train/ablations/<row>.pt`` (the ``model.pt``
    format) and return what was run (or why not)."""
    t = params.train
    if t.ablation_steps == 0:
        return "not run: 05_train.ablation_steps is 0"
    if info.world_size > 1:
        return "not run: trained ablations run in a single process (not under torchrun)"
    out_dir = root / "data" / "05_train" / SUBDIR
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {}
    cosine = dataclasses.replace(t, lr_schedule="cosine")  # every row: annealed over its own steps
    for name, (what, overrides, seed_offset) in ROWS.items():
        p = dataclasses.replace(params, train=dataclasses.replace(t, **overrides))
        seed = params.base.seed + seed_offset
        runtime.seed_everything(seed)
        row_arch = architecture(p, vocab.code_dim) if "fusion" in overrides else arch
        model = build_model(row_arch)
        notes = load_pretrained(model, root) if t.init_pretrained else ["init_pretrained: false"]
        model.to(device)
        # the same fixed VGG for every row (its seed is the base seed, not the row's)
        vgg = build_vgg(t.vgg_weights, layers=tuple(t.vgg_layers), seed=params.base.seed).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
        t0 = time.perf_counter()
        counts = synthetic_counts(t.batch_size, t.unpaired_fraction, len(parts))
        dataset, sampler = mixed(parts, counts, seed)
        result = fit(
            model,
            make_step_fn(vgg, loss_weights(p), p.train.style_mode, t.vgg_size, t.skin_drop),
            dataset,
            steps=t.ablation_steps,
            batch_size=t.batch_size,
            optimizer=opt,
            scheduler=make_scheduler(opt, cosine, t.ablation_steps),
            seed=seed,
            device=device,
            log_every=max(1, t.ablation_steps // 4),
            amp=t.amp,
            progress=False,
            sampler=sampler,
        )
        save_inference_checkpoint(
            out_dir / f"{name}.pt", model, row_arch, vocab, result.step, params.base.image_size
        )
        rows[name] = {
            "what": what,
            "seed": seed,
            "loss_weights": loss_weights(p),
            "style_mode": p.train.style_mode,
            "final_train_loss": result.history[-1]["total"] if result.history else None,
            "seconds": round(time.perf_counter() - t0, 2),
            "init": notes,
        }
    return {
        "steps": t.ablation_steps,
        "batch_size": t.batch_size,
        "lr_schedule": schedule_text(cosine, t.lr, t.ablation_steps),
        "data": f"the synthetic train split (no real phase); {unpaired_note(params, parts)}",
        "rows": rows,
    }


@torch.no_grad()
def skin_gallery(root: Path, test, n: int, device: torch.device | str = "cpu") -> tuple[dict, list[str]]:
    """Stage 06's skin gallery: the ``n`` unpaired test pairs (each test person in the next sample's
    garment, truth rendered) where the new garment uncovers the most skin. ``test``: the coded test split
    (:class:`tryon.stages.contour.CodedDataset`). Returns the image columns (photo in the old garment,
    new garment, truth, then the try-on of the shipped model and of the ``full_short`` and
    ``fusion_compose`` rows, those present) and one row title per pair (id, uncovered pixels)."""
    from tryon.data.dataset import UnpairedSynthetic
    from tryon.infer.model import load_model
    from tryon.stages.contour import CodedDataset
    from tryon.train.loop import collate, to_device
    from tryon.train.step import forward_batch

    unpaired = CodedDataset(UnpairedSynthetic(test.dataset), test.vocab)
    samples = [unpaired[i] for i in range(len(unpaired))]
    gain = [float(s["skin_gain"].sum()) for s in samples]
    pick = sorted(range(len(samples)), key=lambda i: -gain[i])[:n]
    batch = collate([samples[i] for i in pick])
    columns = {
        "photo (old garment)": [test.dataset[i]["person"] for i in pick],
        "new garment": list(batch["garment"]),
        "truth": list(batch["person"]),
    }
    models = {"shipped model": root / "data" / "05_train" / "model.pt"}
    models |= {
        row: root / "data" / "05_train" / SUBDIR / f"{row}.pt" for row in ("full_short", "fusion_compose")
    }
    for name, path in models.items():
        if path.is_file():
            model = load_model(path, device)[0]
            columns[name] = list(forward_batch(model, to_device(batch, torch.device(device)))["tryon"].cpu())
    return columns, [f"{samples[i]['id']} ({int(gain[i])} px)" for i in pick]
