"""Aggregations per group that fold: one running state per key, never the group's items.

``Grouped(F.datetime.hour, {"bytes": Sum("bytes"), "hits": Count()})`` keeps,
for every hour seen, the running state of each aggregation; memory grows with
the number of groups, not with the stream. It merges part by part like any
aggregation (so the processes and Dask engines run it), and its answer is a
dict of key -> row, a namedtuple of the aggregations' answers that knows its
column names (``Table(answer)`` is headed ``datetime.hour  bytes  hits``).

>>> from streamql.aggregates import Count, Sum, run
>>> rows = [{"h": "a", "b": 10}, {"h": "b", "b": 5}, {"h": "a", "b": 1}]
>>> answer = run(Grouped("h", {"bytes": Sum("b"), "hits": Count()}), rows)
>>> answer, answer.columns, answer["a"].bytes
({'a': Row(bytes=11, hits=2), 'b': Row(bytes=5, hits=1)}, ('h', 'bytes', 'hits'), 11)
"""

from __future__ import annotations

import functools
import itertools
import keyword
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from ..core.expr import Expr, Field
from .base import Aggregate, Reads, Where, check, field_label, value_getter
from .results import Groups

__all__ = ["Grouped", "columns_keys", "key_fields", "row_type"]

_CHUNK = 4096  # items bucketed at a time: the only items held


def key_fields(key: Any) -> tuple[str, ...] | None:
    """The fields a key reads (names, plain fields or expressions), or None if it is a function."""
    parts = key if isinstance(key, tuple) else (key,)
    names: set[str] = set()
    for part in parts:
        if isinstance(part, str):
            names.add(part)
        elif isinstance(part, Expr):
            names |= part.fields()
        else:
            return None
    return tuple(sorted(names))


def columns_keys(key: Any, names: tuple[str, ...]) -> Callable[..., list[Any]]:
    """A function of the columns of ``names`` giving every row's key (a tuple for several).

    >>> from streamql.core.expr import F
    >>> columns_keys(("h", F.b // 10), ("b", "h"))([5, 25], ["x", "y"])
    [('x', 0), ('y', 2)]
    """
    parts = key if isinstance(key, tuple) else (key,)
    getters: list[Callable[..., list[Any]]] = []
    for part in parts:
        name = part.name if isinstance(part, Field) else part
        if isinstance(name, str):
            getters.append(itemgetter(names.index(name)))
        else:
            getters.append(part.compile_values(names))
    calls = [g if isinstance(g, itemgetter) else _spread(g) for g in getters]
    if not isinstance(key, tuple):
        return lambda *cols: calls[0](cols)
    return lambda *cols: list(zip(*(call(cols) for call in calls), strict=True))


def _spread(get: Callable[..., list[Any]]) -> Callable[[tuple[Any, ...]], list[Any]]:
    return lambda cols: get(*cols)


@functools.cache
def row_type(names: tuple[str, ...]) -> Any:
    """The namedtuple of a group's answers, one per name (rows pickle by their names)."""
    base = namedtuple("Row", names)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "__reduce__": _reduce_row})


def _reduce_row(row: Any) -> tuple[Any, ...]:
    return (_rebuild_row, (row._fields, tuple(row)))


def _rebuild_row(names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return row_type(names)(*values)


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(
                f"group_by: aggregation names must be identifiers not starting with _, got {name!r}"
            )


class Grouped(Aggregate):
    """Several aggregations per value of a key, each folding its own running state.

    ``key`` is a field name, an ``F`` expression, a function, or a tuple of
    names and expressions (one group per combination). Groups come in the
    order they are first seen; memory is one state per group and aggregation.
    """

    name = "group_by"

    def __init__(self, key: Any, aggs: Mapping[str, Aggregate], *, where: Where = None) -> None:
        check(aggs)
        _check_names(aggs)
        if isinstance(key, tuple) and not all(isinstance(k, (str, int, Expr)) for k in key):
            raise TypeError(f"group_by: expected field names or F expressions, got {key!r}")
        super().__init__(None, where=where)
        self.key = key
        self.key_of = value_getter(self.name, key)
        if self.key_of is None:
            raise TypeError("group_by: name a field or give a key function")
        self.aggs = dict(aggs)
        self.parts = tuple(self.aggs.values())
        keys = key if isinstance(key, tuple) else (key,)
        self.columns = (*map(field_label, keys), *self.aggs)
        self.row = row_type(tuple(self.aggs))

    def _extra(self) -> list[str]:
        return [repr(self.key), repr(self.aggs)]

    def fields_read(self) -> frozenset[str]:
        names = key_fields(self.key) or ()
        return frozenset(names).union(*(agg.fields_read() for agg in self.parts))

    @property
    def reads(self) -> Reads | None:
        """Columns, when the key and every aggregation read fields (the planner may fold blocks)."""
        names = key_fields(self.key)
        if names is None or (self.test is not None and not isinstance(self.where, Expr)):
            return None
        read = set(names)
        for agg in self.parts:
            reads = agg.reads
            if reads is None or reads.kind == "key":
                return None
            if reads.kind == "columns" and not isinstance(agg.field, Expr):
                return None
            read |= {reads.field} if reads.field else set(reads.fields)
            read |= agg.where.fields() if isinstance(agg.where, Expr) else set()
        return Reads("columns", None, tuple(sorted(read)))

    def start(self) -> dict[Any, list[Any]]:
        return {}

    def _states(self, state: dict[Any, list[Any]], key: Any) -> list[Any]:
        states = state.get(key)
        if states is None:
            states = state[key] = [agg.start() for agg in self.parts]
        return states

    def fold(self, state: dict[Any, list[Any]], values: Iterable[Any]) -> dict[Any, list[Any]]:
        key_of, parts = self.key_of, self.parts
        it = iter(values)
        while chunk := list(itertools.islice(it, _CHUNK)):
            groups: defaultdict[Any, list[Any]] = defaultdict(list)
            try:
                keys = list(map(key_of, chunk))  # type: ignore[arg-type]
            except KeyError as exc:
                raise self._missing(exc) from None
            for k, item in zip(keys, chunk, strict=True):
                groups[k].append(item)
            for k, items in groups.items():
                states = self._states(state, k)
                for i, agg in enumerate(parts):
                    states[i] = agg.add_all(states[i], items)
        return state

    def fold_columns(
        self, state: dict[Any, list[Any]], columns: Sequence[Sequence[Any]]
    ) -> dict[Any, list[Any]]:
        """Fold a block's columns (those of ``reads.fields``): no record is built.

        >>> from streamql.aggregates import Count, Sum
        >>> agg = Grouped("h", {"bytes": Sum("b"), "hits": Count()})
        >>> agg.reads.fields, agg.finish(agg.fold_columns({}, [[1, 2, 3], ["x", "y", "x"]]))
        (('b', 'h'), {'x': Row(bytes=4, hits=2), 'y': Row(bytes=2, hits=1)})
        """
        plan = self.__dict__.get("_plan") or self._column_plan()
        keys, inputs = plan
        rows_of: defaultdict[Any, list[int]] = defaultdict(list)
        for i, k in enumerate(keys(*columns)):
            rows_of[k].append(i)
        picked = [(values(columns), passing(columns)) for values, passing in inputs]
        for k, rows in rows_of.items():
            states = self._states(state, k)
            for i, (agg, (values, passing)) in enumerate(zip(self.parts, picked, strict=True)):
                chosen = rows if passing is None else [r for r in rows if r in passing]
                states[i] = agg.fold(
                    states[i], chosen if values is None else [values[r] for r in chosen]
                )
        return state

    def _column_plan(self) -> Any:
        reads = self.reads
        if reads is None:
            raise TypeError(f"group_by: {self!r} does not read columns")
        names = reads.fields
        index = {name: i for i, name in enumerate(names)}

        def inputs(agg: Aggregate) -> tuple[Callable[..., Any], Callable[..., Any]]:
            part = agg.reads
            assert part is not None
            if part.kind == "count":
                values: Callable[..., Any] = lambda cols: None  # noqa: E731
            elif part.kind == "field":
                values = itemgetter(index[str(part.field)])
            else:
                get = agg.field.compile_values(part.fields)
                values = lambda cols: get(*(cols[index[n]] for n in part.fields))  # noqa: E731
            if not isinstance(agg.where, Expr):
                return values, lambda cols: None
            tested = tuple(sorted(agg.where.fields()))
            select = agg.where.compile_columns(tested)
            return values, lambda cols: set(select(*(cols[index[n]] for n in tested)))

        plan = (columns_keys(self.key, names), [inputs(agg) for agg in self.parts])
        self._plan = plan
        return plan

    def merge(self, a: dict[Any, list[Any]], b: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
        parts = self.parts
        out = {k: [agg.merge(agg.start(), s) for agg, s in zip(parts, v, strict=True)]
               for k, v in a.items()}  # fmt: skip
        for k, v in b.items():
            mine = out.get(k)
            base = mine if mine is not None else [agg.start() for agg in parts]
            out[k] = [agg.merge(x, y) for agg, x, y in zip(parts, base, v, strict=True)]
        return out

    def finish(self, state: dict[Any, list[Any]]) -> Groups:
        row, parts = self.row, self.parts
        answers = [
            (k, row(*(agg.finish(s) for agg, s in zip(parts, v, strict=True))))
            for k, v in state.items()
        ]
        return Groups(answers, columns=self.columns)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_plan", None)
        state.pop("row", None)  # a class made at run time: made again where it lands
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.row = row_type(tuple(self.aggs))
