"""A progress bar for long runs: an observer of the run, never a step of the plan.

A bar listens to a run through its :class:`~streamql.core.context.RunContext`: the
file source says which file is open and what the files weigh, and the engine
ticks the bar every few hundred items the query yields (every block, for a
plan the planner pushed an aggregate into). Turning a bar on changes no step,
so the planner's rewrites, ``explain()`` and the speed of the query are the
same with and without it. Bytes are counted on disk, so compressed files
advance the bar by what was read of the compressed file, and the total is
the sum of the files' sizes. Without files (a list, a socket, a follow) the
bar shows items and their rate.

``Stream.progress()`` asks for a bar on every run of a query. Terminals over
files show one by default inside a Jupyter notebook, once the run has lasted
half a second (so quick queries stay quiet), and wherever
:func:`show_progress` turned them on. The bar is tqdm's
(``pip install streamql[progress]``): ``tqdm.auto`` picks the notebook
widget or the terminal form by itself.

>>> import io
>>> from streamql import Stream
>>> query = Stream(range(1000))
>>> with_bar = query.progress(file=io.StringIO())
>>> with_bar.count(), with_bar.steps == query.steps
(1000, True)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, TextIO

from ..core._lazy import optional
from ..core.context import RunContext
from ..core.report import in_notebook

__all__ = [
    "Progress",
    "Bar",
    "PartsProgress",
    "Reporter",
    "REPORT_SECONDS",
    "automatic",
    "observers",
    "show_progress",
    "wanted",
    "EVERY",
    "AUTO_DELAY",
]

EVERY = 1024
"""Tick the bar once every this many items (and at the end)."""

AUTO_DELAY = 0.5
"""Seconds a run must last before an automatic bar shows."""


@dataclasses.dataclass(frozen=True)
class Progress:
    """A request for a progress bar: its label, where it draws, and how soon it shows."""

    desc: str | None = None
    file: TextIO | None = None
    delay: float = 0.0

    def render(self) -> str:
        """The ``.progress(...)`` call that made it."""
        shown = ([repr(self.desc)] if self.desc is not None else []) + (
            ["file=..."] if self.file is not None else []
        )
        return f".progress({', '.join(shown)})"

    def bar(self, every: int = EVERY) -> Bar:
        """A new bar for one run (tqdm is imported here, when the run starts)."""
        return Bar(self, every)


class Bar:
    """One run's progress bar: started, ticked and stopped by the engine."""

    def __init__(self, spec: Progress, every: int = EVERY) -> None:
        self.spec = spec
        self.every = every
        # tqdm.auto draws a widget in a notebook; elsewhere it is tqdm.std's bar,
        # which imports in half the time (no asyncio).
        self._tqdm = _without_monitor(optional("tqdm.auto" if in_notebook() else "tqdm.std").tqdm)
        self._bar: Any = None
        self._bytes = False  # a bar by bytes of files read, else by items
        self._items = 0
        self._last = 0.0

    def started(self, ctx: RunContext) -> None:
        options: dict[str, Any] = {
            "desc": self.spec.desc,
            "file": self.spec.file,
            "dynamic_ncols": True,
            "delay": self.spec.delay,
        }
        if ctx.bytes_total or ctx.current is not None:
            options.update(
                total=ctx.bytes_total or None, unit="B", unit_scale=True, unit_divisor=1024
            )
            self._bytes = True
        else:
            options.update(unit=" items")
        self._bar = self._tqdm(**options)

    def ticked(self, ctx: RunContext, items: int) -> None:
        self._items += items
        now = time.monotonic()
        if now - self._last >= 0.05:  # the bar redraws a few times a second at most
            self._last = now
            self._move(ctx)

    def stopped(self, ctx: RunContext) -> None:
        if self._bar is None:
            return
        try:
            self._move(ctx)
        finally:
            self._bar.close()

    def _move(self, ctx: RunContext) -> None:
        bar = self._bar
        if not self._bytes:
            bar.update(self._items - bar.n)
            return
        if ctx.bytes_total and bar.total != ctx.bytes_total:
            bar.total = ctx.bytes_total
        bar.update(ctx.position() - bar.n)


class PartsProgress:
    """The bars of a run whose parts run elsewhere (worker processes, a cluster).

    Each part says how many of its bytes it has read (:meth:`moved`), or that
    it is done (:meth:`finished`); the bars show the sum against the parts'
    total. Used as a ``with`` block: the bars start on entry and stop on exit.
    No bars, no work.

    >>> import io
    >>> out = io.StringIO()
    >>> with PartsProgress([Progress(file=out).bar()], [100, 50]) as watch:
    ...     watch.moved(0, 60)
    ...     watch.finished(1)
    ...     watch.read
    110
    """

    def __init__(self, bars: Sequence[Bar], sizes: Sequence[int]) -> None:
        self.bars, self.sizes = bars, sizes
        self.ctx = RunContext()
        self.ctx.bytes_total = sum(sizes)
        self._read = [0] * len(sizes)

    @property
    def read(self) -> int:
        """Bytes read so far, all parts together."""
        return self.ctx.bytes_read

    def __enter__(self) -> PartsProgress:
        for bar in self.bars:
            bar.started(self.ctx)
        return self

    def moved(self, index: int, read: int) -> None:
        """Part ``index`` has read ``read`` of its bytes."""
        read = min(read, self.sizes[index])
        self.ctx.bytes_read += read - self._read[index]
        self._read[index] = read
        for bar in self.bars:
            bar.ticked(self.ctx, 0)

    def finished(self, index: int) -> None:
        """Part ``index`` is done."""
        self.moved(index, self.sizes[index])

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        error: BaseException | None = None
        for bar in self.bars:
            try:
                bar.stopped(self.ctx)
            except BaseException as failed:
                error = error or failed
        if error is not None and exc is None:
            raise error


class Reporter:
    """A run's observer in a worker: sends home the bytes read, ten times a second and at the end.

    ``send`` carries them (over the worker's pipe, for the processes engine);
    the parent's :class:`PartsProgress` adds up the parts'.

    >>> sent = []
    >>> Reporter(sent.append, EVERY).stopped(RunContext())
    >>> sent
    [0]
    """

    def __init__(self, send: Callable[[int], None], every: int) -> None:
        self.send, self.every = send, every
        self._last = time.monotonic()

    def started(self, ctx: RunContext) -> None:
        pass

    def ticked(self, ctx: RunContext, items: int) -> None:
        now = time.monotonic()
        if now - self._last >= REPORT_SECONDS:
            self._last = now
            self.send(ctx.position())

    def stopped(self, ctx: RunContext) -> None:
        self.send(ctx.position())


REPORT_SECONDS = 0.1
"""How often a part sends home how far it has read, when a progress bar watches."""


@functools.cache
def _without_monitor(tqdm: Any) -> Any:
    """tqdm's bar class without its monitor thread, which would outlive the run.

    The monitor wakes every ten seconds to slow down bars that redraw too
    often; these bars redraw a few times a second at most by themselves.
    """
    return type(tqdm.__name__, (tqdm,), {"monitor_interval": 0})


# None: on inside a Jupyter kernel (and in the command line, which asks for it),
# off in library calls; True/False: as the user set it with show_progress().
_default: bool | None = None


def show_progress(on: bool | None = True) -> None:
    """Turn progress bars on or off for every terminal over files; None: back to automatic.

    Automatic means on in a Jupyter notebook and off in library calls (the
    command line shows one when its output is a terminal). A query's own
    ``.progress()`` always shows one.

    >>> show_progress(False); show_progress(None)
    """
    global _default
    if on is not None and not isinstance(on, bool):
        raise TypeError(f"show_progress: expected True, False or None, got {on!r}")
    _default = on


def wanted(steps: Iterable[Any]) -> bool:
    """Say whether a terminal should show a bar for this plan by default (no ``.progress()``).

    Yes inside a notebook (where ipywidgets draws the bar), or after
    ``show_progress(True)``, for a plan that reads files (a step declares
    ``reads_files``), where tqdm is installed.

    >>> from streamql import Stream
    >>> wanted(Stream.lines("log").steps)
    False
    """
    # In a notebook the bar is a widget; without ipywidgets tqdm would print text
    # bars and a warning to stderr under every cell, so none is shown by default.
    on = _default if _default is not None else in_notebook() and _has("ipywidgets")
    if not on:
        return False
    return any(getattr(step, "reads_files", False) for step in steps) and _has("tqdm")


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def observers(
    steps: Iterable[Any],
    spec: Progress | None,
    *,
    auto: bool = False,
    every: int | None = None,
) -> list[Bar]:
    """The observers of one run: the bar ``spec`` asks for, or (``auto``) a default one.

    >>> observers([], None), len(observers([], Progress()))
    ([], 1)
    """
    if spec is None and auto and wanted(steps):
        spec = automatic()  # on in notebooks, or as show_progress() set it
    return [] if spec is None else [spec.bar(every or EVERY)]


def automatic() -> Progress:
    """The bar a terminal shows by default where :func:`wanted` says so.

    In a notebook it shows only once the run has lasted :data:`AUTO_DELAY`
    seconds; after ``show_progress(True)``, at once.

    >>> show_progress(True); automatic().delay; show_progress(None)
    0.0
    """
    return Progress(delay=0.0 if _default else AUTO_DELAY)
