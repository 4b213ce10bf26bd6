"""The processes engine: run a plan over parts of its files in worker processes.

A plan whose source is files (``Stream.lines(...)`` or
``Stream.files(...).open().cat()``) followed only by row-wise steps can be cut
into parts — each compressed file whole, each plain file into byte ranges that
begin at line starts — and each part run in its own process up to a partial
aggregate. The parent merges the partial results in part order, so the answer
is the one the default engine gives, and so are the rejected-line counts (with
line numbers counted from the start of each file).

Workers are forked (POSIX), so the plan, lambdas included, needs no pickling;
only the partial results travel back.
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import time
import traceback
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ..aggregates import Aggregate
from ..core.context import RunContext, file_position
from ..core.errors import StreamError
from ..core.plan import Step
from ..ops import blocks as block_readers
from ..ops import files
from ..ops.compress import sniff
from ..planner.optimize import DEFAULT, Options, for_aggregate
from .forkpool import map_forked, report_progress
from .local import RunReport, running
from .progress import EVERY, PartsProgress, Reporter, observers
from .registry import EngineSettings

__all__ = [
    "ProcessesEngine",
    "split_plan",
    "run_part",
    "merge_results",
    "Part",
    "PartFailed",
    "MIN_PART_BYTES",
    "part_sizes",
]

# Below this a plain file is not worth cutting further.
MIN_PART_BYTES = 4 << 20


@dataclass(frozen=True)
class Part:
    """A piece of one file: all of it (``stop`` None) or the bytes [start, stop)."""

    path: str
    start: int = 0
    stop: int | None = None


class _Window(io.RawIOBase):
    """The bytes [start, stop) of a file, as a raw stream of its own."""

    def __init__(self, path: str, start: int, stop: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._f.seek(start)
        self._size = self._left = stop - start

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        """Bytes of the window read so far (what a progress bar counts)."""
        return self._size - self._left

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        n = self._f.readinto(view) or 0
        self._left -= n
        return n

    def close(self) -> None:
        try:
            self._f.close()
        finally:
            super().close()


class _OffsetCursor:
    """A line cursor whose line numbers start after a prefix counted only when asked."""

    def __init__(self, inner: Any, path: str, start: int) -> None:
        self.inner, self.path, self.start = inner, path, start
        self.prefix: int | None = None

    def position(self) -> tuple[str | None, int | None]:
        path, lineno = self.inner.position()
        if lineno is None:
            return path, lineno
        if self.prefix is None:
            self.prefix = _count_lines(self.path, self.start)
        return path, lineno + self.prefix


def _count_lines(path: str, stop: int) -> int:
    r"""Count the lines that end before byte ``stop``, as reading counts them.

    Reading text ends a line at ``\n``, ``\r\n`` or a bare ``\r`` (universal
    newlines), so a part's first line number must count all three:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"a\rb\r\nc\nd")
    >>> _count_lines(path, 9), _count_lines(path, 3)
    (3, 1)
    """
    n = 0
    after_cr = False  # the block before ended with \r: a \n opening this one ends no new line
    with open(path, "rb") as f:
        left = stop
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            n += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if after_cr and block.startswith(b"\n"):
                n -= 1
            after_cr = block.endswith(b"\r")
            left -= len(block)
    return n


def _part_lines(part: Part, *, ctx: RunContext, **options: Any) -> Iterator[str]:
    """The lines of one part, with origins counted from the start of its file."""
    return _part(part, ctx, options, blocks=False)


def _part_blocks(part: Part, *, ctx: RunContext, **options: Any) -> Iterator[str]:
    """The lines of one part as blocks of whole lines (the ``blocks`` variant)."""
    return _part(part, ctx, options, blocks=True)


def _part(part: Part, ctx: RunContext, options: dict[str, Any], blocks: bool) -> Iterator[str]:
    if part.stop is None:
        read_file = block_readers.lines_blocks if blocks else files.lines
        return read_file(part.path, ctx=ctx, **options)
    buffered = io.BufferedReader(_Window(part.path, part.start, part.stop), buffer_size=1 << 18)
    encoding = options.get("encoding", "utf-8")
    if part.start == 0 and encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a BOM can only stand at the start of the file
    text = io.TextIOWrapper(
        buffered, encoding=encoding, errors=options.get("decode_errors", "backslashreplace")
    )
    text.path, text.compression = part.path, None  # type: ignore[attr-defined]

    def opened() -> Generator[Any, None, None]:
        ctx.current = text  # as open_files does: a progress bar reads how far it is
        try:
            yield text
        finally:
            ctx.current = None
            ctx.bytes_read += file_position(text)
            text.close()

    source = opened()
    reader = block_readers.blocks if blocks else files.cat
    lines = files.Closing(reader(source, ctx=ctx), source.close)
    ctx.cursor = _OffsetCursor(ctx.cursor, part.path, part.start)
    return lines


def _line_starts(path: str, size: int, pieces: int) -> list[int]:
    """Cut points near size*i/pieces, each moved to the start of the next line."""
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, pieces):
            f.seek(max(size * i // pieces - 1, cuts[-1]))
            f.readline()
            point = f.tell()
            if cuts[-1] < point < size:
                cuts.append(point)
    return [*cuts, size]


def _parts(paths: Sequence[str], workers: int) -> list[Part]:
    sizes = {p: os.path.getsize(p) for p in paths}
    total = sum(sizes.values()) or 1
    parts: list[Part] = []
    for path in paths:
        with open(path, "rb") as f:
            compressed = sniff(f) is not None
        size = sizes[path]
        pieces = min(max(1, round(workers * size / total)), max(1, size // MIN_PART_BYTES))
        if compressed or pieces == 1:
            parts.append(Part(path))
            continue
        cuts = _line_starts(path, size, pieces)
        parts += [Part(path, a, b) for a, b in itertools.pairwise(cuts)]
    return parts


def split_plan(
    steps: Sequence[Step], workers: int, engine: str = "processes"
) -> tuple[list[Part], Callable[..., Any], dict[str, Any], tuple[Step, ...]]:
    """Find the file source of a plan and cut it into parts for ``workers`` processes.

    Returns the parts, the source function for a part, its options, and the
    steps that follow the source. Raises ValueError, naming ``engine`` and
    the step, when the plan cannot run in parts.
    """
    # The first step that declares which files it reads the lines of splits the plan.
    at = next((i for i, step in enumerate(steps) if step.files_read is not None), None)
    if at is None:
        raise ValueError(
            f"engine={engine!r}: the query must start from files, got {steps[0].render()}\n\n"
            "Start from Stream.lines(...) or Stream.files(...).open().cat(), or run it "
            "with the default engine."
        )
    reader = steps[at].files_read
    assert reader is not None
    try:
        paths, options = reader(tuple(steps[: at + 1]))
    except ValueError as exc:
        raise ValueError(f"engine={engine!r}: {exc}") from None
    rest = tuple(steps[at + 1 :])
    for step in rest:
        if not step.rowwise or step.source:
            raise ValueError(
                f"engine={engine!r}: {step.render()} needs the whole stream in one place\n\n"
                "Run this query with the default engine, or move the step after the terminal."
            )
    return _parts(paths, workers), _part_lines, options, rest


# What one part sends back: its partial aggregate (or PartFailed) and its rejects.
PartResult = tuple[Any, Counter[str], Any, int]


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker, as the cause of the one raised here."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


class PartFailed:
    """A part's exception, sent home as its result.

    Every part runs to its end or its first error; the parent then raises
    the error of the first part, in file order, that failed, after counting
    the rejects of the parts before it and of that part up to its error: what
    the default engine would have raised, and counted, reading the parts in
    order. ``trace`` is the worker's traceback, as text.
    """

    def __init__(self, exc: BaseException, trace: str) -> None:
        self.exc, self.trace = exc, trace

    def raise_it(self) -> NoReturn:
        raise self.exc from WorkerTraceback(self.trace)


def run_part(
    part: Part,
    source: Callable[..., Any],
    options: dict[str, Any],
    rest: Sequence[Step],
    agg: Aggregate,
    plan_options: Options = DEFAULT,
    progress: Callable[[int], None] | None = None,
) -> PartResult:
    """Run the plan over one part up to ``agg``'s partial state (any engine's worker calls this).

    With ``progress``, it is called with the bytes of the part read so far,
    a few times a second and at the end.
    """
    step = Step(
        "part",
        source,
        (part,),
        tuple(options.items()),
        source=True,
        uses_ctx=True,
        variants=(("blocks", _part_blocks),),
    )
    ctx = RunContext()
    steps, fold = for_aggregate((step, *rest), agg, plan_options)
    # A pushed-down plan yields one state per block: report at each.
    every = 1 if fold is not agg else EVERY
    watch = () if progress is None else (Reporter(progress, every),)
    try:
        with running(
            steps, RunReport(), ctx=ctx, warn=False, options=plan_options, observers=watch
        ) as it:
            state = fold.add_all(fold.start(), it)
    except Exception as exc:
        state = PartFailed(exc, traceback.format_exc())
    return state, ctx.rejected, ctx.first_reject, ctx.skipped


def _homebound(result: PartResult) -> PartResult:
    """A part's result made fit for the pipe home: an error pickle cannot rebuild, replaced."""
    failed = result[0]
    if isinstance(failed, PartFailed):
        try:  # the exception must survive the trip home
            pickle.loads(pickle.dumps(failed.exc))
        except Exception:
            shown = f"{type(failed.exc).__name__}: {failed.exc}"
            failed.exc = StreamError(f"a worker raised {shown} (it cannot be pickled home)")
    return result


def merge_results(agg: Aggregate, results: Sequence[PartResult], report: RunReport) -> Any:
    """Merge the parts' results in part order into ``agg``'s answer; warn of rejects once.

    Raises the exception of the first part that failed (see :class:`PartFailed`).
    """
    ctx = RunContext()
    state = agg.start()
    for part_state, rejected, first, skipped in results:
        ctx.rejected.update(rejected)
        ctx.skipped += skipped
        if ctx.first_reject is None:
            ctx.first_reject = first
        if isinstance(part_state, PartFailed):
            report.rejected, report.first_reject = dict(ctx.rejected), ctx.first_reject
            part_state.raise_it()
        state = agg.merge(state, part_state)
    report.rejected, report.first_reject, report.completed = (
        dict(ctx.rejected),
        ctx.first_reject,
        True,
    )
    ctx.warn(hint="query .rejects to see them all")
    return agg.finish(state)


def part_sizes(parts: Sequence[Part]) -> list[int]:
    """The bytes on disk of each part (a whole file's size; a range's length)."""
    return [os.path.getsize(p.path) if p.stop is None else p.stop - p.start for p in parts]


def check_workers(engine: str, workers: Any) -> None:
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"engine={engine!r}: workers must be an int >= 1, got {workers!r}")


def _describe(part: Part, index: int, count: int) -> str:
    where = "" if part.stop is None else f", bytes {part.start:,}-{part.stop:,}"
    return f"part {index + 1} of {count} ({part.path}{where})"


class ProcessesEngine:
    """The processes engine: the plan's parts in forked worker processes, merged in part order.

    ``settings.workers`` processes (default: every core). Raises ValueError
    when the plan cannot run in parts; the first part's error, in file order,
    when parts fail; :class:`~streamql.engine.forkpool.WorkerDied` (a StreamError)
    when a worker dies.
    """

    def run(
        self,
        plan: tuple[Step, ...],
        aggregation: Aggregate,
        settings: EngineSettings,
        report: RunReport,
    ) -> Any:
        check_workers("processes", settings.workers)
        workers = settings.workers or os.cpu_count() or 1
        parts, source, found, rest = split_plan(plan, workers)
        report.completed, report.rejected, report.first_reject = False, {}, None
        start = time.perf_counter()
        try:
            if not parts:
                report.completed = True
                return aggregation.finish(aggregation.start())

            bars = observers(plan, settings.progress, auto=True)
            send = report_progress if bars else None

            def one(index: int) -> PartResult:  # runs in a worker: it travels by the fork
                part = parts[index]
                result = run_part(part, source, found, rest, aggregation, settings.options, send)
                return _homebound(result)

            with PartsProgress(bars, part_sizes(parts)) as watch:
                results = map_forked(
                    one,
                    len(parts),
                    workers,
                    stop=lambda result: isinstance(result[0], PartFailed),
                    describe=lambda i: _describe(parts[i], i, len(parts)),
                    progress=watch.moved if bars else None,
                )
            return merge_results(aggregation, results, report)
        finally:
            report.seconds = time.perf_counter() - start
