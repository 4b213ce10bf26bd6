"""Operations on lines of text: grep and whitespace columns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import filterfalse

from ..core.context import Errors, Reject, RunContext, check_errors

__all__ = ["grep", "field", "compile_pattern"]


def compile_pattern(stage: str, pattern: object, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile a grep pattern, failing with the step's name on a bad one."""
    if isinstance(pattern, re.Pattern):
        if ignore_case and not pattern.flags & re.IGNORECASE:
            return re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)
        return pattern
    if not isinstance(pattern, str):
        raise TypeError(f"{stage}: pattern must be str or re.Pattern, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ValueError(f"{stage}: bad regular expression {pattern!r}: {exc}") from None


def grep(
    pattern: str | re.Pattern[str],
    lines: Iterable[str],
    *,
    invert: bool = False,
    ignore_case: bool = False,
) -> Iterator[str]:
    """Keep the lines in which the regular expression ``pattern`` is found.

    Lazy; constant memory. ``invert=True`` keeps the lines without a match.

    >>> list(grep(r"GET /ply", ["GET /ply/ HTTP/1.1", "GET /index.html"]))
    ['GET /ply/ HTTP/1.1']
    >>> list(grep("ply", ["GET /PLY", "GET /"], ignore_case=True, invert=True))
    ['GET /']
    """
    search = compile_pattern("grep", pattern, ignore_case).search
    return filterfalse(search, lines) if invert else filter(search, lines)


def field(
    n: int,
    lines: Iterable[str],
    *,
    sep: str | None = None,
    errors: Errors = "skip",
    ctx: RunContext | None = None,
) -> Iterator[str | Reject]:
    """Yield the ``n``-th column of each line (0-based; negative counts from the end).

    Columns are separated by runs of whitespace, or by ``sep`` when given (the
    line ending is not part of the last column). ``field(-1)`` is the
    tutorial's ``line.rsplit(None, 1)[1]``. A line with too few columns is a
    reject, handled by ``errors`` ("skip" counts it, "raise", "keep").
    Lazy; constant memory.

    >>> list(field(-1, ['1.2.3.4 - - "GET / HTTP/1.0" 200 4447\\n', "a b -\\n"]))
    ['4447', '-']
    >>> list(field(0, ["a,b\\n"], sep=","))
    ['a']
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"field: n must be an int, got {n!r}")
    policy = check_errors("field", errors)
    if sep is not None and (not isinstance(sep, str) or not sep):
        raise ValueError(f"field: sep must be a non-empty str or None, got {sep!r}")
    return _field(n, lines, sep, policy, ctx)


def _field(
    n: int, lines: Iterable[str], sep: str | None, errors: Errors, ctx: RunContext | None
) -> Iterator[str | Reject]:
    own = ctx or RunContext()
    it = iter(lines)
    cut = -n if n < 0 else n + 1  # splits needed to isolate column n
    while True:
        try:
            if sep is None and n < 0:
                for line in it:
                    yield line.rsplit(None, cut)[n]
            elif sep is None:
                for line in it:
                    yield line.split(None, cut)[n]
            elif n < 0:
                for line in it:
                    yield line.rstrip("\r\n").rsplit(sep, cut)[n]
            else:
                for line in it:
                    yield line.rstrip("\r\n").split(sep, cut)[n]
            break
        except IndexError:
            kept = own.bad(errors, "field", f"no column {n}", line)
            if kept is not None:
                yield kept
        except AttributeError:
            if isinstance(line, str):
                raise
            hint = (
                "\n\nOn records, take a field by name: .select(...) or .map(lambda r: r[...])."
                if isinstance(line, dict)
                else ""
            )
            raise TypeError(
                f"field: items must be lines (str), got {type(line).__name__}: {line!r:.80}{hint}"
            ) from None
    if ctx is None:
        own.warn()
