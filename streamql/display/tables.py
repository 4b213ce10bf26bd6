"""Render results and records as tables: aligned text for the REPL, HTML for notebooks.

A result may carry its column names as a ``columns`` attribute (a tuple of
str): ``count_by("status")`` is a plain dict to code, headed
``status  count`` here. Without one, a dict is headed ``value  count``,
records by their keys, namedtuples (windows) by their fields and other items
``item``.

Long tables are cut like pandas cuts them: past :data:`MAX_ROWS` rows only
the first and last :data:`EDGE_ROWS` are shown, with a note of the total.
In HTML, text is left-aligned and numbers right-aligned (notebooks
right-align every cell otherwise), dates never wrap, and a cell cut to
:data:`CELL_WIDTH` characters keeps its full text in a tooltip.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from numbers import Number
from typing import Any

__all__ = ["CELL_WIDTH", "EDGE_ROWS", "MAX_ROWS", "Table", "html_table", "text_table"]

CELL_WIDTH = 60
"""Cells longer than this many characters are cut, with an ellipsis."""
MAX_ROWS = 60
"""A :class:`Table` of more rows than this shows only its first and last rows."""
EDGE_ROWS = 5
"""How many rows a cut table shows at each end."""
TITLE_WIDTH = 2000
"""The tooltip of a cut HTML cell holds at most this many characters."""


def result_columns(data: object) -> tuple[str, ...] | None:
    """The column names a result carries (its ``columns`` attribute), if it has any.

    >>> class Counts(dict):
    ...     columns = ("status", "count")
    >>> result_columns(Counts()), result_columns({})
    (('status', 'count'), None)
    """
    columns = getattr(data, "columns", None)
    if isinstance(columns, (tuple, list)) and columns and all(isinstance(c, str) for c in columns):
        return tuple(columns)
    return None


def _columns(rows: Iterable[Any]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        if isinstance(row, Mapping):
            columns.update((str(k), None) for k in row)
        elif isinstance(row, tuple) and hasattr(row, "_fields"):
            columns.update((f, None) for f in row._fields)
        else:
            columns["item"] = None
    return list(columns)


def _cell(row: Any, column: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(column, "")
    if isinstance(row, tuple) and hasattr(row, "_fields"):
        return getattr(row, column, "")
    return row if column == "item" else ""


def _mapping_rows(data: Mapping[Any, Any], columns: Sequence[str]) -> list[dict[str, Any]]:
    """A dict's items as rows; with more than two columns, tuple keys spread over the first ones."""
    fields = _row_fields(data, columns)
    *keys, value = columns[: len(columns) - len(fields) + 1] if fields else columns
    if fields:  # a group_by's rows: the key's columns, then a column per field of the row
        return [{**_key_cells(keys, k), **v._asdict()} for k, v in data.items()]
    if len(keys) == 1:
        return [{keys[0]: k, value: v} for k, v in data.items()]
    rows = []
    for k, v in data.items():
        if not isinstance(k, tuple) or len(k) != len(keys):
            raise ValueError(
                f"Table: {len(columns)} column names need keys that are {len(keys)}-tuples, "
                f"got the key {k!r}"
            )
        rows.append({**dict(zip(keys, k, strict=True)), value: v})
    return rows


def _row_fields(data: Mapping[Any, Any], columns: Sequence[str]) -> tuple[str, ...]:
    """The fields of a dict's namedtuple values, if the column names end with them."""
    first = next(iter(data.values()), None)
    fields = getattr(first, "_fields", ()) if isinstance(first, tuple) else ()
    return (
        fields
        if 0 < len(fields) < len(columns) and tuple(columns[-len(fields) :]) == fields
        else ()
    )


def _key_cells(keys: Sequence[str], key: Any) -> dict[str, Any]:
    if len(keys) == 1:
        return {keys[0]: key}
    return dict(zip(keys, key, strict=True))


def table_rows(
    data: Mapping[Any, Any] | Iterable[Any], columns: Sequence[str] | None = None
) -> tuple[list[str], list[Any]]:
    """The column names and rows of a result: given names, then the result's own, then inferred.

    >>> table_rows({404: 2})
    (['value', 'count'], [{'value': 404, 'count': 2}])
    >>> table_rows({("a", 404): 2}, ("host", "status", "count"))[1]
    [{'host': 'a', 'status': 404, 'count': 2}]
    """
    names = list(columns) if columns is not None else result_columns(data)
    if isinstance(data, Mapping):
        names = list(names) if names is not None else ["value", "count"]
        if len(names) < 2:
            raise ValueError(f"Table: a dict takes two column names or more, got {names!r}")
        return names, _mapping_rows(data, names)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"Table: expected a dict or an iterable of items, got {data!r}")
    rows = list(data)
    return (list(names) if names is not None else _columns(rows)), rows


def _text(value: Any, width: int = CELL_WIDTH) -> str:
    text = _full(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _full(value: Any) -> str:
    if value is None:  # no value (a log's "-"): blank, as a missing field is
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable():
        text = repr(text)[1:-1]  # a line's "\n", a tab or junk bytes stay visible
    return text


def _numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, Number) and not isinstance(v, bool) for v in values)


def _cut(rows: list[Any], max_rows: int | None) -> tuple[list[Any], list[Any]]:
    """The rows shown before and after the ellipsis row (the second list is empty when uncut)."""
    if max_rows is None or len(rows) <= max_rows:
        return rows, []
    edge = min(EDGE_ROWS, max_rows // 2) or 1
    return rows[:edge], rows[-edge:]


def _note(rows: Sequence[Any], head: Sequence[Any], tail: Sequence[Any]) -> str:
    return f"… {len(rows):,} rows; the first {len(head)} and the last {len(tail)} shown"


def text_table(
    rows: Mapping[Any, Any] | Iterable[Any],
    columns: Sequence[str] | None = None,
    *,
    max_rows: int | None = None,
) -> str:
    """Render a result or items as an aligned text table, records as columns.

    Numbers are right-aligned; long cells are cut to :data:`CELL_WIDTH`
    characters; past ``max_rows`` rows only the first and last few are shown.

    >>> print(text_table([{"host": "a.com", "bytes": 5}, {"host": "b", "bytes": 1234}]))
    host   bytes
    -----  -----
    a.com      5
    b       1234
    """
    cols, all_rows = table_rows(rows, columns)
    head, tail = _cut(all_rows, max_rows)
    shown = head + tail
    grid = [[_cell(row, c) for c in cols] for row in shown]
    texts = [[_text(v) for v in line] for line in grid]
    if tail:
        texts.insert(len(head), ["…"] * len(cols))
    widths = [max([len(c)] + [len(t[i]) for t in texts]) for i, c in enumerate(cols)]
    right = [_numeric(line[i] for line in grid) and bool(grid) for i in range(len(cols))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(t) for t in texts]
    if tail:
        out.append(f"({_note(all_rows, head, tail)[2:]})")
    return "\n".join(out)


def _style(value: Any, right: bool) -> str:
    styles = ["text-align: right" if right else "text-align: left"]
    if right or isinstance(value, (date, time)):
        styles.append("white-space: nowrap")  # a number or a date on one line
    return "; ".join(styles)


def _td(value: Any, right: bool) -> str:
    full = _full(value)
    shown = _text(value)
    title = ""
    if shown != full:
        title = f' title="{html.escape(full[:TITLE_WIDTH], quote=True)}"'
    return f'<td style="{_style(value, right)}"{title}>{html.escape(shown)}</td>'


def html_table(
    rows: Mapping[Any, Any] | Iterable[Any],
    columns: Sequence[str] | None = None,
    *,
    max_rows: int | None = None,
) -> str:
    """Render a result or items as an HTML table (every cell escaped), records as columns.

    >>> print(html_table([{"bytes": 5}]))
    <table class="streamql">
    <thead><tr><th style="text-align: right">bytes</th></tr></thead>
    <tbody>
    <tr><td style="text-align: right; white-space: nowrap">5</td></tr>
    </tbody>
    </table>
    >>> '<td style="text-align: left">&lt;a&gt;</td>' in html_table(["<a>"])
    True
    """
    cols, all_rows = table_rows(rows, columns)
    head_rows, tail = _cut(all_rows, max_rows)
    grid = [[_cell(row, c) for c in cols] for row in head_rows + tail]
    right = [_numeric(line[i] for line in grid) and bool(grid) for i in range(len(cols))]
    align = ["right" if r else "left" for r in right]
    pairs = zip(cols, align, strict=True)
    head = "".join(f'<th style="text-align: {a}">{html.escape(c)}</th>' for c, a in pairs)
    body = []
    for line in grid:
        cells = "".join(_td(v, r) for v, r in zip(line, right, strict=True))
        body.append(f"<tr>{cells}</tr>")
    if tail:
        gap = "".join(f'<td style="text-align: {a}">…</td>' for a in align)
        body.insert(len(head_rows), f"<tr>{gap}</tr>")
    top = ['<table class="streamql">', f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    end = ["</tbody>", "</table>"]
    if tail:
        end.append(f"<p><small>{html.escape(_note(all_rows, head_rows, tail))}</small></p>")
    return "\n".join([*top, *body, *end])


class Table:
    """Wrap a result (``count_by``, ``group_by``, ``top``, windows, records) to show as a table.

    Terminals return plain values; wrap one in ``Table`` for an aligned text
    table at the REPL and an HTML table in a notebook. A dict becomes two
    columns (its keys and values; more when its keys are tuples), a list one
    row per item. The column names are ``columns`` if given, else the
    result's own ``columns`` attribute, else inferred. Past :data:`MAX_ROWS`
    rows only the first and last rows are shown.

    >>> from streamql import Stream
    >>> hits = Stream([{"s": 404}, {"s": 200}, {"s": 404}]).count_by("s")
    >>> Table(hits, columns=("status", "hits"))
    status  hits
    ------  ----
       404     2
       200     1
    >>> Table(hits).rows
    [{'s': 404, 'count': 2}, {'s': 200, 'count': 1}]
    """

    __slots__ = ("columns", "rows")

    def __init__(
        self, data: Mapping[Any, Any] | Iterable[Any], columns: Sequence[str] | None = None
    ) -> None:
        names, rows = table_rows(data, columns)
        self.columns: list[str] = names
        self.rows: list[Any] = rows

    def __str__(self) -> str:
        return text_table(self.rows, self.columns, max_rows=MAX_ROWS)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self.rows, self.columns, max_rows=MAX_ROWS)
