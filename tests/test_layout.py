"""The package's structure: imports go one way, modules stay small, import streamql stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import streamql

PACKAGE = Path(streamql.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p) for p in MODULES}


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
        "streamql.display",
        "streamql.follow",
        "streamql.writers",
        "streamql.coroutines",
        "streamql.parallel",
        "streamql.dask_engine",
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
