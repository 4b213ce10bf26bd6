"""The exceptions and warnings streamql raises.

Every error streamql itself raises derives from :class:`StreamError`; bad
arguments raise plain ``TypeError``/``ValueError`` at the line that added the
step; exceptions raised by the user's own functions propagate unchanged (with a
note naming the file and line being read, where one is known).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
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
    """A record lacks a field that a step asked for: found by the plan, or by the run.

    ``known`` names the fields there are (a record's keys, or a parser's
    schema); the message says which of them the misspelled one was meant to be.

    >>> print(FieldError("count_by", "stauts", known=("host", "status"), source="parse_apache"))
    count_by: parse_apache yields no field 'stauts'; did you mean 'status'?
    <BLANKLINE>
    Its fields: host, status
    """

    def __init__(
        self,
        stage: str,
        field: object,
        item: object = None,
        *,
        known: tuple[str, ...] | None = None,
        source: str | None = None,
    ) -> None:
        self.stage = stage
        self.field = field
        self.item = item
        self.known = known
        self.source = source
        if known is None and isinstance(item, dict):
            known = tuple(map(str, item))
        who = f"{source} yields" if source else "item has"
        text = f"{stage}: {who} no field {field!r}"
        guess = did_you_mean(field, known or ())
        if guess:
            text += f"; did you mean {guess!r}?"
        if known is not None:
            text += (
                f"\n\nIts fields: {', '.join(known)}" if source else f"; it has {', '.join(known)}"
            )
        super().__init__(text)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_field_error,
            (self.stage, self.field, self.item, self.known, self.source),
            self.__dict__,
        )


def _rebuild_field_error(
    stage: str, field: object, item: object, known: tuple[str, ...] | None, source: str | None
) -> FieldError:
    return FieldError(stage, field, item, known=known, source=source)


def did_you_mean(name: object, known: Iterable[str]) -> str | None:
    """Return the known name closest to a misspelled one, if any is close.

    >>> did_you_mean("reqest", ["host", "request"]), did_you_mean("zzz", ["host"])
    ('request', None)
    """
    if not isinstance(name, str):
        return None
    import difflib  # only a misspelling needs it

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


class RejectedLinesWarning(UserWarning):
    """Issued after a run in which lines were skipped under ``errors="skip"``."""
