"""The plan plumbing every Stream method builds on: steps, repr, explain, running.

``StreamBase`` holds an immutable tuple of steps and knows how to add one, show
the plan, and run it through the engine. ``Stream`` (in ``stream.py``) and the
domain method groups it inherits add the chainable methods, each a short
delegate to a plain function.
"""

from __future__ import annotations

import dataclasses
import os
import reprlib
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .. import aggregates
from ..core.context import Reject, RunContext
from ..core.defaults import MISSING
from ..core.errors import StreamError
from ..core.expr import Expr
from ..core.plan import Step
from ..core.schema import Schema, schema_of
from ..engine import progress
from ..engine.local import RunReport, execute, running
from ..engine.progress import Progress
from ..engine.registry import engine_named
from ..ops import files
from ..planner.optimize import DEFAULT as DEFAULT_OPTIONS
from ..planner.optimize import Options
from .explain import Explanation, explain_plan

if TYPE_CHECKING:
    from .stream import Stream

__all__ = [
    "MISSING",
    "StreamBase",
    "Explanation",
    "Source",
    "check_path",
    "set_replay",
    "pending_replay",
]

T = TypeVar("T")
U = TypeVar("U")


class Source:
    """A source value; a one-shot one (iterator, open file) refuses a second run."""

    __slots__ = ("one_shot", "used", "value")

    def __init__(self, value: Any, one_shot: bool) -> None:
        self.value = value
        self.one_shot = one_shot
        self.used = False

    def take(self, stage: str) -> Any:
        if self.one_shot:
            if self.used:
                raise StreamError(
                    f"{stage}: the one-shot source {self!r} was consumed by an earlier run\n\n"
                    "Build the Stream from a list, a path, or a source that reads afresh on "
                    "every run (Stream.lines, Stream.files), to run it more than once."
                )
            self.used = True
        return self.value

    def __repr__(self) -> str:
        return reprlib.repr(self.value)


def _from_iterable(source: Source, *, ctx: RunContext) -> Iterator[Any]:
    return files.items(source.take("Stream"), ctx=ctx)


def _rejects_of(upstream: Iterable[Any], *, ctx: RunContext) -> Iterator[Reject]:
    sink: deque[Reject] = deque()
    ctx.sink = sink
    for _ in upstream:
        while sink:
            yield sink.popleft()
    while sink:
        yield sink.popleft()


# What a peek (streamql.display.show: show, the notebook preview) took from a one-shot
# source, keyed by the id of the source step every Stream built on it shares:
# the next real run starts with this replaying step instead, losing nothing.
_replays: dict[int, Step] = {}


def set_replay(source: Step, replay: Step) -> None:
    """Make the next run of every plan starting with ``source`` start with ``replay``."""
    key = id(source)
    if key not in _replays:
        weakref.finalize(source, _replays.pop, key, None)
    _replays[key] = replay


def pending_replay(source: Step) -> Step | None:
    """Return the replaying step a peek left for ``source``, if any (it stays pending)."""
    return _replays.get(id(source))


def check_path(stage: str, path: object) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{stage}: expected a path, got {path!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How a Stream's terminals run it: engine, worker count, planner options."""

    engine: str = "default"
    workers: int | None = None
    options: Options = DEFAULT_OPTIONS
    client: Any = None  # a distributed.Client, for engine="dask"
    progress: Progress | None = None  # a bar on every run (.progress()); None: automatic

    def render(self) -> str:
        """Show the settings as the calls that made them ('' if default)."""
        bar = self.progress.render() if self.progress is not None else ""
        parts = []
        if self.engine != "default":
            parts.append(f"engine={self.engine!r}")
        if self.workers is not None:
            parts.append(f"workers={self.workers}")
        if self.options != DEFAULT_OPTIONS:
            parts.append(f"options={self.options!r}")
        if self.client is not None:
            parts.append("client=...")
        return bar + (f".using({', '.join(parts)})" if parts else "")


DEFAULT_SETTINGS = Settings()


class StreamBase(Generic[T]):
    """A plan of steps, and the machinery to grow, show and run it."""

    __slots__ = ("_settings", "_steps", "last_run")

    _settings: Settings
    _steps: tuple[Step, ...]
    last_run: RunReport
    """What the latest run of this Stream object did (rejects, time, completed)."""

    def __init__(self, iterable: Iterable[T]) -> None:
        self._settings = DEFAULT_SETTINGS
        if isinstance(iterable, StreamBase):
            self._steps = iterable._steps
            self._settings = iterable._settings
        else:
            if isinstance(iterable, (str, bytes)):
                raise TypeError(
                    f"Stream: expected an iterable of items, got the string {iterable!r}\n\n"
                    "To read a file, use Stream.lines(path)."
                )
            if not isinstance(iterable, Iterable):
                raise TypeError(f"Stream: expected an iterable, got {iterable!r}")
            source = Source(iterable, one_shot=iter(iterable) is iterable)
            self._steps = (
                Step(
                    "Stream",
                    _from_iterable,
                    (source,),
                    source=True,
                    one_shot=source.one_shot,
                    uses_ctx=True,
                ),
            )
        self.last_run = RunReport()

    # ------------------------------------------------------------------ plan
    @classmethod
    def _of(cls, steps: tuple[Step, ...], settings: Settings = DEFAULT_SETTINGS) -> Stream[Any]:
        # Always called on Stream itself (or through an instance of it).
        new = cast("Stream[Any]", object.__new__(cls))
        new._steps = steps
        new._settings = settings
        new.last_run = RunReport()
        return new

    def _then(
        self,
        name: str,
        func: Callable[..., Iterator[Any]],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        /,
        **declared: Any,
    ) -> Stream[Any]:
        """Add the step ``func(*args, items, **kwargs)``, checking its arguments now.

        The arguments are checked by calling ``func`` on no data. ``declared``
        holds the step's declared properties (the fields of :class:`Step`),
        which never reach ``func``.
        """
        kwargs = kwargs or {}
        probe = func(*args, (), **kwargs)
        if hasattr(probe, "close"):
            probe.close()
        step = Step(name, func, tuple(args), tuple(kwargs.items()), **declared)
        return self._add(step)

    def _add(self, step: Step) -> Stream[Any]:
        """Return a new Stream: this plan plus ``step`` (arguments already checked)."""
        return self._of((*self._steps, step), self._settings)

    def using(
        self,
        engine: str | None = None,
        *,
        workers: int | None = None,
        options: Options | None = None,
        client: Any = None,
    ) -> Stream[T]:
        """Return this query set to run its terminals with ``engine`` and planner ``options``.

        ``engine="processes"`` (with ``workers``, default: every core) makes
        every terminal of the query, and of queries built on it, run in worker
        processes (see :mod:`streamql.engine.processes`); ``engine="dask"`` runs the
        same parts as Dask tasks, on the cluster of ``client`` (a
        ``distributed.Client``) if given (see :mod:`streamql.engine.dask_engine`).
        A terminal's own ``engine=`` still wins. ``options`` switches the
        planner's rewrites (:class:`streamql.planner.optimize.Options`). Nothing runs.

        >>> from streamql import Stream
        >>> from streamql.planner.optimize import Options
        >>> s = Stream.lines("log").using(engine="processes", options=Options(prescan=False))
        >>> s
        Stream.lines('log').using(engine='processes', options=Options(prescan=False))
        >>> s.field(0)
        Stream.lines('log').field(0).using(engine='processes', options=Options(prescan=False))
        """
        current = self._settings
        if engine is not None:
            engine_named(engine, "using")  # a ValueError naming the engines there are
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"using: workers must be an int >= 1, got {workers!r}")
        if options is not None and not isinstance(options, Options):
            raise TypeError(f"using: options must be an optimize.Options, got {options!r}")
        if client is not None and not callable(getattr(client, "submit", None)):
            raise TypeError(f"using: client must be a distributed.Client, got {client!r}")
        settings = dataclasses.replace(
            current,
            engine=engine or current.engine,
            workers=workers if workers is not None else current.workers,
            options=options or current.options,
            client=client if client is not None else current.client,
        )
        return cast("Stream[T]", self._of(self._steps, settings))

    def parallel(self, workers: int | None = None) -> Stream[T]:
        """Return this query set to run its terminals in ``workers`` processes (default: all cores).

        Short for ``.using("processes", workers=workers)``.

        >>> from streamql import Stream
        >>> Stream.lines("log").parallel(4)
        Stream.lines('log').using(engine='processes', workers=4)
        """
        return self.using("processes", workers=workers)

    def _plan(self) -> tuple[Step, ...]:
        """The steps a run executes: the plan, its source replaced by a pending replay."""
        replay = _replays.pop(id(self._steps[0]), None)
        return self._steps if replay is None else (replay, *self._steps[1:])

    @property
    def schema(self) -> Schema | None:
        """The schema of this query's records, where its steps declare it (else None).

        >>> from streamql import Stream
        >>> Stream.lines("log").parse_apache().where(status=404).schema.names[:3]
        ('host', 'ident', 'user')
        >>> Stream.lines("log").map(str).schema is None
        True
        """
        return schema_of(self._steps)

    def _check_fields(self, stage: str, names: Iterable[str]) -> None:
        """Refuse, before anything runs, a field the query's records cannot have."""
        schema = self.schema
        if schema is not None:
            schema.require(stage, [n for n in names if isinstance(n, str)])

    @property
    def steps(self) -> tuple[Step, ...]:
        """The plan: the steps of this query, source first.

        >>> from streamql import Stream
        >>> [step.name for step in Stream([1]).map(str).steps]
        ['Stream', 'map']
        """
        return self._steps

    def __repr__(self) -> str:
        first, rest = self._steps[0], self._steps[1:]
        text = (
            f"Stream({first.args[0]!r})" if first.name == "Stream" else f"Stream.{first.render()}"
        )
        for step in rest:
            text += ".rejects" if step.name == "rejects" else f".{step.render()}"
        return text + self._settings.render()

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a Stream is unknown until it runs\n\n"
            "Ask what you mean: s.count() > 0, or s.first(default=None) is not None."
        )

    def explain(self, analyze: bool = False, *, aggregate: Any = None) -> Explanation:
        """Describe the plan step by step; with ``analyze=True``, run it and say what each did.

        The first line is the query as written; the steps are the plan as it
        will run, where the planner rewrote a step it says so
        (see :mod:`streamql.planner.optimize`). Without ``analyze`` nothing is read.
        With it, the query runs to its end
        (do not analyse an endless stream without ``take``/``until``) and each
        step shows the items it passed on, the items it rejected, and the time
        spent in it alone, then the bytes of the named files it read.

        ``aggregate`` (an aggregation, as ``.aggregate()`` takes) explains the
        query as that terminal would run it, which the planner may push down
        into the parser: ``log.explain(aggregate=Sum("bytes"))`` shows how
        ``log.sum("bytes")`` runs.

        >>> from streamql import Stream
        >>> print(Stream([1, 2]).map(str).take(1).explain())
        Stream([1, 2]).map(str).take(1)
        <BLANKLINE>
          1. Stream([1, 2])    source
          2. map(str)          row-wise
          3. take(1)           not row-wise
        >>> report = Stream(["a 1", "", "b 2"]).field(1).explain(analyze=True)
        >>> for line in report.splitlines()[2:]:  # doctest: +ELLIPSIS
        ...     print(line)
          1. Stream(['a 1', '', 'b 2'])    source                 ...3 out ... s
          2. field(1)                      row-wise, may reject ...3 in ...2 out ...1 rejected ... s
        ran in ... s: 2 items out, 1 rejected
        """
        return explain_plan(self, analyze, aggregate)

    def __iter__(self) -> Iterator[T]:
        """Run the query, yielding its items; closing the iterator closes every stage."""
        steps, settings = self._plan(), self._settings
        bars = progress.observers(steps, settings.progress)
        return _quiet_interrupt(execute(steps, self.last_run, settings.options, bars), self)

    def _answer(self, agg: aggregates.Aggregate, engine: str | None = None) -> Any:
        """Run a terminal's aggregation with the engine registered by that name.

        The query's engine unless ``engine`` names another; every engine takes
        the same plan, aggregation, settings and report (:mod:`streamql.engine.registry`).
        """
        for part in agg.aggs.values() if isinstance(agg, aggregates.Many) else (agg,):
            read = part.fields_read()
            if isinstance(part.where, Expr):
                read |= part.where.fields()
            self._check_fields(part.name, read)
        chosen = engine_named(engine or self._settings.engine)
        try:
            return chosen.run(self._plan(), agg, self._settings, self.last_run)
        except KeyboardInterrupt:
            raise interrupted(agg.name, self.last_run) from None

    def _run(self, consume: Callable[[Iterator[Any]], U]) -> U:
        """Run the plan into ``consume`` (a sink such as ``write`` or ``send_to``)."""
        steps, settings = self._plan(), self._settings
        bars = progress.observers(steps, settings.progress, auto=True)
        try:
            with running(steps, self.last_run, options=settings.options, observers=bars) as it:
                return consume(it)
        except KeyboardInterrupt:
            raise interrupted(getattr(consume, "__name__", "run"), self.last_run) from None

    @property
    def rejects(self) -> Stream[Reject]:
        """The items this query rejects, as records (stage, reason, line, file, lineno).

        Running it runs the query and yields what its stages refused, so
        ``log.count() + log.rejects.count()`` accounts for every line read.

        >>> from streamql import Stream
        >>> Stream(["a b", "", "c d"]).field(1).rejects.list()
        [{'stage': 'field', 'reason': 'no column 1', 'line': '', 'file': None, 'lineno': 2}]
        """
        step = Step("rejects", _rejects_of, rowwise=False, uses_ctx=True)
        return self._add(step)


def interrupted(stage: str, report: RunReport) -> KeyboardInterrupt:
    """The KeyboardInterrupt a query raises for Ctrl-C: what it did so far, without its internals.

    Raised ``from None`` in place of the one caught, so a traceback shows the
    user's line and the terminal, not every stage the run was inside.

    >>> print(interrupted("count", RunReport(seconds=1.5)))
    count interrupted: stopped early in 1.500 s, 0 rejected
    """
    return KeyboardInterrupt(f"{stage} interrupted: {report}")


def _quiet_interrupt(items: Iterator[T], query: StreamBase[Any]) -> Iterator[T]:
    """Iterate ``items``; a Ctrl-C inside the run is re-raised by :func:`interrupted`."""
    try:
        yield from items
    except KeyboardInterrupt:
        raise interrupted("iteration", query.last_run) from None
