"""W3C extended (IIS) logs: headers that change mid-file, and every line a record or a reject."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamql import F, Stream
from streamql.core.errors import RejectedLinesWarning
from streamql.formats.access.w3c import parse_w3c

IIS = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2024-03-01 00:00:00",
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    "2024-03-01 00:00:01 10.0.0.5 GET /default.htm - 80 - 192.0.2.7 "
    "Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 31",
    "2024-03-01 00:00:02 10.0.0.5 GET /missing q=1 443 bob 192.0.2.8 curl/8.0 "
    "https://example.org/ 404 0 2 5",
]


def keep(lines: list[str]) -> list[Any]:
    return list(parse_w3c(lines, errors="keep"))


def test_iis_lines_are_typed_records() -> None:
    first, second = keep(IIS)
    assert first == {
        "s_ip": "10.0.0.5",
        "cs_method": "GET",
        "cs_uri_stem": "/default.htm",
        "cs_uri_query": None,
        "s_port": 80,
        "cs_username": None,
        "c_ip": "192.0.2.7",
        "cs_user_agent": "Mozilla/5.0+(Windows+NT+10.0)",  # IIS writes spaces as +
        "cs_referer": None,
        "sc_status": 200,
        "sc_substatus": 0,
        "sc_win32_status": 0,
        "time_taken": 31,
        "datetime": datetime(2024, 3, 1, 0, 0, 1, tzinfo=timezone.utc),
    }
    assert (second["cs_username"], second["sc_status"]) == ("bob", 404)


def test_a_new_header_mid_file_changes_the_columns() -> None:
    lines = [*IIS, "#Fields: time cs-uri-stem sc-bytes", "00:10:00 /late 512"]
    out = keep(lines)
    assert out[-1] == {"time": "00:10:00", "cs_uri_stem": "/late", "sc_bytes": 512}


def test_bad_lines_are_rejects_with_reasons() -> None:
    lines = [
        "2024-03-01 00:00:01 /a 200",
        "#Fields: date time cs-uri-stem sc-status",
        "2024-03-01 00:00:01 /a",
        "2024-03-01 00:00:01 /a 2O0",
        "2024-02-30 00:00:01 /a 200",
        "2024-03-01 00:00:01 /a " + "9" * 30,
        "\x00\x00\x00",
        "",
        "#Fields: a a",
        "x y",
    ]
    assert [r["reason"] for r in keep(lines)] == [
        "no #Fields: header before this line",
        "expected 4 fields (#Fields:), got 3",
        "bad number '2O0'",
        "bad date or time '2024-02-30' '00:00:01'",
        "overlong integer (30 digits)",
        "NUL byte in line",
        "blank line",
        "#Fields: names a field twice: 'a a'",
        "no #Fields: header before this line",
    ]


def test_a_w3c_tree_through_stream(tmp_path: Path) -> None:
    path = tmp_path / "u_ex240301.log"
    path.write_text("\r\n".join([*IIS, "garbage line"]) + "\r\n")
    log = Stream.lines(path).parse_w3c()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        assert log.count_by("sc_status") == {200: 1, 404: 1}
        assert log.where(F.cs_user_agent.contains("curl")).count() == 1
    (reject,) = log.rejects.list()
    assert (reject["lineno"], reject["reason"]) == (7, "expected 15 fields (#Fields:), got 2")
