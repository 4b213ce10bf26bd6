"""parse_json: round-trips, hostile lines, rejects, field checks, pre-scan, backends, engines."""

from __future__ import annotations

import inspect
import itertools
import json
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import F, FieldError, ParseError, RejectedLinesWarning, Stream
from streamql.core.context import RunContext
from streamql.engine import local as engine
from streamql.engine import processes as parallel
from streamql.formats.json_decode import MAX_DEPTH, backend_named, depth
from streamql.formats.json_lines import parse_json, parse_json_prescanned
from streamql.planner import optimize
from streamql.samples.applogs import json_line, sample_records, write_sample_log

try:
    import msgspec  # noqa: F401  (the fast backend: the tests compare it with the reference)

    BACKENDS: tuple[str, ...] = ("json", "msgspec")
except ImportError:  # the "json" extra is not installed: the reference alone
    BACKENDS = ("json",)

# JSON values: text with escapes, quotes, NUL, control and non-ASCII characters;
# integers past 64 bits; floats of every finite kind.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
records = st.dictionaries(st.text(max_size=8), values, max_size=6)


def keep(lines: list[str], **options: Any) -> list[Any]:
    return list(parse_json(lines, errors="keep", **options))


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0, False is not 0)."""
    return repr(a) == repr(b)


@settings(max_examples=200, deadline=None)
@given(st.lists(records, max_size=5), st.booleans())
def test_records_survive_writing_and_parsing_on_both_backends(rows: list[Any], ascii: bool) -> None:
    lines = [json.dumps(r, ensure_ascii=ascii) + "\n" for r in rows]
    for backend in BACKENDS:
        assert same(keep(lines, backend=backend), rows)


def project(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


nested = st.fixed_dictionaries(
    {},
    optional={
        "level": scalars,
        "http": st.one_of(
            st.none(),
            st.integers(),
            st.fixed_dictionaries({}, optional={"status": scalars, "path": st.text()}),
        ),
        "other": values,
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(nested, max_size=6))
def test_projection_keeps_every_field_none_where_absent(rows: list[dict[str, Any]]) -> None:
    lines = [json.dumps(r) for r in rows]
    expected = [
        {"level": r.get("level"), "http": {"status": project(r, "http.status")}} for r in rows
    ]
    for backend in BACKENDS:
        got = keep(lines, fields=["level", "http.status"], backend=backend)
        assert same(got, expected)


hostile = st.one_of(
    st.text(),
    st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.binary().map(lambda b: b.decode("latin-1")),
    records.map(json.dumps).flatmap(  # a valid line, damaged in one place
        lambda line: st.tuples(
            st.integers(0, len(line)), st.integers(0, 3), st.text(max_size=2)
        ).map(lambda cut: line[: cut[0]] + cut[2] + line[cut[0] + cut[1] :])
    ),
    st.sampled_from(
        ['{"a": NaN}', '{"a": 1e999}', '{"a": -Infinity}', '{"a": "\\ud800"}', "null", "7"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(hostile, max_size=6))
def test_any_line_gives_the_same_record_or_reject_on_both_backends(lines: list[str]) -> None:
    for options in ({}, {"fields": ["a", "b.c"]}):
        plain, *fast = (keep(lines, backend=b, **options) for b in BACKENDS)
        assert all(same(plain, other) for other in fast)
        assert len(plain) == len(lines)


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_numbers_deep_nesting_nul_and_huge_lines_never_crash(backend: str) -> None:
    digits = "1" * 5000
    lines = [
        f'{{"a": {digits}}}',  # past Python's int digit limit
        f'{{"skipped": {digits}, "a": 1}}',  # the same, outside the projection
        '{"a": 1e999}',  # the standard library reads inf
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}",  # deep, but allowed
        '{"a": "\\u0000"}',
        '{"a": "\x00"}',  # a raw NUL in a string is not JSON
        '{"a": "' + "x" * 5_000_000 + '"}',
    ]
    got = keep(lines, fields=["a"], backend=backend)
    reasons = [r.get("reason") for r in got]
    assert reasons[0] == reasons[1] and reasons[0] is not None and "4300" in reasons[0]
    assert got[2] == {"a": float("inf")}
    assert reasons[3] == f"bad JSON: nested deeper than {MAX_DEPTH} levels"
    assert reasons[4] is None
    assert got[5] == {"a": "\x00"}
    assert reasons[6] == "bad JSON: Invalid control character at at column 8"
    assert len(got[7]["a"]) == 5_000_000


def test_depth_counts_brackets_outside_strings() -> None:
    assert depth('{"a": "[[[[", "b": [{"c": "\\"]]"}]}') == 3


def test_reject_reasons_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text('{"a": 1}\n{"a": 2,}\n\n"text"\n{"a": 3}\n[]\n', encoding="utf-8")
    rejects = Stream.lines(str(path)).parse_json().rejects.list()
    assert [(r["lineno"], r["reason"]) for r in rejects] == [
        (2, "bad JSON: Expecting property name enclosed in double quotes at column 9"),
        (3, "blank line"),
        (4, "not a JSON object (got a string)"),
        (6, "not a JSON object (got a list)"),
    ]
    assert {r["file"] for r in rejects} == {str(path)}
    with pytest.raises(ParseError, match=r"app\.log:2"):
        Stream.lines(str(path)).parse_json(errors="raise").list()
    with pytest.warns(RejectedLinesWarning, match="parse_json 4"):
        assert Stream.lines(str(path)).parse_json().count() == 2


def test_datetimes_are_aware_and_bad_ones_are_rejects_naming_the_field() -> None:
    lines = [
        '{"ts": "2026-12-04T10:00:00.250Z", "e": 1700000000.5, "ms": 1700000000250}',
        '{"ts": "2026-12-04T10:00:00+05:30", "e": null}',
        '{"ts": "2026-12-04T10:00:00"}',
        '{"ts": 5}',
        '{"e": "soon"}',
        '{"ms": 1e300}',
    ]
    kinds = {"ts": "iso8601", "e": "epoch", "ms": "epoch_ms"}
    for backend in BACKENDS:
        got = keep(lines, datetime=kinds, backend=backend)
        utc = timezone.utc
        assert got[0] == {
            "ts": datetime(2026, 12, 4, 10, 0, 0, 250_000, tzinfo=utc),
            "e": datetime(2023, 11, 14, 22, 13, 20, 500_000, tzinfo=utc),
            "ms": datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=utc),
        }
        assert got[1]["ts"].utcoffset() == timedelta(hours=5, minutes=30) and got[1]["e"] is None
        assert [r["reason"] for r in got[2:]] == [
            "field 'ts': datetime without a UTC offset: '2026-12-04T10:00:00'",
            "field 'ts': not an ISO 8601 datetime: 5",
            "field 'e': not a number of seconds: 'soon'",
            "field 'ms': milliseconds out of range: 1e+300",
        ]
    nested = keep(['{"req": {"at": 0}}'], fields=["req.at"], datetime={"req.at": "epoch"})
    assert nested == [{"req": {"at": datetime(1970, 1, 1, tzinfo=timezone.utc)}}]


def test_fields_are_checked_before_the_run() -> None:
    log = Stream.lines("no-such-file").parse_json(["level", "http.status"])
    with pytest.raises(FieldError, match="did you mean 'level'"):
        log.where(levl="error")
    with pytest.raises(FieldError, match=r"did you mean 'http\.status'"):
        log.count_by("http.stat")
    assert log.schema is not None and log.schema.names == ("level", "http.status")
    anything = Stream.lines("no-such-file").parse_json()
    assert anything.schema is None
    anything.where(whatever=1).select("x", "y")  # no fields declared: nothing refused
    with pytest.raises(ValueError, match="not in fields"):
        Stream([]).parse_json(["a"], datetime={"b": "epoch"})
    with pytest.raises(ValueError, match="inside field 'http'"):
        Stream([]).parse_json(["http", "http.status"])
    with pytest.raises(TypeError, match=r"fields=\[\.\.\.\]"):
        Stream([]).parse_json("level")
    with pytest.raises(ValueError, match="must be one of"):
        Stream([]).parse_json(datetime={"ts": "rfc2822"})
    with pytest.raises(ValueError, match="backend must be one of"):
        Stream([]).parse_json(backend="orjson")
    with pytest.raises(TypeError, match="lines must be str, got bytes"):
        list(parse_json([b"{}"]))  # type: ignore[list-item]


def test_nested_fields_with_lambdas_and_explain() -> None:
    lines = [json_line(r) for r in itertools.islice(sample_records(seed=3), 500)]
    log = Stream(lines).parse_json(["level", "http.status", "bytes"])
    errors = log.where(lambda r: r["http"]["status"] >= 500)
    assert errors.count() == sum(1 for line in lines if json.loads(line)["http"]["status"] >= 500)
    assert "parse_json(['level', 'http.status', 'bytes'])" in log.explain()
    shown = Stream(lines).parse_json(datetime={"ts": "iso8601"}, errors="keep", backend="json")
    assert "parse_json(datetime={'ts': 'iso8601'}, errors='keep', backend='json')" in repr(shown)


def test_the_standard_library_serves_when_msgspec_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert backend_named("parse_json", "auto") == BACKENDS[-1]
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec now fails
    assert backend_named("parse_json", "auto") == "json"
    with pytest.raises(ImportError, match=r"streamql\[json\]"):
        backend_named("parse_json", "msgspec")
    assert keep(['{"a": [1]}', "x"])[0] == {"a": [1]}


# The pre-scan: lines whose raw text cannot hold the value are never decoded into records.

levels = st.sampled_from(["error", "info", "err", "errors", 'e"r', "é", "", 404])
level_lines = st.one_of(
    levels.map(lambda v: json.dumps({"level": v, "n": 1})),
    levels.map(lambda v: json.dumps({"level": v}, ensure_ascii=True).replace("e", "\\u0065", 1)),
    levels.map(lambda v: json.dumps({"msg": v, "other": "error"})),
    st.just('{"level": "\\u0065rror"}'),
    st.just('{"level": "error"'),  # bad JSON holding the text
    st.just('{"ts": "bad", "level": "info"}'),
    st.just('{"ts": "2026-01-01T00:00:00Z", "level": "error"}'),
    st.just("[1]"),
    st.just('{"level": ["x"]}'),  # isin cannot hash a list: the plain run raises
    st.text(max_size=10),
)


def run(steps: Any, options: optimize.Options) -> tuple[Any, ...]:
    ctx = RunContext(keep_rejects=True)
    with engine.running(steps, engine.RunReport(), ctx=ctx, options=options, warn=False) as it:
        out = list(it)
    assert ctx.sink is not None
    return repr(out), dict(ctx.rejected), [(r["reason"], r["lineno"]) for r in ctx.sink]


def outcome(steps: Any, options: optimize.Options) -> Any:
    try:
        return run(steps, options)
    except TypeError as exc:  # the same error on both plans, not an answer on one
        return f"TypeError: {exc}"


@settings(max_examples=200, deadline=None)
@given(st.lists(level_lines, max_size=12), levels, st.sampled_from(BACKENDS), st.booleans())
def test_prescan_never_changes_an_answer_or_a_reject(
    lines: list[str], value: Any, backend: str, with_ts: bool
) -> None:
    fields = ["level", "ts"] if with_ts else ["level"]
    times = {"ts": "iso8601"} if with_ts else None
    log = Stream(lines).parse_json(fields, backend=backend, datetime=times)
    for query in (log.where(level=value), log.where(F.level.isin(["error", value]))):
        assert outcome(query.steps, optimize.DEFAULT) == outcome(query.steps, optimize.NONE)


def test_prescan_is_planned_only_where_it_is_sound() -> None:
    log = Stream.lines("app.log").parse_json(["level", "n"])

    def parser(query: Stream[Any]) -> str:
        return optimize.optimize(query.steps)[1].render()

    assert "prescan='\"error\"'" in parser(log.where(level="error"))
    assert "prescan" not in parser(log.where(n=404))  # 404.0 and 4.04e2 equal it too
    assert "prescan" not in parser(log.where(level='say "hi"'))  # needs an escape
    assert "prescan" not in parser(log.where(F.level.contains("err")))
    assert "prescan" not in parser(log.where(F.level.isin(["error"])))  # a list cannot be hashed
    assert "prescan" not in parser(Stream.lines("app.log").parse_json().where(level="error"))


def test_prescan_skips_building_but_checks_every_line() -> None:
    ctx = RunContext(keep_rejects=True)
    lines = ['{"level": "info", "ts": "never"}', '{"level": "error", "ts": 0}', "{"]
    out: list[Any] = list(
        parse_json_prescanned(
            lambda line: '"error"' in line,
            lines,
            fields=["level", "ts"],
            datetime={"ts": "epoch"},
            ctx=ctx,
        )
    )
    assert [r["level"] for r in out] == ["error"]
    assert ctx.sink is not None
    assert [r["reason"] for r in ctx.sink] == [
        "field 'ts': not a number of seconds: 'never'",
        "bad JSON: Expecting property name enclosed in double quotes at column 2",
    ]


# Engines: parts of a generated file give the default engine's answers and rejects.


def quiet(func: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


def generated(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    write_sample_log(path, lines=3000, seed=5)
    with path.open("a", encoding="utf-8") as f:
        f.write('not json\n{"level": "error"\n[1]\n')
    with path.open("r+", encoding="utf-8") as f:  # a bad line in the middle too
        f.seek(path.stat().st_size // 2)
        f.write("\n}}}\n")
    return path


@pytest.mark.usefixtures("no_leaked_threads")
def test_processes_engine_agrees_with_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 4096)  # many parts
    path = generated(tmp_path)
    log = Stream.lines(str(path)).parse_json(
        ["level", "http.status", "bytes", "ts"], datetime={"ts": "iso8601"}
    )
    queries: dict[str, tuple[Any, Any]] = {  # the stream a terminal runs, and the terminal
        "count_by": (lambda s: s, lambda s: s.count_by("level")),
        "sum": (lambda s: s.where(level="error"), lambda s: s.sum("bytes")),
        "count": (lambda s: s.where(lambda r: r["http"]["status"] == 404), lambda s: s.count()),
        "max": (lambda s: s, lambda s: s.max(key="ts")["ts"]),
    }
    for name, (narrow, terminal) in queries.items():
        default, processes = narrow(log), narrow(log.using("processes", workers=2))
        assert quiet(lambda: terminal(processes)) == quiet(lambda: terminal(default)), name  # noqa: B023
        assert processes.last_run.rejected == default.last_run.rejected, name
    assert sum(log.last_run.rejected.values()) >= 4
    whole = Stream.lines(str(path)).parse_json()
    assert quiet(lambda: whole.using("processes", workers=2).count_by("service")) == quiet(
        lambda: whole.count_by("service")
    )


def test_dask_engine_agrees_with_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dask = pytest.importorskip("dask")
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 4096)
    log = Stream.lines(str(generated(tmp_path))).parse_json(["level", "bytes"])
    with dask.config.set(scheduler="synchronous"):
        got = quiet(lambda: log.where(level="error").sum("bytes", engine="dask"))
    assert got == quiet(lambda: log.where(level="error").sum("bytes"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_projection_of_keys_python_cannot_name(backend: str) -> None:
    line = '{"user-agent": "curl", "class": 1, "_id": 2, "a b": {"c-d": 3}, "": 4}'
    got = keep([line], fields=["user-agent", "class", "_id", "a b.c-d"], backend=backend)
    assert got == [{"user-agent": "curl", "class": 1, "_id": 2, "a b": {"c-d": 3}}]


def test_the_method_and_the_function_agree_on_their_options() -> None:
    method = inspect.signature(Stream.parse_json).parameters
    func = inspect.signature(parse_json).parameters
    assert {k: p.default for k, p in method.items() if k != "self"} == {
        k: p.default for k, p in func.items() if k not in ("lines", "ctx")
    }
