"""Exact aggregations: counts, sums, extremes, sets, counts per value, the top n, lists.

Each folds a whole iterator of values in one call, in a C loop where Python
has one (``sum``, ``min``, ``Counter.update``, ``set.update``), so a terminal
over a million records costs about what the builtin would.

>>> from streamql.aggregates import run
>>> rows = [{"host": "a", "bytes": 10}, {"host": "b", "bytes": 5}, {"host": "a", "bytes": 1}]
>>> run({"n": Count(), "total": Sum("bytes"), "hosts": CountBy("host")}, rows)
{'n': 3, 'total': 16, 'hosts': {'a': 2, 'b': 1}}
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from typing import Any

from ..core.expr import Expr
from .base import EMPTY, Aggregate, Reads, Where, field_label, value_getter
from .grouped import columns_keys, key_fields
from .results import Counts

__all__ = [
    "Count",
    "Sum",
    "Mean",
    "Distinct",
    "CountBy",
    "Collect",
    "Quantiles",
    "First",
    "Last",
    "GroupBy",
]


class Count(Aggregate):
    """Count the items (that pass ``where``).

    >>> from streamql.aggregates import run
    >>> run(Count(where=lambda x: x > 1), [1, 2, 3])
    2
    """

    name = "count"

    @property
    def reads(self) -> Reads | None:
        if self.field is not None or (self.test is not None and not isinstance(self.where, Expr)):
            return None
        return Reads("count")

    def start(self) -> int:
        return 0

    def fold(self, state: int, values: Iterable[Any]) -> int:
        if isinstance(values, (list, range, tuple)):
            return state + len(values)
        counter = itertools.count()
        deque(zip(values, counter, strict=False), maxlen=0)  # consumed at C speed
        return state + next(counter)

    def merge(self, a: int, b: int) -> int:
        return a + b


class Sum(Aggregate):
    """Add up the values.

    >>> from streamql.aggregates import run
    >>> run(Sum("bytes"), [{"bytes": 3}, {"bytes": 4}])
    7
    """

    name = "sum"

    def start(self) -> Any:
        return 0

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        try:
            return sum(values, state)
        except TypeError as exc:
            if self.field is None and "dict" in str(exc):
                raise TypeError(
                    f"sum: the items are records, which do not add up ({exc})\n\n"
                    "Name the field to add: .sum('bytes')."
                ) from None
            raise

    def merge(self, a: Any, b: Any) -> Any:
        return a + b


class Mean(Aggregate):
    """The arithmetic mean; None if empty.

    >>> from streamql.aggregates import run
    >>> run(Mean(), [1, 2, 6])
    3.0
    """

    name = "mean"

    def start(self) -> tuple[int, Any]:
        return (0, 0)

    def fold(self, state: tuple[int, Any], values: Iterable[Any]) -> tuple[int, Any]:
        if not isinstance(values, (list, tuple)):
            values = list(values)
        return (state[0] + len(values), sum(values, state[1]))

    def merge(self, a: tuple[int, Any], b: tuple[int, Any]) -> tuple[int, Any]:
        return (a[0] + b[0], a[1] + b[1])

    def finish(self, state: tuple[int, Any]) -> float | None:
        return state[1] / state[0] if state[0] else None


class Distinct(Aggregate):
    """The set of distinct values. Memory grows with their number.

    >>> from streamql.aggregates import run
    >>> sorted(run(Distinct(), "abca"))
    ['a', 'b', 'c']
    """

    name = "distinct"

    def start(self) -> set[Any]:
        return set()

    def fold(self, state: set[Any], values: Iterable[Any]) -> set[Any]:
        state.update(values)
        return state

    def merge(self, a: set[Any], b: set[Any]) -> set[Any]:
        return a | b

    def finish(self, state: set[Any]) -> set[Any]:
        return set(state)


class CountBy(Aggregate):
    """Count per value, most common first (ties in first-seen order); the ``n`` first if given.

    ``field`` may be an ``F`` expression (``F.datetime.floor("1h")``), or a
    tuple of field names and expressions: counts per combination.

    >>> from streamql.aggregates import run
    >>> run(CountBy("s"), [{"s": 200}, {"s": 404}, {"s": 404}])
    {404: 2, 200: 1}
    >>> run(CountBy(("h", "s"), n=1), [{"h": "a", "s": 200}, {"h": "b", "s": 404}])
    {('a', 200): 1}
    """

    name = "count_by"

    def __init__(self, field: Any, *, n: int | None = None, where: Where = None) -> None:
        several = isinstance(field, tuple)
        if several and (not field or not all(isinstance(f, (str, int, Expr)) for f in field)):
            raise TypeError(f"count_by: expected field names or F expressions, got {field!r}")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"count_by: n must be an int >= 1, got {n!r}")
        super().__init__(field, where=where)
        self.n = n

    @property
    def reads(self) -> Reads | None:
        """One column for a field; columns for expressions or several fields (per combination)."""
        found = super().reads
        names = key_fields(self.field)
        if found is not None or not isinstance(self.field, tuple) or names is None:
            return found
        if self.test is not None and not isinstance(self.where, Expr):
            return None
        return Reads("columns", None, names)

    def fold_columns(self, state: Counter[Any], columns: Sequence[Sequence[Any]]) -> Counter[Any]:
        """Count the keys of a block's columns (those of ``reads.fields``, in order)."""
        keys = self.__dict__.get("_keys")
        if keys is None:
            reads = self.reads
            assert reads is not None and reads.kind == "columns"
            keys = self._keys = columns_keys(self.field, reads.fields)
        state.update(keys(*columns))
        return state

    def _extra(self) -> list[str]:
        return [] if self.n is None else [f"n={self.n}"]

    def start(self) -> Counter[Any]:
        return Counter()

    def fold(self, state: Counter[Any], values: Iterable[Any]) -> Counter[Any]:
        state.update(values)
        return state

    def merge(self, a: Counter[Any], b: Counter[Any]) -> Counter[Any]:
        out = Counter(a)
        out.update(b)
        return out

    def finish(self, state: Counter[Any]) -> Counts:
        keys = self.field if isinstance(self.field, tuple) else (self.field,)
        names = tuple(map(field_label, keys))
        return Counts(state.most_common(self.n), columns=(*names, "count"))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_keys", None)
        return state


class Collect(Aggregate):
    """Every value, in order (a list). Memory grows with the stream.

    >>> from streamql.aggregates import run
    >>> run(Collect(), "abc")
    ['a', 'b', 'c']
    """

    name = "collect"

    def start(self) -> list[Any]:
        return []

    def fold(self, state: list[Any], values: Iterable[Any]) -> list[Any]:
        state.extend(values)
        return state

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        return a + b

    def finish(self, state: list[Any]) -> list[Any]:
        return list(state)


class Quantiles(Collect):
    """Exact quantiles (``qs`` in [0, 1]) by nearest rank. Keeps every value.

    >>> from streamql.aggregates import run
    >>> run(Quantiles(qs=(0.5, 0.9)), range(1, 101))
    {0.5: 50, 0.9: 90}
    """

    name = "quantiles"

    def __init__(
        self, field: Any = None, *, qs: Iterable[float] = (0.5, 0.9, 0.99), where: Where = None
    ) -> None:
        super().__init__(field, where=where)
        self.qs = check_qs(self.name, qs)

    def _extra(self) -> list[str]:
        return [f"qs={self.qs!r}"]

    def finish(self, state: list[Any]) -> dict[float, Any]:  # type: ignore[override]
        ordered = sorted(state)
        if not ordered:
            return {q: None for q in self.qs}
        return {q: ordered[max(0, math.ceil(q * len(ordered)) - 1)] for q in self.qs}


def check_qs(stage: str, qs: Iterable[float]) -> tuple[float, ...]:
    """Validate quantiles: numbers in [0, 1], at least one."""
    out = tuple(qs)
    if not out or any(not isinstance(q, (int, float)) or not 0 <= q <= 1 for q in out):
        raise ValueError(f"{stage}: qs must be numbers in [0, 1], got {out!r}")
    return out


class First(Aggregate):
    """The first value; ``empty`` (None) if there is none. Reads only as far as that value.

    >>> from streamql.aggregates import run
    >>> import itertools
    >>> run(First(), itertools.count(7))
    7
    """

    name = "first"

    def __init__(self, field: Any = None, *, where: Where = None, empty: Any = None) -> None:
        super().__init__(field, where=where)
        self.empty = empty

    def start(self) -> Any:
        return EMPTY

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        if state is not EMPTY:
            return state
        return next(iter(values), EMPTY)

    def merge(self, a: Any, b: Any) -> Any:
        return b if a is EMPTY else a

    def finish(self, state: Any) -> Any:
        return self.empty if state is EMPTY else state


class Last(First):
    """The last value; None if empty.

    >>> from streamql.aggregates import run
    >>> run(Last(), "xyz")
    'z'
    """

    name = "last"

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        last = deque(values, maxlen=1)
        return last[0] if last else state

    def merge(self, a: Any, b: Any) -> Any:
        return a if b is EMPTY else b


class GroupBy(Aggregate):
    """Items grouped by a field (or key function): value -> list of items, in order.

    Holds every item: memory grows with the stream. To fold each group into
    sums or counts instead, use :class:`streamql.aggregates.Grouped`.

    >>> from streamql.aggregates import run
    >>> run(GroupBy("h"), [{"h": "a", "n": 1}, {"h": "b", "n": 2}, {"h": "a", "n": 3}])
    {'a': [{'h': 'a', 'n': 1}, {'h': 'a', 'n': 3}], 'b': [{'h': 'b', 'n': 2}]}
    """

    name = "group_by"

    def __init__(self, field: Any, *, where: Where = None) -> None:
        super().__init__(None, where=where)
        self.field = field
        key = value_getter(self.name, field)
        if key is None:
            raise TypeError("group_by: name a field or give a key function")
        self.key = key

    @property
    def reads(self) -> Reads | None:
        return None  # it keeps whole items: every record is built anyway

    def start(self) -> dict[Any, list[Any]]:
        return {}

    def fold(self, state: dict[Any, list[Any]], values: Iterable[Any]) -> dict[Any, list[Any]]:
        key = self.key
        try:
            for value in values:
                state.setdefault(key(value), []).append(value)
        except KeyError as exc:
            raise self._missing(exc) from None
        return state

    def merge(self, a: dict[Any, list[Any]], b: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
        out = {k: list(v) for k, v in a.items()}
        for k, v in b.items():
            out.setdefault(k, []).extend(v)
        return out

    def finish(self, state: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
        return {k: list(v) for k, v in state.items()}
