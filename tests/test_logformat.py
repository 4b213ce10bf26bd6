"""Formats as data: presets, format strings, typed fields, and every line a record or a reject."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from streamql import F, Stream
from streamql.core.errors import RejectedLinesWarning
from streamql.formats.access import log_presets
from streamql.formats.access.apache import parse_apache, parse_apache_line
from streamql.formats.access.log_presets import EXAMPLES, PRESETS, compile_format
from streamql.planner.optimize import NONE

CST = timezone(timedelta(hours=-6))
STAMP = "[24/Feb/2008:00:08:59 -0600]"
COMMON = f'1.2.3.4 - - {STAMP} "GET /a HTTP/1.1" 200 10'
COMBINED = COMMON + ' "http://x/" "Googlebot/2.1"'
NGINX = COMBINED + ' "10.0.0.1, 10.0.0.2"'


def keep(lines: list[str], **kwargs: Any) -> list[Any]:
    return list(parse_apache(lines, errors="keep", **kwargs))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_reads_its_example_line(name: str) -> None:
    fmt = compile_format(name)
    record: dict[str, Any] = dict(parse_apache_line(EXAMPLES[name], name))
    assert list(record) == list(fmt.schema.names)
    if name != "alb":
        assert record["datetime"] == datetime(2008, 2, 24, 0, 8, 59, tzinfo=CST)
        assert record["status"] == 200 and record["request"] == "/ply/"
    for field in fmt.schema.fields:
        value = record[field.name]
        assert (value is None and field.nullable) or isinstance(value, field.type), field


def test_typed_fields_of_apache_directives() -> None:
    fmt = '%h %l %u %t "%r" %>s %b %D %T %{ms}T %p %{remote}p "%{X-Forwarded-For}i" %v %q'
    line = f'h - bob {STAMP} "GET /a HTTP/1.1" 404 - 1234 0 1 8080 51234 "-" example.org ?x=1'
    record: dict[str, Any] = dict(parse_apache_line(line, fmt))
    assert record == {
        "host": "h",
        "ident": "-",
        "user": "bob",
        "datetime": datetime(2008, 2, 24, 0, 8, 59, tzinfo=CST),
        "method": "GET",
        "request": "/a",
        "proto": "HTTP/1.1",
        "status": 404,
        "bytes": 0,  # %b: - is 0, as for combined
        "duration_us": 1234,
        "duration_s": 0,
        "duration_ms": 1,
        "port": 8080,
        "remote_port": 51234,
        "x_forwarded_for": "-",  # str fields keep - as written
        "vhost": "example.org",
        "query": "?x=1",
    }
    empty_query: dict[str, Any] = dict(parse_apache_line(line[: -len("?x=1")], fmt))
    assert empty_query["query"] == ""  # %q is '' without a query string


def test_typed_fields_of_nginx_variables() -> None:
    fmt = (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        "$request_time $upstream_response_time $time_iso8601 $ssl_protocol $http_x_real_ip $foo"
    )
    line = (
        f'::1 - - {STAMP[1:-1]} "GET / HTTP/2.0" 502 0 0.250 0.120,0.130 '
        "2008-02-24T00:08:59-06:00 TLSv1.3 10.1.1.1 bar"
    ).replace(STAMP[1:-1], STAMP)
    record: dict[str, Any] = dict(parse_apache_line(line, fmt))
    assert record["request_time"] == 0.25 and isinstance(record["request_time"], float)
    assert record["upstream_response_time"] == "0.120,0.130"  # several upstreams: str
    assert record["datetime_2"] == datetime(2008, 2, 24, 0, 8, 59, tzinfo=CST)
    assert (record["ssl_protocol"], record["x_real_ip"], record["foo"]) == (
        "TLSv1.3",
        "10.1.1.1",
        "bar",
    )
    dashed = line.replace(" 0.250 ", " - ")
    assert dict(parse_apache_line(dashed, fmt))["request_time"] is None


def test_unknown_directives_and_unreadable_formats_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown directive %Z at position 3$"):
        compile_format("%h %Z")
    with pytest.raises(ValueError, match=r"unknown directive %\{x\}Z at position 3$"):
        compile_format("%h %{x}Z")
    with pytest.raises(ValueError, match=r"%b at position 3 and %D need text between them"):
        compile_format("%h %b%D")
    with pytest.raises(ValueError, match="parse_apache: format must be a preset"):
        Stream([COMMON]).parse_apache("nginx_main")
    with pytest.raises(ValueError, match="extra must be 'reject' or 'keep'"):
        Stream([COMMON]).parse_apache("nginx", extra="yes")
    assert compile_format("%h %% %>s").program[1] == ("lit", " % ")


def test_escapes_are_kept_as_written_and_a_pasted_format_is_unescaped() -> None:
    fmt = r"%h \"%r\" %>s"  # as in a config file
    line = r'h "GET /say\"hi\" HTTP/1.1" 200'
    record: dict[str, Any] = dict(parse_apache_line(line, fmt))
    assert record["request"] == r"/say\"hi\""
    tricky = r'h "GET /a\\" 200'  # an escaped backslash ends the field
    assert parse_apache_line(tricky, fmt)["request"] == "/a\\\\"


def test_status_dash_is_none_and_the_request_splits_at_first_and_last_space() -> None:
    record = parse_apache_line(f'h - - {STAMP} "GET /a b HTTP/1.1" - 0')
    assert record["status"] is None
    assert (record["method"], record["request"], record["proto"]) == ("GET", "/a b", "HTTP/1.1")
    nginx = parse_apache_line(NGINX.replace("/a", "/a b"), "nginx")
    assert nginx["request"] == "/a b"


@pytest.mark.parametrize("fmt", ["auto", "combined", "nginx", '%h %l %u %t "%r" %>s %b %D'])
def test_overlong_integers_and_nul_runs_are_counted_rejects(fmt: str) -> None:
    line = {"auto": COMMON, "combined": COMBINED, "nginx": NGINX}.get(fmt, COMMON + " 5")
    big = line.replace(" 10", " " + "9" * 5000, 1)
    nineteen = line.replace(" 10", " " + "1" * 19, 1)
    eighteen = line.replace(" 10", " " + "1" * 18, 1)
    hole = "\x00" * 40 + line
    got = keep([big, nineteen, eighteen, hole], format=fmt)
    assert [r.get("reason") for r in got] == [
        "overlong integer in bytes (5000 digits)",
        "overlong integer in bytes (19 digits)",
        None,
        "NUL byte in line",
    ]
    assert got[2]["bytes"] == int("1" * 18)


def test_the_same_rejects_from_files_as_from_lists(tmp_path: Path) -> None:
    lines = [NGINX, NGINX.replace(" 10", " " + "9" * 30), "\x00\x00" + NGINX, "junk"]
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines * 50) + "\n")
    for fmt in ("nginx", "auto"):
        log = Stream.lines(path).parse_apache(fmt)
        plain = log.using(options=NONE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedLinesWarning)
            assert log.count() == plain.count() == 50  # auto reads nginx's main lines too
            assert log.sum("bytes") == plain.sum("bytes")
            assert log.count_by("status") == plain.count_by("status")
        assert log.rejects.list() == plain.rejects.list()


def test_a_default_nginx_log_parses_and_pushes_down(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    rows = [NGINX.replace(" 200 10", f" {s} {b}") for s, b in [(200, 5), (404, 7), (404, 1)]]
    path.write_text("\n".join(rows * 1000) + "\n")
    log = Stream.lines(path).parse_apache("nginx")
    assert log.sum("bytes") == 13000
    assert log.where(status=404).count() == 2000
    assert log.count_by("status") == {200: 1000, 404: 2000}
    assert "parse_apache('nginx'" in log.where(status=404).explain()
    assert log.where(F.agent.contains("Googlebot")).first()["x_forwarded_for"] == (
        "10.0.0.1, 10.0.0.2"
    )


def test_a_mixed_tree_queries_agent_and_referer_across_common_and_combined(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("\n".join([COMMON, COMBINED, COMMON]) + "\n")
    log = Stream.lines(path).parse_apache()
    for q in (log, log.using(options=NONE), Stream([COMMON, COMBINED, COMMON]).parse_apache()):
        assert q.where(F.agent.contains("Googlebot")).count() == 1
        assert q.count_by("agent") == {None: 2, "Googlebot/2.1": 1}
        assert q.where(F.referer.startswith("http")).count() == 1


def test_extra_text_is_a_reject_or_kept() -> None:
    tail = COMBINED + " 0.002"
    assert keep([tail])[0]["reason"] == "unexpected text after agent"
    assert keep([tail], format="combined", extra="keep")[0]["extra"] == "0.002"
    assert keep([COMBINED], format="combined", extra="keep")[0]["extra"] is None
    assert keep([NGINX + ' "x"'], format="nginx")[0]["reason"] == (
        "unexpected text after x_forwarded_for"
    )
    assert keep([NGINX + ' "x"'], format="nginx", extra="keep")[0]["extra"] == '"x"'
    # combined with extra="keep" reads a default nginx log, keeping the last field as text
    assert Stream([NGINX]).parse_apache("combined", extra="keep").first()["extra"] == (
        '"10.0.0.1, 10.0.0.2"'
    )


def test_help_lists_the_presets() -> None:
    doc = Stream.parse_apache.__doc__ or ""
    for name in PRESETS:
        assert name in doc
    assert "help(streamql.formats.access.log_presets)" in doc
    tables = log_presets.__doc__ or ""  # each preset's string, fields and types
    for name in PRESETS:
        assert f"\n{name}: " in tables
    assert tables.count("\n  e.g. ") == len(PRESETS)


# --- behaviour checked against other parsers' documented cases (our own lines) ---------------


def test_reference_a_format_with_literal_text_around_fields() -> None:
    # apache-log-parser documents formats such as "%h <<%P>> %t %Dus ..."; the text between
    # fields must be there as written, and the numbers are typed (there: strings).
    fmt = '%h <<%P>> %t %Dus "%r" %>s %b'
    line = f'10.0.0.9 <<4242>> {STAMP} 1500us "GET /x HTTP/1.0" 304 -'
    record: dict[str, Any] = dict(parse_apache_line(line, fmt))
    assert (record["pid"], record["duration_us"], record["bytes"]) == (4242, 1500, 0)
    assert keep([line.replace("<<4242>>", "<4242>")], format=fmt)[0]["reason"] == (
        "expected ' <<' after host"
    )


def test_reference_nginx_main_with_a_dash_forwarded_for() -> None:
    # Vector's parse_nginx_log "main" is combined plus a quoted $http_x_forwarded_for; it drops
    # "-" fields. streamql keeps a str field's "-" as written, so counts by it still add up.
    line = f'172.17.0.1 - alice {STAMP} "POST /api HTTP/1.1" 201 0 "-" "curl/8" "-"'
    record: dict[str, Any] = dict(parse_apache_line(line, "nginx"))
    assert (record["user"], record["referer"], record["x_forwarded_for"]) == ("alice", "-", "-")
    assert (record["status"], record["bytes"]) == (201, 0)


def test_reference_an_unquoted_trailing_field_is_extra_text() -> None:
    # Fluentd's nginx parser takes an optional unquoted forwarded-for after the agent; the
    # nginx preset quotes it, as nginx's sample config does. extra="keep" reads such lines.
    line = f'127.0.0.1 - - {STAMP} "GET / HTTP/1.1" 200 777 "-" "Opera/12.0" -'
    assert keep([line], format="nginx")[0]["reason"] == """expected '" "' after agent"""
    kept: list[Any] = list(parse_apache([line], format="nginx_combined", extra="keep"))
    assert kept[0]["extra"] == "-" and kept[0]["agent"] == "Opera/12.0"


def test_reference_apache_escapes_stay_as_written() -> None:
    # apachelogs and Logstash unescape \" and \xhh; streamql keeps the text as Apache wrote it,
    # so a needle from the query is found in the raw line (the pre-scan relies on it).
    line = COMMON.replace("/a", r"/q?\x22a\x22") + r' "-" "Agent \"quoted\""'
    record = parse_apache_line(line, "combined")
    assert record["request"] == r"/q?\x22a\x22" and record["agent"] == r"Agent \"quoted\""


def test_alb_logs_parse_with_their_preset_and_agree_on_every_path(tmp_path: Path) -> None:
    from streamql.formats.access.aws_alb import EXAMPLE

    failed = EXAMPLE.replace("0.000 0.001 0.000 200 200", "-1 -1 -1 502 -")
    bad_time = EXAMPLE.replace("0.001", "0.0x1")
    newer = EXAMPLE + ' "a-field-aws-added-later"'
    path = tmp_path / "alb.log"
    path.write_text("\n".join([EXAMPLE, failed, bad_time, newer] * 100) + "\n")
    log = Stream.lines(path).parse_apache("alb")
    plain = log.using(options=NONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        assert log.count() == plain.count() == 300
        assert log.count_by("elb_status") == plain.count_by("elb_status") == {200: 200, 502: 100}
        assert log.sum("sent_bytes") == plain.sum("sent_bytes") == 300 * 366
        first_failed = log.where(elb_status=502).first()
        assert first_failed["target_status"] is None
        assert first_failed["target_processing_time"] == -1
        assert log.where(F.extra.contains("aws-added")).count() == 100
    assert log.rejects.first()["reason"] == "bad number '0.0x1'"


def test_auto_reads_the_presets_that_extend_combined_by_their_shape(tmp_path: Path) -> None:
    io = COMBINED + " 512 7822"
    lines = [COMMON, COMBINED, io, NGINX, COMBINED + " 512", COMBINED + ' "a" "b"']
    got = keep(lines)
    assert [sorted(set(r) - set(got[1])) for r in got[:4]] == [
        [],
        [],
        ["bytes_in", "bytes_out"],
        ["x_forwarded_for"],
    ]
    assert [r.get("reason") for r in got[4:]] == ["unexpected text after agent"] * 2
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines * 100) + "\n")
    log = Stream.lines(path).parse_apache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        assert log.sum("bytes") == log.using(options=NONE).sum("bytes") == 400 * 10
        assert log.where(F.agent.contains("Google")).count() == 300
        assert log.count() == 400
