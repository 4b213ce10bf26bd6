"""Work with infinite streams: stop them, keep running results, window them, merge them.

A terminal such as ``sum()`` on an infinite stream never returns: end the
stream first (``take``, :func:`until`), or summarise it as it goes
(:func:`scan` yields the result so far, :func:`window` one result per closed
time window).
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar

from ..aggregates import Aggregate, Collect
from ..core import cancel
from ..core.context import RunContext
from ..core.defaults import MAX_FUTURE, MISSING
from ..core.expr import key_function
from .shutdown import add_stop

__all__ = ["MAX_FUTURE", "until", "scan", "window", "Window", "merge_by_time", "event_seconds"]

T = TypeVar("T")
U = TypeVar("U")
_MISSING: Any = MISSING


def _seconds(stage: str, name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{stage}: {name} must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{stage}: {name} must be {'>' if positive else '>='} 0, got {value!r}")
    return float(value)


def until(
    stop: Callable[[T], Any] | threading.Event | None,
    items: Iterable[T],
    *,
    timeout: float | None = None,
    ctx: RunContext | None = None,
) -> Iterator[T]:
    """Yield items until ``stop`` says so: a predicate, a set Event, or ``timeout`` seconds.

    Lazy; constant memory. A predicate ends the stream *before* the first item
    it accepts; an Event or the timeout (counted from the first request) ends
    it as soon as it is seen. A live source polls the Event and the deadline
    too (also one run in a thread or a nested Stream upstream), so the stream
    ends on time even when no item comes.

    >>> list(until(lambda n: n > 2, [1, 2, 3, 1]))
    [1, 2]
    >>> import itertools, threading
    >>> done = threading.Event(); done.set()
    >>> list(until(done, itertools.count()))
    []
    """
    if stop is not None and not callable(stop) and not hasattr(stop, "is_set"):
        raise TypeError(f"until: stop must be a predicate or a threading.Event, got {stop!r}")
    limit = None if timeout is None else _seconds("until", "timeout", timeout, positive=False)
    if stop is None and limit is None:
        raise TypeError("until: give a predicate, a threading.Event or timeout=seconds")
    event: threading.Event | None = None
    pred: Callable[[T], Any] | None = None
    if isinstance(stop, threading.Event) or hasattr(stop, "is_set"):
        event = stop  # type: ignore[assignment]
    else:
        pred = stop

    def run() -> Iterator[T]:
        deadline = math.inf if limit is None else time.monotonic() + limit

        def expired() -> bool:
            return (event is not None and event.is_set()) or time.monotonic() >= deadline

        if event is None and limit is None:
            for item in items:
                if pred is not None and pred(item):
                    return
                yield item
            return
        add_stop(ctx, expired)
        if expired():
            return
        # Each pull also carries the request to the sources upstream that this
        # run's context does not reach: those run by merge_by_time or multiplex
        # in nested runs, or in threads started during the pull.
        pull = iter(items).__next__
        checks = cancel.CHECKS
        seen: tuple[cancel.Check, ...] | None = None
        mine: tuple[cancel.Check, ...] = ()
        while True:
            around = checks.get()
            if around is not seen:
                seen, mine = around, (*around, expired)
            token = checks.set(mine)
            try:
                item = pull()
            except StopIteration:
                return
            finally:
                checks.reset(token)
            if expired() or (pred is not None and pred(item)):
                return
            yield item

    return run()


def scan(func: Callable[[U, T], U], items: Iterable[T], *, initial: U = _MISSING) -> Iterator[U]:
    """Yield the running result of ``func(result, item)``: a total, count or max so far.

    Lazy; keeps only the result. Without ``initial`` the first item is the
    first result (like ``itertools.accumulate``); with it, ``initial`` is
    yielded first.

    >>> import operator
    >>> list(scan(operator.add, [1, 2, 3]))
    [1, 3, 6]
    >>> list(scan(lambda n, _: n + 1, "abc", initial=0))
    [0, 1, 2, 3]
    """
    if not callable(func):
        raise TypeError(f"scan: func must be callable, got {func!r}")

    def run() -> Iterator[U]:
        it = iter(items)
        result: Any = initial
        if result is _MISSING:
            result = next(it, _MISSING)
            if result is _MISSING:
                return
        yield result
        for item in it:
            result = func(result, item)
            yield result

    return run()


class Window(NamedTuple):
    """A closed time window: ``start <= time < end``, and its aggregate ``value``.

    Its fields can be read by name as a record's are, so ``top(1, by="value")``
    and ``count_by("start")`` work on windows.

    >>> w = Window(0, 60, 3)
    >>> w["value"], w.value, w[2]
    (3, 3, 3)
    """

    start: Any
    end: Any
    value: Any

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)


def event_seconds(value: Any) -> float:
    """Turn an event time (datetime, or seconds since the epoch) into seconds.

    Naive datetimes are taken as UTC.

    >>> event_seconds(datetime(1970, 1, 1, 0, 1, tzinfo=timezone.utc))
    60.0
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return float(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a datetime or seconds since the epoch, got {value!r}")


def _bound(seconds: float, like: Any) -> Any:
    """Express a window bound in the type of the event times (datetime or number)."""
    if isinstance(like, datetime):
        bound = datetime.fromtimestamp(seconds, tz=like.tzinfo or timezone.utc)
        return bound if like.tzinfo is not None else bound.replace(tzinfo=None)
    return int(seconds) if float(seconds).is_integer() and isinstance(like, int) else seconds


def window(
    seconds: float | timedelta,
    items: Iterable[Any],
    *,
    by: str | int | Callable[[Any], Any] | None = "datetime",
    agg: Callable[[list[Any]], Any] | Aggregate | None = None,
    lateness: float | timedelta = 0.0,
    max_future: float | timedelta | None = MAX_FUTURE,
    ctx: RunContext | None = None,
) -> Iterator[Window]:
    """Group items into tumbling time windows; yield each window's aggregate as it closes.

    Lazy; holds the items of the windows still open. Windows are aligned on
    multiples of ``seconds`` since the epoch; a window with no items is not
    yielded. ``by`` names the event-time field (a datetime or epoch seconds)
    or is a function of the item; ``by=None`` uses the wall clock at arrival.
    ``agg`` turns the window's list of items into its value (default: the
    list); an aggregation from :mod:`streamql.aggregates` (``Count()``,
    ``Sum("bytes")``, ``ApproxDistinct("host")``...) folds each item in as it
    arrives instead, so a window holds its running state, not its items.

    Event time may run slightly backwards: a window closes once an item at
    least ``lateness`` seconds past its end has been seen, so items up to
    ``lateness`` late still count. An item for a window already closed is a
    reject of stage ``window`` (counted in ``last_run``, listed by
    ``.rejects``), never silently dropped. The open windows are yielded when
    the stream ends; on a wall clock they close when an item for a later
    window arrives.

    Event time may not leap ahead implausibly: an item stamped more than
    ``max_future`` seconds (default :data:`MAX_FUTURE`, a day) after the wall
    clock is a reject, and so is one stamped that far after the latest time
    seen unless the next item confirms the leap (a log that resumes after a
    long gap). A reject moves no window, so one bad stamp cannot make every
    later item late. ``max_future=None`` turns both checks off.

    >>> times = [0, 5, 11, 3, 25, 4]  # 3: late, within the bound; 4: its window had closed
    >>> ctx = RunContext()
    >>> for w in window(10, [{"t": t} for t in times], by="t", agg=len, lateness=2, ctx=ctx):
    ...     print(w)
    Window(start=0, end=10, value=3)
    Window(start=10, end=20, value=1)
    Window(start=20, end=30, value=1)
    >>> ctx.rejected
    Counter({'window': 1})
    >>> leap = [{"t": 60}, {"t": 9e9}, {"t": 70}]  # 9e9: the year 2255
    >>> list(window(60, leap, by="t", agg=len, ctx=ctx))
    [Window(start=60, end=120, value=2)]
    """
    width = _seconds("window", "seconds", seconds, positive=True)
    late = _seconds("window", "lateness", lateness, positive=False)
    ahead = (
        math.inf
        if max_future is None
        else _seconds("window", "max_future", max_future, positive=True)
    )
    key = key_function("window", by)
    if agg is not None and not callable(agg) and not isinstance(agg, Aggregate):
        raise TypeError(f"window: agg must be callable or an aggregation, got {agg!r}")
    own = ctx or RunContext()
    if isinstance(agg, Aggregate):
        fold: Aggregate = agg
    else:
        fold = Collect()
    finish = (
        fold.finish if isinstance(agg, Aggregate) or agg is None else (lambda state: agg(state))
    )

    def run() -> Iterator[Window]:
        open_: dict[float, Any] = {}
        like: Any = 0.0
        watermark = -math.inf  # windows ending at or before it are closed
        # An item far ahead of the latest time, waiting for the next to confirm the leap.
        held: tuple[Any, Any, float] | None = None

        def leap(item: Any, t: float, why: str) -> None:
            own.bad("skip", "window", f"{why} (max_future is {ahead:g} s)", item)

        def accept(item: Any, stamp: Any, t: float) -> Iterator[Window]:
            nonlocal like, watermark
            like = stamp
            start = math.floor(t / width) * width
            if start + width <= watermark:
                own.bad(
                    "skip",
                    "window",
                    f"late by {watermark + late - t:g} s (lateness is {late:g} s)",
                    item,
                )
                return
            state = open_.get(start)
            open_[start] = fold.add(fold.start() if state is None else state, item)
            if t - late > watermark:
                watermark = t - late
                for s in sorted(s for s in open_ if s + width <= watermark):
                    yield _close(s, finish(open_.pop(s)), width, like)

        try:
            for item in items:
                stamp: Any = datetime.now(timezone.utc) if key is None else key(item)
                t = event_seconds(stamp)
                if key is not None and ahead != math.inf:
                    clock = time.time()
                    if t > clock + ahead:
                        leap(item, t, f"{t - clock:g} s ahead of the clock")
                        continue
                    latest = watermark + late
                    if held is not None:
                        h_item, h_stamp, h_t = held
                        held = None
                        if t > latest + ahead:  # the stream did move on: take the leap
                            yield from accept(h_item, h_stamp, h_t)
                        else:
                            leap(h_item, h_t, f"{h_t - latest:g} s ahead of the stream")
                        latest = watermark + late
                    if latest > -math.inf and t > latest + ahead:
                        held = (item, stamp, t)
                        continue
                yield from accept(item, stamp, t)
            if held is not None:
                h_t = held[2]
                leap(held[0], h_t, f"{h_t - (watermark + late):g} s ahead of the stream")
            for s in sorted(open_):
                yield _close(s, finish(open_.pop(s)), width, like)
        finally:
            if ctx is None:
                own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")

    return run()


def _close(start: float, value: Any, width: float, like: Any) -> Window:
    return Window(_bound(start, like), _bound(start + width, like), value)


def merge_by_time(
    streams: Iterable[Iterable[Any]],
    *,
    on: str | int | Callable[[Any], Any] = "datetime",
    slack: float | timedelta = 0.0,
    ctx: RunContext | None = None,
) -> Iterator[Any]:
    """Merge several streams, each in time order give or take ``slack``, into one in time order.

    Lazy; holds the items within ``slack`` of the latest time seen. Each
    stream may run up to ``slack`` seconds backwards; the merge waits for
    every stream that could still deliver an earlier item, so it reads the
    stream that lags furthest behind (an idle live stream holds the merge
    back: that is what ordering by event time means). Equal times keep the
    order of the streams. An item earlier than one already yielded (its
    stream broke the ``slack`` promise) is a reject of stage
    ``merge_by_time``. Each stream is closed when the merge ends.

    >>> a = [{"t": 1}, {"t": 4}, {"t": 3}]
    >>> b = [{"t": 2}, {"t": 5}]
    >>> [r["t"] for r in merge_by_time([a, b], on="t", slack=1)]
    [1, 2, 3, 4, 5]
    """
    sources = list(streams)
    key = key_function("merge_by_time", on)
    assert key is not None
    margin = _seconds("merge_by_time", "slack", slack, positive=False)
    for s in sources:
        if not isinstance(s, Iterable):
            raise TypeError(f"merge_by_time: expected iterables to merge, got {s!r}")
    own = ctx or RunContext()

    def run() -> Iterator[Any]:
        its = [iter(s) for s in sources]
        try:
            heap: list[tuple[float, int, int, Any]] = []
            latest = [-math.inf] * len(its)  # the latest time read from each stream
            live = set(range(len(its)))
            seq = 0
            emitted = -math.inf
            while live or heap:
                safe = min((latest[i] - margin for i in live), default=math.inf)
                if heap and heap[0][0] <= safe:
                    t, _, _, item = heapq.heappop(heap)
                    emitted = t
                    yield item
                    continue
                lagging = min(live, key=lambda i: (latest[i], i))
                try:
                    item = next(its[lagging])
                except StopIteration:
                    live.discard(lagging)
                    continue
                t = event_seconds(key(item))
                latest[lagging] = max(latest[lagging], t)
                if t < emitted:
                    own.bad("skip", "merge_by_time", f"{emitted - t:g} s out of order", item)
                    continue
                heapq.heappush(heap, (t, lagging, seq, item))
                seq += 1
        finally:
            for it in its:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
            if ctx is None:
                own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")

    return run()
