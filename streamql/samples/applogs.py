"""Generated application logs as JSON lines and as logfmt: honest samples for tests and the bench.

One record per request of a made-up web service, with ten fields: an ISO 8601
timestamp in UTC (``ts``), ``level``, ``service``, ``host``, ``msg``, a nested
``http`` object (``method``, ``path``, ``status``), ``duration_ms`` (float),
``bytes`` (int), ``user`` (absent on anonymous requests) and ``trace_id``.
Levels follow the status (5xx: error, 4xx: warn). A few messages hold
quotes, backslashes, tabs or non-ASCII text, as real ones do. The same seed
gives the same records.

>>> record = next(sample_records(seed=1))
>>> sorted(record)  # doctest: +NORMALIZE_WHITESPACE
['bytes', 'duration_ms', 'host', 'http', 'level', 'msg', 'service', 'trace_id', 'ts', 'user']
>>> json_line(record)[:40]
'{"ts":"2026-12-01T00:00:00.069Z","level"'
>>> logfmt_line(record)[:48]
'ts=2026-12-01T00:00:00.069Z level=info service=a'
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..formats.logfmt import format_logfmt

__all__ = ["sample_records", "json_line", "logfmt_line", "write_sample_log"]

_START = datetime(2026, 12, 1, tzinfo=timezone.utc)
_SERVICES = ("api", "auth", "billing", "search", "checkout")
_HOSTS = tuple(f"web-{i}" for i in range(1, 9))
_PATHS = ("/api/v1/items", "/api/v1/items/{}", "/api/v1/cart", "/login", "/search", "/health")
_METHODS = ("GET",) * 7 + ("POST",) * 2 + ("DELETE",)
_STATUSES = (200,) * 80 + (201, 204, 301, 304) * 3 + (400, 401, 403, 404) * 2 + (500, 502, 503)
_MESSAGES = {
    "info": ("request handled", "cache hit", "served from replica"),
    "warn": ("client error", 'bad parameter "q"', "rate limited: retry in 2s"),
    "error": ("upstream timed out", "db error: deadlock\tretrying", 'panic: C:\\tmp "x"'),
}
_RARE = ("Zürich user café ☕", "mensaje en español: ¿qué?", "日本語のメッセージ")


def sample_records(seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield log records without end (take what you need). Lazy; constant memory."""
    rng = random.Random(seed)
    millis = 0
    while True:
        millis += rng.randrange(1, 400)
        status = rng.choice(_STATUSES)
        level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        if rng.random() < 0.003:
            level = "debug"
        msg = rng.choice(_RARE) if rng.random() < 0.01 else rng.choice(_MESSAGES.get(level, ("x",)))
        ts = _START + timedelta(milliseconds=millis)
        record: dict[str, Any] = {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
            "level": level,
            "service": rng.choice(_SERVICES),
            "host": rng.choice(_HOSTS),
            "msg": msg,
            "http": {
                "method": rng.choice(_METHODS),
                "path": rng.choice(_PATHS).format(rng.randrange(1, 10_000)),
                "status": status,
            },
            "duration_ms": round(rng.lognormvariate(3, 1), 3),
            "bytes": 0 if status in (204, 304) else rng.randrange(100, 50_000),
            "user": f"u{rng.randrange(1, 5000)}",
            "trace_id": f"{rng.getrandbits(64):016x}",
        }
        if rng.random() < 0.2:
            del record["user"]  # anonymous
        yield record


def json_line(record: Mapping[str, Any]) -> str:
    """One record as a compact JSON line (no newline), non-ASCII written as is."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def logfmt_line(record: Mapping[str, Any]) -> str:
    """One record as a logfmt line (no newline); nested fields get dotted keys (``http.status``)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update((f"{key}.{k}", v) for k, v in value.items())
        else:
            flat[key] = value
    return format_logfmt(flat)


def write_sample_log(
    path: str | Path,
    *,
    format: str = "json",
    size: int | None = None,
    lines: int | None = None,
    seed: int = 0,
) -> int:
    """Write a sample log of about ``size`` bytes or exactly ``lines`` lines; return the lines.

    Eager; streams to the file. ``format`` is ``"json"`` or ``"logfmt"``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "app.log")
    >>> write_sample_log(path, lines=3)
    3
    >>> with open(path, encoding="utf-8") as f:
    ...     len(f.readlines())
    3
    """
    if format not in ("json", "logfmt"):
        raise ValueError(f"write_sample_log: format must be 'json' or 'logfmt', got {format!r}")
    if (size is None) == (lines is None):
        raise ValueError("write_sample_log: give one of size= or lines=")
    render = json_line if format == "json" else logfmt_line
    written = count = 0
    records = sample_records(seed)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        batch: list[str] = []
        while (lines is None or count < lines) and (size is None or written < size):
            line = render(next(records)) + "\n"
            batch.append(line)
            written += len(line.encode("utf-8")) if not line.isascii() else len(line)
            count += 1
            if len(batch) >= 10_000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)
    return count
