"""The registry of live queries: listed while they run, all stopped on request."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import streamql
from streamql import Stream

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def test_live_queries_are_listed_and_stopped_all_at_once(tmp_path: Path) -> None:
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    for log in logs:
        log.write_text("x 1\n")
    counts: dict[str, int] = {}
    started = threading.Barrier(3, timeout=10)

    def consume(path: Path) -> None:
        query = Stream.follow(path, from_start=True, poll=0.01).field(1)
        it = iter(query)
        next(it)  # running now
        started.wait()
        counts[path.name] = 1 + sum(1 for _ in it)

    threads = [threading.Thread(target=consume, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    started.wait()
    runs = streamql.live_runs()
    assert sorted(r.query for r in runs) == sorted(
        f"Stream.follow({log!r}, from_start=True, poll=0.01).field(1)" for log in logs
    )
    assert streamql.stop_all(timeout=5) == 2
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert counts == {"a.log": 1, "b.log": 1}
    assert streamql.live_runs() == []


def test_finite_queries_are_not_registered() -> None:
    seen = []
    Stream([1, 2]).tap(lambda _: seen.append(len(streamql.live_runs()))).list()
    assert seen == [0, 0]


def test_one_run_stops_alone(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_text("")
    it = iter(Stream.follow(log, poll=0.01))
    got: list[str] = []
    worker = threading.Thread(target=lambda: got.extend(it))
    worker.start()
    while not streamql.live_runs():
        threading.Event().wait(0.01)
    (run,) = streamql.live_runs()
    assert run.stop(timeout=5) is True
    worker.join(5)
    assert got == [] and streamql.live_runs() == []
