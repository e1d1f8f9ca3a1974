"""tryon.viz.explore and notebooks/explore.ipynb: a randomly initialised checkpoint of the default architecture
(what the explorer shows and measures does not depend on the weights: shapes, one image per sweep value, the
text <-> widget sync, the notebook running headless, the JupyterLab screenshot)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_infer import _save_ckpt, write_toy_photo  # tests/ is on sys.path

from tryon import config, paths
from tryon.infer.inputs import InferError
from tryon.text import parse_body_text
from tryon.viz import explore as E

ROOT = Path(config.__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
VITON = paths.SHARED_SAMPLES.parent / "viton"


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return _save_ckpt(tmp_path_factory.mktemp("ckpt") / "model.pt")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 300 x 400 person photo with a CIHP parse map, and a garment photo on a white background."""
    return write_toy_photo(tmp_path_factory.mktemp("files"))


@pytest.fixture(scope="module")
def explorer(ckpt):
    return E.Explorer(ckpt, threads=2)


@pytest.fixture(scope="module")
def inputs(explorer, files):
    person = E.Person("person", files["person"], files["parse"], "cihp")
    return explorer.read(person, E.Garment("garment", files["garment"]))


def _shared(path: Path = paths.SHARED_SAMPLES) -> Path:
    if not path.is_dir():
        pytest.skip(f"{path} not found: the shared real data sits beside the repository checkout only")
    return path


# --------------------------------------------------------------------------------------------
# One view
# --------------------------------------------------------------------------------------------
def test_view_holds_every_panel_at_the_shown_size(explorer, inputs):
    """Photos are shown at the working size by default; every person-side image has the photo's shape."""
    assert explorer.height == explorer.model.size == 128
    assert inputs.person.shape == (128, 96, 3) and inputs.parse.shape == (128, 96)
    v = explorer.run(inputs, "height 160cm, weight 50kg, pear, thin")
    r = v.result
    for img in (v.trunk, r.contour, r.warped, r.image, r.sources):
        assert img.shape == (128, 96, 3) and img.dtype == np.uint8
    assert v.body_map.shape == (128, 96) and np.isfinite(v.body_map).all()
    assert v.text == "height 160cm, weight 50kg, pear, thin"
    assert v.feat_person.shape[-2:] == (16, 16)  # 128 px at the matcher's stride 8
    # the trunk map keeps the face and removes the old garment (0 in [-1, 1]: grey 128)
    assert np.abs(v.trunk[24, 48].astype(int) - inputs.person[24, 48]).max() <= 1  # face
    assert np.all(np.abs(v.trunk[64, 48].astype(int) - 128) <= 1)  # upper clothes
    assert 0.0 <= v.width <= 1.0
    fig = E.fig_panels(v)
    assert len(fig.axes) == 8 and len(E.png_bytes(fig)) > 10_000


def test_matching_row_is_a_distribution_over_the_garment(explorer, inputs):
    v = explorer.run(inputs)
    row = E.matching_row(v, 48.0, 60.0)
    gh, gw = inputs.garment.shape[:2]
    assert row.heat.shape == (gh, gw) and (row.heat >= 0).all() and row.heat.max() > 0
    # the garment photo is 96 x 128 here: its padded square holds 16 x 16 cells, 12 of them across
    cells = np.unique(row.heat.round(7))
    assert len(cells) <= 16 * 12
    # the soft-argmax may fall in the padded square's side bars (16 px each side of the 96 px garment)
    assert -16.5 <= row.peak[0] <= gw + 15.5 and -0.5 <= row.peak[1] <= gh - 0.5
    # the same row straight from the features: sums to 1 over the padded square's cells
    from tryon.matching import matching_rows

    m = matching_rows(v.feat_person, v.feat_garment, torch.tensor([[[8, 7]]]))
    assert torch.allclose(m.sum(), torch.tensor(1.0), atol=1e-5)
    assert E.default_query(v)[1] < inputs.person.shape[0]


def test_photo_size_on_request(ckpt, files):
    ex = E.Explorer(ckpt, height=None)
    inp = ex.read(E.Person("p", files["person"], files["parse"]), E.Garment("g", files["garment"]))
    v = ex.run(inp)
    assert v.result.image.shape == (400, 300, 3) and v.trunk.shape == (400, 300, 3)


def test_estimated_text_uses_only_known_words(explorer, inputs):
    text, note = explorer.estimate_text(inputs)
    p = parse_body_text(text)
    assert p.height_cm == 170 and p.build in (None, *explorer.vocab.builds)
    assert "estimated from the parse map" in note
    explorer.model.encode_text(text)  # readable by this model


def test_garment_width():
    m = np.zeros((10, 20), bool)
    m[2:6, 5:15] = True
    m[6, 5:9] = True
    w, rows = E.garment_width(m)
    assert rows.tolist() == [0, 0, 10, 10, 10, 10, 4, 0, 0, 0]
    assert w == pytest.approx(44 / 5 / 20)
    assert E.garment_width(np.zeros((4, 4), bool))[0] == 0.0


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------
def test_sweep_gives_one_image_per_value(explorer, inputs):
    values = [45, 60, 80, 110]
    sw = E.sweep(explorer, inputs, "weight", values, "height 170cm, weight 65kg, hourglass, thin")
    assert len(sw.images) == len(sw.warped) == len(sw.texts) == len(values)
    assert all(img.shape == inputs.person.shape for img in sw.images)
    assert sw.widths.shape == (4,) and sw.row_widths.shape == (4, inputs.person.shape[0])
    assert [parse_body_text(t).weight_kg for t in sw.texts] == values
    assert {parse_body_text(t).body_type for t in sw.texts} == {"hourglass"}  # the other fields kept
    assert np.allclose(sw.widths, sw.row_widths.sum(1) / np.maximum((sw.row_widths > 0).sum(1), 1) / 96)
    assert -1.0 <= sw.rank_correlation() <= 1.0 or np.isnan(sw.rank_correlation())
    # a decreasing sweep is monotone too
    assert len(E.sweep(explorer, inputs, "height", [190, 170, 150]).images) == 3
    fig = E.fig_sweep(sw)
    assert len(fig.axes) == 5  # four try-ons and the width plot
    assert list(E.sweep_table(sw)["weight"]) == values


@pytest.mark.parametrize("values", [[45, 80, 60], [60, 60, 70], [70]])
def test_sweep_refuses_values_that_are_not_strictly_monotone(explorer, inputs, values):
    with pytest.raises(ValueError, match="sweep"):
        E.sweep(explorer, inputs, "weight", values)


def test_sweep_of_a_category(explorer, inputs):
    sw = E.sweep(explorer, inputs, "build", ["thin", "fat"])
    assert [parse_body_text(t).build for t in sw.texts] == ["thin", "fat"] and len(sw.images) == 2
    assert np.isnan(sw.rank_correlation())
    with pytest.raises(ValueError, match="vocabulary"):
        E.sweep(explorer, inputs, "build", ["thin", "skinny"])
    with pytest.raises(ValueError, match="field"):
        E.sweep(explorer, inputs, "age", [20, 30])


def test_parse_values_and_with_field():
    assert E.parse_values("weight", "45:110:5") == [45.0 + 5 * i for i in range(14)]
    assert E.parse_values("weight", "110:45:-65") == [110.0, 45.0]
    assert E.parse_values("weight", "50, 70") == [50.0, 70.0]
    assert E.parse_values("build", "thin, fat") == ["thin", "fat"]
    with pytest.raises(ValueError):
        E.parse_values("weight", "45:110:-5")
    t = "height 170cm, weight 65kg, hourglass, well-proportioned"
    assert E.with_field(t, "weight", 90) == "height 170cm, weight 90kg, hourglass, well-proportioned"
    assert E.with_field(t, "body type", "apple") == "height 170cm, weight 65kg, apple, well-proportioned"
    assert E.with_field(t, "height", None) == "weight 65kg, hourglass, well-proportioned"


# --------------------------------------------------------------------------------------------
# Widgets (no page: ipywidgets and the ipympl canvas work without a front-end)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ui(explorer, files):
    return E.ExplorerUI(explorer, person_file=str(files["person"]), parse_file=str(files["parse"]),
                        garment_file=str(files["garment"]))  # fmt: skip


def test_text_box_and_field_widgets_stay_in_sync(ui):
    ui.set_text("height 180cm, weight 90kg, apple, fat")
    assert (ui.w_height.value, ui.w_weight.value, ui.w_btype.value, ui.w_build.value) == (
        180,
        90,
        "apple",
        "fat",
    )
    assert ui.view.text == "height 180cm, weight 90kg, apple, fat"
    ui.w_weight.value = 55
    assert ui.w_text.value == "height 180cm, weight 55kg, apple, fat" and ui.view.text == ui.w_text.value
    ui.w_build.value = "unknown"
    assert ui.w_text.value == "height 180cm, weight 55kg, apple"
    ui.w_hknown.value = False
    assert ui.w_text.value == "weight 55kg, apple" and ui.w_height.disabled
    n = len(ui.latencies)
    ui.set_text("weight 55kg, martian")  # unreadable: said in the status line, nothing recomputed
    assert "cannot read" in ui.w_status.value and len(ui.latencies) == n
    ui.set_text(E.DEFAULT_TEXT)
    assert ui.w_hknown.value and not ui.w_height.disabled and ui.view.text == E.DEFAULT_TEXT


def test_estimate_button_click_and_latency(ui):
    ui.w_estimate.click()
    assert ui.w_text.value.startswith("height 170cm") and "estimated" in ui.w_status.value
    assert ui.view.text == ui.w_text.value

    class Click:  # a matplotlib button_press_event on the try-on panel
        inaxes = ui.panels.ax["try-on"]
        xdata, ydata = 30.0, 70.0

    ui._on_click(Click)
    assert ui.panels.row.query == (30.0, 70.0)
    assert ui.canvas._data_url.startswith("data:image/png;base64,")  # what a saved notebook shows
    lat = ui.time_updates((50, 70))
    assert lat["n"] == 2 and lat["max"] >= lat["median"] > 0 and lat["size"] == (96, 128)
    assert "Update latency" in E.latency_note(lat)
    sw = ui.run_sweep("weight", "50:90:40")
    assert len(sw.images) == 2 and ui.w_sweep_img.value[:4] == b"\x89PNG"


def test_file_choice_errors_are_one_line(ui, files):
    ui.w_parse.value = ""
    if not E.mediapipe_available():
        assert "no parse map" in ui.w_status.value and ui.w_photo_only.disabled
    ui.w_parse.value = str(files["parse"])
    assert ui.inputs is not None
    ui.w_gfile.value = str(files["garment"].with_name("nope.png"))
    assert "not found" in ui.w_status.value
    ui.w_gfile.value = str(files["garment"])
    assert ui.inputs is not None


# --------------------------------------------------------------------------------------------
# The real data (../shared)
# --------------------------------------------------------------------------------------------
@pytest.mark.shared
def test_viton_test_split_is_read_with_lip_labels(explorer):
    _shared(VITON)
    cat = E.catalogue(E.VITON, explorer.roots)
    assert len(cat.persons) == len(cat.pairs) == 2032
    p, g = cat.default_pair()
    assert (p, g) == ("000001_0", "001744_1")  # the first line of test_pairs.txt
    inp = explorer.read(cat.persons[p], cat.garments[g])
    assert "lip labels" in inp.parse_source and inp.person.shape == (128, 96, 3)
    assert explorer.run(inp).result.image.shape == (128, 96, 3)


@pytest.mark.shared
def test_samples_catalogues(explorer):
    _shared()
    hd = E.catalogue(E.VITONHD, explorer.roots)
    assert set(E.RANK_PERSONS) <= set(hd.persons) and len(hd.garments) == 22
    assert all(hd.persons[p].parse.is_file() for p in E.RANK_PERSONS)
    dc = E.catalogue(E.DRESSCODE, explorer.roots)
    assert {g.category for g in dc.garments.values()} == {"upper_body", "lower_body", "dresses"}
    p, g = dc.default_pair()
    inp = explorer.read(dc.persons[p], dc.garments[g])
    assert "dresscode labels" in inp.parse_source
    with pytest.raises(InferError):
        E.catalogue(E.VITON, {E.VITON: Path("/nonexistent")})


@pytest.mark.shared
def test_switching_the_garment_source_keeps_the_person(explorer):
    _shared()
    ui = E.ExplorerUI(explorer, source=E.VITONHD, person="08909_00", garment="02783_00")
    assert ui.view.inputs.name == "08909_00" and "cihp labels" in ui.view.result.parse_source
    ui.w_gsrc.value = E.DRESSCODE
    dc = explorer.catalogue(E.DRESSCODE)
    assert ui.w_person.value == "08909_00" and ui.w_garment.value == dc.default_pair()[1]
    assert ui.inputs.category == dc.garments[ui.w_garment.value].category
    assert ui.view.inputs.name == "08909_00"


@pytest.mark.shared
def test_weight_width_rank_table(ckpt):
    _shared()
    df = E.weight_width_rank(ckpt, persons=E.RANK_PERSONS[:1], values=[45, 110], height=128, show=False)
    assert list(df["person"]) == ["08909_00"] and df.attrs["checkpoint"] == str(ckpt)
    assert {"spearman", "growth", "monotone", "garment", "text"} <= set(df.columns)


# --------------------------------------------------------------------------------------------
# The notebook, headless, and in JupyterLab
# --------------------------------------------------------------------------------------------
def _execute(ckpt: Path, out: Path, **params) -> dict:
    import papermill as pm

    out.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"checkpoint": str(ckpt), **params}, kernel_name="tryon",
        cwd=str(ROOT), progress_bar=False, log_output=False,
    )  # fmt: skip
    return json.loads(out.read_text())


def _check_executed(nb: dict, out_dir: Path) -> None:
    for name in ("panels.png", "sweep.png", "summary.json"):
        assert (out_dir / name).is_file(), name
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["latency"]["n"] == 5 and summary["latency"]["median"] > 0
    assert len(summary["sweep"]["widths"]) == len(summary["sweep"]["values"])
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the panels and the sweep
    text = json.dumps(outputs)
    assert "Update latency" in text and "application/vnd.jupyter.widget-view+json" in text
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    canvas = [m["state"] for m in state.values() if m["model_name"] == "MPLCanvasModel"]
    assert canvas and canvas[0]["_data_url"].startswith("data:image/png;base64,")


@pytest.fixture(scope="module")
def executed(ckpt, files, tmp_path_factory):
    """The notebook run by papermill on files (no ../shared needed) with a short sweep."""
    d = tmp_path_factory.mktemp("executed")
    nb = _execute(ckpt, d / "explore.ipynb", out_dir=str(d / "out"), person_file=str(files["person"]),
                  parse_file=str(files["parse"]), garment_file=str(files["garment"]), sweep_values="50, 90")  # fmt: skip
    return d / "explore.ipynb", nb


@pytest.mark.slow
def test_notebook_runs_headless_on_files(executed):
    path, nb = executed
    _check_executed(nb, path.parent / "out")


@pytest.mark.slow
@pytest.mark.shared
def test_notebook_runs_headless_with_default_choices(ckpt, tmp_path):
    _shared(VITON)
    nb = _execute(ckpt, tmp_path / "explore.ipynb", out_dir=str(tmp_path / "out"))
    _check_executed(nb, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["person"] == "000001_0" and "lip labels" in summary["trunk_from"]
    assert len(summary["sweep"]["values"]) == 14  # 45 to 110 kg


def _chromium_or_skip() -> str:
    exe = shutil.which("chromium") or (E.CHROMIUM if Path(E.CHROMIUM).is_file() else None)
    if exe is None:
        msg = "chromium not installed (make browser, or apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}: CI must take the explorer's screenshot")
        pytest.skip(msg)
    return exe


@pytest.mark.slow
def test_screenshot_of_the_notebook_in_jupyterlab(executed, tmp_path):
    """JupyterLab serves the executed notebook, headless Chromium draws it once its widgets are drawn from
    the saved state; the picture is the window's size and not blank."""
    exe = _chromium_or_skip()
    path, _ = executed
    png = E.screenshot(path, tmp_path / "explore.png", width=1200, height=2000, chromium=exe)
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (2000, 1200, 3)
    near_white = (img.min(axis=2) > 235).mean()
    assert near_white < 0.9, f"{near_white:.0%} of the picture is white"
    assert len(np.unique(img.reshape(-1, 3)[::7], axis=0)) > 2000  # photos and figures, not a blank page


def test_cli_help_does_not_need_torch():
    import subprocess

    r = subprocess.run([sys.executable, "-c", "import sys; from tryon.viz import explore; "
                        "print('torch' in sys.modules)"], capture_output=True, text=True, check=True)  # fmt: skip
    assert r.stdout.strip() == "False"
