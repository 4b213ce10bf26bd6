"""Stream semantics: immutable plans, laziness, re-runs, repr/explain, errors, extension."""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest

import streamql
from streamql import F, ParseError, RejectedLinesWarning, Stream, StreamError, operation
from streamql.formats.access import apache
from streamql.ops import files, flow, records, text


class Counting:
    """An iterable that counts how many items were pulled from it."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.pulled = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.pulled += 1
            yield item


def test_chain_returns_new_streams_and_shares_steps() -> None:
    base = Stream([1, 2, 3])
    doubled = base.map(lambda x: x * 2)
    evens = doubled.where(lambda x: x % 4 == 0)
    assert base.count() == 3 and doubled.list() == [2, 4, 6] and evens.list() == [4]
    assert evens.steps[:2] == doubled.steps
    assert len(base.steps) == 1


def test_building_and_repr_and_explain_pull_nothing() -> None:
    source = Counting(list(range(10)))
    s = Stream(source).map(str).where(lambda x: x != "3").take(2)
    repr(s)
    s.explain()
    assert source.pulled == 0
    assert s.list() == ["0", "1"]
    assert source.pulled == 2


def test_first_pulls_one_and_take_ends_infinite() -> None:
    source = Counting(list(range(100)))
    assert Stream(source).map(lambda x: x + 1).first() == 1
    assert source.pulled == 1
    assert Stream(itertools.count()).where(lambda x: x % 7 == 0).take(3).list() == [0, 7, 14]


def test_rerunnable_over_lists_and_one_shot_iterators_refuse_a_second_run() -> None:
    s = Stream([3, 1, 2]).map(lambda x: x * 10)
    assert s.sum() == 60 and s.max() == 30
    once = Stream(iter([1, 2, 3]))
    assert once.sum() == 6
    with pytest.raises(StreamError, match=r"one-shot source .* consumed by an earlier run"):
        once.count()


def test_repr_reads_like_the_code() -> None:
    s = (
        Stream.files("access-log*", "www")
        .open()
        .cat()
        .parse_apache()
        .where(status=404)
        .select("host", "request")
    )
    assert repr(s) == (
        "Stream.files('access-log*', 'www').open().cat().parse_apache()"
        ".where(status=404).select('host', 'request')"
    )
    assert repr(Stream.files("*.log")) == "Stream.files('*.log')"
    assert repr(Stream.lines("a", "b").grep("x", invert=True).field(-1).map(int)) == (
        "Stream.lines('a', 'b').grep('x', invert=True).field(-1).map(int)"
    )
    assert repr(Stream([1]).where(F.bytes > 1000).map(lambda x: x)) == (
        "Stream([1]).where(F.bytes > 1000).map(<lambda>)"
    )
    assert repr(Stream.lines("x").parse_apache().rejects) == (
        "Stream.lines('x').parse_apache().rejects"
    )


def test_explain_lists_every_step_with_its_properties() -> None:
    plan = Stream.lines("log").field(-1).where(lambda x: x != "-").map(int).explain()
    assert isinstance(plan, str) and repr(plan) == str(plan)
    rows = plan.splitlines()[2:]
    assert [r.split()[1] for r in rows] == [
        "lines('log')",
        "field(-1)",
        "where(<lambda>)",
        "map(int)",
    ]
    assert "may reject" in rows[1] and "source" in rows[0]


def test_bool_of_a_stream_or_expression_is_an_error() -> None:
    with pytest.raises(TypeError, match="truth value of a Stream"):
        bool(Stream([1]))
    with pytest.raises(TypeError, match=re.escape("Combine expressions with & | ~")):
        bool(F.status == 404)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: s.grep(42), "grep: pattern must be str or re.Pattern, got 42"),
        (lambda s: s.grep("("), r"grep: bad regular expression '\('"),
        (lambda s: s.field("x"), "field: n must be an int, got 'x'"),
        (lambda s: s.field(1, errors="ignore"), "field: errors must be one of"),
        (lambda s: s.take(-1), "take: n must be >= 0"),
        (lambda s: s.skip(1.5), "skip: n must be an int"),
        (lambda s: s.map(3), "map: func must be callable"),
        (lambda s: s.where(3), "where: condition must be a callable or an F expression"),
        (lambda s: s.where(), "where: give a condition"),
        (lambda s: s.select(), "select: name at least one field"),
        (lambda s: s.convert(bytes=3), "convert: bytes= must be a function"),
        (lambda s: s.parse_apache("nginx_main"), "parse_apache: format must be"),
        (lambda s: s.distinct(3.5), "distinct: expected a field name or a function"),
        (lambda s: s.open(errors="keep"), "open: errors must be 'raise' or 'skip'"),
    ],
)
def test_bad_arguments_fail_when_the_step_is_added(build: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        build(Stream(["a b"]))


def test_bad_sources_fail_at_once() -> None:
    with pytest.raises(TypeError, match="got the string 'access-log'"):
        Stream("access-log")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected an iterable"):
        Stream(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lines: name at least one file"):
        Stream.lines()
    with pytest.raises(ValueError, match="records: bad struct format"):
        Stream.records("<zz", "x.bin")
    with pytest.raises(TypeError, match="xml: tag must be"):
        Stream.xml("x.xml", "")


def test_a_callers_file_is_left_open_but_generators_are_closed(tmp_path: Any) -> None:
    path = tmp_path / "log"
    path.write_text("a\nb\n")
    closed = []

    def gen() -> Iterator[str]:
        try:
            yield from ["x", "y"]
        finally:
            closed.append(True)

    with open(path) as f:
        assert Stream(f).first() == "a\n"
        assert not f.closed
    assert Stream(gen()).first() == "x" and closed == [True]


def test_user_exceptions_propagate_unchanged_with_the_origin() -> None:
    class Mine(Exception):
        pass

    def explode(x: int) -> int:
        if x == 3:
            raise Mine("three")
        return x

    with pytest.raises(Mine, match="three") as info:
        Stream(["1", "2", "3", "4"]).field(0, errors="skip").map(int).map(explode).list()
    assert "streamql: raised while the query was at item 3" in info.value.__notes__


def test_missing_field_is_a_clear_error() -> None:
    rows = Stream([{"status": 200, "host": "a"}])
    with pytest.raises(KeyError, match="where: item has no field 'bytes'; it has status, host"):
        rows.where(F.bytes > 3).list()
    with pytest.raises(streamql.FieldError, match="select: item has no field 'x'"):
        rows.select("x").list()
    with pytest.raises(streamql.FieldError, match="convert: item has no field 'x'"):
        rows.convert(x=int).list()


def test_rejects_are_a_stream_and_account_for_every_line() -> None:
    lines = ["a 1", "", "b 2", "  ", "c 3"]
    s = Stream(lines).field(1)
    with pytest.warns(RejectedLinesWarning, match="field 2; first at item 2"):
        assert s.count() == 3
    assert s.last_run.rejected == {"field": 2}
    assert s.rejects.count_by("reason") == {"no column 1": 2}
    with pytest.warns(RejectedLinesWarning):
        counted = s.count()
    assert counted + s.rejects.count() == len(lines)
    assert [r["lineno"] for r in s.rejects] == [2, 4]
    with pytest.raises(ParseError, match=r"field: no column 1 at item 2: ''"):
        Stream(lines).field(1, errors="raise").list()
    kept = Stream(lines).field(1, errors="keep").list()
    assert kept[1]["reason"] == "no column 1" and kept[0] == "1"


def test_convert_errors_policy() -> None:
    rows = [{"b": "1"}, {"b": "-"}, {"b": "3"}]
    with pytest.raises(ValueError) as info:
        Stream(rows).convert(b=int).list()
    assert "convert: while converting b='-'" in info.value.__notes__
    with pytest.warns(RejectedLinesWarning):
        assert Stream(rows).convert(b=int, errors="skip").sum("b") == 4
    rejects = Stream(rows).convert(b=int, errors="skip").rejects.list()
    assert rejects[0]["reason"] == "b: ValueError" and rejects[0]["lineno"] == 2
    assert rows == [{"b": "1"}, {"b": "-"}, {"b": "3"}]  # inputs never mutated


def test_storelast_and_generate_and_trace(capsys: pytest.CaptureFixture[str]) -> None:
    lines = Stream(["x 1", "y 2"]).storelast()
    seen = [(value, lines.last) for value in lines.field(1).map(int)]
    assert seen == [(1, "x 1"), (2, "y 2")]
    with pytest.raises(AttributeError, match="no storelast"):
        Stream([1]).last  # noqa: B018
    gen_len = streamql.generate(len)
    assert Stream(["ab", "c"]).apply(gen_len).list() == [2, 1]
    Stream([1]).trace("probe").list()
    assert capsys.readouterr().out == "probe: 1\n"


def test_operation_decorator_registers_a_method() -> None:
    @operation(name="pairs_for_test")
    def pairs(n: int, items: Any) -> Iterator[tuple[Any, ...]]:
        batch: list[Any] = []
        for item in items:
            batch.append(item)
            if len(batch) == n:
                yield tuple(batch)
                batch = []

    try:
        s = Stream(range(5)).pairs_for_test(2)  # type: ignore[attr-defined]
        assert s.list() == [(0, 1), (2, 3)]
        assert repr(s) == "Stream(range(0, 5)).pairs_for_test(2)"
        assert pairs(2, "abcd") is not None  # still a plain function
        with pytest.raises(ValueError, match="already has a method 'map'"):
            operation(name="map")(pairs)
    finally:
        del Stream.pairs_for_test  # type: ignore[attr-defined]


# Each chain method is a delegate to a plain function: same option names and defaults.
DELEGATES = {
    "grep": text.grep,
    "field": text.field,
    "parse_apache": apache.parse_apache,
    "open": files.open_files,
    "cat": files.cat,
    "convert": records.convert,
    "trace": flow.trace,
    "tap": flow.tap,
    "take": flow.take_n,
    "skip": flow.skip_n,
    "distinct": flow.distinct,
    "map": flow.map_items,
}
# Data arguments, and what only the engine passes (ctx; the planner's prefilter and blocks).
DATA = {
    *("lines", "items", "files", "paths", "iterable", "conversions", "ctx", "self"),
    *("prefilter", "blocks"),
}


@pytest.mark.parametrize("name", sorted(DELEGATES))
def test_methods_and_functions_agree_on_signatures(name: str) -> None:
    method = inspect.signature(getattr(Stream, name)).parameters
    func = inspect.signature(DELEGATES[name]).parameters

    def options(params: Any) -> dict[str, Any]:
        return {
            k: p.default
            for k, p in params.items()
            if k not in DATA and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }

    ours, theirs = options(method), options(func)
    assert ours == theirs


def test_every_public_method_has_a_docstring_example() -> None:
    members = {name: m for cls in reversed(Stream.__mro__) for name, m in vars(cls).items()}
    for name, member in members.items():
        if name.startswith("_") or hasattr(member, "__wrapped_operation__"):
            continue
        func = getattr(member, "__func__", member)
        func = getattr(func, "fget", func)
        if callable(func):
            assert func.__doc__ and ">>>" in func.__doc__, name


def test_grep_accepts_compiled_patterns() -> None:
    assert Stream(["GET /A", "get /b"]).grep(re.compile("get"), ignore_case=True).count() == 2


def test_explain_analyze_counts_each_step_and_closes_everything(tmp_path: Any) -> None:
    path = tmp_path / "log"
    path.write_text("a 1\n\nb 2\nc -\n")
    s = Stream.lines(path).field(1).where(lambda x: x != "-").map(int)
    report = s.explain(analyze=True)
    rows = report.splitlines()[2:6]
    outs = [int(re.search(r"([\d,]+) out", r).group(1).replace(",", "")) for r in rows]  # type: ignore[union-attr]
    assert outs == [4, 3, 2, 2]
    assert "1 rejected" in rows[1]
    assert report.splitlines()[-2].startswith("ran in ")
    assert report.splitlines()[-2].endswith("2 items out, 1 rejected")
    assert report.splitlines()[-1] == "read 13 of 13 bytes (100%) of the files it names"
    assert s.last_run.completed and s.last_run.rejected == {"field": 1}
    with pytest.warns(RejectedLinesWarning):
        assert s.sum() == 3  # the plan is unchanged by analysing it
