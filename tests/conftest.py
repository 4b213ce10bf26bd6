"""Shared fixtures: the real logs in ../shared/data (when present) and small generated trees."""

from __future__ import annotations

import bz2
import gzip
import lzma
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tutorial_reference import SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    """The real Apache logs of ../shared/data; skips the test where they are absent."""
    if not (SHARED_DATA / "dabeaz" / "access-log").exists():
        pytest.skip(f"real logs not present at {SHARED_DATA}")
    return SHARED_DATA


def numbered_lines(prefix: str, n: int) -> list[str]:
    return [f"{prefix} line {i} bytes {i * 7}\n" for i in range(1, n + 1)]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A small log tree with plain, gzip, bzip2 and xz files; maps relative path to lines."""
    content = {
        "www/foo/access-log": numbered_lines("foo-plain", 30),
        "www/foo/access-log-0108.gz": numbered_lines("foo-gz", 20),
        "www/bar/access-log": numbered_lines("bar-plain", 25),
        "www/bar/access-log-0108.bz2": numbered_lines("bar-bz2", 15),
        "www/bar/old/access-log-1207.xz": numbered_lines("bar-xz", 5),
        "www/bar/notes.txt": ["not a log\n"],
    }
    openers = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    for rel, lines in content.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        opener = openers.get(path.suffix, open)
        with opener(path, "wt") as f:
            f.writelines(lines)
    monkeypatch.chdir(tmp_path)
    return content


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves more threads running than it found (after 3 s of grace)."""
    baseline = threading.active_count()
    yield
    deadline = time.monotonic() + 3
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == baseline, threading.enumerate()
