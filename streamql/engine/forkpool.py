"""Forked workers that never leave the caller waiting on a dead one, nor outlive the run.

:func:`map_forked` runs ``func(0)``, ``func(1)``… in forked worker processes,
one index at a time per worker, and returns the results in index order. The
function travels by the fork itself (nothing is pickled on the way out, so a
closure over lambdas works); only the results travel home, pickled, each over
its worker's own pipe. It forks with :func:`os.fork` and talks over
:func:`os.pipe`, not through :mod:`multiprocessing`, which would cost a first
run more to import than the whole engine does.

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
- A worker reports how far it got (:func:`report_progress`, e.g. bytes
  read, for a progress bar): the message travels home over the same pipe,
  between results, and the parent hands it to ``progress``.
- The parent is killed outright: on Linux each worker asked the kernel to
  kill it with its parent; elsewhere it ends when it next asks for work and
  finds the pipe closed.

Every run ends with its workers reaped: none is left behind, whatever happened.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from ..core.errors import StreamError

__all__ = ["map_forked", "report_progress", "WorkerDied"]

R = TypeVar("R")

# How long a stopped worker gets to end on SIGTERM before it is sent SIGKILL.
_GRACE_SECONDS = 2.0
_SIZE = struct.Struct("!Q")  # each message: its length, then its pickle
_STOP = -1  # the index that tells a worker to end


class WorkerDied(StreamError):
    """A worker process ended without sending its result (killed, or crashed)."""

    def __init__(self, message: str, index: int, exitcode: int | None) -> None:
        super().__init__(message)
        self.index, self.exitcode = index, exitcode


class _Unsendable:
    """Sent home instead of a result that cannot be pickled: why it cannot."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Progress:
    """Sent home between results: how far the worker is with its current index."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


# In a worker: the pipe home and the index it runs (None outside a worker).
_reporting: tuple[int, int] | None = None


def report_progress(value: Any) -> None:
    """In a worker of :func:`map_forked`, send ``value`` home to its ``progress``; else nothing.

    A no-op outside a worker, so a function may call it wherever it runs.

    >>> report_progress(100)
    >>> seen = []
    >>> map_forked(lambda i: report_progress(i) or i, 2, 1, progress=lambda i, v: seen.append(v))
    [0, 1]
    >>> seen
    [0, 1]
    """
    if _reporting is None:
        return
    fd, index = _reporting
    with suppress(OSError):  # the parent went: the worker finds out when it sends its result
        _write(fd, pickle.dumps((index, _Progress(value)), pickle.HIGHEST_PROTOCOL))


class _Terminated(BaseException):
    """SIGTERM reached the parent during a run (raised by the handler, re-sent after cleanup)."""


@dataclass
class _Worker:
    pid: int
    orders: int  # the parent's end of the pipe that carries indexes down
    results: int  # the parent's end of the pipe that carries results up
    exitcode: int | None = None  # as multiprocessing gives it: -N for killed by signal N

    def reap(self, block: bool = True) -> bool:
        """Collect the exit status if the worker has ended; whether it has."""
        if self.exitcode is None:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            if pid == 0:
                return False
            self.exitcode = os.waitstatus_to_exitcode(status)
        return True


def _write(fd: int, payload: bytes) -> None:
    data = memoryview(_SIZE.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _read(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int) -> Any:
    (size,) = _SIZE.unpack(_read(fd, _SIZE.size))
    return pickle.loads(_read(fd, size))


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


def _died(worker: _Worker, index: int, describe: Callable[[int], str]) -> WorkerDied:
    _stop([worker])
    return WorkerDied(
        f"a worker process (pid {worker.pid}) died while it ran {describe(index)}: "
        f"{_how_it_ended(worker.exitcode)}\n\n"
        "A SIGKILL is often the kernel's out-of-memory killer: try fewer workers, "
        "or the default engine.",
        index,
        worker.exitcode,
    )


def _serve(func: Callable[[int], Any], orders: int, results: int) -> None:
    """A worker: run ``func`` on each index the parent sends, until it sends _STOP or goes."""
    global _reporting
    while True:
        try:
            index = _receive(orders)
        except (EOFError, OSError):
            return
        if index == _STOP:
            return
        _reporting = (results, index)
        try:
            result = func(index)
        finally:
            _reporting = None
        try:
            payload = pickle.dumps((index, result), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # it does not pickle
            payload = pickle.dumps((index, _Unsendable(f"{type(exc).__name__}: {exc}")))
        try:
            _write(results, payload)
        except OSError:
            return  # the parent went


def _start(func: Callable[[int], Any], workers: list[_Worker]) -> _Worker:
    """Fork one worker, with a pipe each way; the parent's other pipes closed in it."""
    down_read, down_write = os.pipe()
    up_read, up_write = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # or the child would write out their buffers again
        with suppress(Exception):
            stream.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's, forked with it
            _die_with_parent(parent)
            for fd in (down_write, up_read, *(f for w in workers for f in (w.orders, w.results))):
                os.close(fd)
            _serve(func, down_read, up_write)
            code = 0
        except BaseException:
            with suppress(Exception):
                traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with suppress(Exception):
                    stream.flush()
            os._exit(code)
    os.close(down_read)
    os.close(up_write)
    return _Worker(pid, down_write, up_read)


def _stop(workers: list[_Worker]) -> None:
    """End every worker: close its pipes; SIGTERM, then SIGKILL after a grace period; reap all."""
    for worker in workers:
        for fd in (worker.orders, worker.results):
            with suppress(OSError):
                os.close(fd)
        worker.orders = worker.results = -1
        if not worker.reap(block=False):
            with suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    for worker in workers:
        while not worker.reap(block=False) and time.monotonic() < deadline:
            time.sleep(0.005)
        if not worker.reap(block=False):
            with suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            worker.reap()


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
    progress: Callable[[int, Any], None] | None = None,
) -> list[R]:
    """Return ``[func(0), …, func(count - 1)]``, computed in up to ``workers`` forked processes.

    Terminal; holds the results. Ends early, with the results up to and
    including the first, in index order, for which ``stop`` is true. Raises
    :class:`WorkerDied` (its text names ``describe(index)``) as soon as a
    worker dies without its result; workers are reaped before it returns or
    raises. POSIX only (it forks).

    >>> map_forked(lambda i: i * i, 5, workers=2)
    [0, 1, 4, 9, 16]
    >>> map_forked(lambda i: i, 5, workers=2, stop=lambda r: r == 2)
    [0, 1, 2]
    """
    if count == 0:
        return []
    results: dict[int, R] = {}
    started: list[_Worker] = []
    running: dict[int, tuple[int, _Worker]] = {}  # results fd -> (index, worker)
    todo = iter(range(count))
    with _sigterm_unwinds():
        try:
            for _ in range(min(workers, count)):
                worker = _start(func, started)
                started.append(worker)
                index = next(todo)
                _write(worker.orders, pickle.dumps(index))
                running[worker.results] = (index, worker)
            poller = select.poll()
            for fd in running:
                poller.register(fd, select.POLLIN)
            done = 0  # results[0:done] are all in
            while done < count:
                for fd, _event in poller.poll():
                    index, worker = running.pop(fd)
                    try:
                        got, result = _receive(fd)
                        if isinstance(result, _Progress):
                            running[fd] = (index, worker)
                            if progress is not None:
                                progress(got, result.value)
                            continue
                        if isinstance(result, _Unsendable):
                            raise StreamError(
                                f"the result of {describe(got)} cannot be pickled home: "
                                f"{result.reason}"
                            )
                        results[got] = result
                        index = next(todo, _STOP)
                        _write(worker.orders, pickle.dumps(index))
                    except (EOFError, OSError):
                        if index != _STOP:
                            raise _died(worker, index, describe) from None
                    if index == _STOP:
                        poller.unregister(fd)
                    else:
                        running[fd] = (index, worker)
                while done in results:
                    done += 1
                    if stop(results[done - 1]):
                        return [results[i] for i in range(done)]
            return [results[i] for i in range(count)]
        finally:
            _stop(started)
