"""Aggregations: exact ones against plain Python, merges over any split, approximate bounds."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamql import F, Stream
from streamql.aggregates import (
    Aggregate,
    ApproxDistinct,
    ApproxQuantiles,
    Count,
    CountBy,
    Distinct,
    First,
    Grouped,
    HeavyHitters,
    Last,
    Many,
    Max,
    Mean,
    Min,
    Quantiles,
    Sum,
    Top,
    run,
)


def partial(agg: Aggregate, items: Any) -> Any:
    """The unfinished state of ``agg`` over ``items``: one part of a stream."""
    return agg.add_all(agg.start(), items)


values = st.lists(st.integers(-100, 100), max_size=60)


def nearest_rank(xs: list[int], q: float) -> int:
    ordered = sorted(xs)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


EXACT: dict[str, tuple[Any, Any]] = {
    "count": (Count(), len),
    "count_pos": (Count(where=lambda x: x > 0), lambda xs: sum(1 for x in xs if x > 0)),
    "sum": (Sum(), sum),
    "min": (Min(), lambda xs: min(xs, default=None)),
    "max": (Max(), lambda xs: max(xs, default=None)),
    "max_abs": (Max(key=abs), lambda xs: max(xs, key=abs, default=None)),
    "mean": (Mean(), lambda xs: sum(xs) / len(xs) if xs else None),
    "distinct": (Distinct(), set),
    "count_by": (
        CountBy(lambda x: x % 3),
        lambda xs: dict(Counter(x % 3 for x in xs).most_common()),
    ),
    "top": (Top(3), lambda xs: heapq.nlargest(3, xs)),
    "quantiles": (
        Quantiles(qs=(0.5, 0.9)),
        lambda xs: {q: nearest_rank(xs, q) if xs else None for q in (0.5, 0.9)},
    ),
    "first": (First(), lambda xs: xs[0] if xs else None),
    "last": (Last(), lambda xs: xs[-1] if xs else None),
    "grouped": (
        Grouped(lambda x: x % 3, {"n": Count(), "total": Sum(), "top": Max()}),
        lambda xs: {
            k: (len(g), sum(g), max(g))
            for k in dict.fromkeys(x % 3 for x in xs)
            for g in [[x for x in xs if x % 3 == k]]
        },
    ),
}


@given(values)
def test_exact_aggregations_match_plain_python(xs: list[int]) -> None:
    aggs = {name: agg for name, (agg, _) in EXACT.items()}
    got = run(aggs, xs)
    for name, (_, model) in EXACT.items():
        assert got[name] == model(xs), name


@given(values, st.lists(st.integers(0, 60), max_size=4))
def test_merging_partial_results_over_any_split_equals_one_pass(
    xs: list[int], cuts: list[int]
) -> None:
    aggs = Many({name: agg for name, (agg, _) in EXACT.items()})
    bounds = [0, *sorted(c % (len(xs) + 1) for c in cuts), len(xs)]
    parts = [partial(aggs, xs[a:b]) for a, b in itertools.pairwise(bounds)]
    merged = parts[0]
    for part in parts[1:]:
        merged = aggs.merge(merged, part)
    assert aggs.finish(merged) == run(aggs, xs)


@given(values)
def test_grouped_keeps_first_seen_order_and_states_not_items(xs: list[int]) -> None:
    agg = Grouped(lambda x: x % 5, {"n": Count()})
    state = partial(agg, xs)
    assert list(state) == list(dict.fromkeys(x % 5 for x in xs))
    assert all(len(states) == 1 and isinstance(states[0], int) for states in state.values())


def test_top_keeps_earlier_items_on_ties_across_merges() -> None:
    rows = [{"b": 5, "i": i} for i in range(6)]
    agg = Top(2, by="b")
    whole = run(agg, rows)
    a, b = partial(agg, rows[:3]), partial(agg, rows[3:])
    assert whole == [rows[0], rows[1]]
    assert agg.finish(agg.merge(a, b)) == whole


def test_stream_aggregate_many_answers_in_one_pass() -> None:
    pulled = 0

    def source() -> Any:
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield {"status": 404 if i % 10 == 0 else 200, "bytes": i, "host": f"h{i % 7}"}

    answers = Stream(source()).aggregate(
        missing=Count(where=F.status == 404),
        total=Sum("bytes"),
        hosts=Distinct("host"),
        biggest=Max(key="bytes"),
    )
    assert pulled == 100
    assert answers == {
        "missing": 10,
        "total": sum(range(100)),
        "hosts": {f"h{i}" for i in range(7)},
        "biggest": {"status": 200, "bytes": 99, "host": "h1"},
    }


def test_bad_aggregations_fail_at_once() -> None:
    with pytest.raises(TypeError, match="expected aggregations"):
        Stream([1]).aggregate(n=len)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one aggregation, or several by name"):
        Stream([1]).aggregate(Count(), Sum())
    with pytest.raises(ValueError, match="qs must be numbers in"):
        Quantiles(qs=(1.5,))
    with pytest.raises(ValueError, match="precision must be"):
        ApproxDistinct(precision=30)
    with pytest.raises(TypeError, match="where must be a function"):
        Count(where=3)  # type: ignore[arg-type]


def test_hyperloglog_within_its_stated_error() -> None:
    agg = ApproxDistinct()
    for n in (10, 1_000, 50_000):
        estimate = run(agg, (f"host-{i}" for i in range(n)))
        assert abs(estimate - n) / n < 3 * 1.04 / math.sqrt(2**14) + (1 / n), n
    # Mergeable: two halves with overlap estimate their union.
    a = partial(agg, (i for i in range(30_000)))
    b = partial(agg, (i for i in range(20_000, 50_000)))
    union = agg.finish(agg.merge(a, b))
    assert abs(union - 50_000) / 50_000 < 0.03


def test_heavy_hitters_find_every_frequent_value() -> None:
    rng = random.Random(7)
    items = [rng.choice("abc") for _ in range(3_000)] + [str(rng.random()) for _ in range(7_000)]
    rng.shuffle(items)
    agg = HeavyHitters(k=3, capacity=50)
    got = run(agg, items)
    truth = Counter(items)
    assert set(got) == {"a", "b", "c"}
    for value, count in got.items():
        assert truth[value] <= count <= truth[value] + len(items) / 50


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_approx_quantiles_within_relative_error(xs: list[float]) -> None:
    qs = (0.1, 0.5, 0.99)
    got = run(ApproxQuantiles(qs=qs, relative_error=0.01), xs)
    for q in qs:
        exact = nearest_rank(xs, q)  # type: ignore[arg-type]
        assert got[q] is not None
        assert abs(got[q] - exact) <= 0.01 * abs(exact) + 1e-9, (q, got[q], exact)


def test_aggregate_reprs_read_like_code() -> None:
    assert repr(Count(where=F.status == 404)) == "Count(where=F.status == 404)"
    assert repr(Top(3, by="bytes")) == "Top(3, by='bytes')"
    assert repr(Sum("bytes")) == "Sum('bytes')"
