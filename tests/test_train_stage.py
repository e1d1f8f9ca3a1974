"""Stage 05_train / 06_evaluate on a tiny prepared dataset: determinism, resume, evaluation keys,
checkpoint errors. Every test that trains stage 05 (in process or as a subprocess) is ``slow``."""

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from stage05_worker import tiny_params  # tests/ is on sys.path (pytest's rootdir-relative import)

from tryon import paths
from tryon.checkpoint import load_checkpoint
from tryon.stages import encode, prepare
from tryon.stages import evaluate as eval_stage
from tryon.stages import train as train_stage


def _params(**train):
    """The tiny profile of tests/stage05_worker.py (shared with the kill tests), 2 real-phase steps."""
    return tiny_params(**{"real_steps": 2, "checkpoint_every": 2, "ablation_steps": 2, **train})


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


@pytest.mark.slow
def test_same_seed_same_final_loss(tiny_root):
    a, _ = _final(tiny_root)
    b, m = _final(tiny_root)
    assert abs(a - b) < 1e-6
    terms = {"style", "warp_vgg", "warp_mask", "rec", "flow", "contour_l1", "smooth", "total"}
    assert set(m["dev_loss"]) == set(m["synthetic_only_dev_loss"]) == terms
    assert m["vgg_weights"].startswith("random(") and m["device"] == "cpu"


@pytest.mark.slow
@pytest.mark.shared
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


@pytest.mark.slow
def test_resume_continues_exactly(tiny_root):
    """Extending a finished run (2 steps, then resumed to 4) equals a 4-step run under the step schedule;
    a cosine schedule is tied to the run's length, so extending a run changes it (the SIGKILL tests
    below resume a cosine run of unchanged length)."""
    full, _ = _final(tiny_root, steps=4, lr_schedule="step")
    _final(tiny_root, steps=2, lr_schedule="step")
    resumed, m = _final(tiny_root, steps=4, resume=True, lr_schedule="step")
    assert m["resumed_from"] == 2
    assert abs(full - resumed) < 1e-5


def test_init_checkpoint_is_checked_before_training(tmp_path):
    """``05_train.init_checkpoint``: a file that is not a model.pt, or one trained at another working
    size, is one line naming it (before any data is read)."""
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pt: not a readable tryon checkpoint"):
        train_stage.continued_model(_params(init_checkpoint=str(bad)), tmp_path)
    torch.save({"model": {}}, tmp_path / "weights_only.pt")
    with pytest.raises(ValueError, match="weights_only.pt: 05_train.init_checkpoint expects a model.pt"):
        train_stage.continued_model(_params(init_checkpoint=str(tmp_path / "weights_only.pt")), tmp_path)
    p = _params()
    from tryon.nets.build import architecture, build_model
    from tryon.text import Vocabulary

    arch = architecture(p, Vocabulary.build(["height 165cm, weight 50kg, pear"]).code_dim)
    torch.save({"model": build_model(arch).state_dict(), "architecture": arch, "vocab": {},
                "image_size": p.base.image_size * 2}, tmp_path / "big.pt")  # fmt: skip
    with pytest.raises(ValueError, match=f"big.pt: trained at {p.base.image_size * 2} px"):
        train_stage.continued_model(_params(init_checkpoint="big.pt"), tmp_path)  # relative to the root


@pytest.mark.slow
def test_init_checkpoint_goes_on_from_a_trained_model(tiny_root, tmp_path):
    """A continued run starts from the given model.pt (its weights and vocabulary), skips the synthetic
    phase and writes no synthetic_only.pt; its real phase moves the weights (with the shared data)."""
    _final(tiny_root)
    init = tmp_path / "init.pt"
    shutil.copy(tiny_root / "data" / "05_train" / "model.pt", init)
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "01_prepare").symlink_to(tiny_root / "data" / "01_prepare")
    m = train_stage.run(_params(init_checkpoint=str(init)), root, progress=False)
    assert m["init"] == [f"init_checkpoint: {init} (step {load_checkpoint(init)['step']}), its vocabulary; "
                         "no synthetic phase"]  # fmt: skip
    assert m["steps"] == 0 and m["final_train_loss"] is None
    assert not (root / "data" / "05_train" / train_stage.SYNTHETIC_ONLY).exists()
    a, b = load_checkpoint(init)["model"], load_checkpoint(root / "data" / "05_train" / "model.pt")["model"]
    assert a.keys() == b.keys()
    if isinstance(m["real_phase"], dict):
        assert m["real_phase"]["steps"] == 2
        assert any(not torch.equal(a[k], b[k]) for k in a), "the real phase trained the loaded model"
    else:  # no ../shared: nothing to train on after the skipped synthetic phase
        assert all(torch.equal(a[k], b[k]) for k in a)


WORKER = Path(__file__).with_name("stage05_worker.py")
needs_real = pytest.mark.skipif(
    not paths.SHARED_SAMPLES.is_dir(),
    reason=f"real samples not found at {paths.SHARED_SAMPLES} (the real phase needs them; CI has them)",
)


def _copy_inputs(tiny_root: Path, root: Path) -> Path:
    for slug in ("01_prepare", "02_encode"):
        shutil.copytree(tiny_root / "data" / slug, root / "data" / slug)
    return root


def _start(root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(WORKER.parents[1])}
    cmd = [sys.executable, str(WORKER), str(root), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(root: Path, *args: str) -> dict:
    p = _start(root, *args)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    return json.loads((root / "done.json").read_text())


def _weights(root: Path) -> dict:
    return load_checkpoint(root / "data" / "05_train" / "model.pt")["model"]


def _same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    worst = max((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].numel())
    assert worst <= 1e-6, f"largest weight difference {worst}"


@pytest.fixture(scope="module")
def uninterrupted(tiny_root, tmp_path_factory):
    """The final weights of stage 05 (4 synthetic + 6 real-phase steps) run once without a kill."""
    if not paths.SHARED_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {paths.SHARED_SAMPLES}")
    root = _copy_inputs(tiny_root, tmp_path_factory.mktemp("uninterrupted"))
    assert _finish(root)["real_steps"] == 6
    return _weights(root)


@pytest.mark.slow
@pytest.mark.shared
@needs_real
def test_sigkill_in_the_real_phase_then_resume_matches_uninterrupted(tiny_root, uninterrupted, tmp_path):
    root = _copy_inputs(tiny_root, tmp_path)
    last = root / "data" / "05_train" / "real" / "last.pt"
    p = _start(root, "--sleep", "0.4")
    deadline = time.monotonic() + 600
    while not last.exists():
        assert p.poll() is None, f"the worker ended before the real phase: {p.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.6)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert not (root / "done.json").exists() and not (root / "data" / "05_train" / "model.pt").exists()
    killed_at = load_checkpoint(last)["step"]
    assert 1 <= killed_at < 6, f"the kill was meant to land inside the real phase (step {killed_at})"
    assert _finish(root, "--resume")["real_steps"] == 6
    _same_weights(_weights(root), uninterrupted)


@pytest.mark.slow
@pytest.mark.shared
@needs_real
def test_sigkill_during_a_checkpoint_write_keeps_the_previous_one(tiny_root, uninterrupted, tmp_path):
    root = _copy_inputs(tiny_root, tmp_path)
    ckpt_dir = root / "data" / "05_train" / "real"
    p = _start(root, "--die-in-save", "3")
    p.communicate(timeout=600)
    assert p.returncode == -signal.SIGKILL
    assert load_checkpoint(ckpt_dir / "last.pt")["step"] == 2, "the previous checkpoint stays loadable"
    assert list(ckpt_dir.glob(".last.pt.*.tmp")), "the kill was meant to land inside the write"
    assert _finish(root, "--resume")["real_steps"] == 6
    assert not list(ckpt_dir.glob("*.tmp")), "the resumed run removes the half-written temp file"
    _same_weights(_weights(root), uninterrupted)


def assert_figure(value, low: float, high: float, what: str = "") -> None:
    """A reported figure is a finite number in ``[low, high]``: NaN (a figure that was never measured,
    an empty mask) fails, as does inf."""
    assert isinstance(value, float) and math.isfinite(value), f"{what}: {value!r} is not a finite number"
    assert low <= value <= high, f"{what}: {value} outside [{low}, {high}]"


#: the range of each stage-06 figure on the tiny run (``psnr`` in dB, ``epe_px`` in pixels at 64 px)
FIGURE_RANGE = {"ssim": (-1, 1), "psnr": (0, 100), "l1": (0, 2), "epe_px": (0, 64), "warp_mask_iou": (0, 1),
                "contour_iou": (0, 1), "identity_ssim": (-1, 1), "skin_l1": (0, 2)}  # fmt: skip


def test_figure_check_fails_on_nan_and_inf():
    for bad in (math.nan, math.inf, None, "n/a"):
        with pytest.raises(AssertionError, match="not a finite number"):
            assert_figure(bad, 0, 2, "skin_l1")
    with pytest.raises(AssertionError, match="outside"):
        assert_figure(2.5, 0, 2, "skin_l1")
    assert_figure(0.3, 0, 2, "skin_l1")


@pytest.mark.slow
def test_evaluate_reports_every_metric_and_ablation(tiny_root):
    _final(tiny_root)
    metrics, extras = eval_stage.run(_params(), tiny_root)
    names = {"full", "no_text", "trunk_guided_warp"}
    trained = {"full_short", "full_short_seed1", "method_only", "no_style", "style_gram", "fusion_compose"}
    short = {f"{a}_short{s}" for a in ("no_text", "trunk_guided_warp") for s in ("", "_seed1")}
    assert set(metrics["ablations"]) == names | {f"{n}_unpaired" for n in names} | trained | short
    assert metrics["unpaired"].startswith("each test person with the next")
    unp, paired = metrics["ablations"]["full_unpaired"], metrics["ablations"]["full"]
    assert unp["epe_px"] == unp["epe_px"] and unp["epe_px"] != paired["epe_px"]
    assert set(FIGURE_RANGE) == set(eval_stage.METRICS)
    for name, row in metrics["ablations"].items():  # every row: the same figures, each with its interval
        assert {m for m in row if not m.endswith("_ci95")} == set(eval_stage.METRICS)
        for m, (low, high) in FIGURE_RANGE.items():  # NaN anywhere fails: every figure was measured
            assert_figure(row[m], low, high, f"{name}.{m}")
            lo, hi = row[f"{m}_ci95"]
            assert_figure(lo, low, high, f"{name}.{m}_ci95")
            assert_figure(hi, lo, high, f"{name}.{m}_ci95")
    a, b = (metrics["ablations"][r]["ssim"] for r in ("full_short", "method_only"))
    assert a != b, "method_only trains without the flow and contour terms: other weights"
    v = metrics["ablation_verdicts"]
    assert set(v) == set(metrics["ablations"]) - {"full", "full_unpaired", "full_short"}
    assert set(v["no_style"].values()) <= {"better", "worse", "within_ci"}
    skin = metrics["ablations"]["full"]["skin_l1"]  # measured on the unpaired twin: where skin is uncovered
    assert skin == metrics["ablations"]["full_unpaired"]["skin_l1"]
    for m, (low, high) in FIGURE_RANGE.items():  # the headline: a NaN skin_l1 (no skin measured) fails
        assert_figure(metrics["headline"][m], low, high, f"headline.{m}")
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


@pytest.mark.slow
def test_skin_gallery_shows_the_pairs_with_most_uncovered_skin_through_each_model(tiny_root):
    from tryon.data.dataset import TryOnDataset
    from tryon.stages.ablations import skin_gallery
    from tryon.stages.contour import CodedDataset
    from tryon.text import Vocabulary

    _final(tiny_root)  # model.pt and the ablation rows
    p = _params()
    vocab = Vocabulary.load(tiny_root / "data" / "02_encode" / "vocab.json")
    test = CodedDataset(TryOnDataset(tiny_root / "data" / "01_prepare", "test", p.base.image_size), vocab)
    cols, titles = skin_gallery(tiny_root, test, 3)
    assert list(cols) == [
        "photo (old garment)", "new garment", "truth", "shipped model", "full_short", "fusion_compose"
    ]  # fmt: skip
    assert all(len(v) == 3 and v[0].shape == (3, p.base.image_size, p.base.image_size) for v in cols.values())
    gains = [int(t.rsplit("(", 1)[1].split()[0]) for t in titles]
    assert gains == sorted(gains, reverse=True)  # most uncovered skin first
    assert not torch.equal(cols["truth"][0], cols["photo (old garment)"][0])  # another garment
    assert not torch.equal(cols["shipped model"][0], cols["fusion_compose"][0])


def test_init_checkpoint_gains_the_pose_map_input(tmp_path):
    """``03_contour.pose`` on a model.pt trained without it: its contour generator is widened by zero
    columns (the note says how many weights); the other way round is one line naming the file."""
    import dataclasses

    from tryon.nets.build import architecture, build_model
    from tryon.text import Vocabulary

    p = _params()
    plain = dataclasses.replace(p, contour=dataclasses.replace(p.contour, pose=False))
    vocab = Vocabulary.build(["height 165cm, weight 50kg, pear"])
    arch = architecture(plain, vocab.code_dim)
    old = build_model(arch).state_dict()
    torch.save({"model": old, "architecture": arch, "vocab": vocab.to_dict(), "image_size": p.base.image_size},
               tmp_path / "plain.pt")  # fmt: skip
    posed = dataclasses.replace(
        _params(init_checkpoint="plain.pt"), contour=dataclasses.replace(p.contour, pose=True)
    )
    model, new_arch, _, notes = train_stage.continued_model(posed, tmp_path)
    assert new_arch["contour_gen"]["pose_channels"] == 3 and model.contour_gen.pose_channels == 3
    assert notes[0].endswith("pose map input added (2 weights widened with zero columns)")
    w = model.state_dict()["contour_gen.enc.0.0.weight"]
    assert torch.equal(w[:, :-3], old["contour_gen.enc.0.0.weight"]) and not w[:, -3:].any()
    torch.save({"model": model.state_dict(), "architecture": new_arch, "vocab": vocab.to_dict(),
                "image_size": p.base.image_size}, tmp_path / "posed.pt")  # fmt: skip
    unposed = dataclasses.replace(_params(init_checkpoint="posed.pt"), contour=plain.contour)
    with pytest.raises(ValueError, match="posed.pt: the model reads a pose map, 03_contour.pose is false"):
        train_stage.continued_model(unposed, tmp_path)
