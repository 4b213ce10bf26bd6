"""Run a plan: build the generator chain, and take it all down afterwards.

The engine is kept apart from the plan. It turns a tuple of steps into nested
iterators, hands each step that asks for it the run's :class:`RunContext`, and
guarantees that when the run ends — exhausted, stopped early, failed or
interrupted — every stage is closed, so files and sockets are released at once.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.context import RunContext
from ..core.errors import FieldError, StreamError, add_note
from ..core.plan import Step
from ..live.runs import registered
from ..planner.optimize import DEFAULT, Options, optimize

__all__ = ["execute", "running", "raised_in_run", "RunReport"]


@dataclass
class RunReport:
    """What the latest run of a Stream did: rejects, time, whether it ran to the end."""

    rejected: dict[str, int] = field(default_factory=dict)
    first_reject: Any = None
    seconds: float = 0.0
    completed: bool = False
    bytes_read: int = 0  # of the files the run opened (compressed bytes for archives)
    bytes_total: int = 0  # the sizes of the files it named (or opened, for a lazy list)
    plan: tuple[str, ...] = ()  # the steps as they ran, after the planner's rewrites

    def __str__(self) -> str:
        state = "completed" if self.completed else "stopped early"
        rejected = sum(self.rejected.values())
        text = f"{state} in {self.seconds:.3f} s, {rejected:,} rejected"
        if self.bytes_total:
            text += f", read {_megabytes(self.bytes_read)} of {_megabytes(self.bytes_total)}"
        return text


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _needs_origin(steps: Sequence[Step]) -> bool:
    return any(s.rejects or s.needs_origin for s in steps)


@dataclass
class StepStats:
    """What one step did in an analysed run: items out, and time spent producing them."""

    items: int = 0
    seconds: float = 0.0  # inclusive: this step and everything upstream of it


def _probe(upstream: Iterable[Any], stats: StepStats) -> Iterator[Any]:
    """Pass items on, counting them and timing each pull from ``upstream``."""
    clock = time.perf_counter
    pull = iter(upstream).__next__
    while True:
        start = clock()
        try:
            item = pull()
        except StopIteration:
            stats.seconds += clock() - start
            return
        stats.seconds += clock() - start
        stats.items += 1
        yield item


def build(
    steps: Sequence[Step], ctx: RunContext, probes: list[StepStats] | None = None
) -> tuple[Iterator[Any], list[Any]]:
    """Chain the steps' iterators; return the last one and all of them.

    With ``probes`` (a list to fill), each step's output is counted and timed.
    """
    ctx.track = _needs_origin(steps)
    stages: list[Any] = []
    it: Any = None
    try:
        for step in steps:
            it = step.call(it, ctx)
            stages.append(it)
            if probes is not None:
                probes.append(StepStats())
                it = _probe(it, probes[-1])
                stages.append(it)
    except BaseException:
        close_all(stages)
        raise
    return it, stages


def close_each(closables: Iterable[Any]) -> BaseException | None:
    """Close every object that has ``close()``, in order; return the first error raised."""
    error: BaseException | None = None
    for obj in closables:
        close = getattr(obj, "close", None)
        if close is None:
            continue
        try:
            close()
        except BaseException as exc:
            error = error or exc
    return error


def close_all(stages: list[Any]) -> None:
    """Close every stage, downstream first, even if some close() fails; then raise."""
    error = close_each(reversed(stages))
    if error is not None:
        raise error


def raised_in_run(exc: BaseException) -> bool:
    """Tell whether ``exc`` came out of a running query (not from building one).

    >>> from streamql import Stream
    >>> try:
    ...     Stream([0]).map(lambda x: 1 / x).list()
    ... except ZeroDivisionError as exc:
    ...     raised_in_run(exc)
    True
    """
    return getattr(exc, "_streamql_in_run", False) is True


def _note_origin(exc: BaseException, ctx: RunContext) -> None:
    if isinstance(exc, StreamError) and not isinstance(exc, FieldError):
        return  # streamql's own errors already say where, or concern the whole run
    path, lineno = ctx.origin()
    if lineno is None:
        return
    where = f"{path}:{lineno}" if path else f"item {lineno}"
    add_note(exc, f"streamql: raised while the query was at {where}")


class Observer(Protocol):
    """Something that watches a run (a progress bar): told when it starts, moves and stops."""

    every: int  # tick after this many items

    def started(self, ctx: RunContext) -> None: ...
    def ticked(self, ctx: RunContext, items: int) -> None: ...
    def stopped(self, ctx: RunContext) -> None: ...


class _Ticker:
    """Pass ``top``'s items on, ticking the observers every so many; the items stay in C.

    Each stretch of items is an ``islice`` that ``chain`` flattens, so a
    terminal's loop never enters Python per item, and nothing is read ahead:
    the first item of a stretch is pulled only when the consumer asks for it.
    A counter zipped behind the items says, at the end, how many went by.
    """

    def __init__(self, top: Iterator[Any], observers: Sequence[Observer], ctx: RunContext):
        self.observers, self.ctx = observers, ctx
        self.every = min(o.every for o in observers)
        self.counter = itertools.count()
        self.ticked = 0
        self.items = map(operator.itemgetter(0), zip(top, self.counter, strict=False))
        self.it = itertools.chain.from_iterable(self._stretches())

    def _stretches(self) -> Iterator[Iterable[Any]]:
        pull, every = self.items.__next__, self.every
        started = False
        while True:
            try:
                first = pull()
            except StopIteration:
                return
            if started:  # more came, so the stretch before was whole
                self._tick(every)
            started = True
            yield (first,)
            if every > 1:
                yield itertools.islice(self.items, every - 1)

    def _tick(self, n: int) -> None:
        self.ticked += n
        for observer in self.observers:
            observer.ticked(self.ctx, n)

    def stop(self) -> None:
        """Tick the observers for the items since the last tick, then tell them the end."""
        try:
            # zip pulls the item first: after the last one the counter is one past it.
            self._tick(max(next(self.counter) - self.ticked, 0))
        finally:
            error = None
            for observer in self.observers:
                try:
                    observer.stopped(self.ctx)
                except BaseException as exc:
                    error = error or exc
            if error is not None:
                raise error


@contextmanager
def running(
    steps: Sequence[Step],
    report: RunReport,
    *,
    ctx: RunContext | None = None,
    probes: list[StepStats] | None = None,
    warn: bool = True,
    options: Options = DEFAULT,
    observers: Sequence[Observer] = (),
) -> Iterator[Iterator[Any]]:
    """Build the plan's chain for the ``with`` block; close it all when the block ends.

    Terminals consume the chain directly, with no extra generator per item.
    ``observers`` (progress bars) watch the run; they change no step.
    """
    ctx = ctx or RunContext()
    start = time.perf_counter()
    report.completed, report.rejected, report.first_reject = False, {}, None
    plan = optimize(steps, options)
    report.plan = tuple(step.render() for step in plan)
    top, stages = build(plan, ctx, probes)
    ticker = None
    try:
        if observers:
            for observer in observers:
                observer.started(ctx)
            ticker = _Ticker(iter(top), observers, ctx)
            top = ticker.it
        with registered(steps, ctx):
            yield top
        report.completed = True
    except Exception as exc:
        _note_origin(exc, ctx)
        with contextlib.suppress(AttributeError):  # a few C exceptions take no attributes
            exc._streamql_in_run = True  # type: ignore[attr-defined]
        raise
    finally:
        report.rejected = dict(ctx.rejected)
        report.first_reject = ctx.first_reject
        report.seconds = time.perf_counter() - start
        try:
            close_all(stages)
        finally:
            report.bytes_read, report.bytes_total = ctx.bytes_read, ctx.bytes_total
            if ticker is not None:
                ticker.stop()
    if warn:
        ctx.warn(hint="query .rejects to see them all")


def execute(
    steps: Sequence[Step],
    report: RunReport,
    options: Options = DEFAULT,
    observers: Sequence[Observer] = (),
) -> Iterator[Any]:
    """Run the plan as a generator of its items; close everything however it ends."""
    with running(steps, report, options=options, observers=observers) as top:
        yield from top
