"""Forked workers that never leave the caller waiting on a dead one, nor outlive the run.

:func:`map_forked` runs ``func(0)``, ``func(1)``… in forked worker processes,
one index at a time per worker, and returns the results in index order. The
function travels by the fork itself (nothing is pickled on the way out, so a
closure over lambdas works); only the results travel home, pickled, each over
its worker's own pipe.

What can go wrong, and what happens:

- A worker dies (SIGKILL, an out-of-memory kill, a crash in C): its pipe
  closes, which the parent sees at once, and :class:`WorkerDied` is raised,
  naming the index it was running and the signal or exit status.
- A result says to stop (``stop(result)`` is true, e.g. an error that must be
  raised): the parent stops as soon as every earlier index is in, so the
  first such result *in index order* wins, and the workers still running are
  killed instead of awaited.
- SIGINT (KeyboardInterrupt) or SIGTERM reaches the parent: the workers are
  killed before the exception leaves, and a SIGTERM is then delivered again
  with its default action, so the process still ends by it. Workers ignore
  SIGINT themselves (a terminal's Ctrl-C reaches the whole group; the parent
  answers for them).
- The parent is killed outright: on Linux each worker asked the kernel to
  kill it with its parent; elsewhere it ends when it next asks for work and
  finds the pipe closed.

Every run ends with its workers joined: none is left behind, whatever happened.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any, TypeVar, cast

from .errors import StreamError

__all__ = ["map_forked", "WorkerDied"]

R = TypeVar("R")
Process = multiprocessing.process.BaseProcess

# How long a stopped worker gets to end on SIGTERM before it is sent SIGKILL.
_GRACE_SECONDS = 2.0


class WorkerDied(StreamError):
    """A worker process ended without sending its result (killed, or crashed)."""

    def __init__(self, message: str, index: int, exitcode: int | None) -> None:
        super().__init__(message)
        self.index, self.exitcode = index, exitcode


class _Unsendable:
    """Sent home instead of a result that cannot be pickled: why it cannot."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Terminated(BaseException):
    """SIGTERM reached the parent during a run (raised by the handler, re-sent after cleanup)."""


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "its pipe closed while it still ran"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent goes (a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent went before the request took hold
        os._exit(1)


def _died(worker: Process, index: int, describe: Callable[[int], str]) -> WorkerDied:
    worker.join(_GRACE_SECONDS)
    return WorkerDied(
        f"a worker process (pid {worker.pid}) died while it ran {describe(index)}: "
        f"{_how_it_ended(worker.exitcode)}\n\n"
        "A SIGKILL is often the kernel's out-of-memory killer: try fewer workers, "
        "or the default engine.",
        index,
        worker.exitcode,
    )


def _serve(
    func: Callable[[int], Any], conn: Connection, inherited: Sequence[Connection], parent: int
) -> None:
    """A worker: run ``func`` on each index the parent sends, until it sends None or goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, forked with it
    _die_with_parent(parent)
    for other in inherited:  # the parent's ends of the pipes: only the parent may hold them
        other.close()
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        if index is None:
            return
        result = func(index)
        try:
            conn.send((index, result))
        except OSError:
            return  # the parent went
        except Exception as exc:  # it does not pickle: nothing was sent
            conn.send((index, _Unsendable(f"{type(exc).__name__}: {exc}")))


def _start(
    fork: Any, func: Callable[[int], Any], ends: list[Connection]
) -> tuple[Connection, Process]:
    """Fork one worker; return the parent's end of its pipe (added to ``ends``) and it."""
    mine, theirs = fork.Pipe()
    ends.append(mine)
    worker: Process = fork.Process(
        target=_serve, args=(func, theirs, list(ends), os.getpid()), daemon=True
    )
    worker.start()
    theirs.close()  # now only the worker holds it: its end closes when the worker goes
    return mine, worker


def _stop(workers: Sequence[Process]) -> None:
    """End every worker still running: SIGTERM, then SIGKILL after a grace period; join all."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(_GRACE_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into an exception while the block runs, so ``finally`` clauses run.

    Only in the main thread and only over the default action; another
    handler a program installed is left alone. After the block the signal
    is sent again with its default action: the process ends by it, as it
    would have, with its workers gone first.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise  # only reached where the signal is held back
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def map_forked(
    func: Callable[[int], R],
    count: int,
    workers: int,
    stop: Callable[[R], bool] = lambda result: False,
    describe: Callable[[int], str] = str,
) -> list[R]:
    """Return ``[func(0), …, func(count - 1)]``, computed in up to ``workers`` forked processes.

    Terminal; holds the results. Ends early, with the results up to and
    including the first, in index order, for which ``stop`` is true. Raises
    :class:`WorkerDied` (its text names ``describe(index)``) as soon as a
    worker dies without its result; workers are joined before it returns or
    raises. POSIX only (it forks).

    >>> map_forked(lambda i: i * i, 5, workers=2)
    [0, 1, 4, 9, 16]
    >>> map_forked(lambda i: i, 5, workers=2, stop=lambda r: r == 2)
    [0, 1, 2]
    """
    if count == 0:
        return []
    fork = multiprocessing.get_context("fork")
    results: dict[int, R] = {}
    running: dict[Connection, tuple[int, Process]] = {}
    started: list[Process] = []
    ends: list[Connection] = []
    todo = iter(range(count))
    with _sigterm_unwinds():
        try:
            for _ in range(min(workers, count)):
                mine, worker = _start(fork, func, ends)
                started.append(worker)
                index = next(todo)
                mine.send(index)
                running[mine] = (index, worker)
            done = 0  # results[0:done] are all in
            while done < count:
                for ready in wait(list(running)):
                    conn = cast(Connection, ready)
                    index, worker = running.pop(conn)
                    try:
                        got, result = conn.recv()
                        if isinstance(result, _Unsendable):
                            raise StreamError(
                                f"the result of {describe(got)} cannot be pickled home: "
                                f"{result.reason}"
                            )
                        results[got] = result
                        index = next(todo, -1)
                        conn.send(None if index < 0 else index)
                    except (EOFError, OSError):
                        if index >= 0:
                            raise _died(worker, index, describe) from None
                        continue  # it sent its last result, and went before it was told to
                    if index >= 0:
                        running[conn] = (index, worker)
                while done in results:
                    done += 1
                    if stop(results[done - 1]):
                        return [results[i] for i in range(done)]
            return [results[i] for i in range(count)]
        finally:
            for conn in ends:
                conn.close()
            _stop(started)
