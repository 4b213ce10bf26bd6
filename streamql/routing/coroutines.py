"""Coroutines and fan-out: push each item to several consumers, one read, several answers.

The tutorial's Part 8 broadcast and Part III coroutines. A *consumer* is
anything with ``.send(item)`` (and, optionally, ``.close()``): a primed
generator (see :func:`consumer`), a :class:`ConsumerThread` running an ordinary
pull-style function in its own thread, or a network consumer
(:class:`streamql.routing.net.NetConsumer`). :func:`broadcast` closes every consumer
when the source ends *or* fails, so coroutines receive ``GeneratorExit`` and
threads are joined either way.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from ..core import cancel
from ..core._lazy import lazy
from ..core.errors import StreamError
from ..engine.local import close_each
from .channel import (
    DEFAULT_MAXSIZE,
    Channel,
    check_maxsize,
    join_all,
    pump,
    start_thread,
    thread_name,
)

if TYPE_CHECKING:
    from ..api import stream as _api
    from ..api.stream import Stream
else:  # the layer above: a target gets its items as a Stream (loaded when a thread starts)
    _api = lazy("streamql.api.stream")

__all__ = [
    "Consumer",
    "consumer",
    "broadcast",
    "ConsumerThread",
    "answers",
    "check_queries",
    "map_to",
    "filter_to",
    "append_to",
]

T = TypeVar("T")
P = ParamSpec("P")
Coroutine = Generator[None, Any, None]


class Consumer(Protocol):
    """Anything items can be pushed into."""

    def send(self, item: Any, /) -> Any: ...


def consumer(func: Callable[P, Generator[Any, Any, Any]]) -> Callable[P, Generator[Any, Any, Any]]:
    """Decorate a generator function so each call returns a coroutine primed to receive.

    The tutorial's ``@consumer``: it runs the generator to its first ``yield``,
    so the caller can ``send()`` at once.

    >>> @consumer
    ... def printer(prefix):
    ...     try:
    ...         while True:
    ...             print(prefix, (yield))
    ...     except GeneratorExit:
    ...         print("closed")
    >>> p = printer("got")
    >>> p.send(1)
    got 1
    >>> p.close()
    closed
    """
    if not callable(func):
        raise TypeError(f"consumer: expected a generator function, got {func!r}")

    @functools.wraps(func)
    def start(*args: P.args, **kwargs: P.kwargs) -> Generator[Any, Any, Any]:
        coroutine = func(*args, **kwargs)
        next(coroutine)
        return coroutine

    return start


def _check_consumers(stage: str, consumers: Iterable[Any]) -> list[Any]:
    if isinstance(consumers, (str, bytes)) or not isinstance(consumers, Iterable):
        raise TypeError(f"{stage}: expected consumers, got {consumers!r}")
    found = list(consumers)
    for c in found:
        if not callable(getattr(c, "send", None)):
            raise TypeError(
                f"{stage}: a consumer needs a .send(item) method, got {c!r}\n\n"
                "Decorate a generator function with @streamql.routing.coroutines.consumer, "
                "or wrap a "
                "function of a Stream in ConsumerThread(func)."
            )
    return found


def broadcast(consumers: Iterable[Consumer], items: Iterable[Any]) -> int:
    """Send every item to each consumer in turn, then close them all; return how many were sent.

    Terminal; consumes ``items``, holding one item. A consumer that returns
    (its generator ends) stops receiving; once every consumer has stopped
    (coroutines that returned, :class:`ConsumerThread` targets done reading),
    the source is closed and asked to stop, live or not. When the source or a consumer fails,
    every consumer is still closed and the first error is raised here; when
    all goes well, an error raised by a consumer's ``close()`` (a
    :class:`ConsumerThread` whose function failed) is raised.

    >>> seen = []
    >>> broadcast([append_to(seen), map_to(str.upper, append_to(seen))], ["a", "b"])
    2
    >>> seen
    ['a', 'A', 'b', 'B']
    """
    active = _check_consumers("broadcast", consumers)
    everyone = list(active)
    n = 0
    try:
        if active and all(isinstance(c, ConsumerThread) for c in active):
            n = _broadcast_batches(active, items)
        else:
            for item in items:
                for c in active:
                    try:
                        c.send(item)
                    except StopIteration:
                        active = [a for a in active if a is not c]
                n += 1
                if not active:
                    break
    except BaseException:
        close_each(everyone)
        raise
    error = close_each(everyone)
    if error is not None:
        raise error
    return n


def _broadcast_batches(consumers: list[ConsumerThread], items: Iterable[Any]) -> int:
    """Fan out to consumer threads whole batches of the items ready (threads' batching rule)."""
    channel: Channel[Any] = Channel(DEFAULT_MAXSIZE, producers=1)

    def all_done() -> bool:
        return all(c.done for c in consumers)

    with cancel.stopping(all_done):  # the source in the thread stops when no one reads
        thread = start_thread(pump, channel, items, False, name=thread_name("broadcast"))
    n = 0
    try:
        for batch in channel.batches(where=thread.name, stop=all_done):
            for c in consumers:
                c.send_many(batch)
            n += len(batch)
            if all_done():
                break
    finally:
        channel.close()
        join_all([thread])
    return n


# ----------------------------------------------------- coroutine pipelines
@consumer
def map_to(func: Callable[[Any], Any], target: Consumer) -> Coroutine:
    """Send ``func(item)`` on to ``target`` for every item received; close passes on.

    >>> out = []
    >>> c = map_to(len, append_to(out))
    >>> c.send("abc"); c.close(); out
    [3]
    """
    try:
        while True:
            target.send(func((yield)))
    finally:
        _close_target(target)


@consumer
def filter_to(pred: Callable[[Any], Any], target: Consumer) -> Coroutine:
    """Send on to ``target`` the items for which ``pred(item)`` is true; close passes on.

    >>> out = []
    >>> c = filter_to(str.isdigit, append_to(out))
    >>> for x in ["1", "a", "2"]:
    ...     c.send(x)
    >>> out
    ['1', '2']
    """
    try:
        while True:
            item = yield
            if pred(item):
                target.send(item)
    finally:
        _close_target(target)


@consumer
def append_to(out: list[Any]) -> Coroutine:
    """Append every item received to the list ``out`` (a coroutine sink for tests and the REPL).

    >>> out = []
    >>> append_to(out).send(1)
    >>> out
    [1]
    """
    while True:
        out.append((yield))


def _close_target(target: Any) -> None:
    close = getattr(target, "close", None)
    if close is not None:
        close()


# ------------------------------------------------------------ consumer threads
class ConsumerThread:
    """A consumer that runs ``target(stream)`` in its own thread over the items sent to it.

    The tutorial's ConsumerThread, with its holes closed: the buffer is bounded
    (``send`` waits while it is full), ``close()`` ends the stream, joins the
    thread and raises the exception ``target`` raised (``send`` raises it too,
    once it happened), and ``result`` holds what ``target`` returned. The
    thread starts at the first ``send`` (or ``close``). A target that stops
    reading early has later items dropped (not buffered), and says so in :attr:`done`.

    >>> totals = ConsumerThread(lambda s: s.sum())
    >>> broadcast([totals], [1, 2, 3])
    3
    >>> totals.result
    6
    """

    def __init__(
        self,
        target: Callable[[Stream[Any]], Any],
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        timeout: float | None = 60.0,
    ) -> None:
        if not callable(target):
            raise TypeError(f"ConsumerThread: target must be callable, got {target!r}")
        self.target = target
        self.timeout = timeout
        self.result: Any = None
        self._channel: Channel[Any] = Channel(check_maxsize("ConsumerThread", maxsize), 1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=thread_name("consumer"), daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        items = self._channel.items()
        try:
            self.result = self.target(_api.Stream(items))
        except BaseException as exc:
            self._error = exc
        finally:
            items.close()
            self._channel.close()  # tells the sender to stop (even if target never read)

    @property
    def done(self) -> bool:
        """True once ``target`` stopped reading: later items are dropped."""
        return self._channel.stopped

    def send(self, item: Any) -> None:
        """Pass one item to the thread; wait while its buffer is full."""
        if self._closed:
            raise StreamError("ConsumerThread: send() after close()")
        if self._thread is None:
            self._start()
        if self._error is not None:
            raise self._error
        if not self._channel.stopped:
            self._channel.put(item)

    def send_many(self, items: Iterable[Any]) -> None:
        """Pass several items to the thread at once, in order; see :meth:`send`."""
        if self._closed:
            raise StreamError("ConsumerThread: send_many() after close()")
        if self._thread is None:
            self._start()
        if self._error is not None:
            raise self._error
        if not self._channel.stopped:
            self._channel.put_many(items)

    def close(self) -> None:
        """End the thread's stream, wait for ``target`` to return, and raise what it raised."""
        if self._closed:
            return
        self._closed = True
        self._start()
        self._channel.finish()
        assert self._thread is not None
        self._thread.join(self.timeout)
        if self._thread.is_alive():
            self._channel.close()
            raise StreamError(
                f"ConsumerThread: {self._thread.name} did not finish within {self.timeout} s"
            )
        if self._error is not None:
            raise self._error

    def __enter__(self) -> ConsumerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_queries(queries: object) -> None:
    """Validate the queries of :func:`answers`: a non-empty mapping of name to function."""
    if not isinstance(queries, Mapping) or not queries:
        raise TypeError(f"answers: expected a mapping of name to query function, got {queries!r}")
    for name, query in queries.items():
        if not callable(query):
            raise TypeError(
                f"answers: query {name!r} must be a function of a Stream, got {query!r}"
            )


def answers(
    queries: Mapping[str, Callable[[Stream[Any]], Any]], items: Iterable[Any]
) -> dict[str, Any]:
    """Compute several answers from one pass over ``items``: each query gets its own Stream.

    Terminal; consumes ``items`` once. Each query is a function of a Stream
    (``lambda s: s.sum("bytes")``) run in its own :class:`ConsumerThread`; the
    result maps each name to what its query returned. Memory: the queries' own,
    plus bounded buffers.

    >>> answers({"total": lambda s: s.sum(), "big": lambda s: s.where(lambda x: x > 1).list()},
    ...         [1, 2, 3])
    {'total': 6, 'big': [2, 3]}
    """
    check_queries(queries)
    threads = {name: ConsumerThread(query) for name, query in queries.items()}
    broadcast(list(threads.values()), items)
    return {name: thread.result for name, thread in threads.items()}
