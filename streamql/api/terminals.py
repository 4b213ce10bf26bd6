"""Stream terminals: each runs the query into an aggregation, on every engine.

``count`` is ``Count()``, ``sum("bytes")`` is ``Sum("bytes")``, ``top`` is
``Top``...: one object answers in this process, in worker processes, on a Dask
cluster, and pushed into the parser by the planner (:mod:`streamql.aggregates`).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .. import aggregates
from ..aggregates import EMPTY
from ..core._lazy import lazy
from ..core.errors import StreamError
from ..core.expr import Expr
from ..engine.registry import engine_named
from .base import MISSING, StreamBase

if TYPE_CHECKING:
    from ..ops import writers

    pass

if not TYPE_CHECKING:  # imported when a query is first written to a file
    writers = lazy("streamql.ops.writers")

__all__ = ["TerminalMethods"]

T = TypeVar("T")
U = TypeVar("U")


class TerminalMethods(StreamBase[T]):
    """Methods that run the query and return a plain value."""

    __slots__ = ()

    # Every terminal is an aggregation (streamql.aggregates), on every engine.
    def _extreme(self, agg: aggregates.Aggregate, default: Any, engine: str | None) -> Any:
        found = self._answer(agg, engine)
        if found is not EMPTY:
            return found
        if default is MISSING:
            raise StreamError(
                f"{agg.name}: the stream is empty\n\nPass default= to get a value instead."
            )
        return default

    def list(self, *, engine: str | None = None) -> builtins.list[T]:
        """Run the query and return its items as a list.

        ``engine="processes"`` (on every terminal below) runs a query over
        files in worker processes, one part of the files each, and merges the
        parts' answers in order: see :mod:`streamql.engine.processes`. ``engine="dask"``
        runs the same parts as Dask tasks (:mod:`streamql.engine.dask_engine`).

        >>> from streamql import Stream

        >>> Stream([1, 2]).list()
        [1, 2]
        """
        items: builtins.list[T] = self._answer(aggregates.Collect(), engine)
        return items

    def count(self, *, engine: str | None = None) -> int:
        """Run the query and count its items.

        >>> from streamql import Stream

        >>> Stream(["a", "b"]).count()
        2
        """
        n: int = self._answer(aggregates.Count(), engine)
        return n

    def sum(self, field: str | int | Expr | None = None, *, engine: str | None = None) -> Any:
        """Run the query and add up its items, or a field (or ``F`` expression) of each record.

        >>> from streamql import Stream, F

        >>> Stream([{"bytes": 3}, {"bytes": 4}]).sum("bytes"), Stream([{"b": 2048}]).sum(F.b / 1024)
        (7, 2.0)
        """
        return self._answer(aggregates.Sum(field), engine)

    def min(
        self,
        field: str | int | Expr | None = None,
        *,
        key: Any = None,
        default: Any = MISSING,
        engine: str | None = None,
    ) -> Any:
        """Run the query and return the smallest item, field value, or item by ``key``.

        >>> from streamql import Stream

        >>> Stream([{"bytes": 3}, {"bytes": 4}]).min("bytes")
        3
        """
        return self._extreme(aggregates.Min(field, key=key, empty=EMPTY), default, engine)

    def max(
        self,
        field: str | int | Expr | None = None,
        *,
        key: Any = None,
        default: Any = MISSING,
        engine: str | None = None,
    ) -> Any:
        """Run the query and return the largest item, field value, or item by ``key``.

        >>> from streamql import Stream

        >>> rows = Stream([{"bytes": 3, "request": "/a"}, {"bytes": 9, "request": "/b"}])
        >>> rows.max("bytes"), rows.max(key="bytes")["request"]
        (9, '/b')
        """
        return self._extreme(aggregates.Max(field, key=key, empty=EMPTY), default, engine)

    def set(
        self, field: str | int | Expr | None = None, *, engine: str | None = None
    ) -> builtins.set[Any]:
        """Run the query and collect the distinct items (or field values).

        >>> from streamql import Stream

        >>> sorted(Stream([{"host": "a"}, {"host": "a"}, {"host": "b"}]).set("host"))
        ['a', 'b']
        """
        result: builtins.set[Any] = self._answer(aggregates.Distinct(field), engine)
        return result

    def first(self, default: Any = MISSING, *, engine: str | None = None) -> T:
        """Run the query only as far as its first item and return it.

        It reads one item, so it always runs in this process, whatever ``engine``.

        >>> from streamql import Stream

        >>> import itertools
        >>> Stream(itertools.count(5)).first()
        5
        """
        if engine is not None:
            engine_named(engine, "first")  # a ValueError naming the engines there are
        found: T = self._extreme(aggregates.First(empty=EMPTY), default, "default")
        return found

    def top(
        self,
        n: int,
        by: str | int | Callable[[Any], Any] | None = None,
        *,
        engine: str | None = None,
    ) -> builtins.list[T]:
        """Run the query and return the ``n`` largest items by a field or key, largest first.

        >>> from streamql import Stream

        >>> Stream([{"b": 1}, {"b": 9}, {"b": 5}]).top(2, "b")
        [{'b': 9}, {'b': 5}]
        """
        result: builtins.list[T] = self._answer(aggregates.Top(n, by), engine)
        return result

    def count_by(
        self,
        field: str | int | Expr | Callable[[Any], Any],
        *more: str | Expr,
        n: int | None = None,
        engine: str | None = None,
    ) -> dict[Any, int]:
        """Run the query and count items per value of a field, most common first.

        A field may be an ``F`` expression (``F.datetime.floor("1h")``). Name
        several to count per combination; ``n`` keeps the ``n`` most common.
        The answer is a dict that knows its column names (``.columns``; an
        expression's is its label, ``datetime.floor('1h')``), so
        ``Table(answer)`` heads its columns.

        >>> from streamql import Stream

        >>> rows = Stream([{"s": 200, "h": "a"}, {"s": 404, "h": "b"}, {"s": 404, "h": "b"}])
        >>> rows.count_by("s"), rows.count_by("s", n=1), rows.count_by("h", "s")
        ({404: 2, 200: 1}, {404: 2}, {('b', 404): 2, ('a', 200): 1})
        """
        key: Any = (field, *more) if more else field
        result: dict[Any, int] = self._answer(aggregates.CountBy(key, n=n), engine)
        return result

    def group_by(
        self,
        field: str | int | Expr | Callable[[Any], Any],
        *more: str | Expr,
        agg: Callable[[builtins.list[Any]], Any] | None = None,
        engine: str | None = None,
        **aggregations: aggregates.Aggregate,
    ) -> dict[Any, Any]:
        """Run the query and aggregate per value of a field: key -> row of answers.

        With aggregations by name (``bytes=Sum("bytes"), hits=Count()``),
        each group keeps one running state per aggregation, never its records:
        memory grows with the number of groups. The answer maps each key (in
        first-seen order) to a namedtuple of the answers and knows its column
        names (``.columns``), so ``Table(answer)`` shows a row per key. The
        key may be an ``F`` expression (``F.datetime.hour``), and several keys
        group per combination. Every engine runs it (:class:`~streamql.aggregates.Grouped`).

        Without aggregations, each key maps to the list of its items, or to
        ``agg(list)``: that form holds every record of every group in memory.

        >>> from streamql import Stream
        >>> from streamql.aggregates import Count, Sum

        >>> rows = Stream([{"h": "a", "b": 1}, {"h": "a", "b": 2}, {"h": "c", "b": 5}])
        >>> rows.group_by("h", bytes=Sum("b"), hits=Count())
        {'a': Row(bytes=3, hits=2), 'c': Row(bytes=5, hits=1)}
        >>> rows.group_by("h", agg=len)
        {'a': 2, 'c': 1}
        """
        key: Any = (field, *more) if more else field
        if aggregations:
            if agg is not None:
                raise TypeError("group_by: give aggregations by name or agg=, not both")
            folded: dict[Any, Any] = self._answer(aggregates.Grouped(key, aggregations), engine)
            return folded
        if agg is not None and not callable(agg):
            raise TypeError(f"group_by: agg must be a function of a list, got {agg!r}")
        groups: dict[Any, Any] = self._answer(aggregates.GroupBy(key), engine)
        return groups if agg is None else {k: agg(v) for k, v in groups.items()}

    def aggregate(
        self, *one: aggregates.Aggregate, engine: str | None = None, **named: aggregates.Aggregate
    ) -> Any:
        """Run the query once and compute aggregations: one, or many by name.

        Every aggregation sees each item in the same pass, so several answers
        cost one read of the data (see :mod:`streamql.aggregates`).

        >>> from streamql import Stream

        >>> from streamql import F
        >>> from streamql.aggregates import Count, Sum, CountBy
        >>> rows = Stream([{"s": 404, "b": 5, "h": "a"}, {"s": 200, "b": 7, "h": "b"}])
        >>> rows.aggregate(missing=Count(where=F.s == 404), total=Sum("b"), hosts=CountBy("h"))
        {'missing': 1, 'total': 12, 'hosts': {'a': 1, 'b': 1}}
        >>> rows.aggregate(Sum("b"))
        12
        """
        if (one and named) or len(one) > 1:
            raise TypeError("aggregate: give one aggregation, or several by name=")
        target: aggregates.Aggregate = one[0] if one else aggregates.Many(named)
        aggregates.check(target)
        return self._answer(target, engine)

    def write(
        self, path_or_file: str | os.PathLike[str] | IO[str], *, format: str | None = None
    ) -> int:
        """Run the query, writing each item to a file (atomically to a path); return the count.

        The format is ``format`` or the path's extension: .jsonl, .json, .csv,
        .tsv, .txt/.log (plain lines), .parquet/.arrow (``streamql[arrow]``);
        see :func:`streamql.ops.writers.write`.

        >>> from streamql import Stream

        >>> import io
        >>> out = io.StringIO()
        >>> Stream(["a\\n", "b\\n"]).write(out), out.getvalue()
        (2, 'a\\nb\\n')
        """
        writers.check_format(format)
        if isinstance(path_or_file, (str, os.PathLike)) and format is None:
            writers.format_for(path_or_file)  # an unknown extension fails before the run
        return self._run(lambda it: writers.write(path_or_file, it, format=format))
