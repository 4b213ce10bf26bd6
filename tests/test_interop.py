"""to_dicts, pandas in and out, plots (matplotlib's Agg backend), missing extras."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from streamql import Stream, Window
from streamql.display.interop import plot

ROWS = [
    {"host": "a", "status": 200, "bytes": 10},
    {"host": "b", "status": 404, "bytes": 0},
    {"host": "a", "status": 404, "bytes": 5},
]


def test_to_dicts_turns_items_into_records() -> None:
    windows = Stream([{"t": 0}, {"t": 12}]).window(10, by="t", agg=len)
    assert windows.to_dicts() == [
        {"start": 0, "end": 10, "value": 1},
        {"start": 10, "end": 20, "value": 1},
    ]
    assert Stream([1]).to_dicts() == [{"value": 1}]


def test_to_pandas_and_back_is_re_runnable() -> None:
    pd = pytest.importorskip("pandas")
    df = Stream(ROWS).where(status=404).to_pandas()
    assert list(df.columns) == ["host", "status", "bytes"]
    assert df["bytes"].sum() == 5
    s = Stream.from_pandas(pd.DataFrame(ROWS))
    assert repr(s) == "Stream.from_pandas(<DataFrame: 3 rows, 3 columns>)"
    assert s.list() == ROWS and s.where(host="a").sum("bytes") == 15  # read afresh
    assert type(s.first()["status"]) is int  # plain Python values, not numpy's
    indexed = Stream.from_pandas(pd.DataFrame({"n": [1]}, index=["x"]), index=True).list()
    assert indexed == [{"index": "x", "n": 1}]
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        Stream.from_pandas(ROWS)


def test_to_arrow_and_to_polars_beside_to_pandas() -> None:
    pytest.importorskip("pyarrow")
    records = [{"host": "a", "bytes": 5, "when": datetime(2008, 2, 24, tzinfo=timezone.utc)}]
    records.append({"host": "b", "bytes": None, "when": datetime(2008, 2, 25, tzinfo=timezone.utc)})
    table = Stream(records).to_arrow()
    assert table.column_names == ["host", "bytes", "when"]
    assert table.to_pylist() == records
    windows = Stream([Window(0, 10, 3)]).to_arrow()
    assert windows.to_pylist() == [{"start": 0, "end": 10, "value": 3}]
    pytest.importorskip("polars")
    df = Stream(records).to_polars()
    assert df.columns == ["host", "bytes", "when"] and df["bytes"].to_list() == [5, None]


def test_from_pandas_reads_in_chunks() -> None:
    pd = pytest.importorskip("pandas")
    from streamql.display import interop

    df = pd.DataFrame({"n": range(10)})
    assert list(interop.dataframe_rows(df, index=False, chunk=3)) == [{"n": i} for i in range(10)]


def test_missing_extras_name_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install streamql\[pandas\]"):
        Stream(ROWS).to_pandas()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install streamql\[plot\]"):
        Stream(ROWS).plot(by="status")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(
        ImportError, match=r"pyarrow is not installed: pip install streamql\[arrow\]"
    ):
        Stream(ROWS).to_arrow()
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(
        ImportError, match=r"polars is not installed: pip install streamql\[polars\]"
    ):
        Stream(ROWS).to_polars()
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setitem(sys.modules, "tqdm.std", None)  # the bar outside a notebook
    s = Stream(ROWS).progress()  # building is fine; the run says what is missing
    with pytest.raises(ImportError, match=r"pip install streamql\[progress\]"):
        s.count()


@pytest.fixture
def plt() -> Any:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_counts_as_bars(plt: Any) -> None:
    ax = Stream(ROWS).plot(by="status", title="status mix")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["200", "404"]  # most common at the top
    assert sorted(p.get_width() for p in ax.patches) == [1, 2]
    assert ax.get_title() == "status mix"


def test_plot_windows_as_a_time_series(plt: Any) -> None:
    t0 = datetime(2008, 3, 1, tzinfo=timezone.utc)
    rows = [{"datetime": t0.replace(hour=h)} for h in (0, 0, 1, 3)]
    ax = Stream(rows).window(3600, agg=len).plot()
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [2, 1, 1]
    ax2 = plot([Window(0, 10, ["a", "b"])], ax=plt.subplots()[1])
    assert list(ax2.get_lines()[0].get_ydata()) == [2]  # a window of items: its length
    with pytest.raises(TypeError, match="expected numbers"):
        plot(["x"])


def test_to_records_gives_tuples_in_field_order() -> None:
    rows = Stream([{"host": "a", "bytes": 5}, {"bytes": 7, "host": "b"}, {"host": "c"}])
    assert rows.to_records() == [("a", 5), ("b", 7), ("c", None)]
    assert rows.to_records(["bytes", "host"]) == [(5, "a"), (7, "b"), (None, "c")]
    assert Stream([]).to_records() == []
    with pytest.raises(TypeError, match="fields must be a list of names"):
        rows.to_records("host")  # type: ignore[arg-type]
