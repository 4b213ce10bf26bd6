"""Stop live streams from outside: signals, other threads, and stages further down.

A generator cannot be closed from another thread or a signal handler (the
tutorial's ``ValueError: generator already executing``), so live sources take a
``shutdown`` :class:`threading.Event` and look at it on every poll.

Setting that Event from a signal handler is itself unsafe: ``Event.set()``
takes the Event's lock, and the handler runs in the main thread between two
bytecodes, possibly while that same thread holds the lock inside
``Event.wait()`` — a deadlock. :func:`shutdown_on_signals` therefore installs
handlers that only set a flag and write a byte to a pipe; a small thread reads
the pipe and sets the Event.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from ..core import cancel
from ..core.context import RunContext

__all__ = ["shutdown_on_signals", "default_signals", "add_stop", "stop_requested", "check_event"]


def default_signals() -> tuple[signal.Signals, ...]:
    """Return the signals that stop a live query: SIGINT, SIGTERM, and SIGUSR1 where present.

    >>> signal.SIGINT in default_signals()
    True
    """
    names = ("SIGINT", "SIGTERM", "SIGUSR1")
    return tuple(getattr(signal, n) for n in names if hasattr(signal, n))


def check_event(stage: str, event: object) -> None:
    """Refuse a ``shutdown`` argument that is not Event-like (``is_set`` and ``wait``)."""
    if event is not None and not (hasattr(event, "is_set") and hasattr(event, "wait")):
        raise TypeError(f"{stage}: shutdown must be a threading.Event, got {event!r}")


@contextmanager
def shutdown_on_signals(
    *signals: int, event: threading.Event | None = None
) -> Iterator[threading.Event]:
    """Within the block, turn the given signals into a set shutdown Event.

    Pass the Event to live sources (``follow(path, shutdown=event)``) or to
    ``until(event)``: a Ctrl-C (SIGINT), a ``kill`` (SIGTERM) or SIGUSR1 then
    ends the query within one poll interval, with every file and socket
    closed, instead of tearing through it with ``KeyboardInterrupt``. The
    handlers only set a flag and write to a wake-up pipe (a signal storm
    cannot deadlock them); a helper thread sets the Event. The previous
    handlers come back, and the thread is joined, when the block ends.
    Signal handlers can be installed only from the main thread.

    >>> import os, signal
    >>> with shutdown_on_signals(signal.SIGUSR1) as stop:
    ...     os.kill(os.getpid(), signal.SIGUSR1)
    ...     stop.wait(5)
    True
    """
    chosen = signals or default_signals()
    for signum in chosen:
        if not isinstance(signum, int):
            raise TypeError(f"shutdown_on_signals: expected signal numbers, got {signum!r}")
    if threading.current_thread() is not threading.main_thread():
        raise ValueError(
            "shutdown_on_signals: signal handlers can be installed only from the main thread\n\n"
            "In a worker thread, pass a threading.Event as shutdown= and set it yourself."
        )
    stop = event if event is not None else threading.Event()
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)

    def handler(signum: int, frame: FrameType | None) -> None:
        # Async-signal context: no locks. A full pipe already holds a wake-up.
        with suppress(OSError):
            os.write(wfd, b"!")

    def relay() -> None:
        while True:
            try:
                data = os.read(rfd, 512)
            except OSError:
                return
            if not data:
                return  # write end closed
            if b"!" in data:
                stop.set()
            if b"\0" in data:
                return

    thread = threading.Thread(target=relay, name="streamql-signals", daemon=True)
    thread.start()
    previous: dict[int, Any] = {}
    try:
        for signum in chosen:
            previous[signum] = signal.signal(signum, handler)
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        with suppress(OSError):
            os.write(wfd, b"\0")  # tell the relay to finish
        thread.join(timeout=5)
        os.close(wfd)
        os.close(rfd)


def add_stop(ctx: RunContext | None, check: Callable[[], bool]) -> None:
    """Ask the live source of the run ``ctx`` to end when ``check()`` turns true.

    ``until(event)`` and ``until(timeout=)`` use this, so that a stream whose
    source is idle (a quiet log, a silent socket) still ends on time: the
    source polls the checks along with its own ``shutdown`` Event.
    """
    if ctx is not None:
        ctx.stops.append(check)


def stop_requested(ctx: RunContext | None, shutdown: threading.Event | None = None) -> bool:
    """Say whether ``shutdown`` is set or a later stage (of this run or one it feeds) asked to stop.

    >>> stop_requested(None, threading.Event())
    False
    """
    if shutdown is not None and shutdown.is_set():
        return True
    if ctx is not None and any(check() for check in ctx.stops):
        return True
    return cancel.requested()  # a stage running this source in a thread or a nested run


def idle_wait(seconds: float, shutdown: threading.Event | None) -> None:
    """Sleep one poll interval, waking at once when ``shutdown`` is set."""
    if shutdown is not None:
        shutdown.wait(seconds)
    else:
        time.sleep(seconds)
