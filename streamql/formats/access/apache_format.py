r"""Apache ``LogFormat`` strings (mod_log_config) compiled to a :class:`LogFormat`.

Each ``%`` directive becomes a typed field; the text between directives must
appear as written. Condition modifiers (``%400,501{User-agent}i``, ``%!200r``)
and ``<``/``>`` are accepted: such a field may then hold ``-``. The format may
be pasted from a config file: ``\"`` and ``\\`` mean ``"`` and ``\``.

>>> fmt = compile_apache('%h %l %u %t "%r" %>s %b %D', "x")
>>> [f.name for f in fmt.schema.fields][-3:]
['status', 'bytes', 'duration_us']
>>> compile_apache('%h %Z', "x")
Traceback (most recent call last):
...
ValueError: log format '%h %Z': unknown directive %Z at position 3
"""

from __future__ import annotations

import re
from typing import Any

from .format_fields import Directive, build
from .logformat import LogFormat

__all__ = ["compile_apache", "DIRECTIVES"]

# letter -> (kind, field name, type, doc)
DIRECTIVES: dict[str, tuple[str, str, type, str]] = {
    "h": ("word", "host", str, "the client's address or name, as logged"),
    "a": ("word", "client_ip", str, "the client's IP address"),
    "A": ("word", "local_ip", str, "the server's IP address"),
    "l": ("word", "ident", str, "the RFC 1413 identity, usually -"),
    "u": ("word", "user", str, "the authenticated user, or -"),
    "t": ("stamp", "datetime", object, "the request's time, timezone-aware"),
    "r": ("request", "request", str, ""),
    "s": ("status", "status", int, "the status code; None where Apache wrote -"),
    "b": ("int0", "bytes", int, "bytes sent (no headers), 0 where Apache wrote -"),
    "B": ("int", "bytes", int, "bytes sent (no headers)"),
    "O": ("int", "bytes_out", int, "bytes sent, headers included; None for -"),
    "I": ("int", "bytes_in", int, "bytes received, headers included; None for -"),
    "S": ("int", "bytes_total", int, "bytes received and sent; None for -"),
    "D": ("int", "duration_us", int, "time taken to serve the request, in microseconds"),
    "T": ("int", "duration_s", int, "time taken to serve the request, in whole seconds"),
    "v": ("word", "vhost", str, "the canonical name of the server"),
    "V": ("word", "server_name", str, "the server name (UseCanonicalName)"),
    "p": ("int", "port", int, "the server's port"),
    "P": ("int", "pid", int, "the process id of the child"),
    "k": ("int", "keepalive", int, "keepalive requests on this connection"),
    "U": ("word", "path", str, "the URL path, without the query string"),
    "q": ("text", "query", str, "the query string with its ?, or ''"),
    "m": ("word", "method", str, "the request method"),
    "H": ("word", "proto", str, "the request protocol"),
    "X": ("word", "conn_status", str, "connection status: X aborted, + kept alive, - closed"),
    "L": ("word", "log_id", str, "the request's log id, or -"),
    "f": ("word", "filename", str, "the file name"),
    "R": ("word", "handler", str, "the handler generating the response"),
}
_HEADER_NAMES = {"referer": "referer", "user_agent": "agent"}
_UNITS = {
    "ms": ("duration_ms", "milliseconds"),
    "us": ("duration_us", "microseconds"),
    "s": ("duration_s", "whole seconds"),
}
_TOKEN = re.compile(r"%(!?[0-9,]*)([<>]?)(?:\{([^}]*)\})?(.)?")


def _braced(letter: str, arg: str, token: str, pos: int, text: str) -> Directive | None:
    """The directive of ``%{arg}letter`` (None: use the plain letter's)."""
    ident = re.sub(r"[^0-9a-z]+", "_", arg.lower()).strip("_")
    if letter in "ioeCn":
        prefix = {"i": "", "o": "resp_", "e": "env_", "C": "cookie_", "n": "note_"}[letter]
        name = _HEADER_NAMES.get(ident, ident) if letter == "i" else ident
        where = {
            "i": "the request header",
            "o": "the response header",
            "e": "the variable",
            "C": "the cookie",
            "n": "the note",
        }[letter]
        return Directive(token, pos, "word", (prefix + name,), str, f"{where} {arg}, as written")
    if letter == "t":
        form = arg.removeprefix("begin:").removeprefix("end:")
        if form in ("sec", "msec", "usec", "msec_frac", "usec_frac"):
            return Directive(token, pos, "int", (f"time_{form}",), int, f"the time, {form}")
        return Directive(
            token,
            pos,
            "strftime",
            ("datetime",),
            object,
            f"the request's time ({form}); aware where the format has %z",
            form,
        )
    if letter == "T" and arg in _UNITS:
        name, unit = _UNITS[arg]
        return Directive(token, pos, "int", (name,), int, f"time taken, in {unit}")
    if letter == "p":
        name = {"remote": "remote_port", "local": "local_port"}.get(arg, "port")
        return Directive(token, pos, "int", (name,), int, f"the {arg or 'server'} port")
    if letter == "a" and arg == "c":
        return Directive(token, pos, "word", ("peer_ip",), str, "the connection's peer IP")
    if letter in DIRECTIVES:
        return None
    raise ValueError(f"log format {text!r}: unknown directive {token} at position {pos}")


def _items(text: str) -> list[str | Directive]:
    unescaped = text.replace('\\"', '"').replace("\\\\", "\\")
    items: list[str | Directive] = []
    pos = 0
    for m in re.finditer("%", unescaped):
        if m.start() < pos:
            continue  # the second % of %%
        items.append(unescaped[pos : m.start()])
        if unescaped.startswith("%%", m.start()):
            items.append("%")
            pos = m.start() + 2
            continue
        tok = _TOKEN.match(unescaped, m.start())
        assert tok is not None  # every part of the token is optional
        _, _, arg, letter = tok.groups()
        token, at = tok[0], m.start()
        if letter is None:
            raise ValueError(f"log format {text!r}: a lone % at position {at}")
        item = _braced(letter, arg, token, at, text) if arg is not None else None
        if item is None:
            if letter not in DIRECTIVES:
                raise ValueError(f"log format {text!r}: unknown directive {token} at position {at}")
            kind, name, kind_type, doc = DIRECTIVES[letter]
            names = ("method", "request", "proto") if kind == "request" else (name,)
            item = Directive(token, at, kind, names, kind_type, doc)
        items += ["[", item, "]"] if item.kind == "stamp" else [item]  # %t writes its brackets
        pos = tok.end()
    items.append(unescaped[pos:])
    return items


def compile_apache(text: str, name: str, **options: Any) -> LogFormat:
    """Compile an Apache ``LogFormat`` string (``options``: see :func:`format_fields.build`)."""
    return build(name, text, "apache", _items(text), **options)
