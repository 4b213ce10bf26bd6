"""Stream methods that parse lines into records: one method per format.

Each is a short delegate to a plain, data-last parser function in its format
module (:mod:`streamql.apache`...) and declares the :class:`~streamql.schema.Schema`
of the records it yields, so fields are checked before the run and the
planner can pre-scan, read blocks and push aggregates down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from . import apache, block_parse, w3c
from .apache_schema import schema_for
from .base import StreamBase
from .context import Errors
from .log_presets import presets_doc
from .logformat import LogFormat

if TYPE_CHECKING:
    from .stream import Stream

__all__ = ["ParserMethods"]

T = TypeVar("T")


class ParserMethods(StreamBase[T]):
    """Methods that parse lines into records."""

    __slots__ = ()

    def parse_apache(
        self, format: str = "auto", *, extra: str = "reject", errors: Errors = "skip"
    ) -> Stream[Any]:
        """Parse access-log lines (Apache, nginx; a preset or a format string) into dict records.

        ``format``: ``"auto"`` (common, combined, combinedio or nginx's main,
        decided per line; a common line's referer and agent are None), a preset
        (``common``, ``combined``, ``vhost_combined``, ``combinedio``, ``nginx`` =
        nginx's default ``main``, ``nginx_combined``, ``alb``), an Apache ``LogFormat`` string
        (``'%h %l %u %t "%r" %>s %b %D'``) or an nginx ``log_format`` string.
        Text after the format's last field makes a reject (``extra="reject"``)
        or is kept in an ``extra`` field (``"keep"``). Lines that do not parse
        are skipped and counted (``errors="skip"``), raise
        :class:`~streamql.ParseError` (``"raise"``) or are kept as reject
        records (``"keep"``); query them with ``.rejects``. Each preset's
        fields and types: the README's "Log formats", or
        ``compile_format(name).schema.table()`` (:mod:`streamql.log_presets`).

        >>> from streamql import Stream

        >>> line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /x HTTP/1.1" 404 133'
        >>> Stream([line]).parse_apache().first()["status"]
        404
        >>> Stream([line + ' "-" "curl" "-"']).parse_apache("nginx").first()["agent"]
        'curl'
        """
        fmt = apache.check_format("parse_apache", format, extra)
        kwargs: dict[str, Any] = {"format": format} if format != "auto" else {}
        if extra != "reject":
            kwargs["extra"] = extra
        if errors != "skip":
            kwargs["errors"] = errors
        shown = ", ".join(
            ([repr(format)] if format != "auto" else [])
            + ([f"extra={extra!r}"] if extra != "reject" else [])
            + ([f"errors={errors!r}"] if errors != "skip" else [])
        )
        return self._then(
            "parse_apache",
            apache.parse_apache,
            (),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=fmt.schema if isinstance(fmt, LogFormat) else schema_for(fmt),
            variants=(
                ("prescan", apache.parse_prescanned),
                ("blocks", block_parse.parse_apache_blocks),
            ),
        )

    def parse_w3c(self, *, errors: Errors = "skip") -> Stream[Any]:
        """Parse W3C extended (IIS) log lines into dict records, by their ``#Fields:`` headers.

        The header may change mid-file: each line is read with the last one
        before it. ``-`` is None; ``date`` and ``time`` become an aware
        ``datetime`` (UTC). Rejects as for :meth:`parse_apache`. See
        :mod:`streamql.w3c`.

        >>> from streamql import Stream

        >>> lines = ["#Fields: date time cs-uri-stem sc-status", "2024-03-01 12:00:01 /a 404"]
        >>> Stream(lines).parse_w3c().first()["sc_status"]
        404
        """
        return self._then(
            "parse_w3c",
            w3c.parse_w3c,
            (),
            {"errors": errors} if errors != "skip" else {},
            uses_ctx=True,
            rejects=True,
            rowwise=False,  # a header line changes how the lines after it are read
            shown=f"errors={errors!r}" if errors != "skip" else "",
        )


# help(Stream.parse_apache) lists each preset's fields and types, read from their schemas.
ParserMethods.parse_apache.__doc__ = (
    f"{ParserMethods.parse_apache.__doc__}\n        The presets:\n\n"
    + "\n".join("        " + line if line else "" for line in presets_doc().splitlines())
    + "\n"
)
