"""The package's structure: imports go one way, modules stay small, import streamql stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import streamql
from streamql import _moved

PACKAGE = Path(streamql.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p) for p in MODULES}
MOVED_NAMES = set(_moved.MOVED)


def imports_of(path: Path) -> set[str]:
    """The streamql modules ``path`` imports, anywhere in it but under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in NAMES else base)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m in NAMES and m != name}


def cycles() -> list[list[str]]:
    edges = {module_name(p): imports_of(p) for p in MODULES}
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles() -> None:
    """Imports go one way, late imports inside functions included (lazy() stand-ins are not)."""
    assert cycles() == []


# The areas of the package, lowest first: an area imports only areas below it
# (lazy() stand-ins are not imports: the API loads display and routing on first use).
AREAS = (
    "core",
    "aggregates",
    "live",
    "ops",
    "formats.access",
    "formats",
    "planner",
    "engine",
    "routing",
    "api",
    "display",
    "samples",
    "cli",
)


def area_of(module: str) -> str:
    """``streamql.formats.access.scan`` -> ``formats.access``; top-level files -> ``core``."""
    rest = module.split(".")[1:]
    if rest[:2] == ["formats", "access"]:
        return "formats.access"
    return rest[0] if rest and rest[0] in AREAS else "core"


def test_areas_import_downward_only() -> None:
    upward = sorted(
        f"{name} -> {dep}"
        for path in MODULES
        if (name := module_name(path)) not in {"streamql", "streamql.__main__"}
        for dep in imports_of(path)
        if AREAS.index(area_of(dep)) > AREAS.index(area_of(name))
    )
    assert upward == []


def test_every_module_lives_in_an_area() -> None:
    """Only the package's face and its private helper stand at the top."""
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "_moved.py"}
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        a.split(".")[0] for a in AREAS
    }


def test_modules_stay_small() -> None:
    sizes = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    assert {name: n for name, n in sizes.items() if n > 450} == {}


def test_import_streamql_loads_no_heavy_module() -> None:
    code = (
        "import sys, streamql; from streamql import Stream, F, Count; "
        "print(' '.join(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded = set(result.stdout.split())
    heavy = {
        "socket",
        "multiprocessing",
        "concurrent.futures",
        "xml.etree.ElementTree",
        "dask",
        "pandas",
        "tqdm",
        "toolz",
        "cytoolz",
        "csv",
        "streamql.display.show",
        "streamql.live.follow",
        "streamql.ops.writers",
        "streamql.routing.coroutines",
        "streamql.engine.processes",
        "streamql.engine.dask_engine",
    }
    assert loaded, result.stderr
    assert loaded & heavy == set()


@pytest.mark.parametrize("name", sorted(streamql.__all__))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(streamql, name) is not None


def test_each_module_imports_on_its_own() -> None:
    """In a fresh interpreter each, so no module works only after another was imported."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    for name in sorted(NAMES - {"streamql.__main__"}):
        result = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"


def test_the_old_flat_paths_still_import() -> None:
    """streamql 0.1's module paths give the module at its new path, with a warning naming it."""
    code = (
        "import importlib, sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "from streamql._moved import MOVED\n"
        "for old, new in MOVED.items():\n"
        "    try:\n"
        "        importlib.import_module('streamql.' + old)\n"
        "    except DeprecationWarning as w:\n"
        "        assert str(w) == f'streamql.{old} moved to {new}', w\n"
        "    else:\n"
        "        raise AssertionError(old + ' did not warn')\n"
        "warnings.simplefilter('ignore')\n"
        "for old, new in MOVED.items():\n"
        "    assert importlib.import_module('streamql.' + old) is importlib.import_module(new)\n"
        "from streamql.display import Table\n"
        "from streamql.live import live_runs\n"
        "import streamql\n"
        "assert Table is streamql.Table and live_runs is streamql.live_runs\n"
        "print(len(MOVED))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(MOVED_NAMES) > 80


def test_an_old_path_warns_at_the_line_that_imports_it() -> None:
    code = "import warnings; warnings.simplefilter('always')\nimport streamql.files\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.startswith("<string>:2: DeprecationWarning: streamql.files moved"), (
        result.stderr
    )
