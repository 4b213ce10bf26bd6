r"""Check every line of a block of Apache log lines at once; cut its columns, or its records.

:func:`block_columns` is the fast check of :mod:`streamql.ops.blocks`: it tells
whether every line of a block is a good log line (the one test of
:func:`block_pattern`, timestamps checked in full), and if so
hands back the fields the query needs as one list per field
(:func:`block_hits`: only for the lines holding some texts). A block it
refuses is parsed line by line by the caller, so the check may refuse a good
line (that costs time) but never passes a bad one. :func:`block_records`
builds the records themselves.

Two implementations give the same answers: the C scanner ``_scanner``, built
when streamql is installed where a C compiler is present, and the regular
expression, which CPython runs at about a fifth of the C scanner's speed
(:func:`block_records` is C only: without it, records come from the line
parser). :func:`checker` says which one runs; ``STREAMQL_PURE=1`` in the
environment turns the C scanner off. The tests compare the two on generated
lines.

>>> block = ('1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 200 10\n'
...          '1.2.3.4 - - [24/Feb/2008:00:09:00 -0600] "GET /b HTTP/1.1" 404 -\n')
>>> block_columns(block, "auto", ("req", "bytes"))
{'req': ['GET /a HTTP/1.1', 'GET /b HTTP/1.1'], 'bytes': [10, 0]}
>>> block_columns(block + "garbage\n", "auto", ("bytes",)) is None
True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from ...core.defaults import PURE
from .apache_schema import BLOCK_FIELDS
from .apache_time import _timezone
from .logformat import MAX_DIGITS
from .request_line import RequestParts

_BYTES = itemgetter("bytes")

__all__ = [
    "ACCELERATED",
    "block_columns",
    "block_hits",
    "block_lines_valid",
    "block_records",
    "builds_records",
    "checker",
    "hit_spans",
]


# Whole blocks of lines at once (see streamql.ops.blocks). A block pattern matches
# one line, without its newline, and only lines the line parser accepts: the
# timestamp is checked in full (month names, days per month, leap years, hours,
# offsets), so a match needs no further check. It may refuse some good lines
# (none are known); those blocks are parsed line by line, so that costs time,
# never an answer. "[^"]*" may run past a newline, but such a match covers two
# lines and is caught by the count of matches, which must equal the count of
# lines.
_LONG = "Jan|Mar|May|Jul|Aug|Oct|Dec"
_DAY = (
    "(?:(?:0[1-9]|1[0-9]|2[0-8])/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    f"|(?:29|30)/(?:Jan|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)|31/(?:{_LONG}))"
    "/(?!0000)[0-9]{4}"
    "|29/Feb/(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
)
_BLOCK_TIME = (
    rf"\[(?:{_DAY}):(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-](?:[01][0-9]|2[0-3])[0-5][0-9]\]"
)
_BLOCK_QUOTED = r'[^"\\\n]*(?:\\.[^"\\\n]*)*'  # inside the quotes, for blocks holding a backslash
_BLOCK_QUOTED_PLAIN = r'[^"]*'
# The fields a block pattern can capture are the schema's BLOCK_FIELDS, as the
# line writes them: "req" is the quoted request text the record's method,
# request and proto come from; referer and agent are in combined lines only.


@functools.lru_cache(maxsize=64)
def block_pattern(format: str, escaped: bool, capture: tuple[str, ...] = ()) -> re.Pattern[str]:
    """Compile the pattern of one valid line in a block, capturing the ``capture`` fields.

    ``capture`` lists fields of :data:`BLOCK_FIELDS` in that order (the order of the line).

    >>> p = block_pattern("auto", False, ("bytes",))
    >>> p.findall('h - - [29/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 12\\n'
    ...           'h - - [29/Feb/2007:00:08:59 -0600] "GET / HTTP/1.1" 200 34\\n')
    ['12']
    """
    if [f for f in BLOCK_FIELDS if f in capture] != list(capture):
        raise ValueError(f"block_pattern: capture fields of {BLOCK_FIELDS}, in order: {capture}")
    if format != "combined" and {"referer", "agent"} & set(capture):
        raise ValueError("block_pattern: referer and agent are in combined lines only")
    inside = _BLOCK_QUOTED if escaped else _BLOCK_QUOTED_PLAIN
    bodies = {
        "host": r"\S+",
        "ident": r"\S+",
        "user": r"\S+",
        "status": "[0-9]{3}",
        "bytes": "[0-9]{1,18}+|-",  # more digits: the line parser rejects the line
        "req": inside,
        "referer": inside,
        "agent": inside,
    }
    parts = {
        name: (f"({body})" if name in capture else f"(?:{body})") for name, body in bodies.items()
    }
    tail = {
        "auto": f'(?: "{inside}" "{inside}")?',
        "common": "",
        "combined": f' "{parts["referer"]}" "{parts["agent"]}"',
    }[format]
    pattern = (
        rf"^{parts['host']} {parts['ident']} {parts['user']} {_BLOCK_TIME} "
        rf'"{parts["req"]}" {parts["status"]} {parts["bytes"]}{tail}[ \t]*$'
    )
    return re.compile(pattern, re.MULTILINE)


_FORMAT_CODES = {"auto": 0, "common": 1, "combined": 2}

_c_scan: Callable[..., tuple[Any, ...] | None] | None
_WHY_NOT = "STREAMQL_PURE is set"
try:
    from . import _scanner

    _c_scan = _scanner.scan
except ImportError:  # built without a C compiler: the regex does the same job
    _c_scan, _WHY_NOT = None, "the C scanner is not built"
if PURE:
    _c_scan = None

#: True when blocks are checked by the C scanner, False when by the regex.
ACCELERATED = _c_scan is not None


def checker() -> str:
    """Say which check :func:`block_columns` runs, and if not the C scanner, why.

    >>> checker() in ("the C scanner", "a regular expression (the C scanner is not built)",
    ...               "a regular expression (STREAMQL_PURE is set)")
    True
    """
    return "the C scanner" if _c_scan is not None else f"a regular expression ({_WHY_NOT})"


def _mask(captured: tuple[str, ...]) -> int:
    mask = 0
    for name in captured:
        mask |= 1 << BLOCK_FIELDS.index(name)
    return mask


def _typed(name: str, text: list[str]) -> list[Any]:
    """Turn the text of a status or bytes column into the ints records hold."""
    if name == "status":
        return list(map(int, text))
    if name == "bytes":
        return [0 if x == "-" else int(x) for x in text] if "-" in text else list(map(int, text))
    return text


def _by_regex(
    block: str, fmt: str, captured: tuple[str, ...], lines: int
) -> dict[str, list[Any]] | None:
    """block_columns by the regex: every line must match, each on its own."""
    if "\x00" in block:  # the line parser rejects NUL bytes
        return None
    pattern = block_pattern(fmt, "\\" in block, captured)
    if not captured:
        return {} if pattern.subn("", block)[1] == lines else None
    found = pattern.findall(block)
    if len(found) != lines:
        return None
    if len(captured) == 1:  # findall gives strings, not 1-tuples
        return {captured[0]: _typed(captured[0], found)}
    return {name: _typed(name, list(map(itemgetter(i), found))) for i, name in enumerate(captured)}


def block_columns(
    block: str, fmt: str, captured: tuple[str, ...], lines: int | None = None
) -> dict[str, list[Any]] | None:
    """Return the ``captured`` fields of every line of ``block``, or None if any line is refused.

    ``fmt`` is ``"auto"``, ``"common"`` or ``"combined"``; ``captured`` names
    fields of :data:`~streamql.formats.access.apache.BLOCK_FIELDS` in that order. ``lines``
    is the block's line count if the caller knows it. status and bytes come
    as ints (bytes ``-`` as 0), the other fields as the line's text, quoted
    fields without their quotes. Holds the block's columns in memory.
    """
    if lines is None:
        lines = block.count("\n") + (not block.endswith("\n"))
    if _c_scan is not None:
        if "\x00" in block:  # the line parser rejects NUL bytes; the C scanner would not
            return None
        with_bytes = captured if "bytes" in captured else _with_bytes(captured)
        found = _c_call(block, _FORMAT_CODES[fmt], _mask(with_bytes))
        if found is None or found[0] != lines or _overlong(found[1 + with_bytes.index("bytes")]):
            return None
        return dict(zip(captured, (found[1 + with_bytes.index(c)] for c in captured), strict=True))
    return _by_regex(block, fmt, captured, lines)


def _with_bytes(captured: tuple[str, ...]) -> tuple[str, ...]:
    """``captured`` and bytes, in the line's order (to check every line's bytes)."""
    return tuple(f for f in BLOCK_FIELDS if f in captured or f == "bytes")


# The line parser rejects integers of more than 18 digits (MAX_DIGITS): the
# C scanner reads them, so its blocks are checked for any (one max() per block).
_TOO_BIG = 10**MAX_DIGITS


_INT_LIMIT = "integer string conversion"  # CPython's message past 4,300 digits


def _overlong(values: Iterable[int]) -> bool:
    return bool(max(values, default=0) >= _TOO_BIG)


def _c_call(block: str, *args: Any) -> Any:
    """The C scanner's answer, or None where its int conversion gives up (4,301+ digits)."""
    assert _c_scan is not None
    try:
        return _c_scan(block, *args)
    except ValueError as exc:
        if _INT_LIMIT not in str(exc):
            raise
        return None


def block_lines_valid(block: str, fmt: str, lines: int | None = None) -> bool:
    r"""Tell whether every line of ``block`` is a good log line of format ``fmt``.

    >>> block_lines_valid('h - - [29/Feb/2007:00:08:59 -0600] "GET / HTTP/1.1" 200 1\n', "auto")
    False
    """
    return block_columns(block, fmt, (), lines) is not None


# Without the C scanner, needles found in more than one line in this many make
# the regex path cut every line's columns (one pass) rather than find the lines.
_RATIO = 6


@functools.lru_cache(maxsize=64)
def _finder(needles: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, needles)))


def hit_spans(block: str, needles: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    r"""Yield [start, end) of each line of ``block`` holding one of ``needles``, in order.

    A line is yielded once however many needles it holds; ``end`` is after its
    newline. Lazy.

    >>> list(hit_spans("a x\nb\nx c x\n", ("x",)))
    [(0, 4), (6, 12)]
    >>> list(hit_spans("a\nb", ("",)))  # the empty text is in every line
    [(0, 2), (2, 3)]
    """
    search = _finder(needles).search
    pos = 0
    while pos < len(block) and (hit := search(block, pos)) is not None:
        start = block.rfind("\n", 0, hit.start()) + 1
        end = block.find("\n", hit.end())
        end = len(block) if end < 0 else end + 1
        yield start, end
        pos = end


def _hit_lines(block: str, needles: tuple[str, ...]) -> tuple[str, list[int]]:
    """The lines of ``block`` holding a needle, as one text, and their 0-based numbers."""
    pieces: list[str] = []
    rows: list[int] = []
    pos = row = 0
    for start, end in hit_spans(block, needles):
        row += block.count("\n", pos, start)
        rows.append(row)
        pieces.append(block[start:end])
        row += block.count("\n", start, end)
        pos = end
    return "".join(pieces), rows


def block_hits(
    block: str,
    fmt: str,
    captured: tuple[str, ...],
    needles: tuple[str, ...],
    lines: int | None = None,
) -> tuple[dict[str, list[Any]], list[int] | None] | None:
    r"""Check every line of ``block``; cut the fields of the lines holding one of ``needles``.

    Returns None if any line is refused, else the columns (as
    :func:`block_columns`) and the 0-based numbers of the lines they come
    from, or None for every line: the regex path cuts every line when the
    needles are common, the C scanner always (only cutting a line's bytes
    finds an overlong one, which the line parser rejects). Lines without a
    needle may be among them, so the caller's own test must follow.

    >>> block = ('h - - [24/Feb/2008:00:08:59 -0600] "GET /robots.txt HTTP/1.1" 200 1\n'
    ...          + 'h - - [24/Feb/2008:00:09:00 -0600] "GET / HTTP/1.1" 200 2\n' * 6)
    >>> columns, rows = block_hits(block, "common", ("bytes",), ("robots",))
    >>> columns["bytes"][0], rows in ([0], None)  # the C scanner checks every line's bytes
    (1, True)
    """
    if not needles or "" in needles:  # every line holds the empty text
        found = block_columns(block, fmt, captured, lines)
        return None if found is None else (found, None)
    if lines is None:
        lines = block.count("\n") + (not block.endswith("\n"))
    if _c_scan is not None:
        # Every line's bytes must be checked for overlong integers, which only
        # cutting them does: so every line is cut (the caller tests each).
        found = block_columns(block, fmt, captured, lines)
        return None if found is None else (found, None)
    if sum(map(block.count, needles)) * _RATIO >= lines:
        found = _by_regex(block, fmt, captured, lines)
        return None if found is None else (found, None)
    if _by_regex(block, fmt, (), lines) is None:
        return None
    text, rows = _hit_lines(block, needles)
    found = _by_regex(text, fmt, captured, len(rows)) if rows else {name: [] for name in captured}
    return None if found is None else (found, rows)


def builds_records() -> bool:
    """Tell whether :func:`block_records` can run (it needs the C scanner)."""
    return _c_scan is not None


def block_records(
    block: str,
    fmt: str,
    start: int,
    max_lines: int,
    requests: RequestParts,
    needles: tuple[str, ...] = (),
) -> tuple[list[Any], list[int], int, int] | None:
    r"""Build the records of up to ``max_lines`` lines of ``block`` from offset ``start``, in C.

    The records are those :func:`streamql.formats.access.apache.parse_apache` makes of the
    lines (or of those holding one of ``needles``). Returns them, the offset
    of each one's line, the number of lines passed and the offset after
    them; None if one of those lines is refused, so that the caller parses
    them one by one. Needs the C scanner (:func:`builds_records`).

    >>> block = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 200 10\n'
    >>> if builds_records():  # else the same, line by line: parse_apache(block_lines(block))
    ...     records, starts, lines, end = block_records(block, "auto", 0, 9, RequestParts())
    ...     print(records[0]["datetime"].isoformat(), starts, lines, end == len(block))
    ... else:
    ...     print("2008-02-24T00:08:59-06:00 [0] 1 True")
    2008-02-24T00:08:59-06:00 [0] 1 True
    """
    if _c_scan is None:
        raise RuntimeError("block_records: the C scanner is not in use; see builds_records()")
    needles = () if "" in needles else needles
    # The line parser rejects NUL bytes and overlong bytes fields: with needles
    # the C builder does not read the other lines' bytes, so check them all first.
    if start == 0 and ("\x00" in block or (needles and block_columns(block, fmt, ()) is None)):
        return None
    try:
        found = _scanner.records(
            block, start, max_lines, _FORMAT_CODES[fmt], requests, _timezone, needles
        )
    except ValueError as exc:  # an int of 4,301+ digits: the line parser rejects it
        if _INT_LIMIT not in str(exc):
            raise
        return None
    if found is not None and found[0] and _overlong(map(_BYTES, found[0])):
        return None
    return found
