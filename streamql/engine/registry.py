"""Engines: the one protocol every way of running a query follows, and their registry by name.

An engine computes one aggregation over the items of a plan::

    engine.run(plan, aggregation, settings, report) -> answer

``plan`` is the tuple of :class:`~streamql.core.plan.Step` a Stream holds;
``aggregation`` an :class:`~streamql.aggregates.Aggregate`, used only through
``start``, ``add_all``, ``merge`` and ``finish``; ``settings`` what the
Stream was set to (``workers``, planner ``options``, a Dask ``client``; see
:class:`EngineSettings`); ``report`` the :class:`~streamql.engine.local.RunReport`
to fill as the default engine fills it (rejects, the first reject, seconds,
whether the run completed). The answer is ``aggregation.finish(state)``.

Three are registered: ``"default"`` (this process), ``"processes"``
(forked workers, :mod:`streamql.engine.processes`) and ``"dask"``
(:mod:`streamql.engine.dask_engine`). The last two are imported on first use, so
neither multiprocessing nor Dask loads with streamql. A new engine is a class
with that one method, registered under a name; ``Stream.count(engine=name)``
and ``.using(name)`` then run it:

>>> from streamql import Stream
>>> from streamql.aggregates import Count
>>> class Counting:
...     def run(self, plan, aggregation, settings, report):
...         return len(plan)  # a toy: the number of steps
>>> register_engine("steps", Counting())
>>> engine_named("steps").run(Stream.lines("log").field(0).steps, Count(), None, None)
2
>>> Stream.lines("log").field(0).count(engine="steps")
2
>>> unregister_engine("steps")
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, cast

from ..aggregates import Aggregate
from ..core.plan import Step
from ..planner.optimize import Options, for_aggregate
from .local import RunReport, running
from .progress import Progress, observers

__all__ = [
    "Engine",
    "EngineSettings",
    "LocalEngine",
    "register_engine",
    "unregister_engine",
    "engine_named",
    "engine_names",
]


class EngineSettings(Protocol):
    """What an engine reads of a Stream's settings (``base.Settings`` has all of it)."""

    @property
    def workers(self) -> int | None: ...

    @property
    def options(self) -> Options: ...

    @property
    def client(self) -> Any: ...

    @property
    def progress(self) -> Progress | None: ...


class Engine(Protocol):
    """Runs a plan up to an aggregation's answer (see the module's docstring)."""

    def run(
        self,
        plan: tuple[Step, ...],
        aggregation: Aggregate,
        settings: EngineSettings,
        report: RunReport,
    ) -> Any: ...


class LocalEngine:
    """The default engine: the plan's chain in this process, folded into the aggregation.

    Where the planner can push the aggregation into the plan
    (:func:`~streamql.planner.optimize.for_aggregate`), the chain yields partial
    states, and the fold merges them. A progress bar, where the settings ask
    for one or a notebook shows one by default, watches the run
    (:mod:`streamql.engine.progress`).

    >>> import os, tempfile
    >>> from streamql import Stream
    >>> from streamql.aggregates import Sum
    >>> from streamql.api.base import Settings
    >>> path = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(path, "w") as f:
    ...     _ = f.write("a 1\\nb 2\\n")
    >>> report = RunReport()
    >>> LocalEngine().run(Stream.lines(path).field(1).map(int).steps, Sum(), Settings(), report)
    3
    >>> report.completed
    True
    """

    def run(
        self,
        plan: tuple[Step, ...],
        aggregation: Aggregate,
        settings: EngineSettings,
        report: RunReport,
    ) -> Any:
        steps, fold = for_aggregate(plan, aggregation, settings.options)
        # A pushed-down plan yields one state per block: a bar moves at each.
        every = 1 if fold is not aggregation else None
        bars = observers(steps, settings.progress, auto=True, every=every)
        with running(steps, report, options=settings.options, observers=bars) as items:
            state = fold.add_all(fold.start(), items)
        return fold.finish(state)


# Name -> engine; the built-in ones not used yet as (module, class), imported when first named.
_engines: dict[str, Engine | tuple[str, str]] = {
    "default": LocalEngine(),
    "processes": ("streamql.engine.processes", "ProcessesEngine"),
    "dask": ("streamql.engine.dask_engine", "DaskEngine"),
}


def register_engine(name: str, engine: Engine) -> None:
    """Make ``engine`` runnable as ``engine=name`` (replacing an engine of that name).

    >>> register_engine("local", LocalEngine())
    >>> type(engine_named("local")).__name__
    'LocalEngine'
    >>> unregister_engine("local")
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_engine: name must be a non-empty str, got {name!r}")
    if not callable(getattr(engine, "run", None)):
        raise TypeError(f"register_engine: engine must have a run() method, got {engine!r}")
    _engines[name] = engine


def unregister_engine(name: str) -> None:
    """Forget the engine registered as ``name`` (KeyError if there is none)."""
    if name == "default":
        raise ValueError("unregister_engine: the default engine stays")
    del _engines[name]


def engine_names() -> tuple[str, ...]:
    """Return the names engines are registered under, in the order they were registered.

    >>> engine_names()
    ('default', 'processes', 'dask')
    """
    return tuple(_engines)


def engine_named(name: str, stage: str | None = None) -> Engine:
    """Return the engine registered as ``name``; ValueError listing the names if there is none.

    >>> engine_named("spark", "using")
    Traceback (most recent call last):
    ...
    ValueError: using: engine must be one of ('default', 'processes', 'dask'), got 'spark'
    """
    engine = _engines.get(name) if isinstance(name, str) else None
    if engine is None:
        where = f"{stage}: " if stage else ""
        raise ValueError(f"{where}engine must be one of {engine_names()}, got {name!r}")
    if isinstance(engine, tuple):
        module, attribute = engine
        engine = cast(Engine, getattr(importlib.import_module(module), attribute)())
        _engines[name] = engine
    return engine
