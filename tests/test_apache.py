"""Tests for streamql.formats.access.apache: edge cases, a reference-model property, real logs."""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tutorial_reference import SHARED_DATA, apache_log

from streamql.core.context import ItemCursor, RunContext
from streamql.core.errors import ParseError, RejectedLinesWarning
from streamql.formats.access.apache import parse_apache, parse_apache_line

REASONS = {
    "blank line",
    "not an Apache log line",
    "bad datetime",
    "unterminated quoted field",
    "bad status or bytes field",
    "unexpected text after bytes",
    "unexpected text after bytes (common format)",
    "unexpected text after agent",
    "not a combined line",
    "NUL byte in line",
}

COMMON = '140.180.132.213 - - [24/Feb/2008:00:08:59 -0600] "GET /ply/ply.html HTTP/1.1" 200 97238'
COMBINED = (
    '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /images/kibana-search.png HTTP/1.1" '
    '200 203023 "http://semicomplete.com/presentations/" "Mozilla/5.0 (Macintosh)"'
)
CST = timezone(timedelta(hours=-6))
TLS_PROBE = r"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"  # as Apache writes the bytes


def line_with(request: str = "GET / HTTP/1.1", tail: str = "", **parts: str) -> str:
    """Build a log line from parts, defaulting every field to something valid."""
    f = {"host": "10.0.0.1", "ident": "-", "user": "-", "ts": "24/Feb/2008:00:08:59 -0600"}
    f.update(parts)
    status, nbytes = f.get("status", "200"), f.get("bytes", "5")
    return f'{f["host"]} {f["ident"]} {f["user"]} [{f["ts"]}] "{request}" {status} {nbytes}{tail}'


def reasons(lines: Iterable[str], format: str = "auto") -> list[Any]:
    """Parse with errors="keep"; give each line's reason, or "ok" for a record."""
    return [r.get("reason", "ok") for r in parse_apache(lines, format=format, errors="keep")]


# --- records -------------------------------------------------------------------------------------


def test_common_line_gives_all_fields_in_order() -> None:
    record = parse_apache_line(COMMON, "common")
    assert record == {
        "host": "140.180.132.213",
        "ident": "-",
        "user": "-",
        "datetime": datetime(2008, 2, 24, 0, 8, 59, tzinfo=CST),
        "method": "GET",
        "request": "/ply/ply.html",
        "proto": "HTTP/1.1",
        "status": 200,
        "bytes": 97238,
    }
    assert list(record) == [
        "host", "ident", "user", "datetime", "method", "request", "proto", "status", "bytes"
    ]  # fmt: skip


def test_combined_line_adds_referer_and_agent_last() -> None:
    record = parse_apache_line(COMBINED)
    assert list(record)[-2:] == ["referer", "agent"]
    assert record["referer"] == "http://semicomplete.com/presentations/"
    assert record["agent"] == "Mozilla/5.0 (Macintosh)"
    assert record["datetime"] == datetime(2015, 5, 17, 10, 5, 3, tzinfo=timezone.utc)


def test_each_line_gives_a_new_dict() -> None:
    first, second = parse_apache([COMMON, COMMON])
    assert first == second
    assert first is not second
    first["status"] = 500
    assert second["status"] == 200


@pytest.mark.parametrize(
    ("request_text", "method", "uri", "proto"),
    [
        ("GET /x HTTP/1.0", "GET", "/x", "HTTP/1.0"),
        ("GET /x", "GET", "/x", ""),
        ("-", "", "-", ""),
        ("", "", "", ""),
        (TLS_PROBE, "", TLS_PROBE, ""),
        (TLS_PROBE + " x y z", "", TLS_PROBE + " x y z", ""),
        ("GET /a b c HTTP/1.1", "GET", "/a b c", "HTTP/1.1"),  # Apache logs a 400's URL as is
        ("GET /a b c", "", "GET /a b c", ""),
        (r"GET /say\"hi\" HTTP/1.1", "GET", r"/say\"hi\"", "HTTP/1.1"),
        (r"GET /dir\\ HTTP/1.1", "GET", r"/dir\\", "HTTP/1.1"),
        (r"\"\\\"", "", r"\"\\\"", ""),
    ],
)
def test_request_text_is_split_or_kept_whole(
    request_text: str, method: str, uri: str, proto: str
) -> None:
    record = parse_apache_line(line_with(request_text))
    assert (record["method"], record["request"], record["proto"]) == (method, uri, proto)


def test_escaped_quotes_and_backslashes_in_agent_are_kept_as_written() -> None:
    agent = r"Mozilla \"quoted\" and a backslash at the end \\"
    referer = r"http://example.com/\xe4\xe5"
    record = parse_apache_line(line_with(tail=f' "{referer}" "{agent}"'))
    assert record["agent"] == agent
    assert record["referer"] == referer


def test_ipv6_host_and_named_user() -> None:
    record = parse_apache_line(line_with(host="2001:db8::ff00:42:8329", ident="id", user="bob"))
    assert (record["host"], record["ident"], record["user"]) == (
        "2001:db8::ff00:42:8329",
        "id",
        "bob",
    )


def test_bytes_dash_is_zero() -> None:
    assert parse_apache_line(line_with(bytes="-"))["bytes"] == 0
    assert parse_apache_line(line_with(bytes="0"))["bytes"] == 0


@pytest.mark.parametrize("ending", ["", "\n", "\r\n", "  \n", "\t\r\n"])
def test_line_endings(ending: str) -> None:
    assert parse_apache_line(COMMON + ending) == parse_apache_line(COMMON)
    assert parse_apache_line(COMBINED + ending)["agent"] == "Mozilla/5.0 (Macintosh)"


@pytest.mark.parametrize(
    ("offset", "delta"),
    [
        ("-0600", timedelta(hours=-6)),
        ("+0000", timedelta(0)),
        ("-0000", timedelta(0)),
        ("+0530", timedelta(hours=5, minutes=30)),
        ("-0930", timedelta(hours=-9, minutes=-30)),
        ("+1400", timedelta(hours=14)),
        ("+2359", timedelta(hours=23, minutes=59)),
    ],
)
def test_datetime_keeps_the_lines_own_offset(offset: str, delta: timedelta) -> None:
    when = parse_apache_line(line_with(ts=f"01/Mar/2024:13:14:15 {offset}"))["datetime"]
    assert when.utcoffset() == delta
    assert (when.year, when.month, when.day, when.hour, when.minute, when.second) == (
        2024, 3, 1, 13, 14, 15
    )  # fmt: skip


def test_timezones_are_shared_between_records() -> None:
    a, b = parse_apache([line_with(ts="01/Mar/2024:13:14:15 +0530")] * 2)
    assert a["datetime"].tzinfo is b["datetime"].tzinfo


def test_every_month_name() -> None:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    lines = [line_with(ts=f"28/{name}/2020:23:59:59 +0100") for name in months]
    assert [r["datetime"].month for r in parse_apache(lines)] == list(range(1, 13))


def test_consecutive_lines_across_hours_and_offsets() -> None:
    stamps = [
        "31/Dec/1999:23:59:59 +0000",
        "31/Dec/1999:23:59:59 +0100",  # same text up to the offset
        "01/Jan/2000:00:00:00 +0000",
        "01/Jan/2000:00:00:00 +0000",
        "01/Jan/2000:00:59:59 +0000",
        "01/Jan/2000:01:00:00 +0000",
    ]
    got = [r["datetime"].isoformat() for r in parse_apache(line_with(ts=s) for s in stamps)]
    assert got == [
        "1999-12-31T23:59:59+00:00",
        "1999-12-31T23:59:59+01:00",
        "2000-01-01T00:00:00+00:00",
        "2000-01-01T00:00:00+00:00",
        "2000-01-01T00:59:59+00:00",
        "2000-01-01T01:00:00+00:00",
    ]


def test_ten_megabyte_lines() -> None:
    uri = "/" + "a" * 10_000_000
    record = parse_apache_line(line_with(f"GET {uri} HTTP/1.1") + "\n")
    assert record["request"] == uri
    agent = r"x\"y" + "a" * 10_000_000 + "\\\\"  # backslashes: the escape-aware pattern
    assert parse_apache_line(line_with(tail=f' "-" "{agent}"'))["agent"] == agent
    dense = r"x\"y\\" * 200_000  # 1 MB of escapes (linear on 3.11+, slower on 3.10)
    assert parse_apache_line(line_with(tail=f' "{dense}" "-"'))["referer"] == dense
    assert reasons(["x" * 10_000_000, "a " * 5_000_000, line_with('"' * 10_000_000)]) == [
        "not an Apache log line",
        "not an Apache log line",
        "bad status or bytes field",
    ]


# --- rejects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ts",
    [
        "24/Foo/2008:00:08:59 -0600",
        "24/feb/2008:00:08:59 -0600",
        "32/Jan/2008:00:08:59 -0600",
        "30/Feb/2008:00:08:59 -0600",
        "00/Feb/2008:00:08:59 -0600",
        "24/Feb/0000:00:08:59 -0600",
        "24/Feb/2008:25:08:59 -0600",
        "24/Feb/2008:00:60:59 -0600",
        "24/Feb/2008:00:08:60 -0600",
        "24/Feb/2008:00:08:59 +2400",
        "24/Feb/2008:00:08:59 +0060",
        "24/Feb/2008:00:08:59",
        "24/Feb/2008 00:08:59 -0600",
        "2008-02-24T00:08:59-06:00",
        "",
    ],
)
def test_bad_datetime_is_a_reject(ts: str) -> None:
    line = line_with(ts=ts)
    assert reasons([line]) == ["bad datetime"]
    with pytest.raises(ValueError, match=r"^bad datetime$"):
        parse_apache_line(line)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "blank line"),
        ("   \r\n", "blank line"),
        ("\n", "blank line"),
        ("hello world", "not an Apache log line"),
        ("\x00\x01\x02\xff\ufffd binary \x1b[0m", "NUL byte in line"),
        ("\x01\x02\xff\ufffd binary \x1b[0m", "not an Apache log line"),
        ("GET / HTTP/1.1 200", "not an Apache log line"),
        (line_with().replace('"', ""), "not an Apache log line"),
        (COMMON[: COMMON.index("HTTP")], "unterminated quoted field"),
        (COMBINED[:-5], "unterminated quoted field"),
        (COMBINED[: COMBINED.rindex('"') - 1] + '\\"', "unterminated quoted field"),
        (line_with(status="20"), "bad status or bytes field"),
        (line_with(status="2000"), "bad status or bytes field"),
        (line_with(bytes="abc"), "bad status or bytes field"),
        (line_with(request='GET /a"b HTTP/1.1'), "bad status or bytes field"),
        (line_with(bytes="12abc"), "unexpected text after bytes"),
        (line_with(tail=' "-"'), "unexpected text after bytes"),
        (line_with(tail=' "-" "agent" 0.002'), "unexpected text after agent"),
    ],
)
def test_reject_reasons(line: str, reason: str) -> None:
    assert reason in REASONS
    assert reasons([line]) == [reason]
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}$"):
        parse_apache_line(line)


def test_format_common_combined_auto() -> None:
    lines = [COMMON, COMBINED]
    assert reasons(lines, "auto") == ["ok", "ok"]
    assert reasons(lines, "common") == ["ok", "unexpected text after bytes (common format)"]
    assert reasons(lines, "combined") == ["not a combined line", "ok"]
    assert reasons([COMBINED[:-5]], "common") == ["unexpected text after bytes (common format)"]
    assert "agent" not in parse_apache_line(COMMON, "common")
    assert "agent" in parse_apache_line(COMBINED, "combined")


def test_errors_raise_names_the_item_number() -> None:
    lines = [COMMON, COMMON, "garbage\n", COMMON]
    records = parse_apache(lines, errors="raise")
    assert next(records)["status"] == 200
    assert next(records)["status"] == 200
    with pytest.raises(ParseError) as info:
        next(records)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.stage, error.reason, error.line) == (
        "parse_apache", "not an Apache log line", "garbage\n"
    )  # fmt: skip
    assert (error.path, error.lineno) == (None, 3)
    assert "item 3" in str(error)


def test_errors_keep_yields_rejects_in_place() -> None:
    out: list[Any] = list(parse_apache([COMMON, "", COMBINED, "x\n"], errors="keep"))
    assert [r.get("status") for r in out] == [200, None, 200, None]
    assert out[1] == {
        "stage": "parse_apache",
        "reason": "blank line",
        "line": "",
        "file": None,
        "lineno": 2,
    }
    assert out[3]["lineno"] == 4
    assert out[3]["line"] == "x\n"


def test_errors_keep_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(parse_apache(["x", COMMON], errors="keep"))) == 2


def test_errors_skip_warns_once_at_the_end_naming_the_item() -> None:
    records = parse_apache([COMMON, "x", COMMON, "", COMMON])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = [next(records), next(records), next(records)]
    assert [r["status"] for r in first] == [200, 200, 200]
    with pytest.warns(RejectedLinesWarning, match=r"parse_apache 2; first at item 2 .*'x'") as w:
        assert list(records) == []
    assert len(w) == 1
    assert w[0].filename == __file__  # points at the caller, not at streamql


def test_errors_skip_with_no_rejects_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(parse_apache([COMMON, COMBINED]))) == 2


def test_early_close_does_not_warn() -> None:
    records = parse_apache(["x", COMMON, COMMON])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert next(records)["status"] == 200
        records.close()  # type: ignore[attr-defined]


def test_given_ctx_uses_its_origin_and_does_not_warn() -> None:
    ctx = RunContext(keep_rejects=True)
    cursor = ItemCursor()
    ctx.cursor = cursor

    def source(lines: list[str]) -> Iterator[str]:
        for n, line in enumerate(lines, 101):  # the engine's numbering, not parse_apache's
            cursor.n = n
            yield line

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = list(parse_apache(source([COMMON, "bad", COMMON, "worse"]), ctx=ctx))
    assert len(out) == 2
    assert ctx.rejected == {"parse_apache": 2}
    assert ctx.sink is not None
    assert [r["lineno"] for r in ctx.sink] == [102, 104]
    with pytest.raises(ParseError) as info:
        list(parse_apache(source([COMMON, "bad"]), errors="raise", ctx=ctx))
    assert info.value.lineno == 102


def test_is_lazy() -> None:
    pulled: list[str] = []

    def lines() -> Iterator[str]:
        for line in itertools.repeat(COMMON):  # endless: must never be drained
            pulled.append(line)
            yield line

    records = parse_apache(lines())
    assert pulled == []
    assert list(itertools.islice(records, 3))[2]["status"] == 200
    assert len(pulled) == 3


# --- arguments -----------------------------------------------------------------------------------


def test_bad_format_fails_at_call_time() -> None:
    with pytest.raises(ValueError) as info:
        parse_apache([], format="x")
    assert str(info.value).startswith("parse_apache: format must be a preset (common, combined")
    assert str(info.value).endswith("or a format string with % or $ directives, got 'x'")
    with pytest.raises(ValueError, match=r"^parse_apache_line: format must be"):
        parse_apache_line(COMMON, "Common")


def test_bad_errors_fails_at_call_time() -> None:
    with pytest.raises(ValueError, match=r"^parse_apache: errors must be one of .* got 'ignore'"):
        parse_apache([], errors="ignore")  # type: ignore[call-overload]


@pytest.mark.parametrize("lines", [COMMON, COMMON.encode(), 42, None])
def test_lines_that_are_not_an_iterable_of_lines_fail_at_call_time(lines: Any) -> None:
    with pytest.raises(TypeError, match=r"^parse_apache: lines must be an iterable"):
        parse_apache(lines)


@pytest.mark.parametrize("item", [COMMON.encode(), None, 42, ["\\"]])
def test_an_item_that_is_not_str_is_a_type_error(item: Any) -> None:
    records = parse_apache([COMMON, item])
    next(records)
    with pytest.raises(TypeError, match=r"^parse_apache: lines must be str, got "):
        next(records)
    with pytest.raises(TypeError, match=r"^parse_apache_line: line must be str"):
        parse_apache_line(item)


# --- property: a plain reference model of Apache's writer ----------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ESCAPES = {
    0x08: r"\b",
    0x09: r"\t",
    0x0A: r"\n",
    0x0B: r"\v",
    0x0D: r"\r",
    0x22: r"\"",
    0x5C: "\\\\",
}


def apache_escape(raw: bytes) -> str:
    """Escape bytes the way Apache's ap_escape_logitem writes quoted fields."""
    out = []
    for b in raw:
        if b in ESCAPES:
            out.append(ESCAPES[b])
        elif b < 0x20 or b >= 0x7F:
            out.append(f"\\x{b:02x}")
        else:
            out.append(chr(b))
    return "".join(out)


def apache_timestamp(when: datetime) -> str:
    offset = when.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return (
        f"{when.day:02d}/{MONTHS[when.month - 1]}/{when.year:04d}:"
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {sign}{hh:02d}{mm:02d}"
    )


def expected_request(text: str) -> dict[str, str]:
    parts = text.split(" ")
    if len(parts) == 3:
        return dict(zip(("method", "request", "proto"), parts, strict=True))
    if len(parts) == 2:
        return {"method": parts[0], "request": parts[1], "proto": ""}
    if len(parts) > 3 and parts[0] and parts[-1].startswith("HTTP/"):  # a URI with spaces
        return {"method": parts[0], "request": " ".join(parts[1:-1]), "proto": parts[-1]}
    return {"method": "", "request": text, "proto": ""}


token = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.from_regex(r"[a-z0-9-]{1,10}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    offsets,
)
text_bytes = st.text(max_size=30).map(str.encode)
requests = st.one_of(
    st.tuples(
        st.sampled_from(["GET", "POST", "HEAD", "PROPFIND"]), text_bytes, st.just(b"HTTP/1.1")
    ),
    st.tuples(st.sampled_from(["GET", "OPTIONS"]), text_bytes),
    st.just((b"-",)),
    st.binary(max_size=20).map(lambda b: (b"\x16\x03" + b,)),  # TLS probes
    st.tuples(text_bytes),
).map(
    lambda parts: apache_escape(b" ".join(p.encode() if isinstance(p, str) else p for p in parts))
)
quoted_text = st.one_of(st.just("-"), text_bytes.map(apache_escape))

good_lines = st.fixed_dictionaries(
    {
        "host": hosts,
        "ident": st.one_of(st.just("-"), token),
        "user": st.one_of(st.just("-"), token),
        "datetime": moments,
        "request_text": requests,
        "status": st.integers(0, 999),
        "bytes": st.one_of(st.just("-"), st.integers(0, 10**15)),
        "combined": st.one_of(st.none(), st.tuples(quoted_text, quoted_text)),
        "ending": st.sampled_from(["", "\n", "\r\n"]),
    }
)
# Every Apache line has a '[': without one a line can only be a reject.
garbage_lines = st.one_of(
    st.text(st.characters(blacklist_characters="["), max_size=40),
    st.sampled_from(["", "\n", "  \r\n", COMMON[:40], COMBINED[:-3]]),
)


def apache_line(f: dict[str, Any]) -> str:
    """Write a line the way Apache's common/combined LogFormat does."""
    line = (
        f"{f['host']} {f['ident']} {f['user']} [{apache_timestamp(f['datetime'])}] "
        f'"{f["request_text"]}" {f["status"]:03d} {f["bytes"]}'
    )
    if f["combined"] is not None:
        line += ' "{}" "{}"'.format(*f["combined"])
    return line + str(f["ending"])


def expected_record(f: dict[str, Any]) -> dict[str, Any]:
    record = {
        "host": f["host"],
        "ident": f["ident"],
        "user": f["user"],
        "datetime": f["datetime"],
        **expected_request(f["request_text"]),
        "status": f["status"],
        "bytes": 0 if f["bytes"] == "-" else f["bytes"],
    }
    # format="auto": a common line's referer and agent are None
    record["referer"], record["agent"] = f["combined"] or (None, None)
    return record


def same_record(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Equal fields in the same order, and the same wall time and UTC offset."""
    return (
        got == want
        and list(got) == list(want)
        and got["datetime"].utcoffset() == want["datetime"].utcoffset()
        and got["datetime"].replace(tzinfo=None) == want["datetime"].replace(tzinfo=None)
    )


PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=100)


@PROPERTY
@given(st.lists(st.one_of(good_lines, garbage_lines), max_size=25))
def test_property_parsed_plus_rejected_is_input_in_order(items: list[Any]) -> None:
    lines = [apache_line(i) if isinstance(i, dict) else i for i in items]
    out: list[Any] = list(parse_apache(lines, errors="keep"))
    assert len(out) == len(lines)
    for n, (item, line, got) in enumerate(zip(items, lines, out, strict=True), 1):
        if isinstance(item, dict):
            assert same_record(got, expected_record(item)), (line, got)
        else:
            assert got["reason"] in REASONS
            assert (got["stage"], got["line"], got["file"], got["lineno"]) == (
                "parse_apache", line, None, n
            )  # fmt: skip
    want = [expected_record(i) for i in items if isinstance(i, dict)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        skipped: list[Any] = list(parse_apache(lines))
    assert len(skipped) == len(want)
    assert all(same_record(g, w) for g, w in zip(skipped, want, strict=True))


@PROPERTY
@given(good_lines)
def test_property_format_decides_per_line(item: dict[str, Any]) -> None:
    line = apache_line(item)
    combined = item["combined"] is not None
    assert reasons([line], "auto") == ["ok"]
    assert reasons([line], "common") == [
        "unexpected text after bytes (common format)" if combined else "ok"
    ]
    assert reasons([line], "combined") == ["ok" if combined else "not a combined line"]


@PROPERTY
@given(st.lists(st.text(max_size=60), max_size=10))
def test_property_any_text_gives_one_item_per_line_and_agrees_with_single_line_api(
    lines: list[str],
) -> None:
    out: list[Any] = list(parse_apache(lines, errors="keep"))
    assert len(out) == len(lines)
    for line, got in zip(lines, out, strict=True):
        if "reason" in got:
            assert got["reason"] in REASONS
            with pytest.raises(ValueError, match=f"^{re.escape(got['reason'])}$"):
                parse_apache_line(line)
        else:
            assert parse_apache_line(line) == got


@PROPERTY
@given(good_lines, st.integers(0, 200), st.sampled_from(["x", " ", '"', "\\", "]", "\x00"]))
def test_property_damaged_lines_never_crash(item: dict[str, Any], at: int, junk: str) -> None:
    line = apache_line(item)
    at = min(at, len(line))
    for damaged in (line[:at], line[:at] + junk + line[at:], line[:at] + line[at + 1 :]):
        (got,) = parse_apache([damaged], errors="keep")
        assert "host" in got or got["reason"] in REASONS


# --- real logs, checked against the tutorial's own apache_log ------------------------------------


def read_lines(relative: str) -> list[str]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real logs not available: {SHARED_DATA} does not exist")
    with open(SHARED_DATA / relative, encoding="utf-8") as f:
        return f.readlines()


def agree_line_by_line(lines: list[str]) -> list[Any]:
    """Parse with errors="keep"; check every line both parsers accept agrees."""
    ours: list[Any] = list(parse_apache(lines, errors="keep"))
    theirs = [next(apache_log([line]), None) for line in lines]
    assert len(ours) == len(theirs) == len(lines)
    fields = ("host", "request", "status", "bytes")
    both = [(o, t) for o, t in zip(ours, theirs, strict=True) if t is not None and "host" in o]
    assert both
    for o, t in both:
        assert [o[k] for k in fields] == [t[k] for k in fields]
    return ours


def test_tutorial_access_log() -> None:
    lines = read_lines("dabeaz/access-log")
    assert len(lines) == 7298
    ours = agree_line_by_line(lines)
    assert all("host" in r for r in ours)  # no rejects
    theirs = list(apache_log(lines))
    assert len(theirs) == len(ours)

    def queries(log: list[Any]) -> tuple[Any, ...]:
        return (
            {r["request"] for r in log if r["status"] == 404},
            max((r["bytes"], r["request"]) for r in log),
            {r["host"] for r in log},
            sum(1 for r in log if r["request"] == "/ply/ply-2.3.tar.gz"),
            {r["host"] for r in log if "robots.txt" in r["request"]},
        )

    answers = queries(ours)
    assert answers == queries(theirs)
    stat404, largest, hosts, downloads, robots = answers
    assert stat404 and hosts and robots and downloads > 0 and largest[0] > 0


def test_elastic_combined_log_has_one_cut_off_line() -> None:
    lines = read_lines("elastic/apache_logs")
    assert len(lines) == 10_000
    ours = agree_line_by_line(lines)
    rejects = [r for r in ours if "reason" in r]
    assert [(r["lineno"], r["reason"]) for r in rejects] == [(8899, "unterminated quoted field")]
    assert all("agent" in r for r in ours if "host" in r)
    with pytest.warns(RejectedLinesWarning, match="first at item 8899"):
        assert sum(1 for _ in parse_apache(lines, format="combined")) == 9999
    assert reasons(lines[:100], "common") == ["unexpected text after bytes (common format)"] * 100
