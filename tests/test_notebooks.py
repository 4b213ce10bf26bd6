"""The notebooks in notebooks/ run top to bottom clean: no cell error, no stderr, no warning.

They are executed with nbclient on a Python kernel (skipped, saying why, only
where no kernel can be started), and they must not silence warnings to be clean.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def sources(path: Path) -> list[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in doc["cells"] if cell["cell_type"] == "code"]


def test_notebooks_are_stored_clean() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"tutorial.ipynb", "log-analysis.ipynb"}
    for path in NOTEBOOKS:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["nbformat"] == 4
        for cell in doc["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_do_not_silence_warnings(path: Path) -> None:
    for code in sources(path):
        for hider in ("catch_warnings", "simplefilter", "filterwarnings"):
            assert hider not in code, f"{path.name} hides warnings:\n{code}"


def kernel_or_skip() -> None:
    """Skip, saying why, where no Python kernel can be started."""
    pytest.importorskip("nbformat", reason="nbformat is not installed (no notebook support)")
    pytest.importorskip("nbclient", reason="nbclient is not installed (no notebook runner)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (no Python kernel)")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no Jupyter kernel named python3 is installed")


def execute(path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import nbclient
    import nbformat

    # The kernel imports this checkout's streamql, installed or not.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,  # per cell: bounds a hang only
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def noise(notebook: Any) -> list[tuple[int, str]]:
    """(cell number, text) of every stderr output and every warning shown, in order."""
    found = []
    for number, cell in enumerate(notebook.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            stderr = out.get("output_type") == "stream" and out.get("name") == "stderr"
            if stderr or "Warning:" in text:
                found.append((number, text))
            elif out.get("output_type") == "error":
                found.append((number, f"{out.get('ename')}: {out.get('evalue')}"))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kernel_or_skip()
    if "log-analysis" in path.name:
        pytest.importorskip("pandas", reason="the notebook uses pandas")
        pytest.importorskip("matplotlib", reason="the notebook plots with matplotlib")
    found = noise(execute(path, tmp_path, monkeypatch))
    assert found == [], "\n".join(f"cell {n}: {text.strip()[:300]}" for n, text in found)
