"""End to end: copy the repo to a temp dir, run the whole `dvc repro` on profiles/tiny.yaml, check every
report and metrics file, that a second run does nothing, that a param change reruns only its stage and
descendants, and that a bad params.yaml stops with a one-line error before any work."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tryon import config, paths

ROOT = Path(config.__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env(repo: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(repo)  # the copy's tryon wins over the editable install
    env["MPLBACKEND"] = "Agg"
    env.pop("TRYON_ROOT", None)
    from tryon.infer import autoparse

    mp = autoparse.find_mediapipe_python()  # the copy has no .venv-mediapipe: use this checkout's
    if mp:
        env[autoparse.ENV_VAR] = mp
    return env


def _run(cmd: list[str], repo: Path, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=repo, env=_env(repo), capture_output=True, text=True, timeout=1500)
    if check and r.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
        )
    return r


#: figures each stage report must show at least (embedded PNGs in its HTML)
MIN_FIGURES = {
    "01_prepare": 3,
    "02_encode": 2,
    "03_contour": 4,
    "04_warp": 6,
    "05_train": 2 + 2 * paths.SHARED_SAMPLES.is_dir(),  # + the real phase's curves and train pairs
    "06_evaluate": 5 + 3 * paths.SHARED_SAMPLES.is_dir(),  # the skin gallery; + the real galleries
}


def _ran_stages(out: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", out))


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory):
    """A copy of the working tree (tracked + untracked, not ignored files) with params.yaml + tiny profile."""
    base = tmp_path_factory.mktemp("e2e")
    repo = base / "repo"
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    (base / "shared" / "data").mkdir(parents=True)  # the same ../shared layout beside the copy
    for shared in (paths.SHARED_SAMPLES, paths.SHARED_VITON):
        if shared.is_dir():
            (base / "shared" / "data" / shared.name).symlink_to(shared)
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"],
    ):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    _run([sys.executable, "-m", "tryon.config", "apply", "profiles/tiny.yaml"], repo)
    return repo


@pytest.mark.slow
def test_bad_params_stop_before_any_work(tiny_repo, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_repo, bad, symlinks=True)
    text = (bad / "params.yaml").read_text().replace("n_train:", "n_trian:", 1)
    (bad / "params.yaml").write_text(text)
    r = _run([str(BIN / "dvc"), "repro"], bad, check=False)
    assert r.returncode != 0
    assert "01_prepare.n_trian: unknown key" in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not (bad / "data" / "01_prepare").exists() or not any((bad / "data" / "01_prepare").iterdir())


@pytest.mark.slow
@pytest.mark.shared  # reads ../shared/data/vton-samples through the copy's symlink when it is there
def test_tiny_repro_end_to_end(tiny_repo):
    r = _run([str(BIN / "dvc"), "repro"], tiny_repo)
    ran = _ran_stages(r.stdout)
    assert set(config.STAGES) <= ran, ran
    index = (tiny_repo / "reports" / "index.html").read_text()
    for slug in config.STAGES:
        html = (tiny_repo / "reports" / f"{slug}.html").read_text()
        assert f'href="{slug}.html"' in index
        n_figures = len(re.findall(r'<img [^>]*src="data:image/png;base64', html))
        assert n_figures >= MIN_FIGURES[slug], f"{slug}.html embeds {n_figures} figures"
        assert "Traceback" not in html, f"{slug}.html shows an error"
        metrics = json.loads((tiny_repo / "metrics" / f"{slug}.json").read_text())
        assert metrics, f"{slug}: empty metrics"

    # stage 06: the fair ablation from stage 04, and every real pair through `tryon try-on`
    m6 = json.loads((tiny_repo / "metrics" / "06_evaluate.json").read_text())
    rows = m6["fair_ablation"]["rows"]
    assert {"contour_guided_generated_contour", "trunk_guided_retrained"} <= set(rows)
    assert {"method_only", "no_style", "style_gram", "full_short"} <= set(m6["ablations"])
    assert m6["ablations"]["method_only"].keys() == m6["ablations"]["full"].keys()
    lo, hi = m6["ablations"]["full"]["ssim_ci95"]
    assert lo <= m6["ablations"]["full"]["ssim"] <= hi

    def keys(d):
        for k, v in d.items():
            yield k
            if isinstance(v, dict):
                yield from keys(v)

    for slug in config.STAGES:  # every key reads as it is in dvc metrics and the shell
        m = json.loads((tiny_repo / "metrics" / f"{slug}.json").read_text())
        bad = [k for k in keys(m) if re.search(r"[ ,.()]", k)]
        assert not bad, f"metrics/{slug}.json keys with a space, comma, dot or bracket: {bad[:5]}"
    for name in ("model", "keep_trunk", "naive_paste", "mean_fill"):  # synthetic baselines (#18)
        assert 0 <= m6["baselines"][name]["garment_edge_ssim"] <= 1, (name, m6["baselines"][name])
    index = (tiny_repo / "reports" / "index.html").read_text()
    if paths.SHARED_SAMPLES.is_dir():
        real = m6["real"]  # the network output and the network-free baselines on paired real pairs
        assert real["n_test_pairs"] == 4, real  # real_max_pairs 4 of the real split's test pairs
        assert real["split"].startswith("the paired test pairs of the real split"), real["split"]
        for row in (real["paired"], real["synthetic_only"], *real["baselines"].values()):
            for k in ("ssim_net", "garment_ssim", "garment_edge_ssim", "l1", "sharpness_ratio"):
                assert isinstance(row[k], float) and row[k] == row[k], (k, row)
        for row in (real["paired"], real["synthetic_only"]):
            assert 0 <= row["warp_mask_iou"] <= 1 and 0 < row["painted_l1"] < 1, row  # what it paints
        assert "face_ssim_net" not in real["paired"] and "by construction" in real["kept"]["note"]
        for figs in real["versus"].values():  # each baseline read by the paired interval of the difference
            assert all({"diff", "ci95", "beats"} <= set(d) for d in figs.values()), figs
        m5 = json.loads((tiny_repo / "metrics" / "05_train.json").read_text())
        phase = m5["real_phase"]  # the mixed phase ran on the real split's train persons
        assert set(m6["forgetting"]["relative_change"]) == {"ssim", "psnr", "l1", "epe_px", "warp_mask_iou"}
        assert "naive_paste (no network, uses the GT garment region)" in index
    else:
        assert m6["real"].startswith("not computed: no real data at"), m6["real"]
    m5 = json.loads((tiny_repo / "metrics" / "05_train.json").read_text())
    if paths.SHARED_VITON.is_dir():  # VITON (01_prepare.real_root): the first 16 persons of each split
        phase = m5["real_phase"]  # the mixed phase ran on the VITON train persons, the dev ones held out
        assert phase["steps"] == 2 and phase["real_train_pairs"] == 12 and phase["real_pairs_skipped"] == 0, (
            phase
        )
        assert {"syn/rec", "real/rec", "real/smooth"} <= set(phase["final"]), phase["final"]
        m1 = json.loads((tiny_repo / "metrics" / "01_prepare.json").read_text())
        r1 = m1["real"]
        assert r1["persons_in_both"] == 0 and r1["persons_train_and_dev"] == 0, r1
        assert (r1["n_train_pairs"], r1["n_dev_pairs"], r1["n_test_pairs"]) == (12, 4, 16), r1
        vit = m6["viton"]  # the benchmark: 4 of the 16 test ids, evenly spaced, network output
        assert vit["n_paired"] == 4 and vit["ids"] == "4 of 16, evenly spaced over the list", vit
        for k in ("ssim", "garment_ssim", "garment_edge_ssim", "l1", "warp_mask_iou", "sharpness_ratio"):
            assert 0 <= vit["paired"][k] <= 2 and len(vit["paired"][f"{k}_ci95"]) == 2, (k, vit["paired"])
    else:
        assert m5["real_phase"].startswith("not computed: no real data at"), m5["real_phase"]
        assert m6["viton"].startswith("not computed"), m6["viton"]
    if paths.SHARED_SAMPLES.is_dir():
        for subset in ("vitonhd", "dresscode"):
            for path_name, r in m6["real_samples"][subset].items():
                assert r["n_pairs"] == 4 and r["same_size_as_photo"], (subset, path_name, r)
                # the face pixels of the network output: the photo's when the parse map decides what is
                # kept (by construction), measured against the dataset's parse when mediapipe decides
                assert 0 <= r["face_ssim_min"] <= r["face_ssim_mean"] <= 1, (subset, path_name, r)
        from tryon.infer import autoparse

        assert ("without_parse" in m6["real_samples"]["vitonhd"]) == autoparse.available()

    # a second run does nothing
    r = _run([str(BIN / "dvc"), "repro"], tiny_repo)
    assert "Data and pipelines are up to date" in r.stdout and not _ran_stages(r.stdout)

    # a param of one stage reruns that stage and its descendants only
    params = tiny_repo / "params.yaml"
    params.write_text(params.read_text().replace("n_gallery: 2", "n_gallery: 3"))
    r = _run([str(BIN / "dvc"), "repro"], tiny_repo)
    assert _ran_stages(r.stdout) == {"06_evaluate", "render@06_evaluate", "index"}, r.stdout
