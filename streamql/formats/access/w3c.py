"""W3C extended log files (IIS and others): the ``#Fields:`` header names the columns.

A ``#Fields:`` line lists the field names of the lines after it, and may come
again later in the file (IIS writes a new one when its settings change, or
when it restarts): each data line is read with the last header before it.
Other ``#`` lines (``#Software``, ``#Version``, ``#Date``...) are metadata
and yield nothing. Values are separated by single spaces (IIS writes a space
inside a value as ``+``); ``-`` is None, the W3C's "no value". Field names
become identifiers (``cs-uri-stem`` → ``cs_uri_stem``, ``cs(User-Agent)`` →
``cs_user_agent``); ``date`` and ``time`` become one aware ``datetime`` (UTC,
as the format says); counts, statuses, ports and ``time-taken`` (ms) are ints.
A line with another number of values than its header names, a line before
any header, or a bad number or time is a reject with its reason.

>>> lines = ["#Software: Microsoft Internet Information Services 10.0",
...          "#Fields: date time s-ip cs-method cs-uri-stem sc-status time-taken",
...          "2024-03-01 12:00:01 10.0.0.1 GET /index.html 200 15",
...          "#Fields: date time cs-method cs-uri-stem sc-status sc-bytes",
...          "2024-03-01 12:05:00 POST /api 500 -"]
>>> [(r["cs_method"], r["sc_status"], r.get("sc_bytes")) for r in parse_w3c(lines)]
[('GET', 200, None), ('POST', 500, None)]
>>> next(parse_w3c(lines))["datetime"].isoformat()
'2024-03-01T12:00:01+00:00'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from ...core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from .logformat import MAX_DIGITS

__all__ = ["parse_w3c", "field_name", "INT_FIELDS"]

#: W3C fields whose values are integers.
INT_FIELDS = frozenset(
    {
        "sc_status", "sc_substatus", "sc_win32_status", "sc_bytes", "cs_bytes", "time_taken",
        "s_port", "c_port", "s_computername_port",
    }
)  # fmt: skip


def field_name(name: str) -> str:
    """The record field of a W3C field name.

    >>> field_name("cs-uri-stem"), field_name("cs(User-Agent)"), field_name("c-ip")
    ('cs_uri_stem', 'cs_user_agent', 'c_ip')
    """
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _int(value: str) -> int:
    if not value.isdigit() or not value.isascii():
        raise ValueError(f"bad number {value[:40]!r}")
    if len(value) > MAX_DIGITS:
        raise ValueError(f"overlong integer ({len(value)} digits)")
    return int(value)


def _header(text: str) -> tuple[tuple[str, ...], tuple[Callable[[str], Any] | None, ...]]:
    names = tuple(field_name(n) for n in text.split())
    if len(set(names)) != len(names):
        raise ValueError(f"#Fields: names a field twice: {text.strip()[:80]!r}")
    return names, tuple(_int if n in INT_FIELDS else None for n in names)


def _record(names: tuple[str, ...], types: tuple[Any, ...], values: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, convert, value in zip(names, types, values, strict=True):
        record[name] = None if value == "-" else convert(value) if convert else value
    date, time = record.get("date"), record.get("time")
    if "date" in record and "time" in record:
        del record["date"], record["time"]
        if date is None or time is None:
            record["datetime"] = None
        else:
            try:
                stamp = datetime.fromisoformat(f"{date}T{time}")
            except ValueError:
                raise ValueError(f"bad date or time {date[:12]!r} {time[:16]!r}") from None
            record["datetime"] = stamp.replace(tzinfo=timezone.utc)
    return record


def parse_w3c(
    lines: Iterable[str], *, errors: Errors = "skip", ctx: RunContext | None = None
) -> Iterator[dict[str, Any] | Reject]:
    """Parse W3C extended log lines into dict records, each by the last ``#Fields:`` before it.

    Lazy; holds one header. Rejects go to ``errors`` (see
    :func:`streamql.formats.access.apache.parse_apache`).
    """
    errors = check_errors("parse_w3c", errors)
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"parse_w3c: lines must be an iterable of lines, got a {type(lines).__name__}"
        )
    cursor: ItemCursor | None = None
    if ctx is None:
        ctx = RunContext()
        ctx.cursor = cursor = ItemCursor()
    return _parse(iter(lines), errors, ctx, cursor)


def _parse(
    lines: Iterator[str], errors: Errors, ctx: RunContext, cursor: ItemCursor | None
) -> Iterator[dict[str, Any] | Reject]:
    names: tuple[str, ...] | None = None
    types: tuple[Any, ...] = ()
    for n, line in enumerate(lines, 1):
        if not isinstance(line, str):
            raise TypeError(f"parse_w3c: lines must be str, got {type(line).__name__}")
        text = line.rstrip("\r\n")
        reason = None
        if text.startswith("#"):
            if not text.startswith("#Fields:"):
                continue  # #Software, #Version, #Date, #Remark: metadata
            try:
                names, types = _header(text[len("#Fields:") :])
                continue
            except ValueError as exc:
                names, reason = None, str(exc)
        elif not text.strip():
            reason = "blank line"
        elif "\x00" in text:
            reason = "NUL byte in line"
        elif names is None:
            reason = "no #Fields: header before this line"
        else:
            values = text.split(" ")
            if len(values) != len(names):
                reason = f"expected {len(names)} fields (#Fields:), got {len(values)}"
            else:
                try:
                    yield _record(names, types, values)
                    continue
                except ValueError as exc:
                    reason = str(exc)
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_w3c", reason, line)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()
