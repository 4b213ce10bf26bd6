"""The exceptions and warnings streamql raises.

Every error streamql itself raises derives from :class:`StreamError`; bad
arguments raise plain ``TypeError``/``ValueError`` at the line that added the
step; exceptions raised by the user's own functions propagate unchanged (with a
note naming the file and line being read, where one is known).
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = [
    "add_note",
    "StreamError",
    "ParseError",
    "CorruptFileError",
    "FieldError",
    "RejectedLinesWarning",
]


def add_note(exc: BaseException, note: str) -> None:
    """Add a note to an exception (``BaseException.add_note`` before Python 3.11 too).

    On 3.10 the note is kept in ``__notes__`` as 3.11 does, for callers such as
    the command line to show; the traceback printer there does not show it.
    """
    if hasattr(exc, "add_note"):
        exc.add_note(note)
        return
    with contextlib.suppress(AttributeError):  # exceptions that take no attributes
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]


class StreamError(Exception):
    """Base class of the errors streamql raises while running a query."""


def _where(path: str | None, lineno: int | None) -> str:
    if path is None:
        return f"item {lineno}" if lineno is not None else "an unknown place"
    return f"{path}:{lineno}" if lineno is not None else str(path)


class ParseError(StreamError, ValueError):
    """A line a stage could not take, raised under ``errors="raise"``.

    Carries ``stage``, ``reason``, ``line`` (the raw item), ``path`` and
    ``lineno`` (1-based, within that file) so the caller can find the line.
    """

    def __init__(
        self,
        stage: str,
        reason: str,
        line: object,
        path: str | None = None,
        lineno: int | None = None,
    ) -> None:
        self.stage = stage
        self.reason = reason
        self.line = line
        self.path = path
        self.lineno = lineno
        shown = repr(line)
        if len(shown) > 200:
            shown = shown[:200] + "..."
        super().__init__(f"{stage}: {reason} at {_where(path, lineno)}: {shown}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields, so it crosses to and from worker processes intact.
        return (
            type(self),
            (self.stage, self.reason, self.line, self.path, self.lineno),
            self.__dict__,
        )


class CorruptFileError(StreamError, OSError):
    """A file that cannot be read to its end (truncated or corrupt archive).

    Every line before the damage has been delivered when this is raised;
    ``path`` names the file and ``lineno`` the last good line.
    """

    def __init__(self, path: str, lineno: int, cause: BaseException | str) -> None:
        self.path = path
        self.lineno = lineno
        self.cause = str(cause)
        StreamError.__init__(
            self,
            f"cat: {path} is damaged after line {lineno}: {cause}\n\n"
            "Every line before the damage was delivered; the file cannot be "
            "read past it.",
        )

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.lineno, self.cause), self.__dict__)


class FieldError(StreamError, KeyError):
    """An item lacks a field that a step asked for."""

    def __init__(self, stage: str, field: object, item: object) -> None:
        self.stage = stage
        self.field = field
        self.item = item
        fields = ""
        if isinstance(item, dict):
            fields = f"; it has {', '.join(map(str, item))}"
        shown = repr(item)
        if len(shown) > 120:
            shown = shown[:120] + "..."
        super().__init__(f"{stage}: item has no field {field!r}{fields}: {shown}")

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.stage, self.field, self.item), self.__dict__)


class RejectedLinesWarning(UserWarning):
    """Issued after a run in which lines were skipped under ``errors="skip"``."""
