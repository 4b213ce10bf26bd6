"""Tables of results: headers a result carries, HTML alignment and cut cells, long tables cut."""

from __future__ import annotations

from datetime import date, datetime, timezone
from html.parser import HTMLParser
from typing import Any

import pytest

from streamql import Stream, Table
from streamql.display.tables import MAX_ROWS, html_table, text_table


class Cells(HTMLParser):
    """Each <th>/<td> as (tag, attributes, text); the note in <small>."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, dict[str, str | None], str]] = []
        self.note = ""
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        if tag in ("th", "td"):
            self.cells.append((tag, dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""

    def handle_data(self, data: str) -> None:
        if self._tag in ("th", "td") and self.cells:
            tag, attrs, text = self.cells[-1]
            self.cells[-1] = (tag, attrs, text + data)
        elif self._tag == "small":
            self.note += data


def cells(markup: str) -> Cells:
    parser = Cells()
    parser.feed(markup)
    return parser


class Counts(dict[Any, int]):
    """What count_by and friends return: a plain dict that knows its column names."""

    columns = ("status", "count")


class Rows(list[Any]):
    columns = ("request", "bytes")


def test_a_result_carrying_its_columns_is_headed_by_them() -> None:
    counts = Counts({404: 2, 200: 1})
    table = Table(counts)
    assert table.columns == ["status", "count"]
    assert str(table).splitlines()[0].split() == ["status", "count"]
    assert [c[2] for c in cells(table._repr_html_()).cells if c[0] == "th"] == ["status", "count"]
    assert text_table(counts).splitlines()[0].split() == ["status", "count"]
    assert Table(counts, columns=("code", "hits")).columns == ["code", "hits"]  # given wins
    assert Table({404: 2}).columns == ["value", "count"]  # a plain dict: as before
    # A list result: its columns pick and order the fields shown.
    top = Rows([{"bytes": 9, "request": "/b", "host": "h"}])
    assert Table(top).columns == ["request", "bytes"]
    assert str(Table(top)).splitlines()[2].split() == ["/b", "9"]


def test_tuple_keys_spread_over_several_columns() -> None:
    class ByHostStatus(dict[Any, int]):
        columns = ("host", "status", "count")

    table = Table(ByHostStatus({("a", 404): 2, ("b", 200): 1}))
    assert table.rows == [
        {"host": "a", "status": 404, "count": 2},
        {"host": "b", "status": 200, "count": 1},
    ]
    with pytest.raises(ValueError, match="need keys that are 2-tuples, got the key 404"):
        Table({404: 1}, columns=("host", "status", "count"))


def test_windows_show_their_field_names() -> None:
    rows = [{"t": t} for t in (0, 5, 12)]
    table = Table(Stream(rows).window(10, by="t", agg=len).list())
    assert table.columns == ["start", "end", "value"]
    assert str(table).splitlines()[2:] == ["    0   10      2", "   10   20      1"]


def test_html_aligns_text_left_numbers_right_and_keeps_dates_on_one_line() -> None:
    when = datetime(2008, 2, 24, 0, 8, 59, tzinfo=timezone.utc)
    agent = "Mozilla/5.0 (X11; Linux x86_64) " * 5
    markup = html_table(
        [{"host": "a.com", "bytes": 5, "when": when, "day": date(2008, 2, 24), "agent": agent}]
    )
    got = {text: attrs for tag, attrs, text in cells(markup).cells if tag == "td"}
    assert "text-align: left" in str(got["a.com"]["style"])
    assert "text-align: right" in str(got["5"]["style"])
    assert "white-space: nowrap" in str(got[str(when)]["style"])
    assert "white-space: nowrap" in str(got["2008-02-24"]["style"])
    (cut,) = [text for text in got if text.startswith("Mozilla")]
    assert cut.endswith("…") and len(cut) == 60
    assert got[cut]["title"] == agent  # the whole value on hover
    assert "title" not in got["a.com"]
    heads = [attrs["style"] for tag, attrs, _ in cells(markup).cells if tag == "th"]
    assert heads[:2] == ["text-align: left", "text-align: right"]


def test_a_long_table_is_cut_like_pandas_with_a_note() -> None:
    hosts = {f"host{i}": i for i in range(1354)}
    table = Table(hosts, columns=("host", "requests"))
    assert len(table.rows) == 1354  # the data stays whole; only the display is cut
    parsed = cells(table._repr_html_())
    shown = [text for tag, _, text in parsed.cells if tag == "td"][::2]
    assert shown == [f"host{i}" for i in range(5)] + ["…"] + [f"host{i}" for i in range(1349, 1354)]
    assert parsed.note == "… 1,354 rows; the first 5 and the last 5 shown"
    text = str(table).splitlines()
    assert len(text) == 2 + 11 + 1 and text[7].split() == ["…", "…"]
    assert text[-1] == "(1,354 rows; the first 5 and the last 5 shown)"
    small = Table({f"h{i}": i for i in range(MAX_ROWS)})
    assert "…" not in str(small) and "<small>" not in small._repr_html_()


def test_the_404s_per_day_plot_has_readable_date_labels() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from streamql.display.interop import plot

    per_day = [(date(2008, 2, d), d) for d in range(1, 29)]
    ax = plot(per_day, title="404s per day")
    try:
        labels = ax.get_xticklabels()
        assert labels and all(label.get_rotation() > 0 for label in labels)  # slanted, apart
    finally:
        plt.close(ax.figure)
