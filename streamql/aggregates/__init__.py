"""Aggregations as values: start, fold, merge two partial results, finish.

Every terminal of a Stream is one of these objects, on every engine: ``sum``
is ``Sum``, ``count_by`` is ``CountBy``, and ``Stream.aggregate(name=agg, ...)``
computes several in one pass. The same objects fold a block's columns when
the planner pushes a terminal into the parser, merge the partial answers of
worker processes, and keep the running state of windows and live views.
Each can look at one field of dict records (``Sum("bytes")``) and count only
the items passing a condition (``Count(where=F.status == 404)``).

Exact: :class:`Count`, :class:`Sum`, :class:`Min`, :class:`Max`, :class:`Mean`,
:class:`Distinct`, :class:`CountBy`, :class:`Top`, :class:`Quantiles`,
:class:`First`, :class:`Last`, :class:`Collect`, :class:`GroupBy` (holds records),
:class:`Grouped` (several aggregations per group, folding). Bounded
memory, approximate, for endless streams: :class:`ApproxDistinct`,
:class:`HeavyHitters`, :class:`ApproxQuantiles`. Every one can be read
mid-stream: ``agg.finish(state)`` does not change the state. The protocol,
and how to write your own, is in :mod:`streamql.aggregates.base`.

>>> from streamql.aggregates import Count, CountBy, Sum, run
>>> rows = [{"host": "a", "bytes": 10}, {"host": "b", "bytes": 5}, {"host": "a", "bytes": 1}]
>>> run({"n": Count(), "total": Sum("bytes"), "hosts": CountBy("host")}, rows)
{'n': 3, 'total': 16, 'hosts': {'a': 2, 'b': 1}}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import EMPTY, KINDS, Aggregate, Many, Reads, check, reads_of, run

if TYPE_CHECKING:
    from .exact import Collect, Count, CountBy, Distinct, First, GroupBy, Last, Mean, Quantiles, Sum
    from .grouped import Grouped
    from .ranked import Max, Min, Top
    from .results import Counts, Groups
    from .sketches import ApproxDistinct, ApproxQuantiles, HeavyHitters

# The aggregations' modules load on first use (PEP 562): a query that counts
# lines pays for neither the ranked ones nor the sketches (and their hashlib).
_WHERE = {
    **dict.fromkeys(
        ("Collect", "Count", "CountBy", "Distinct", "First", "GroupBy", "Last", "Mean"), "exact"
    ),
    "Quantiles": "exact",
    "Sum": "exact",
    "Grouped": "grouped",
    **dict.fromkeys(("Max", "Min", "Top"), "ranked"),
    **dict.fromkeys(("Counts", "Groups"), "results"),
    **dict.fromkeys(("ApproxDistinct", "ApproxQuantiles", "HeavyHitters"), "sketches"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Aggregate",
    "Reads",
    "Many",
    "EMPTY",
    "KINDS",
    "Count",
    "Sum",
    "Min",
    "Max",
    "Mean",
    "Distinct",
    "CountBy",
    "Counts",
    "Top",
    "Collect",
    "Quantiles",
    "First",
    "Last",
    "GroupBy",
    "Grouped",
    "Groups",
    "ApproxDistinct",
    "HeavyHitters",
    "ApproxQuantiles",
    "check",
    "reads_of",
    "run",
]
