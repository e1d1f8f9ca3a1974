"""params.yaml validation: unknown keys, wrong types and ranges fail with one line naming the key."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tryon import config
from tryon.config import ParamsError, load_params, parse_params


def test_repo_params_valid_and_cover_every_stage():
    raw = yaml.safe_load(open(config.__file__.replace("tryon/config.py", "params.yaml")))
    assert set(raw) == set(config.SECTIONS), "params.yaml must have exactly base + one section per stage"
    p = parse_params(raw)
    assert p.base.image_size % 32 == 0


def test_defaults_round_trip():
    p = parse_params({})
    assert parse_params(config.to_dict(p)) == p


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"01_prepare": {"n_trian": 5}}, "01_prepare.n_trian"),
        ({"base": {"image_size": -64}}, "base.image_size"),
        ({"base": {"image_size": 100}}, "base.image_size"),  # not a multiple of 32
        ({"base": {"device": "tpu"}}, "base.device"),
        ({"04_warp": {"feature_stride": 5}}, "04_warp.feature_stride"),
        ({"05_train": {"lr": "fast"}}, "05_train.lr"),
        ({"05_train": {"steps": 1.5}}, "05_train.steps"),
        ({"05_train": {"amp": "yes"}}, "05_train.amp"),
        ({"02_encode": {"hidden": [64, "x"]}}, "02_encode.hidden[1]"),
        ({"07_deploy": {}}, "07_deploy"),
    ],
)
def test_bad_values_name_the_key(raw, key):
    with pytest.raises(ParamsError) as e:
        parse_params(raw)
    msg = str(e.value)
    assert key in msg and "\n" not in msg


def test_frozen():
    p = parse_params({})
    with pytest.raises(AttributeError):
        p.base.seed = 3  # type: ignore[misc]


def test_cli_check_one_line_error(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("base:\n  image_size: -128\n")
    r = subprocess.run(
        [sys.executable, "-m", "tryon.config", "check", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "base.image_size" in r.stderr and "Traceback" not in r.stderr
    bad.write_text("base: [unclosed\n")
    r = subprocess.run(
        [sys.executable, "-m", "tryon.config", "check", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 2 and "not valid YAML" in r.stderr


def test_apply_profile_merges_and_validates(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"base": {"seed": 3}, "05_train": {"steps": 100, "lr": 0.01}}))
    prof = tmp_path / "tiny.yaml"
    prof.write_text(yaml.safe_dump({"05_train": {"steps": 2}}))
    p = config.apply_profile(prof, params)
    assert p.train.steps == 2 and p.train.lr == 0.01 and p.base.seed == 3
    assert load_params(params) == p
    prof.write_text(yaml.safe_dump({"05_train": {"stepz": 2}}))
    before = params.read_text()
    with pytest.raises(ParamsError, match="05_train.stepz"):
        config.apply_profile(prof, params)
    assert params.read_text() == before, "a rejected profile must leave params.yaml untouched"


@pytest.mark.parametrize("profile", ["profiles/tiny.yaml", "profiles/full.yaml", "profiles/method.yaml"])
def test_shipped_profiles_are_valid(profile):
    root = config.__file__.replace("tryon/config.py", "")
    raw = config.merge(yaml.safe_load(open(root + "params.yaml")), yaml.safe_load(open(root + profile)))
    parse_params(raw, profile)


def test_dump_keeps_every_key_and_round_trips():
    p = parse_params({"05_train": {"steps": 7}, "02_encode": {"hidden": [64, 32]}})
    text = config.dump_yaml(p)
    assert parse_params(yaml.safe_load(text)) == p
    assert "# square working size" in text  # the docs travel as comments


# --- every DVC stage stops before any work on bad params or a missing input file ---------------------
REPO = Path(config.__file__).parents[1]
STAGES = ("01_prepare", "02_encode", "03_contour", "04_warp", "05_train", "06_evaluate")


def _stage_cmd(stage: str) -> str:
    """The stage's command as DVC runs it (``dvc.yaml`` with its ``vars`` substituted)."""
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    cmd = spec["stages"][stage]["cmd"]
    for name, value in spec["vars"][0].items():
        cmd = cmd.replace("${" + name + "}", value)
    return cmd


def _stage_root(tmp_path: Path, params: str, missing: str | None = None) -> Path:
    """A repo-like folder: dvc.yaml, ``params`` as params.yaml, the code, and every stage's outputs
    (empty) except ``missing``."""
    (tmp_path / "dvc.yaml").write_text((REPO / "dvc.yaml").read_text())
    (tmp_path / "params.yaml").write_text(params)
    for d in ("notebooks", "tryon", "models"):
        (tmp_path / d).symlink_to(REPO / d)
    (tmp_path / "metrics").mkdir()
    for stage in STAGES:
        if stage != missing:
            (tmp_path / "data" / stage).mkdir(parents=True)
            (tmp_path / "metrics" / f"{stage}.json").write_text("{}")
    return tmp_path


def _run_stage(root: Path, stage: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        ["bash", "-c", _stage_cmd(stage)], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


GOOD = (REPO / "params.yaml").read_text()


@pytest.mark.parametrize(
    ("stage", "params", "missing", "needle"),
    [
        (
            "03_contour",
            re.sub(r"(03_contour:.*?\n  steps: )\d+", r"\1many", GOOD, count=1, flags=re.S),
            None,
            "03_contour.steps",
        ),
        ("05_train", GOOD.replace("  batch_size: 8", "  batch_size: -8", 1), None, "batch_size"),
        ("01_prepare", GOOD + "\nbase_typo:\n  seed: 1\n", None, "base_typo"),
        ("05_train", GOOD, "02_encode", "data/02_encode: input of stage 05_train not found"),
        ("06_evaluate", GOOD, "05_train", "run `dvc repro 05_train`"),
    ],
    ids=["wrong_type", "out_of_range", "unknown_key", "missing_input", "missing_input_06"],
)
def test_a_stage_stops_before_any_work(tmp_path, stage, params, missing, needle):
    assert params != GOOD or missing, "the case must break something"
    root = _stage_root(tmp_path, params, missing)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    r = _run_stage(root, stage)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before, "the stage wrote nothing"


def test_check_stage_passes_when_every_input_is_there(tmp_path):
    root = _stage_root(tmp_path, GOOD)
    r = subprocess.run(
        [sys.executable, "-m", "tryon.config", "check", "--stage", "06_evaluate"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert r.returncode == 0 and r.stdout.strip() == "params.yaml: ok", r.stderr
    with pytest.raises(ParamsError, match="no stage '07_deploy'"):
        config.check_stage_inputs("07_deploy", root / "dvc.yaml")
