"""The fields of an Apache access-log record, written once.

:data:`APACHE` is the schema every part of streamql reads for Apache records:
the parser's records, the block scanner's columns (:data:`BLOCK_FIELDS`, the
captures of a line in order), the planner's pre-scan (which fields appear
verbatim in the raw line) and the docs. :func:`schema_for` gives the schema of
one format: ``referer`` and ``agent`` are in combined lines only.

>>> print(schema_for("combined").table())  # doctest: +NORMALIZE_WHITESPACE
host      str       the client's address or name, as logged
ident     str       the RFC 1413 identity, usually -
user      str       the authenticated user, or -
datetime  datetime  the request's time, timezone-aware
method    str       the request's method (GET, POST...); '' if the request is not METHOD URI
request   str       the URI, or the whole request text when it is not METHOD URI [PROTO]
proto     str       the protocol (HTTP/1.1); '' if absent
status    int       the status code; None where Apache wrote -
bytes     int       bytes sent, 0 where Apache wrote -
referer   str       the Referer header, escapes kept as written (combined lines)
agent     str       the User-Agent header, escapes kept as written (combined lines)
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ...core.schema import Field, Schema, verbatim

__all__ = ["APACHE", "BLOCK_FIELDS", "REQUEST_PARTS", "schema_for"]


def _status_text(value: Any) -> str | None:
    """The text around a status code in the raw line: ``" 404 `` (after the request's quote)."""
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 999:
        return f'" {value} '
    return None


APACHE = Schema(
    "parse_apache",
    (
        Field("host", str, "the client's address or name, as logged", "host", verbatim),
        Field("ident", str, "the RFC 1413 identity, usually -", "ident", verbatim),
        Field("user", str, "the authenticated user, or -", "user", verbatim),
        Field("datetime", datetime, "the request's time, timezone-aware"),
        Field(
            "method",
            str,
            "the request's method (GET, POST...); '' if the request is not METHOD URI",
            "req",
            verbatim,
        ),
        Field(
            "request",
            str,
            "the URI, or the whole request text when it is not METHOD URI [PROTO]",
            "req",
            verbatim,
        ),
        Field("proto", str, "the protocol (HTTP/1.1); '' if absent", "req", verbatim),
        Field(
            "status",
            int,
            "the status code; None where Apache wrote -",
            "status",
            _status_text,
            nullable=True,
        ),
        Field("bytes", int, "bytes sent, 0 where Apache wrote -", "bytes"),
        Field(
            "referer",
            str,
            "the Referer header, escapes kept as written (combined lines)",
            "referer",
            verbatim,
        ),
        Field(
            "agent",
            str,
            "the User-Agent header, escapes kept as written (combined lines)",
            "agent",
            verbatim,
        ),
    ),
)

# The captures of a line, in the order the line writes them (the C scanner's order).
BLOCK_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(f.column for f in APACHE.fields if f.column is not None)
)
# The fields cut from the quoted request text, in the order request_parts() gives them.
REQUEST_PARTS: dict[str, int] = {
    name: i for i, name in enumerate(f.name for f in APACHE.fields if f.column == "req")
}

_COMBINED_ONLY = ("referer", "agent")
_SCHEMAS = {
    "combined": APACHE,
    "common": APACHE.without(*_COMBINED_ONLY),
    # A common line among combined ones: its referer and agent are None (not cut from blocks).
    "auto": Schema(
        APACHE.source,
        tuple(
            dataclasses.replace(
                f,
                column=None,
                nullable=True,
                doc=f.doc.replace("(combined lines)", "(None on a common line)"),
            )
            if f.name in _COMBINED_ONLY
            else f
            for f in APACHE.fields
        )
        + tuple(  # lines of combinedio or nginx's main format (see log_presets.AUTO_MORE)
            Field(name, kind, doc, None, verbatim if kind is str else None, optional=True)
            for name, kind, doc in (
                ("bytes_in", int, "bytes received, headers included (combinedio lines)"),
                ("bytes_out", int, "bytes sent, headers included (combinedio lines)"),
                ("x_forwarded_for", str, "the X-Forwarded-For header (nginx main lines)"),
            )
        ),
    ),
}


def schema_for(format: str) -> Schema:
    """The schema of ``parse_apache(format=...)`` records (format already checked).

    >>> schema_for("auto").present() == schema_for("combined").present()
    True
    >>> schema_for("auto").get("agent").nullable, schema_for("auto").get("agent").column
    (True, None)
    """
    return _SCHEMAS[format]
