"""Expressions for log questions against plain Python; folding group_by on every engine."""

from __future__ import annotations

import operator
import pickle
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streamql import F, FieldError, RejectedLinesWarning, Stream
from streamql.aggregates import Count, CountBy, Grouped, Max, Sum, reads_of
from streamql.core.expr import Expr
from streamql.display.tables import Table
from streamql.engine import processes as parallel
from streamql.samples.tree import SampleTree, write_sample_tree

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

# DST-free zones: fixed offsets, every quarter hour from -12:00 to +14:00, and naive times.
zones = st.one_of(
    st.none(), st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
)
times = st.builds(
    lambda t, tz: t.replace(tzinfo=tz),
    st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1)),
    zones,
)
BUCKETS = {"1s": 1, "30s": 30, "s": 1, "1min": 60, "5min": 300, "15min": 900, "1h": 3600,
           "h": 3600, "6h": 21600, "1d": 86400, "d": 86400, "10sec": 10}  # fmt: skip


def reference_floor(value: datetime, seconds: int) -> datetime:
    """The bucket's start by another road: whole steps of wall-clock time after midnight."""
    wall = value.replace(tzinfo=None)
    midnight = datetime(wall.year, wall.month, wall.day)
    steps = (wall - midnight) // timedelta(seconds=seconds)
    return (midnight + steps * timedelta(seconds=seconds)).replace(tzinfo=value.tzinfo)


def one(expr: Expr, record: dict[str, Any]) -> Any:
    """The expression's value on one record, compiled and over a column alike."""
    value = expr.compile()(record)
    names = tuple(sorted(expr.fields()))
    column = expr.compile_values(names)(*([record[n]] for n in names))
    assert column == [value]
    return value


@given(times)
def test_datetime_parts_are_pythons(t: datetime) -> None:
    r = {"datetime": t}
    assert one(F.datetime.year, r) == t.year and one(F.datetime.month, r) == t.month
    assert one(F.datetime.day, r) == t.day and one(F.datetime.hour, r) == t.hour
    assert one(F.datetime.minute, r) == t.minute and one(F.datetime.second, r) == t.second
    assert one(F.datetime.date, r) == t.date() and one(F.datetime.weekday, r) == t.weekday()


@given(times, st.sampled_from(sorted(BUCKETS)))
def test_floor_starts_the_bucket_and_keeps_the_timezone(t: datetime, bucket: str) -> None:
    seconds = BUCKETS[bucket]
    got = one(F.datetime.floor(bucket), {"datetime": t})
    assert got == reference_floor(t, seconds)
    assert got.tzinfo is t.tzinfo  # aware stays aware, in its own offset; naive stays naive
    assert got <= t < got + timedelta(seconds=seconds)
    assert got.date() == t.date()


@pytest.mark.parametrize("bucket", ["7x", "m", "0h", "7min", "2d", "1.5h", "", 5, None])
def test_a_bad_bucket_is_a_clear_error(bucket: Any) -> None:
    with pytest.raises(ValueError, match=r"^floor: .*"):
        F.datetime.floor(bucket)


texts = st.text(max_size=12)
PREDICATES: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda v, t: t.casefold() in v.casefold(),
    "startswith": lambda v, t: v.casefold().startswith(t.casefold()),
    "endswith": lambda v, t: v.casefold().endswith(t.casefold()),
}


@given(texts, texts, st.sampled_from(sorted(PREDICATES)), st.booleans())
def test_text_tests_in_any_case_are_casefolded_pythons(
    value: str, text: str, name: str, upper: bool
) -> None:
    value = value.upper() if upper else value  # Unicode: ß becomes SS, final sigma, ligatures
    expr = getattr(F.agent, name)(text, case=False)
    assert one(expr, {"agent": value}) is PREDICATES[name](value, text)
    exact = one(getattr(F.agent, name)(text), {"agent": value})
    assert exact is (text in value if name == "contains" else getattr(value, name)(text))


def test_text_tests_in_any_case_examples() -> None:
    rec = {"agent": "Mozilla/5.0 (compatible; GoogleBOT/2.1) STRASSE"}
    assert F.agent.contains("googlebot", case=False).compile()(rec)
    assert F.agent.contains("straße", case=False).compile()(rec)
    assert not F.agent.contains("googlebot").compile()(rec)
    assert F.agent.startswith(("x", "MOZ"), case=False).compile()(rec)
    assert F.agent.endswith("strasse", case=False).compile()(rec)
    assert F.agent.lower().contains("bot").compile()(rec)
    assert F.agent.upper().endswith("STRASSE").compile()(rec)
    assert F.agent.len().compile()(rec) == len(rec["agent"])
    with pytest.raises(TypeError, match="contains: expected a str"):
        F.agent.contains(5, case=False)


numbers = st.one_of(st.none(), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False))
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
    "/": operator.truediv, "//": operator.floordiv, "%": operator.mod,
}  # fmt: skip


@given(numbers, numbers, st.sampled_from(sorted(OPS)), st.booleans())
def test_arithmetic_is_pythons_and_none_gives_none(a: Any, b: Any, op: str, const: bool) -> None:
    assume(op not in ("/", "//", "%") or b != 0)
    expected = None if a is None or b is None else OPS[op](a, b)
    right: Any = b if const and b is not None else F.b
    expr = OPS[op](F.a, right)
    assert repr(expr) == f"F.a {op} {right!r}"
    assert one(expr, {"a": a, "b": b}) == expected
    reflected = OPS[op](a, F.b) if a is not None else None
    if reflected is not None:
        assert one(reflected, {"b": b}) == expected


@given(numbers, numbers, numbers)
def test_arithmetic_nests_with_python_precedence(a: Any, b: Any, c: Any) -> None:
    def ref(f: Callable[[Any, Any, Any], Any]) -> Any:
        return None if None in (a, b, c) else f(a, b, c)

    r = {"a": a, "b": b, "c": c}
    assert one((F.a + F.b) * F.c, r) == ref(lambda a, b, c: (a + b) * c)
    assert one(F.a - (F.b - F.c), r) == ref(lambda a, b, c: a - (b - c))
    assert one(F.a * 2 + F.c, r) == (None if None in (a, c) else a * 2 + c)


nested = st.fixed_dictionaries(
    {},
    optional={
        "http": st.one_of(
            st.none(),
            st.text(max_size=3),
            st.fixed_dictionaries({}, optional={"status": st.integers(100, 599)}),
        ),
        "status": st.integers(),
    },
)


@given(nested)
def test_nested_keys_read_or_name_the_missing_path(record: dict[str, Any]) -> None:
    http = record.get("http")
    for expr in (F.http.status, F["http.status"], F.http["status"], F["http", "status"]):
        assert expr.fields() == {"http"} and repr(expr) == "F.http.status"
        if isinstance(http, dict) and "status" in http:
            assert expr.compile()(record) == http["status"]
            assert (expr >= 400).compile()(record) is (http["status"] >= 400)
        else:
            with pytest.raises(FieldError, match=r"where: item has no field 'http\.status'"):
                expr.compile()(record)


def test_a_literal_dotted_key_and_keys_named_like_methods() -> None:
    record = {"a.b": 1, "http": {"date": "d", "name": "n"}}
    assert F[("a.b",)].compile()(record) == 1 and repr(F[("a.b",)]) == "F[('a.b',)]"
    assert F.http["date"].compile()(record) == "d" and repr(F.http["date"]) == "F['http.date']"
    assert F["http.name"].compile()(record) == "n"
    assert F.http.date.label() == "http.date"  # an attribute of its own: the datetime part
    with pytest.raises(FieldError, match=r"no field 'a\.b'"):  # the path a, then b
        F.a.b.compile()(record)


regex_pieces = st.lists(
    st.one_of(
        st.text(alphabet="abcxyz/._-", min_size=1, max_size=4).map(re.escape),
        st.sampled_from([r"\d+", "[a-z]?", "(?:x|yz)", ".*", "a+", "(b)", "^", r"\b", "c{2,3}"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(regex_pieces, st.data())
def test_every_match_holds_the_literal_texts(pieces: list[str], data: st.DataObject) -> None:
    pattern = "".join(pieces)
    try:
        compiled = re.compile(pattern)
    except re.error:
        assume(False)
    expr = F.request.matches(compiled)
    texts = [t for field, t in expr.literals() if field == "request"]
    value = data.draw(st.from_regex(compiled))
    assert expr.compile()({"request": value})
    assert all(t in value for t in texts)


def test_literals_of_expressions() -> None:
    both = F.request.matches(r"^/img/\d+\.png$") & F.agent.contains("bot")
    assert both.literals() == [("request", "/img/"), ("request", ".png"), ("agent", "bot")]
    assert (F.request.contains("a") | F.request.contains("b")).literals() == []
    assert F.agent.contains("bot", case=False).literals() == []
    assert F.request.matches("(?i)bot").literals() == []


def test_isin_and_comparisons_as_the_planner_reads_them() -> None:
    expr = F.status.isin([404, 410]) & (F.bytes / 1024 > 5)
    assert expr.compile()({"status": 404, "bytes": 10240})
    assert sorted(expr.compared()) == [("status", 404), ("status", 410)]
    assert (F.datetime.hour == 3).compared() == []  # a part is no field equality


EXPRESSIONS = [
    F.datetime.floor("1h"), F.http.status, F["user-agent"].contains("x", case=False),
    (F.bytes + 1) * 2 // 3 % 7, 1024 / F.bytes, F.a - (F.b - F.c), ~(F.a.len() > 3),
    F.x.lower().startswith(("a", "b"), case=False), (F.a + 1).isin([2, 1]), F["class"],
    F.request.matches(r"\.png$") & (F.datetime.weekday >= 5) | (F.status == 404),
]  # fmt: skip


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=repr)
def test_repr_reads_as_the_code_and_round_trips(expr: Expr) -> None:
    again = eval(repr(expr), {"F": F})
    assert repr(again) == repr(expr) and again.label() == expr.label()
    assert "F." not in expr.label() and "F[" not in expr.label()


def test_tab_completion() -> None:
    assert {"host", "status", "bytes", "datetime", "agent"} <= set(dir(F))
    methods = set(dir(F.datetime))
    assert {"hour", "floor", "date", "contains", "matches", "isin", "lower", "fields"} <= methods
    assert not any(m.startswith("_") for m in methods)


# -- expressions as keys and inputs; group_by that folds -------------------------------

LINE = '{host} - - [{t:%d/%b/%Y:%H:%M:%S} -0600] "GET {path} HTTP/1.1" {status} {size}\n'
entries = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.datetimes(datetime(2008, 2, 23), datetime(2008, 2, 26)),
        st.sampled_from(["/", "/x.png", "/robots.txt"]),
        st.sampled_from([200, 304, 404]),
        st.integers(0, 10**6),
    ),
    max_size=60,
)


def log_text(rows: list[tuple[Any, ...]], bad: bool) -> str:
    lines = [LINE.format(host=h, t=t, path=p, status=s, size=n) for h, t, p, s, n in rows]
    if bad and lines:
        lines.insert(len(lines) // 2, "garbage\n")
    return "".join(lines)


def quiet(func: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


def reference(records: list[dict[str, Any]]) -> dict[Any, tuple[int, int, int]]:
    """Per hour of the day: bytes, hits, and the largest kilobytes of a 404 (plain Python)."""
    out: dict[Any, list[Any]] = {}
    for r in records:
        row = out.setdefault(r["datetime"].hour, [0, 0, None])
        row[0] += r["bytes"]
        row[1] += 1
        if r["status"] == 404:
            kb = r["bytes"] / 1024
            row[2] = kb if row[2] is None else max(row[2], kb)
    return {k: tuple(v) for k, v in out.items()}


QUESTION = {
    "bytes": Sum("bytes"),
    "hits": Count(),
    "big404": Max(F.bytes / 1024, where=F.status == 404),
}


@settings(max_examples=40, deadline=None)
@given(entries, st.booleans())
def test_group_by_folds_to_the_plain_answer(rows: list[tuple[Any, ...]], bad: bool) -> None:
    text = log_text(rows, bad)
    plain = quiet(lambda: Stream(text.splitlines(keepends=True)).parse_apache())
    records = quiet(plain.list)
    answer = quiet(lambda: plain.group_by(F.datetime.hour, **QUESTION))
    assert {k: tuple(v) for k, v in answer.items()} == reference(records)
    assert list(answer) == list(dict.fromkeys(r["datetime"].hour for r in records))
    assert answer.columns == ("datetime.hour", "bytes", "hits", "big404")
    hours = quiet(lambda: plain.count_by(F.datetime.floor("1h"), "host"))
    expected: dict[Any, int] = {}
    for r in records:
        key = (r["datetime"].replace(minute=0, second=0), r["host"])
        expected[key] = expected.get(key, 0) + 1
    assert hours == expected and hours.columns == ("datetime.floor('1h')", "host", "count")
    assert quiet(lambda: plain.max(F.bytes / 1024, default=None)) == max(
        (r["bytes"] / 1024 for r in records), default=None
    )


@settings(max_examples=30, deadline=None)
@given(entries, st.integers(1, 5))
def test_folding_columns_is_folding_records(rows: list[tuple[Any, ...]], parts: int) -> None:
    """What a block scanner would hand over (columns of ``reads.fields``) folds the same."""
    records = quiet(Stream(log_text(rows, False).splitlines(keepends=True)).parse_apache().list)
    for agg in (
        Grouped(
            ("host", F.bytes // 100_000), {"b": Sum("bytes"), "n": Count(where=F.status == 404)}
        ),
        Grouped("status", {"kb": Sum(F.bytes / 1024), "top": Max("bytes")}),
        CountBy(("host", "status")),
        Sum(F.bytes // 1024),
    ):
        reads = agg.reads
        assert reads is not None and reads.kind == "columns"
        assert reads_of(agg) is None  # a one-column consumer leaves it be
        assert reads_of(agg, kinds=("count", "field", "key", "columns")) is not None
        whole = agg.finish(agg.add_all(agg.start(), records))
        state = agg.start()
        cut = max(1, len(records) // parts)
        for i in range(0, len(records), cut):  # block by block, as the parser yields them
            block = records[i : i + cut]
            columns = [[r[name] for r in block] for name in reads.fields]
            state = agg.fold_columns(state, columns)
        assert agg.finish(state) == whole


@settings(max_examples=30, deadline=None)
@given(entries, st.integers(0, 60))
def test_group_states_merge_over_any_split(rows: list[tuple[Any, ...]], cut: int) -> None:
    records = quiet(Stream(log_text(rows, False).splitlines(keepends=True)).parse_apache().list)
    agg = Grouped(F.datetime.date, QUESTION)
    a = agg.add_all(agg.start(), records[:cut])
    b = agg.add_all(agg.start(), records[cut:])
    merged = agg.merge(a, b)
    assert agg.finish(merged) == agg.finish(agg.add_all(agg.start(), records))
    assert agg.finish(a) == agg.finish(agg.add_all(agg.start(), records[:cut]))  # a untouched


def test_answers_pickle_and_display_as_tables() -> None:
    rows = Stream([{"h": "a", "s": 200, "b": 3}, {"h": "a", "s": 404, "b": 4}])
    answer = rows.group_by("h", "s", bytes=Sum("b"), hits=Count())
    again = pickle.loads(pickle.dumps(answer))
    assert again == answer and again.columns == ("h", "s", "bytes", "hits")
    assert again[("a", 404)].bytes == 4
    assert str(Table(answer)).splitlines()[0].split() == ["h", "s", "bytes", "hits"]
    with pytest.raises(TypeError, match="not both"):
        rows.group_by("h", agg=len, hits=Count())
    with pytest.raises(ValueError, match="identifiers"):
        rows.group_by("h", _n=Count())


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    return write_sample_tree(tmp_path_factory.mktemp("logs"), lines_per_file=400)


ENGINES = ["default", "processes", "dask"]


@pytest.mark.parametrize("engine", ENGINES)
def test_group_by_on_every_engine_is_the_plain_answer(
    engine: str, tree: SampleTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "dask":
        pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 2000)  # several parts per file
    log = Stream.files("access-log*", tree.root).open().cat().parse_apache()
    records = quiet(log.list)
    assert len(records) == tree.good_lines
    answer = quiet(lambda: log.group_by(F.datetime.hour, engine=engine, **QUESTION))
    assert {k: tuple(v) for k, v in answer.items()} == reference(records)
    assert answer.columns == ("datetime.hour", "bytes", "hits", "big404")
    days = quiet(lambda: log.count_by("host", F.datetime.date, engine=engine))
    assert days == quiet(lambda: log.count_by(lambda r: (r["host"], r["datetime"].date())))


def test_a_file_query_through_the_block_parser_is_the_plain_one(tmp_path: Path) -> None:
    path = tmp_path / "access-log"
    rows = [(f"h{i % 7}", datetime(2008, 2, 24, i % 24, i % 60), f"/p{i % 5}",
             (200, 404, 304)[i % 3], i * 37 % 5000) for i in range(3000)]  # fmt: skip
    path.write_text(log_text(rows, True))
    files = Stream.lines(path).parse_apache()
    plain = Stream(path.read_text().splitlines(keepends=True)).parse_apache()
    for question in (
        lambda q: q.group_by(F.datetime.floor("15min"), "status", **QUESTION),
        lambda q: q.group_by("host", bytes=Sum("bytes"), hits=Count()),
        lambda q: q.where(F.request.contains("P1", case=False)).count_by(F.bytes // 1000),
        lambda q: q.where(F.bytes / 1024 > 2).sum(F.bytes % 7),
    ):
        assert quiet(lambda q=question: q(files)) == quiet(lambda q=question: q(plain))
        assert files.last_run.rejected == plain.last_run.rejected
