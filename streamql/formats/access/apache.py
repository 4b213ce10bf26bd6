"""Parse Apache access-log lines (common and combined formats) into records.

The tutorial's ``apache_log`` matched each line with a loose regular
expression, dropped the lines it did not match without a word, and fixed up
the fields by mutating each dict in place. :func:`parse_apache` does the same
job in one anchored match per line, builds each record once as a new dict,
turns the timestamp into an aware :class:`~datetime.datetime`, and hands every
line it cannot read to the ``errors=`` policy of :mod:`streamql.core.context`:

>>> lines = [
...     '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /ply/ HTTP/1.1" 200 4447\\n',
...     'this is not a log line\\n',
... ]
>>> [r.get("request", r.get("reason")) for r in parse_apache(lines, errors="keep")]
['/ply/', 'not an Apache log line']

Quoted fields (request, referer, agent) are kept exactly as Apache wrote them,
escapes such as ``\\"`` and ``\\xhh`` included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Literal, TypedDict, cast, overload

from ...core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from ...core.errors import ParseError
from .apache_diagnose import QUOTED, _diagnose
from .apache_schema import BLOCK_FIELDS
from .apache_time import _HOUR, _MINUTES_SECONDS, _MMSS, _OFFSET, _hour_start, _minutes_seconds
from .log_parse import check_extra, parse_compiled
from .log_presets import AUTO_MORE, LEGACY, compile_format
from .logformat import MAX_DIGITS, LogFormat
from .request_line import RequestParts, request_parts

__all__ = [
    "ApacheRecord",
    "parse_apache",
    "parse_prescanned",
    "parse_apache_line",
    "BLOCK_FIELDS",
    "request_parts",
    "RequestParts",
    "check_format",
]


class _CommonFields(TypedDict):
    host: str
    ident: str
    user: str
    datetime: datetime
    method: str
    request: str
    proto: str
    status: int | None
    bytes: int


class ApacheRecord(_CommonFields, total=False):
    """One access-log line: the common fields, plus referer and agent if combined.

    ``ident`` is the RFC 1413 identity (the tutorial's "referrer" column);
    ``request`` is the URI, or the whole request text when it is not of the
    form ``METHOD URI [PROTO]``; ``status`` is None where Apache wrote ``-``;
    ``bytes`` is 0 where Apache wrote ``-``. Under ``format="auto"`` a common
    line's referer and agent are None. Other formats give other fields (see
    :mod:`streamql.formats.access.log_presets`).
    """

    referer: str | None
    agent: str | None


# A quoted field as Apache writes it (see streamql.formats.access.apache_diagnose).
_QUOTED = QUOTED
# On a line without a backslash that means the same as "([^"]*)", which the
# regex engine scans several times faster (a one-character negated class runs
# a tight loop; a two-character one does not).
_QUOTED_PLAIN = r'"([^"]*)"'


def _line_pattern(quoted: str) -> re.Pattern[str]:
    """Compile the pattern of a whole line, common or combined."""
    return re.compile(
        rf"(\S+) (\S+) (\S+) \[({_HOUR}):({_MMSS}) ({_OFFSET})\] {quoted} ([0-9]{{3}}|-) ([0-9]+|-)"
        rf"(?: {quoted} {quoted})?\s*\Z"
    )


_LINE = _line_pattern(_QUOTED)
_LINE_PLAIN = _line_pattern(_QUOTED_PLAIN)

# Filled as status codes are met: sharing the ints saves one int object per
# record (CPython only shares those below 257). Apache writes - for no status.
_STATUS_CODES: dict[str, int | None] = {"-": None}


def check_format(stage: str, format: str, extra: str = "reject") -> str | LogFormat:
    """Validate ``format=`` and ``extra=``; return the name of a format the tuned parser
    reads (auto, common, combined, with ``extra="reject"``) or the compiled format."""
    check_extra(stage, extra)
    if format in LEGACY and extra == "reject":
        return format
    try:
        return compile_format(format, extra == "keep")
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{stage}: {exc}") from None


@overload
def parse_apache(
    lines: Iterable[str],
    *,
    format: str = ...,
    extra: str = ...,
    errors: Literal["skip", "raise"] = ...,
    ctx: RunContext | None = ...,
) -> Iterator[ApacheRecord]: ...
@overload
def parse_apache(
    lines: Iterable[str],
    *,
    format: str = ...,
    extra: str = ...,
    errors: Errors,
    ctx: RunContext | None = ...,
) -> Iterator[ApacheRecord | Reject]: ...
def parse_apache(
    lines: Iterable[str],
    *,
    format: str = "auto",
    extra: str = "reject",
    errors: Errors = "skip",
    ctx: RunContext | None = None,
) -> Iterator[ApacheRecord | Reject]:
    """Parse access-log lines (Apache, nginx) into :class:`ApacheRecord` dicts.

    Lazy; constant memory: a line is read only when the next record is asked for.

    ``format`` is ``"common"``, ``"combined"`` or ``"auto"`` (decided per
    line among common, combined, combinedio and nginx's main: a common line's
    referer and agent are None), another preset of
    :data:`streamql.formats.access.log_presets.PRESETS` (``vhost_combined``, ``combinedio``,
    ``nginx``, ``nginx_combined``), or a format string: an Apache ``LogFormat``
    (``%h %l %u %t "%r" %>s %b %D``) or an nginx ``log_format``
    (``$remote_addr [$time_local] "$request" $status``). Text after the
    format's last field makes the line a reject (``extra="reject"``) or is
    kept in an ``extra`` field (``extra="keep"``). A line that does not parse
    goes to the ``errors`` policy:
    ``"skip"`` drops it and, once the lines run out, issues one
    :class:`~streamql.core.errors.RejectedLinesWarning` naming the first one;
    ``"raise"`` raises :class:`~streamql.core.errors.ParseError`; ``"keep"`` yields
    a :class:`~streamql.core.context.Reject` record in its place. Without ``ctx``,
    line numbers count the items of ``lines`` from 1.

    The records' fields and types: :data:`streamql.formats.access.apache_schema.APACHE`.

    >>> line = ('140.180.132.213 - - [24/Feb/2008:00:08:59 -0600] '
    ...         '"GET /ply/ply.html HTTP/1.1" 200 97238')
    >>> record = next(parse_apache([line]))
    >>> record["host"], record["method"], record["request"], record["status"], record["bytes"]
    ('140.180.132.213', 'GET', '/ply/ply.html', 200, 97238)
    >>> record["datetime"].isoformat()
    '2008-02-24T00:08:59-06:00'
    >>> list(parse_apache([line + ' "-" "curl/8.0"'], format="common", errors="keep"))
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'stage': 'parse_apache', 'reason': 'unexpected text after bytes (common format)',
      'line': '140.180.132.213 - - [24/Feb/2008:00:08:59 -0600] "GET /ply/ply.html HTTP/1.1"
               200 97238 "-" "curl/8.0"', 'file': None, 'lineno': 1}]
    """
    fmt = check_format("parse_apache", format, extra)
    errors = check_errors("parse_apache", errors)
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"parse_apache: lines must be an iterable of lines, got a {type(lines).__name__}"
            "\n\nWrap a single line in a list, or use parse_apache_line()."
        )
    try:
        items = iter(lines)
    except TypeError:
        raise TypeError(
            f"parse_apache: lines must be an iterable of str, got {type(lines).__name__}"
        ) from None
    if ctx is not None:
        return _parse(items, fmt, errors, ctx, None)
    ctx = RunContext()
    ctx.cursor = cursor = ItemCursor()
    return _parse(items, fmt, errors, ctx, cursor)


def parse_prescanned(
    prefilter: Callable[[str], Any],
    lines: Iterable[str],
    *,
    format: str = "auto",
    extra: str = "reject",
    errors: Errors = "skip",
    ctx: RunContext,
) -> Iterator[ApacheRecord | Reject]:
    """:func:`parse_apache`, yielding only the records of lines that pass ``prefilter``.

    The query planner's ``prescan`` variant of the step: ``prefilter`` is a
    test of the raw line implied by the ``where`` after it, so a line that
    parses but fails it yields no record, without the cost of building one.
    Every line is still checked, so the rejects stay the same.

    >>> from streamql.core.context import RunContext
    >>> lines = ['h - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 1', 'bad']
    >>> ctx = RunContext()
    >>> [r["request"] for r in parse_prescanned(lambda line: "404" in line, lines, ctx=ctx)]
    ['/a']
    >>> ctx.rejected
    Counter({'parse_apache': 1})
    """
    if not callable(prefilter):
        raise TypeError(f"parse_apache: prefilter must be callable, got {prefilter!r}")
    fmt = check_format("parse_apache", format, extra)
    return _parse(iter(lines), fmt, check_errors("parse_apache", errors), ctx, None, prefilter)


def _parse(
    lines: Iterator[str],
    format: str | LogFormat,
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
    prefilter: Callable[[str], bool] | None = None,
) -> Iterator[Any]:
    """Do the work of :func:`parse_apache`: a compiled format's parser, or the tuned one."""
    if isinstance(format, LogFormat):
        return parse_compiled(lines, format, errors, ctx, cursor, prefilter)
    return _parse_tuned(lines, format, errors, ctx, cursor, prefilter)


def _parse_tuned(
    lines: Iterator[str],
    format: str,
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
    prefilter: Callable[[str], bool] | None = None,
) -> Iterator[ApacheRecord | Reject]:
    """Parse common, combined or auto lines; ``cursor`` is set when ctx is ours.

    The item number is written to the cursor only before a reject: nothing
    else can read a context this generator created, so that is all it needs.
    """
    # The planner's pre-scan test wraps its C check to remember its needles.
    prefilter = getattr(prefilter, "check", prefilter)
    match_escaped = _LINE.match
    match_plain = _LINE_PLAIN.match
    minutes_seconds = _MINUTES_SECONDS.get
    status_code = _STATUS_CODES.get
    requests = RequestParts()
    common_ok = format != "combined"
    combined_ok = format != "common"
    fill = format == "auto"  # a common line among combined ones: referer and agent None
    last_hour: str | None = None
    last_offset: str | None = None
    start: datetime | None = None
    for n, line in enumerate(lines, 1):
        try:
            m = match_escaped(line) if "\\" in line else match_plain(line)
        except TypeError:
            hint = (
                "\n\nOpen the files first: .open().cat(), or start from Stream.lines(...)."
                if isinstance(line, os.PathLike)
                else ""
            )
            raise TypeError(
                f"parse_apache: lines must be str, got {type(line).__name__}: {line!r:.80}{hint}"
            ) from None
        if m is None and fill:  # auto: the presets that extend combined, by their shape
            for more in AUTO_MORE:
                extended = more.parse_line(line)
                if type(extended) is dict:
                    break
            else:
                extended = None
            if extended is not None:
                if prefilter is None or prefilter(line):
                    yield extended  # type: ignore[misc]
                continue
        if m is None:
            reason = _diagnose(line, format)
        else:
            (host, ident, user, hour, mmss, offset, req, status, nbytes, referer, agent) = (
                m.groups()
            )
            if hour != last_hour or offset != last_offset:
                last_hour, last_offset = hour, offset
                start = _hour_start(hour, offset)
            delta = minutes_seconds(mmss)
            if delta is None:
                delta = _minutes_seconds(mmss)
            if start is None or delta is None:
                reason = "bad datetime"
            elif len(nbytes) > MAX_DIGITS:  # never a huge int, nor int()'s ValueError
                reason = f"overlong integer in bytes ({len(nbytes)} digits)"
            elif "\x00" in line:  # a hole a copytruncate left: not what the server wrote
                reason = "NUL byte in line"
            elif common_ok if agent is None else combined_ok:
                if prefilter is not None and not prefilter(line):
                    continue  # a valid line the query's filter would drop
                method, request, proto = requests[req]
                code = status_code(status, 0)
                if code == 0:
                    code = _STATUS_CODES[status] = int(status)
                record: ApacheRecord = {
                    "host": host,
                    "ident": ident,
                    "user": user,
                    "datetime": start + delta,
                    "method": method,
                    "request": request,
                    "proto": proto,
                    "status": code,
                    "bytes": 0 if nbytes == "-" else int(nbytes),
                }
                if agent is not None or fill:
                    record["referer"] = referer
                    record["agent"] = agent
                yield record
                continue
            elif agent is None:
                reason = "not a combined line"
            else:
                reason = "unexpected text after bytes (common format)"
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_apache", reason, line)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()


def parse_apache_line(line: str, format: str = "auto") -> ApacheRecord:
    """Parse one Apache access-log line into an :class:`ApacheRecord`.

    Eager; holds only the line. Raises ``ValueError`` with a short reason
    (the one :func:`parse_apache` would report) if the line does not parse.

    >>> r = parse_apache_line('::1 - bob [01/Jan/2024:12:00:00 +0530] "-" 400 - "-" "-"')
    >>> r["host"], r["user"], r["method"], r["request"], r["bytes"], r["agent"]
    ('::1', 'bob', '', '-', 0, '-')
    >>> r["datetime"].isoformat(), r["datetime"].tzinfo
    ('2024-01-01T12:00:00+05:30', datetime.timezone(datetime.timedelta(seconds=19800)))
    >>> parse_apache_line('::1 - - [32/Jan/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5')
    Traceback (most recent call last):
    ...
    ValueError: bad datetime
    """
    fmt = check_format("parse_apache_line", format)
    if not isinstance(line, str):
        raise TypeError(f"parse_apache_line: line must be str, got {type(line).__name__}")
    try:
        return cast(ApacheRecord, next(_parse(iter((line,)), fmt, "raise", RunContext(), None)))
    except ParseError as exc:
        raise ValueError(exc.reason) from None
