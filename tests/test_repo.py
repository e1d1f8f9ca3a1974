"""The repository's own contracts: one slug per step, pinned environment, stripped notebooks, offline DVC."""

import configparser
import json
import re
from pathlib import Path

import yaml

from tryon import config

ROOT = Path(config.__file__).resolve().parents[1]


def _reqs(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement: {line!r}"
            out[name.lower()] = version
    return out


def test_environment_yml_matches_requirements():
    pip = _reqs((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _reqs(pip_section) == pip
    assert pip["torch"] == "2.14.1" and pip["torchvision"] == "0.29.1"


def test_one_slug_per_step():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))  # explore: no stage
    assert notebooks == config.STAGES
    for slug in config.STAGES:
        st = dvc[slug]
        assert f"notebooks/{slug}.ipynb" in st["deps"]
        outs = [o if isinstance(o, str) else next(iter(o)) for o in st["outs"]]  # {path: {persist: true}}
        assert f"data/{slug}" in outs
        assert any(f"metrics/{slug}.json" in m for m in st["metrics"])
        assert slug in st["params"] or any(p.startswith(slug) for p in st["params"])
        assert (
            "papermill -k tryon --cwd ." in yaml.safe_load((ROOT / "dvc.yaml").read_text())["vars"][0]["run"]
        )
        for dep in st["deps"]:
            if not dep.startswith(("data/", "metrics/")):  # outputs of earlier stages
                assert (ROOT / dep).exists(), f"{slug}: dependency {dep} does not exist"
    assert dvc["render"]["foreach"] == config.STAGES


def test_notebooks_are_stripped_and_parameterised():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
            f"{path.name}: outputs"
        )
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        src = "".join("".join(c["source"]) for c in code)
        assert "%matplotlib inline" in src, f"{path.name}: figures vanish from the HTML without it"
        if path.stem in config.STAGES:  # the explorer notebook is not a stage
            assert "write_metrics" in src, f"{path.name}: must write its metrics JSON"
        assert not re.search(r"class \w+\(.*(nn\.Module|Dataset)", src), (
            f"{path.name}: logic belongs in tryon/"
        )


def test_dvc_offline_config():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".dvc" / "config")
    assert cfg["core"]["analytics"] == "false"
    assert cfg["core"]["check_update"] == "false"


def test_ci_calls_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make repro" in readme


def _module_file(mod: str) -> Path | None:
    for p in (ROOT / (mod.replace(".", "/") + ".py"), ROOT / mod.replace(".", "/") / "__init__.py"):
        if p.exists():
            return p
    return None


def _tryon_imports(src: str) -> set[str]:
    """Every tryon module imported anywhere in ``src`` (module level or inside functions)."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("tryon")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tryon"):
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if _module_file(m)}


def code_closure(notebook: Path) -> list[str]:
    """The tryon source files a notebook can execute: the transitive closure of its imports."""
    nb = json.loads(notebook.read_text())
    src = "\n".join(
        line
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for line in "".join(c["source"]).splitlines()
        if not line.lstrip().startswith("%")
    )
    todo, seen = list(_tryon_imports(src)), set()
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += list(_tryon_imports(_module_file(m).read_text()))
    files = {_module_file(m) for m in seen}
    # a package __init__ counts when it runs code (re-exports); a docstring-only one does not
    return sorted(
        f.relative_to(ROOT).as_posix()
        for f in files
        if f.name != "__init__.py" or _tryon_imports(f.read_text())
    )


def test_each_stage_depends_on_exactly_the_code_it_runs():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for slug in config.STAGES:
        declared = sorted(d for d in dvc[slug]["deps"] if d.startswith("tryon/"))
        expected = code_closure(ROOT / "notebooks" / f"{slug}.ipynb")
        assert declared == expected, f"dvc.yaml {slug} code deps should be exactly:\n" + "\n".join(
            f"      - {f}" for f in expected
        )


def test_params_yaml_is_what_dump_writes_with_one_line_comments():
    """`python -m tryon.config dump` writes params.yaml as committed; each key's comment is one line of at most
    100 characters (what the key does, its unit or choices; its history is in docs/experiments.md)."""
    import dataclasses

    text = (ROOT / "params.yaml").read_text()
    assert config.dump_yaml(config.load_params(ROOT / "params.yaml")) == text, (
        "run python -m tryon.config dump"
    )
    assert max(len(line) for line in text.splitlines()) <= 120
    for slug, (_, cls) in config.SECTIONS.items():
        for f in dataclasses.fields(cls):
            doc = f.metadata.get("doc", "")
            assert len(doc) <= 100 and "\n" not in doc, f"{slug}.{f.name}: doc of {len(doc)} characters"


#: how the work was organised has no place in the repository: a comment says what and why, and names a
#: date or a commit where history matters
WORK_HISTORY = re.compile(r"\bstops? [0-9]+", re.I)
#: folders that are not the repository's own text: git, environments, DVC's cache and the stage outputs
SKIP_DIRS = {
    ".git",
    ".dvc",
    "data",
    "reports",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
}


def test_no_file_refers_to_how_the_work_was_organised():
    import os

    hits = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.startswith(".venv") and not d.endswith(".egg-info")
        ]
        for name in files:
            path = Path(folder) / name
            if path.stat().st_size > 2**21:  # a model or an image, not text
                continue
            try:
                lines = path.read_text().splitlines()
            except (UnicodeDecodeError, OSError):
                continue  # binary
            rel = path.relative_to(ROOT)
            hits += [
                f"{rel}:{n}: {m.group(0)}"
                for n, line in enumerate(lines, 1)
                if (m := WORK_HISTORY.search(line))
            ]
    assert not hits, "name a date or a commit instead:\n" + "\n".join(hits)
