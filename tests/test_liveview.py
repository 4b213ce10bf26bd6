"""Live views: a running aggregate over a live stream, redrawn, stopped, errors surfaced."""

from __future__ import annotations

import io
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import streamql
from streamql import CountBy, Stream, Sum

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

LINE = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /{n} HTTP/1.1" {status} 10\n'


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail if it never does (the bound only stops a hang)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_a_view_over_a_growing_log_updates_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "access-log"
    log.write_text("")
    screen = Tty()
    view = (
        Stream.follow(log, poll=0.01)
        .parse_apache()
        .live_view(CountBy("status"), every=0.02, file=screen)
    )
    (run,) = streamql.live_runs()
    assert run.query.startswith(f"Stream.follow({log!r}, poll=0.01).parse_apache().until(")
    assert view.wait_drawn(1, timeout=30)  # drawn once before any line: the final draw redraws
    with log.open("a") as f:
        for n in range(30):
            f.write(LINE.format(n=n, status=404 if n % 3 else 200))
            f.flush()
    wait_until(lambda: view.value == {404: 20, 200: 10})
    assert view.running  # a follow never ends by itself
    drawn = view.draws
    assert view.wait_drawn(drawn + 1, timeout=30)  # a redraw while running shows them all
    assert view.running
    assert view.stop(timeout=30) == {404: 20, 200: 10}  # the bound only stops a hang
    assert not view.running and streamql.live_runs() == []
    text = screen.getvalue()
    assert "\x1b[" in text  # redrawn in place on a terminal
    assert text.rstrip().endswith("200     10")


def test_stop_raises_when_the_source_never_polls(no_leaked_threads: None) -> None:
    go = threading.Event()

    def stuck() -> Iterator[int]:
        go.wait(30)  # blocks without polling the run's stop checks
        yield 1

    view = Stream(stuck()).live_view(Sum(), every=0.05, file=io.StringIO())
    with pytest.raises(TimeoutError, match=r"did not end within 0\.1 s"):
        view.stop(timeout=0.1)
    go.set()
    assert view.wait(30)
    assert view.value == 0  # stop() was asked before the item came: it ends the stream


def test_an_error_in_the_query_reaches_stop() -> None:
    def explode(x: int) -> int:
        if x == 3:
            raise ValueError("three")
        return x

    view = Stream([1, 2, 3, 4]).map(explode).live_view(Sum(), every=0.05, file=io.StringIO())
    with pytest.raises(ValueError, match="three"):
        view.wait(30)
    assert view.value == 3  # what was folded before the error


def test_in_a_notebook_the_output_updates_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append(obj)

    def display(obj: Any, display_id: bool = False) -> Handle:
        shown.append(obj)
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    view = Stream([{"s": 1}, {"s": 1}]).live_view(CountBy("s"), every=0.02)
    assert view.wait(30)
    assert isinstance(shown[-1], streamql.Table)
    assert shown[-1].rows == [{"s": 1, "count": 2}]  # headed by the counted field


def test_a_chart_updates_in_place_in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shown: list[Any] = []

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append(obj)

    fake = types.ModuleType("IPython.display")
    fake.display = lambda obj, display_id=False: (shown.append(obj), Handle())[1]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    rows = Stream([{"s": 200}, {"s": 404}, {"s": 404}])
    view = rows.live_view(CountBy("s"), every=0.02, chart=True)
    assert view.wait(30)
    assert isinstance(shown[-1], Figure)
    bars = shown[-1].axes[0].patches
    assert sorted(round(b.get_width()) for b in bars) == [1, 2]


def test_bad_arguments_fail_at_once() -> None:
    with pytest.raises(TypeError, match="agg must be an aggregation"):
        Stream([1]).live_view(len)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every must be"):
        Stream([1]).live_view(Sum(), every=0)
