"""Stream methods for threads, queues, fan-in, fan-out, coroutines and the network.

Each method is a short delegate to a plain function in its domain module:
:mod:`streamql.routing.threads`, :mod:`streamql.routing.coroutines`, :mod:`streamql.routing.net`,
:mod:`streamql.routing.pool`. Sources over other Streams hold those Streams (plans)
and run each afresh on every run, so the result stays re-runnable.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ..core._lazy import lazy
from ..core.defaults import (
    FRAME_TIMEOUT,
    HELLO_TIMEOUT,
    HOST,
    IDLE_TIMEOUT,
    MAX_FRAME,
    MAX_RECORDS,
    QUEUE_MAXSIZE,
    RECEIVER_CONNECTIONS,
)
from ..core.plan import Step
from .base import StreamBase

if TYPE_CHECKING:
    from ..routing import channel, coroutines, net, pool, threads
    from ..routing.channel import QueueLike
    from .stream import Stream
else:  # imported when a routing method first runs
    channel, coroutines, net, pool, threads = (
        lazy(f"streamql.routing.{m}") for m in ("channel", "coroutines", "net", "pool", "threads")
    )
DEFAULT_MAXSIZE = QUEUE_MAXSIZE

__all__ = ["RoutingMethods"]

T = TypeVar("T")
U = TypeVar("U")


def _streams(stage: str, streams: tuple[Any, ...]) -> None:
    if not streams:
        raise TypeError(f"{stage}: give at least one Stream")
    for s in streams:
        if not isinstance(s, StreamBase):
            raise TypeError(
                f"{stage}: expected Streams, got {s!r}\n\nWrap an iterable first: Stream(items)."
            )


def _multiplex(*streams: Any, maxsize: int = DEFAULT_MAXSIZE, ctx: Any = None) -> Iterator[Any]:
    return threads.multiplex(streams, maxsize=maxsize, ctx=ctx)


def _concat(*streams: Any) -> Iterator[Any]:
    return threads.concat(streams)


def _zip(*streams: Any) -> Iterator[tuple[Any, ...]]:
    return threads.zip_sources(streams)


def _source(name: str, func: Callable[..., Any], args: tuple[Any, ...], **flags: Any) -> Step:
    kwargs = tuple((k, v) for k, v in flags.pop("kwargs", {}).items())
    return Step(name, func, args, kwargs, source=True, **flags)


class RoutingMethods(StreamBase[T]):
    """Methods of ``Stream`` that route items across threads, processes and machines."""

    __slots__ = ()

    # ----------------------------------------------------------------- sources
    @classmethod
    def from_queue(cls, q: QueueLike) -> Stream[Any]:
        """Start from the items put on ``q`` by ``to_queue``, until its end marker.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> import queue
        >>> q = queue.Queue()
        >>> Stream([1, 2]).to_queue(q)
        2
        >>> Stream.from_queue(q).list()
        [1, 2]
        """
        threads.from_queue(q).close()  # checks the argument now
        return cls._of(
            (_source("from_queue", threads.from_queue, (q,), pure=False, effect="consumes"),)
        )

    @classmethod
    def multiplex(cls, *streams: StreamBase[Any], maxsize: int = DEFAULT_MAXSIZE) -> Stream[Any]:
        """Start from the items of several Streams as they arrive, each run in its own thread.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> sorted(Stream.multiplex(Stream([1, 2]), Stream([3])).list())
        [1, 2, 3]
        """
        _streams("multiplex", streams)
        channel.check_maxsize("multiplex", maxsize)
        kwargs = {"maxsize": maxsize} if maxsize != DEFAULT_MAXSIZE else {}
        infinite = any(s.steps[0].infinite for s in streams)
        step = _source(
            "multiplex",
            _multiplex,
            streams,
            kwargs=kwargs,
            rowwise=False,
            pure=False,
            infinite=infinite,
            uses_ctx=True,
        )
        return cls._of((step,))

    @classmethod
    def concat(cls, *streams: StreamBase[Any]) -> Stream[Any]:
        """Start from all items of each Stream in turn (the tutorial's gen_cat).

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> Stream.concat(Stream([1]), Stream([2, 3])).list()
        [1, 2, 3]
        """
        _streams("concat", streams)
        infinite = any(s.steps[0].infinite for s in streams)
        return cls._of((_source("concat", _concat, streams, infinite=infinite),))

    @classmethod
    def zip(cls, *streams: StreamBase[Any]) -> Stream[tuple[Any, ...]]:
        """Start from tuples of one item of each Stream, in lock-step; end with the shortest.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> Stream.zip(Stream([1, 2]), Stream(["a", "b"])).list()
        [(1, 'a'), (2, 'b')]
        """
        _streams("zip", streams)
        infinite = all(s.steps[0].infinite for s in streams)
        return cls._of((_source("zip", _zip, streams, infinite=infinite),))

    @classmethod
    def receive_from(
        cls,
        address: tuple[str, int] | int = (HOST, 0),
        *,
        senders: int | None = None,
        max_connections: int = RECEIVER_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
        hello_timeout: float = HELLO_TIMEOUT,
        frame_timeout: float = FRAME_TIMEOUT,
        max_frame: int = MAX_FRAME,
        max_records: int = MAX_RECORDS,
        trusted: bool = False,
        key: bytes | None = None,
        on_bind: Callable[[tuple[str, int]], Any] | None = None,
        stats: net.ReceiverStats | None = None,
    ) -> Stream[Any]:
        """Start from the records peers send to ``address`` (see ``net.receive_from``).

        Binds afresh on every run; infinite unless ``senders`` is given.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> Stream.receive_from(9000, senders=2)
        Stream.receive_from(9000, senders=2)
        """
        given: dict[str, Any] = {
            "senders": senders,
            "max_connections": max_connections,
            "idle_timeout": idle_timeout,
            "hello_timeout": hello_timeout,
            "frame_timeout": frame_timeout,
            "max_frame": max_frame,
            "max_records": max_records,
            "trusted": trusted,
            "key": key,
            "on_bind": on_bind,
            "stats": stats,
        }
        defaults = {
            "max_connections": RECEIVER_CONNECTIONS,
            "idle_timeout": IDLE_TIMEOUT,
            "hello_timeout": HELLO_TIMEOUT,
            "frame_timeout": FRAME_TIMEOUT,
            "max_frame": MAX_FRAME,
            "max_records": MAX_RECORDS,
        }
        kwargs = {
            k: v
            for k, v in given.items()
            if v is not None and v is not False and v != defaults.get(k, ())
        }
        net.receive_from(address, **kwargs).close()  # checks the arguments now; binds nothing
        step = _source(
            "receive_from",
            net.receive_from,
            (address,),
            kwargs=kwargs,
            rowwise=False,
            pure=False,
            effect="listens",
            infinite=senders is None,
        )
        return cls._of((step,))

    # --------------------------------------------------------------- transforms
    def background(self, *, maxsize: int = DEFAULT_MAXSIZE) -> Stream[T]:
        """Run everything upstream of this point in its own thread, behind a bounded buffer.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> Stream(range(5)).map(str).background(maxsize=2).list()
        ['0', '1', '2', '3', '4']
        """
        kwargs: dict[str, Any] = {"maxsize": maxsize} if maxsize != DEFAULT_MAXSIZE else {}
        # Not pure: which stages run in the thread is the point, so nothing may move across it.
        return self._then(
            "background",
            threads.background,
            (),
            kwargs,
            rowwise=False,
            pure=False,
            effect="reads",
            keeps_schema=True,
        )

    def parallel_map(
        self, func: Callable[[T], U], *, processes: int | None = None, chunksize: int = 256
    ) -> Stream[U]:
        """Apply a CPU-heavy ``func`` to each item in a pool of processes, keeping order.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> Stream([-1, 2, -3]).parallel_map(abs, processes=2).list()
        [1, 2, 3]
        """
        kwargs: dict[str, Any] = {"processes": processes} if processes is not None else {}
        if chunksize != 256:
            kwargs["chunksize"] = chunksize
        return self._then("parallel_map", pool.parallel_map, (func,), kwargs, rowwise=False)

    # ---------------------------------------------------------------- terminals
    def to_queue(self, q: QueueLike) -> int:
        """Run the query into the queue ``q``, then an end marker; return the item count.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> import queue
        >>> q = queue.Queue()
        >>> Stream(["a"]).to_queue(q), Stream.from_queue(q).list()
        (1, ['a'])
        """
        channel.check_queue("to_queue", q, "put")
        return self._run(lambda it: threads.to_queue(q, it))

    def broadcast(self, *consumers: coroutines.Consumer) -> int:
        """Run the query, sending each item to every consumer; close them all; return the count.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> seen = []
        >>> Stream([1, 2]).broadcast(coroutines.append_to(seen), coroutines.append_to(seen))
        2
        >>> seen
        [1, 1, 2, 2]
        """
        found = coroutines._check_consumers("broadcast", consumers)
        return self._run(lambda it: coroutines.broadcast(found, it))

    def into(self, sink: coroutines.Consumer) -> int:
        """Run the query, sending each item into a coroutine ``sink``, then close it.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> out = []
        >>> Stream(["a", "b"]).into(coroutines.map_to(str.upper, coroutines.append_to(out)))
        2
        >>> out
        ['A', 'B']
        """
        found = coroutines._check_consumers("into", [sink])
        return self._run(lambda it: coroutines.broadcast(found, it))

    def answers(self, **queries: Callable[[Stream[Any]], Any]) -> builtins.dict[str, Any]:
        """Run the query once, answering several questions of it, each in its own thread.

        >>> from streamql import Stream; from streamql.routing import coroutines
        >>> odd = lambda s: s.where(lambda x: x % 2).count()
        >>> Stream([1, 2, 3]).answers(total=lambda s: s.sum(), odd=odd)
        {'total': 6, 'odd': 2}
        """
        coroutines.check_queries(queries)
        return self._run(lambda it: coroutines.answers(queries, it))

    def send_to(
        self,
        address: tuple[str, int] | int,
        *,
        codec: str = "json",
        key: bytes | None = None,
        batch: int = 2000,
        timeout: float = 10.0,
        retries: int = 5,
        retry_delay: float = 0.1,
    ) -> int:
        """Run the query, sending its records to ``address``; return the count once received.

        See :func:`streamql.routing.net.send_to` for the wire and the retry policy.

        >>> import threading
        >>> from streamql import Stream
        >>> bound, where, got = threading.Event(), [], []
        >>> inbox = Stream.receive_from(senders=1, on_bind=lambda a: (where.append(a), bound.set()))
        >>> t = threading.Thread(target=lambda: got.extend(inbox))
        >>> t.start(); _ = bound.wait(5)
        >>> Stream([{"n": 1}, {"n": 2}]).send_to(where[0])
        2
        >>> t.join(5); got
        [{'n': 1}, {'n': 2}]
        """
        options: dict[str, Any] = {
            "codec": codec,
            "key": key,
            "batch": batch,
            "timeout": timeout,
            "retries": retries,
            "retry_delay": retry_delay,
        }
        net.check_send_options(address, **options)
        return self._run(lambda it: net.send_to(address, it, **options))
