"""Record schemas: declared by parsers, read by the planner, and checked before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamql import F, FieldError, Stream
from streamql.aggregates import Count, Sum, Top
from streamql.formats.access.apache_schema import APACHE, BLOCK_FIELDS, REQUEST_PARTS, schema_for
from streamql.planner.optimize import NONE

MISSING = Path("no-such-dir") / "access-log"  # never opened: the errors come first


def test_misspelled_fields_fail_before_reading_with_a_guess() -> None:
    log = Stream.lines(MISSING).parse_apache()
    cases = [
        (lambda: log.count_by("stauts"), "count_by", "status"),
        (lambda: log.sum("byte"), "sum", "bytes"),
        (lambda: log.set("hots"), "distinct", "host"),
        (lambda: log.max("bytez"), "max", "bytes"),
        (lambda: log.top(3, by="bytez"), "top", "bytes"),
        (lambda: log.where(stauts=404), "where", "status"),
        (lambda: log.select("reqest"), "select", "request"),
        (lambda: log.aggregate(n=Count(where=F.stauts == 404)), "count", "status"),
        (lambda: log.where(status=404).take(5).count_by("agnet"), "count_by", "agent"),
    ]
    for query, stage, meant in cases:
        with pytest.raises(FieldError, match=rf"^{stage}: parse_apache yields no field") as info:
            query()
        assert f"did you mean {meant!r}?" in str(info.value)
        assert isinstance(info.value, KeyError)  # still a KeyError to code that expects one


def test_a_field_the_format_lacks_is_refused_and_one_it_has_is_not() -> None:
    common = Stream.lines(MISSING).parse_apache("common")
    with pytest.raises(FieldError, match="no field 'agent'"):
        common.where(F.agent.contains("bot"))
    combined = Stream.lines(MISSING).parse_apache("combined")
    assert combined.where(F.agent.contains("bot")).schema is schema_for("combined")
    auto = Stream.lines(MISSING).parse_apache()
    # A common line's agent is None: the field is in every record, and may be None.
    assert "agent" in auto.schema.present() and auto.schema.get("agent").nullable  # type: ignore[union-attr]


def test_comparing_an_int_field_with_text_is_flagged() -> None:
    log = Stream.lines(MISSING).parse_apache()
    with pytest.raises(TypeError, match=r"status is an int field .* never equals the str '404'"):
        log.where(status="404")
    with pytest.raises(TypeError, match="Compare with status=404 instead"):
        log.where(F.status == "404")
    with pytest.raises(TypeError, match="bytes is an int field"):
        log.where(F.bytes.isin(["0"]))
    log.where(status=404, host="1.2.3.4")  # the right types pass


def test_steps_that_change_records_forget_or_reshape_the_schema() -> None:
    log = Stream.lines(MISSING).parse_apache()
    assert log.map(dict).schema is None
    with pytest.raises(FileNotFoundError):  # unknown records: checked when run, so it runs
        log.map(dict).count_by("stauts")
    assert log.select("host", "bytes").schema.names == ("host", "bytes")
    with pytest.raises(FieldError, match="no field 'status'"):
        log.select("host").count_by("status")
    assert log.with_origin().schema.names[-1] == "origin"


def test_misspelled_fields_of_plain_records_name_the_field() -> None:
    rows = Stream([{"status": 200, "bytes": 1}])
    for query, stage in [
        (lambda: rows.count_by("stauts"), "count_by"),
        (lambda: rows.sum("byte"), "sum"),
        (lambda: rows.top(1, by="bytez"), "top"),
        (lambda: rows.max(key="bytez"), "max"),
        (lambda: rows.group_by("stauts"), "group_by"),
    ]:
        with pytest.raises(FieldError, match=rf"^{stage}: item has no field"):
            query()


def test_the_apache_schema_is_the_one_place_its_fields_are_written() -> None:
    assert BLOCK_FIELDS == ("host", "ident", "user", "req", "status", "bytes", "referer", "agent")
    assert REQUEST_PARTS == {"method": 0, "request": 1, "proto": 2}
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 7 "-" "curl"'
    (record,) = Stream([line]).parse_apache().list()
    assert tuple(record) == APACHE.names
    for name, value in record.items():
        assert isinstance(value, APACHE.get(name).type)  # type: ignore[union-attr]


def test_sum_of_records_says_to_name_a_field() -> None:
    with pytest.raises(TypeError, match=r"Name the field to add: .sum\('bytes'\)"):
        Stream([{"bytes": 1}]).sum()


def test_user_aggregations_and_top_are_pushed_down(tmp_path: Path) -> None:
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /{} HTTP/1.1" 200 {}\n'
    path = tmp_path / "log"
    path.write_text("".join(line.format(i, i % 97) for i in range(3000)))
    log = Stream.lines(path).parse_apache()
    many = log.aggregate(n=Count(), total=Sum("bytes"), big=Top(2, by="bytes"))
    assert "rewritten: pushdown" in log.explain(aggregate=Top(2, by="bytes")) and log.last_run.plan[
        -1
    ].startswith("parse_apache(aggregate=Many(")
    plain = log.using(options=NONE)
    assert many == plain.aggregate(n=Count(), total=Sum("bytes"), big=Top(2, by="bytes"))
    assert [r["request"] for r in many["big"]] == ["/96", "/193"]  # ties: the earlier first
