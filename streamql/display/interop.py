"""Hand query results to pandas and matplotlib, and read a pandas DataFrame as a stream.

pandas and matplotlib are optional extras (``pip install streamql[pandas]``,
``pip install streamql[plot]``): they are imported inside the functions that
need them, so importing streamql never pays for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from numbers import Number
from typing import Any

from ..core._lazy import optional
from ..live.windows import Window
from ..ops.records import as_dict

__all__ = [
    "to_dicts",
    "to_records",
    "to_pandas",
    "to_arrow",
    "to_polars",
    "dataframe_rows",
    "plot",
    "optional",
]


def to_dicts(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Collect items as a list of records (see :func:`~streamql.ops.records.as_dict`).

    Terminal; holds every item.

    >>> to_dicts([{"a": 1}, 2])
    [{'a': 1}, {'value': 2}]
    """
    return [as_dict(item) for item in items]


def to_records(items: Iterable[Any], fields: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """Collect items as tuples of their fields' values, in ``fields`` order.

    Without ``fields``, the first record's fields name the columns. A record
    missing a field gives None there (as a CSV writer or a database insert
    expects). Terminal; holds every item.

    >>> to_records([{"host": "a", "bytes": 5}, {"host": "b"}])
    [('a', 5), ('b', None)]
    >>> to_records([{"host": "a", "bytes": 5}], fields=["bytes"])
    [(5,)]
    """
    rows = [as_dict(item) for item in items]
    if fields is None:
        fields = list(rows[0]) if rows else []
    elif isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
        raise TypeError(f"to_records: fields must be a list of names, got {fields!r}")
    return [tuple(row.get(f) for f in fields) for row in rows]


def to_pandas(items: Iterable[Any]) -> Any:
    """Collect items into a pandas DataFrame, one row per item, record fields as columns.

    Terminal; holds every item. Needs pandas (``pip install streamql[pandas]``).

    >>> df = to_pandas([{"host": "a", "bytes": 5}, {"host": "b", "bytes": 7}])
    >>> int(df["bytes"].sum())
    12
    """
    pd = optional("pandas")
    return pd.DataFrame.from_records(to_dicts(items))


def to_arrow(items: Iterable[Any]) -> Any:
    """Collect items into a pyarrow Table, one row per item, record fields as columns.

    Terminal; holds every item. Needs pyarrow (``pip install streamql[arrow]``).

    >>> table = to_arrow([{"host": "a", "bytes": 5}, {"host": "b", "bytes": 7}])
    >>> table.column_names, table.num_rows
    (['host', 'bytes'], 2)
    """
    pa = optional("pyarrow")
    return pa.Table.from_pylist(to_dicts(items))


def to_polars(items: Iterable[Any]) -> Any:
    """Collect items into a polars DataFrame, one row per item, record fields as columns.

    Terminal; holds every item. Needs polars (``pip install streamql[polars]``).

    >>> df = to_polars([{"host": "a", "bytes": 5}, {"host": "b", "bytes": 7}])
    >>> df.columns, df["bytes"].sum()
    (['host', 'bytes'], 12)
    """
    pl = optional("polars")
    return pl.from_dicts(to_dicts(items), infer_schema_length=None)


def describe_frame(df: Any) -> str:
    """Describe a DataFrame in a few words, for a query's repr."""
    rows, cols = df.shape
    return f"<DataFrame: {rows:,} rows, {cols} columns>"


def dataframe_rows(df: Any, *, index: bool = False, chunk: int = 4096) -> Iterator[dict[str, Any]]:
    """Yield the rows of a pandas DataFrame as dicts of plain Python values.

    Lazy; converts ``chunk`` rows at a time. With ``index=True`` each record
    also holds the row's index, under the index's name (or ``index``).

    >>> import pandas as pd
    >>> list(dataframe_rows(pd.DataFrame({"n": [1, 2]})))
    [{'n': 1}, {'n': 2}]
    """

    def rows() -> Iterator[dict[str, Any]]:
        total = df.shape[0]
        for start in range(0, total, chunk):
            part = df.iloc[start : start + chunk]
            if index:
                name = part.index.name or "index"
                part = part.reset_index(names=name)
            yield from part.to_dict("records")

    return rows()


def _number(value: Any) -> Any:
    if isinstance(value, Number) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple, set, dict)):
        return len(value)  # a window of items: how many
    raise TypeError(f"plot: expected numbers to plot, got {value!r}")


def plot(
    data: Mapping[Any, Any] | Iterable[Any],
    *,
    top: int = 20,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Plot a result in its usual shape, on ``ax`` or a new figure; return the Axes.

    - a dict (``count_by``, ``group_by(agg=...)``): horizontal bars of its
      first ``top`` entries, the first at the top;
    - windows (``window(...)`` items): their values over time, a window of
      items plotted as its length;
    - ``(x, y)`` pairs, or plain numbers: a line.

    Needs matplotlib (``pip install streamql[plot]``).

    >>> ax = plot({"/": 30, "/ply/": 12}, title="top pages")
    """
    plt = optional("matplotlib.pyplot")
    if ax is None:
        _, ax = plt.subplots()
    if isinstance(data, Mapping):
        pairs = list(data.items())[:top]
        labels = [str(k) for k, _ in reversed(pairs)]
        ax.barh(labels, [_number(v) for _, v in reversed(pairs)])
    else:
        items = list(data)
        if items and all(isinstance(i, Window) for i in items):
            xs: list[Any] = [w.start for w in items]
            ys = [_number(w.value) for w in items]
        elif items and all(isinstance(i, tuple) and len(i) == 2 for i in items):
            xs, ys = [x for x, _ in items], [_number(y) for _, y in items]
        else:
            xs, ys = list(range(len(items))), [_number(i) for i in items]
        ax.plot(xs, ys, marker="o" if len(items) < 50 else None)
        if xs and isinstance(xs[0], date):  # a datetime is a date too
            ax.figure.autofmt_xdate()
    if title is not None:
        ax.set_title(title)
    return ax
