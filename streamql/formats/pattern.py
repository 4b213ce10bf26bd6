r"""Parse lines of any format with a pattern: a regex with named groups, or ``*`` wildcards.

Two spellings, one rule: the pattern must match the **whole line** (its line
ending aside). It is anchored at both ends, so a line that matches only in
part is a reject, not a half-filled record; start or end the pattern with
``.*`` (regex) or ``*`` (wildcards) to match inside a line.

- A regular expression (``str`` or compiled): each named group ``(?P<name>...)``
  is a field; other groups are matched but not kept.
- With ``into=`` the pattern is a wildcard pattern, as angle-grinder's
  ``parse``: each ``*`` captures as little text as it can (up to the literal
  text after it), into the next name of ``into``; everything else, spaces
  included, must be there exactly. ``\*`` is a literal star, and a name of
  ``_`` matches without keeping.

Fields are text; ``types=`` maps a field to a function that converts it
(``int``, ``float``, ``datetime.fromisoformat``...): a value it refuses
(ValueError, TypeError) makes the line a reject, ``bad <field> (<type>)``. A
group that took no part in the match is None and is not converted.

>>> lines = ['10.0.0.1 - bob [now] "GET /"', 'not a log line']
>>> for r in parse('* - * [*] "*"', lines, into=("host", "user", "time", "request"),
...                errors="keep"):
...     print(r)
{'host': '10.0.0.1', 'user': 'bob', 'time': 'now', 'request': 'GET /'}
{'stage': 'parse', 'reason': 'does not match the pattern', 'line': 'not a log line',
 'file': None, 'lineno': 2}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from ..core.schema import Field, Schema, verbatim

__all__ = ["parse", "compile_pattern", "pattern_schema", "Compiled"]

Converters = Mapping[str, Callable[[str], Any]]
Compiled = tuple[re.Pattern[str], tuple[str, ...], tuple[tuple[str, Callable[[str], Any]], ...]]

_STAR = re.compile(r"(?<!\\)\*")
# How a '*' pattern ends: the line ending, if any, is matched, never captured
# (every '*' takes as little as it can).
_LINE_END = r"(?:\r?\n)?"


def _wildcards(stage: str, pattern: str, into: Sequence[str]) -> str:
    pieces = _STAR.split(pattern)
    if len(pieces) - 1 != len(into):
        raise ValueError(
            f"{stage}: the pattern {pattern!r} has {len(pieces) - 1} '*' but into names "
            f"{len(into)} field{'s' if len(into) != 1 else ''}"
        )
    regex = re.escape(pieces[0].replace("\\*", "*"))
    for name, literal in zip(into, pieces[1:], strict=True):
        regex += "(?:.*?)" if name == "_" else f"(?P<{name}>.*?)"
        regex += re.escape(literal.replace("\\*", "*"))
    return regex + _LINE_END


def compile_pattern(
    stage: str,
    pattern: str | re.Pattern[str],
    into: Sequence[str] | None = None,
    types: Converters | None = None,
) -> Compiled:
    """Check a pattern and its options when the step is added; return the regex, fields, converters.

    >>> rx, names, conv = compile_pattern("parse", "* took *ms", ("what", "ms"), {"ms": int})
    >>> rx.pattern
    '(?P<what>.*?)\\\\ took\\\\ (?P<ms>.*?)ms(?:\\\\r?\\\\n)?'
    >>> names, conv
    (('what', 'ms'), (('ms', <class 'int'>),))
    >>> compile_pattern("parse", "(?P<a>x)", types={"b": int})
    Traceback (most recent call last):
    ...
    ValueError: parse: types names 'b', which the pattern does not capture; its fields: a
    """
    if into is not None:
        if isinstance(into, str) or not all(isinstance(n, str) for n in into):
            raise TypeError(f"{stage}: into must be a sequence of field names, got {into!r}")
        if not isinstance(pattern, str):
            raise TypeError(
                f"{stage}: a wildcard pattern (with into=) must be a str, got {pattern!r}"
            )
        kept = [n for n in into if n != "_"]
        for name in kept:
            if not name.isidentifier():
                raise ValueError(f"{stage}: into names must be identifiers, got {name!r}")
        if len(set(kept)) != len(kept):
            raise ValueError(f"{stage}: into names a field twice: {into!r}")
        source = _wildcards(stage, pattern, into)
        flags = int(re.DOTALL)
    elif isinstance(pattern, re.Pattern):
        source, flags = pattern.pattern, int(pattern.flags)
    elif isinstance(pattern, str):
        source, flags = pattern, 0
    else:
        raise TypeError(f"{stage}: pattern must be a str or re.Pattern, got {pattern!r}")
    try:
        regex = re.compile(source, flags)
    except re.error as exc:
        raise ValueError(f"{stage}: the pattern {source!r} is not a valid regex: {exc}") from None
    if not isinstance(regex.pattern, str):
        raise TypeError(f"{stage}: pattern must match str lines, got a bytes pattern")
    names = tuple(sorted(regex.groupindex, key=regex.groupindex.__getitem__))
    if not names:
        raise ValueError(
            f"{stage}: the pattern {source!r} has no named group, so its records would be empty"
            "\n\nName what to keep: (?P<status>[0-9]+), or pass into=(...) for a '*' pattern."
        )
    converters: list[tuple[str, Callable[[str], Any]]] = []
    for name, convert in (types or {}).items():
        if name not in regex.groupindex:
            raise ValueError(
                f"{stage}: types names {name!r}, which the pattern does not capture; "
                f"its fields: {', '.join(names)}"
            )
        if not callable(convert):
            raise TypeError(f"{stage}: types[{name!r}] must be callable, got {convert!r}")
        converters.append((name, convert))
    return regex, names, tuple(converters)


def pattern_schema(compiled: Compiled) -> Schema:
    """The schema of the records of a compiled pattern: its fields, typed by ``types=``."""
    _, names, converters = compiled
    kinds = dict(converters)
    fields = []
    for name in names:
        convert = kinds.get(name)
        if convert is None:
            fields.append(Field(name, str, "text captured by the pattern", needle=verbatim))
        else:
            kind = convert if isinstance(convert, type) else object
            shown = getattr(convert, "__qualname__", repr(convert))
            fields.append(Field(name, kind, f"captured, converted by {shown}"))
    return Schema("parse", tuple(fields))


def parse(
    pattern: str | re.Pattern[str],
    lines: Iterable[str],
    *,
    types: Converters | None = None,
    into: Sequence[str] | None = None,
    errors: Errors = "skip",
    ctx: RunContext | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Parse each line with ``pattern`` (the whole line) into a dict of its named fields.

    Data last, as ``grep(pattern, lines)``. Lazy; constant memory. A
    regex's named groups, or with ``into=`` the ``*`` of a wildcard pattern,
    are the fields (see :mod:`streamql.formats.pattern`);
    ``types`` converts them. A line that does not match is a reject
    ``does not match the pattern`` under ``errors`` (``"skip"``, ``"raise"``,
    ``"keep"``).

    >>> regex = r"(?P<method>\\S+) (?P<path>\\S+) (?P<status>[0-9]+) .*"
    >>> rows = parse(regex, ["GET /a 200 512\\n"], types={"status": int})
    >>> next(rows)
    {'method': 'GET', 'path': '/a', 'status': 200}
    """
    compiled = compile_pattern("parse", pattern, into, types)
    errors = check_errors("parse", errors)
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"parse: lines must be an iterable of lines, got a {type(lines).__name__}"
            "\n\nWrap a single line in a list."
        )
    items = iter(lines)
    if ctx is not None:
        return _parse(items, compiled, errors, ctx, None)
    ctx = RunContext()
    ctx.cursor = cursor = ItemCursor()
    return _parse(items, compiled, errors, ctx, cursor)


def _parse(
    lines: Iterator[str],
    compiled: Compiled,
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
) -> Iterator[dict[str, Any] | Reject]:
    regex, _, converters = compiled
    fullmatch = regex.fullmatch
    # A '*' pattern matches the line ending itself: no copy of the line to cut it.
    strip = not regex.pattern.endswith(_LINE_END)
    for n, raw in enumerate(lines, 1):
        line = raw
        try:
            if strip and line[-1:] == "\n":
                line = line[:-2] if line[-2:] == "\r\n" else line[:-1]
            m = fullmatch(line)
        except TypeError:
            raise TypeError(
                f"parse: lines must be str, got {type(raw).__name__}: {raw!r:.80}"
            ) from None
        if m is not None:
            record = m.groupdict()
            try:
                for name, convert in converters:
                    value = record[name]
                    if value is not None:
                        record[name] = convert(value)
            except (ValueError, TypeError, ArithmeticError):
                reason = f"bad {name} ({getattr(convert, '__name__', 'conversion')})"
            else:
                yield record
                continue
        else:
            reason = "does not match the pattern"
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse", reason, raw)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()
