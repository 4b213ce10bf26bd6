r"""Parse JSON lines (one object per line) into records: application logs, Docker, Kubernetes.

Each line is decoded on its own; a line that is not valid JSON, or is valid
JSON but not an object, goes to the ``errors=`` policy of
:mod:`streamql.core.context` with the decoder's reason:

>>> lines = ['{"level": "info", "http": {"status": 200}}\n', '{"level": "error"\n', '[1]\n']
>>> [r.get("level", r.get("reason")) for r in parse_json(lines, errors="keep")]
['info', "bad JSON: Expecting ',' delimiter at column 19", 'not a JSON object (got a list)']

``fields=`` keeps only the named fields (dotted paths reach into nested
objects, ``"http.status"`` is ``record["http"]["status"]``), every one of
them in every record, None where a line lacks it. ``datetime=`` turns named
fields into aware datetimes. Decoding uses msgspec when it is installed
(``pip install streamql[json]``), the standard library otherwise, with the
same records and rejects either way (:mod:`streamql.formats.json_decode`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime as Datetime
from typing import Any, Literal, overload

from ..core.context import Errors, ItemCursor, Reject, RunContext, check_errors
from ..core.field_types import Conversion, check_conversions, convert
from ..core.schema import Field, Schema
from .json_decode import BadLine, Decoder, backend_named, get_path

__all__ = ["parse_json", "parse_json_prescanned", "check_fields", "json_schema", "json_needle"]


def check_fields(stage: str, fields: object) -> tuple[str, ...] | None:
    """Validate a ``fields=`` argument (dotted paths, none inside another); return a tuple."""
    if fields is None:
        return None
    if isinstance(fields, str) or not isinstance(fields, Iterable):
        raise TypeError(
            f"{stage}: fields must be a list of field names, got {fields!r}"
            + ("\n\nWrite fields=[...] even for one field." if isinstance(fields, str) else "")
        )
    paths = tuple(fields)
    for path in paths:
        if not isinstance(path, str) or not path or "" in path.split("."):
            raise ValueError(f"{stage}: fields must be names or dotted paths, got {path!r}")
    for path in paths:
        for other in paths:
            if other != path and path.startswith(other + "."):
                raise ValueError(f"{stage}: field {path!r} is inside field {other!r}; keep one")
    if len(set(paths)) != len(paths):
        raise ValueError(f"{stage}: fields names a field twice: {paths!r}")
    if not paths:
        raise ValueError(f"{stage}: fields is empty; leave it out to keep every field")
    return paths


def json_needle(value: Any) -> str | None:
    r"""Text a line without a backslash holds when a field equals the string ``value``.

    In JSON text any character may be written as a ``\uXXXX`` escape, so
    ``"error"`` may arrive as ``"\u0065rror"``: no text is implied for lines
    with a backslash, and the pre-scan never refuses those (see
    :func:`parse_json_prescanned`). On a line without one, a string value
    appears exactly as ``"value"``, quotes included, unless it holds a quote,
    a backslash or a control character (those need an escape, so such a
    value cannot come from a backslash-free line; no text is claimed for it).
    Numbers imply no text: 404 equals 404.0 and 4.04e2, and True equals 1.

    >>> json_needle("error"), json_needle('say "hi"'), json_needle(404)
    ('"error"', None, None)
    """
    if not isinstance(value, str) or not value:
        return None
    if '"' in value or "\\" in value or min(value) < " ":
        return None
    return f'"{value}"'


def json_schema(
    fields: tuple[str, ...] | None, datetime: Mapping[str, Conversion]
) -> Schema | None:
    """The schema of ``parse_json(fields=...)`` records; None without ``fields`` (any field)."""
    if fields is None:
        return None
    return Schema(
        "parse_json",
        tuple(
            Field(path, Datetime, "a datetime (" + str(datetime[path]) + ")")
            if path in datetime
            else Field(path, object, "any JSON value, None where absent", needle=json_needle)
            for path in fields
        ),
    )


def _check(
    stage: str, fields: object, datetime: object, errors: object, backend: str
) -> tuple[tuple[str, ...] | None, dict[str, Conversion], Errors, str]:
    paths = check_fields(stage, fields)
    conversions = check_conversions(stage, "datetime", datetime)
    if paths is not None:
        for name in conversions:
            if name not in paths:
                raise ValueError(f"{stage}: datetime names {name!r}, which is not in fields")
    return paths, conversions, check_errors(stage, errors), backend_named(stage, backend)


@overload
def parse_json(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = ...,
    datetime: Mapping[str, str] | None = ...,
    errors: Literal["skip", "raise"] = ...,
    backend: str = ...,
    ctx: RunContext | None = ...,
) -> Iterator[dict[str, Any]]: ...
@overload
def parse_json(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = ...,
    datetime: Mapping[str, str] | None = ...,
    errors: Errors,
    backend: str = ...,
    ctx: RunContext | None = ...,
) -> Iterator[dict[str, Any] | Reject]: ...
def parse_json(
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = None,
    datetime: Mapping[str, str] | None = None,
    errors: Errors = "skip",
    backend: str = "auto",
    ctx: RunContext | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Parse lines of JSON objects into dict records.

    Lazy; constant memory: one line is decoded at a time (a line's memory is
    a few times its length while it is decoded).

    ``fields``: the fields to keep (dotted paths for nested ones), each in
    every record, None where absent; None keeps each object whole.
    ``datetime``: field -> ``"iso8601"`` (with a UTC offset), ``"epoch"``
    (seconds) or ``"epoch_ms"``, each giving an aware datetime; null or
    absent stays None, any other value that does not convert is a reject
    naming the field. ``errors``: ``"skip"`` (count, warn once at the end),
    ``"raise"`` or ``"keep"`` (yield a reject record), as :func:`parse_apache`.
    ``backend``: ``"auto"`` (msgspec if installed), ``"json"`` or ``"msgspec"``.
    Lines nested deeper than 256 levels are rejects.

    >>> lines = ['{"ts": 1700000000, "level": "warn", "http": {"status": 503}}']
    >>> record = next(parse_json(lines, fields=["level", "http.status", "ts"],
    ...                          datetime={"ts": "epoch"}))
    >>> record["http"]["status"], record["ts"].isoformat()
    (503, '2023-11-14T22:13:20+00:00')
    >>> list(parse_json(['{"ts": "yesterday"}'], datetime={"ts": "iso8601"}, errors="keep"))
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'stage': 'parse_json', 'reason': "field 'ts': not an ISO 8601 datetime: 'yesterday'",
      'line': '{"ts": "yesterday"}', 'file': None, 'lineno': 1}]
    """
    paths, conversions, errors, chosen = _check("parse_json", fields, datetime, errors, backend)
    items = _lines("parse_json", lines)
    cursor = None
    if ctx is None:
        ctx = RunContext()
        ctx.cursor = cursor = ItemCursor()
    return _parse(items, Decoder(paths, chosen), conversions, errors, ctx, cursor)


def parse_json_prescanned(
    prefilter: Callable[[str], Any],
    lines: Iterable[str],
    *,
    fields: Sequence[str] | None = None,
    datetime: Mapping[str, str] | None = None,
    errors: Errors = "skip",
    backend: str = "auto",
    ctx: RunContext,
) -> Iterator[dict[str, Any] | Reject]:
    """:func:`parse_json`, yielding only the records of lines that pass ``prefilter``.

    The planner's ``prescan`` variant: ``prefilter`` tests the raw line for
    the JSON text a ``where`` equality implies (:func:`json_needle`). A line
    without a backslash that fails it cannot hold the wanted value, so its
    record would be dropped by the ``where``: it is only checked, never built.
    The check decodes just the ``datetime`` fields (msgspec skips the rest,
    still checking the syntax), so every bad line is still a reject, with the
    same reason. A line with a backslash may spell the value with escapes and
    is always decoded in full.

    >>> from streamql.core.context import RunContext
    >>> ctx = RunContext()
    >>> lines = ['{"level": "error"}', '{"level": "info"}', '{"level": "\\\\u0065rror"}', 'bad']
    >>> [r["level"] for r in parse_json_prescanned(
    ...     lambda line: '"error"' in line, lines, fields=["level"], ctx=ctx)]
    ['error', 'error']
    >>> ctx.rejected
    Counter({'parse_json': 1})
    """
    if not callable(prefilter):
        raise TypeError(f"parse_json: prefilter must be callable, got {prefilter!r}")
    paths, conversions, errors, chosen = _check("parse_json", fields, datetime, errors, backend)
    checker = Decoder(tuple(conversions), chosen)
    test = getattr(prefilter, "check", prefilter)  # the planner's test wraps a C search
    items = _lines("parse_json", lines)
    decoder = Decoder(paths, chosen)
    return _parse(items, decoder, conversions, errors, ctx, None, test, checker)


def _lines(stage: str, lines: Iterable[str]) -> Iterator[str]:
    if isinstance(lines, (str, bytes)):
        raise TypeError(
            f"{stage}: lines must be an iterable of lines, got a {type(lines).__name__}"
            "\n\nWrap a single line in a list."
        )
    try:
        return iter(lines)
    except TypeError:
        raise TypeError(
            f"{stage}: lines must be an iterable of str, got {type(lines).__name__}"
        ) from None


def _convert(record: dict[str, Any], conversions: Mapping[str, Conversion]) -> None:
    """Convert the named fields in place (the record is this parser's own new dict)."""
    for name, how in conversions.items():
        *parents, key = name.split(".")
        parent = get_path(record, tuple(parents))
        if isinstance(parent, dict):
            value = parent.get(key)
            if value is not None:
                try:
                    parent[key] = convert(name, how, value)
                except ValueError as exc:
                    raise BadLine(exc.args[0]) from None


def _parse(
    lines: Iterator[str],
    decoder: Decoder,
    conversions: Mapping[str, Conversion],
    errors: Errors,
    ctx: RunContext,
    cursor: ItemCursor | None,
    prefilter: Callable[[str], Any] | None = None,
    checker: Decoder | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Do the work of :func:`parse_json`; ``cursor`` is set when the context is ours."""
    record_of = decoder.record
    check_of = checker.record if checker is not None else record_of
    for n, line in enumerate(lines, 1):
        if line.__class__ is not str:
            raise TypeError(
                f"parse_json: lines must be str, got {type(line).__name__}: {line!r:.80}"
            )
        try:
            if prefilter is not None and "\\" not in line and not prefilter(line):
                # Cannot hold the wanted value: check it (rejects stay), build nothing.
                checked = check_of(line)
                if conversions:
                    _convert(checked, conversions)
                continue
            record = record_of(line)
            if conversions:
                _convert(record, conversions)
        except BadLine as exc:
            reason = exc.args[0]
        else:
            yield record
            continue
        if cursor is not None:
            cursor.n = n
        rejected = ctx.bad(errors, "parse_json", reason, line)
        if rejected is not None:
            yield rejected
    if cursor is not None and errors == "skip":
        ctx.warn()
