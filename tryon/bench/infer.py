"""``tryon bench infer``: CPU latency of one user try-on at the default working size, end to end
(read the photos and the parse map, preprocess, network, un-pad and paste back, write the PNG), and the
time of the mediapipe auto-parse when its environment is installed. Target: under 0.5 s per try-on.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from tryon import paths


def _checkpoint(tmp: Path) -> tuple[Path, str]:
    """data/05_train/model.pt when trained, else a randomly initialised model of the default params
    (latency does not depend on the weights)."""
    trained = paths.ROOT / "data" / "05_train" / "model.pt"
    if trained.is_file():
        return trained, f"trained ({trained.relative_to(paths.ROOT)})"
    from tryon.checkpoint import atomic_torch_save
    from tryon.config import load_params
    from tryon.nets.build import architecture, build_model
    from tryon.text import Vocabulary

    params = load_params(paths.ROOT / "params.yaml")
    vocab = Vocabulary.build(["height 165cm, weight 50kg, pear, thin"])
    arch = architecture(params, vocab.code_dim)
    path = tmp / "random.pt"
    atomic_torch_save(
        {
            "model": build_model(arch).state_dict(),
            "architecture": arch,
            "vocab": vocab.to_dict(),
            "image_size": params.base.image_size,
        },
        path,
    )
    return path, "random init of params.yaml's architecture (no data/05_train/model.pt)"


def _inputs(tmp: Path) -> tuple[dict, str]:
    """A real VITON-HD pair when ../shared is present, else a synthetic 768 x 1024 photo + parse map."""
    from tryon.data import io, labels

    root = paths.SHARED_SAMPLES / "vitonhd"
    if (root / "pairs_paired.txt").is_file():
        from tryon.data.vitonhd import list_pairs

        r = list_pairs(root, "paired")[0]
        return (
            {"person": r.person, "garment": r.cloth, "parse": r.parse, "garment_mask": r.cloth_mask},
            f"VITON-HD {r.person_id} (768x1024)",
        )
    rng = np.random.default_rng(0)
    H, W = 1024, 768
    parse = np.zeros((H, W), np.uint8)
    parse[100:260, 300:470] = labels.CIHP.FACE
    parse[260:300, 340:430] = labels.CIHP.TORSO_SKIN
    parse[300:650, 220:550] = labels.CIHP.UPPER_CLOTHES
    parse[300:600, 170:220] = labels.CIHP.LEFT_ARM
    parse[300:600, 550:600] = labels.CIHP.RIGHT_ARM
    parse[650:1000, 240:530] = labels.CIHP.PANTS
    person = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    garment = np.full((H, W, 3), 240, np.uint8)
    garment[200:800, 150:620] = (30, 60, 160)
    io.write_png(tmp / "person.png", person)
    io.write_png(tmp / "garment.png", garment)
    io.write_png(tmp / "parse.png", parse, palette=True)
    return (
        {"person": tmp / "person.png", "garment": tmp / "garment.png", "parse": tmp / "parse.png"},
        "synthetic 768x1024 photo (../shared absent)",
    )


def bench_infer(repeats: int = 10) -> dict:
    """Print and return the latency figures (seconds, median over ``repeats`` after one warm-up):
    ``with_parse`` per part and total, ``p90_total``, ``mediapipe`` (or why not timed) and
    ``without_parse`` (single call and per pair in a batch)."""
    from tryon.infer.inputs import save_image
    from tryon.infer.model import TryOn

    text = "height 165cm, weight 50kg, pear, thin"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ckpt, ckpt_note = _checkpoint(tmp)
        files, input_note = _inputs(tmp)
        t0 = time.perf_counter()
        model = TryOn(ckpt)
        load_s = time.perf_counter() - t0
        parts: dict[str, list[float]] = {
            k: [] for k in ("read", "preprocess", "network", "postprocess", "write", "total")
        }
        for i in range(repeats + 1):
            t0 = time.perf_counter()
            inp = model.read_inputs(
                files["person"],
                files["garment"],
                text,
                parse=files["parse"],
                garment_mask=files.get("garment_mask"),
            )
            t1 = time.perf_counter()
            res = model.predict(inp)
            t2 = time.perf_counter()
            save_image(tmp / "out.png", res.image)
            t3 = time.perf_counter()
            if i == 0:
                continue  # warm-up
            parts["read"].append(t1 - t0)
            for k in ("preprocess", "network", "postprocess"):
                parts[k].append(res.seconds[k])
            parts["write"].append(t3 - t2)
            parts["total"].append(t3 - t0)
        med = {k: statistics.median(v) for k, v in parts.items()}
        print(f"checkpoint: {ckpt_note}; working size {model.size} px; input: {input_note}")
        print(f"torch threads: {torch.get_num_threads()}; model load {load_s:.2f} s (once)")
        print(f"{'part':<13}{'median s':>10}")
        for k, v in med.items():
            print(f"{k:<13}{v:>10.4f}")
        p90 = float(np.quantile(parts["total"], 0.9))
        verdict = "meets" if med["total"] < 0.5 else "MISSES"
        print(
            f"per try-on with --parse: median {med['total']:.3f} s, p90 {p90:.3f} s ({verdict} the 0.5 s target)"
        )
        out = {"with_parse": med, "p90_total": p90}
        out["mediapipe"] = mp = _bench_mediapipe(files["person"])
        if isinstance(mp, dict):
            single, batch = med["total"] + mp["one"], med["total"] + mp["per_extra"]
            print(
                f"per try-on without --parse (mediapipe): {single:.2f} s for a single `tryon try-on` "
                f"(its environment starts once per call), {batch:.2f} s per pair in the batch form"
            )
            out["without_parse"] = {"single": single, "batch": batch}
    return out


def _bench_mediapipe(person: Path) -> dict | str:
    from tryon.infer import autoparse

    if autoparse.find_mediapipe_python() is None and not autoparse.in_process_available():
        msg = "not installed (`make mediapipe`): auto-parse not timed"
        print(f"mediapipe auto-parse: {msg}")
        return msg
    t0 = time.perf_counter()
    autoparse.run_mediapipe([person])
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    autoparse.run_mediapipe([person] * 8)
    eight = time.perf_counter() - t0
    per = (eight - one) / 7
    print(
        f"mediapipe auto-parse: one photo {one:.2f} s (incl. starting its environment), "
        f"{per:.3f} s per extra photo in a batch"
    )
    return {"one": one, "per_extra": per}
