"""The package's shape (issue #12): layers import downwards only, no import cycle, nothing outside
``tryon/stages/`` imports a stage, and files and functions stay a readable size.

Imports are read with ``ast`` from every ``tryon/**/*.py`` file, at module level and inside functions
alike (a function-level import still ties two modules together)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tryon import config

ROOT = Path(config.__file__).resolve().parents[1]
PKG = ROOT / "tryon"

#: file -> reason, for a file allowed over MAX_FILE_LINES (none today)
LONG_FILES: dict[str, str] = {}
#: "file:function" -> reason, for a function allowed over MAX_FUNCTION_LINES (none today)
LONG_FUNCTIONS: dict[str, str] = {}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The tryon module that ``name`` (a module, or ``module.attribute``) refers to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every tryon module that the file imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    here = _module_name(path)
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out |= {m for n in names if n.startswith("tryon") and (m := _resolve(n, modules))}
    out.discard(here)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None. Package ``__init__`` edges to
    its own submodules are the package's re-exports, not a cycle."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if n.startswith(m + "."):  # a package importing its own submodule
                continue
            if state.get(n) == 1:
                return stack[stack.index(n) :] + [n]
            if state.get(n) is None and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if state.get(m) is None and (cycle := visit(m)):
            return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    """The checker itself: a two-module circle and a longer one are found, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_nothing_outside_stages_imports_a_stage():
    bad = sorted(
        f"{m} imports {n}"
        for m, deps in import_graph().items()
        if not m.startswith("tryon.stages")
        for n in deps
        if n.startswith("tryon.stages")
    )
    assert not bad, "only tryon/stages/ may import a stage:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "lower, higher",
    [
        (
            "tryon.nets",
            ("tryon.train", "tryon.infer", "tryon.eval", "tryon.bench", "tryon.viz", "tryon.data"),
        ),
        ("tryon.geometry", ("tryon.nets", "tryon.losses", "tryon.train", "tryon.infer")),
        ("tryon.matching", ("tryon.nets", "tryon.losses", "tryon.train", "tryon.infer")),
        ("tryon.text", ("tryon.nets", "tryon.train", "tryon.infer", "tryon.data")),
        ("tryon.data", ("tryon.nets", "tryon.train", "tryon.infer", "tryon.eval", "tryon.bench")),
        ("tryon.config", ("tryon.nets", "tryon.data", "tryon.train", "tryon.infer")),
    ],
)
def test_layers_import_downwards(lower, higher):
    bad = sorted(
        f"{m} imports {n}"
        for m, deps in import_graph().items()
        if m == lower or m.startswith(lower + ".")
        for n in deps
        if any(n == h or n.startswith(h + ".") for h in higher)
    )
    assert not bad, f"{lower} must not import a higher layer:\n" + "\n".join(bad)


def test_file_and_function_sizes():
    too_long = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text().splitlines())
        if n > MAX_FILE_LINES and rel not in LONG_FILES:
            too_long.append(f"{rel}: {n} lines (max {MAX_FILE_LINES})")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{rel}:{node.name}" not in LONG_FUNCTIONS:
                    too_long.append(f"{rel}:{node.name}: {length} lines (max {MAX_FUNCTION_LINES})")
    assert not too_long, "split these (or name them with a reason here):\n" + "\n".join(too_long)


def test_readme_package_map_matches_the_tree():
    """README's map names every folder of tryon/ and every top-level module, and names nothing that
    does not exist."""
    import re

    readme = (ROOT / "README.md").read_text()
    block = readme.split("### The package, by what each part is", 1)[1].split("```")[1]
    named = set(re.findall(r"^(tryon/[\w/]*\.?\w*)", block, flags=re.M))
    folders = {f"tryon/{p.name}/" for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    missing = sorted(folders - named)
    assert not missing, f"README's package map lacks: {missing}"
    for path in named:
        assert (ROOT / path).exists(), f"README's package map names {path}, which does not exist"
    for module in sorted(PKG.glob("*.py")):
        if module.name != "__init__.py":
            assert module.name.removesuffix(".py") in block, f"README's package map never names {module.name}"


def test_every_tryon_path_named_in_dvc_yaml_exists():
    """A stage (or the index) that names a moved or deleted file fails only when it runs: catch it here."""
    import re

    text = (ROOT / "dvc.yaml").read_text()
    named = set(re.findall(r"(tryon/[\w/]+\.py)", text)) | {
        m.replace(".", "/") for m in re.findall(r"python -m (tryon(?:\.\w+)+)", text)
    }
    for path in sorted(named):
        assert (ROOT / path).exists() or (ROOT / f"{path}.py").exists(), f"dvc.yaml names {path}: not found"
