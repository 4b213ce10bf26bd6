r"""Write syslog lines (RFC 3164 and RFC 5424) from records, and generate realistic samples.

:func:`format_3164` and :func:`format_5424` are the writers the round-trip
tests check the parser against (record -> line -> :func:`~streamql.formats.syslog.parse_syslog`
-> the same record); :func:`sample_syslog` makes a reproducible log of a
host's daemons for the tests, the docs and the benchmark, a few malformed
lines among them when asked.

>>> from datetime import datetime, timezone
>>> when = datetime(2024, 2, 5, 17, 32, 18, tzinfo=timezone.utc)
>>> format_3164({"pri": 13, "datetime": when, "host": "h", "app": "cron", "pid": "7",
...              "message": "ok"})
'<13>Feb  5 17:32:18 h cron[7]: ok'
>>> format_5424({"pri": 165, "datetime": when, "host": "h", "app": None, "pid": None,
...              "msgid": "ID1", "structured_data": {"a@1": {"q": 'say "hi"'}}, "message": "x"})
'<165>1 2024-02-05T17:32:18Z h - - ID1 [a@1 q="say \\"hi\\""] x'
>>> len(list(sample_syslog(10, rfc="5424", seed=1)))
10
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["format_3164", "format_5424", "sample_syslog", "write_sample_syslog"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_3164(record: Mapping[str, Any]) -> str:
    """Write a record as a BSD syslog line (no line ending); ``pri`` None writes no <PRI>.

    The timestamp is written in the record's own zone, without year or zone,
    as a syslog daemon does.
    """
    when: datetime = record["datetime"]
    pri = record.get("pri")
    head = "" if pri is None else f"<{pri}>"
    stamp = f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"
    app, pid = record.get("app"), record.get("pid")
    tag = "" if app is None else (f"{app}: " if pid is None else f"{app}[{pid}]: ")
    return f"{head}{stamp} {record['host']} {tag}{record.get('message') or ''}"


def _nil(value: Any) -> str:
    return "-" if value is None else str(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _stamp(when: datetime | None) -> str:
    if when is None:
        return "-"
    text = when.isoformat(timespec="microseconds" if when.microsecond else "seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def format_5424(record: Mapping[str, Any]) -> str:
    """Write a record as an RFC 5424 line (no line ending); None fields as NILVALUE ``-``.

    A parameter whose value is a list is written once per value.
    """
    data = record.get("structured_data")
    if not data:
        sd = "-"
    else:
        parts = []
        for sd_id, params in data.items():
            written = [sd_id]
            for name, value in params.items():
                for one in value if isinstance(value, list) else [value]:
                    written.append(f'{name}="{_escape(one)}"')
            parts.append("[" + " ".join(written) + "]")
        sd = "".join(parts)
    head = (
        f"<{record['pri']}>{record.get('version') or 1} {_stamp(record.get('datetime'))} "
        f"{_nil(record.get('host'))} {_nil(record.get('app'))} {_nil(record.get('pid'))} "
        f"{_nil(record.get('msgid'))} {sd}"
    )
    message = record.get("message")
    return head if message is None else f"{head} {message}"


_DAEMONS = (
    ("sshd", 4, "Accepted publickey for {user} from {ip} port {port} ssh2"),
    ("sshd", 4, "Failed password for invalid user {user} from {ip} port {port} ssh2"),
    ("CRON", 9, "({user}) CMD (/usr/local/bin/backup --quiet)"),
    ("kernel", 0, "[UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.5 PROTO=TCP DPT={port}"),
    ("systemd", 3, "Started Session {port} of User {user}."),
    ("postfix/smtpd", 2, "connect from unknown[{ip}]"),
    ("nginx", 16, '{ip} - - "GET /api/items/{port} HTTP/1.1" 200 {port}'),
)
_USERS = ("root", "alice", "bob", "deploy", "www-data", "postgres")
_HOSTS = ("web1", "web2", "db1", "cache-01.example.org")


def sample_syslog(
    n: int,
    *,
    rfc: str = "3164",
    seed: int = 0,
    start: datetime | None = None,
    bad_every: int = 0,
) -> Iterator[str]:
    """Yield ``n`` realistic syslog lines (no line endings), one a second or so from ``start``.

    Lazy; constant memory; the same lines for the same arguments. ``rfc`` is
    ``"3164"``, ``"5424"`` or ``"mixed"`` (alternating); times are UTC, from
    ``start`` (default 2024-12-31 23:50 UTC, so a sample of a thousand lines crosses into a
    new year). With ``bad_every`` k > 0, every k-th line is malformed.
    """
    rng = random.Random(seed)
    when = start or datetime(2024, 12, 31, 23, 50, tzinfo=timezone.utc)
    for i in range(1, n + 1):
        when += timedelta(seconds=rng.randint(0, 2), microseconds=rng.randint(0, 999) * 1000)
        if bad_every and i % bad_every == 0:
            yield rng.choice(("<200>Jan  1 00:00:00 host x: y", "garbage line", ""))
            continue
        app, facility, text = rng.choice(_DAEMONS)
        severity = rng.choice((3, 4, 5, 6, 6, 6, 7))
        fields = {
            "user": rng.choice(_USERS),
            "ip": f"203.0.113.{rng.randint(1, 254)}",
            "port": rng.randint(1024, 65535),
        }
        record: dict[str, Any] = {
            "pri": facility * 8 + severity,
            "datetime": when,
            "host": rng.choice(_HOSTS),
            "app": app,
            "pid": None if app == "kernel" else str(rng.randint(100, 40000)),
            "message": text.format(**fields),
        }
        kind = rfc if rfc != "mixed" else ("3164" if i % 2 else "5424")
        if kind == "3164":
            yield format_3164({**record, "datetime": when.replace(microsecond=0)})
            continue
        record["msgid"] = rng.choice((None, "ID47", "AUTH"))
        if rng.random() < 0.5:
            record["structured_data"] = {
                "origin@32473": {"ip": fields["ip"], "software": "sample"},
                "meta": {"sequenceId": str(i), "note": 'a "quoted" \\ value]'},
            }
        yield format_5424(record)


def write_sample_syslog(path: str | os.PathLike[str], n: int, **options: Any) -> str:
    """Write :func:`sample_syslog` lines to ``path`` (newline-terminated); return the path."""
    with open(path, "w", encoding="utf-8") as f:
        for line in sample_syslog(n, **options):
            f.write(line + "\n")
    return os.fspath(path)
