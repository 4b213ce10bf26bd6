"""Hypothesis properties: every operation and terminal against a plain-list reference model."""

from __future__ import annotations

import heapq
import io
import re
import warnings
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import F, RejectedLinesWarning, Stream, StreamError

settings.register_profile("streamql", max_examples=60, deadline=None)
settings.load_profile("streamql")

words = st.text(alphabet="ab -x\t", max_size=12)
lines = st.lists(words.map(lambda w: w + "\n"), max_size=30)
ints = st.lists(st.integers(-50, 50), max_size=40)
records = st.lists(
    st.fixed_dictionaries(
        {
            "k": st.sampled_from("abc"),
            "v": st.integers(0, 9),
            "s": st.sampled_from(["/a", "/robots.txt", "/b.png"]),
        }
    ),
    max_size=30,
)


def unique_by(key: Any, items: list[Any]) -> list[Any]:
    """The reference model of distinct: the first item of each key, in order."""
    seen: set[Any] = set()
    out = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return out


def quiet(func: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        return func()


@given(lines, st.sampled_from(["a", "x", "^b", "a b"]), st.booleans(), st.booleans())
def test_grep(items: list[str], pattern: str, invert: bool, ignore_case: bool) -> None:
    rx = re.compile(pattern, re.I if ignore_case else 0)
    expected = [x for x in items if bool(rx.search(x)) != invert]
    assert Stream(items).grep(pattern, invert=invert, ignore_case=ignore_case).list() == expected


@given(lines, st.integers(-4, 3))
def test_field_and_its_rejects(items: list[str], n: int) -> None:
    def col(line: str) -> str | None:
        parts = line.split()
        return parts[n] if -len(parts) <= n < len(parts) else None

    expected = [c for c in map(col, items) if c is not None]
    s = Stream(items).field(n)
    assert quiet(s.list) == expected
    bad = [i for i, line in enumerate(items, 1) if col(line) is None]
    assert [r["lineno"] for r in s.rejects] == bad
    assert quiet(s.count) + s.rejects.count() == len(items)


@given(ints)
def test_map_where_take_skip_distinct(xs: list[int]) -> None:
    s = Stream(xs)
    assert s.map(abs).list() == [abs(x) for x in xs]
    assert s.where(lambda x: x > 0).list() == [x for x in xs if x > 0]
    assert s.take(5).list() == xs[:5]
    assert s.skip(5).list() == xs[5:]
    assert s.distinct().list() == list(dict.fromkeys(xs))
    assert s.distinct(abs).list() == unique_by(abs, xs)


@given(ints)
def test_numeric_terminals(xs: list[int]) -> None:
    s = Stream(xs)
    assert s.count() == len(xs)
    assert s.sum() == sum(xs)
    assert s.list() == xs
    assert s.set() == set(xs)
    assert s.top(3) == heapq.nlargest(3, xs)
    assert s.first(default=None) == (xs[0] if xs else None)
    if xs:
        assert (s.min(), s.max()) == (min(xs), max(xs))
        assert s.max(key=abs) == max(xs, key=abs)
    else:
        with pytest.raises(StreamError, match="max: the stream is empty"):
            s.max()
        assert s.min(default=7) == 7


@given(records)
def test_record_operations(rows: list[dict[str, Any]]) -> None:
    s = Stream(rows)
    assert s.where(k="a").list() == [r for r in rows if r["k"] == "a"]
    assert s.where(F.v >= 5).list() == [r for r in rows if r["v"] >= 5]
    expr = (F.v > 2) & ~F.s.endswith(".png") | F.s.contains("robots")
    assert s.where(expr).list() == [
        r for r in rows if (r["v"] > 2 and not r["s"].endswith(".png")) or "robots" in r["s"]
    ]
    assert s.where(F.k.isin(["a", "b"]), v=3).list() == [
        r for r in rows if r["k"] in ("a", "b") and r["v"] == 3
    ]
    assert s.where(F.s.matches(r"\.png$")).count() == sum(r["s"].endswith(".png") for r in rows)
    assert s.select("s", "k").list() == [{"s": r["s"], "k": r["k"]} for r in rows]
    assert s.convert(v=str).list() == [{**r, "v": str(r["v"])} for r in rows]
    assert s.sum("v") == sum(r["v"] for r in rows)
    assert s.set("k") == {r["k"] for r in rows}
    assert s.distinct("k").list() == unique_by(lambda r: r["k"], rows)
    counts = Counter(r["k"] for r in rows)
    by = s.count_by("k")
    assert by == dict(counts) and list(by.values()) == sorted(counts.values(), reverse=True)
    groups = s.group_by("k")
    assert groups == {k: [r for r in rows if r["k"] == k] for k in counts}
    assert s.group_by("k", agg=len) == dict(counts)
    if rows:
        assert s.max("v") == max(r["v"] for r in rows)
        assert s.max(key="v") == max(rows, key=lambda r: r["v"])
        assert s.top(2, "v") == heapq.nlargest(2, rows, key=lambda r: r["v"])


@given(st.lists(st.lists(st.integers(), max_size=5), max_size=5))
def test_cat_is_concatenation(chunks: list[list[int]]) -> None:
    assert Stream(chunks).cat().list() == [x for c in chunks for x in c]


@given(lines)
def test_write_round_trips_lines(items: list[str]) -> None:
    out = io.StringIO()
    assert Stream(items).write(out) == len(items)
    assert out.getvalue() == "".join(items)


OPS = [
    ("map", lambda s: s.map(lambda x: x * 3), lambda xs: [x * 3 for x in xs]),
    ("where", lambda s: s.where(lambda x: x % 2 == 0), lambda xs: [x for x in xs if x % 2 == 0]),
    ("take", lambda s: s.take(4), lambda xs: xs[:4]),
    ("skip", lambda s: s.skip(2), lambda xs: xs[2:]),
    ("distinct", lambda s: s.distinct(), lambda xs: list(dict.fromkeys(xs))),
    ("tap", lambda s: s.tap(lambda x: None), lambda xs: xs),
    ("storelast", lambda s: s.storelast(), lambda xs: xs),
]


@given(ints, st.lists(st.sampled_from(range(len(OPS))), max_size=6))
def test_any_chain_equals_nested_plain_calls_and_reruns(xs: list[int], chain: list[int]) -> None:
    s: Stream[Any] = Stream(xs)
    expected = list(xs)
    for i in chain:
        _, build, model = OPS[i]
        s = build(s)
        expected = model(expected)
    assert s.list() == expected
    assert s.list() == expected  # a second run reads the source afresh


@given(st.integers(0, 20))
def test_laziness_pulls_only_what_is_needed(n: int) -> None:
    pulled = []

    def source() -> Any:
        i = 0
        while True:
            pulled.append(i)
            yield i
            i += 1

    s = Stream(source()).map(lambda x: x + 1)
    assert pulled == []
    assert s.take(n).list() == list(range(1, n + 1))
    assert len(pulled) == n
