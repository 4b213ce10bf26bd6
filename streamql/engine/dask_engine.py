"""The Dask engine: run a plan over parts of its files as Dask tasks, on one machine or many.

The multi-machine twin of :mod:`streamql.engine.processes`. The plan is cut into the
same parts (each compressed file whole, each plain file into byte ranges that
begin at line starts); each part runs up to a partial aggregate as one Dask
task; the partial results merge here in part order. So the answer is the one
the default engine gives, and so are the rejected-line counts.

Where the parts run:

- with ``client=`` (a ``distributed.Client``): on that cluster's workers,
  one part per task; ``workers`` (how many parts to aim for) defaults to the
  cluster's thread count;
- without: where ``dask.compute`` would run them. A scheduler set in
  ``dask.config`` wins; else the active ``distributed`` client, if there is
  one; else Dask's local ``"processes"`` scheduler with one process per core.
  Not Dask's ``"threads"`` default: parsing is pure Python, and threads would
  take turns at the GIL. The processes are spawned, so a script that runs a
  query needs the usual ``if __name__ == "__main__":`` guard; a program
  that spawn cannot start again (one read from standard input) gets forked
  processes instead, where the system has them.

The plan travels with cloudpickle, so lambdas in ``where`` or ``map`` work;
named functions travel by reference, so the workers need streamql and the
modules those functions live in. An error in a part reaches the caller as
its own type and message, even one whose arguments plain pickling cannot
rebuild (as Dask's local processes scheduler needs).

**Paths.** Every worker opens its files itself, by name, so all of them must
see the same files at the same paths: one machine, or a shared filesystem.
The parts' names are made absolute before they are sent, so a worker started
in another directory still finds them. Rejects are reported under the names
you gave; an error raised in a part names the absolute path.

Pointing it at a cluster::

    >>> from distributed import Client                        # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")                 # doctest: +SKIP
    >>> logs = Stream.lines("/shared/logs/access-log*").parse_apache()  # doctest: +SKIP
    >>> logs.using("dask", client=client).count_by("host")      # doctest: +SKIP

Run on this machine, here with Dask's synchronous scheduler:

>>> import dask, os, tempfile
>>> from streamql import Stream
>>> from streamql.aggregates import Sum
>>> path = os.path.join(tempfile.mkdtemp(), "log")
>>> with open(path, "w") as f:
...     _ = f.write("a 1\\nb 2\\nc 3\\n")
>>> with dask.config.set(scheduler="synchronous"):
...     Stream.lines(path).field(1).map(int).sum(engine="dask")
6
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import multiprocessing
import os
import pickle
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..aggregates import Aggregate
from ..core.errors import StreamError
from ..core.plan import Step
from ..planner.optimize import Options
from .local import RunReport
from .processes import (
    Part,
    PartFailed,
    PartResult,
    check_workers,
    merge_results,
    part_sizes,
    run_part,
    split_plan,
)
from .progress import PartsProgress, observers
from .registry import EngineSettings

__all__ = ["DaskEngine", "DaskClient"]

_MISSING_DASK = "engine='dask' needs Dask: pip install 'streamql[dask]'"
# Scheduler settings under which dask.compute would use the current distributed client
# (Client() and client.as_current() set "dask.distributed").
_FOR_A_CLIENT = (None, "dask.distributed", "distributed")
# With a progress bar, cut this many parts per worker: the bar moves as each part ends.
PARTS_PER_BAR_WORKER = 4


class DaskClient(Protocol):
    """What the engine uses of a ``distributed.Client``."""

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def gather(self, futures: Any, *args: Any, **kwargs: Any) -> Any: ...

    def cancel(self, futures: Any, *args: Any, **kwargs: Any) -> Any: ...

    def nthreads(self, *args: Any, **kwargs: Any) -> Any: ...


def _import_dask() -> Any:
    try:
        import dask
    except ImportError as exc:
        raise ImportError(_MISSING_DASK) from exc
    return dask


def _active_client() -> DaskClient | None:
    """The default ``distributed`` client, if the program has one (without importing it)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:  # the client dask.compute would pick: the current one, else the global default
        client: DaskClient = distributed.Client.current(allow_global=True)
    except ValueError:  # no client started
        return None
    return client


def _threads(client: DaskClient) -> int:
    return max(1, int(sum(client.nthreads().values())))


# ----------------------------------------------------------- sent to workers
class _Carried(Exception):
    """A part's exception that pickle cannot rebuild, sent home as type, args and attributes."""

    def __init__(self, payload: bytes, shown: str) -> None:
        super().__init__(payload, shown)
        self.payload, self.shown = payload, shown

    def __str__(self) -> str:
        return self.shown

    @classmethod
    def wrap(cls, exc: BaseException) -> _Carried | None:
        """Pack ``exc`` if it does not survive pickling; None if it does (or cannot be packed)."""
        cloudpickle: Any = importlib.import_module("cloudpickle")  # comes with dask

        try:
            if type(pickle.loads(cloudpickle.dumps(exc))) is type(exc):
                return None
        except Exception:
            pass
        state = {}
        for name, value in vars(exc).items():
            try:
                cloudpickle.dumps(value)
            except Exception:
                continue  # an attribute that cannot travel stays behind
            state[name] = value
        try:
            payload = cloudpickle.dumps((type(exc), exc.args, state))
        except Exception:
            return None
        return cls(payload, f"{type(exc).__name__}: {exc}")

    def rebuild(self) -> BaseException:
        """The original exception again: its type, ``args`` and attributes, not its ``__init__``."""
        kind, args, state = pickle.loads(self.payload)
        try:
            exc: BaseException = kind.__new__(kind)
            exc.args = args
            exc.__dict__.update(state)
        except Exception:
            return self  # a type that will not be rebuilt so: its name and message, at least
        return exc


def _task(
    part: Part,
    source: Callable[..., Any],
    options: dict[str, Any],
    rest: Sequence[Step],
    agg: Aggregate,
    plan: Options,
) -> PartResult:
    """Run one part in a worker, making its result and any error fit to travel."""
    state, rejected, first, skipped = run_part(part, source, options, rest, agg, plan)
    if isinstance(state, PartFailed):
        state.exc = _Carried.wrap(state.exc) or state.exc
    return state, rejected, first, skipped


# ------------------------------------------------------------------- engine
class DaskEngine:
    """The Dask engine: the plan's parts as Dask tasks, one per part, merged in part order.

    Terminal; each worker streams its part, holding only its partial state;
    the partial states are merged here. ``settings.client`` is the cluster
    (see the module's docstring for where the parts run without one);
    ``settings.workers`` how many parts to aim for (default: the cluster's
    threads with a client, else every core); ``settings.options`` are the
    planner's, applied to each part's plan. Raises ValueError when the plan
    cannot run in parts, and a part's own exception when one fails: that of
    the first part, in order, that failed.

    >>> import dask, os, tempfile
    >>> from streamql import Stream
    >>> from streamql.aggregates import Count, Max, Many
    >>> from streamql.api.base import Settings
    >>> path = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(path, "w") as f:
    ...     _ = f.write("GET /a 200\\nGET /b 404\\nGET /c 200\\n")
    >>> plan = Stream.lines(path).field(1).steps
    >>> with dask.config.set(scheduler="synchronous"):
    ...     DaskEngine().run(plan, Many({"n": Count(), "last": Max()}), Settings(), RunReport())
    {'n': 3, 'last': '/c'}
    """

    def run(
        self,
        plan: tuple[Step, ...],
        aggregation: Aggregate,
        settings: EngineSettings,
        report: RunReport,
    ) -> Any:
        dask = _import_dask()
        check_workers("dask", settings.workers)
        client: DaskClient | None = settings.client
        if client is not None and not callable(getattr(client, "submit", None)):
            raise TypeError(f"engine='dask': client must be a distributed.Client, got {client!r}")
        if client is None and dask.config.get("scheduler", None) in _FOR_A_CLIENT:
            client = _active_client()
        workers = settings.workers
        if workers is None:
            workers = _threads(client) if client is not None else (os.cpu_count() or 1)
        bars = observers(plan, settings.progress, auto=True)
        aim = workers * PARTS_PER_BAR_WORKER if bars else workers
        parts, source, found, rest = split_plan(plan, aim, "dask")
        report.completed, report.rejected, report.first_reject = False, {}, None
        start = time.perf_counter()
        try:
            if not parts:
                report.completed = True
                return aggregation.finish(aggregation.start())
            shared = [dataclasses.replace(p, path=os.path.abspath(p.path)) for p in parts]
            names = {s.path: p.path for s, p in zip(shared, parts, strict=True)}
            options = settings.options
            tasks = [
                functools.partial(_task, p, source, found, rest, aggregation, options)
                for p in shared
            ]
            with PartsProgress(bars, part_sizes(parts)) as watch:
                if client is not None:
                    results = _on_client(client, tasks, watch)
                else:
                    results = _on_scheduler(dask, tasks, workers, watch)
            home = [_home(result, names) for result in results]
            return merge_results(aggregation, home, report)
        finally:
            report.seconds = time.perf_counter() - start


def _on_client(
    client: DaskClient, tasks: Sequence[Callable[[], PartResult]], watch: PartsProgress
) -> list[PartResult]:
    """Run the tasks on a ``distributed`` cluster; cancel them all if one fails."""
    name = f"streamql-part-{uuid.uuid4().hex}"  # a name of its own: files change between runs
    futures = [client.submit(task, key=(name, i)) for i, task in enumerate(tasks)]
    try:
        if watch.bars:
            index = {future.key: i for i, future in enumerate(futures)}
            ended = importlib.import_module("distributed").as_completed
            for future in ended(futures, loop=getattr(client, "loop", None)):
                watch.finished(index[future.key])
        results: list[PartResult] = client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise
    return results


def _on_scheduler(
    dask: Any, tasks: Sequence[Callable[[], PartResult]], workers: int, watch: PartsProgress
) -> list[PartResult]:
    """Run the tasks with ``dask.compute``: the configured scheduler, else local processes."""
    delayed = [dask.delayed(task, pure=False)() for task in tasks]
    if watch.bars:  # the local schedulers call back here as each task ends
        index = {d.key: i for i, d in enumerate(delayed)}

        def ended(key: Any, *rest: Any) -> None:
            if key in index:
                watch.finished(index[key])

        callback = importlib.import_module("dask.callbacks").Callback(posttask=ended)
        with callback:
            return _compute(dask, delayed, workers)
    return _compute(dask, delayed, workers)


def _compute(dask: Any, delayed: list[Any], workers: int) -> list[PartResult]:
    if dask.config.get("scheduler", None) is not None:
        return list(dask.compute(*delayed))
    # chunksize=1: hand out one part at a time, so no process idles while another holds six.
    try:
        with dask.config.set({"multiprocessing.context": _start_method()}):
            found = dask.compute(
                *delayed, scheduler="processes", num_workers=min(workers, len(delayed)), chunksize=1
            )
    except BrokenProcessPool as exc:
        raise StreamError(
            "engine='dask': a local worker process died (killed by a signal, or out of memory)"
            "\n\nTry fewer workers, or the default engine."
        ) from exc
    return list(found)


def _start_method() -> str:
    """Dask's start method for local processes, or "fork" where spawn cannot restart the program.

    Spawn runs the main module again in each process, by its file name; a
    program read from standard input is named ``<stdin>``, no file, and
    every process would fail to start.
    """
    configured = str(importlib.import_module("dask").config.get("multiprocessing.context", "spawn"))
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    restartable = path is None or os.path.exists(path)
    if configured == "fork" or restartable:
        return configured
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else configured


def _home(result: PartResult, names: dict[str, str]) -> PartResult:
    """Undo what the trip changed: the absolute path of the first reject, a carried error."""
    state, rejected, first, skipped = result
    if isinstance(state, PartFailed) and isinstance(state.exc, _Carried):
        state.exc = state.exc.rebuild()
    if first is not None and first.get("file") in names:
        first = {**first, "file": names[first["file"]]}
    return state, rejected, first, skipped
