"""A progress bar for long runs: bytes read across all files, or a rate for other streams.

``Stream.progress()`` rewrites the plan: the step that opens files (``lines``
or ``open``) is swapped for one that also tells a meter which file is open, and
a pass-through ``progress`` step at the end of the plan reads that meter every
few hundred items and moves the bar. Bytes are counted on disk, so compressed
files advance the bar by what was read of the compressed file, and the total
is the sum of the files' sizes. Without files (a list, a socket, a follow) the
bar shows items and their rate. A plan without ``progress()`` runs exactly as
before: nothing is added to the hot path.

The bar is tqdm's (``pip install streamql[progress]``): ``tqdm.auto`` picks
the notebook widget or the terminal form by itself.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from . import files
from .context import RunContext
from .interop import optional
from .plan import Step

__all__ = ["Meter", "with_progress", "show_progress", "wanted"]

EVERY = 256
"""Update the bar once every this many items (and at the end)."""


@dataclass
class Meter:
    """How far a run has read: bytes of the files done, and the file being read."""

    total: int | None = None
    done: int = 0
    current: Any = None
    current_size: int = 0

    def position(self) -> int:
        """Return the bytes read so far, across every file."""
        f = self.current
        if f is None:
            return self.done
        raw = getattr(f, "_raw_under", None) or getattr(f, "buffer", None)
        try:
            at = raw.tell() if raw is not None else 0
        except (OSError, ValueError):  # closed, or not seekable
            at = 0
        return self.done + min(at, self.current_size)


class Meters:
    """The meter of each run in progress, by its RunContext (forgotten with it)."""

    def __init__(self) -> None:
        self.runs: weakref.WeakKeyDictionary[RunContext, Meter] = weakref.WeakKeyDictionary()

    def of(self, ctx: RunContext) -> Meter:
        meter = self.runs.get(ctx)
        if meter is None:
            meter = self.runs[ctx] = Meter()
        return meter

    def __repr__(self) -> str:
        return "Meters()"


def _size(path: Any) -> int:
    try:
        return os.path.getsize(path)
    except (OSError, TypeError):
        return 0


def _watch(meter: Meter, opened: Iterator[Any]) -> Iterator[Any]:
    """Pass files on, telling ``meter`` which one is being read and what is done."""
    try:
        for f in opened:
            path = getattr(f, "path", None) or getattr(f, "name", None)
            meter.current, meter.current_size = f, _size(path)
            yield f
            meter.done += meter.current_size
            meter.current, meter.current_size = None, 0
    finally:
        close = getattr(opened, "close", None)
        if close is not None:
            close()


def _metered_lines(
    meters: Meters, *paths: Any, ctx: RunContext, blocks: bool = False, **kwargs: Any
) -> Iterator[str]:
    found = files.expand_paths(paths)
    meter = meters.of(ctx)
    meter.total = sum(_size(p) for p in found)
    return files.cat(_watch(meter, files.open_files(found, **kwargs)), blocks=blocks, ctx=ctx)


def _metered_open(meters: Meters, paths: Iterable[Any], *, ctx: RunContext, **kwargs: Any) -> Any:
    meter = meters.of(ctx)

    def listed() -> Iterator[Any]:
        found = list(paths)  # the listing is quick next to reading: it gives the total
        meter.total = sum(_size(p) for p in found)
        yield from _watch(meter, files.open_files(found, ctx=ctx, **kwargs))

    return listed()


def _bar(
    meters: Meters,
    desc: str | None,
    file: TextIO | None,
    every: int,
    items: Iterable[Any],
    *,
    ctx: RunContext,
) -> Iterator[Any]:
    tqdm = optional("tqdm.auto").tqdm
    meter = meters.runs.get(ctx)

    def run() -> Iterator[Any]:
        options: dict[str, Any] = {"desc": desc, "file": file, "dynamic_ncols": True}
        if meter is not None:
            options.update(total=meter.total, unit="B", unit_scale=True, unit_divisor=1024)
        else:
            options.update(unit=" items")
        bar = tqdm(**options)
        try:
            if meter is None:
                n = 0
                for item in items:
                    yield item
                    n += 1
                    if n == every:
                        bar.update(n)
                        n = 0
                bar.update(n)
                return
            n = 0
            for item in items:
                yield item
                n += 1
                if n == every:
                    n = 0
                    if bar.total != meter.total:
                        bar.total = meter.total
                    bar.update(meter.position() - bar.n)
            if bar.total != meter.total:
                bar.total = meter.total
            bar.update(meter.position() - bar.n)
        finally:
            bar.close()

    return run()


def with_progress(
    steps: tuple[Step, ...],
    desc: str | None = None,
    file: TextIO | None = None,
    every: int | None = None,
) -> tuple[Step, ...]:
    """Return the plan with a progress bar: its file-opening step metered, a bar step at the end.

    >>> from streamql import Stream
    >>> plan = with_progress(Stream.lines("log").field(0).steps)
    >>> [step.render() for step in plan]
    ["lines('log')", 'field(0)', 'progress()']
    """
    meters = Meters()
    out = list(steps)
    for i, step in enumerate(steps):
        if step.name in ("lines", "open") and step.func in (files.lines, files.open_files):
            shown = step.render()[len(step.name) + 1 : -1]
            func = _metered_lines if step.name == "lines" else _metered_open
            out[i] = Step(
                step.name,
                func,
                (meters, *step.args),
                step.kwargs,
                source=step.source,
                rowwise=step.rowwise,
                pure=step.pure,
                rejects=step.rejects,
                uses_ctx=True,
                shown=shown,
            )
            break  # the first opener reads the files; later ones read what it yields
    shown = ", ".join(
        ([repr(desc)] if desc is not None else []) + (["file=..."] if file is not None else [])
    )
    args = (meters, desc, file, every or EVERY)
    bar = Step("progress", _bar, args, uses_ctx=True, pure=False, shown=shown)
    return (*out, bar)


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


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and hasattr(shell, "kernel")


def wanted(steps: Iterable[Step]) -> bool:
    """Say whether a terminal should add a progress bar to this plan by default.

    >>> from streamql import Stream
    >>> wanted(Stream.lines("log").steps)
    False
    """
    on = _default if _default is not None else _in_notebook()
    if not on:
        return False
    names = [step.name for step in steps]
    return (
        "progress" not in names
        and any(n in ("lines", "open") for n in names)
        and importlib.util.find_spec("tqdm") is not None
    )
