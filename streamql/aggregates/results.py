"""Answers that know their column names: still plain dicts to code, headed tables to people.

>>> counts = Counts([(404, 2), (200, 1)], columns=("status", "count"))
>>> counts, counts.columns, counts == {404: 2, 200: 1}
({404: 2, 200: 1}, ('status', 'count'), True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Counts", "Groups"]


class Counts(dict[Any, Any]):
    """A ``count_by`` answer: a dict of value -> count, most common first, with ``columns``.

    ``columns`` names the key's field(s) and the count, for tables
    (``Table(log.count_by("status"))`` is headed ``status  count``).
    """

    columns: tuple[str, ...]

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = (), *, columns: tuple[str, ...] = ()):
        super().__init__(pairs)
        self.columns = columns

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (list(self.items()), self.columns))


def _rebuild(pairs: list[tuple[Any, Any]], columns: tuple[str, ...]) -> Counts:
    return Counts(pairs, columns=columns)


class Groups(dict[Any, Any]):
    """A folding ``group_by`` answer: a dict of key -> row (a namedtuple), with ``columns``.

    ``columns`` names the key's field(s), then the aggregations, for tables
    (``Table(answer)`` shows one row per key with a column per aggregation).

    >>> from streamql.aggregates.grouped import row_type
    >>> Row = row_type(("hits",))
    >>> groups = Groups([(3, Row(2))], columns=("hour", "hits"))
    >>> groups, groups.columns, groups[3].hits
    ({3: Row(hits=2)}, ('hour', 'hits'), 2)
    """

    columns: tuple[str, ...]

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = (), *, columns: tuple[str, ...] = ()):
        super().__init__(pairs)
        self.columns = columns

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_groups, (list(self.items()), self.columns))


def _rebuild_groups(pairs: list[tuple[Any, Any]], columns: tuple[str, ...]) -> Groups:
    return Groups(pairs, columns=columns)
