"""The processes engine gives the default engine's answers and rejects, part by part."""

from __future__ import annotations

import contextlib
import gzip
import io
import multiprocessing
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamql import F, ParseError, RejectedLinesWarning, Stream, StreamError
from streamql.aggregates import Count, CountBy, Sum
from streamql.api.base import Settings
from streamql.engine import processes as parallel
from streamql.engine import progress
from streamql.engine.local import RunReport
from streamql.engine.progress import Progress
from streamql.engine.registry import engine_named, register_engine, unregister_engine

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

line = st.one_of(
    st.builds(
        lambda n, s: f"h{n % 5} - - x {s} {n}\n",
        st.integers(0, 10**6),
        st.sampled_from([200, 404, 304]),
    ),
    st.just("\n"),  # blank: a reject for field(5)
    st.text(alphabet="ab \t", max_size=20).map(lambda t: t + "\n"),
    st.just("crlf 1 2 3 4 5\r\n"),
)


def quiet(func: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(line, max_size=80), st.booleans())
def test_every_terminal_agrees_with_the_default_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], bom: bool
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 40)  # cut even tiny files into parts
    path = tmp_path / "log"
    path.write_bytes(("\ufeff" if bom else "").encode() + "".join(lines).encode())
    s = Stream.lines(path).field(5)
    for run in (
        lambda e: s.list(engine=e),
        lambda e: s.max(default=None, engine=e),
        lambda e: s.aggregate(n=Count(), lengths=CountBy(len), engine=e),
    ):
        plain = quiet(lambda run=run: run("default"))
        rejected, first = s.last_run.rejected, s.last_run.first_reject
        assert quiet(lambda run=run: run("processes")) == plain
        assert s.last_run.rejected == rejected
        assert s.last_run.first_reject == first


def test_each_terminal_in_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 200)
    path = tmp_path / "log"
    path.write_text("".join(f"h{i % 5} x {i % 7} {i}\n" if i % 13 else "\n" for i in range(400)))
    s = Stream.lines(path).field(3)
    for run in (
        lambda e: s.count(engine=e),
        lambda e: s.set(engine=e),
        lambda e: s.count_by(len, engine=e),
        lambda e: s.top(3, engine=e),
        lambda e: s.min(key=len, default=None, engine=e),
        lambda e: s.group_by(len, agg=len, engine=e),
        lambda e: s.map(int).sum(engine=e),
        lambda e: s.first(engine=e),
    ):
        plain = quiet(lambda run=run: run("default"))
        rejected = s.last_run.rejected
        assert quiet(lambda run=run: run("processes")) == plain
        assert s.last_run.rejected == rejected


def test_a_tree_of_compressed_and_plain_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    rows = [
        f'10.0.0.{i % 7} - - [24/Feb/2008:00:08:59 -0600] "GET /{i} HTTP/1.1" '
        f"{404 if i % 9 == 0 else 200} {i}\n"
        for i in range(3000)
    ]
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "access-log").write_text("".join(rows) + "garbage\n")
    with gzip.open(tmp_path / "www" / "access-log-0108.gz", "wt") as f:
        f.writelines(rows[:500])
    log = Stream.files("access-log*", tmp_path / "www").open().cat().parse_apache()
    assert parallel._parts([str(tmp_path / "www" / "access-log")], 2)[0].stop is not None
    for query in (
        lambda e: log.where(status=404).set("request", engine=e),
        lambda e: log.sum("bytes", engine=e),
        lambda e: log.max(key="bytes", engine=e),
        lambda e: log.where(F.request.contains("/1")).count(engine=e),
        lambda e: log.aggregate(bytes=Sum("bytes"), hosts=CountBy("host"), engine=e),
    ):
        assert quiet(lambda q=query: q("processes")) == quiet(lambda q=query: q("default"))
    with pytest.warns(RejectedLinesWarning, match=r"access-log:3001 "):
        assert log.count(engine="processes") == 3500


def test_plans_that_cannot_run_in_parts_say_why(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("a\n")
    with pytest.raises(ValueError, match="must start from files, got Stream"):
        Stream(["a"]).count(engine="processes")
    with pytest.raises(ValueError, match=r"take\(1\) needs the whole stream in one place"):
        Stream.lines(path).take(1).count(engine="processes")
    with pytest.raises(ValueError, match="engine must be one of"):
        Stream.lines(path).count(engine="spark")
    with pytest.raises(StreamError, match="max: the stream is empty"):
        Stream.lines(path).grep("zzz").max(engine="processes")


def test_real_logs_give_the_same_answers(shared_data: Path) -> None:
    log = Stream.files("access-log*", shared_data / "dabeaz" / "www").open().cat().parse_apache()
    assert log.where(status=404).set("request", engine="processes") == log.where(status=404).set(
        "request"
    )
    assert log.count_by("host", engine="processes") == log.count_by("host")


def test_a_stream_can_carry_its_engine_and_planner_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamql.planner.optimize import Options

    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100)
    path = tmp_path / "log"
    path.write_text("".join(f"h{i % 3} x {i}\n" for i in range(1000)))
    calls = []
    real = parallel.ProcessesEngine.run

    def spy(self: Any, plan: Any, aggregation: Any, settings: Any, report: Any) -> Any:
        calls.append(settings.workers)
        return real(self, plan, aggregation, settings, report)

    monkeypatch.setattr(parallel.ProcessesEngine, "run", spy)
    s = Stream.lines(path).using(engine="processes", workers=2).field(2).map(int)
    assert (
        repr(s) == f"Stream.lines({path!r}).field(2).map(int).using(engine='processes', workers=2)"
    )
    assert s.sum() == sum(range(1000)) and calls == [2]
    assert s.sum(engine="default") == sum(range(1000)) and calls == [2]  # a terminal's own wins
    assert Stream.lines(path).parallel(2).field(2).map(int).sum() == sum(range(1000))
    assert calls == [2, 2]  # .parallel(2) is .using("processes", workers=2)
    log = Stream.lines(path).parse_apache()
    assert "prescan" in log.where(status=404).explain()
    plain = log.using(options=Options(prescan=False)).where(status=404)
    assert "rewritten: prescan" not in plain.explain()
    with pytest.raises(ValueError, match="using: engine must be one of"):
        log.using(engine="spark")
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        log.using(workers=0)


def test_errors_in_a_worker_reach_the_caller_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ParseError must survive the trip home (it once hung the pool: it did not unpickle)."""
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1\n'
    path = tmp_path / "log"
    path.write_text(line * 200 + "broken\n" + line * 200)
    log = Stream.lines(path).parse_apache(errors="raise")
    with pytest.raises(ParseError) as caught:
        log.sum("bytes", engine="processes")
    assert (caught.value.path, caught.value.lineno, caught.value.reason) == (
        str(path),
        201,
        "not an Apache log line",
    )


class Picky(Exception):
    """An exception that pickle cannot rebuild (its __init__ wants two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")


def test_the_first_part_in_order_to_fail_is_the_error_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the default engine would: the earliest error, after the rejects before it."""
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /{} HTTP/1.1" 200 1\n'
    path = tmp_path / "log"
    body = [line.format(i) for i in range(600)]
    body[10] = "bad\n"
    path.write_text("".join(body))

    def boom(record: Any) -> Any:
        if record["request"] in ("/500", "/100"):  # the later part fails first: no wait
            raise KeyError(record["request"])
        return record

    log = Stream.lines(path).parse_apache().map(boom)
    for engine in ("default", "processes"):
        query = log.using(engine, workers=4)
        with pytest.raises(KeyError, match="/100"):
            query.count()
        assert query.last_run.rejected == {"parse_apache": 1}

    def picky(record: Any) -> Any:
        raise Picky("x", "y")

    try:  # tblib (which distributed installs) teaches pickle to rebuild such exceptions
        pickle.loads(pickle.dumps(Picky("x", "y")))
        expected: tuple[type[Exception], str] = (Picky, "x/y")
    except TypeError:
        expected = (StreamError, r"a worker raised Picky: x/y \(it cannot be pickled home\)")
    with pytest.raises(expected[0], match=expected[1]):
        Stream.lines(path).parse_apache().map(picky).count(engine="processes")


def test_a_part_with_nothing_in_it_is_empty_after_the_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100)
    path = tmp_path / "log"
    path.write_text("a\n" * 300 + "x 1\n" + "a\n" * 300)
    lines = Stream.lines(path).grep("x")
    assert lines.max(engine="processes") == lines.max() == "x 1\n"
    assert lines.first(engine="processes") == "x 1\n"


def test_an_answer_that_cannot_travel_home_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100)
    path = tmp_path / "log"
    path.write_text("a\n" * 200)
    before = set(multiprocessing.active_children())
    with pytest.raises(StreamError, match=r"result of part 1 of 2 \(.*log, bytes 0-.*\) cannot"):
        Stream.lines(path).map(lambda line: lambda: line).list(engine="processes")
    assert set(multiprocessing.active_children()) <= before


def test_engines_are_registered_by_name(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("a 1\nb 2\n")
    s = Stream.lines(path).field(1).map(int)
    for name in ("default", "processes"):
        report = RunReport()
        assert engine_named(name).run(s.steps, Sum(), Settings(), report) == 3
        assert report.completed and report.rejected == {}

    class Echo:
        def run(self, plan: Any, aggregation: Any, settings: Any, report: Any) -> Any:
            return [step.name for step in plan], type(aggregation).__name__, settings.workers

    register_engine("echo", Echo())
    try:
        assert s.sum(engine="echo") == (["lines", "field", "map"], "Sum", None)
    finally:
        unregister_engine("echo")
    with pytest.raises(ValueError, match=r"engine must be one of \('default', 'processes', 'dask'"):
        engine_named("echo")
    with pytest.raises(TypeError, match="must have a run"):
        register_engine("bad", object())  # type: ignore[arg-type]


# ------------------------------------------------------------ progress bars


class SpyBar:
    """A progress bar that records the bytes it was shown (the engine drives it as it does tqdm)."""

    every = 1024

    def __init__(self) -> None:
        self.total = 0
        self.seen: list[int] = []
        self.stopped_at: int | None = None

    def started(self, ctx: Any) -> None:
        self.total = ctx.bytes_total

    def ticked(self, ctx: Any, items: int) -> None:
        self.seen.append(ctx.position())

    def stopped(self, ctx: Any) -> None:
        self.stopped_at = ctx.position()


class SpyProgress(Progress):
    def bar(self, every: int = 1024) -> Any:
        self.bars.append(SpyBar())  # type: ignore[attr-defined]
        return self.bars[-1]  # type: ignore[attr-defined]


def spy() -> SpyProgress:
    found = SpyProgress()
    object.__setattr__(found, "bars", [])
    return found


def progress_tree(tmp_path: Path) -> tuple[list[Path], int]:
    plain = tmp_path / "access-log"
    plain.write_text("".join(f"h{i % 7} - - x {200 + i % 3} {i}\n" for i in range(60_000)))
    packed = tmp_path / "access-log.1.gz"
    packed.write_bytes(gzip.compress(b"".join(plain.read_bytes().splitlines(True)[:9000])))
    paths = [plain, packed]
    return paths, sum(p.stat().st_size for p in paths)


@pytest.mark.parametrize("pushed", [True, False])
def test_a_progress_bar_follows_the_parts_in_their_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pushed: bool
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100_000)
    monkeypatch.setattr(progress, "REPORT_SECONDS", 0.0)  # every tick: many moves to see
    paths, total = progress_tree(tmp_path)
    s = Stream.lines(*paths).field(5).map(int)
    agg = Sum() if pushed else CountBy(lambda n: n % 3)
    bar = spy()
    settings = Settings("processes", workers=2, progress=bar)
    got = engine_named("processes").run(s.steps, agg, settings, RunReport())
    assert got == s.aggregate(agg)
    (shown,) = bar.bars
    assert shown.total == total and shown.stopped_at == total
    assert shown.seen == sorted(shown.seen) and len(set(shown.seen)) > 2
    assert 0 < shown.seen[0] < total


def test_progress_draws_a_bar_with_the_processes_engine(tmp_path: Path) -> None:
    paths, _ = progress_tree(tmp_path)
    out = io.StringIO()
    s = Stream.lines(*paths).field(5).map(int)
    assert s.progress(file=out).sum(engine="processes") == s.sum()
    assert "100%" in out.getvalue()


# ------------------------------------------------------------ line numbers


def bare_cr_log(tmp_path: Path) -> tuple[Path, int]:
    """A log whose first half ends its lines with a bare CR, then a bad line further on.

    Returns the path and the line number of the bad line as reading counts
    lines (a bare CR ends one, as in Python's universal newlines).
    """
    good = "".join(f"h{i} - - x 200 {i}\r" for i in range(3000))
    more = "".join(f"h{i} - - x 200 {i}\r\n" for i in range(3000))
    path = tmp_path / "access-log"
    path.write_bytes((good + more + "bad\n" + "h - - x 200 1\n" * 100).encode())
    return path, 6001


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_rejects_name_the_line_reading_gives_after_bare_crs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    scheduler: Any = contextlib.nullcontext()
    if engine == "dask":
        scheduler = pytest.importorskip("dask").config.set(scheduler="synchronous")
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 4000)  # the bad line in a later part
    path, bad = bare_cr_log(tmp_path)
    s = Stream.lines(path).field(5)
    n = quiet(s.count)
    assert s.last_run.first_reject["lineno"] == bad
    report = RunReport()
    settings = Settings(engine, workers=4)
    with scheduler:
        assert quiet(lambda: engine_named(engine).run(s.steps, Count(), settings, report)) == n
    assert report.first_reject["lineno"] == bad
    assert report.rejected == s.last_run.rejected


def test_a_crlf_across_the_counting_blocks_ends_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"x" * ((1 << 20) - 1) + b"\r\n" + b"a\rb\n")
    with open(path, newline=None) as f:
        assert parallel._count_lines(str(path), path.stat().st_size) == len(f.readlines()) == 3
