r"""Parse syslog lines, BSD (RFC 3164) and structured (RFC 5424), into records.

One anchored match per line, the record built once as a new dict, facility
and severity decoded to numbers and names, and every line that cannot be read
handed to the ``errors=`` policy of :mod:`streamql.core.context` with a reason:

>>> lines = [
...     "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n",
...     '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
...     '[exampleSDID@32473 iut="3" eventSource="Application"] An application event\n',
...     "<999>Oct 11 22:14:15 mymachine su: hello\n",
... ]
>>> for r in parse_syslog(lines, year=2003, tz="UTC", errors="keep"):
...     print(r.get("app"), r.get("severity_name"), r.get("structured_data"), r.get("reason"))
su crit None None
evntslog notice {'exampleSDID@32473': {'iut': '3', 'eventSource': 'Application'}} None
None None None bad PRI

The fields and their types: :mod:`streamql.formats.syslog_schema`. The year and time
zone of a BSD timestamp, which the format does not carry: :mod:`streamql.formats.syslog_time`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from typing import Any

from ..core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from .syslog_schema import PRIORITIES
from .syslog_time import RFC3339, BsdClock, check_tz, check_year, rfc3339, seconds_into_hour

__all__ = ["parse_syslog", "check_rfc", "parse_structured_data"]

_RFCS = ("auto", "3164", "5424")
_P = "+" if sys.version_info >= (3, 11) else ""  # possessive: a hostile value stays linear

# RFC 3164: [<PRI>]Mmm dd hh:mm:ss HOST [TAG[PID]:] MSG. The day is padded with
# a space (or a zero, or not at all: writers differ). rsyslog's high-precision
# file format puts an RFC 3339 timestamp in the same place: read that too.
_BSD = re.compile(
    r"(?:<([0-9]{1,3})>)?"
    rf"(?:([A-Z][a-z]{{2}})  ?([0-9]{{1,2}}) ([0-9]{{2}}):([0-9]{{2}}:[0-9]{{2}})|({RFC3339})) "
    r"(\S+)(?: (?:([^\s\[\]:]+)(?:\[([^\]]*)\])?: ?)?(.*))?\Z",
    re.DOTALL,
)

# RFC 5424 section 6 (the lengths of the header fields, 255, 48, 128 and 32
# at most, are checked after the match: a counted repeat costs more). SD-NAME
# is 1-32 printable ASCII but '=', ' ', ']', '"'; a PARAM-VALUE escapes '"',
# '\' and ']' with a backslash.
_NAME = r"[!#-<>-\\^-~]{1,32}"
_VALUE_TEXT = rf'[^"\\]*{_P}(?:\\.[^"\\]*{_P})*{_P}'
_ELEMENT = rf'\[{_NAME}(?: {_NAME}="{_VALUE_TEXT}")*\]'
_5424 = re.compile(
    rf"<([0-9]{{1,3}})>([1-9][0-9]{{0,2}}) (-|{RFC3339}) ([!-~]+) ([!-~]+) "
    rf"([!-~]+) ([!-~]+) (-|(?:{_ELEMENT})+)(?: (.*))?\Z",
    re.DOTALL,
)
# Under rfc="auto" a 5424 line is one of VERSION 1, the only one there is:
# "<34>11 Oct ..." is a BSD line that put its day first, not version 11.
_LOOKS_5424 = re.compile(r"<[0-9]{1,3}>1 ")
# A parameter is told by the space before it (its name may start with '[').
_SD_TOKENS = re.compile(rf' ({_NAME})="({_VALUE_TEXT})"|\[({_NAME})', re.DOTALL).findall


def check_rfc(stage: str, rfc: object) -> str:
    """Validate an ``rfc=`` argument when the step is added; return it."""
    if rfc not in _RFCS:
        raise ValueError(f"{stage}: rfc must be 'auto', '3164' or '5424', got {rfc!r}")
    return str(rfc)


def parse_syslog(
    lines: Iterable[str],
    *,
    rfc: str = "auto",
    year: int | datetime | None = None,
    tz: str | tzinfo | None = None,
    errors: Errors = "skip",
    ctx: RunContext | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Parse syslog lines (RFC 3164 and RFC 5424) into dict records.

    Lazy; constant memory. ``rfc="auto"`` tells the two apart per line (a
    5424 line starts ``<PRI>1 ``); ``"3164"`` or ``"5424"`` accepts only one.
    A BSD timestamp has no year and no zone: ``year`` and ``tz`` supply them
    (default: the year that puts the line in the last twelve months, so a log
    crossing December to January comes out right, and the local time zone;
    see :mod:`streamql.formats.syslog_time`). RFC 5424's NILVALUE ``-`` reads as None;
    structured data as a dict of dicts, its escapes undone.

    A line that does not parse goes to ``errors``, with a reason such as
    ``bad PRI``, ``bad timestamp`` or ``unterminated structured data``
    (``"skip"`` counts it and warns once; ``"raise"`` raises
    :class:`~streamql.core.errors.ParseError`; ``"keep"`` yields the reject).

    >>> r = next(parse_syslog(["<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"], year=2024, tz="UTC"))
    >>> r["host"], r["app"], r["message"], r["facility_name"], r["datetime"].isoformat()
    ('10.0.0.99', None, 'Use the BFG!', 'user', '2024-02-05T17:32:18+00:00')
    >>> r = next(parse_syslog(['<14>1 - - - - - [a b="x\\\\]y"] \\ufeffhi'], rfc="5424"))
    >>> r["datetime"], r["structured_data"], r["message"]
    (None, {'a': {'b': 'x]y'}}, 'hi')
    """
    check_rfc("parse_syslog", rfc)
    year = check_year("parse_syslog", year)
    zone = check_tz("parse_syslog", tz)
    errors = check_errors("parse_syslog", errors)
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"parse_syslog: lines must be an iterable of lines, got a {type(lines).__name__}"
            "\n\nWrap a single line in a list."
        )
    items = iter(lines)
    clock = BsdClock(year, zone)
    if ctx is not None:
        return _parse(items, rfc, clock, errors, ctx, None)
    ctx = RunContext()
    ctx.cursor = cursor = ItemCursor()
    return _parse(items, rfc, clock, errors, ctx, cursor)


def _parse(
    lines: Iterator[str],
    rfc: str,
    clock: BsdClock,
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
) -> Iterator[dict[str, Any] | Reject]:
    bsd_ok, rfc5424_ok = rfc != "5424", rfc != "3164"
    full = rfc != "3164"  # every record has the 5424 fields
    match_bsd, match_5424, looks_5424 = _BSD.match, _5424.match, _LOOKS_5424.match
    priorities, hour, into_hour = PRIORITIES.get, clock.hour, seconds_into_hour
    fromisoformat = datetime.fromisoformat
    nothing: tuple[Any, ...] = (None, None, None, None, None)
    for n, raw in enumerate(lines, 1):
        if not isinstance(raw, str):
            raise TypeError(
                f"parse_syslog: lines must be str, got {type(raw).__name__}: {raw!r:.80}"
            )
        line = raw
        if line[-1:] == "\n":
            line = line[:-2] if line[-2:] == "\r\n" else line[:-1]
        reason: str
        if rfc5424_ok and (not bsd_ok or looks_5424(line)):
            m = match_5424(line)
            if m is None:
                reason = _diagnose_5424(line)
            else:
                pri, version, stamp, host, app, pid, msgid, sd, message = m.groups()
                decoded: tuple[Any, ...] | None = priorities(pri)
                when = None
                if stamp != "-":
                    try:  # the shape is checked: the C parser does the rest (not 'z', 3.10's 'Z')
                        when = fromisoformat(stamp)
                    except ValueError:
                        when = rfc3339(stamp)
                data = None if sd == "-" else parse_structured_data(sd)
                if decoded is None:
                    reason = "bad PRI"
                elif len(host) > 255 or len(app) > 48 or len(pid) > 128 or len(msgid) > 32:
                    reason = _diagnose_5424(line)
                elif when is None and stamp != "-":
                    reason = "bad timestamp"
                elif isinstance(data, str):
                    reason = data
                else:
                    if message is not None and message[:1] == "\ufeff":
                        message = message[1:]
                    yield {
                        "pri": decoded[0],
                        "facility": decoded[1],
                        "facility_name": decoded[2],
                        "severity": decoded[3],
                        "severity_name": decoded[4],
                        "datetime": when,
                        "host": None if host == "-" else host,
                        "app": None if app == "-" else app,
                        "pid": None if pid == "-" else pid,
                        "version": int(version),
                        "msgid": None if msgid == "-" else msgid,
                        "structured_data": data,
                        "message": message,
                    }
                    continue
        else:
            m = match_bsd(line)
            if m is None:
                reason = _diagnose_bsd(line)
            else:
                pri, month, day, hh, mmss, iso, host, app, pid, message = m.groups()
                decoded = nothing if pri is None else priorities(pri)
                if iso is not None:
                    try:
                        when = fromisoformat(iso)
                    except ValueError:
                        when = rfc3339(iso)
                else:
                    start, delta = hour(month, day, hh), into_hour(mmss)
                    when = None if start is None or delta is None else start + delta
                if decoded is None:
                    reason = "bad PRI"
                elif when is None:
                    reason = "bad timestamp"
                else:
                    if message is None:
                        message = ""
                    elif message[:1] == "\ufeff":
                        message = message[1:]
                    record = {
                        "pri": decoded[0],
                        "facility": decoded[1],
                        "facility_name": decoded[2],
                        "severity": decoded[3],
                        "severity_name": decoded[4],
                        "datetime": when,
                        "host": host,
                        "app": app,
                        "pid": pid,
                    }
                    if full:
                        record["version"] = record["msgid"] = record["structured_data"] = None
                    record["message"] = message
                    yield record
                    continue
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_syslog", reason, raw)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()


def parse_structured_data(sd: str) -> dict[str, dict[str, Any]] | str:
    r"""Read RFC 5424 STRUCTURED-DATA (already checked by the line pattern) into a dict of dicts.

    Escaped ``\"``, ``\\`` and ``\]`` are undone; any other backslash stays, as
    the RFC says. A name repeated in one element gives the list of its values.
    Returns a reason (a str) for what the pattern cannot check: a repeated SD-ID.

    >>> parse_structured_data(r'[x@1 a="1" a="2"][y b="q\"\\z"]')
    {'x@1': {'a': ['1', '2']}, 'y': {'b': 'q"\\z'}}
    >>> parse_structured_data('[x][x]')
    "duplicate SD-ID 'x'"
    """
    data: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    # One scan for the whole text: each token opens an element or is one of its
    # parameters, in order (the text is known to be well formed).
    for name, value, sd_id in _SD_TOKENS(sd):
        if sd_id:
            if sd_id in data:
                return f"duplicate SD-ID {sd_id!r}"
            values = data[sd_id] = {}
            continue
        if "\\" in value:
            value = _unescape(value)
        seen = values.get(name)
        if seen is None:
            values[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            values[name] = [seen, value]
    return data


def _unescape(value: str) -> str:
    r"""Undo ``\"``, ``\\`` and ``\]`` (a backslash pairs with the character after it).

    String methods, not a regex substitution: several times faster.

    >>> _unescape(r'a\\\" \] \n')
    'a\\" ] \\n'
    """
    return "\\".join(p.replace('\\"', '"').replace("\\]", "]") for p in value.split("\\\\"))


_PRI_TEXT = re.compile(r"<([^>]{0,4})>")
_BSD_STAMP = re.compile(rf"(?:[A-Za-z]{{3}}  ?[0-9]{{1,2}} [0-9:]{{8}}|{RFC3339})(?: |\Z)")
_VERSION = re.compile(r"[1-9][0-9]{0,2} ")
_HEADER = (("HOSTNAME", 255), ("APP-NAME", 48), ("PROCID", 128), ("MSGID", 32))
_OPEN_ELEMENT = re.compile(rf'\[{_NAME}(?: {_NAME}="{_VALUE_TEXT}")*', re.DOTALL)
_PARAM_START = re.compile(rf' {_NAME}="', re.DOTALL)
_CLOSED_VALUE = re.compile(rf'{_VALUE_TEXT}"', re.DOTALL)
_PRINTABLE = re.compile(r"[!-~]+\Z")


def _pri(line: str) -> tuple[str | None, int]:
    """Check a leading <PRI>: a reason if it is bad, and where the text after it starts."""
    m = _PRI_TEXT.match(line)
    if m is None or m[1] not in PRIORITIES:
        return "bad PRI", 0
    return None, m.end()


def _diagnose_bsd(line: str) -> str:
    """Name what is wrong with a line the BSD pattern refused (only called then)."""
    if not line.strip():
        return "blank line"
    pos = 0
    if line.startswith("<"):
        bad, pos = _pri(line)
        if bad:
            return bad
    stamp = _BSD_STAMP.match(line, pos)
    if stamp is None:
        return "bad timestamp"
    if not line[stamp.end() :].strip():
        return "no HOSTNAME"
    return "not a syslog line"


def _diagnose_5424(line: str) -> str:
    """Name what is wrong with a line the RFC 5424 pattern refused (only called then)."""
    if not line.strip():
        return "blank line"
    bad, pos = _pri(line)
    if bad:
        return bad
    version = _VERSION.match(line, pos)
    if version is None:
        return "not an RFC 5424 line (no VERSION after <PRI>)"
    parts = line[version.end() :].split(" ", 5)
    if len(parts) < 6:
        return "missing header fields"
    if parts[0] != "-" and rfc3339(parts[0]) is None:
        return "bad timestamp"
    for (name, longest), text in zip(_HEADER, parts[1:5], strict=False):
        if len(text) > longest or not _PRINTABLE.match(text):
            return f"bad {name}"
    sd = parts[5]
    if sd == "-" or sd.startswith("- "):
        return "bad structured data"
    pos, end = 0, len(sd)
    while pos < end and sd[pos] == "[":
        opened = _OPEN_ELEMENT.match(sd, pos)
        if opened is None:
            return "bad SD-ID"
        pos = opened.end()
        if pos == end:
            return "unterminated structured data"
        if sd[pos] == "]":
            pos += 1
            continue
        param = _PARAM_START.match(sd, pos)
        if param is not None and _CLOSED_VALUE.match(sd, param.end()) is None:
            return "unterminated structured data"
        return "bad structured data"
    if pos == 0:
        return "bad structured data"
    return "no space before MSG"
