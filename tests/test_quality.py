"""The package stays ruff clean and mypy --strict clean (both come with the dev extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_clean() -> None:
    folders = [f for f in ("streamql", "tests", "bench") if (ROOT / f).is_dir()]
    result = run("ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_formatted() -> None:
    folders = [f for f in ("streamql", "tests", "bench") if (ROOT / f).is_dir()]
    result = run("ruff", "format", "--check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    pytest.importorskip("mypy")
    result = run(sys.executable, "-m", "mypy", "streamql")
    assert result.returncode == 0, result.stdout + result.stderr


def test_py_typed_shipped() -> None:
    assert (ROOT / "streamql" / "py.typed").exists()
