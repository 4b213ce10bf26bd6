"""Rejects are reported on every run, at the user's line, or as a note in a notebook."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

import pytest

from streamql import RejectedLinesWarning, Stream

LOG = Stream(["a 1", "", "b 2"]).field(1)


def test_every_run_reports_its_rejects_at_the_users_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own rule: once per place
        LOG.count()
        LOG.count()
        LOG.where(lambda x: x != "2").count()
    assert len(caught) == 3  # three lines of the user's code, three reports
    assert {w.filename for w in caught} == {__file__}
    assert all(issubclass(w.category, RejectedLinesWarning) for w in caught)
    assert "first at item 2 (field: no column 1)" in str(caught[0].message)


def test_quiet_where_the_user_asked() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", RejectedLinesWarning)
        assert LOG.count() == 2
    assert not caught


def test_in_a_notebook_rejects_are_a_note_under_the_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []

    class Kernel:
        kernel = object()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: Kernel()  # type: ignore[attr-defined]
    display = types.ModuleType("IPython.display")
    display.display = shown.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        LOG.count()
        LOG.count()
    assert not caught  # no warning on stderr
    assert len(shown) == 2 and "rejected items: field 1" in repr(shown[0])
    assert "&#9888;" in shown[0]._repr_html_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        LOG.count()
    assert len(shown) == 2  # quiet there too
