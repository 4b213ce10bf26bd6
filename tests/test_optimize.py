"""Planner rewrites keep every answer and every reject: optimised runs equal plain runs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import F, Stream
from streamql.core.context import RunContext
from streamql.engine import local as engine
from streamql.planner import optimize

requests = st.sampled_from(["/", "/robots.txt", "/a.png", "/ply/ply-2.3.tar.gz", "/x y", "-"])
good = st.builds(
    lambda host, req, status, size, day: (
        f'{host} - - [{day:02d}/Feb/2008:00:08:59 -0600] "GET {req} HTTP/1.1" {status} {size}\n'
    ),
    st.sampled_from(["1.2.3.4", "::1", "10.0.0.404"]),
    requests,
    st.sampled_from([200, 404, 304, 500]),
    st.sampled_from(["-", "404", "133"]),
    st.sampled_from([24, 31, 32]),  # day 32: a bad datetime, a reject
)
bad = st.sampled_from(["\n", "garbage 404 \n", '1.2.3.4 - - [x] "GET /robots.txt" 404 1\n'])
lines = st.lists(st.one_of(good, bad), max_size=40)
conditions = st.sampled_from(
    [
        {"status": 404},
        {"request": "/robots.txt"},
        F.request.contains("robots") | F.request.endswith(".png"),
        (F.status == 404) & F.request.startswith("/ply"),
        F.status.isin([404, 500]),
        ~(F.status == 404),
        F.bytes > 100,
    ]
)


def run(steps: Any, options: optimize.Options) -> tuple[list[Any], Any, Any]:
    ctx = RunContext(keep_rejects=True)
    with engine.running(steps, engine.RunReport(), ctx=ctx, options=options, warn=False) as it:
        out = list(it)
    assert ctx.sink is not None
    return out, dict(ctx.rejected), [(r["reason"], r["lineno"]) for r in ctx.sink]


def narrow(stream: Stream[Any], condition: Any) -> Stream[Any]:
    return stream.where(**condition) if isinstance(condition, dict) else stream.where(condition)


@settings(max_examples=150, deadline=None)
@given(lines, conditions, conditions)
def test_prescan_keeps_answers_and_rejects(items: list[str], first: Any, second: Any) -> None:
    log = Stream(items).parse_apache()
    for query in (narrow(log, first), narrow(narrow(log, first), second)):
        assert run(query.steps, optimize.DEFAULT) == run(query.steps, optimize.NONE)


def test_the_rewrite_shows_in_explain_and_only_where_it_is_sound() -> None:
    log = Stream.lines("access-log").parse_apache()
    assert "parse_apache(prescan='\" 404 ')" in log.where(status=404).explain()
    assert "rewritten: prescan" in log.where(F.request.contains("robots")).explain()
    for unsound in (
        log.where(F.bytes > 100),
        log.where(~(F.status == 404)),
        log.where(lambda r: r["status"] == 404),
        log.map(dict).where(status=404),
    ):
        assert "prescan" not in unsound.explain()
    assert (
        repr(log.where(status=404)) == "Stream.lines('access-log').parse_apache().where(status=404)"
    )
