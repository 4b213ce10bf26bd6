r"""Parse logfmt lines (``key=value key2="quoted value"``) into records: Heroku, Go, Loki.

The rules, as Heroku's router, Go's ``log/slog`` text handler, go-logfmt and
Grafana Loki write and read them:

- pairs are separated by spaces or tabs; a key is any run of characters
  other than space, ``=`` and ``"``;
- ``key=value``: the value runs to the next space and may hold ``=``
  (``path=/a?b=c``) but not a quote;
- ``key="quoted value"``: ``\"``, ``\\``, ``\n``, ``\r``, ``\t`` and ``\uXXXX``
  are escapes; any other backslash escape, or a missing closing quote, makes
  the line a reject;
- a bare ``key`` (no ``=``) is True; ``key=`` is the empty string;
- a key given twice keeps its last value (in the place it first appeared).

Values are strings unless ``types=`` converts them. A line that breaks the
rules goes to the ``errors=`` policy with the reason and its column:

>>> lines = ['at=info method=GET path=/ status=200 msg="all \\"good\\""', 'at=info msg="oops']
>>> [r.get("msg", r.get("reason")) for r in parse_logfmt(lines, errors="keep")]
['all "good"', 'unterminated quoted value at column 13']
"""

from __future__ import annotations

import functools
import operator
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, overload

from ..core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from ..core.defaults import PURE
from ..core.field_types import Conversion, check_conversions, convert, result_type
from ..core.schema import Field, Schema

__all__ = ["parse_logfmt", "check_keys", "logfmt_schema", "format_logfmt", "cut_in_c"]

_P = "+" if sys.version_info >= (3, 11) else ""  # possessive: linear on hostile quotes
_KEY = r'[^\s="]+'
_QUOTED = rf'"[^"\\]*{_P}(?:\\.[^"\\]*{_P})*{_P}"'
_BARE = r'[^\s"]*'
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "/": "/"}
_SPACE = re.compile(r"\s*")
# A pair followed by a space or the end, or else a run of other text (which
# makes the line a reject). Each character is scanned a bounded number of times.
_TOKENS = re.compile(rf"({_KEY})(?:(=)({_QUOTED}|{_BARE}))?(?=\s|\Z)|(\S+)")
_KEYS, _EQUALS, _VALUES, _JUNK = (operator.itemgetter(i) for i in range(4))
_KEY_AT = re.compile(_KEY)
_PLAIN_VALUE = re.compile(r'[^\s"\\=\x00-\x1f\x7f]+')  # written unquoted
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_QUOTED_AT = re.compile(_QUOTED)
_BARE_AT = re.compile(_BARE)


class _BadValue(ValueError):
    pass


_c_record: Callable[[str, tuple[str, ...] | None], dict[str, Any] | str | None] | None
try:  # the same rules cut in C, when the extension is built (``STREAMQL_PURE`` turns it off)
    from ._logfmt import record as _c_record
except ImportError:
    _c_record = None
if PURE:
    _c_record = None


def cut_in_c() -> bool:
    """Tell whether logfmt lines are cut in C here (built, and ``STREAMQL_PURE`` not set).

    Both cuts give the same records and the same reasons (the tests check them
    on the same lines); with the C one, ``bench/bench_json.py`` measures
    ``parse_logfmt`` at 3.6x to 4.6x the speed of a hand-written regex loop.

    >>> cut_in_c() in (True, False)
    True
    """
    return _c_record is not None


def check_keys(stage: str, fields: object) -> tuple[str, ...] | None:
    """Validate a ``fields=`` argument of logfmt keys; return it as a tuple."""
    if fields is None:
        return None
    if isinstance(fields, str) or not isinstance(fields, Iterable):
        raise TypeError(f"{stage}: fields must be a list of keys, got {fields!r}")
    keys = tuple(fields)
    for key in keys:
        if not isinstance(key, str) or not re.fullmatch(_KEY, key):
            raise ValueError(f"{stage}: {key!r} cannot be a logfmt key")
    if not keys or len(set(keys)) != len(keys):
        raise ValueError(f"{stage}: fields must name each key once, got {keys!r}")
    return keys


def logfmt_schema(fields: tuple[str, ...] | None, types: Mapping[str, Conversion]) -> Schema | None:
    """The schema of ``parse_logfmt(fields=...)`` records; None without ``fields``."""
    if fields is None:
        return None
    return Schema(
        "parse_logfmt",
        tuple(
            Field(key, result_type(types[key]), f"converted by {types[key]!r}")
            if key in types
            else Field(key, str, "the text, True for a bare key, None where absent")
            for key in fields
        ),
    )


def _unescape(match: re.Match[str]) -> str:
    code = match[1]
    if len(code) == 5:
        return chr(int(code[1:], 16))
    try:
        return _ESCAPES[code]
    except KeyError:
        raise _BadValue(f"unknown escape \\{code}") from None


def _value(text: str) -> str:
    inner = text[1:-1]
    return _ESCAPE.sub(_unescape, inner) if "\\" in inner else inner


def _diagnose(line: str) -> str:
    """Name what breaks the rules, and where (only for lines the line pattern refused)."""
    pos = _space_end(line, 0)
    if pos == len(line):
        return "blank line"
    while pos < len(line):
        if line[pos] == "=":
            return f"missing key before '=' at column {pos + 1}"
        if line[pos] == '"':
            return f"quote outside a value at column {pos + 1}"
        pos = _KEY_AT.match(line, pos).end()  # type: ignore[union-attr]
        if line.startswith("=", pos):
            pos += 1
            if line.startswith('"', pos):
                quoted = _QUOTED_AT.match(line, pos)
                if quoted is None:
                    return f"unterminated quoted value at column {pos + 1}"
                pos = quoted.end()
            else:
                pos = _BARE_AT.match(line, pos).end()  # type: ignore[union-attr]
        if pos < len(line) and not line[pos].isspace():
            return f"quote inside a value at column {pos + 1}"
        pos = _space_end(line, pos)
    return "not a logfmt line"  # not reached while the walk and the pattern agree


def _space_end(line: str, pos: int) -> int:
    return _SPACE.match(line, pos).end()  # type: ignore[union-attr]


def _exact(pairs: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """The record of the pairs one by one: bare keys, escapes, repeats (last wins)."""
    record: dict[str, Any] = {}
    for key, eq, value, _ in pairs:
        if not eq:
            record[key] = True
        elif value[:1] == '"':
            record[key] = _value(value)
        else:
            record[key] = value
    return record


def _record(line: str, keys: tuple[str, ...] | None) -> dict[str, Any]:
    """One line's pairs (only ``keys``, if given); raise _BadValue naming what breaks the rules.

    The reference cut, and the one that runs without the C extension: one
    ``findall`` cuts the pairs and marks anything else. Only the values a
    record keeps are unquoted, unless the line holds a backslash: then every
    value is (an unknown escape is a reject, whatever the fields).
    """
    pairs = _TOKENS.findall(line)
    if not pairs:
        raise _BadValue("blank line")
    if any(map(_JUNK, pairs)):
        raise _BadValue(_diagnose(line))
    if not all(map(_EQUALS, pairs)) or "\\" in line:
        record = _exact(pairs)
        return record if keys is None else {key: record.get(key) for key in keys}
    record = dict(zip(map(_KEYS, pairs), map(_VALUES, pairs), strict=True))
    if '"' not in line:
        return record if keys is None else {key: record.get(key) for key in keys}
    if keys is not None:
        record = {key: record.get(key) for key in keys}
    # Quotes are unquoted after the repeats are settled: the last value counts.
    return {k: v[1:-1] if v is not None and v[:1] == '"' else v for k, v in record.items()}


@overload
def parse_logfmt(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = ...,
    types: Mapping[str, Any] | None = ...,
    errors: Literal["skip", "raise"] = ...,
    ctx: RunContext | None = ...,
) -> Iterator[dict[str, Any]]: ...
@overload
def parse_logfmt(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = ...,
    types: Mapping[str, Any] | None = ...,
    errors: Errors,
    ctx: RunContext | None = ...,
) -> Iterator[dict[str, Any] | Reject]: ...
def parse_logfmt(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = None,
    types: Mapping[str, Any] | None = None,
    errors: Errors = "skip",
    ctx: RunContext | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Parse logfmt lines into dict records (the rules: :mod:`streamql.formats.logfmt`).

    Lazy; constant memory: one line at a time.

    ``fields``: the keys to keep, each in every record (None where absent);
    None keeps every key. ``types``: key -> a callable such as ``float`` or
    ``int``, or ``"iso8601"``, ``"epoch"``, ``"epoch_ms"`` (aware datetimes),
    applied to string values; a value it cannot convert is a reject naming
    the key. ``errors``: ``"skip"``, ``"raise"`` or ``"keep"``, as
    :func:`~streamql.formats.access.apache.parse_apache`.

    >>> line = 'ts=2026-12-04T10:00:00Z level=warn debug duration=0.5 user='
    >>> record = next(parse_logfmt([line], types={"duration": float, "ts": "iso8601"}))
    >>> record["duration"], record["debug"], record["user"], record["ts"].isoformat()
    (0.5, True, '', '2026-12-04T10:00:00+00:00')
    >>> next(parse_logfmt(['a=1 b=2'], fields=["b", "c"]))
    {'b': '2', 'c': None}
    """
    keys = check_keys("parse_logfmt", fields)
    conversions = check_conversions("parse_logfmt", "types", types)
    errors = check_errors("parse_logfmt", errors)
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"parse_logfmt: lines must be an iterable of lines, got a {type(lines).__name__}"
            "\n\nWrap a single line in a list."
        )
    items = iter(lines)
    cursor = None
    if ctx is None:
        ctx = RunContext()
        ctx.cursor = cursor = ItemCursor()
    return _parse(items, keys, conversions, errors, ctx, cursor)


def _parse(
    lines: Iterator[str],
    keys: tuple[str, ...] | None,
    conversions: Mapping[str, Conversion],
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
) -> Iterator[dict[str, Any] | Reject]:
    # A callable is called directly (the reason is worked out only when it fails).
    calls = [
        (key, how, how if callable(how) else functools.partial(convert, key, how))
        for key, how in conversions.items()
    ]
    c_record = _c_record
    for n, line in enumerate(lines, 1):
        if line.__class__ is not str:
            raise TypeError(
                f"parse_logfmt: lines must be str, got {type(line).__name__}: {line!r:.80}"
            )
        try:
            if c_record is None:
                record = _record(line, keys)
            else:
                cut = c_record(line, keys)
                if not isinstance(cut, dict):
                    raise _BadValue(_diagnose(line) if cut is None else cut)
                record = cut
            for key, how, call in calls:
                value = record.get(key)
                if value.__class__ is str:
                    try:
                        record[key] = call(value)
                    except (ValueError, TypeError, ArithmeticError):
                        record[key] = convert(key, how, value)  # raises, naming the field
        except ValueError as exc:
            reason = exc.args[0]
        else:
            yield record
            continue
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_logfmt", reason, line)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()


def format_logfmt(record: Mapping[str, Any]) -> str:
    """Write one record as a logfmt line: the inverse of :func:`parse_logfmt` on strings.

    True is a bare key; values with spaces, quotes, ``=``, backslashes or
    control characters are quoted and escaped.

    >>> format_logfmt({"at": "info", "msg": 'say "hi"', "debug": True, "user": ""})
    'at=info msg="say \\\\"hi\\\\"" debug user='
    """
    parts = []
    for key, value in record.items():
        if value is True:
            parts.append(key)
            continue
        text = str(value)
        if text and _PLAIN_VALUE.fullmatch(text):
            parts.append(f"{key}={text}")
        else:
            escaped = (
                text.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                .replace("\t", "\\t")
            )
            escaped = _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", escaped)
            parts.append(f'{key}="{escaped}"' if text else f"{key}=")
    return " ".join(parts)
