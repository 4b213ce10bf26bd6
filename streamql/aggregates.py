"""Aggregations as values: start, add an item, merge two partial results, finish.

The same objects answer terminals, ``Stream.aggregate(name=agg, ...)`` (many
answers from one pass), and parallel runs that merge partial results. Each
can look at one field of dict records (``Sum("bytes")``) and count only the
items passing a condition (``Count(where=F.status == 404)``).

Exact: :class:`Count`, :class:`Sum`, :class:`Min`, :class:`Max`, :class:`Mean`,
:class:`Distinct`, :class:`CountBy`, :class:`Top`, :class:`Quantiles`,
:class:`First`, :class:`Last`. Bounded memory, approximate, for endless streams:
:class:`ApproxDistinct` (HyperLogLog), :class:`HeavyHitters` (space-saving),
:class:`ApproxQuantiles` (a relative-error log-bucket sketch). Every one can be
read mid-stream: ``agg.finish(state)`` does not change the state.

>>> rows = [{"host": "a", "bytes": 10}, {"host": "b", "bytes": 5}, {"host": "a", "bytes": 1}]
>>> run({"n": Count(), "total": Sum("bytes"), "hosts": CountBy("host")}, rows)
{'n': 3, 'total': 16, 'hosts': {'a': 2, 'b': 1}}
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .expr import Expr
from .flow import key_function

__all__ = [
    "Aggregate",
    "Count",
    "Sum",
    "Min",
    "Max",
    "Mean",
    "Distinct",
    "CountBy",
    "Top",
    "Quantiles",
    "First",
    "Last",
    "ApproxDistinct",
    "HeavyHitters",
    "ApproxQuantiles",
    "run",
    "run_partial",
    "merge_all",
    "finish_all",
]


class _Empty:
    """The state of min, max, first and last before any item: one object, even pickled."""

    def __repr__(self) -> str:
        return "EMPTY"

    def __reduce__(self) -> str:
        return "EMPTY"  # pickled by name: unpickles as this module's EMPTY


EMPTY: Any = _Empty()
_EMPTY = EMPTY


class Aggregate:
    """Base of all aggregations: a field (or key function) and an optional condition.

    Subclasses define ``start``, ``step`` (fold one value into the state),
    ``merge`` and ``finish``. ``add`` applies the field and condition.
    """

    name = "aggregate"

    def __init__(
        self, field: Any = None, *, where: Callable[[Any], Any] | Expr | None = None
    ) -> None:
        self.field = field
        self.get = key_function(self.name, field)
        self.where = where
        if isinstance(where, Expr):
            self.test: Callable[[Any], Any] | None = where.compile(self.name)
        elif where is None or callable(where):
            self.test = where
        else:
            raise TypeError(
                f"{self.name}: where must be a function or an F expression, got {where!r}"
            )

    def start(self) -> Any:
        raise NotImplementedError

    def step(self, state: Any, value: Any) -> Any:
        raise NotImplementedError

    def merge(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def finish(self, state: Any) -> Any:
        return state

    def add(self, state: Any, item: Any) -> Any:
        """Fold one item (its field, if it passes ``where``) into the state."""
        if self.test is not None and not self.test(item):
            return state
        return self.step(state, item if self.get is None else self.get(item))

    def add_all(self, state: Any, items: Iterable[Any]) -> Any:
        """Fold every item in, as ``add`` would one by one, in a C loop where the kind allows.

        >>> Sum("b").add_all(0, [{"b": 2}, {"b": 3}]), Count().add_all(1, iter("ab"))
        (5, 3)
        """
        if self.test is not None:
            items = filter(self.test, items)
        return self.fold(state, items if self.get is None else map(self.get, items))

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        """Fold field values in (``where`` and field already applied), as ``step`` would."""
        step = self.step
        for value in values:
            state = step(state, value)
        return state

    def add_values(
        self, state: Any, values: Any, record: Callable[[int], Any] | None = None
    ) -> Any:
        """Fold a column of field values in (``where`` already applied), as ``step`` would.

        The query planner hands a block's column here instead of its records;
        ``record(i)`` builds the whole record of ``values[i]`` for the
        aggregates that answer with records. Subclasses do it in C where they can.

        >>> Sum().add_values(1, [2, 3])
        6
        """
        return self.fold(state, values)

    def __repr__(self) -> str:
        args = [] if self.field is None else [repr(self.field)]
        args += self._extra()
        if self.where is not None:
            args.append(f"where={self.where!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def _extra(self) -> list[str]:
        return []


class Count(Aggregate):
    """Count the items (that pass ``where``).

    >>> run(Count(where=lambda x: x > 1), [1, 2, 3])
    2
    """

    name = "count"

    def start(self) -> int:
        return 0

    def step(self, state: int, value: Any) -> int:
        return state + 1

    def add_values(self, state: int, values: Any, record: Any = None) -> int:
        return state + len(values)

    def fold(self, state: int, values: Iterable[Any]) -> int:
        counter = itertools.count()
        collections.deque(zip(values, counter, strict=False), maxlen=0)  # consumed at C speed
        return state + next(counter)

    def merge(self, a: int, b: int) -> int:
        return a + b


class Sum(Aggregate):
    """Add up the values.

    >>> run(Sum("bytes"), [{"bytes": 3}, {"bytes": 4}])
    7
    """

    name = "sum"

    def start(self) -> Any:
        return 0

    def step(self, state: Any, value: Any) -> Any:
        return state + value

    def add_values(self, state: Any, values: Any, record: Any = None) -> Any:
        return sum(values, state)

    fold = add_values

    def merge(self, a: Any, b: Any) -> Any:
        return a + b


class _Extreme(Aggregate):
    better: Callable[[Any, Any], bool]
    empty: Any = None  # the answer when there was no item (terminals set EMPTY to tell)

    def __init__(
        self,
        field: Any = None,
        *,
        key: Any = None,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        super().__init__(field, where=where)
        self.key_field = key
        self.key = key_function(self.name, key)

    def _extra(self) -> list[str]:
        return [] if self.key_field is None else [f"key={self.key_field!r}"]

    def start(self) -> Any:
        return _EMPTY

    def step(self, state: Any, value: Any) -> Any:
        if state is _EMPTY:
            return value
        if self.key is None:
            return value if self.better(value, state) else state
        return value if self.better(self.key(value), self.key(state)) else state

    def add_values(self, state: Any, values: Any, record: Any = None) -> Any:
        """Fold a column in; with ``key``, ``values`` are the keys and ``record`` builds items."""
        if not values:
            return state
        best = max(values) if isinstance(self, Max) else min(values)
        if self.key is None:
            return self.step(state, best)
        if state is not _EMPTY and not self.better(best, self.key(state)):
            return state  # ties keep the earlier item, as step does
        if record is None:
            raise TypeError(f"{self.name}: add_values with a key needs record()")
        return record(values.index(best))

    def merge(self, a: Any, b: Any) -> Any:
        if a is _EMPTY:
            return b
        return a if b is _EMPTY else self.step(a, b)

    def finish(self, state: Any) -> Any:
        return self.empty if state is _EMPTY else state


class Min(_Extreme):
    """The smallest value (or, with ``key``, the item with the smallest key); None if empty.

    >>> run(Min(), [3, 1, 2])
    1
    """

    name = "min"

    @staticmethod
    def better(a: Any, b: Any) -> bool:
        return bool(a < b)


class Max(_Extreme):
    """The largest value (or, with ``key``, the item with the largest key); None if empty.

    >>> run(Max(key="bytes"), [{"bytes": 3, "r": "/a"}, {"bytes": 9, "r": "/b"}])["r"]
    '/b'
    """

    name = "max"

    @staticmethod
    def better(a: Any, b: Any) -> bool:
        return bool(a > b)


class Mean(Aggregate):
    """The arithmetic mean; None if empty.

    >>> run(Mean(), [1, 2, 6])
    3.0
    """

    name = "mean"

    def start(self) -> tuple[int, Any]:
        return (0, 0)

    def step(self, state: tuple[int, Any], value: Any) -> tuple[int, Any]:
        return (state[0] + 1, state[1] + value)

    def add_values(self, state: tuple[int, Any], values: Any, record: Any = None) -> Any:
        return (state[0] + len(values), sum(values, state[1]))

    def merge(self, a: tuple[int, Any], b: tuple[int, Any]) -> tuple[int, Any]:
        return (a[0] + b[0], a[1] + b[1])

    def finish(self, state: tuple[int, Any]) -> float | None:
        return state[1] / state[0] if state[0] else None


class Distinct(Aggregate):
    """The set of distinct values. Memory grows with their number.

    >>> sorted(run(Distinct(), "abca"))
    ['a', 'b', 'c']
    """

    name = "distinct"

    def start(self) -> set[Any]:
        return set()

    def step(self, state: set[Any], value: Any) -> set[Any]:
        state.add(value)
        return state

    def add_values(self, state: set[Any], values: Any, record: Any = None) -> set[Any]:
        state.update(values)
        return state

    fold = add_values

    def merge(self, a: set[Any], b: set[Any]) -> set[Any]:
        return a | b

    def finish(self, state: set[Any]) -> set[Any]:
        return set(state)


class CountBy(Aggregate):
    """Count per value, most common first (ties in first-seen order).

    >>> run(CountBy("s"), [{"s": 200}, {"s": 404}, {"s": 404}])
    {404: 2, 200: 1}
    """

    name = "count_by"

    def start(self) -> Counter[Any]:
        return Counter()

    def step(self, state: Counter[Any], value: Any) -> Counter[Any]:
        state[value] += 1
        return state

    def add_values(self, state: Counter[Any], values: Any, record: Any = None) -> Counter[Any]:
        state.update(values)
        return state

    fold = add_values

    def merge(self, a: Counter[Any], b: Counter[Any]) -> Counter[Any]:
        out = Counter(a)
        out.update(b)
        return out

    def finish(self, state: Counter[Any]) -> dict[Any, int]:
        return dict(state.most_common())


class Top(Aggregate):
    """The ``n`` largest items by a key (field name or function), largest first.

    Keeps ``n`` items. Ties keep the earlier item first.

    >>> run(Top(2, by="b"), [{"b": 1}, {"b": 7}, {"b": 3}])
    [{'b': 7}, {'b': 3}]
    """

    name = "top"

    def __init__(
        self, n: int, by: Any = None, *, where: Callable[[Any], Any] | Expr | None = None
    ) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"top: n must be an int >= 0, got {n!r}")
        super().__init__(None, where=where)
        self.n = n
        self.by = by
        self.key = key_function("top", by) or (lambda x: x)

    def _extra(self) -> list[str]:
        return [repr(self.n)] + ([] if self.by is None else [f"by={self.by!r}"])

    def start(self) -> list[Any]:
        return [0, []]  # items seen, heap

    def step(self, state: list[Any], value: Any) -> list[Any]:
        # Heap of (key, -sequence, item): the smallest key, latest first, leaves first.
        state[0] += 1
        heap = state[1]
        entry = (self.key(value), -state[0], value)
        if len(heap) < self.n:
            heapq.heappush(heap, entry)
        elif self.n and entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)
        return state

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        # Sequence numbers of b continue after a's, so earlier items still win ties.
        shifted = [(k, seq - a[0], item) for k, seq, item in b[1]]
        merged = heapq.nlargest(self.n, a[1] + shifted, key=lambda e: e[:2])
        heapq.heapify(merged)
        return [a[0] + b[0], merged]

    def finish(self, state: list[Any]) -> list[Any]:
        return [e[2] for e in sorted(state[1], key=lambda e: e[:2], reverse=True)]


class Collect(Aggregate):
    """Every value, in order (a list). Memory grows with the stream.

    >>> run(Collect(), "abc")
    ['a', 'b', 'c']
    """

    name = "collect"

    def start(self) -> list[Any]:
        return []

    def step(self, state: list[Any], value: Any) -> list[Any]:
        state.append(value)
        return state

    def add_values(self, state: list[Any], values: Any, record: Any = None) -> list[Any]:
        state.extend(values)
        return state

    fold = add_values

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        return a + b

    def finish(self, state: list[Any]) -> list[Any]:
        return list(state)


class Quantiles(Collect):
    """Exact quantiles (``qs`` in [0, 1]) by nearest rank. Keeps every value.

    >>> run(Quantiles(qs=(0.5, 0.9)), range(1, 101))
    {0.5: 50, 0.9: 90}
    """

    name = "quantiles"

    def __init__(
        self,
        field: Any = None,
        *,
        qs: Iterable[float] = (0.5, 0.9, 0.99),
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        super().__init__(field, where=where)
        self.qs = _check_qs(self.name, qs)

    def _extra(self) -> list[str]:
        return [f"qs={self.qs!r}"]

    def finish(self, state: list[Any]) -> dict[float, Any]:  # type: ignore[override]
        ordered = sorted(state)
        if not ordered:
            return {q: None for q in self.qs}
        return {q: ordered[max(0, math.ceil(q * len(ordered)) - 1)] for q in self.qs}


def _check_qs(stage: str, qs: Iterable[float]) -> tuple[float, ...]:
    out = tuple(qs)
    if not out or any(not isinstance(q, (int, float)) or not 0 <= q <= 1 for q in out):
        raise ValueError(f"{stage}: qs must be numbers in [0, 1], got {out!r}")
    return out


class First(Aggregate):
    """The first value; None if empty.

    >>> run(First(), "xyz")
    'x'
    """

    name = "first"

    def start(self) -> Any:
        return _EMPTY

    def step(self, state: Any, value: Any) -> Any:
        return value if state is _EMPTY else state

    def merge(self, a: Any, b: Any) -> Any:
        return b if a is _EMPTY else a

    def finish(self, state: Any) -> Any:
        return None if state is _EMPTY else state


class Last(First):
    """The last value; None if empty.

    >>> run(Last(), "xyz")
    'z'
    """

    name = "last"

    def step(self, state: Any, value: Any) -> Any:
        return value

    def merge(self, a: Any, b: Any) -> Any:
        return a if b is _EMPTY else b


class GroupBy(Aggregate):
    """Items grouped by a field (or key function): value -> list of items, in order.

    Holds every item. The field chooses the group; each group keeps whole items.

    >>> run(GroupBy("h"), [{"h": "a", "n": 1}, {"h": "b", "n": 2}, {"h": "a", "n": 3}])
    {'a': [{'h': 'a', 'n': 1}, {'h': 'a', 'n': 3}], 'b': [{'h': 'b', 'n': 2}]}
    """

    name = "group_by"

    def __init__(self, field: Any, *, where: Callable[[Any], Any] | Expr | None = None) -> None:
        super().__init__(None, where=where)
        self.field = field
        key = key_function(self.name, field)
        if key is None:
            raise TypeError("group_by: name a field or give a key function")
        self.key = key

    def start(self) -> dict[Any, list[Any]]:
        return {}

    def step(self, state: dict[Any, list[Any]], value: Any) -> dict[Any, list[Any]]:
        state.setdefault(self.key(value), []).append(value)
        return state

    def merge(self, a: dict[Any, list[Any]], b: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
        out = {k: list(v) for k, v in a.items()}
        for k, v in b.items():
            out.setdefault(k, []).extend(v)
        return out

    def finish(self, state: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
        return {k: list(v) for k, v in state.items()}


class Many(Aggregate):
    """Several aggregations by name, as one: each sees every item; answers come as a dict.

    >>> run(Many({"n": Count(), "total": Sum()}), [1, 2, 3])
    {'n': 3, 'total': 6}
    """

    name = "aggregate"

    def __init__(self, aggs: Mapping[str, Aggregate]) -> None:
        _check(aggs)
        super().__init__()
        self.aggs = dict(aggs)

    def start(self) -> dict[str, Any]:
        return {name: agg.start() for name, agg in self.aggs.items()}

    def add(self, state: dict[str, Any], item: Any) -> dict[str, Any]:
        for name, agg in self.aggs.items():
            state[name] = agg.add(state[name], item)
        return state

    def add_all(self, state: dict[str, Any], items: Iterable[Any]) -> dict[str, Any]:
        add = self.add
        for item in items:
            state = add(state, item)
        return state

    def merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return merge_all(self.aggs, a, b)

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        return finish_all(self.aggs, state)

    def __repr__(self) -> str:
        return f"Many({self.aggs!r})"


def _hash64(value: Any) -> int:
    data = value if isinstance(value, bytes) else repr(value).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class ApproxDistinct(Aggregate):
    """Estimate the number of distinct values (HyperLogLog) in ``2**precision`` bytes.

    Standard error about ``1.04 / sqrt(2**precision)``: 0.8% at the default
    precision 14 (16 KiB), and closer for small counts (linear counting).
    Mergeable, readable mid-stream.

    >>> run(ApproxDistinct(), range(1000))
    996
    """

    name = "approx_distinct"

    def __init__(
        self,
        field: Any = None,
        *,
        precision: int = 14,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not isinstance(precision, int) or not 4 <= precision <= 18:
            raise ValueError(f"approx_distinct: precision must be 4..18, got {precision!r}")
        super().__init__(field, where=where)
        self.p = precision
        self.m = 1 << precision

    def _extra(self) -> list[str]:
        return [] if self.p == 14 else [f"precision={self.p}"]

    def start(self) -> bytearray:
        return bytearray(self.m)

    def step(self, state: bytearray, value: Any) -> bytearray:
        h = _hash64(value)
        index = h >> (64 - self.p)
        rest = (h << self.p) & ((1 << 64) - 1)
        rank = 1 + (64 - rest.bit_length()) if rest else 64 - self.p + 1
        if rank > state[index]:
            state[index] = rank
        return state

    def merge(self, a: bytearray, b: bytearray) -> bytearray:
        return bytearray(map(max, a, b))

    def finish(self, state: bytearray) -> int:
        m = self.m
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / sum(2.0**-r for r in state)
        zeros = state.count(0)
        if raw <= 2.5 * m and zeros:
            return round(m * math.log(m / zeros))
        return round(raw)


class HeavyHitters(Aggregate):
    """The most frequent values with counts, in ``capacity`` counters (space-saving).

    Every value occurring more than ``N / capacity`` times among ``N`` items is
    reported; each count is over-estimated by at most ``N / capacity``.
    Returns the ``k`` largest, most frequent first.

    >>> run(HeavyHitters(k=2), "aaaabbbcd")
    {'a': 4, 'b': 3}
    """

    name = "heavy_hitters"

    def __init__(
        self,
        field: Any = None,
        *,
        k: int = 10,
        capacity: int | None = None,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"heavy_hitters: k must be an int >= 1, got {k!r}")
        super().__init__(field, where=where)
        self.k = k
        self.capacity = capacity or 10 * k
        if self.capacity < k:
            raise ValueError("heavy_hitters: capacity must be at least k")

    def _extra(self) -> list[str]:
        return [f"k={self.k}"]

    def start(self) -> dict[Any, int]:
        return {}

    def step(self, state: dict[Any, int], value: Any) -> dict[Any, int]:
        if value in state:
            state[value] += 1
        elif len(state) < self.capacity:
            state[value] = 1
        else:
            victim = min(state, key=state.__getitem__)
            state[value] = state.pop(victim) + 1
        return state

    def merge(self, a: dict[Any, int], b: dict[Any, int]) -> dict[Any, int]:
        merged = Counter(a)
        merged.update(b)
        return dict(merged.most_common(self.capacity))

    def finish(self, state: dict[Any, int]) -> dict[Any, int]:
        return dict(Counter(state).most_common(self.k))


class ApproxQuantiles(Aggregate):
    """Quantiles of numbers within ``relative_error`` of the truth, in bounded buckets.

    Values are counted in logarithmic buckets (as DDSketch does), so each
    reported quantile is within ``relative_error`` (default 1%) of the value
    of that rank; memory grows with the log of the values' range, not their
    number. Mergeable, readable mid-stream.

    >>> answer = run(ApproxQuantiles(qs=(0.5,)), range(1, 10001))[0.5]
    >>> abs(answer - 5000) / 5000 < 0.01
    True
    """

    name = "approx_quantiles"

    def __init__(
        self,
        field: Any = None,
        *,
        qs: Iterable[float] = (0.5, 0.9, 0.99),
        relative_error: float = 0.01,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not 0 < relative_error < 1:
            raise ValueError(
                f"approx_quantiles: relative_error must be in (0, 1), got {relative_error!r}"
            )
        super().__init__(field, where=where)
        self.qs = _check_qs(self.name, qs)
        self.alpha = relative_error
        self.gamma = (1 + relative_error) / (1 - relative_error)
        self.log_gamma = math.log(self.gamma)

    def _extra(self) -> list[str]:
        return [f"qs={self.qs!r}"]

    def start(self) -> dict[str, Any]:
        return {"pos": Counter(), "neg": Counter(), "zero": 0, "n": 0}

    def step(self, state: dict[str, Any], value: Any) -> dict[str, Any]:
        state["n"] += 1
        if value > 0:
            state["pos"][math.ceil(math.log(value) / self.log_gamma)] += 1
        elif value < 0:
            state["neg"][math.ceil(math.log(-value) / self.log_gamma)] += 1
        else:
            state["zero"] += 1
        return state

    def merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {
            "pos": a["pos"] + b["pos"],
            "neg": a["neg"] + b["neg"],
            "zero": a["zero"] + b["zero"],
            "n": a["n"] + b["n"],
        }

    def finish(self, state: dict[str, Any]) -> dict[float, float | None]:
        n = state["n"]
        if not n:
            return {q: None for q in self.qs}
        # Buckets in increasing order of value: negatives (large magnitude first), 0, positives.
        order: list[tuple[float, int]] = [
            (-self._value(i), c) for i, c in sorted(state["neg"].items(), reverse=True)
        ]
        if state["zero"]:
            order.append((0.0, state["zero"]))
        order += [(self._value(i), c) for i, c in sorted(state["pos"].items())]
        out: dict[float, float | None] = {}
        for q in self.qs:
            rank = max(1, math.ceil(q * n))
            seen = 0
            for value, c in order:
                seen += c
                if seen >= rank:
                    out[q] = value
                    break
        return out

    def _value(self, index: int) -> float:
        return 2 * self.gamma**index / (self.gamma + 1)


def _check(aggs: Mapping[str, Aggregate] | Aggregate) -> None:
    items = [aggs] if isinstance(aggs, Aggregate) else list(aggs.values())
    if not items:
        raise TypeError("aggregate: name at least one aggregation")
    for agg in items:
        if not isinstance(agg, Aggregate):
            raise TypeError(
                f"aggregate: expected aggregations such as Count() or Sum('bytes'), got {agg!r}"
            )


def run_partial(aggs: Mapping[str, Aggregate], items: Iterable[Any]) -> dict[str, Any]:
    """Fold every item into every aggregation; return the unfinished states.

    Terminal; one pass. Merge partial states with :func:`merge_all`.
    """
    _check(aggs)
    names = list(aggs)
    adders = [aggs[name].add for name in names]
    states = [aggs[name].start() for name in names]
    pairs = list(enumerate(adders))
    for item in items:
        for i, add in pairs:
            states[i] = add(states[i], item)
    return dict(zip(names, states, strict=True))


def merge_all(
    aggs: Mapping[str, Aggregate], a: dict[str, Any], b: dict[str, Any]
) -> dict[str, Any]:
    """Merge two partial results of the same aggregations."""
    return {name: agg.merge(a[name], b[name]) for name, agg in aggs.items()}


def finish_all(aggs: Mapping[str, Aggregate], states: dict[str, Any]) -> dict[str, Any]:
    """Turn partial states into answers (the states stay usable)."""
    return {name: agg.finish(states[name]) for name, agg in aggs.items()}


def run(aggs: Mapping[str, Aggregate] | Aggregate, items: Iterable[Any]) -> Any:
    """Compute one aggregation, or a dict of them, in one pass over ``items``.

    Terminal; memory as the aggregations need.

    >>> run({"n": Count(), "big": Count(where=lambda x: x > 5)}, range(10))
    {'n': 10, 'big': 4}
    """
    if isinstance(aggs, Aggregate):
        _check(aggs)
        return aggs.finish(aggs.add_all(aggs.start(), items))
    return finish_all(aggs, run_partial(aggs, items))
