"""README.md's results table is what ``python -m tryon.report readme-table`` prints from the committed
metrics (so the front page cannot drift from them), and the table reads every test set's figures, or
says ``not computed`` where stage 06 did not compute them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tryon import report

ROOT = Path(report.__file__).resolve().parents[1]
SHARED_VITON = ROOT.parent / "shared" / "data" / "viton" / "README.md"


def test_readme_table_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text()
    assert report.table_in(readme) == report.readme_table(ROOT / "metrics"), (
        "README.md's results table differs from metrics/*.json: run `make readme-table`"
    )


def test_readme_stays_short_and_names_no_work_organisation():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    assert not re.search(r"\bstops? [0-9]+", readme, flags=re.I)
    for doc in ("docs/experiments.md", "docs/method.md", "docs/benchmarks.md", "CITATION.cff"):
        assert doc in readme and (ROOT / doc).is_file(), doc


def _metrics(tmp_path: Path, metrics: dict) -> Path:
    (tmp_path / "metrics").mkdir(parents=True)
    (tmp_path / "metrics" / "06_evaluate.json").write_text(json.dumps(metrics))
    return tmp_path / "metrics"


FIG = {"ssim": 0.91, "garment_ssim": 0.8, "garment_edge_ssim": 0.7, "l1": 0.05, "warp_mask_iou": 0.75,
       "sharpness_ratio": 0.9}  # fmt: skip


def test_viton_rows_with_intervals_and_baselines(tmp_path):
    viton = {
        "paired_clean": {**FIG, "ssim_ci95": [0.9, 0.92]},
        "paired": {**FIG, "ssim": 0.88, "ssim_ci95": [0.87, 0.89]},
        "baselines_clean": {"naive_paste": {**FIG, "warp_mask_iou": None, "ssim": 0.8}},
    }
    table = report.readme_table(_metrics(tmp_path, {"viton": viton}))
    clean = next(line for line in table.splitlines() if line.startswith("| VITON, clean"))
    assert (
        "| **tryon, `make repro` model** (network output) | 0.910 [0.900, 0.920] | 0.800 | 0.700 | 0.050 | 0.750 | 0.900 |"
        in clean
    )
    assert "| `naive_paste` (no network; reads the true garment region) | 0.800 |" in table
    assert "| **tryon** (every test id) | 0.880 [0.870, 0.890] | not computed |" in table  # beside the papers
    sub_viton = {**viton, "n_paired": 500, "ids": "500 of 2032, evenly spaced over the list"}
    sub = report.readme_table(_metrics(tmp_path / "sub", {"viton": sub_viton}))
    assert (
        "| VITON, 500 of 2032, evenly spaced test ids (256x192) | **tryon, `make repro` model** (network output) | 0.880"
        in sub
    )
    assert "| PF-AFN (CVPR 2021) | 0.89 / 0.87 | 0.08 | 10.09 |" in table


def test_unpaired_table_rows_with_intervals(tmp_path):
    """The unpaired table (``viton.unpaired``): shape disagreement per quantity and both critic AUCs,
    one row per method or reference that has them, a dash where a row has no such figure."""
    shape = {q: 0.2 for q in report.UNPAIRED_SHAPE} | {"sleeve_reach_ci95": [0.1, 0.3]}
    auc = {"auc": 0.75, "auc_ci95": [0.7, 0.8]}
    unpaired = {
        "n_pairs": 12,
        "shape": {"model": shape, "parser_floor": {q: 0.01 for q in report.UNPAIRED_SHAPE}},
        "realism_auc": {"model": auc, "real_vs_real": {"auc": 0.5, "auc_ci95": [0.45, 0.55]}},
        "realism_auc_conditional": {"model": auc, "mismatch": {"auc": 0.88, "auc_ci95": [0.86, 0.9]}},
    }
    table = report.readme_table(_metrics(tmp_path, {"viton": {"unpaired": unpaired}}))
    lines = table.splitlines()
    assert "| unpaired VITON, 12 clean test pairs | try-on | sleeve reach ↓ |" in table
    model = next(line for line in lines if "**tryon, `make repro` model**" in line and "0.200 [0.100" in line)
    assert model.endswith(
        "| 0.200 [0.100, 0.300] | 0.200 | 0.200 | 0.200 | 0.200 | 0.750 [0.700, 0.800] | 0.750 [0.700, 0.800] |"
    )
    floor = next(line for line in lines if "the floor" in line)
    assert floor.endswith("| 0.010 | 0.010 | 0.010 | 0.010 | 0.010 | – | – |")
    assert next(line for line in lines if "real photos against real photos" in line).endswith(
        "| – | – | – | – | – | 0.500 [0.450, 0.550] | – |"
    )
    assert next(line for line in lines if "conditional critic's calibration" in line).endswith(
        "| 0.880 [0.860, 0.900] |"
    )
    assert "synthetic-only" not in table  # no such row in the metrics: not shown


def test_absent_figures_say_not_computed(tmp_path):
    table = report.readme_table(_metrics(tmp_path, {"viton": "not computed: no VITON data at /x"}))
    assert "| VITON, clean test ids (256x192) | not computed: no VITON data at /x | – |" in table
    assert "| synthetic test split | not computed (no `baselines` in metrics/06_evaluate.json) |" in table
    assert "VITON-HD / Dress Code samples (photo size; SSIM at 256x192) | not computed (no `real`" in table
    assert not re.search(r"\bnan\b", table, flags=re.I)
    empty = report.readme_table(tmp_path / "nowhere")
    assert empty.count("not computed") >= 4


def test_splice_rewrites_between_the_markers_only():
    readme = f"# title\n\n{report.BEGIN}\nold table\n{report.END}\n\nafter\n"
    new = report.splice(readme, "| new |\n")
    assert new == f"# title\n\n{report.BEGIN}\n| new |\n{report.END}\n\nafter\n"
    assert report.table_in(new) == "| new |\n"
    with pytest.raises(report.ReadmeError):
        report.table_in("no markers here")
    with pytest.raises(report.ReadmeError):
        report.table_in(f"{report.END}\n{report.BEGIN}\n")


def test_cli_check_fails_on_a_stale_table(tmp_path):
    metrics = _metrics(tmp_path, {"viton": "not computed: no data"})
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{report.BEGIN}\nstale\n{report.END}\n")
    run = [sys.executable, "-m", "tryon.report", "readme-table", "--metrics", str(metrics)]
    assert subprocess.run([*run, "--check", str(readme)], capture_output=True).returncode == 1
    assert subprocess.run([*run, "--write", str(readme)], capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check", str(readme)], capture_output=True).returncode == 0
    printed = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert report.table_in(readme.read_text()) == printed


def test_reading_metrics_needs_no_torch():
    code = "import sys, tryon.report; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.skipif(not SHARED_VITON.is_file(), reason=f"{SHARED_VITON} not found")
def test_published_figures_are_the_datasets_readme():
    text = SHARED_VITON.read_text().split("## Published figures", 1)[1]
    rows = [
        tuple(c.strip() for c in line.strip("|").split("|"))
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| method")
    ]
    assert tuple(rows) == report.PUBLISHED


def test_figure_from_the_synthetic_ground_truth(tmp_path):
    from PIL import Image

    out = report.figure(tmp_path / "fig.png", None, size=64)
    im = Image.open(out)
    assert im.height == 64 + 22 and im.width > 5 * 64
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        report.figure(tmp_path / "x.png", tmp_path / "missing.pt", size=64)


def test_figure_through_a_model(tmp_path):
    """The model's panels come from ``tryon try-on``'s own code (a random checkpoint of the default
    architecture: the figure's layout does not depend on the weights)."""
    import torch
    from PIL import Image

    from tryon import config
    from tryon.nets.build import architecture, build_model
    from tryon.text import Vocabulary
    from tryon.vocab import BODY_TYPES, BUILDS

    p = config.load_params(ROOT / "params.yaml")
    vocab = Vocabulary.build([f"height 165cm, weight 50kg, {b}, {w}" for b in BODY_TYPES for w in BUILDS])
    arch = architecture(p, vocab.code_dim)
    ckpt = tmp_path / "model.pt"
    torch.save({"model": build_model(arch).state_dict(), "architecture": arch, "vocab": vocab.to_dict(),
                "image_size": 128}, ckpt)  # fmt: skip
    out = report.figure(tmp_path / "fig.png", ckpt, size=64)
    assert Image.open(out).size == (64 * 5 + 32 + 5 * 6, 64 + 22)
