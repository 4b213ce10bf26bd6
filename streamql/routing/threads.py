"""Threads and queues: run stages in threads, fan streams in, and take it all down.

The tutorial's ``genqueue`` and ``genmulti``, with their shortcuts fixed:

- the end of a stream is a private marker object, never ``StopIteration``;
- an exception in a producer thread travels to the consumer, which re-raises
  it with its original traceback as soon as it reaches it;
- queues are bounded, so a fast producer waits instead of filling memory;
- a consumer that stops early (``take``, ``break``, an exception) stops the
  producer threads, and every thread is joined, with a timeout, before the
  consuming generator returns.

**Batching rule.** Inside streamql, items cross threads through a
:class:`Channel`: each producer appends every item to a shared deque the moment
it has it (no lock, no per-item wake-up unless the consumer is asleep), and the
consumer takes *everything that is ready* in one go. So a batch is "whatever
arrived since the consumer last looked", up to a limit: bulk streams move in
large batches, while an item of a live stream is visible to the consumer as
soon as it is produced, even if its source then blocks for an hour. Nothing is
ever held back waiting for a batch to fill.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Generator, Iterable, Iterator
from typing import Any, TypeVar

from ..core.context import RunContext
from ..core.errors import StreamError
from ..live.shutdown import stop_requested
from .channel import (
    _END,
    DEFAULT_MAXSIZE,
    JOIN_TIMEOUT,
    Channel,
    QueueLike,
    _Failure,
    _reraise,
    check_maxsize,
    check_queue,
    join_all,
    pump,
    start_thread,
    thread_name,
)

__all__ = [
    "Channel",
    "check_queue",
    "to_queue",
    "from_queue",
    "background",
    "multiplex",
    "concat",
    "zip_sources",
    "JOIN_TIMEOUT",
    "DEFAULT_MAXSIZE",
]

T = TypeVar("T")
log = logging.getLogger("streamql.threads")


# ------------------------------------------------------------------- queues
def to_queue(q: QueueLike, items: Iterable[T]) -> int:
    """Put every item on ``q``, then an end-of-stream marker; return how many were put.

    Terminal; consumes ``items``. If ``items`` raises, the exception is put on
    the queue (so :func:`from_queue` re-raises it in the consumer) and raised
    here too. With a bounded queue, waits while it is full (backpressure).

    >>> import queue
    >>> q = queue.Queue()
    >>> to_queue(q, ["a", "b"])
    2
    >>> list(from_queue(q))
    ['a', 'b']
    """
    check_queue("to_queue", q, "put")
    n = 0
    try:
        for item in items:
            q.put(item)
            n += 1
    except BaseException as exc:
        q.put(_Failure(exc))
        raise
    q.put(_END)
    return n


def from_queue(q: QueueLike) -> Generator[Any, None, None]:
    """Yield the items put on ``q`` by :func:`to_queue`, until its end-of-stream marker.

    Lazy; holds one item. An exception the producer put on the queue is
    raised here with its original traceback.

    >>> import queue
    >>> q = queue.Queue()
    >>> to_queue(q, range(3))
    3
    >>> sum(from_queue(q))
    3
    """
    check_queue("from_queue", q, "get")
    return _from_queue(q)


def _from_queue(q: QueueLike) -> Generator[Any, None, None]:
    get = q.get
    while True:
        item = get()
        if item is _END:
            return
        if type(item) is _Failure:
            _reraise(item, "the thread feeding the queue")
        yield item


# --------------------------------------------------------- threaded stages
def background(items: Iterable[T], *, maxsize: int = DEFAULT_MAXSIZE) -> Iterator[T]:
    """Run the iteration of ``items`` in its own thread, behind a buffer of ``maxsize`` items.

    Lazy: the thread starts at the first ``next()``. Memory: at most about
    ``2 * maxsize`` items in flight (the buffer plus the batch in hand); the
    producer waits when the buffer is full. Its exceptions are raised here;
    closing this iterator stops and joins the thread.

    >>> list(background(range(5), maxsize=2))
    [0, 1, 2, 3, 4]
    """
    check_maxsize("background", maxsize)
    return _background(items, maxsize)


def _background(items: Iterable[T], maxsize: int) -> Iterator[T]:
    channel: Channel[T] = Channel(maxsize, producers=1)
    # The upstream belongs to whoever gave it to us (the engine closes a run's stages).
    thread = start_thread(pump, channel, items, False, name=thread_name("background"))
    try:
        for batch in channel.batches(where=thread.name):
            yield from batch
    finally:
        channel.close()
        if join_all([thread]):
            raise StreamError(
                f"background: the upstream still runs in {thread.name} after {JOIN_TIMEOUT} s "
                "and cannot be closed\n\nIts source blocks without yielding; give it a timeout."
            )


def multiplex(
    sources: Iterable[Iterable[T]],
    *,
    maxsize: int = DEFAULT_MAXSIZE,
    ctx: RunContext | None = None,
) -> Iterator[T]:
    """Yield the items of several sources as they arrive, each source read in its own thread.

    Lazy; at most about ``2 * maxsize`` items buffered. A source that blocks
    never holds back the others; each source's items keep their order; the
    stream ends when every source has ended. The first exception raised by a
    source is raised here; closing stops and joins every thread (each thread
    closes its own source). A stop request of the run (``until`` further
    down, a shutdown) ends the stream even while every source is quiet, and
    reaches each live source in its thread, so it ends within one poll.

    >>> sorted(multiplex([range(3), "ab"]), key=str)
    [0, 1, 2, 'a', 'b']
    """
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        raise TypeError(f"multiplex: expected an iterable of sources, got {sources!r}")
    check_maxsize("multiplex", maxsize)
    return _multiplex(sources, maxsize, ctx)


def _multiplex(sources: Iterable[Iterable[T]], maxsize: int, ctx: RunContext | None) -> Iterator[T]:
    sources = list(sources)
    channel: Channel[T] = Channel(maxsize, producers=len(sources))
    threads: list[threading.Thread] = []
    try:
        for source in sources:
            threads.append(start_thread(pump, channel, source, True, name=thread_name("multiplex")))
        stop = functools.partial(stop_requested, ctx)
        for batch in channel.batches(where="a multiplex source thread", stop=stop):
            yield from batch
    finally:
        channel.close()
        join_all(threads)


def concat(sources: Iterable[Iterable[T]]) -> Iterator[T]:
    """Yield all items of each source in turn (the tutorial's gen_cat), closing each after.

    Lazy; one source open at a time.

    >>> list(concat([[1, 2], (3,)]))
    [1, 2, 3]
    """
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        raise TypeError(f"concat: expected an iterable of sources, got {sources!r}")
    return _concat(sources)


def _concat(sources: Iterable[Iterable[T]]) -> Iterator[T]:
    for source in sources:
        it = iter(source)
        try:
            yield from it
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()


def zip_sources(sources: Iterable[Iterable[Any]]) -> Iterator[tuple[Any, ...]]:
    """Yield tuples of one item from each source in lock-step; end when any source ends.

    Lazy; constant memory. Every source is closed when the zip ends or is closed.

    >>> list(zip_sources([[1, 2, 3], "ab"]))
    [(1, 'a'), (2, 'b')]
    """
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        raise TypeError(f"zip: expected an iterable of sources, got {sources!r}")
    return _zip(sources)


def _zip(sources: Iterable[Iterable[Any]]) -> Iterator[tuple[Any, ...]]:
    its: list[Iterator[Any]] = []
    try:
        for source in sources:
            its.append(iter(source))
        yield from zip(*its, strict=False)
    finally:
        for it in reversed(its):
            close = getattr(it, "close", None)
            if close is not None:
                close()
