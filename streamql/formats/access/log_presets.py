"""The access-log formats streamql knows by name, and :func:`compile_format` for any other.

>>> compile_format("nginx").schema.names[-1]
'x_forwarded_for'
>>> compile_format("nginx").text == NGINX_MAIN
True
"""

from __future__ import annotations

import functools

from .apache_format import compile_apache
from .apache_schema import schema_for
from .aws_alb import EXAMPLE as ALB_EXAMPLE
from .aws_alb import compile_alb
from .logformat import LogFormat
from .nginx_format import compile_nginx

__all__ = ["PRESETS", "EXAMPLES", "NGINX_MAIN", "compile_format", "LEGACY"]

_COMMON = '%h %l %u %t "%r" %>s %b'
_COMBINED = _COMMON + ' "%{Referer}i" "%{User-Agent}i"'
_NGINX_COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
#: nginx's default ``main`` format, as its sample configuration writes it.
NGINX_MAIN = _NGINX_COMBINED + ' "$http_x_forwarded_for"'

#: Preset name -> its format string (Apache LogFormat, or nginx log_format).
PRESETS: dict[str, str] = {
    "common": _COMMON,
    "combined": _COMBINED,
    "auto": _COMBINED,  # a line may end after bytes (see compile_format)
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "combinedio": _COMBINED + " %I %O",
    "nginx": NGINX_MAIN,
    "nginx_combined": _NGINX_COMBINED,
    "alb": compile_alb().text,  # AWS ALB access logs: their fields, in AWS's order
}
_STAMP = "[24/Feb/2008:00:08:59 -0600]"
_REQ = '"GET /ply/ HTTP/1.1" 200 7587'
_TAIL = '"http://www.dabeaz.com/" "Mozilla/5.0"'
#: Preset name -> an example line.
EXAMPLES: dict[str, str] = {
    "common": f"1.2.3.4 - - {_STAMP} {_REQ}",
    "combined": f"1.2.3.4 - - {_STAMP} {_REQ} {_TAIL}",
    "auto": f"1.2.3.4 - - {_STAMP} {_REQ}",
    "vhost_combined": f"www.dabeaz.com:80 1.2.3.4 - - {_STAMP} {_REQ[:-4]}7822 {_TAIL}",
    "combinedio": f"1.2.3.4 - - {_STAMP} {_REQ} {_TAIL} 512 7822",
    "nginx": f'1.2.3.4 - - {_STAMP} {_REQ} {_TAIL} "10.0.0.1"',
    "nginx_combined": f"1.2.3.4 - - {_STAMP} {_REQ} {_TAIL}",
    "alb": ALB_EXAMPLE,
}
#: The formats whose lines the tuned parser and the C record builder read.
LEGACY = ("auto", "common", "combined")
#: What ``auto`` reads besides common and combined lines: the presets whose
#: fields extend combined's, told apart by their shape (two numbers after the
#: agent: combinedio; one more quoted field: nginx's main, its ident the "-"
#: nginx writes). No line fits two of them, so there is no tie to resolve.
AUTO_MORE = (
    compile_apache(_COMBINED + " %I %O", "auto (combinedio)"),
    compile_apache(_COMBINED + ' "%{X-Forwarded-For}i"', "auto (nginx main)"),
)


@functools.lru_cache(maxsize=128)
def compile_format(format: str, extra: bool = False) -> LogFormat:
    """Compile a preset name, an Apache ``LogFormat`` or an nginx ``log_format`` string.

    A string holding ``%`` is Apache's, one holding ``$`` nginx's. ``auto``
    is ``combined`` whose lines may end after ``bytes`` (a common line: its
    referer and agent are None). With ``extra``, text after the last field is
    kept in an ``extra`` field rather than making the line a reject.

    >>> fmt = compile_format('%h "%r" %>s %b "%{X-Forwarded-For}i"')
    >>> fmt.schema.names
    ('host', 'method', 'request', 'proto', 'status', 'bytes', 'x_forwarded_for')
    >>> compile_format("nginx_main")
    Traceback (most recent call last):
    ...
    ValueError: format must be a preset (common, combined, auto, vhost_combined, combinedio, \
nginx, nginx_combined, alb) or a format string with % or $ directives, got 'nginx_main'
    """
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, got {type(format).__name__}")
    if format == "alb":
        return compile_alb()  # AWS adds fields at the end: always kept in extra
    text = PRESETS.get(format, format)
    options: dict[str, object] = {"extra": extra}
    if format == "auto":
        options["optional_after"] = "bytes"
    if "%" in text:
        return compile_apache(text, format, **options)
    if "$" in text:
        return compile_nginx(text, format, **options)
    raise ValueError(
        f"format must be a preset ({', '.join(PRESETS)}) or a format string with % or $ "
        f"directives, got {format!r}"
    )


def presets_doc() -> str:
    """Each preset's format string, fields and types, and an example line (for help()).

    >>> print(presets_doc().splitlines()[0])
    common: '%h %l %u %t "%r" %>s %b'
    """
    parts = []
    for name, text in PRESETS.items():
        schema = schema_for(name) if name in LEGACY else compile_format(name).schema
        table = schema.table().replace("\n", "\n    ")
        shown = (
            "common, combined, combinedio or nginx (main), decided per line"
            if name == "auto"
            else repr(text)
        )
        parts.append(f"{name}: {shown}\n  e.g. {EXAMPLES[name]}\n    {table}")
    return "\n\n".join(parts)


# help() on this module lists each preset's fields and types, read from their schemas.
__doc__ = f"{__doc__}\nThe presets:\n\n{presets_doc()}\n"
