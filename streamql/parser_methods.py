"""Stream methods that parse lines into records: one method per format.

Each is a short delegate to a plain, data-last parser function in its format
module (:mod:`streamql.apache`...) and declares the :class:`~streamql.schema.Schema`
of the records it yields, so fields are checked before the run and the
planner can pre-scan, read blocks and push aggregates down.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from . import apache, block_parse, syslog
from .apache_schema import schema_for
from .base import StreamBase
from .context import Errors
from .pattern import compile_pattern, pattern_schema
from .pattern import parse as parse_pattern
from .plan import render_value
from .syslog_schema import schema_for as syslog_schema_for

if TYPE_CHECKING:
    from .stream import Stream

__all__ = ["ParserMethods"]

T = TypeVar("T")


class ParserMethods(StreamBase[T]):
    """Methods that parse lines into records."""

    __slots__ = ()

    def parse_apache(self, format: str = "auto", *, errors: Errors = "skip") -> Stream[Any]:
        """Parse Apache common/combined log lines into dict records.

        Lines that do not parse are skipped and counted (``errors="skip"``),
        raise :class:`~streamql.ParseError` (``"raise"``) or are kept as reject
        records (``"keep"``); query them with ``.rejects``.

        >>> from streamql import Stream

        >>> line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /x HTTP/1.1" 404 133'
        >>> Stream([line]).parse_apache().first()["status"]
        404
        """
        kwargs: dict[str, Any] = {"format": format} if format != "auto" else {}
        if errors != "skip":
            kwargs["errors"] = errors
        shown = ", ".join(
            ([repr(format)] if format != "auto" else [])
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
            schema=schema_for(apache.check_format("parse_apache", format)),
            variants=(
                ("prescan", apache.parse_prescanned),
                ("blocks", block_parse.parse_apache_blocks),
            ),
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
        local zone) supply them; see :func:`streamql.syslog.parse_syslog`.
        The fields: :mod:`streamql.syslog_schema`; rejects as ``parse_apache``.

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
            schema=syslog_schema_for(syslog.check_rfc("parse_syslog", rfc)),
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
        ``does not match the pattern``. See :mod:`streamql.pattern`.

        >>> from streamql import Stream

        >>> log = Stream(["alice took 12ms", "oops"]).parse("* took *ms", into=("who", "ms"),
        ...                                                 types={"ms": int})
        >>> log.first(), log.rejects.count()
        ({'who': 'alice', 'ms': 12}, 1)
        >>> log.count_by("mss")
        Traceback (most recent call last):
        ...
        streamql.errors.FieldError: count_by: parse yields no field 'mss'; did you mean 'ms'?
        <BLANKLINE>
        Its fields: who, ms
        """
        compiled = compile_pattern("parse", pattern, into, types)
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
            parse_pattern,
            (pattern,),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=pattern_schema(compiled),
        )
