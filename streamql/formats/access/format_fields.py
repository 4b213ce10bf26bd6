"""From a format string's pieces to a :class:`~streamql.formats.access.logformat.LogFormat`.

The Apache and nginx compilers (:mod:`streamql.formats.access.apache_format`,
:mod:`streamql.formats.access.nginx_format`) cut a format string into literal text and
:class:`Directive` values; :func:`build` turns that list into the program,
the schema and the column converters, the same way for both languages.

>>> fmt = build("x", "%h %>s", "apache", [Directive("%h", 0, "word", ("host",), str, "the client"),
...                                       " ", Directive("%>s", 3, "status", ("status",), int, "")])
>>> fmt.program
(('run', 'host', ' ', False, True), ('lit', ' '), ('status', 'status', True), ('end',))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ...core.schema import Field, Schema, verbatim
from .apache_time import _datetime
from .logformat import Column, LogFormat, Op
from .request_line import RequestParts

__all__ = ["Directive", "build", "KINDS"]

# How a directive's text is read: its op, the type of its field(s).
KINDS = (
    "word",
    "text",
    "number",
    "int",
    "int0",
    "status",
    "float",
    "stamp",
    "request",
    "iso",
    "strftime",
)

_REQUESTS = RequestParts()  # shared: logs repeat their requests
_REQUEST_DOCS = (
    ("method", "the request's method (GET, POST...); '' if the request is not METHOD URI"),
    ("request", "the URI, or the whole request text when it is not METHOD URI [PROTO]"),
    ("proto", "the protocol (HTTP/1.1); '' if absent"),
)


@dataclasses.dataclass(frozen=True)
class Directive:
    """One field of a format string: how it was written, where, and how it is read.

    ``kind`` is one of :data:`KINDS`; ``names`` the record fields it gives
    (``request`` gives method, request and proto); ``arg`` the strftime
    format of a ``strftime`` directive.
    """

    token: str
    pos: int
    kind: str
    names: tuple[str, ...]
    type: type
    doc: str
    arg: str = ""


def _same(value: Any) -> Any:
    return value


def _zero(value: Any) -> Any:
    return 0 if value is None else value


def _stamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    result = _datetime(value)
    if result is None:  # the program checks the stamp in full: not reached
        raise ValueError("bad datetime")
    return result


def _iso(value: str | None) -> datetime | None:
    if value is None or value == "-":
        return None
    try:
        result = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad ISO 8601 time {value[:40]!r}") from None
    if result.tzinfo is None:
        raise ValueError(f"ISO 8601 time without an offset {value[:40]!r}")
    return result


def _number(value: str | None) -> float | None:
    """A number as some logs write it: ``-1``, ``0.000``; None for ``-``."""
    if value is None or value == "-":
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"bad number {value[:40]!r}") from None


def _strftime(form: str) -> Callable[[Any], Any]:
    def convert(value: str | None) -> datetime | None:
        if value is None or value == "-":
            return None
        try:
            return datetime.strptime(value, form)
        except ValueError:
            raise ValueError(f"time {value[:40]!r} does not match {form!r}") from None

    return convert


def _part(i: int) -> Callable[[Any], Any]:
    def part(value: str | None) -> str | None:
        return None if value is None else _REQUESTS[value][i]

    return part


def _status_needle(before: str, after: str) -> Callable[[Any], str | None]:
    def needle(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 999:
            return f"{before}{value}{after}"
        return None

    return needle


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out


def build(
    name: str,
    text: str,
    kind: str,
    items: Sequence[str | Directive],
    extra: bool = False,
    optional_after: str | None = None,
) -> LogFormat:
    """Compile pieces (literal str, :class:`Directive`) to a LogFormat named ``name``.

    With ``extra``, text after the last piece is kept in an ``extra`` field
    (None when a line has none) instead of making the line a reject. With
    ``optional_after`` (a field name), a line may end after that field: the
    later fields are then None (``auto``: a common line among combined ones).
    """
    merged: list[str | Directive] = []
    for item in items:
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] += item
        elif item != "":
            merged.append(item)
    if not any(isinstance(item, Directive) for item in merged):
        raise ValueError(f"log format {text!r}: names no field")
    ops: list[Op] = []
    fields: list[Field] = []
    columns: list[Column] = []
    taken: set[str] = set()
    for i, item in enumerate(merged):
        if isinstance(item, str):
            if "\n" in item:
                raise ValueError(f"log format {text!r}: a line format cannot hold a newline")
            ops.append(("lit", item))
            continue
        before = merged[i - 1] if i > 0 else ""
        after = merged[i + 1] if i + 1 < len(merged) else ""
        if isinstance(after, Directive) or isinstance(before, Directive):
            other = after if isinstance(after, Directive) else before
            assert isinstance(other, Directive)
            raise ValueError(
                f"log format {text!r}: {item.token} at position {item.pos} and {other.token} "
                "need text between them (a line could not be cut)"
            )
        assert isinstance(before, str) and isinstance(after, str)
        op, made, schema_fields = _directive(item, before, after, taken)
        if ("opt",) in ops:
            schema_fields = [dataclasses.replace(f, nullable=True) for f in schema_fields]
        ops.append(op)
        if optional_after in item.names:
            ops.append(("opt",))
        fields.extend(schema_fields)
        columns.append(Column(op, made, item.kind in ("iso", "strftime", "number")))
    if extra:
        col = _unique("extra", taken)
        ops += [("opt",), ("lit", " "), ("run", col, "\n", False, True)]
        doc = "text after the format's last field, or None (extra='keep')"
        fields.append(Field(col, str, doc, col, verbatim, nullable=True))
        columns.append(Column(ops[-1], ((col, _same),)))
    ops.append(("end",))
    return LogFormat(
        name, text, kind, tuple(ops), Schema("parse_apache", tuple(fields)), tuple(columns)
    )


def _directive(
    d: Directive, before: str, after: str, taken: set[str]
) -> tuple[Op, tuple[tuple[str, Callable[[Any], Any]], ...], list[Field]]:
    """The op, the field makers and the schema fields of one directive."""
    quoted = before.endswith('"') and after.startswith('"')
    stop = after[:1] or "\n"
    names = tuple(_unique(n, taken) for n in d.names)
    col = {"request": "req", "stamp": "time"}.get(d.kind, names[0])
    if col != names[0]:
        col = _unique(col, taken | set(names)) if col in taken else col
        taken.add(col)
    run: Op = ("run", col, stop, quoted, not quoted and d.kind != "text")
    if d.kind == "request":
        op = run
        made = tuple((n, _part(i)) for i, n in enumerate(names))
        fields = [
            Field(n, str, doc, col, verbatim)
            for n, (_, doc) in zip(names, _REQUEST_DOCS, strict=True)
        ]
        return op, made, fields
    field_name = names[0]
    if d.kind in ("word", "text"):
        return run, ((field_name, _same),), [Field(field_name, str, d.doc, col, verbatim)]
    if d.kind in ("int", "int0", "float"):
        op = ("float" if d.kind == "float" else "int", col, True)
        make = _zero if d.kind == "int0" else _same
        kind_type = float if d.kind == "float" else int
        field = Field(field_name, kind_type, d.doc, col, nullable=d.kind != "int0")
        return op, ((field_name, make),), [field]
    if d.kind == "status":
        op = ("status", col, True)
        needle = _status_needle(before[-1:], after[:1])
        return (
            op,
            ((field_name, _same),),
            [Field(field_name, int, d.doc, col, needle, nullable=True)],
        )
    if d.kind == "stamp":
        return ("stamp", col), ((field_name, _stamp),), [Field(field_name, datetime, d.doc)]
    if d.kind == "number":
        return run, ((field_name, _number),), [Field(field_name, float, d.doc, nullable=True)]
    convert = _iso if d.kind == "iso" else _strftime(d.arg)
    return run, ((field_name, convert),), [Field(field_name, datetime, d.doc, nullable=True)]
