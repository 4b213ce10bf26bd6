"""The channel between threads, and the helpers that start, feed and join streamql's threads.

A :class:`Channel` carries items from producer threads to one consumer in
batches of "whatever arrived since the consumer last looked" (see
:mod:`streamql.routing.threads` for the batching rule); an exception in a producer
travels to the consumer; a consumer that stops early stops the producers.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, Protocol, TypeVar

from ..core import cancel
from ..core.defaults import QUEUE_MAXSIZE

__all__ = [
    "Channel",
    "QueueLike",
    "check_queue",
    "check_maxsize",
    "pump",
    "start_thread",
    "thread_name",
    "join_all",
    "JOIN_TIMEOUT",
    "DEFAULT_MAXSIZE",
]

T = TypeVar("T")
log = logging.getLogger("streamql.threads")

JOIN_TIMEOUT = 2.0
"""Seconds a consumer waits for its producer threads to stop before giving up on them."""
DEFAULT_MAXSIZE = QUEUE_MAXSIZE
_POLL = 0.25  # safety net: every wait re-checks its condition at least this often
_STOP_POLL = 0.02  # how often a waiting consumer looks at the stop requests of its run


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_END = _Marker("streamql end of stream")


class _Failure:
    """An exception travelling from a producer thread to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class QueueLike(Protocol):
    def put(self, item: Any) -> None: ...

    def get(self) -> Any: ...


def check_queue(stage: str, q: object, *methods: str) -> None:
    for method in methods:
        if not callable(getattr(q, method, None)):
            raise TypeError(f"{stage}: expected a queue with .{method}(), got {q!r}")


def check_maxsize(stage: str, maxsize: object) -> int:
    """Validate a buffer bound when the step is added."""
    if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
        raise ValueError(f"{stage}: maxsize must be an int >= 1, got {maxsize!r}")
    return maxsize


def _reraise(failure: _Failure, where: str) -> None:
    error = failure.error
    if hasattr(error, "add_note"):
        error.add_note(f"streamql: raised in {where}")
    raise error


# ---------------------------------------------------------------- the channel
class Channel(Generic[T]):
    """A bounded hand-off from producer threads to one consumer, in batches of what is ready.

    Producers call :meth:`put` (False once the consumer has gone) and
    :meth:`finish` when done (with the exception that ended them, if any); the
    consumer iterates :meth:`batches` or :meth:`items`, and calls :meth:`close`
    (closing that iterator does it) to tell producers to stop.

    >>> ch = Channel(maxsize=10, producers=1)
    >>> ch.put(1), ch.put(2)
    (True, True)
    >>> ch.finish()
    >>> list(ch.batches())
    [[1, 2]]
    """

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE, producers: int = 0) -> None:
        self.maxsize = check_maxsize("Channel", maxsize)
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._readable = threading.Condition(self._lock)
        self._writable = threading.Condition(self._lock)
        self._reader_waiting = False
        self._writers_waiting = 0
        self._producers = producers
        self._failed = False
        self.stopped = False
        """True once the consumer has gone: producers should stop."""

    def add_producer(self) -> None:
        """Count one more producer; the stream ends when every producer has finished."""
        with self._lock:
            self._producers += 1

    def put(self, item: T) -> bool:
        """Hand one item to the consumer; wait while the buffer is full. False: stop producing."""
        items = self._items
        items.append(item)
        if self._reader_waiting:
            self._wake_reader()
        if len(items) >= self.maxsize:
            self._wait_for_room()
        return not self.stopped

    def put_many(self, batch: Iterable[T]) -> bool:
        """Hand several items to the consumer, in order; see :meth:`put`."""
        items = self._items
        items.extend(batch)
        if self._reader_waiting:
            self._wake_reader()
        if len(items) >= self.maxsize:
            self._wait_for_room()
        return not self.stopped

    def _wake_reader(self) -> None:
        with self._lock:
            # Once is enough: items appended before the reader runs need no second wake-up.
            self._reader_waiting = False
            self._readable.notify()

    def _wait_for_room(self) -> None:
        with self._lock:
            self._writers_waiting += 1
            try:
                while len(self._items) >= self.maxsize and not self.stopped:
                    self._writable.wait(_POLL)
            finally:
                self._writers_waiting -= 1

    def finish(self, error: BaseException | None = None) -> None:
        """End one producer, passing on the exception that stopped it, if any."""
        if error is not None:
            self._items.append(_Failure(error))
            self._failed = True
        with self._lock:
            self._producers -= 1
            self._readable.notify()

    def close(self) -> None:
        """Tell the producers to stop, and wake any that wait for room."""
        self.stopped = True
        with self._lock:
            self._writable.notify_all()

    def batches(
        self,
        limit: int | None = None,
        where: str = "a producer thread",
        stop: Callable[[], bool] | None = None,
    ) -> Generator[list[T], None, None]:
        """Yield lists of the items ready, as they arrive; raise a producer's error in turn.

        Each list holds what arrived since the last one (at most ``limit``).
        ``stop``: a check looked at while waiting; once true, the stream ends
        (a ``until`` further down expired, say, while every producer is quiet).
        """
        items = self._items
        popleft = items.popleft
        cap = limit or self.maxsize
        poll = _POLL if stop is None else _STOP_POLL
        try:
            while True:
                n = len(items)
                if n:
                    batch = [popleft() for _ in range(n if n < cap else cap)]
                    if self._writers_waiting:
                        with self._lock:
                            self._writable.notify_all()
                    if self._failed:
                        for i, item in enumerate(batch):
                            if type(item) is _Failure:
                                if i:
                                    yield batch[:i]
                                _reraise(item, where)
                    yield batch
                    continue
                with self._lock:
                    try:
                        while not items and self._producers > 0:
                            if stop is not None and stop():
                                return
                            self._reader_waiting = True
                            self._readable.wait(poll)
                    finally:
                        self._reader_waiting = False
                    if not items:
                        return
        finally:
            self.close()

    def items(self, where: str = "a producer thread") -> Generator[T, None, None]:
        """Yield the items one by one as they arrive (see :meth:`batches`)."""
        batches = self.batches(where=where)
        try:
            for batch in batches:
                yield from batch
        finally:
            batches.close()


def pump(channel: Channel[Any], source: Iterable[Any], own: bool) -> None:
    """Feed ``source`` into ``channel`` until it ends or the consumer goes; always finish.

    ``own``: close the source's iterator here when done (it belongs to this thread).
    """
    error: BaseException | None = None
    try:
        with cancel.stopping(lambda: channel.stopped):  # a live source polls this
            _feed(channel, source, own)
    except BaseException as exc:
        error = exc
    finally:
        channel.finish(error)


def _feed(channel: Channel[Any], source: Iterable[Any], own: bool) -> None:
    it = iter(source)
    try:
        put = channel.put
        for item in it:
            if not put(item):
                break
    finally:
        if own and hasattr(it, "close"):
            it.close()


def start_thread(target: Callable[..., None], *args: Any, name: str) -> threading.Thread:
    """Start a daemon thread (a source stuck in a system call cannot keep Python alive).

    The thread inherits the stop requests of this one (:mod:`streamql.core.cancel`).
    """
    thread = threading.Thread(target=cancel.inherit(target), args=args, name=name, daemon=True)
    thread.start()
    return thread


_names = itertools.count(1)


def thread_name(stage: str) -> str:
    return f"streamql-{stage}-{next(_names)}"


def join_all(threads: Iterable[threading.Thread], timeout: float = JOIN_TIMEOUT) -> list[str]:
    """Join threads within ``timeout`` seconds in all; return the names of those still running."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        log.warning(
            "threads still running after %.1f s (blocked in their source): %s", timeout, alive
        )
    return alive
