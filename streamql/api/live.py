"""Stream methods for live and infinite streams: follow, logfile, until, windows, sockets.

Each method is a short delegate to a plain function in its domain module
(``follow``, ``logfile``, ``windows``, ``netsources``). Live sources are
declared ``infinite``: a terminal such as ``sum()`` on them never returns, so
end them with ``take``/``until`` or summarise them with ``scan``/``window``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ..aggregates import Aggregate
from ..core._lazy import lazy
from ..core.defaults import (
    GRACE,
    IDLE_TIMEOUT,
    MAX_FUTURE,
    MAX_LINE,
    MISSING,
    POLL,
    TCP_CONNECTIONS,
    TCP_MAX_LINE,
)
from ..core.plan import Step, render_args
from .base import StreamBase

if TYPE_CHECKING:
    from ..live import follow as _follow
    from ..live import logfile as _logfile
    from ..live import windows
    from ..routing import netsources
    from .stream import Stream
else:  # imported when a live method first runs
    _follow, _logfile, netsources, windows = (
        lazy(f"streamql.{m}")
        for m in ("live.follow", "live.logfile", "routing.netsources", "live.windows")
    )

__all__ = ["LiveMethods"]

T = TypeVar("T")
U = TypeVar("U")

_POLL, _GRACE, _MAX_LINE = POLL, GRACE, MAX_LINE
_LIVE: dict[str, Any] = {"max_line": _MAX_LINE, "inotify": None, "stats": None}
Address = int | tuple[str, int]


def _set(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Keep the keyword arguments that differ from their defaults (for a short repr)."""
    return {k: v for k, v in given.items() if k not in defaults or v != defaults[k]}


def _source(
    name: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], **flags: Any
) -> Step:
    """Check a live source's arguments now (by building and closing it), and make its step."""
    func(*args, **kwargs).close()
    shown = render_args(args, kwargs)
    return Step(
        name, func, args, tuple(kwargs.items()), source=True, uses_ctx=True, shown=shown, **flags
    )


class LiveMethods(StreamBase[T]):
    """Methods of ``Stream`` for live data (tutorial parts 5, 6 and 9)."""

    __slots__ = ()

    # --------------------------------------------------------------- sources
    @classmethod
    def follow(
        cls,
        *paths: str | os.PathLike[str],
        from_start: bool = False,
        shutdown: threading.Event | None = None,
        poll: float = _POLL,
        grace: float = _GRACE,
        wait: bool = True,
        tag: bool = False,
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        max_line: int | None = _MAX_LINE,
        inotify: bool | None = None,
        stats: _follow.FollowStats | None = None,
    ) -> Stream[Any]:
        """Start from the lines appended to files, forever, like ``tail -F`` (tutorial part 5).

        Infinite; ends only when closed, shut down, or cut by ``take``/``until``.
        See :func:`streamql.live.follow.follow` for rotation, truncation and missing files.

        >>> from streamql import Stream
        >>> Stream.follow("access-log", poll=0.01).parse_apache().where(status=404)
        Stream.follow('access-log', poll=0.01).parse_apache().where(status=404)
        """
        kwargs = _set(
            {"from_start": False, "shutdown": None, "poll": _POLL, "grace": _GRACE, "wait": True},
            dict(from_start=from_start, shutdown=shutdown, poll=poll, grace=grace, wait=wait),
        )
        kwargs |= _set(
            {"tag": False, "encoding": "utf-8", "decode_errors": "backslashreplace"},
            dict(tag=tag, encoding=encoding, decode_errors=decode_errors),
        )
        kwargs |= _set(_LIVE, dict(max_line=max_line, inotify=inotify, stats=stats))
        step = _source("follow", _follow_paths, paths, kwargs, infinite=True)
        return cls._of((step,))

    @classmethod
    def logfile(
        cls,
        path: str | os.PathLike[str],
        *,
        history: bool = True,
        follow: bool = True,
        checkpoint: str | os.PathLike[str] | None = None,
        shutdown: threading.Event | None = None,
        poll: float = _POLL,
        grace: float = _GRACE,
        checkpoint_every: float = 1.0,
        checkpoint_lines: int = 10_000,
        max_line: int | None = _MAX_LINE,
        inotify: bool | None = None,
        stats: _follow.FollowStats | None = None,
    ) -> Stream[str]:
        """Start from a log's rotated history, oldest first, then its live file, followed.

        Infinite with ``follow=True``; resumable at least once with ``checkpoint``.
        See :func:`streamql.live.logfile.logfile`.

        >>> from streamql import Stream
        >>> Stream.logfile("www/foo/access-log", follow=False)
        Stream.logfile('www/foo/access-log', follow=False)
        """
        kwargs = _set(
            {"history": True, "follow": True, "checkpoint": None, "shutdown": None},
            dict(history=history, follow=follow, checkpoint=checkpoint, shutdown=shutdown),
        )
        kwargs |= _set(
            {"poll": _POLL, "grace": _GRACE, "checkpoint_every": 1.0},
            dict(poll=poll, grace=grace, checkpoint_every=checkpoint_every),
        )
        kwargs |= _set(
            {"checkpoint_lines": 10_000, **_LIVE},
            dict(checkpoint_lines=checkpoint_lines, max_line=max_line, inotify=inotify)
            | dict(stats=stats),
        )
        step = _source("logfile", _logfile.logfile, (path,), kwargs, infinite=follow)
        return cls._of((step,))

    @classmethod
    def tcp_connections(
        cls,
        address: Address,
        *,
        shutdown: threading.Event | None = None,
        poll: float = _POLL,
        on_bind: Callable[[tuple[str, int]], Any] | None = None,
    ) -> Stream[Any]:
        """Start from ``(connection, address)`` per client connecting (receive_connections).

        Infinite. A port alone binds 127.0.0.1; see
        :func:`streamql.routing.netsources.tcp_connections`.

        >>> from streamql import Stream
        >>> Stream.tcp_connections(9000)
        Stream.tcp_connections(9000)
        """
        given = {"shutdown": shutdown, "poll": poll, "on_bind": on_bind}
        kwargs = _set({"shutdown": None, "poll": _POLL, "on_bind": None}, given)
        step = _source(
            "tcp_connections",
            netsources.tcp_connections,
            (address,),
            kwargs,
            infinite=True,
            effect="listens",
        )
        return cls._of((step,))

    @classmethod
    def udp_messages(
        cls,
        address: Address,
        maxsize: int = 65535,
        *,
        shutdown: threading.Event | None = None,
        poll: float = _POLL,
        on_bind: Callable[[tuple[str, int]], Any] | None = None,
    ) -> Stream[tuple[bytes, tuple[str, int]]]:
        """Start from ``(message, address)`` per UDP datagram received (receive_messages).

        Infinite. See :func:`streamql.routing.netsources.udp_messages`.

        >>> from streamql import Stream
        >>> Stream.udp_messages(10000, 1024)
        Stream.udp_messages(10000, 1024)
        """
        given = {"shutdown": shutdown, "poll": poll, "on_bind": on_bind}
        kwargs = _set({"shutdown": None, "poll": _POLL, "on_bind": None}, given)
        step = _source(
            "udp_messages",
            netsources.udp_messages,
            (address, maxsize),
            kwargs,
            infinite=True,
            effect="listens",
        )
        return cls._of((step,))

    @classmethod
    def tcp_lines(
        cls,
        address: Address,
        *,
        max_line: int = TCP_MAX_LINE,
        max_connections: int = TCP_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
        tag: bool = False,
        shutdown: threading.Event | None = None,
        poll: float = _POLL,
        on_bind: Callable[[tuple[str, int]], Any] | None = None,
    ) -> Stream[Any]:
        """Start from the lines many TCP clients send, with limits no client can break.

        Infinite. See :func:`streamql.routing.netsources.tcp_lines` for the limits' defaults.

        >>> from streamql import Stream
        >>> Stream.tcp_lines(9000, max_connections=10).grep("ERROR")
        Stream.tcp_lines(9000, max_connections=10).grep('ERROR')
        """
        defaults = {
            "max_line": TCP_MAX_LINE,
            "max_connections": TCP_CONNECTIONS,
            "idle_timeout": IDLE_TIMEOUT,
            "tag": False,
            "shutdown": None,
            "poll": _POLL,
            "on_bind": None,
        }
        given = {
            "max_line": max_line,
            "max_connections": max_connections,
            "idle_timeout": idle_timeout,
            "tag": tag,
            "shutdown": shutdown,
            "poll": poll,
            "on_bind": on_bind,
        }
        kwargs = _set(defaults, given)
        step = _source(
            "tcp_lines",
            netsources.tcp_lines,
            (address,),
            kwargs,
            infinite=True,
            rejects=True,
            effect="listens",
        )
        return cls._of((step,))

    @classmethod
    def merge_by_time(
        cls,
        *streams: StreamBase[Any] | Iterable[Any],
        on: str | int | Callable[[Any], Any] = "datetime",
        slack: float | timedelta = 0.0,
    ) -> Stream[Any]:
        """Start from several streams merged into one in event-time order, within ``slack``.

        Each run runs every stream afresh. Infinite when one of them is.
        See :func:`streamql.live.windows.merge_by_time`.

        >>> from streamql import Stream
        >>> a, b = Stream([{"t": 1}, {"t": 3}]), Stream([{"t": 2}])
        >>> [r["t"] for r in Stream.merge_by_time(a, b, on="t")]
        [1, 2, 3]
        """
        if not streams:
            raise TypeError("merge_by_time: give at least one stream")
        kwargs = _set({"on": "datetime", "slack": 0.0}, {"on": on, "slack": slack})
        windows.merge_by_time(streams, **kwargs)  # checks the arguments; runs nothing
        infinite = any(
            step.infinite for s in streams if isinstance(s, StreamBase) for step in s.steps
        )
        shown = ", ".join([repr(s) for s in streams] + [f"{k}={v!r}" for k, v in kwargs.items()])
        step = Step(
            "merge_by_time",
            _merge_streams,
            (streams,),
            tuple(kwargs.items()),
            source=True,
            uses_ctx=True,
            rejects=True,
            infinite=infinite,
            shown=shown,
        )
        return cls._of((step,))

    # ----------------------------------------------------------- transforms
    def until(
        self,
        stop: Callable[[T], Any] | threading.Event | None = None,
        *,
        timeout: float | None = None,
    ) -> Stream[T]:
        """Stop before the first item ``stop`` accepts, once an Event is set, or after ``timeout``.

        An Event or a timeout ends the stream on time even when a live source is idle.

        >>> from streamql import Stream
        >>> Stream([1, 5, 2]).until(lambda n: n > 3).list()
        [1]
        """
        kwargs = {"timeout": timeout} if timeout is not None else {}
        return self._then(
            "until",
            windows.until,
            (stop,),
            kwargs,
            uses_ctx=True,
            rowwise=False,
            pure=False,
            effect="reads",
            keeps_schema=True,
        )

    def scan(self, func: Callable[[Any, T], U], *, initial: Any = MISSING) -> Stream[U]:
        """Yield the running result of ``func(result, item)``: a total or count so far.

        >>> from streamql import Stream
        >>> Stream([{"bytes": 3}, {"bytes": 4}]).scan(lambda n, r: n + r["bytes"], initial=0).list()
        [0, 3, 7]
        """
        kwargs = {} if initial is MISSING else {"initial": initial}
        return self._then("scan", windows.scan, (func,), kwargs, rowwise=False)

    def window(
        self,
        seconds: float | timedelta,
        *,
        by: str | int | Callable[[Any], Any] | None = "datetime",
        agg: Callable[[list[Any]], Any] | Aggregate | None = None,
        lateness: float | timedelta = 0.0,
        max_future: float | timedelta | None = MAX_FUTURE,
    ) -> Stream[windows.Window]:
        """Group items into tumbling time windows; yield each ``Window`` as it closes.

        Items later than ``lateness``, or implausibly far ahead (``max_future``
        seconds, a day by default), are rejects, never silently dropped.
        See :func:`streamql.live.windows.window`.

        >>> from streamql import Stream
        >>> rows = Stream([{"t": 1, "n": 404}, {"t": 7, "n": 404}, {"t": 12, "n": 200}])
        >>> rows.window(10, by="t", agg=len).list()
        [Window(start=0, end=10, value=2), Window(start=10, end=20, value=1)]
        """
        given = {"by": by, "agg": agg, "lateness": lateness, "max_future": max_future}
        defaults = {
            "by": "datetime",
            "agg": None,
            "lateness": 0.0,
            "max_future": MAX_FUTURE,
        }
        kwargs = _set(defaults, given)
        return self._then(
            "window",
            windows.window,
            (seconds,),
            kwargs,
            uses_ctx=True,
            rowwise=False,
            rejects=True,
        )


def _follow_paths(*paths: Any, **kwargs: Any) -> Any:
    return _follow.follow(list(paths), **kwargs)


def _merge_streams(streams: tuple[Any, ...], **kwargs: Any) -> Any:
    # Each run iterates every Stream afresh; closing the merge closes their runs.
    return windows.merge_by_time(streams, **kwargs)
