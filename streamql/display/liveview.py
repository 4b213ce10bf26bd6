"""Live views: an aggregate over a running stream, redrawn in place, with a stop handle.

``Stream.live_view(agg)`` runs the query in a background thread, folding each
item into an aggregation (:mod:`streamql.aggregates`, which can be read
mid-stream), and redraws the answer every ``every`` seconds: in a Jupyter cell
through an updating display handle, in a terminal by rewriting the lines it
printed. ``stop()`` ends the query within one poll of its source (the view
adds ``until(event)`` to it), joins the thread and draws the final answer.
Errors of the query are raised by ``stop()``, not lost in the thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ..aggregates import Aggregate
from .show import Table

if TYPE_CHECKING:
    from ..api.base import StreamBase

__all__ = ["LiveView"]

_JOIN_SECONDS = 30.0


def _as_table(value: Any) -> Any:
    return Table(value) if isinstance(value, (dict, list)) else value


class LiveView:
    """A running aggregate over a stream, shown and updated until stopped.

    >>> import io
    >>> from streamql import Stream
    >>> from streamql.aggregates import CountBy
    >>> screen = io.StringIO()
    >>> rows = Stream([{"s": 200}, {"s": 404}, {"s": 404}])
    >>> view = rows.live_view(CountBy("s"), every=0.05, file=screen)
    >>> view.wait(30), view.value
    (True, {404: 2, 200: 1})
    >>> for line in screen.getvalue().splitlines()[-4:]:  # the last drawing
    ...     print(line)
      s  count
    ---  -----
    404      2
    200      1
    """

    def __init__(
        self,
        stream: StreamBase[Any],
        agg: Aggregate,
        *,
        every: float = 1.0,
        draw: Callable[[Any], None] | None = None,
        file: TextIO | None = None,
        chart: bool = False,
    ) -> None:
        if not isinstance(agg, Aggregate):
            raise TypeError(
                f"live_view: agg must be an aggregation such as CountBy('status'), got {agg!r}"
            )
        if not isinstance(every, (int, float)) or every <= 0:
            raise ValueError(f"live_view: every must be a number of seconds > 0, got {every!r}")
        self.agg = agg
        self.every = float(every)
        self._lock = threading.Lock()
        self._state = agg.start()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._drawn = threading.Condition()
        self._draws = 0
        self.chart = chart
        self._draw = draw or self._default_drawer(file)
        self._query = stream.until(self._stop)  # type: ignore[attr-defined]
        self._worker = threading.Thread(target=self._fold, name="streamql-live-view", daemon=True)
        self._painter = threading.Thread(target=self._paint, name="streamql-live-draw", daemon=True)
        self._worker.start()
        self._painter.start()

    # ------------------------------------------------------------ reading
    @property
    def value(self) -> Any:
        """The aggregate's answer so far."""
        with self._lock:
            return self.agg.finish(self._state)

    @property
    def running(self) -> bool:
        """Whether the query is still running."""
        return not self._done.is_set()

    @property
    def draws(self) -> int:
        """How many times the answer has been drawn so far (the last drawing included)."""
        with self._drawn:
            return self._draws

    def wait_drawn(self, count: int, timeout: float | None = None) -> bool:
        """Wait until the answer has been drawn ``count`` times; say whether it has.

        A redraw shows what was folded before it, so waiting for one more
        drawing than now shows every item folded so far.
        """
        with self._drawn:
            return self._drawn.wait_for(lambda: self._draws >= count, timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the query to end by itself; say whether it has ended."""
        ended = self._done.wait(timeout)
        if ended:
            self._finish()
        return ended

    def stop(self, timeout: float = 5.0) -> Any:
        """End the query, join its threads, draw and return the final answer.

        Raises the query's own error, if it failed.
        """
        self._stop.set()
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"live_view: the query did not end within {timeout} s of stop()\n\n"
                "Its source blocks without polling for a stop; give it a timeout."
            )
        self._finish()
        return self.value

    def _finish(self) -> None:
        # The query has ended: what is left is one drawing and the threads' exit.
        # The bounds only stop a drawing callback that hangs from hanging us.
        self._painter.join(_JOIN_SECONDS)
        self._worker.join(_JOIN_SECONDS)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # ------------------------------------------------------------ threads
    def _fold(self) -> None:
        add = self.agg.add
        try:
            for item in self._query:
                with self._lock:
                    self._state = add(self._state, item)
        except BaseException as exc:  # handed to stop()/wait() in the caller's thread
            self._error = exc
        finally:
            self._done.set()

    def _paint(self) -> None:
        while not self._done.wait(self.every):
            self._paint_once()
        self._paint_once()

    def _paint_once(self) -> None:
        self._draw(self.value)
        with self._drawn:
            self._draws += 1
            self._drawn.notify_all()

    # ------------------------------------------------------------ drawing
    def _default_drawer(self, file: TextIO | None) -> Callable[[Any], None]:
        handle = None
        shape = self._as_chart if self.chart else _as_table
        if file is None and "ipykernel" in sys.modules:
            from IPython.display import display

            first = shape(self.agg.finish(self._state))
            handle = display(first, display_id=True)  # type: ignore[no-untyped-call]
        if handle is not None:
            return lambda value: handle.update(shape(value))
        lines_drawn = 0

        def redraw(value: Any) -> None:
            nonlocal lines_drawn
            out = file or sys.stdout
            text = repr(_as_table(value))
            if lines_drawn and out.isatty():
                out.write(f"\x1b[{lines_drawn}F\x1b[J")  # back up and clear what we drew
            out.write(text + "\n")
            out.flush()
            lines_drawn = text.count("\n") + 1

        return redraw

    def _as_chart(self, value: Any) -> Any:
        """Draw the answer as a chart (bars for counts, a line for windows) on a new figure."""
        import matplotlib.pyplot as plt

        from .interop import plot

        ax = plot(value, title=repr(self.agg)) if value else None
        if ax is None:
            return _as_table(value)
        figure = ax.figure
        plt.close(figure)  # shown through the display handle, not by pyplot
        return figure

    def __repr__(self) -> str:
        state = "running" if self.running else "ended"
        return f"LiveView({self.agg!r}, {state}):\n{_as_table(self.value)!r}"

    def _repr_html_(self) -> str:
        table = _as_table(self.value)
        body = table._repr_html_() if hasattr(table, "_repr_html_") else repr(table)
        return body
