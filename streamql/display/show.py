"""Show queries and results as tables: ``show()``, the notebook preview, :class:`Table`.

Looking at a Stream must not change what it later yields. Peeking (``show``,
the notebook preview) pulls a few items through the query and closes the run;
a source that reads afresh on every run (files, lists) is simply read again
later. A one-shot source (a generator, an iterator, a file object, a queue) is
different: what a peek took from it is kept and replayed first by the next real
run, which then carries on from the same source, so nothing is lost.

The notebook preview (``_repr_html_``) is bounded twice: at most
:data:`PREVIEW_ROWS` rows and :data:`PREVIEW_SECONDS` seconds. It runs in a
worker thread, because a source can block inside ``next()`` where no deadline
checked between items can reach it (a quiet socket, ``queue.get``). Live
sources that poll the run's stop checks (``follow``, ``logfile``) end on time;
a source blocked for good leaves the daemon worker waiting, and an item it
finally gets is still kept for replay, never dropped. The preview is not run
for queries with side effects (``tap``, ``trace``, ``apply``...) or sources
that listen on the network: it then says why, and ``show()`` runs it on demand.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..api.base import StreamBase, pending_replay, set_replay
from ..core.context import RunContext
from ..core.plan import Step
from ..engine.local import RunReport, running
from ..ops import files
from .tables import Table, html_table, text_table

__all__ = [
    "PREVIEW_ROWS",
    "PREVIEW_SECONDS",
    "Peek",
    "Table",
    "html_table",
    "peek",
    "preview_html",
    "text_table",
]

PREVIEW_ROWS = 10
"""How many rows the notebook preview of a Stream shows at most."""
PREVIEW_SECONDS = 1.0
"""How long the notebook preview of a Stream may run, in seconds."""

_TICK = 0.01  # how often a peek with a stop Event looks at it, in seconds


# ----------------------------------------------------------------- replaying
class Replay:
    """A one-shot source's iterator, and the items peeks took from it, in order.

    Peeks read the kept items and then pull more (keeping them too); the next
    real run reads them once and carries on with the source, then closes it.
    One lock serialises every ``next()`` on the source, so a peek worker still
    blocked in it when the run starts just makes the run wait its turn.
    """

    def __init__(self, source: Iterator[Any]) -> None:
        self._source = source
        self._kept: deque[Any] = deque()
        self._lock = threading.Lock()
        self._ended = False
        self._error: BaseException | None = None

    def _pull(self) -> tuple[bool, Any]:
        """Take one more item from the source (under the lock): (got one, item)."""
        if self._ended:
            if self._error is not None:
                raise self._error
            return False, None
        try:
            item = next(self._source)
        except StopIteration:
            self._ended = True
            return False, None
        except BaseException as exc:
            self._ended, self._error = True, exc
            raise
        return True, item

    def peek(self) -> Iterator[Any]:
        """Yield the kept items, then more from the source, keeping each."""
        i = 0
        while True:
            with self._lock:
                if i < len(self._kept):
                    item = self._kept[i]
                else:
                    got, item = self._pull()
                    if not got:
                        return
                    self._kept.append(item)
            i += 1
            yield item

    def drain(self) -> Iterator[Any]:
        """Yield (and forget) the kept items, then the rest of the source; close it at the end."""
        try:
            while True:
                with self._lock:
                    if self._kept:
                        item = self._kept.popleft()
                    else:
                        got, item = self._pull()
                        if not got:
                            return
                yield item
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                with self._lock:
                    close()


def _replayed(replay: Replay, *, ctx: RunContext) -> Iterator[Any]:
    return files.items(replay.drain(), ctx=ctx)


def _peeked(replay: Replay) -> Iterator[Any]:
    return replay.peek()


def consumes(step: Step) -> bool:
    """Say whether running the source ``step`` takes items no later run can read again."""
    return step.one_shot or step.effect == "consumes"


def _peek_plan(stream: StreamBase[Any]) -> tuple[Step, ...]:
    """The steps a peek runs: a consuming source is read through a kept :class:`Replay`."""
    steps = stream.steps
    first = steps[0]
    if not consumes(first):
        return steps
    replay_step = pending_replay(first)
    if replay_step is None:
        ctx = RunContext()
        ctx.track = False  # the replaying step numbers the items in the real run
        replay = Replay(iter(first.call(None, ctx)))  # takes a one-shot Source
        shown = first.inner()
        replay_step = Step(
            first.name, _replayed, (replay,), source=True, one_shot=True, uses_ctx=True, shown=shown
        )
        set_replay(first, replay_step)
    peeking = Step(first.name, _peeked, replay_step.args, source=True, one_shot=True)
    return (peeking, *steps[1:])


def preview_blocker(stream: StreamBase[Any]) -> str | None:
    """Say why the notebook preview will not run ``stream`` (None: it will).

    >>> from streamql import Stream
    >>> preview_blocker(Stream([1]).map(str)) is None
    True
    >>> preview_blocker(Stream([1]).tap(print))
    'tap(print) has side effects'
    """
    steps = stream.steps
    first = steps[0]
    if first.effect == "listens":
        return f"{first.name}() listens on the network"
    for arg in first.args:
        if isinstance(arg, StreamBase):
            if consumes(arg.steps[0]):
                return f"{first.name}() reads a one-shot source"
            reason = preview_blocker(arg)
            if reason is not None:
                return reason
    for step in steps[1:]:
        if not step.pure and step.effect != "reads":
            return f"{step.render()} has side effects"
    return None


# -------------------------------------------------------------------- peeking
@dataclass
class Peek:
    """What a peek saw: up to ``n`` items, whether more followed, and how it ended."""

    items: list[Any] = field(default_factory=list)
    more: bool = False
    timed_out: bool = False
    error: BaseException | None = None


def _pull_into(
    steps: Sequence[Step],
    n: int,
    out: Peek,
    stop: threading.Event,
    deadline: float | None,
    finished: threading.Event | None = None,
) -> None:
    ctx = RunContext()

    def expired() -> bool:
        return stop.is_set() or (deadline is not None and time.monotonic() > deadline)

    ctx.stops.append(expired)  # live sources poll it while idle
    try:
        with running(steps, RunReport(), ctx=ctx, warn=False) as it:
            for item in it:
                if len(out.items) == n:
                    out.more = True
                    break
                out.items.append(item)
                if expired():
                    break
    except Exception as exc:
        out.error = exc
    finally:
        if finished is not None:
            finished.set()


def peek(
    stream: StreamBase[Any],
    n: int,
    *,
    timeout: float | None = None,
    stop: threading.Event | None = None,
) -> Peek:
    """Run ``stream`` for its first ``n`` items (and one more, to know if there are more).

    Reads no further than that. A one-shot source keeps what it gave for the
    next run. With ``timeout`` (seconds) or ``stop`` (an Event: a cancel
    button), the run happens in a daemon worker thread and the peek returns
    what it has when the time is up or ``stop`` is set, with ``timed_out``
    true (see the module notes). Errors raised by the query are returned in
    ``Peek.error``, not raised.

    >>> from streamql import Stream
    >>> numbers = Stream(iter(range(5)))
    >>> p = peek(numbers, 2)
    >>> p.items, p.more
    ([0, 1], True)
    >>> numbers.list()  # nothing was lost
    [0, 1, 2, 3, 4]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"peek: n must be an int >= 0, got {n!r}")
    if stop is not None and not hasattr(stop, "is_set"):
        raise TypeError(f"peek: stop must be a threading.Event, got {stop!r}")
    out = Peek()
    halt = threading.Event()
    try:
        steps = _peek_plan(stream)
    except Exception as exc:
        out.error = exc
        return out
    if timeout is None and stop is None:
        _pull_into(steps, n, out, halt, None)
        return out
    deadline = None if timeout is None else time.monotonic() + timeout
    finished = threading.Event()
    worker = threading.Thread(
        target=_pull_into,
        args=(steps, n, out, halt, deadline, finished),
        name="streamql-peek",
        daemon=True,
    )
    worker.start()
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if stop is not None:
            left = _TICK if left is None else min(left, _TICK)
        if finished.wait(None if left is None else max(left, 0.0)):
            break
        if (stop is not None and stop.is_set()) or (
            deadline is not None and time.monotonic() >= deadline
        ):
            break
    if not finished.is_set():
        halt.set()
        finished.wait(0.25)  # a polling live source ends within its poll interval
        out.timed_out = True
    return Peek(list(out.items), out.more, out.timed_out, out.error)


def _footer(p: Peek, n: int, seconds: float | None) -> str:
    shown = len(p.items)
    if p.error is not None:
        return f"{shown} row(s), then {type(p.error).__name__}: {p.error}"
    if p.timed_out:
        return f"{shown} row(s) within {seconds:g} s; the source is still quiet or slow"
    if p.more:
        return f"first {n} rows; the rest not read"
    return f"{shown} row(s), all of them"


def preview_html(
    stream: StreamBase[Any], n: int | None = None, seconds: float | None = None
) -> str:
    """Render the query and a table of its first rows as HTML (what notebooks show).

    Runs at most ``n`` (default :data:`PREVIEW_ROWS`) rows and ``seconds``
    (default :data:`PREVIEW_SECONDS`); see the module notes for what is not run.

    >>> from streamql import Stream
    >>> print(preview_html(Stream(["x < y"]).map(str.upper), seconds=30))
    <div class="streamql"><pre>Stream([&#x27;x &lt; y&#x27;]).map(str.upper)</pre>
    <table class="streamql">
    <thead><tr><th style="text-align: left">item</th></tr></thead>
    <tbody>
    <tr><td style="text-align: left">X &lt; Y</td></tr>
    </tbody>
    </table>
    <p><small>1 row(s), all of them</small></p></div>
    """
    n = PREVIEW_ROWS if n is None else n
    seconds = PREVIEW_SECONDS if seconds is None else seconds
    query = f"<pre>{html.escape(repr(stream))}</pre>\n"
    reason = preview_blocker(stream)
    if reason is not None:
        note = f"no preview: {reason}; .show() runs it"
        return f'<div class="streamql">{query}<p><small>{html.escape(note)}</small></p></div>'
    p = peek(stream, n, timeout=seconds)
    table = html_table(p.items) + "\n" if p.items else ""
    note = html.escape(_footer(p, n, seconds))
    return f'<div class="streamql">{query}{table}<p><small>{note}</small></p></div>'


def show(stream: StreamBase[Any], n: int = 10, *, file: TextIO | None = None) -> None:
    """Print the first ``n`` items of ``stream`` as an aligned table (see ``Stream.show``)."""
    p = peek(stream, n)
    if p.error is not None:
        raise p.error
    text = text_table(p.items) if p.items else "(no items)"
    more = f"\n(first {n} items; more not read)" if p.more else ""
    print(text + more, file=file)
