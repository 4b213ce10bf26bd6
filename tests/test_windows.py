"""until, scan, window and merge_by_time against plain-list models (hypothesis)."""

from __future__ import annotations

import itertools
import math
import operator
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import RunContext, Stream
from streamql.live.windows import Window, merge_by_time, scan, until, window

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

times = st.lists(st.integers(min_value=0, max_value=200), max_size=60)


@given(st.lists(st.integers(-5, 5)), st.integers(-5, 5))
def test_until_predicate_is_takewhile_not(items: list[int], limit: int) -> None:
    model = list(itertools.takewhile(lambda n: not n > limit, items))
    assert list(until(lambda n: n > limit, items)) == model
    assert Stream(items).until(lambda n: n > limit).list() == model


@given(st.lists(st.integers(-100, 100)), st.none() | st.integers(-5, 5))
def test_scan_is_accumulate(items: list[int], initial: int | None) -> None:
    if initial is None:
        model = list(itertools.accumulate(items, operator.add))
        assert list(scan(operator.add, items)) == model
        assert Stream(items).scan(operator.add).list() == model
    else:
        model = list(itertools.accumulate(items, operator.add, initial=initial))
        assert Stream(items).scan(operator.add, initial=initial).list() == model


def window_model(ts: list[int], width: int, late: int) -> tuple[list[Window], int]:
    """Windows by the definition: an item is late if its window ended by max(earlier) - late."""
    groups: dict[int, list[int]] = {}
    rejected, high = 0, -math.inf
    for t in ts:
        start = t // width * width
        if start + width <= high - late:
            rejected += 1
            continue
        groups.setdefault(start, []).append(t)
        high = max(high, t)
    return [Window(s, s + width, groups[s]) for s in sorted(groups)], rejected


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
@given(times, st.integers(1, 30), st.integers(0, 40))
def test_window_matches_the_model(ts: list[int], width: int, late: int) -> None:
    expected, rejected = window_model(ts, width, late)
    ctx = RunContext()
    got = list(window(width, [{"t": t} for t in ts], by="t", lateness=late, ctx=ctx))
    assert [Window(w.start, w.end, [r["t"] for r in w.value]) for w in got] == expected
    assert ctx.rejected.get("window", 0) == rejected
    stream = Stream([{"t": t} for t in ts]).window(width, by="t", lateness=late, agg=len)
    assert stream.list() == [Window(w.start, w.end, len(w.value)) for w in expected]
    assert sum(stream.last_run.rejected.values()) == rejected


def test_late_records_are_rejects_not_silence() -> None:
    rows = Stream([{"t": 0}, {"t": 30}, {"t": 1}])
    assert rows.window(10, by="t").rejects.list()[0]["reason"].startswith("late by 29")


def test_window_on_datetimes_and_the_wall_clock() -> None:
    utc = timezone.utc
    rows = [{"datetime": datetime(2008, 2, 24, 0, 0, s, tzinfo=utc)} for s in (1, 59)]
    rows.append({"datetime": datetime(2008, 2, 24, 0, 1, 5, tzinfo=utc)})
    got = Stream(rows).window(timedelta(minutes=1), agg=len).list()
    assert got == [
        Window(datetime(2008, 2, 24, 0, 0, tzinfo=utc), datetime(2008, 2, 24, 0, 1, tzinfo=utc), 2),
        Window(datetime(2008, 2, 24, 0, 1, tzinfo=utc), datetime(2008, 2, 24, 0, 2, tzinfo=utc), 1),
    ]
    wall = Stream(["a", "b"]).window(3600, by=None, agg=len).list()
    assert sum(w.value for w in wall) == 2 and isinstance(wall[0].start, datetime)


def slack_ordered(draw_ts: list[int], slack: int) -> list[int]:
    """Make a sequence that never runs more than ``slack`` below its running maximum."""
    out: list[int] = []
    high = 0
    for t in draw_ts:
        t = max(t, high - slack)
        out.append(t)
        high = max(high, t)
    return out


@settings(max_examples=150)
@given(st.lists(times, min_size=1, max_size=4), st.integers(0, 10))
def test_merge_by_time_sorts_streams_that_keep_their_slack(
    raw: list[list[int]], slack: int
) -> None:
    streams = [slack_ordered(ts, slack) for ts in raw]
    tagged = [[{"t": t, "src": i} for t in ts] for i, ts in enumerate(streams)]
    ctx = RunContext()
    got = list(merge_by_time(tagged, on="t", slack=slack, ctx=ctx))
    assert [r["t"] for r in got] == sorted(t for ts in streams for t in ts)
    assert not ctx.rejected
    for i, ts in enumerate(streams):  # each stream's own order kept among equal times
        assert sorted(r["t"] for r in got if r["src"] == i) == sorted(ts)
    merged = Stream.merge_by_time(*(Stream(x) for x in tagged), on="t", slack=slack)
    assert merged.list() == got
    assert merged.list() == got  # re-runnable: each run runs the streams afresh


def test_merge_by_time_rejects_a_stream_breaking_its_slack() -> None:
    ctx = RunContext()
    got = list(merge_by_time([[{"t": 5}, {"t": 1}], [{"t": 6}]], on="t", ctx=ctx))
    assert [r["t"] for r in got] == [5, 6]
    assert ctx.rejected == {"merge_by_time": 1}


def test_merge_closes_every_stream_when_stopped() -> None:
    closed: list[int] = []

    def gen(i: int) -> Any:
        try:
            yield from ({"t": t} for t in itertools.count())
        finally:
            closed.append(i)

    merged = merge_by_time([gen(0), gen(1)], on="t")
    assert [r["t"] for r in itertools.islice(merged, 4)] == [0, 0, 1, 1]
    merged.close()  # type: ignore[attr-defined]
    assert sorted(closed) == [0, 1]


def test_until_event_and_timeout() -> None:
    stop = threading.Event()
    seen = []
    for n in until(stop, itertools.count()):
        seen.append(n)
        if n == 3:
            stop.set()
    assert seen == [0, 1, 2, 3]
    assert list(until(None, itertools.count(), timeout=0)) == []


def test_bad_arguments_fail_when_the_step_is_added() -> None:
    with pytest.raises(TypeError, match="until: give"):
        Stream([1]).until()
    with pytest.raises(ValueError, match="window: seconds must be > 0"):
        Stream([1]).window(0)
    with pytest.raises(TypeError, match="scan: func must be callable"):
        Stream([1]).scan(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="merge_by_time: slack"):
        Stream.merge_by_time(Stream([1]), slack=-1)


def test_windows_fold_aggregations_instead_of_holding_items() -> None:
    from streamql import Count, Sum

    rows = [{"t": t, "b": t * 10} for t in (0, 1, 5, 11, 12, 25)]
    got = Stream(rows).window(10, by="t", agg=Sum("b")).list()
    assert [(w.start, w.end, w.value) for w in got] == [(0, 10, 60), (10, 20, 230), (20, 30, 250)]
    counted = Stream(rows).window(10, by="t", agg=Count()).map(lambda w: w.value).list()
    assert counted == [3, 2, 1]
    with pytest.raises(TypeError, match="agg must be callable or an aggregation"):
        Stream(rows).window(10, by="t", agg=3)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_one_far_future_stamp_is_a_reject_and_later_items_still_count() -> None:
    rows = [{"t": t} for t in (60, 9e9, 70, 125, 130)]  # 9e9: the year 2255
    s = Stream(rows).window(60, by="t", agg=len)
    assert s.list() == [Window(60, 120, 2), Window(120, 180, 2)]
    (reject,) = s.rejects.list()
    assert reject["line"] == {"t": 9e9}
    assert "ahead of the clock (max_future is 86400 s)" in reject["reason"]
    utc = timezone.utc
    stamps = [datetime(2008, 2, 24, 0, 0, s, tzinfo=utc) for s in (1, 2)]
    stamps.insert(1, datetime(2099, 1, 1, tzinfo=utc))
    dated = Stream([{"datetime": d} for d in stamps]).window(60, agg=len)
    assert [w.value for w in dated.list()] == [2]
    assert dated.rejects.count() == 1


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_a_leap_ahead_of_the_stream_needs_the_next_item_to_confirm_it() -> None:
    day = 86_400
    leap = Stream([{"t": t} for t in (60, 70 + 2 * day, 80)]).window(60, by="t", agg=len)
    assert leap.list() == [Window(60, 120, 2)]
    assert "ahead of the stream" in leap.rejects.list()[0]["reason"]
    resumed = [{"t": t} for t in (60, 70 + 2 * day, 80 + 2 * day)]  # a log back after a gap
    ctx = RunContext()
    got = list(window(60, resumed, by="t", agg=len, ctx=ctx))
    assert [w.value for w in got] == [1, 2] and not ctx.rejected
    last = Stream([{"t": t} for t in (60, 70 + 2 * day)]).window(60, by="t", agg=len)
    assert last.list() == [Window(60, 120, 1)] and last.rejects.count() == 1
    wider = Stream([{"t": t} for t in (60, 70 + 2 * day, 80)]).window(
        60, by="t", agg=len, max_future=3 * day
    )
    assert [w.value for w in wider.list()] == [1, 1]  # within the bound: 80 is late instead
    assert "late by" in wider.rejects.list()[0]["reason"]


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_max_future_none_keeps_every_leap() -> None:
    rows = [{"t": t} for t in (60, 9e9, 70)]
    s = Stream(rows).window(60, by="t", agg=len, max_future=None)
    assert [w.value for w in s.list()] == [1, 1]
    assert repr(s).endswith("window(60, by='t', agg=len, max_future=None)")
    assert "late by" in s.rejects.list()[0]["reason"]
    with pytest.raises(ValueError, match="window: max_future must be > 0"):
        Stream([1]).window(60, max_future=0)


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
@given(times, st.integers(1, 30), st.integers(0, 40), st.data())
def test_one_far_future_stamp_changes_nothing_else(
    ts: list[int], width: int, late: int, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(ts)))
    rows = [{"t": t} for t in ts]
    ctx, plain = RunContext(), RunContext()
    with_leap = list(
        window(width, [*rows[:at], {"t": 9e9}, *rows[at:]], by="t", lateness=late, ctx=ctx)
    )
    assert with_leap == list(window(width, rows, by="t", lateness=late, ctx=plain))
    assert ctx.rejected["window"] == plain.rejected["window"] + 1
