"""The Dask engine gives the default engine's answers and rejects, on a loopback cluster."""

from __future__ import annotations

import contextlib
import gzip
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (comes with distributed)
from test_parallel import progress_tree, spy  # noqa: E402

from streamql import F, RejectedLinesWarning, Stream, StreamError  # noqa: E402
from streamql.aggregates import (  # noqa: E402
    Aggregate,
    Count,
    CountBy,
    Distinct,
    First,
    Last,
    Many,
    Max,
    Min,
    Sum,
    Top,
)
from streamql.api.base import Settings  # noqa: E402
from streamql.core.errors import CorruptFileError, ParseError  # noqa: E402
from streamql.engine import dask_engine  # noqa: E402
from streamql.engine import processes as parallel  # noqa: E402
from streamql.engine.local import RunReport  # noqa: E402
from streamql.engine.registry import engine_named  # noqa: E402
from streamql.samples.tree import SampleTree, write_sample_tree  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two single-threaded worker processes on loopback; all of it gone after the module."""
    threads = set(threading.enumerate())
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        # No dashboard, but the scheduler's HTTP server still starts: on a free
        # loopback port, not the shared 8787.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    # Not the default client: the tests without one must not find it.
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()

    def left() -> list[Any]:
        # distributed keeps one offload thread per process, by design, until exit.
        extra = [t for t in threading.enumerate() if t not in threads]
        return [t for t in extra if not t.name.startswith("Dask-Offload")]

    deadline = time.monotonic() + 5
    while (left() or multiprocessing.active_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left() and not multiprocessing.active_children()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    """Nine logs (plain, gzip, bzip2, xz) of 400 lines, nine of them malformed."""
    return write_sample_tree(tmp_path_factory.mktemp("logs"), lines_per_file=400)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut even these small files into several parts (only the parent cuts)."""
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 2000)


def quiet(func: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


def default_run(stream: Stream[Any], agg: Aggregate) -> tuple[Any, RunReport]:
    """The answer and report of the default, in-process engine."""
    result = quiet(lambda: stream.aggregate(answer=agg))["answer"]
    return result, stream.last_run


def run_dask(
    steps: tuple[Any, ...],
    agg: Aggregate,
    workers: int | None = None,
    client: Any = None,
    report: RunReport | None = None,
) -> Any:
    """The Dask engine through the engines' protocol, as a terminal runs it."""
    settings = Settings("dask", workers=workers, client=client)
    return engine_named("dask").run(steps, agg, settings, report or RunReport())


def dask_run(stream: Stream[Any], agg: Aggregate, **kwargs: Any) -> tuple[Any, RunReport]:
    report = RunReport()
    result = quiet(lambda: run_dask(stream.steps, agg, report=report, **kwargs))
    return result, report


AGGREGATES = Many(
    {
        "n": Count(),
        "bytes": Sum("bytes"),
        "404s": Distinct("request", where=F.status == 404),
        "largest": Max(key="bytes"),
        "smallest": Min("bytes"),
        "first": First("request"),
        "last": Last("request"),
        "hosts": CountBy("host"),
        "top": Top(3, by="bytes"),
    }
)


@pytest.mark.usefixtures("small_parts")
def test_same_answers_and_rejects_as_the_default_engine(
    client: Any, tree: SampleTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree.root)  # relative names: the workers started elsewhere
    parts, *_ = parallel.split_plan(Stream.lines("www/foo/access-log").steps, 12)
    assert len(parts) > 1 and all(not Path(p.path).is_absolute() for p in parts)
    log = Stream.files("access-log*", ".").open().cat().parse_apache()
    plain, report = default_run(log, AGGREGATES)
    assert sum(report.rejected.values()) == tree.malformed_lines
    answer, dask_report = dask_run(log, AGGREGATES, workers=12, client=client)
    assert answer == plain
    assert answer["n"] == tree.good_lines
    assert (dask_report.rejected, dask_report.first_reject) == (
        report.rejected,
        report.first_reject,
    )
    assert dask_report.first_reject["file"] == report.first_reject["file"] == "blog/access-log"
    assert dask_report.completed


@pytest.mark.usefixtures("small_parts")
def test_a_lambda_in_the_plan_travels(client: Any, tree: SampleTree) -> None:
    log = Stream.lines(tree.root / "www").parse_apache().where(lambda r: r["status"] == 404)
    agg = Many({"n": Count(), "requests": Distinct("request")})
    assert dask_run(log, agg, workers=12, client=client)[0] == default_run(log, agg)[0]


@pytest.mark.usefixtures("small_parts")
def test_parts_with_nothing_in_them_stay_empty(client: Any, tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("x1\nx3\nx2\n" + "y\n" * 3000)
    s = Stream.lines(path).grep("x")
    agg = Many({"max": Max(), "min": Min(), "first": First(), "last": Last(), "n": Count()})
    assert dask_run(s, agg, workers=4, client=client)[0] == {
        "max": "x3\n",
        "min": "x1\n",
        "first": "x1\n",
        "last": "x2\n",
        "n": 3,
    }


@pytest.mark.usefixtures("small_parts")
def test_a_part_raises_its_own_error(client: Any, tmp_path: Path) -> None:
    path = tmp_path / "log"
    lines = [f"h{i} - x {i}\n" for i in range(2000)]
    lines[1500] = "short\n"
    path.write_text("".join(lines))
    s = Stream.lines(path).field(3, errors="raise")
    with pytest.raises(ParseError) as plain:
        s.count()
    with pytest.raises(ParseError, match=re.escape(f"{path}:1501")) as raised:
        run_dask(s.steps, Count(), workers=4, client=client)
    assert str(raised.value) == str(plain.value)
    assert (raised.value.path, raised.value.lineno) == (str(path), 1501)

    damaged = tmp_path / "log.gz"
    damaged.write_bytes(gzip.compress(b"a 1\n" * 5000)[:-30])
    s = Stream.lines(damaged)
    with pytest.raises(CorruptFileError) as plain_corrupt:
        s.count()
    with pytest.raises(CorruptFileError) as corrupt:
        run_dask(s.steps, Count(), client=client)
    assert str(corrupt.value) == str(plain_corrupt.value)


def test_the_active_client_is_used_without_one_passed(
    client: Any, tree: SampleTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    monkeypatch.setattr(dask_engine, "_on_client", lambda c, tasks, watch: seen.append(c) or [])
    monkeypatch.setattr(dask_engine, "merge_results", lambda *args: "merged")
    with client.as_current():
        assert run_dask(Stream.lines(tree.root).steps, Count()) == "merged"
    assert seen == [client]


def test_without_a_client_it_runs_in_local_processes(
    tree: SampleTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "6640")  # dask's processes scheduler would set it
    log = Stream.lines(tree.root / "www" / "foo").parse_apache().where(lambda r: r["bytes"] > 0)
    agg = Many({"bytes": Sum("bytes"), "largest": Max("bytes")})
    assert dask_run(log, agg, workers=2)[0] == default_run(log, agg)[0]
    # Plain pickling cannot rebuild a ParseError (dask/dask#3145); it still comes home.
    path = tmp_path / "log"
    path.write_text("a b\n" * 10 + "a\n")
    with pytest.raises(ParseError, match=re.escape("field: ") + ".*" + re.escape(f"{path}:11")):
        run_dask(Stream.lines(path).field(1, errors="raise").steps, Count())


def test_plans_that_cannot_run_in_parts_say_why(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("a\n")
    with pytest.raises(ValueError, match=r"engine='dask': take\(1\) needs the whole stream"):
        run_dask(Stream.lines(path).take(1).steps, Count())
    with pytest.raises(ValueError, match="engine='dask': the query must start from files"):
        run_dask(Stream(["a"]).steps, Count())
    with pytest.raises(ValueError, match="engine='dask': workers must be an int >= 1, got 0"):
        run_dask(Stream.lines(path).steps, Count(), workers=0)
    with pytest.raises(TypeError, match=r"client must be a distributed\.Client, got 'tcp"):
        run_dask(Stream.lines(path).steps, Count(), client="tcp://x:8786")  # type: ignore[arg-type]


def test_an_empty_tree_needs_no_tasks(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = RunReport()
    steps = Stream.lines(tmp_path / "empty").steps
    assert run_dask(steps, Max(), workers=3, report=report) is None
    assert report.completed


def test_without_dask_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now raises ImportError
    with pytest.raises(ImportError, match=re.escape("pip install 'streamql[dask]'")):
        run_dask(Stream.lines(tmp_path).steps, Count())


@pytest.mark.usefixtures("small_parts")
def test_pushed_down_terminals_on_the_cluster(client: Any, tree: SampleTree) -> None:
    """Each worker's part runs the planner's block plan; answers and rejects are the default's."""
    log = Stream.lines(tree.root / "www").parse_apache()
    on_cluster = log.using("dask", client=client)
    for terminal in (
        lambda q: q.sum("bytes"),
        lambda q: q.where(status=404).set("request"),
        lambda q: q.max(key="bytes"),
        lambda q: q.where(F.request.contains("robots")).count(),
    ):
        assert quiet(lambda t=terminal: t(on_cluster)) == quiet(lambda t=terminal: t(log))
        assert on_cluster.last_run.rejected == log.last_run.rejected
    assert "aggregate=Sum('bytes')" in log.explain(aggregate=Sum("bytes"))


def test_a_program_read_on_standard_input_runs_without_a_client(tmp_path: Path) -> None:
    """Spawn cannot start ``<stdin>`` again: its processes are forked (it once broke the pool)."""
    path = tmp_path / "log"
    path.write_text("a 1\nb 2\nc 3\n")
    program = (
        "from streamql import Stream\n"
        f"print('answer:', Stream.lines({str(path)!r}).field(1).map(int).sum(engine='dask'))\n"
    )
    repo = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-"],
        input=program,
        capture_output=True,
        text=True,
        timeout=180,  # a hang fails the test instead of freezing the suite
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "answer: 6\n"


def test_a_local_worker_that_dies_is_a_stream_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "6640")  # dask's processes scheduler would set it
    path = tmp_path / "log"
    path.write_text("a\n" * 10 + "kill\n")
    before = set(multiprocessing.active_children())  # the module's cluster stays

    def die(line: str) -> str:
        if line.startswith("kill"):
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return line

    with pytest.raises(StreamError, match="engine='dask': a local worker process died"):
        Stream.lines(path).map(die).count(engine="dask")
    assert set(multiprocessing.active_children()) <= before


@pytest.mark.parametrize("where", ["cluster", "synchronous"])
def test_a_progress_bar_moves_as_the_parts_end(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100_000)
    paths, total = progress_tree(tmp_path)
    s = Stream.lines(*paths).field(5).map(int)
    bar = spy()
    settings = Settings("dask", client=client if where == "cluster" else None, progress=bar)
    with dask_config(where):
        got = engine_named("dask").run(s.steps, Sum(), settings, RunReport())
    assert got == s.sum()
    (shown,) = bar.bars
    assert shown.total == total and shown.stopped_at == total
    assert shown.seen == sorted(shown.seen) and len(set(shown.seen)) > 2


def dask_config(where: str) -> Any:
    if where == "synchronous":
        return dask.config.set(scheduler="synchronous")
    return contextlib.nullcontext()
