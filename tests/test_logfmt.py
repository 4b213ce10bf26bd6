"""parse_logfmt: round-trips through the writer, the rules, rejects, types, fields, engines."""

from __future__ import annotations

import inspect
import itertools
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import FieldError, ParseError, RejectedLinesWarning, Stream
from streamql.engine import processes as parallel
from streamql.formats import logfmt
from streamql.formats.logfmt import format_logfmt, parse_logfmt
from streamql.samples.applogs import logfmt_line, sample_records, write_sample_log

keys = st.from_regex(r'[^\s="]+', fullmatch=True)
values = st.one_of(
    st.just(True), st.text(), st.sampled_from(["", " ", '"', "\\", "a=b", "é\t☕", "\x00"])
)
records = st.dictionaries(keys, values, max_size=8)


def keep(lines: list[str], **options: Any) -> list[Any]:
    return list(parse_logfmt(lines, errors="keep", **options))


@settings(max_examples=300, deadline=None)
@given(st.lists(records.filter(bool), max_size=5))
def test_records_survive_writing_and_parsing(rows: list[dict[str, Any]]) -> None:
    lines = [format_logfmt(r) + "\n" for r in rows]
    assert keep(lines) == rows


def test_the_rules() -> None:
    line = 'at=info  debug path=/a?b=c user= msg="a \\"quoted\\" \\\\ value\\n" n=1 n=2\tend'
    assert keep([line]) == [
        {
            "at": "info",
            "debug": True,
            "path": "/a?b=c",
            "user": "",
            "msg": 'a "quoted" \\ value\n',
            "n": "2",  # the last value wins, in the place the key first appeared
            "end": True,
        }
    ]
    assert list(keep([line])[0]) == ["at", "debug", "path", "user", "msg", "n", "end"]
    assert keep(['k="\\u00e9\\t"']) == [{"k": "é\t"}]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('msg="never closed', "unterminated quoted value at column 5"),
        ('a=1 b="x\\"', "unterminated quoted value at column 7"),
        ("a=1 =2", "missing key before '=' at column 5"),
        ('a=x"y"', "quote inside a value at column 4"),
        ('"quoted"=1', "quote outside a value at column 1"),
        ('a="x"y', "quote inside a value at column 6"),
        ('a="\\q"', "unknown escape \\q"),
        ("", "blank line"),
        (" \t\n", "blank line"),
    ],
)
def test_rejects_say_why_and_where(line: str, reason: str) -> None:
    assert keep([line]) == [
        {"stage": "parse_logfmt", "reason": reason, "line": line, "file": None, "lineno": 1}
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text() | st.binary().map(lambda b: b.decode("latin-1")), max_size=6))
def test_any_line_is_a_record_or_a_reject(lines: list[str]) -> None:
    got = keep(lines)
    assert len(got) == len(lines)
    for item in got:
        assert isinstance(item, dict)


# Lines built from the characters the rules turn on, so most of them come
# close to the edge of a rule (an escape, a quote, a space that is not ASCII).
edgy_lines = st.lists(
    st.sampled_from(list('ab=" \\\t\nuD8F0/nrtx\x1c\xa0é\U0001f600')), max_size=40
).map("".join)


def cut_both_ways(line: str, keys: tuple[str, ...] | None) -> tuple[Any, Any]:
    """One line through the C cut and through the reference regex cut."""

    def reference() -> Any:
        try:
            return list(logfmt._record(line, keys).items())
        except ValueError as exc:
            return exc.args[0]

    got = logfmt._c_record(line, keys)  # type: ignore[misc]
    if got is None:
        got = logfmt._diagnose(line)
    return (list(got.items()) if isinstance(got, dict) else got), reference()


@pytest.mark.skipif(not logfmt.cut_in_c(), reason="the C extension is not built")
@settings(max_examples=2000, deadline=None)
@given(
    edgy_lines | st.text() | records.map(format_logfmt),
    st.none() | st.sampled_from([("a",), ("b", "a"), ("ab",), ("a", "b", "é"), ("msg",)]),
)
def test_the_c_cut_agrees_with_the_regex(line: str, keys: tuple[str, ...] | None) -> None:
    c, reference = cut_both_ways(line, keys)
    assert c == reference  # the same pairs in the same order, or the same reason


@pytest.mark.skipif(not logfmt.cut_in_c(), reason="the C extension is not built")
def test_the_c_cut_on_long_and_wide_lines() -> None:
    many = " ".join(f"k{i}=v{i}" for i in range(200))  # more pairs than the C stack holds
    for line in (many, 'a="' + '\\"' * 50_000, "k=" + "x" * 1_000_000, 'k="\\uzzzz"'):
        for keys in (None, ("k", "k199")):
            c, reference = cut_both_ways(line, keys)
            assert c == reference


def test_hostile_lines_stay_linear_and_never_crash() -> None:
    long_line = 'a="' + '\\"' * 500_000  # unterminated, a million characters
    assert keep([long_line])[0]["reason"] == "unterminated quoted value at column 3"
    assert keep(["k=" + "x" * 5_000_000])[0]["k"] == "x" * 5_000_000


def test_types_convert_and_bad_values_are_rejects_naming_the_field() -> None:
    lines = [
        "ts=2026-12-04T10:00:00Z duration=0.25 n=3 verbose",
        "ts=1700000000 duration=fast",
        "duration=",
    ]
    types = {"ts": "iso8601", "duration": float, "n": int, "verbose": int}
    got = keep(lines, types=types)
    assert got[0] == {
        "ts": datetime(2026, 12, 4, 10, tzinfo=timezone.utc),
        "duration": 0.25,
        "n": 3,
        "verbose": True,  # a bare key stays True: types convert text
    }
    assert got[1]["reason"] == "field 'ts': not an ISO 8601 datetime: '1700000000'"
    assert (
        got[2]["reason"]
        == "field 'duration': float('') failed: could not convert string to float: ''"
    )
    assert keep(["t=1700000000"], types={"t": "epoch"})[0]["t"].year == 2023


def test_fields_project_and_are_checked_before_the_run() -> None:
    assert keep(["a=1 b=2"], fields=["b", "c"]) == [{"b": "2", "c": None}]
    log = Stream.lines("no-such-file").parse_logfmt(
        ["level", "duration"], types={"duration": float}
    )
    with pytest.raises(FieldError, match="did you mean 'level'"):
        log.count_by("levl")
    with pytest.raises(TypeError, match="a str field"):
        log.where(level=3)
    assert log.schema is not None and log.schema.get("duration").type is float  # type: ignore[union-attr]
    Stream.lines("no-such-file").parse_logfmt().where(anything=1)  # nothing declared: no check
    with pytest.raises(ValueError, match="cannot be a logfmt key"):
        Stream([]).parse_logfmt(["has space"])
    with pytest.raises(ValueError, match="must be one of"):
        Stream([]).parse_logfmt(types={"t": "rfc3339"})
    assert "parse_logfmt(['level', 'duration'], types={'duration': <class 'float'>})" in repr(log)


def test_rejects_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    path.write_text('a=1\nb="x\nc=3\n', encoding="utf-8")
    assert [(r["file"], r["lineno"]) for r in Stream.lines(str(path)).parse_logfmt().rejects] == [
        (str(path), 2)
    ]
    with pytest.raises(ParseError, match=r"svc\.log:2"):
        Stream.lines(str(path)).parse_logfmt(errors="raise").list()


def test_sample_lines_read_back_as_their_records() -> None:
    for record in itertools.islice(sample_records(seed=2), 300):
        flat = next(parse_logfmt([logfmt_line(record)]))
        assert flat["http.status"] == str(record["http"]["status"])
        assert flat["msg"] == record["msg"]
        assert flat.get("user") == record.get("user")


def quiet(func: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


@pytest.mark.usefixtures("no_leaked_threads")
def test_processes_engine_agrees_with_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 4096)
    path = tmp_path / "svc.log"
    write_sample_log(path, format="logfmt", lines=3000, seed=4)
    with path.open("a", encoding="utf-8") as f:
        f.write('msg="unterminated\n=1\n\n')
    log = Stream.lines(str(path)).parse_logfmt(types={"bytes": int})
    narrowings: list[Any] = [lambda s: s, lambda s: s.where(lambda r: r["level"] == "error")]
    for narrow in narrowings:
        default, processes = narrow(log), narrow(log.using("processes", workers=2))
        assert quiet(lambda: processes.sum("bytes")) == quiet(lambda: default.sum("bytes"))  # noqa: B023
        assert processes.last_run.rejected == default.last_run.rejected == {"parse_logfmt": 3}


def test_dask_engine_agrees_with_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dask = pytest.importorskip("dask")
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 4096)
    path = tmp_path / "svc.log"
    write_sample_log(path, format="logfmt", lines=2000, seed=6)
    with path.open("a", encoding="utf-8") as f:
        f.write('a="open\n')
    log = Stream.lines(str(path)).parse_logfmt(["level"])
    with dask.config.set(scheduler="synchronous"):
        got = quiet(lambda: log.count_by("level", engine="dask"))
    assert got == quiet(lambda: log.count_by("level"))
    assert log.last_run.rejected == {"parse_logfmt": 1}


def test_the_method_and_the_function_agree_on_their_options() -> None:
    method = inspect.signature(Stream.parse_logfmt).parameters
    func = inspect.signature(parse_logfmt).parameters
    assert {k: p.default for k, p in method.items() if k != "self"} == {
        k: p.default for k, p in func.items() if k not in ("lines", "ctx")
    }
