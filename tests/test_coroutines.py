"""Broadcast, coroutine consumers and pipelines, consumer threads, several answers in one pass."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.routing.coroutines import (
    ConsumerThread,
    answers,
    append_to,
    broadcast,
    consumer,
    filter_to,
    map_to,
)

MILLION = 1_000_000


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@consumer
def recorder(log: list[Any], name: str) -> Generator[None, Any, None]:
    try:
        while True:
            log.append((name, (yield)))
    except GeneratorExit:
        log.append((name, "closed"))


def failing_source() -> Iterator[int]:
    yield 1
    raise OSError("source failed")


def test_consumer_decorator_primes() -> None:
    log: list[Any] = []
    r = recorder(log, "r")
    r.send(5)
    r.close()
    assert log == [("r", 5), ("r", "closed")]


def test_broadcast_closes_every_consumer_at_end() -> None:
    log: list[Any] = []
    assert Stream([1, 2]).broadcast(recorder(log, "a"), recorder(log, "b")) == 2
    assert log == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", "closed"), ("b", "closed")]


def test_broadcast_closes_every_consumer_when_source_fails() -> None:
    log: list[Any] = []
    sink = ConsumerThread(lambda s: s.list())
    with pytest.raises(OSError, match="source failed"):
        broadcast([recorder(log, "a"), sink], failing_source())
    assert log == [("a", 1), ("a", "closed")]
    assert sink.result == [1]


def test_broadcast_consumer_crash_reaches_caller() -> None:
    def crash(s: Stream[int]) -> None:
        for x in s:
            if x == 10:
                raise ValueError("consumer crash")

    log: list[Any] = []
    with pytest.raises(ValueError, match="consumer crash"):
        Stream(range(100_000)).broadcast(ConsumerThread(crash), recorder(log, "ok"))
    assert log[-1] == ("ok", "closed")


def test_broadcast_stops_sending_to_finished_coroutine() -> None:
    @consumer
    def two(out: list[int]) -> Generator[None, int, None]:
        out.append((yield))
        out.append((yield))

    out: list[int] = []
    # With no consumer left, the source is not read on: 2 items were sent.
    assert broadcast([two(out)], range(5)) == 2
    assert out == [0, 1]


def test_broadcast_checks_consumers() -> None:
    with pytest.raises(TypeError, match="send"):
        Stream([1]).broadcast(object())  # type: ignore[arg-type]


def test_broadcast_million_to_three_consumer_threads() -> None:
    threads = [
        ConsumerThread(lambda s: s.count()),
        ConsumerThread(lambda s: s.sum()),
        ConsumerThread(lambda s: s.skip(MILLION - 1).list()),
    ]
    assert Stream(range(MILLION)).broadcast(*threads) == MILLION
    assert [t.result for t in threads] == [MILLION, MILLION * (MILLION - 1) // 2, [MILLION - 1]]


def test_consumer_thread_that_stops_early_drops_the_rest() -> None:
    first, total = ConsumerThread(lambda s: s.first()), ConsumerThread(lambda s: s.count())
    assert Stream(range(50_000)).broadcast(first, total) == 50_000
    assert (first.result, total.result) == (0, 50_000)


def test_broadcast_stops_reading_once_every_consumer_thread_is_done() -> None:
    first = ConsumerThread(lambda s: s.first())
    assert Stream(itertools.count()).broadcast(first) >= 1  # an endless source, yet it returns
    assert first.result == 0


def test_coroutine_pipeline_closes_down_the_chain() -> None:
    log: list[Any] = []
    pipeline = filter_to(lambda x: x % 2, map_to(lambda x: x * 10, recorder(log, "end")))
    assert Stream(range(5)).into(pipeline) == 5
    assert log == [("end", 10), ("end", 30), ("end", "closed")]


def test_answers_in_one_pass() -> None:
    reads = []
    records = [{"status": s, "bytes": b, "host": h} for s, b, h in
               [(404, 1, "a"), (200, 10, "b"), (404, 3, "a")]]  # fmt: skip
    log = Stream(records).tap(reads.append)
    got = log.answers(
        r404=lambda s: s.where(status=404).list(),
        total=lambda s: s.sum("bytes"),
        hosts=lambda s: s.set("host"),
    )
    assert got == {"r404": [records[0], records[2]], "total": 14, "hosts": {"a", "b"}}
    assert len(reads) == 3  # one read of the source


def test_answers_checks_queries() -> None:
    with pytest.raises(TypeError, match="answers"):
        Stream([1]).answers(total=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        answers({}, [1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers()), st.integers(min_value=1, max_value=4))
def test_broadcast_delivers_same_sequence_to_all(items: list[int], n: int) -> None:
    outs: list[list[int]] = [[] for _ in range(n)]
    threads = [ConsumerThread(lambda s: s.list(), maxsize=3) for _ in range(n)]
    assert broadcast([append_to(o) for o in outs] + threads, items) == len(items)
    assert all(o == items for o in outs)
    assert all(t.result == items for t in threads)
