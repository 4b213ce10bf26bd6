"""nginx ``log_format`` strings compiled to a :class:`~streamql.formats.access.logformat.LogFormat`.

``$name`` and ``${name}`` are variables; any other text must appear as
written. Known variables are typed; any ``$http_*`` (a request header),
``$upstream_*``, ``$ssl_*`` and any other variable is a str field named after
it (``$http_`` dropped; ``$http_user_agent`` and ``$http_referer`` give
``agent`` and ``referer``, the names combined records use).

>>> fmt = compile_nginx('$remote_addr "$request" $status $request_time $upstream_addr', "x")
>>> [(f.name, f.type.__name__) for f in fmt.schema.fields][3:]
[('proto', 'str'), ('status', 'int'), ('request_time', 'float'), ('upstream_addr', 'str')]
"""

from __future__ import annotations

import re
from typing import Any

from .format_fields import Directive, build
from .logformat import LogFormat

__all__ = ["compile_nginx", "VARIABLES"]

# variable -> (kind, field name, type, doc)
VARIABLES: dict[str, tuple[str, str, type, str]] = {
    "remote_addr": ("word", "host", str, "the client's address"),
    "remote_user": ("word", "user", str, "the authenticated user, or -"),
    "time_local": ("stamp", "datetime", object, "the request's time, timezone-aware"),
    "time_iso8601": ("iso", "datetime", object, "the request's time (ISO 8601), timezone-aware"),
    "request": ("request", "request", str, ""),
    "status": ("status", "status", int, "the status code; None for -"),
    "body_bytes_sent": ("int0", "bytes", int, "bytes of the body sent, 0 for - (as %b)"),
    "bytes_sent": ("int", "bytes_sent", int, "bytes sent, headers included"),
    "request_length": ("int", "request_length", int, "bytes received, headers included"),
    "request_time": ("float", "request_time", float, "seconds taken, to the millisecond"),
    "msec": ("float", "msec", float, "the time in seconds since the epoch, at the log write"),
    "connection": ("int", "connection", int, "the connection's serial number"),
    "connection_requests": ("int", "connection_requests", int, "requests on this connection"),
    "remote_port": ("int", "remote_port", int, "the client's port"),
    "server_port": ("int", "server_port", int, "the server's port"),
    "pid": ("int", "pid", int, "the worker's process id"),
    "http_referer": ("word", "referer", str, "the Referer header, escapes kept as written"),
    "http_user_agent": ("word", "agent", str, "the User-Agent header, escapes kept as written"),
}
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _variable(name: str, token: str, pos: int) -> Directive:
    if name in VARIABLES:
        kind, field, kind_type, doc = VARIABLES[name]
        names = ("method", "request", "proto") if kind == "request" else (field,)
        return Directive(token, pos, kind, names, kind_type, doc)
    if name.startswith("http_"):
        return Directive(token, pos, "word", (name[5:],), str, f"the {name[5:]} request header")
    return Directive(token, pos, "word", (name,), str, f"${name}, as written")


def compile_nginx(text: str, name: str, **options: Any) -> LogFormat:
    """Compile an nginx ``log_format`` string (``options``: see :func:`format_fields.build`)."""
    items: list[str | Directive] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        items.append(text[pos : m.start()])
        items.append(_variable(m[1] or m[2], m[0], m.start()))
        pos = m.end()
    items.append(text[pos:])
    return build(name, text, "nginx", items, **options)
