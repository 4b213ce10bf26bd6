"""parse_syslog: RFC 3164 and RFC 5424 lines, round trips, rejects, years and zones, engines."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.core.errors import FieldError, ParseError, RejectedLinesWarning
from streamql.engine import processes as parallel
from streamql.formats.syslog import parse_syslog
from streamql.formats.syslog_schema import FACILITIES, SEVERITIES, SYSLOG_3164, SYSLOG_5424
from streamql.samples.syslogs import format_3164, format_5424, sample_syslog, write_sample_syslog

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

UTC = ZoneInfo("UTC")


def one(line: str, **options: Any) -> dict[str, Any]:
    """The record or reject of one line (errors="keep")."""
    [item] = parse_syslog([line], errors="keep", **options)
    return item


def reason(line: str, **options: Any) -> str | None:
    return one(line, **options).get("reason")


# ------------------------------------------------------------ RFC 3164 examples
# Our own cases, modelled on the examples of RFC 3164 section 5.4.


def test_a_bsd_line_with_pri_tag_and_message() -> None:
    r = one(
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n",
        year=2003,
        tz="UTC",
    )
    assert r == {
        "pri": 34,
        "facility": 4,
        "facility_name": "auth",
        "severity": 2,
        "severity_name": "crit",
        "datetime": datetime(2003, 10, 11, 22, 14, 15, tzinfo=UTC),
        "host": "mymachine",
        "app": "su",
        "pid": None,
        "version": None,
        "msgid": None,
        "structured_data": None,
        "message": "'su root' failed for lonvick on /dev/pts/8",
    }
    assert list(one("<34>Oct 11 22:14:15 m su: x", rfc="3164", year=2003)) == list(
        SYSLOG_3164.names
    )


def test_a_single_digit_day_is_padded_with_a_space_and_an_ip_host_has_no_tag() -> None:
    r = one("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", year=2024, tz="UTC")
    assert (r["host"], r["app"], r["pid"], r["message"]) == (
        "10.0.0.99",
        None,
        None,
        "Use the BFG!",
    )
    assert r["datetime"] == datetime(2024, 2, 5, 17, 32, 18, tzinfo=UTC)
    assert (r["facility_name"], r["severity_name"]) == ("user", "notice")
    # Writers also pad with a zero or not at all.
    for day in ("Feb 05", "Feb 5"):
        assert one(f"<13>{day} 17:32:18 h m", year=2024)["datetime"].day == 5


def test_a_line_without_pri_as_rsyslog_writes_files() -> None:
    r = one("Dec 24 05:34:00 web1 sshd[1234]: Accepted publickey for bob", year=2024, tz="UTC")
    assert (r["pri"], r["facility"], r["severity"], r["severity_name"]) == (None, None, None, None)
    assert (r["app"], r["pid"], r["message"]) == ("sshd", "1234", "Accepted publickey for bob")


def test_tags_as_daemons_write_them() -> None:
    assert one("Jan  1 00:00:00 h postfix/smtpd[9]: connect", year=2024)["app"] == "postfix/smtpd"
    assert one("Jan  1 00:00:00 h kernel: [ 1.5] usb", year=2024)["message"] == "[ 1.5] usb"
    assert one("Jan  1 00:00:00 h last message repeated 3 times", year=2024)["app"] is None
    assert one("Jan  1 00:00:00 h", year=2024)["message"] == ""


def test_rsyslog_high_precision_timestamps_in_bsd_lines() -> None:
    r = one("<30>2024-03-01T10:00:00.123456+01:00 h app[1]: hi")
    assert r["datetime"] == datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)
    assert r["datetime"].utcoffset() == timedelta(hours=1)


# ------------------------------------------------------------ RFC 5424 examples
# Our own cases, modelled on the four examples of RFC 5424 section 6.5.


def test_5424_without_structured_data_and_a_bom_before_the_message() -> None:
    line = (
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
        "\ufeff'su root' failed for lonvick on /dev/pts/8"
    )
    r = one(line)
    assert r["datetime"] == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=timezone.utc)
    assert (r["host"], r["app"], r["pid"], r["msgid"]) == (
        "mymachine.example.com",
        "su",
        None,
        "ID47",
    )
    assert r["structured_data"] is None
    assert r["message"] == "'su root' failed for lonvick on /dev/pts/8"
    assert (r["version"], r["facility_name"], r["severity_name"]) == (1, "auth", "crit")


def test_5424_with_a_numeric_offset_and_microseconds() -> None:
    r = one("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time")
    assert r["datetime"].isoformat() == "2003-08-24T05:14:15.000003-07:00"
    assert (r["host"], r["app"], r["pid"], r["msgid"]) == ("192.0.2.1", "myproc", "8710", None)
    assert (r["facility_name"], r["severity_name"], r["message"]) == (
        "local4",
        "notice",
        "%% It's time",
    )


def test_5424_structured_data_one_or_more_elements_and_no_message() -> None:
    sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    r = one(
        f"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {sd} "
        "\ufeffAn application event log entry..."
    )
    assert r["structured_data"] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}
    }
    assert r["message"] == "An application event log entry..."
    r = one(
        f"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {sd}"
        '[examplePriority@32473 class="high"]'
    )
    assert r["structured_data"]["examplePriority@32473"] == {"class": "high"}
    assert r["message"] is None


def test_5424_escapes_nilvalues_and_repeated_names() -> None:
    r = one(r'<14>1 - - - - - [x@1 a="q\"uote" b="back\\slash" c="br\]acket" d="\n" e="]"]')
    assert r["structured_data"] == {
        "x@1": {"a": 'q"uote', "b": "back\\slash", "c": "br]acket", "d": "\\n", "e": "]"}
    }
    assert [r[k] for k in ("datetime", "host", "app", "pid", "msgid", "message")] == [None] * 6
    # A parameter's name may start with '[' (found by hypothesis).
    assert one('<14>1 - - - - - [0 [1=""]')["structured_data"] == {"0": {"[1": ""}}
    assert one('<14>1 - - - - - [x a="1" a="2" a="3"]')["structured_data"] == {
        "x": {"a": ["1", "2", "3"]}
    }


def test_facility_and_severity_decoding_covers_every_pri() -> None:
    for pri in range(192):
        r = one(f"<{pri}>1 - h a - - -")
        assert (r["facility"], r["severity"]) == divmod(pri, 8)
        assert (r["facility_name"], r["severity_name"]) == (
            FACILITIES[pri // 8],
            SEVERITIES[pri % 8],
        )
    assert (FACILITIES[16], FACILITIES[23], SEVERITIES[0]) == ("local0", "local7", "emerg")


# ------------------------------------------------------------ rejects


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("<192>Oct 11 22:14:15 h su: x", "bad PRI"),
        ("<034>Oct 11 22:14:15 h su: x", "bad PRI"),
        ("<x>Oct 11 22:14:15 h su: x", "bad PRI"),
        ("<192>1 - h a - - -", "bad PRI"),
        ("<34>Feb 30 22:14:15 h su: x", "bad timestamp"),
        ("<34>Foo 11 22:14:15 h su: x", "bad timestamp"),
        ("<34>Oct 11 25:14:15 h su: x", "bad timestamp"),
        ("<34>Oct 11 22:61:15 h su: x", "bad timestamp"),
        ("<34>11 Oct 22:14:15 h su: x", "bad timestamp"),
        ("<34>Oct 11 22:14:15", "no HOSTNAME"),
        ("", "blank line"),
        ("   \n", "blank line"),
        ("<34>1 2003-10-11T22:14:60Z h a - - -", "bad timestamp"),
        ("<34>1 2003-13-11T22:14:15Z h a - - -", "bad timestamp"),
        ("<34>1 2003-10-11 22:14:15 h a - - -", "bad timestamp"),
        ('<34>1 - h a - - [x a="1"', "unterminated structured data"),
        ('<34>1 - h a - - [x a="1] msg', "unterminated structured data"),
        ("<34>1 - h a - - [x", "unterminated structured data"),
        ("<34>1 - h a - - [x][x]", "duplicate SD-ID 'x'"),
        ("<34>1 - h a - - [x a=1]", "bad structured data"),
        ("<34>1 - h a - - x", "bad structured data"),
        ("<34>1 - h a - -", "missing header fields"),
        ("<34>1 - hé a - - -", "bad HOSTNAME"),
        (f"<34>1 - h {'a' * 49} - - -", "bad APP-NAME"),
        ('<34>1 - h a - - [x a="1"]msg', "no space before MSG"),
    ],
)
def test_rejects_say_why(line: str, expected: str) -> None:
    assert reason(line, year=2024) == expected


def test_one_rfc_only_refuses_the_other() -> None:
    assert reason("<34>Oct 11 22:14:15 h su: x", rfc="5424") == (
        "not an RFC 5424 line (no VERSION after <PRI>)"
    )
    assert reason("<34>1 - h a - - -", rfc="3164") == "bad timestamp"


def test_errors_raise_and_skip_name_the_line() -> None:
    lines = ["<34>Oct 11 22:14:15 h su: ok", "<999>Oct 11 22:14:15 h su: x"]
    with pytest.raises(ParseError) as caught:
        list(parse_syslog(lines, errors="raise", year=2024))
    assert caught.value.reason == "bad PRI" and caught.value.lineno == 2
    with pytest.warns(RejectedLinesWarning, match="parse_syslog 1; first at item 2"):
        assert len(list(parse_syslog(lines, year=2024))) == 1


def test_bad_arguments_fail_when_the_step_is_added() -> None:
    with pytest.raises(ValueError, match="rfc must be"):
        Stream([]).parse_syslog("3165")
    with pytest.raises(ValueError, match="not a time zone"):
        Stream([]).parse_syslog(tz="Mars/Olympus")
    with pytest.raises(TypeError, match="year must be"):
        Stream([]).parse_syslog(year="2024")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable of lines"):
        parse_syslog("<34>Oct 11 22:14:15 h su: x")
    with pytest.raises(TypeError, match="lines must be str"):
        list(parse_syslog([b"<34>Oct 11 22:14:15 h su: x"]))  # type: ignore[list-item]


# ------------------------------------------------------------ years and zones


def test_a_log_crossing_december_to_january_gets_both_years() -> None:
    lines = ["Dec 31 23:59:59 h a: old", "Jan  1 00:00:01 h a: new"]
    read_at = datetime(2025, 1, 15, tzinfo=timezone.utc)
    years = [r["datetime"].year for r in parse_syslog(lines, year=read_at, tz="UTC")]
    assert years == [2024, 2025]
    # The same lines read apart (another process, a tail) get the same years.
    assert [one(line, year=read_at, tz="UTC")["datetime"].year for line in lines] == [2024, 2025]
    # An int puts every line in that year, as is.
    assert {r["datetime"].year for r in parse_syslog(lines, year=2024)} == {2024}


def test_the_default_year_puts_a_line_in_the_last_twelve_months() -> None:
    now = datetime.now(timezone.utc)
    for back in (timedelta(hours=2), timedelta(days=40), timedelta(days=300)):
        then = now - back
        line = format_3164({"datetime": then, "host": "h", "app": "a", "message": "m"})
        got = one(line, tz="UTC")["datetime"]
        assert got == then.replace(microsecond=0), back


def test_feb_29_goes_back_to_the_last_leap_year() -> None:
    r = one("Feb 29 12:00:00 h a: m", year=datetime(2027, 6, 1), tz="UTC")
    assert r["datetime"] == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert reason("Feb 29 12:00:00 h a: m", year=2025) == "bad timestamp"


def test_time_zones_by_name_take_the_offset_of_the_date() -> None:
    paris = [
        one(f"{d} 12:00:00 h a: m", year=2024, tz="Europe/Paris")["datetime"]
        for d in ("Jan 15", "Jul 15")
    ]
    assert [d.utcoffset() for d in paris] == [timedelta(hours=1), timedelta(hours=2)]
    local = one("Jul 15 12:00:00 h a: m", year=2024)["datetime"]
    assert local == datetime(2024, 7, 15, 12).astimezone()  # the machine's zone by default
    fixed = timezone(timedelta(hours=-6))
    assert one("Jul 15 12:00:00 h a: m", year=2024, tz=fixed)["datetime"].tzinfo is fixed


# ------------------------------------------------------------ round trips

_HOSTILE = st.text(st.characters(blacklist_characters="\n\r"), max_size=80)
_WORD = st.text(
    st.characters(blacklist_categories=("C", "Z"), blacklist_characters="[]:"), min_size=1
).filter(lambda s: not any(c.isspace() for c in s))
_HOST = st.text(st.characters(blacklist_categories=("C", "Z")), min_size=1).filter(
    lambda s: not any(c.isspace() for c in s)
)
_MESSAGE = _HOSTILE.filter(lambda s: not s.startswith("\ufeff"))
_TAGGED = re.compile(r"[^\s\[\]:]+(?:\[[^\]]*\])?:")


@st.composite
def bsd_records(draw: st.DrawFn) -> dict[str, Any]:
    pri = draw(st.none() | st.integers(0, 191))
    when = draw(st.datetimes(datetime(2024, 1, 1), datetime(2024, 12, 31, 23, 59, 59)))
    app = draw(st.none() | _WORD)
    pid = (
        None
        if app is None
        else draw(st.none() | st.text(st.characters(blacklist_characters="]\n\r"), max_size=8))
    )
    message = draw(_MESSAGE)
    if app is None:  # a message whose first word ends in ':' reads as a tag, as everywhere
        assume(not _TAGGED.match(message))
    fac = None if pri is None else divmod(pri, 8)
    return {
        "pri": pri,
        "facility": None if fac is None else fac[0],
        "facility_name": None if fac is None else FACILITIES[fac[0]],
        "severity": None if fac is None else fac[1],
        "severity_name": None if fac is None else SEVERITIES[fac[1]],
        "datetime": when.replace(microsecond=0, tzinfo=UTC),
        "host": draw(_HOST),
        "app": app,
        "pid": pid,
        "message": message,
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(bsd_records(), max_size=5), st.booleans())
def test_bsd_round_trip(records: list[dict[str, Any]], newline: bool) -> None:
    lines = [format_3164(r) + ("\n" if newline else "") for r in records]
    assert list(parse_syslog(lines, rfc="3164", year=2024, tz="UTC", errors="raise")) == records


_ASCII = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1)
_SD_NAME = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters='="] '),
    min_size=1,
    max_size=32,
)
_VALUE = st.text(st.characters(blacklist_characters="\n\r"), max_size=20)
_PARAMS = st.dictionaries(_SD_NAME, _VALUE | st.lists(_VALUE, min_size=2, max_size=3), max_size=3)


def _nil_or(field: st.SearchStrategy[str], longest: int) -> st.SearchStrategy[str | None]:
    return st.none() | field.filter(lambda s: s != "-" and len(s) <= longest)


@st.composite
def rfc5424_records(draw: st.DrawFn, rfc: str) -> dict[str, Any]:
    pri = draw(st.integers(0, 191))
    offset = timezone(timedelta(minutes=draw(st.integers(-23 * 60, 23 * 60))))
    when = draw(
        st.none()
        | st.datetimes(datetime(1970, 1, 2), datetime(9998, 1, 1), timezones=st.just(offset))
    )
    return {
        "pri": pri,
        "facility": pri // 8,
        "facility_name": FACILITIES[pri // 8],
        "severity": pri % 8,
        "severity_name": SEVERITIES[pri % 8],
        "datetime": when,
        "host": draw(_nil_or(_ASCII, 255)),
        "app": draw(_nil_or(_ASCII, 48)),
        "pid": draw(_nil_or(_ASCII, 128)),
        "version": draw(st.just(1) if rfc == "auto" else st.integers(1, 999)),
        "msgid": draw(_nil_or(_ASCII, 32)),
        "structured_data": draw(
            st.none() | st.dictionaries(_SD_NAME, _PARAMS, min_size=1, max_size=3)
        ),
        "message": draw(st.none() | _MESSAGE),
    }


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(["auto", "5424"]))
def test_5424_round_trip(data: st.DataObject, rfc: str) -> None:
    records = data.draw(st.lists(rfc5424_records(rfc), max_size=5))
    lines = [format_5424(r) for r in records]
    assert list(parse_syslog(lines, rfc=rfc, errors="raise")) == records


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        _HOSTILE | st.sampled_from(["<", "<1>", "<1>1 ", "<1>1 - - - - - [", "\ufeff"]), max_size=10
    )
)
def test_hostile_lines_give_one_record_or_reject_each(lines: list[str]) -> None:
    out = list(parse_syslog(lines, year=2024, errors="keep"))
    assert len(out) == len(lines)
    for item in out:
        assert ("reason" in item) != ("message" in item)


def test_a_huge_hostile_structured_data_stays_linear() -> None:
    # Each of these would backtrack for ever with a naive value pattern.
    for junk in ('\\"' * 200_000, "\\" * 200_001, '[a b="' * 50_000):
        assert reason(f'<1>1 - - - - - [a b="{junk}') is not None


# ------------------------------------------------------------ the Stream method


def test_the_schema_is_known_before_the_run() -> None:
    log = Stream.lines("no-such-file").parse_syslog()
    assert log.schema == SYSLOG_5424
    assert Stream.lines("x").parse_syslog("3164").schema == SYSLOG_3164
    with pytest.raises(FieldError, match="did you mean 'severity'"):
        log.count_by("severty")
    with pytest.raises(TypeError, match="severity is an int field"):
        log.where(severity="err")
    assert (
        "parse_syslog('3164', year=2024, tz='UTC')"
        in Stream.lines("x").parse_syslog("3164", year=2024, tz="UTC").explain()
    )


def test_the_sample_crosses_a_year_and_parses_back(tmp_path: Path) -> None:
    path = write_sample_syslog(tmp_path / "syslog", 3000, rfc="mixed", bad_every=100)
    log = Stream.lines(path).parse_syslog(year=datetime(2025, 6, 1), tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        years = log.count_by(lambda r: r["datetime"].year)
    assert set(years) == {2024, 2025} and sum(years.values()) == 2970
    assert log.rejects.count() == 30


def test_processes_engine_gives_the_default_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 2000)  # cut the file into parts
    path = write_sample_syslog(tmp_path / "syslog", 4000, rfc="mixed", bad_every=37)
    log = Stream.lines(path).parse_syslog(year=datetime(2025, 6, 1), tz="UTC")
    queries = [
        (log, lambda s: s.count_by("severity_name")),
        (log.where(app="sshd"), lambda s: s.count()),
        (log, lambda s: s.count_by(lambda r: (r["datetime"].year, r["host"]))),
    ]
    for query, terminal in queries:
        parts = query.using("processes", workers=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedLinesWarning)
            assert terminal(parts) == terminal(query)
        assert parts.last_run.rejected == query.last_run.rejected == {"parse_syslog": 108}


def test_sample_lines_are_reproducible() -> None:
    assert list(sample_syslog(50, rfc="mixed", seed=3)) == list(
        sample_syslog(50, rfc="mixed", seed=3)
    )


def test_years_decided_by_the_wall_clock_are_decided_again_a_day_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streamql.formats import syslog_time

    clock = [datetime(2025, 12, 31, 12, tzinfo=timezone.utc).timestamp()]
    monkeypatch.setattr(syslog_time.time, "time", lambda: clock[0])
    bsd = syslog_time.BsdClock(None, "UTC")
    assert bsd.hour("Dec", "31", "10").year == 2025  # type: ignore[union-attr]
    clock[0] += 366 * 86_400  # a year on (2027-01-01), a new hour is met, then December again
    assert bsd.hour("Jan", " 1", "00").year == 2027  # type: ignore[union-attr]
    assert bsd.hour("Dec", "31", "10").year == 2026  # type: ignore[union-attr]
