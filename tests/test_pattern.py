"""parse(pattern): named-group regexes and "*" wildcard patterns, anchored, typed, rejected."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.core.errors import FieldError, ParseError, RejectedLinesWarning
from streamql.engine import processes as parallel
from streamql.formats.pattern import compile_pattern, parse
from streamql.samples.syslogs import write_sample_syslog

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

ACCESS = '* - * [*] "*"'
INTO = ("host", "user", "time", "request")


def keep(pattern: Any, lines: list[str], **options: Any) -> list[dict[str, Any]]:
    return list(parse(pattern, lines, errors="keep", **options))  # type: ignore[arg-type]


def test_a_wildcard_pattern_as_angle_grinder_writes_it() -> None:
    line = '10.0.0.1 - bob [24/Feb/2008:00:08:59 -0600] "GET /ply/ HTTP/1.1"\n'
    assert keep(ACCESS, [line], into=INTO) == [
        {
            "host": "10.0.0.1",
            "user": "bob",
            "time": "24/Feb/2008:00:08:59 -0600",
            "request": "GET /ply/ HTTP/1.1",
        }
    ]


def test_each_star_takes_as_little_as_it_can_and_literals_match_exactly() -> None:
    assert keep("*=*", ["a=b=c"], into=("k", "v")) == [{"k": "a", "v": "b=c"}]
    assert keep("* *", ["a  b"], into=("x", "y")) == [{"x": "a", "y": " b"}]
    assert keep("(*)", ["(a)"], into=("x",)) == [{"x": "a"}]  # regex characters are literal
    assert keep("a.c *", ["abc x"], into=("x",))[0]["reason"] == "does not match the pattern"
    assert keep(r"\* *", ["* x"], into=("x",)) == [{"x": "x"}]  # \* is a literal star
    assert keep("* _ *", ["a _ b"], into=("x", "y")) == [{"x": "a", "y": "b"}]
    assert keep("* * *", ["a b c"], into=("x", "_", "z")) == [{"x": "a", "z": "c"}]


def test_the_pattern_is_anchored_at_both_ends() -> None:
    lines = ["GET /a 200", "GET /a 200 extra", "x GET /a 200"]
    rows = keep(r"(?P<method>\S+) (?P<path>\S+) (?P<status>[0-9]+)", lines)
    assert rows[0] == {"method": "GET", "path": "/a", "status": "200"}
    assert [r.get("reason") for r in rows[1:]] == ["does not match the pattern"] * 2
    assert keep(r"(?P<method>\S+) .*", ["GET /a"]) == [{"method": "GET"}]
    assert keep("* /*", ["x GET /a 200"], into=("head", "rest")) == [
        {"head": "x GET", "rest": "a 200"}
    ]


def test_line_endings_are_not_part_of_the_line() -> None:
    assert keep("*", ["a\n", "b\r\n", "c"], into=("x",)) == [{"x": "a"}, {"x": "b"}, {"x": "c"}]


def test_a_regex_keeps_only_its_named_groups_and_its_flags() -> None:
    rx = re.compile(r"(get|post) (?P<path>\S+)", re.IGNORECASE)
    assert keep(rx, ["GET /x"]) == [{"path": "/x"}]
    rows = keep(r"(?P<a>x)|(?P<b>y)", ["y"], types={"a": int})
    assert rows == [{"a": None, "b": "y"}]  # a group that took no part is None, unconverted


def test_types_convert_fields_and_a_bad_value_is_a_reject() -> None:
    lines = ["/a 200 512", "/b 404 -"]
    rows = keep(
        "* * *", lines, into=("path", "status", "bytes"), types={"status": int, "bytes": int}
    )
    assert rows[0] == {"path": "/a", "status": 200, "bytes": 512}
    assert rows[1]["reason"] == "bad bytes (int)" and rows[1]["lineno"] == 2


def test_errors_raise_and_skip() -> None:
    with pytest.raises(ParseError) as caught:
        list(parse("* *", ["a b", "nope"], into=("x", "y"), errors="raise"))
    assert (caught.value.reason, caught.value.lineno) == ("does not match the pattern", 2)
    with pytest.warns(RejectedLinesWarning, match="parse 1; first at item 2"):
        assert len(list(parse("* *", ["a b", "nope"], into=("x", "y")))) == 1


@pytest.mark.parametrize(
    ("pattern", "options", "error", "match"),
    [
        ("* *", {"into": ("a",)}, ValueError, "has 2 '\\*' but into names 1 field"),
        ("* *", {"into": ("a", "a")}, ValueError, "names a field twice"),
        ("* *", {"into": ("a", "b-c")}, ValueError, "must be identifiers"),
        ("* *", {"into": "ab"}, TypeError, "into must be a sequence"),
        (r"\S+ \S+", {}, ValueError, "has no named group"),
        ("(?P<a>", {}, ValueError, "not a valid regex"),
        ("(?P<a>x)", {"types": {"b": int}}, ValueError, "does not capture; its fields: a"),
        ("(?P<a>x)", {"types": {"a": 3}}, TypeError, "must be callable"),
        (42, {}, TypeError, "pattern must be a str or re.Pattern"),
    ],
)
def test_bad_patterns_fail_when_the_step_is_added(
    pattern: Any, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Stream(["x"]).parse(pattern, **options)


def test_fields_are_known_before_the_run() -> None:
    log = Stream.lines("no-such-file").parse(ACCESS, into=INTO)
    assert log.schema is not None and log.schema.names == INTO
    with pytest.raises(FieldError, match="did you mean 'host'"):
        log.count_by("hots")
    typed = Stream.lines("x").parse("* *", into=("path", "status"), types={"status": int})
    with pytest.raises(TypeError, match="status is an int field"):
        typed.where(status="404")
    text = typed.explain()
    assert "parse('* *', into=('path', 'status'), types={'status': int})" in text


_SEP = " | "
_FIELD = st.text(st.characters(blacklist_characters="\n\r"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_FIELD, _FIELD, _FIELD), max_size=6))
def test_wildcard_round_trip(rows: list[tuple[str, str, str]]) -> None:
    # A field before a separator cannot hold it (the star stops at its first
    # occurrence); the last field can hold anything.
    rows = [r for r in rows if all((f + _SEP).find(_SEP) == len(f) for f in r[:2])]
    lines = [_SEP.join(r) + "\n" for r in rows]
    got = list(parse("* | * | *", lines, into=("a", "b", "c"), errors="raise"))
    assert got == [dict(zip("abc", r, strict=True)) for r in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=10))
def test_hostile_lines_give_one_record_or_reject_each(lines: list[str]) -> None:
    out = keep('* - * [*] "*"', lines, into=INTO)
    assert len(out) == len(lines)
    regex = keep(r"(?P<a>[0-9]+)-(?P<b>.*)", lines, types={"a": int})
    assert len(regex) == len(lines)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("ab |\r\n"), max_size=12).map(lambda s: s.replace("\n", "") + "\n")
        | st.text(st.sampled_from("ab |\r"), max_size=12),
        max_size=8,
    )
)
def test_a_star_pattern_reads_line_endings_as_cutting_them_would(lines: list[str]) -> None:
    # '*' patterns match the line ending in the regex rather than cut it first.
    regex, _, _ = compile_pattern("parse", "* | *", ("a", "b"))
    assert regex.pattern.endswith(r"(?:\r?\n)?")
    cut = re.compile(regex.pattern.removesuffix(r"(?:\r?\n)?"), re.DOTALL)
    assert keep("* | *", lines, into=("a", "b")) == keep(cut, lines)


def test_processes_engine_gives_the_default_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 2000)
    path = write_sample_syslog(tmp_path / "syslog", 4000, rfc="3164", bad_every=41)
    log = Stream.lines(path).parse(
        "<*>* * * * *[*]: *", into=("pri", "month", "day", "time", "host", "app", "pid", "msg"),
        types={"pri": int},
    )  # fmt: skip
    for query in (log, log.where(app="sshd")):
        parts = query.using("processes", workers=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedLinesWarning)
            assert parts.count_by("host") == query.count_by("host")
            assert parts.sum("pri") == query.sum("pri")
        assert parts.last_run.rejected == query.last_run.rejected
    assert query.last_run.rejected["parse"] > 97  # the bad lines and the kernel's (no [pid])
