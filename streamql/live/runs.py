"""A registry of the live queries running in this process, and a way to stop them all.

Every run of a plan with an endless source (``follow``, ``logfile``, socket
sources...) registers itself for as long as it runs, so a notebook user who
started a few in background threads can see them and stop them all: each is
asked to end through the run context's stop checks, which streamql's live
sources poll, and ends within one poll interval with its files, sockets and
threads closed.

>>> live_runs()
[]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..core.context import RunContext
from ..core.plan import Step

__all__ = ["LiveRun", "live_runs", "stop_all", "registered"]


@dataclass
class LiveRun:
    """One running live query: what it is, where and since when it runs."""

    query: str
    thread: str
    started: float = field(default_factory=time.time)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the query to end; with ``timeout``, wait for it and say whether it ended."""
        self._stop.set()
        return self._done.wait(timeout) if timeout is not None else self._done.is_set()


_lock = threading.Lock()
_runs: list[LiveRun] = []


def live_runs() -> list[LiveRun]:
    """Return the live queries running now, oldest first."""
    with _lock:
        return list(_runs)


def stop_all(timeout: float | None = 5.0) -> int:
    """Ask every live query to end; wait up to ``timeout`` s; return how many were running.

    >>> stop_all()
    0
    """
    runs = live_runs()
    for run in runs:
        run._stop.set()
    deadline = None if timeout is None else time.monotonic() + timeout
    for run in runs:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        run._done.wait(left)
    return len(runs)


def _label(steps: Sequence[Step]) -> str:
    first, *rest = steps
    text = f"Stream({first.args[0]!r})" if first.name == "Stream" else f"Stream.{first.render()}"
    return text + "".join(f".{step.render()}" for step in rest)


@contextmanager
def registered(steps: Sequence[Step], ctx: RunContext) -> Iterator[LiveRun | None]:
    """Register the run of ``steps`` while the block lasts, if its source is endless."""
    if not any(step.infinite for step in steps):
        yield None
        return
    run = LiveRun(_label(steps), threading.current_thread().name)
    ctx.stops.append(run._stop.is_set)
    with _lock:
        _runs.append(run)
    try:
        yield run
    finally:
        with _lock:
            _runs.remove(run)
        run._done.set()
