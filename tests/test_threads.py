"""Threads and queues: real threads, bounded buffers, errors and early stops, no leaks."""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.routing.coroutines import ConsumerThread, consumer
from streamql.routing.threads import (
    background,
    concat,
    from_queue,
    multiplex,
    to_queue,
    zip_sources,
)

MILLION = 1_000_000


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def explode_after(n: int) -> Iterator[int]:
    yield from range(n)
    raise KeyError("boom in producer")


def slow_forever(started: threading.Event) -> Iterator[int]:
    started.set()
    for i in itertools.count():
        time.sleep(0.001)
        yield i


# ------------------------------------------------------------------- queues
def test_million_through_queue_in_order() -> None:
    q: queue.Queue[object] = queue.Queue(maxsize=10_000)
    producer = threading.Thread(target=to_queue, args=(q, range(MILLION)))
    producer.start()
    got = Stream.from_queue(q).list()
    producer.join(5)
    assert not producer.is_alive()
    assert got == list(range(MILLION))


def test_queue_end_marker_is_not_stop_iteration() -> None:
    q: queue.Queue[object] = queue.Queue()
    to_queue(q, [StopIteration, None])
    assert list(from_queue(q)) == [StopIteration, None]


def test_queue_carries_producer_error_with_traceback() -> None:
    q: queue.Queue[object] = queue.Queue()
    with pytest.raises(KeyError):
        to_queue(q, explode_after(2))
    it = from_queue(q)
    assert [next(it), next(it)] == [0, 1]
    with pytest.raises(KeyError) as info:
        next(it)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "explode_after" in frames


def test_queue_arguments_checked_at_call_time() -> None:
    with pytest.raises(TypeError, match="from_queue"):
        Stream.from_queue(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="to_queue"):
        Stream([1]).to_queue([])  # type: ignore[arg-type]


def test_stream_to_queue_and_back_is_rerunnable() -> None:
    q: queue.Queue[object] = queue.Queue()
    s = Stream([1, 2, 3]).map(lambda x: x * 2)
    assert s.to_queue(q) == 3
    assert s.to_queue(q) == 3
    source = Stream.from_queue(q)
    assert source.list() == [2, 4, 6]
    assert source.list() == [2, 4, 6]


# --------------------------------------------------------------- background
def test_background_million_in_order() -> None:
    assert Stream(range(MILLION)).background().count() == MILLION


def test_background_reraises_producer_error_within_a_second() -> None:
    s = Stream(range(10)).apply(lambda items: (1 / (x - 5) for x in items)).background()
    start = time.monotonic()
    with pytest.raises(ZeroDivisionError) as info:
        s.list()
    assert time.monotonic() - start < 1
    assert "<genexpr>" in [f.name for f in traceback.extract_tb(info.value.__traceback__)]


def test_background_delivers_items_before_the_error() -> None:
    got = []
    with pytest.raises(KeyError):
        for x in background(explode_after(3), maxsize=2):
            got.append(x)
    assert got == [0, 1, 2]


def test_background_take_stops_producer() -> None:
    assert Stream(itertools.count()).background(maxsize=16).take(5).list() == [0, 1, 2, 3, 4]


def test_background_consumer_exception_stops_producer() -> None:
    def bad(x: int) -> int:
        if x == 100:
            raise RuntimeError("consumer crash")
        return x

    with pytest.raises(RuntimeError, match="consumer crash"):
        Stream(itertools.count()).background().map(bad).count()


def test_background_is_bounded() -> None:
    pulled = []

    def counting() -> Iterator[int]:
        for i in itertools.count():
            pulled.append(i)
            yield i

    it = background(counting(), maxsize=100)
    next(it)
    time.sleep(0.2)
    assert len(pulled) <= 2 * 100 + 2
    it.close()


def test_background_live_item_not_delayed_by_blocked_source() -> None:
    release = threading.Event()

    def live() -> Iterator[int]:
        yield 1
        release.wait(5)  # a source that blocks after one item
        yield 2

    it = background(live())
    start = time.monotonic()
    assert next(it) == 1
    assert time.monotonic() - start < 0.5
    release.set()
    assert list(it) == [2]


def test_background_break_closes_everything() -> None:
    for i in Stream(itertools.count()).background():
        if i == 1000:
            break


# ---------------------------------------------------------------- multiplex
def test_multiplex_million_from_four() -> None:
    n = MILLION // 4
    streams = [Stream(range(k * n, (k + 1) * n)) for k in range(4)]
    got = Stream.multiplex(*streams).list()
    assert sorted(got) == list(range(MILLION))
    for k in range(4):
        mine = [x for x in got if k * n <= x < (k + 1) * n]
        assert mine == list(range(k * n, (k + 1) * n))


def test_multiplex_blocked_source_does_not_hold_back_others() -> None:
    release = threading.Event()

    def stuck() -> Iterator[str]:
        release.wait(5)
        yield "late"

    it = multiplex([stuck(), iter(["a", "b"])])
    start = time.monotonic()
    assert [next(it), next(it)] == ["a", "b"]
    assert time.monotonic() - start < 1
    release.set()
    assert list(it) == ["late"]


def test_multiplex_of_infinite_streams_take() -> None:
    a, b = threading.Event(), threading.Event()
    s = Stream.multiplex(Stream(slow_forever(a)), Stream(slow_forever(b)))
    assert len(s.take(50).list()) == 50


def test_multiplex_error_from_one_source_stops_all() -> None:
    started = threading.Event()
    s = Stream.multiplex(Stream(slow_forever(started)), Stream(explode_after(5)))
    with pytest.raises(KeyError, match="boom"):
        s.list()


def test_multiplex_is_rerunnable_and_shows_plan() -> None:
    s = Stream.multiplex(Stream([1, 2]), Stream([3]))
    assert sorted(s.list()) == sorted(s.list()) == [1, 2, 3]
    assert repr(s) == "Stream.multiplex(Stream([1, 2]), Stream([3]))"
    assert "source, side effects" in s.explain()


def test_multiplex_arguments_checked() -> None:
    with pytest.raises(TypeError, match="multiplex"):
        Stream.multiplex([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="maxsize"):
        Stream.multiplex(Stream([1]), maxsize=0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(), max_size=30), min_size=1, max_size=5))
def test_multiplex_is_order_keeping_permutation(sources: list[list[int]]) -> None:
    tagged = [[(i, x) for x in src] for i, src in enumerate(sources)]
    got = list(multiplex(tagged, maxsize=4))
    assert sorted(got) == sorted([t for src in tagged for t in src])
    for i, src in enumerate(tagged):
        assert [t for t in got if t[0] == i] == src


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers()), st.integers(min_value=1, max_value=50))
def test_background_equals_plain(items: list[int], maxsize: int) -> None:
    assert list(background(items, maxsize=maxsize)) == items


# ------------------------------------------------------------- concat and zip
@given(st.lists(st.lists(st.integers(), max_size=10), max_size=5))
def test_concat_matches_reference(sources: list[list[int]]) -> None:
    assert list(concat(sources)) == [x for src in sources for x in src]
    if sources:
        assert Stream.concat(*map(Stream, sources)).list() == [x for src in sources for x in src]


@given(st.lists(st.lists(st.integers(), max_size=10), min_size=1, max_size=4))
def test_zip_matches_reference(sources: list[list[int]]) -> None:
    assert list(zip_sources(sources)) == list(zip(*sources, strict=False))
    assert Stream.zip(*map(Stream, sources)).list() == list(zip(*sources, strict=False))


def test_concat_and_zip_close_their_sources() -> None:
    closed = []

    def gen(name: str) -> Iterator[int]:
        try:
            yield from range(10)
        finally:
            closed.append(name)

    it = zip_sources([gen("a"), gen("b")])
    next(it)
    it.close()
    assert sorted(closed) == ["a", "b"]
    closed.clear()
    assert Stream.concat(Stream(gen("c")), Stream(gen("d"))).take(3).list() == [0, 1, 2]
    assert closed == ["c"]


# ------------------------------------------- live sources behind threads stop
def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _settled(baseline_threads: set[threading.Thread], baseline_fds: set[str]) -> bool:
    """Wait (up to 30 s, only to bound a hang) until no new thread or fd remains."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        extra = set(threading.enumerate()) - baseline_threads
        if not extra and _fds() <= baseline_fds:
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def live_log(tmp_path: Path) -> Path:
    path = tmp_path / "live.log"
    path.write_text("".join(f"line {i}\n" for i in range(5)))
    return path


def _routes(path: Path) -> dict[str, Callable[[], object]]:
    live = Stream.follow(path, from_start=True, poll=0.01)
    quiet = Stream.follow(path, poll=0.01)  # at the end: never yields
    return {
        "background.take": lambda: live.background().take(3).list(),
        "background.first": lambda: live.background().first(),
        "background.until": lambda: quiet.background().until(timeout=0.05).list(),
        "multiplex.take": lambda: Stream.multiplex(live, quiet).take(4).list(),
        "multiplex.first": lambda: Stream.multiplex(quiet, live).first(),
        "multiplex.until": lambda: Stream.multiplex(quiet, quiet).until(timeout=0.05).list(),
        "merge_by_time.until": lambda: (
            Stream.merge_by_time(live, quiet, on=len).until(timeout=0.05).list()
        ),
        "merge_by_time.take": lambda: Stream.merge_by_time(live, live, on=len).take(3).list(),
        "broadcast": lambda: live.broadcast(ConsumerThread(lambda s: s.take(2))),
        "broadcast.coroutines": lambda: live.broadcast(_take_coroutine(2)),
    }


@consumer
def _take_coroutine(n: int) -> Generator[None, object, None]:
    for _ in range(n):
        yield


EXPECTED = {
    "background.take": ["line 0\n", "line 1\n", "line 2\n"],
    "background.first": "line 0\n",
    "background.until": [],
    "multiplex.take": ["line 0\n", "line 1\n", "line 2\n", "line 3\n"],
    "multiplex.first": "line 0\n",
    "multiplex.until": [],
    "merge_by_time.until": [],  # the quiet stream holds the merge back until the end
}


@pytest.mark.parametrize(
    "route",
    [
        "background.take",
        "background.first",
        "background.until",
        "multiplex.take",
        "multiplex.first",
        "multiplex.until",
        "merge_by_time.until",
        "merge_by_time.take",
        "broadcast",
        "broadcast.coroutines",
    ],
)
def test_a_live_source_behind_threads_stops_with_no_thread_or_fd_left(
    live_log: Path, route: str
) -> None:
    run = _routes(live_log)[route]
    baseline_threads, baseline_fds = set(threading.enumerate()), _fds()
    for _ in range(20):
        got = run()
        if route in EXPECTED:
            assert got == EXPECTED[route]
        elif route == "merge_by_time.take":
            assert isinstance(got, list) and len(got) == 3
        else:  # broadcast: the count of items read before every consumer was done
            assert isinstance(got, int) and got >= 2
        assert _settled(baseline_threads, baseline_fds), (
            route,
            set(threading.enumerate()) - baseline_threads,
        )


def test_plain_multiplex_under_until_ends_on_time(live_log: Path) -> None:
    from streamql.live.follow import follow
    from streamql.live.windows import until

    quiet = [follow([str(live_log)], poll=0.01), follow([str(live_log)], poll=0.01)]
    assert list(until(None, multiplex(quiet), timeout=0.05)) == []
