"""Stop requests that travel with the work: into threads, and into the runs of nested Streams.

A stage that runs its upstream somewhere else (``background``, ``multiplex``,
``broadcast`` in a thread; ``merge_by_time`` and ``multiplex`` in a run of
their own) cannot close that upstream while it waits for a quiet log or a
silent socket: a generator cannot be closed from another thread, and a nested
run has a context of its own. So the stage *asks*: while it pulls, it adds a
check ("has my consumer gone?", "did ``until`` expire?") to the checks of the
current thread, and every live source looks at them on each poll, through
:func:`streamql.live.shutdown.stop_requested`. Threads started by streamql inherit
the checks of the thread that started them.

The checks live in a :class:`contextvars.ContextVar`, so each thread (and
each copied context) sees its own tuple and nothing needs a lock.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["requested", "stopping", "pull_asking", "inherit"]

Check = Callable[[], bool]

CHECKS: contextvars.ContextVar[tuple[Check, ...]] = contextvars.ContextVar(
    "streamql_stop_checks", default=()
)
"""The stop checks of the current thread (set it around a pull, as :func:`pull_asking` does)."""


def requested() -> bool:
    """Say whether a stage this thread works for asked it to stop.

    >>> requested()
    False
    >>> with stopping(lambda: True):
    ...     requested()
    True
    """
    return any(check() for check in CHECKS.get())


@contextmanager
def stopping(check: Check) -> Iterator[None]:
    """Within the block, make :func:`requested` (and every live source here) see ``check``.

    Nested blocks add up: a source stops when any of the checks says so.

    >>> with stopping(lambda: False), stopping(lambda: True):
    ...     requested()
    True
    >>> requested()
    False
    """
    token = CHECKS.set((*CHECKS.get(), check))
    try:
        yield
    finally:
        CHECKS.reset(token)


def pull_asking(check: Check, pull: Callable[[], Any]) -> Any:
    """Call ``pull()`` with ``check`` among the stop requests (a cheaper :func:`stopping`).

    >>> pull_asking(lambda: True, requested)
    True
    """
    token = CHECKS.set((*CHECKS.get(), check))
    try:
        return pull()
    finally:
        CHECKS.reset(token)


def inherit(target: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a thread's ``target`` so it runs with the stop checks of the thread creating it.

    >>> import threading
    >>> seen = []
    >>> with stopping(lambda: True):
    ...     t = threading.Thread(target=inherit(lambda: seen.append(requested())))
    >>> t.start(); t.join()
    >>> seen
    [True]
    """
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> Any:
        return context.run(target, *args, **kwargs)

    return run
