"""The fields of a syslog record, written once, and the names of facilities and severities.

:func:`schema_for` gives the :class:`~streamql.core.schema.Schema` of the records
:func:`streamql.formats.syslog.parse_syslog` yields for each ``rfc=``: RFC 3164 (BSD)
lines have ten fields; RFC 5424 lines, and every record under ``rfc="auto"``,
have thirteen (a BSD line's ``version``, ``msgid`` and ``structured_data`` are
None there), so the fields are known before the run whatever the lines hold.

>>> print(schema_for("3164").table())  # doctest: +NORMALIZE_WHITESPACE
pri            int       the PRI number (facility * 8 + severity); None if the line has no <PRI>
facility       int       the facility number, 0-23; None without <PRI>
facility_name  str       the facility's name (kern, user, mail, ... local7); None without <PRI>
severity       int       the severity number, 0 (emerg) to 7 (debug); None without <PRI>
severity_name  str       the severity's name (emerg, alert, crit, err, warning, notice, info, debug)
datetime       datetime  the message's time, timezone-aware; None for 5424's NILVALUE
host           str       the HOSTNAME field; None for 5424's NILVALUE
app            str       the tag (APP-NAME); None if absent
pid            str       the process id ([pid] or PROCID), as text; None if absent
message        str       the message text (MSG), a leading BOM removed; None if absent (5424)
>>> PRIORITIES["34"]
(34, 4, 'auth', 2, 'crit')
"""

from __future__ import annotations

from datetime import datetime

from ..core.schema import Field, Schema, verbatim

__all__ = ["FACILITIES", "SEVERITIES", "PRIORITIES", "SYSLOG_3164", "SYSLOG_5424", "schema_for"]

FACILITIES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    *(f"local{n}" for n in range(8)),
)
"""Facility names by number (RFC 5424 table 1, named as syslog(3) and rsyslog do)."""

SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
"""Severity names by number (RFC 5424 table 2, named as syslog(3) does)."""

PRIORITIES: dict[str, tuple[int, int, str, int, str]] = {
    str(pri): (pri, pri >> 3, FACILITIES[pri >> 3], pri & 7, SEVERITIES[pri & 7])
    for pri in range(len(FACILITIES) * 8)
}
"""The text of every valid PRI ("0" to "191", no leading zero) and what it decodes to."""

_COMMON = (
    Field("pri", int, "the PRI number (facility * 8 + severity); None if the line has no <PRI>"),
    Field("facility", int, "the facility number, 0-23; None without <PRI>"),
    Field(
        "facility_name",
        str,
        "the facility's name (kern, user, mail, ... local7); None without <PRI>",
    ),
    Field("severity", int, "the severity number, 0 (emerg) to 7 (debug); None without <PRI>"),
    Field(
        "severity_name",
        str,
        "the severity's name (emerg, alert, crit, err, warning, notice, info, debug)",
    ),
    Field("datetime", datetime, "the message's time, timezone-aware; None for 5424's NILVALUE"),
    Field("host", str, "the HOSTNAME field; None for 5424's NILVALUE", needle=verbatim),
    Field("app", str, "the tag (APP-NAME); None if absent", needle=verbatim),
    Field("pid", str, "the process id ([pid] or PROCID), as text; None if absent", needle=verbatim),
)
_MESSAGE = Field(
    "message", str, "the message text (MSG), a leading BOM removed; None if absent (5424)"
)

SYSLOG_3164 = Schema("parse_syslog", (*_COMMON, _MESSAGE))
"""The fields of an RFC 3164 (BSD) record."""

SYSLOG_5424 = Schema(
    "parse_syslog",
    (
        *_COMMON,
        Field("version", int, "the protocol version (1); None for a 3164 line under rfc='auto'"),
        Field("msgid", str, "the MSGID field; None for NILVALUE or a 3164 line", needle=verbatim),
        Field(
            "structured_data",
            dict,
            "SD-ID -> {PARAM-NAME: value} (a repeated name: a list of its values); None for -",
        ),
        _MESSAGE,
    ),
)
"""The fields of an RFC 5424 record (and of every record under ``rfc="auto"``)."""


def schema_for(rfc: str) -> Schema:
    """The schema of the records ``parse_syslog(rfc=rfc)`` yields.

    >>> schema_for("auto").names[-4:]
    ('version', 'msgid', 'structured_data', 'message')
    """
    return SYSLOG_3164 if rfc == "3164" else SYSLOG_5424
