"""Aggregations that rank: the least, the greatest, and the top ``n``, by value or by key.

By a key (``Max(key="bytes")``, ``Top(3, by="bytes")``) they answer with
whole items, and fold a block's key column with :meth:`fold_keyed`: only the
items they keep are ever built, so the planner can push them into the parser.

>>> from streamql.aggregates import run
>>> run(Top(2, by="b"), [{"b": 1}, {"b": 7}, {"b": 3}])
[{'b': 7}, {'b': 3}]
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from ..core.expr import Expr, Field
from .base import EMPTY, Aggregate, Reads, Where, _names, value_getter

__all__ = ["Min", "Max", "Top"]


# Items taken at a time by the aggregations that keep whole items by a key.
_CHUNK = 4096


def _keyed(agg: Aggregate, key: Any) -> Reads | None:
    """Reads of one key column, for a key that is a field name or ``F.name``."""
    if isinstance(key, Field):
        key = key.name
    if not isinstance(key, str) or (agg.test is not None and not isinstance(agg.where, Expr)):
        return None
    return Reads("key", key)


class _Extreme(Aggregate):
    """The least or greatest value, or item by ``key``; ``empty`` when there is none."""

    pick: Callable[..., Any]  # min or max
    better: Callable[[Any, Any], bool]

    def __init__(
        self,
        field: Any = None,
        *,
        key: Any = None,
        where: Where = None,
        empty: Any = None,
    ) -> None:
        if field is not None and key is not None:
            raise TypeError(f"{self.name}: give a field or key=, not both")
        super().__init__(field, where=where)
        self.key_field = key
        self.key = value_getter(self.name, key)
        self.empty = empty

    @property
    def reads(self) -> Reads | None:
        if self.key is None:
            return super().reads
        return _keyed(self, self.key_field)

    def fields_read(self) -> frozenset[str]:
        return super().fields_read() | _names(self.key_field)

    def _extra(self) -> list[str]:
        return [] if self.key_field is None else [f"key={self.key_field!r}"]

    def start(self) -> Any:
        return EMPTY

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        if self.key is None:
            return self.merge(state, type(self).pick(values, default=EMPTY))
        it = iter(values)
        while chunk := list(itertools.islice(it, _CHUNK)):
            state = self.fold_keyed(state, list(map(self.key, chunk)), chunk.__getitem__)
        return state

    def fold_keyed(self, state: Any, keys: Sequence[Any], item_at: Callable[[int], Any]) -> Any:
        """Fold items by their keys: ``keys[i]`` is the key of ``item_at(i)``, built if kept."""
        if not keys:
            return state
        extreme = type(self).pick(keys)
        if state is not EMPTY and not self.better(extreme, self.key(state)):  # type: ignore[misc]
            return state  # ties keep the earlier item
        return item_at(keys.index(extreme))  # the first, on ties

    def merge(self, a: Any, b: Any) -> Any:
        if a is EMPTY:
            return b
        if b is EMPTY:
            return a
        if self.key is None:
            return b if self.better(b, a) else a
        return b if self.better(self.key(b), self.key(a)) else a

    def finish(self, state: Any) -> Any:
        return self.empty if state is EMPTY else state


class Min(_Extreme):
    """The smallest value (or, with ``key``, the item with the smallest key); None if empty.

    >>> from streamql.aggregates import run
    >>> run(Min(), [3, 1, 2])
    1
    """

    name = "min"
    pick = min

    @staticmethod
    def better(a: Any, b: Any) -> bool:
        return bool(a < b)


class Max(_Extreme):
    """The largest value (or, with ``key``, the item with the largest key); None if empty.

    >>> from streamql.aggregates import run
    >>> run(Max(key="bytes"), [{"bytes": 3, "r": "/a"}, {"bytes": 9, "r": "/b"}])["r"]
    '/b'
    """

    name = "max"
    pick = max

    @staticmethod
    def better(a: Any, b: Any) -> bool:
        return bool(a > b)


class Top(Aggregate):
    """The ``n`` largest items by a key (field name or function), largest first.

    Keeps ``n`` items. Ties keep the earlier item first.

    >>> from streamql.aggregates import run
    >>> run(Top(2, by="b"), [{"b": 1}, {"b": 7}, {"b": 3}])
    [{'b': 7}, {'b': 3}]
    """

    name = "top"

    def __init__(self, n: int, by: Any = None, *, where: Where = None) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"top: n must be an int >= 0, got {n!r}")
        super().__init__(None, where=where)
        self.n = n
        self.by = by
        self.key = value_getter("top", by) or (lambda x: x)

    @property
    def reads(self) -> Reads | None:
        return _keyed(self, self.by)

    def fields_read(self) -> frozenset[str]:
        return super().fields_read() | _names(self.by)

    def _extra(self) -> list[str]:
        return [repr(self.n)] + ([] if self.by is None else [f"by={self.by!r}"])

    def start(self) -> list[Any]:
        return [0, []]  # items seen, and a heap of (key, -sequence, item)

    def fold(self, state: list[Any], values: Iterable[Any]) -> list[Any]:
        it = iter(values)
        while chunk := list(itertools.islice(it, _CHUNK)):
            state = self.fold_keyed(state, list(map(self.key, chunk)), chunk.__getitem__)
        return state

    def fold_keyed(
        self, state: list[Any], keys: Sequence[Any], item_at: Callable[[int], Any]
    ) -> list[Any]:
        """Fold items by their keys: only the ``n`` best of ``keys`` have their item built."""
        seen, heap = state
        full = len(heap) == self.n
        # Once the heap is full, a later key must beat its least to get in (ties keep the
        # earlier item): most blocks of a long stream are passed over by one max().
        if keys and self.n and not (full and max(keys) <= heap[0][0]):
            best = heapq.nlargest(self.n, range(len(keys)), key=keys.__getitem__)  # stable
            if full:
                best = [i for i in best if keys[i] > heap[0][0]]
            fresh = [(keys[i], -(seen + i + 1), item_at(i)) for i in best]
            heap = heapq.nlargest(self.n, heap + fresh, key=itemgetter(0, 1))
            heapq.heapify(heap)
        return [seen + len(keys), heap]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        # Sequence numbers of b continue after a's, so earlier items still win ties.
        shifted = [(k, seq - a[0], item) for k, seq, item in b[1]]
        merged = heapq.nlargest(self.n, a[1] + shifted, key=itemgetter(0, 1))
        heapq.heapify(merged)
        return [a[0] + b[0], merged]

    def finish(self, state: list[Any]) -> list[Any]:
        return [e[2] for e in sorted(state[1], key=itemgetter(0, 1), reverse=True)]
