"""A process pool stage: map a CPU-heavy function over a stream in other processes, in order.

Threads do not speed up pure-Python work (one interpreter lock); processes do.
Items travel to the workers in chunks, pickled, so the function must be
importable (a module-level function, not a lambda) and items picklable.
multiprocessing and concurrent.futures load at the first run, not with streamql.
"""

from __future__ import annotations

import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from ..engine.forkpool import WorkerDied

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["parallel_map"]

T = TypeVar("T")
U = TypeVar("U")


def _apply(func: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    return [func(item) for item in chunk]


def parallel_map(
    func: Callable[[T], U],
    items: Iterable[T],
    *,
    processes: int | None = None,
    chunksize: int = 256,
) -> Iterator[U]:
    """Yield ``func(item)`` for every item, computed in a pool of processes, in input order.

    Lazy: the pool starts at the first ``next()`` and is shut down when the
    iterator ends or is closed (pending chunks are cancelled). Memory: at most
    ``2 * processes`` chunks of ``chunksize`` items in flight. Items are sent in
    whole chunks, so this is for bulk work; a live stream's item waits until
    its chunk fills. An exception in ``func`` is raised here; a worker process
    that dies (killed, out of memory, a crash in C) raises
    :class:`~streamql.engine.forkpool.WorkerDied`, naming the items it held.

    >>> list(parallel_map(abs, [-1, 2, -3], processes=2, chunksize=2))
    [1, 2, 3]
    """
    if not callable(func):
        raise TypeError(f"parallel_map: func must be callable, got {func!r}")
    try:
        pickle.dumps(func)
    except Exception as exc:
        raise TypeError(
            f"parallel_map: func must be picklable to reach the worker processes, got {func!r}\n\n"
            "Use a function defined at the top level of a module, not a lambda or local function."
        ) from exc
    if processes is None:
        processes = os.cpu_count() or 1
    for name, value in (("processes", processes), ("chunksize", chunksize)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"parallel_map: {name} must be an int >= 1, got {value!r}")
    return _parallel_map(func, items, processes, chunksize)


def _context() -> Any:
    # Not "fork": forking a process that runs threads can copy a held lock.
    import multiprocessing  # heavy, and needed only here: loaded on first use

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _parallel_map(
    func: Callable[[Any], Any], items: Iterable[Any], processes: int, chunksize: int
) -> Iterator[Any]:
    from concurrent.futures import ProcessPoolExecutor  # heavy: loaded on first use
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(processes, mp_context=_context())
    pending: deque[Future[list[Any]]] = deque()
    it = iter(items)
    first = 0  # the index of the first item of the chunk pending[0]
    try:
        while True:
            while len(pending) < 2 * processes:
                chunk = list(islice(it, chunksize))
                if not chunk:
                    break
                pending.append(pool.submit(_apply, func, chunk))
            if not pending:
                return
            try:
                done = pending.popleft().result()
            except BrokenProcessPool as exc:
                raise WorkerDied(
                    f"parallel_map: a worker process died while the pool ran items {first:,} "
                    f"to {first + chunksize - 1:,} or after: {exc}\n\n"
                    "A SIGKILL is often the kernel's out-of-memory killer: try fewer "
                    "processes or a smaller chunksize.",
                    first,
                    None,
                ) from exc
            first += len(done)
            yield from done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
