"""Stream methods to look at queries and hand results on: show, preview, pandas, plots, progress.

Each method is a short delegate to a plain function in :mod:`streamql.display.show`,
:mod:`streamql.display.interop` or :mod:`streamql.engine.progress`. Looking never loses
items: a peek at a one-shot source is replayed by the next run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from .. import aggregates
from ..aggregates import Aggregate
from ..core._lazy import lazy
from ..core.plan import Step
from ..engine import progress as _progress
from .base import StreamBase

if TYPE_CHECKING:
    from ..display import interop, liveview
    from ..display import show as display
    from .stream import Stream
else:  # imported when a display method first runs
    display, interop, liveview = (
        lazy(f"streamql.display.{m}") for m in ("show", "interop", "liveview")
    )

__all__ = ["DisplayMethods"]

T = TypeVar("T")


class DisplayMethods(StreamBase[T]):
    """Methods of ``Stream`` for the REPL and notebooks, and for pandas and matplotlib."""

    __slots__ = ()

    # ----------------------------------------------------------------- looking
    def show(self, n: int = 10, *, file: TextIO | None = None) -> None:
        """Print the first ``n`` items as an aligned table, reading no further.

        Records show as columns, other items one per row. Items taken from a
        one-shot source are kept and replayed by the next run.

        >>> from streamql import Stream
        >>> Stream([{"host": "a.com", "bytes": 5}, {"host": "b", "bytes": 1234}]).show()
        host   bytes
        -----  -----
        a.com      5
        b       1234
        >>> Stream(iter(range(100))).show(2)
        item
        ----
           0
           1
        (first 2 items; more not read)
        """
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"show: n must be an int >= 0, got {n!r}")
        display.show(self, n, file=file)

    def _repr_html_(self) -> str:
        """Render the query and a bounded preview of its first rows (for notebooks)."""
        return display.preview_html(self)

    # ----------------------------------------------------------------- interop
    def to_dicts(self) -> list[dict[str, Any]]:
        """Run the query and return its items as records (dicts).

        Dicts stay as they are, named tuples such as windows give their fields,
        and any other item becomes ``{"value": item}``. Terminal; holds every item.

        >>> from streamql import Stream
        >>> Stream([{"a": 1}, 2]).to_dicts()
        [{'a': 1}, {'value': 2}]
        """
        return self._run(interop.to_dicts)

    def to_records(self, fields: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
        """Run the query and return its records as tuples, in ``fields`` order (for CSV, SQL).

        >>> from streamql import Stream
        >>> Stream([{"host": "a", "bytes": 5}, {"host": "b", "bytes": 7}]).to_records(["bytes"])
        [(5,), (7,)]
        """
        interop.to_records((), fields)  # checks the fields now
        return self._run(lambda it: interop.to_records(it, fields))

    def to_pandas(self) -> Any:
        """Run the query and return a pandas DataFrame, one row per item (see ``to_dicts``).

        Terminal; holds every item. Needs pandas: ``pip install streamql[pandas]``.

        >>> from streamql import Stream
        >>> df = Stream([{"host": "a", "bytes": 5}]).to_pandas()
        >>> df.columns.tolist()
        ['host', 'bytes']
        """
        interop.optional("pandas")  # fail before reading anything
        return self._run(interop.to_pandas)

    def to_arrow(self) -> Any:
        """Run the query and return a pyarrow Table, one row per item (see ``to_dicts``).

        Terminal; holds every item. Needs pyarrow: ``pip install streamql[arrow]``.

        >>> from streamql import Stream
        >>> Stream([{"host": "a", "bytes": 5}]).to_arrow().column_names
        ['host', 'bytes']
        """
        interop.optional("pyarrow")  # fail before reading anything
        return self._run(interop.to_arrow)

    def to_polars(self) -> Any:
        """Run the query and return a polars DataFrame, one row per item (see ``to_dicts``).

        Terminal; holds every item. Needs polars: ``pip install streamql[polars]``.

        >>> from streamql import Stream
        >>> Stream([{"host": "a", "bytes": 5}]).to_polars().columns
        ['host', 'bytes']
        """
        interop.optional("polars")  # fail before reading anything
        return self._run(interop.to_polars)

    @classmethod
    def from_pandas(cls, df: Any, *, index: bool = False) -> Stream[dict[str, Any]]:
        """Start from the rows of a pandas DataFrame, as dicts of plain values.

        Re-runnable: each run reads the DataFrame afresh. With ``index=True``
        each record also holds the row's index.

        >>> import pandas as pd
        >>> from streamql import Stream
        >>> Stream.from_pandas(pd.DataFrame({"n": [1, 2]})).list()
        [{'n': 1}, {'n': 2}]
        """
        if not all(hasattr(df, a) for a in ("shape", "iloc", "columns")):
            raise TypeError(f"from_pandas: expected a pandas DataFrame, got {type(df).__name__}")
        kwargs = {"index": True} if index else {}
        shown = interop.describe_frame(df) + (", index=True" if index else "")
        step = Step(
            "from_pandas",
            interop.dataframe_rows,
            (df,),
            tuple(kwargs.items()),
            source=True,
            shown=shown,
        )
        return cls._of((step,))

    def plot(
        self,
        by: str | int | None = None,
        *,
        top: int = 20,
        ax: Any = None,
        title: str | None = None,
    ) -> Any:
        """Run the query and plot it: counts per ``by`` value as bars, or its items as a line.

        With ``by``, plots ``count_by(by)`` (its ``top`` values); without, the
        items themselves: windows as a time series, ``(x, y)`` pairs or numbers
        as a line. Returns the matplotlib Axes. Needs matplotlib:
        ``pip install streamql[plot]``.

        >>> from streamql import Stream
        >>> Stream([{"status": 200}, {"status": 404}]).plot(by="status")
        <Axes: >
        """
        interop.optional("matplotlib.pyplot")  # fail before reading anything
        if by is not None:
            counts = self._answer(aggregates.CountBy(by))
            return interop.plot(counts, top=top, ax=ax, title=title)
        return interop.plot(self._answer(aggregates.Collect()), top=top, ax=ax, title=title)

    # ---------------------------------------------------------------- progress
    def live_view(
        self,
        agg: Aggregate,
        *,
        every: float = 1.0,
        file: TextIO | None = None,
        chart: bool = False,
    ) -> liveview.LiveView:
        """Run the query in the background and show ``agg`` of its items, redrawn every ``every`` s.

        In a notebook the cell's output updates in place, as a table or, with
        ``chart=True``, a chart (matplotlib: bars for counts); in a terminal the
        table is redrawn where it was printed (or printed again to ``file``).
        The returned view has ``.value`` (the answer so far) and ``.stop()``,
        which ends a live query within one poll of its source. For a live
        source in a REPL: ``view = Stream.follow(p).parse_apache().live_view(
        CountBy("status"))``, later ``view.stop()``.

        >>> import io
        >>> from streamql import Stream
        >>> from streamql.aggregates import Sum
        >>> view = Stream([1, 2, 3]).live_view(Sum(), every=0.05, file=io.StringIO())
        >>> view.wait(5), view.stop()
        (True, 6)
        """
        return liveview.LiveView(self, agg, every=every, file=file, chart=chart)

    def progress(self, desc: str | None = None, *, file: TextIO | None = None) -> Stream[T]:
        """Show a progress bar when the query runs: bytes read across its files, or a rate.

        A query that opens files (``Stream.lines``, ``.open()``) shows bytes
        read of the total size on disk (compressed files count as stored);
        others show items and their rate. Off unless asked for. Needs tqdm
        (``pip install streamql[progress]``), checked when the query starts.

        >>> from streamql import Stream
        >>> Stream.lines("access-log*").parse_apache().progress("reading")
        Stream.lines('access-log*').parse_apache().progress('reading')
        """
        if desc is not None and not isinstance(desc, str):
            raise TypeError(f"progress: desc must be a str, got {desc!r}")
        spec = _progress.Progress(desc, file)
        return self._of(self._steps, dataclasses.replace(self._settings, progress=spec))
