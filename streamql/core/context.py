"""What one run of a query shares between its stages: origin and rejects.

A run of a plan creates one :class:`RunContext`. The line source sets a cursor
on it, so any later stage can ask :meth:`RunContext.origin` which file and line
the item it holds came from: in a pull pipeline of row-wise stages, the item a
stage is looking at is the one the source handed out last (the tutorial's
``storelast`` trick, made free by reading lines in batches).

Stages that can refuse an item call :meth:`RunContext.bad`, which applies the
``errors=`` policy: raise :class:`~streamql.core.errors.ParseError`, or count and
skip the item, or hand back a reject record to keep in the stream.
"""

from __future__ import annotations

import operator
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypedDict, cast

from .errors import ParseError
from .report import report_rejects

__all__ = ["Reject", "RunContext", "Errors", "check_errors", "file_position"]

Errors = Literal["skip", "raise", "keep"]
_POLICIES = ("skip", "raise", "keep")


class Reject(TypedDict):
    """An item a stage refused: what, why, and where it came from."""

    stage: str
    reason: str
    line: Any
    file: str | None
    lineno: int | None


class Cursor(Protocol):
    def position(self) -> tuple[str | None, int | None]: ...


class LineCursor:
    """Where the line source is: a file, and a batch of its lines being handed out.

    The line number is derived, not counted: lines before this batch plus how
    far the batch's list iterator has advanced.
    """

    __slots__ = ("base", "batch", "it", "path")

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.base = 0
        self.batch: list[Any] = []
        self.it: Any = None

    def position(self) -> tuple[str | None, int | None]:
        if self.it is None:
            return self.path, self.base or None
        return self.path, self.base + len(self.batch) - operator.length_hint(self.it)


class ItemCursor:
    """Position in a source that is not a file: the 1-based item number."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def position(self) -> tuple[str | None, int | None]:
        return None, self.n or None


def file_position(f: Any) -> int:
    """How many bytes of an open file have been read from disk (compressed bytes for archives).

    >>> file_position(None)
    0
    """
    raw = getattr(f, "_raw_under", None) or getattr(getattr(f, "buffer", None), "raw", None)
    try:
        return int(raw.tell()) if raw is not None else 0
    except (OSError, ValueError):  # closed, or not seekable
        return 0


def check_errors(stage: str, errors: object) -> Errors:
    """Validate an ``errors=`` argument when the step is added."""
    if errors not in _POLICIES:
        raise ValueError(f"{stage}: errors must be one of 'skip', 'raise', 'keep', got {errors!r}")
    return cast(Errors, errors)


class RunContext:
    """State shared by the stages of one run: origin cursor and reject tally.

    >>> ctx = RunContext()
    >>> ctx.bad("skip", "field", "no such column", "")
    >>> ctx.rejected
    Counter({'field': 1})
    """

    def __init__(self, *, keep_rejects: bool = False) -> None:
        self.cursor: Cursor | None = None
        self.rejected: Counter[str] = Counter()
        self.skipped = 0  # rejects dropped from the stream (not raised, not kept)
        self.first_reject: Reject | None = None
        self.sink: deque[Reject] | None = deque() if keep_rejects else None
        # Set by the engine: does any stage need to know each item's origin?
        self.track = True
        # Checks a later stage registers (until(event), until(timeout=)) that an
        # idle live source polls, so a quiet stream still ends on time.
        self.stops: list[Callable[[], bool]] = []
        # Bytes of the files the run opens: their sizes, how far the closed ones
        # were read, and the file being read (observers such as a progress bar
        # read these; see position()).
        self.bytes_total = 0
        self.bytes_read = 0
        self.current: Any = None

    def position(self) -> int:
        """Return the bytes read so far of the run's files (on disk: compressed bytes)."""
        return self.bytes_read + file_position(self.current)

    def origin(self) -> tuple[str | None, int | None]:
        """Return (file, line number) of the item the source handed out last."""
        cursor = self.cursor
        return (None, None) if cursor is None else cursor.position()

    def reject(
        self,
        stage: str,
        reason: str,
        line: Any,
        origin: tuple[str | None, int | None] | None = None,
    ) -> Reject:
        """Count one refused item and return its record (``origin``: where, if not the cursor)."""
        path, lineno = origin or self.origin()
        record: Reject = {
            "stage": stage,
            "reason": reason,
            "line": line,
            "file": path,
            "lineno": lineno,
        }
        self.rejected[stage] += 1
        if self.first_reject is None:
            self.first_reject = record
        if self.sink is not None:
            self.sink.append(record)
        return record

    def bad(
        self,
        errors: Errors,
        stage: str,
        reason: str,
        line: Any,
        origin: tuple[str | None, int | None] | None = None,
    ) -> Reject | None:
        """Apply the ``errors`` policy to one refused item.

        Raises under ``"raise"``; returns the reject record under ``"keep"``
        (the stage yields it); returns None under ``"skip"``.
        """
        if errors == "raise":
            path, lineno = origin or self.origin()
            raise ParseError(stage, reason, line, path, lineno)
        record = self.reject(stage, reason, line, origin)
        if errors == "keep":
            return record
        self.skipped += 1
        return None

    def summary(self) -> str:
        """Say how many items each stage rejected, with the first example."""
        if not self.rejected:
            return "no rejected items"
        counts = ", ".join(f"{stage} {n:,}" for stage, n in self.rejected.items())
        first = self.first_reject
        assert first is not None
        if first["file"] is not None:
            where = (
                first["file"] if first["lineno"] is None else f"{first['file']}:{first['lineno']}"
            )
        else:
            where = "an unknown line" if first["lineno"] is None else f"item {first['lineno']}"
        shown = repr(first["line"])
        if len(shown) > 100:
            shown = shown[:100] + "..."
        return (
            f"rejected items: {counts}; first at {where} ({first['stage']}: "
            f"{first['reason']}): {shown}"
        )

    def warn(self, hint: str = "pass errors='keep' to see them") -> None:
        """Report the rejects, if any, in one RejectedLinesWarning at the user's line.

        Every run that rejected items says so (see :mod:`streamql.core.report`);
        not when the rejects themselves are being collected (``.rejects``).
        """
        if self.skipped and self.sink is None:
            report_rejects(f"{self.summary()}; {hint}")
