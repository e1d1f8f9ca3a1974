"""reports/index.html, the front page: headline figures against their targets with intervals, the
try-on figures embedded, the ablation table with verdicts, links to the six stage reports; and a
screenshot of it in headless Chromium (`make browser` installs it, `make screenshot` draws the real page).
Without Chromium the browser test skips, except in CI (``CI`` set, as `.ci/run` does), where it fails."""

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tryon.viz import report

SYNTH = {
    "n_test": 64,
    "ablations": {
        "full": {"ssim": 0.958, "ssim_ci95": [0.951, 0.964], "identity_ssim": 0.978, "epe_px": 2.8},
        "full_short": {"ssim": 0.90, "ssim_ci95": [0.89, 0.91]},
        "no_style": {"ssim": 0.80, "ssim_ci95": [0.78, 0.82]},
    },
    "ablation_verdicts": {"no_style": {"ssim": "worse"}},
    "real": {
        "n_test_pairs": 12,
        "paired": {"ssim_net": 0.915, "ssim_net_ci95": [0.90, 0.93], "warp_mask_iou": 0.64},
        "paired_pasted": {"ssim_pasted": 0.95},
        "baselines": {"mean_fill": {"ssim_net": 0.95}},
        "baselines_use_gt_region": ["mean_fill"],
        "model_beats_sentence": "The model beats no baseline.",
    },
}


@pytest.fixture
def site(tmp_path):
    report.write_metrics("06_evaluate", SYNTH, tmp_path)
    (tmp_path / "reports").mkdir()
    for slug in report.STAGE_TITLES:
        (tmp_path / "reports" / f"{slug}.html").write_text(f"<html>{slug}</html>")
    front = tmp_path / "data" / "06_evaluate"
    front.mkdir(parents=True)
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :30] = (200, 40, 40)
    Image.fromarray(img).save(front / "front_real.png")
    return tmp_path


def test_front_page_leads_with_targets_intervals_pictures_and_links(site):
    page = report.build_index(site).read_text()
    head = page[page.index("Headline") : page.index("Try-on examples")]
    assert "0.958 [0.951, 0.964]" in head and "&ge; 0.9: met" in head  # synthetic SSIM, interval, target
    assert "0.640" not in head and "0.64" in head and "&ge; 0.8: <b>not met</b>" in head  # real IoU
    assert "by construction" in head  # the kept-pixel figures say so
    assert page.count("data:image/png;base64,") == 1  # the one figure that exists, embedded
    abl = page[page.index("Ablations") :]
    assert "0.800 [0.780, 0.820] <b>worse</b>" in abl
    for slug in report.STAGE_TITLES:
        assert f'href="{slug}.html"' in page
    assert page.index("Headline") < page.index("Try-on examples") < page.index("Ablations")


def test_front_page_without_metrics_says_so(tmp_path):
    page = report.build_index(tmp_path).read_text()
    assert "no stage-06 metrics yet" in page and "no report" in page


#: headless Chromium as root in a container: no sandbox, no GPU, no network calls of its own, a fresh profile
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")  # fmt: skip


def chromium_or_skip() -> str:
    """The Chromium executable; without one, skip, or fail when ``CI`` is set (CI must open the page)."""
    exe = shutil.which("chromium")
    if exe is None:
        msg = "chromium not installed (make browser, or apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}: CI must run the browser test")
        pytest.skip(msg)
    return exe


def test_front_page_renders_in_headless_chromium(site, tmp_path):
    """The page as a browser draws it: a screenshot that is not blank and shows the embedded figure's
    red block (the image decoded and laid out)."""
    exe = chromium_or_skip()
    page = report.build_index(site)
    shot = site / "index.png"
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
           "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    px = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert px.shape[:2] == (2000, 1280)
    assert (px.min(axis=2) < 128).mean() > 0.002, "text is drawn"
    red = (px[..., 0] > 150) & (px[..., 1] < 90) & (px[..., 2] < 90)
    assert red.sum() > 200, "the embedded figure is decoded and shown"
