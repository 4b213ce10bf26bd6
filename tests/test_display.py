"""show(), the notebook preview, replay of peeked one-shot sources, Table, progress bars."""

from __future__ import annotations

import gzip
import io
import queue
import struct
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from streamql import Stream, StreamError
from streamql.display import show as display
from streamql.display.show import Table, peek, preview_html

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def previews_without_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine must not cut a preview short: its bound only stops a hang here."""
    monkeypatch.setattr(display, "PREVIEW_SECONDS", 60.0)


class Preview(HTMLParser):
    """Collect the query (<pre>), the table's header and rows, and the note (<small>)."""

    def __init__(self) -> None:
        super().__init__()
        self.pre = ""
        self.note = ""
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._in.append(tag)
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag: str) -> None:
        assert self._in.pop() == tag  # well formed

    def handle_data(self, data: str) -> None:
        where = self._in[-1] if self._in else ""
        if where == "pre":
            self.pre += data
        elif where == "small":
            self.note += data
        elif where == "th":
            self.header.append(data)
        elif where == "td":
            self.rows[-1].append(data)


def parse(markup: str) -> Preview:
    p = Preview()
    p.feed(markup)
    p.close()
    p.rows = [r for r in p.rows if r]
    return p


def counting(n: int, pulled: list[int]) -> Iterator[int]:
    for i in range(n):
        pulled.append(i)
        yield i


# ------------------------------------------------------------------- show
def test_show_prints_an_aligned_table_and_reads_no_further(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pulled: list[int] = []
    rows = Stream(counting(1000, pulled)).map(lambda i: {"n": i, "host": f"h{i}"})
    rows.show(3)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "n  host",
        "-  ----",
        "0  h0",
        "1  h1",
        "2  h2",
        "(first 3 items; more not read)",
    ]
    assert pulled == [0, 1, 2, 3]  # one more than shown, to know there is more


def test_show_then_run_loses_nothing_from_a_generator(capsys: pytest.CaptureFixture[str]) -> None:
    pulled: list[int] = []
    s = Stream(counting(5, pulled))
    doubled = s.map(lambda x: x * 2)
    doubled.show(2)
    s.show(1)  # a second peek reads what the first kept
    capsys.readouterr()
    assert s.list() == [0, 1, 2, 3, 4]
    assert pulled == [0, 1, 2, 3, 4]
    with pytest.raises(StreamError, match="consumed by an earlier run"):
        doubled.list()


def test_show_on_lines_and_an_empty_stream(capsys: pytest.CaptureFixture[str]) -> None:
    Stream(["GET /\n", "tab\there"]).show()
    Stream([]).show()
    assert capsys.readouterr().out.splitlines() == [
        "item",
        "---------",
        "GET /\\n",
        "tab\\there",
        "(no items)",
    ]


def test_show_raises_the_query_error_and_checks_n() -> None:
    with pytest.raises(ZeroDivisionError):
        Stream([0]).map(lambda x: 1 / x).show()
    with pytest.raises(ValueError, match="show: n must be"):
        Stream([1]).show(-1)


def test_peek_replays_a_one_shot_binary_file_and_a_queue() -> None:
    data = io.BytesIO(b"".join(struct.pack("<i", i) for i in range(4)))
    records = Stream.records("<i", data)
    assert peek(records, 1).items == [(0,)]
    assert records.list() == [(0,), (1,), (2,), (3,)]

    q: queue.Queue[Any] = queue.Queue()
    Stream(["a", "b", "c"]).to_queue(q)
    fed = Stream.from_queue(q)
    assert peek(fed, 2, timeout=2).items == ["a", "b"]
    assert fed.list() == ["a", "b", "c"]


def test_replay_numbers_items_for_rejects() -> None:
    s = Stream(iter(["a 1", "", "b 2"])).field(1)
    assert peek(s, 1).items == ["1"]
    assert s.rejects.list()[0]["lineno"] == 2


# ----------------------------------------------------------------- preview
def test_repr_stays_the_query_and_runs_nothing() -> None:
    pulled: list[int] = []
    s = Stream(counting(3, pulled)).map(str)
    assert repr(s).endswith(".map(str)")
    assert pulled == []


def test_html_preview_shows_query_and_first_rows_escaped() -> None:
    rows = [{"request": f"/<script>{i}", "status": 404} for i in range(50)]
    s = Stream(rows).where(status=404)
    p = parse(s._repr_html_())
    assert p.pre == repr(s)
    assert p.header == ["request", "status"]
    assert len(p.rows) == 10
    assert p.rows[0] == ["/<script>0", "404"]
    assert "first 10 rows" in p.note
    assert "<script>" not in s._repr_html_()


def test_html_preview_on_files_reads_only_the_start(tmp_path: Path) -> None:
    log = tmp_path / "log.gz"
    with gzip.open(log, "wt") as f:
        f.writelines(f"line {i}\n" for i in range(100_000))
    pulled: list[str] = []

    def seen(x: str) -> str:
        pulled.append(x)
        return x

    s = Stream.lines(log).field(1).map(seen)
    p = parse(preview_html(s, n=3, seconds=60))  # the bound only stops a hang
    assert [r[0] for r in p.rows] == ["0", "1", "2"]
    assert "first 3 rows; the rest not read" in p.note
    assert pulled == ["0", "1", "2", "3"]  # one more than shown, to know there is more


def test_html_preview_ends_on_time_on_a_quiet_follow(
    tmp_path: Path, no_leaked_threads: None
) -> None:
    log = tmp_path / "live.log"
    log.write_text("old\n")
    s = Stream.follow(log, poll=0.02)
    p = parse(preview_html(s, seconds=0.3))  # returns: the quiet source did not hold it
    assert p.rows == [] and "within 0.3 s" in p.note


def test_a_peek_gives_up_on_a_source_blocked_in_next_and_keeps_its_item(
    no_leaked_threads: None,
) -> None:
    go, blocked = threading.Event(), threading.Event()

    def source() -> Iterator[str]:
        yield "first"
        blocked.set()
        go.wait(30)  # blocked inside next(): no deadline between items reaches here
        yield "late"

    s = Stream(source())
    p = peek(s, 5, stop=blocked)  # ends when the source is known to be stuck
    assert p.items == ["first"] and p.timed_out
    go.set()
    assert s.list() == ["first", "late"]  # the item the worker got late is replayed


def test_html_preview_gives_up_on_a_blocked_source_and_says_so(no_leaked_threads: None) -> None:
    go = threading.Event()

    def quiet() -> Iterator[str]:
        go.wait(30)
        yield "late"

    s = Stream(quiet())
    p = parse(preview_html(s, seconds=0.2))
    assert p.rows == [] and "within 0.2 s" in p.note
    go.set()
    assert s.list() == ["late"]
    with pytest.raises(TypeError, match=r"stop must be a threading\.Event"):
        peek(Stream([1]), 1, stop=1.0)  # type: ignore[arg-type]


def test_html_preview_is_not_run_with_side_effects_or_on_the_network() -> None:
    seen: list[int] = []
    p = parse(Stream([1, 2]).tap(seen.append)._repr_html_())
    assert seen == [] and p.rows == []
    assert p.note.startswith("no preview: tap(")
    assert "listens on the network" in parse(Stream.tcp_lines(0)._repr_html_()).note


def test_html_preview_reports_errors_and_used_sources() -> None:
    p = parse(Stream([1, 0]).map(lambda x: 1 / x)._repr_html_())
    assert p.rows == [["1.0"]] and "ZeroDivisionError" in p.note
    once = Stream(iter([1]))
    once.list()
    assert "consumed by an earlier run" in parse(once._repr_html_()).note


def test_preview_of_windows_shows_their_fields() -> None:
    rows = [{"t": t} for t in (0, 5, 12)]
    p = parse(Stream(rows).window(10, by="t", agg=len)._repr_html_())
    assert p.header == ["start", "end", "value"]
    assert p.rows == [["0", "10", "2"], ["10", "20", "1"]]


# ------------------------------------------------------------------- Table
def test_table_of_results_as_text_and_html() -> None:
    counts = Stream([{"s": 404}, {"s": 200}, {"s": 404}]).count_by("s")
    assert isinstance(counts, dict)  # terminals stay plain values
    table = Table(counts, columns=("status", "hits"))
    assert str(table).splitlines()[2:] == ["   404     2", "   200     1"]
    p = parse(table._repr_html_())
    assert p.header == ["status", "hits"] and p.rows == [["404", "2"], ["200", "1"]]
    top = Table(Stream([{"b": 1, "r": "/a"}, {"b": 9, "r": "/b"}]).top(1, "b"))
    assert top.columns == ["b", "r"] and top.rows == [{"b": 9, "r": "/b"}]
    with pytest.raises(ValueError, match="two column names"):
        Table({}, columns=("a",))


# -------------------------------------------------------------------- REPL
def test_repl_shows_the_query_and_show_prints_a_table() -> None:
    commands = (
        "from streamql import Stream\n"
        "s = Stream(iter(range(5))).map(lambda x: {'n': x, 'sq': x * x})\n"
        "s\n"
        "s.show(2)\n"
        "print(len(s.list()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-i", "-q"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    out = result.stdout
    assert "Stream(<range_iterator object" in out or "Stream(" in out
    assert ".map(<lambda>)" in out
    assert "n  sq\n-  --\n0   0\n1   1\n(first 2 items; more not read)" in out
    assert out.rstrip().endswith("5")  # the peeked items were replayed
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- progress
def test_progress_counts_bytes_across_plain_and_compressed_files(tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    (tmp_path / "a.log").write_text("x 1\n" * 2000)
    with gzip.open(tmp_path / "b.log.gz", "wt") as f:
        f.write("y 2\n" * 3000)
    total = sum(p.stat().st_size for p in tmp_path.iterdir())
    out = io.StringIO()
    s = Stream.lines(str(tmp_path / "*.log*")).field(1).map(int).progress("logs", file=out)
    assert repr(s).endswith(".map(int).progress('logs', file=...)")
    assert s.sum() == 2000 + 6000
    final = out.getvalue().split("\r")[-1]
    assert final.startswith("logs: 100%")
    assert f"{total / 1024:.2f}k" in final or f"{total}" in final or "k/" in final
    files = Stream.files("*.log*", tmp_path).open().cat().progress(file=io.StringIO())
    assert files.count() == 5000


def test_progress_on_items_shows_a_rate() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    assert Stream(range(1000)).progress(file=out).count() == 1000
    assert "1000 items" in out.getvalue().split("\r")[-1]


def test_progress_by_default_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    from streamql.engine import progress

    (tmp_path / "a.log").write_text("x 1\n" * 500)
    query = Stream.lines(tmp_path / "a.log").field(1)
    assert query.count() == 500  # a library call: no bar
    assert "100%" not in capsys.readouterr().err
    try:
        progress.show_progress(True)
        assert query.count() == 500
        assert "100%" in capsys.readouterr().err
        assert Stream([1, 2]).count() == 2  # no files: no bar
        assert "100%" not in capsys.readouterr().err
    finally:
        progress.show_progress(None)

    class Kernel:
        kernel = object()

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: Kernel()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert progress.wanted(query.steps)  # inside a notebook: on by default
    assert query.progress().steps == query.steps  # a bar is no step of the plan
    assert query.progress().explain().splitlines()[1:] == query.explain().splitlines()[1:]
    with pytest.raises(TypeError, match="show_progress: expected True, False or None"):
        progress.show_progress("yes")  # type: ignore[arg-type]
