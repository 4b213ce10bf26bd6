"""Parse access-log lines of any compiled format (a :class:`~.logformat.LogFormat`).

The line parser of every format but the three the tuned parser of
:mod:`streamql.formats.access.apache` reads: each line is matched by the regular expression
of the format's program, and its columns are typed and made into fields by
the format's converters. A line that does not fit goes to the ``errors=``
policy with the reason :meth:`~streamql.formats.access.logformat.LogFormat.parse_line` gives.

>>> from streamql.core.context import RunContext
>>> from streamql.formats.access.log_presets import compile_format
>>> ctx = RunContext()
>>> lines = ['::1 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 5 "-" "curl" "-"', "x"]
>>> [r["status"] for r in parse_compiled(iter(lines), compile_format("nginx"), "skip", ctx, None)]
[200]
>>> ctx.rejected
Counter({'parse_apache': 1})
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from ...core.context import Errors, ItemCursor, Reject, RunContext
from .logformat import LogFormat

__all__ = ["parse_compiled", "EXTRA", "check_extra"]

#: The choices of ``extra=``: trailing text the format does not name.
EXTRA = ("reject", "keep")


def check_extra(stage: str, extra: str) -> str:
    """Validate an ``extra=`` argument; return it."""
    if extra not in EXTRA:
        raise ValueError(f"{stage}: extra must be 'reject' or 'keep', got {extra!r}")
    return extra


def parse_compiled(
    lines: Iterator[Any],
    fmt: LogFormat,
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
    prefilter: Callable[[str], Any] | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Yield the records of ``lines`` in format ``fmt``; rejects go to ``errors``.

    Lazy; constant memory. ``cursor`` is set when ``ctx`` is the caller's own
    (the item number is written to it before a reject); ``prefilter`` drops
    valid lines the query's filter would drop.
    """
    prefilter = getattr(prefilter, "check", prefilter)
    parse = fmt.parse_line
    for n, line in enumerate(lines, 1):
        if not isinstance(line, str):
            hint = (
                "\n\nOpen the files first: .open().cat(), or start from Stream.lines(...)."
                if isinstance(line, os.PathLike)
                else ""
            )
            raise TypeError(
                f"parse_apache: lines must be str, got {type(line).__name__}: {line!r:.80}{hint}"
            )
        record = parse(line)
        if type(record) is dict:
            if prefilter is None or prefilter(line):
                yield record
            continue
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_apache", str(record), line)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()
