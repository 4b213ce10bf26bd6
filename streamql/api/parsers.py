"""Stream methods that parse lines into records: one method per format.

Each is a short delegate to a plain, data-last parser function in its format
module (:mod:`streamql.formats.access.apache`...) and declares the
:class:`~streamql.core.schema.Schema` of the records it yields, so fields are
checked before the run and the planner can pre-scan, read blocks and push
aggregates down.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from ..core._lazy import lazy
from ..core.context import Errors
from ..core.plan import render_value
from .base import StreamBase

if TYPE_CHECKING:
    from ..formats import json_lines, logfmt, syslog, syslog_schema
    from ..formats import pattern as patterns
    from ..formats.access import apache, apache_schema, block_parse, logformat, scan, w3c
    from .stream import Stream
else:  # each format's modules are imported when its method first runs
    json_lines, logfmt, patterns, syslog, syslog_schema = (
        lazy(f"streamql.formats.{m}")
        for m in ("json_lines", "logfmt", "pattern", "syslog", "syslog_schema")
    )
    apache, apache_schema, block_parse, logformat, scan, w3c = (
        lazy(f"streamql.formats.access.{m}")
        for m in ("apache", "apache_schema", "block_parse", "logformat", "scan", "w3c")
    )

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
        format string, fields, types and an example line:
        ``help(streamql.formats.access.log_presets)``, or the README's "Log formats".

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
            schema=fmt.schema
            if isinstance(fmt, logformat.LogFormat)
            else apache_schema.schema_for(fmt),
            variants=(
                ("prescan", apache.parse_prescanned),
                ("blocks", block_parse.parse_apache_blocks),
                # with the C scanner, blocks pay off with no pre-scan too: records built in C
                *(
                    (("every_block", block_parse.parse_apache_blocks),)
                    if scan.builds_records()
                    else ()
                ),
            ),
        )

    def parse_w3c(self, *, errors: Errors = "skip") -> Stream[Any]:
        """Parse W3C extended (IIS) log lines into dict records, by their ``#Fields:`` headers.

        The header may change mid-file: each line is read with the last one
        before it. ``-`` is None; ``date`` and ``time`` become an aware
        ``datetime`` (UTC). Rejects as for :meth:`parse_apache`. See
        :mod:`streamql.formats.access.w3c`.

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

    def parse_json(
        self,
        fields: Sequence[str] | None = None,
        *,
        datetime: Mapping[str, str] | None = None,
        errors: Errors = "skip",
        backend: str = "auto",
    ) -> Stream[Any]:
        """Parse lines of JSON objects (JSON lines, NDJSON) into dict records.

        ``fields`` keeps only those fields (dotted paths such as
        ``"http.status"`` reach into nested objects; each is in every record,
        None where a line lacks it) and declares them, so a misspelled field
        fails before the run and a ``where`` equality on a string can skip
        lines before they are decoded; without it every object is kept whole
        and no field is checked. ``datetime`` maps fields to ``"iso8601"``,
        ``"epoch"`` or ``"epoch_ms"`` (aware datetimes). Bad lines follow
        ``errors`` as in :meth:`parse_apache`. See :func:`streamql.formats.json_lines.parse_json`.

        >>> from streamql import Stream
        >>> lines = ['{"level": "error", "http": {"status": 500}}', '{"level": "info"}']
        >>> log = Stream(lines).parse_json(["level", "http.status"])
        >>> log.where(lambda r: r["http"]["status"] == 500).count()
        1
        >>> log.count_by("levle")
        Traceback (most recent call last):
        ...
        streamql.core.errors.FieldError: count_by: parse_json yields no field 'levle'...
        <BLANKLINE>
        Its fields: level, http.status
        >>> print(log.where(level="error").explain())  # doctest: +ELLIPSIS
        Stream([...]).parse_json(['level', 'http.status']).where(level='error')
        ...
          2. parse_json(['level', 'http.status'], prescan='"error"')    row-wise, may reject...
        """
        paths = json_lines.check_fields("parse_json", fields)
        shown, kwargs = _shown(
            ("fields", paths, None, True),
            ("datetime", dict(datetime) if datetime else None, None, False),
            ("errors", errors, "skip", False),
            ("backend", backend, "auto", False),
        )
        conversions = dict(datetime) if datetime else {}
        return self._then(
            "parse_json",
            json_lines.parse_json,
            (),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=json_lines.json_schema(paths, conversions),
            variants=(("prescan", json_lines.parse_json_prescanned),),
        )

    def parse_logfmt(
        self,
        fields: Sequence[str] | None = None,
        *,
        types: Mapping[str, str | Callable[[str], Any]] | None = None,
        errors: Errors = "skip",
    ) -> Stream[Any]:
        """Parse logfmt lines (``key=value key2="quoted value"``) into dict records.

        Values are strings (``types`` converts named fields: a callable such
        as ``float``, or ``"iso8601"``, ``"epoch"``, ``"epoch_ms"``); a bare
        key is True, ``key=`` is ``""``, and a repeated key keeps its last
        value. ``fields`` keeps only those keys (each in every record, None
        where absent) and declares them, so a misspelled field fails before
        the run. Bad lines follow ``errors`` as in :meth:`parse_apache`.
        See :func:`streamql.formats.logfmt.parse_logfmt`.

        >>> from streamql import Stream
        >>> lines = ['at=info path=/ duration=0.25 msg="ok done"', 'at=error duration=1.5 msg="x']
        >>> log = Stream(lines).parse_logfmt(types={"duration": float})
        >>> log.first()
        {'at': 'info', 'path': '/', 'duration': 0.25, 'msg': 'ok done'}
        >>> log.rejects.first()["reason"]
        'unterminated quoted value at column 27'
        """
        paths = logfmt.check_keys("parse_logfmt", fields)
        shown, kwargs = _shown(
            ("fields", paths, None, True),
            ("types", dict(types) if types else None, None, False),
            ("errors", errors, "skip", False),
        )
        return self._then(
            "parse_logfmt",
            logfmt.parse_logfmt,
            (),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=logfmt.logfmt_schema(paths, dict(types) if types else {}),
        )

    def parse_syslog(
        self,
        rfc: str = "auto",
        *,
        year: int | datetime | None = None,
        tz: str | tzinfo | None = None,
        errors: Errors = "skip",
    ) -> Stream[Any]:
        """Parse syslog lines, RFC 3164 (BSD) and RFC 5424, into dict records.

        ``rfc`` is ``"auto"`` (per line), ``"3164"`` or ``"5424"``. A BSD
        timestamp has no year nor zone: ``year`` (an int, or a datetime the
        log was read at; default: now, so each line lands in the last twelve
        months) and ``tz`` (a zone name or tzinfo; default: the machine's
        local zone) supply them; see :func:`streamql.formats.syslog.parse_syslog`.
        The fields: :mod:`streamql.formats.syslog_schema`; rejects as ``parse_apache``.

        >>> from streamql import Stream

        >>> log = Stream(["<34>Oct 11 22:14:15 mymachine su: 'su root' failed"])
        >>> log.parse_syslog(year=2003, tz="UTC").select("severity_name", "app").first()
        {'severity_name': 'crit', 'app': 'su'}
        >>> print(Stream(["<34>Oct 11 22:14:15 h su: x"]).parse_syslog("3164", year=2003).explain())
        Stream(['<34>Oct 11 22:14:15 h su: x']).parse_syslog('3164', year=2003)
        <BLANKLINE>
          1. Stream(['<34>Oct 11 22:14:15 h su: x'])    source
          2. parse_syslog('3164', year=2003)            row-wise, may reject
        """
        given = (("year", year), ("tz", tz), ("errors", errors if errors != "skip" else None))
        kwargs: dict[str, Any] = {"rfc": rfc} if rfc != "auto" else {}
        kwargs.update((k, v) for k, v in given if v is not None)
        shown = ", ".join(
            ([repr(rfc)] if rfc != "auto" else [])
            + [f"{k}={render_value(v)}" for k, v in kwargs.items() if k != "rfc"]
        )
        return self._then(
            "parse_syslog",
            syslog.parse_syslog,
            (),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=syslog_schema.schema_for(syslog.check_rfc("parse_syslog", rfc)),
        )

    def parse(
        self,
        pattern: str | re.Pattern[str],
        *,
        into: Sequence[str] | None = None,
        types: Mapping[str, Callable[[str], Any]] | None = None,
        errors: Errors = "skip",
    ) -> Stream[Any]:
        """Parse each whole line with a regex's named groups, or a ``*`` pattern ``into`` names.

        The pattern is anchored at both ends; ``types`` converts fields
        (``{"bytes": int}``); a line that does not match is a reject
        ``does not match the pattern``. See :mod:`streamql.formats.pattern`.

        >>> from streamql import Stream

        >>> log = Stream(["alice took 12ms", "oops"]).parse("* took *ms", into=("who", "ms"),
        ...                                                 types={"ms": int})
        >>> log.first(), log.rejects.count()
        ({'who': 'alice', 'ms': 12}, 1)
        >>> log.count_by("mss")
        Traceback (most recent call last):
        ...
        streamql.core.errors.FieldError: count_by: parse yields no field 'mss'; did you mean 'ms'?
        <BLANKLINE>
        Its fields: who, ms
        """
        compiled = patterns.compile_pattern("parse", pattern, into, types)
        kwargs: dict[str, Any] = {"into": tuple(into)} if into is not None else {}
        if types:
            kwargs["types"] = dict(types)
        if errors != "skip":
            kwargs["errors"] = errors
        shown = ", ".join(
            [render_value(pattern)]
            + [
                f"{k}={{{', '.join(f'{n!r}: {render_value(f)}' for n, f in v.items())}}}"
                if k == "types"
                else f"{k}={v!r}"
                for k, v in kwargs.items()
            ]
        )
        return self._then(
            "parse",
            patterns.parse,
            (pattern,),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=patterns.pattern_schema(compiled),
        )


def _shown(*options: tuple[str, Any, Any, bool]) -> tuple[str, dict[str, Any]]:
    """The arguments given (not their defaults): as keywords, and as ``explain()`` shows them.

    Each option is (name, value, default, shown positionally).
    """
    kwargs = {name: value for name, value, default, _ in options if value != default}
    shown = ", ".join(
        repr(list(value)) if positional else f"{name}={value!r}"
        for name, value, default, positional in options
        if value != default
    )
    return shown, kwargs
