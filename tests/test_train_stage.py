"""Stage 05_train / 06_evaluate on a tiny prepared dataset: determinism, resume, evaluation keys,
checkpoint errors."""

import dataclasses

import pytest
import torch
import yaml

from tryon import config
from tryon.stages import encode, prepare
from tryon.stages import evaluate as eval_stage
from tryon.stages import train as train_stage


def _params(**train):
    raw = config.merge(
        yaml.safe_load(open(config.__file__.replace("tryon/config.py", "params.yaml"))),
        {
            "base": {"image_size": 64, "device": "cpu", "num_threads": 1},
            "01_prepare": {"n_train": 12, "n_test": 4},
            "05_train": {
                "steps": 4,
                "real_steps": 2,
                "batch_size": 2,
                "log_every": 1,
                "checkpoint_every": 2,
                **train,
            },
        },
    )
    return config.parse_params(raw)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    p = _params()
    prepare.run(p.base, p.prepare, root / "data" / "01_prepare")
    encode.run(p, root)
    return root


def _final(root, **train):
    metrics = train_stage.run(_params(**train), root, progress=False)
    return metrics["final_train_loss"]["total"], metrics


def test_same_seed_same_final_loss(tiny_root):
    a, _ = _final(tiny_root)
    b, m = _final(tiny_root)
    assert abs(a - b) < 1e-6
    terms = {"style", "warp_vgg", "warp_mask", "rec", "flow", "contour_l1", "smooth", "total"}
    assert set(m["test_loss"]) == set(m["synthetic_only_test_loss"]) == terms
    assert m["vgg_weights"].startswith("random(") and m["device"] == "cpu"


def test_real_phase_runs_after_the_synthetic_one(tiny_root, shared_samples):
    """With the real split of the shared samples: the mixed phase runs from the synthetic weights,
    1 real + 1 synthetic sample per batch, each term logged per source; synthetic_only.pt differs from
    the shipped model.pt."""
    _, m = _final(tiny_root)
    phase = m["real_phase"]
    assert phase["steps"] == 2 and phase["real_per_batch"] == 1 and phase["real_train_pairs"] == 28
    assert {f"{s}/{t}" for s in ("syn", "real") for t in ("rec", "warp_mask")} <= set(phase["final"])
    a = torch.load(tiny_root / "data" / "05_train" / "synthetic_only.pt", weights_only=False)["model"]
    b = torch.load(tiny_root / "data" / "05_train" / "model.pt", weights_only=False)["model"]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    _, off = _final(tiny_root, real_steps=0)
    assert off["real_phase"].startswith("not used")


def test_resume_continues_exactly(tiny_root):
    full, _ = _final(tiny_root, steps=4)
    _final(tiny_root, steps=2)
    resumed, m = _final(tiny_root, steps=4, resume=True)
    assert m["resumed_from"] == 2
    assert abs(full - resumed) < 1e-5


def test_evaluate_reports_every_metric_and_ablation(tiny_root):
    _final(tiny_root)
    metrics, extras = eval_stage.run(_params(), tiny_root)
    names = {"full", "no_text", "trunk_guided_warp"}
    assert set(metrics["ablations"]) == names | {f"{n}, unpaired" for n in names}
    assert metrics["unpaired"].startswith("each test person with the next")
    unp, paired = metrics["ablations"]["full, unpaired"], metrics["ablations"]["full"]
    assert all(v == v for v in unp.values()) and unp["epe_px"] != paired["epe_px"]
    for m in eval_stage.METRICS:
        assert m in metrics["headline"]
    assert metrics["lpips"] == "LPIPS not computed: no weights"
    assert metrics["fid"] == metrics["unpaired_fid"] == "FID not computed: no weights"
    assert metrics["kid"] == "KID not computed: no weights"
    assert set(metrics["full"]) >= {"overall", "body_type", "build", "garment_type"}
    assert len(extras["rows"]["full"]) == metrics["n_test"] == 4
    assert metrics["fair_ablation"].startswith("not available: metrics/04_warp.json missing")


@pytest.mark.slow
def test_evaluate_computes_lpips_fid_kid_from_local_weights(tiny_root, alexnet_full, inception, tmp_path):
    """With local weight files in params (random weights of the right architectures here), stage 06
    reports numbers for LPIPS and paired and unpaired FID/KID, and names the files it used."""
    _final(tiny_root)
    p = _params()
    p = dataclasses.replace(
        p,
        evaluate=dataclasses.replace(
            p.evaluate, lpips_weights=str(alexnet_full), inception_weights=str(inception)
        ),
    )
    metrics, _ = eval_stage.run(p, tiny_root)
    assert isinstance(metrics["lpips"], float) and metrics["lpips"] > 0
    for k in ("fid", "unpaired_fid"):
        assert isinstance(metrics[k], float) and metrics[k] == metrics[k]
    assert set(metrics["kid"]) == {"mean", "std"} and set(metrics["unpaired_kid"]) == {"mean", "std"}
    assert (
        alexnet_full.name in metrics["perceptual_settings"]
        and inception.name in metrics["perceptual_settings"]
    )
    bad = dataclasses.replace(
        p, evaluate=dataclasses.replace(p.evaluate, lpips_weights=str(tmp_path / "no.pth"))
    )
    with pytest.raises(ValueError, match="06_evaluate.lpips_weights"):
        eval_stage.run(bad, tiny_root)


def test_bad_checkpoint_one_line_error(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save({"something": 1}, bad)
    with pytest.raises(ValueError, match="not a tryon model checkpoint"):
        eval_stage.load_model(bad, torch.device("cpu"))
    with pytest.raises(ValueError, match="checkpoint not found"):
        eval_stage.load_model(tmp_path / "missing.pt", torch.device("cpu"))


def test_architecture_is_explicit_and_round_trips():
    p = _params()
    arch = train_stage.architecture(p, code_dim=20)
    model = train_stage.build_model(arch)
    assert set(dict(model.named_children())) == {"text_mlp", "contour_gen", "warp_net", "fusion"}
    p2 = dataclasses.replace(p, train=dataclasses.replace(p.train, fusion="unet"))
    assert train_stage.architecture(p2, 20)["fusion"]["kind"] == "unet"
