"""Block reading and aggregate pushdown give the plain plan's answers and rejects, exactly.

Each property writes a generated log to a file (plain or gzip, with or
without a BOM, CRLF or LF, with or without a last newline), cuts it into
blocks of a generated size (so lines are cut at every kind of boundary), and
compares the planner's run with the plain run: same answer, same rejected
counts, same reject records (reason, file, line number, text).
"""

from __future__ import annotations

import gzip
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from apache_lines import bad, good, likely_good, valid_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tutorial_reference import SHARED_DATA

from streamql import F, FieldError, ParseError, RejectedLinesWarning, Stream, StreamError
from streamql.aggregates import Count, CountBy, Distinct, Max, Mean, Min, Sum
from streamql.core.expr import Expr
from streamql.formats.access import block_parse, scan
from streamql.formats.access.apache import BLOCK_FIELDS, parse_apache_line, request_parts
from streamql.formats.access.scan import block_pattern
from streamql.ops import batches
from streamql.ops.files import open_file
from streamql.planner import optimize
from streamql.samples.tree import write_sample_tree

NONE = optimize.NONE


@pytest.fixture(autouse=True, params=["C scanner", "regex"])
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test here with each way of checking blocks (see streamql.formats.access.scan)."""
    if request.param == "regex":
        monkeypatch.setattr(scan, "_c_scan", None)
    elif not scan.ACCELERATED:
        pytest.skip("the C scanner is not built")
    return str(request.param)


logs = st.lists(st.one_of(good, good, likely_good, likely_good, bad), max_size=30)
layouts = st.fixed_dictionaries(
    {
        "newline": st.sampled_from(["\n", "\r\n"]),
        "last_newline": st.booleans(),
        "bom": st.booleans(),
        "gzip": st.booleans(),
        "latin1": st.booleans(),  # bytes that are not UTF-8: read as \xNN escapes
        "block": st.sampled_from([1, 7, 64, 200, 1 << 20]),
    }
)
SETTINGS = settings(
    max_examples=int(os.environ.get("STREAMQL_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


PRESCANNED = 7  # the first seven conditions above imply a text in the line


def write_log(directory: Path, lines: list[str], layout: dict[str, Any]) -> Path:
    text = layout["newline"].join(lines)
    if lines and layout["last_newline"]:
        text += layout["newline"]
    encoding = "latin-1" if layout["latin1"] else "utf-8"
    data = ("\ufeff" if layout["bom"] else "").encode() + text.encode(encoding, "replace")
    path = directory / f"log{len(os.listdir(directory))}"
    if layout["gzip"]:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def outcome(run: Any) -> tuple[str, Any]:
    """What a query gives: its answer, or the error it raises (type and where)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "answer", run()
    except ParseError as exc:
        return "ParseError", (exc.reason, exc.lineno, exc.path)
    except (StreamError, TypeError) as exc:
        return type(exc).__name__, str(exc)


def both(query: Stream[Any], terminal: Any) -> tuple[Any, Any]:
    """Run ``terminal`` on the query as planned and as written; return both outcomes."""
    planned, plain = query, query.using(options=NONE)
    results = []
    for q in (planned, plain):
        answer = outcome(lambda q=q: terminal(q))
        results.append((answer, q.last_run.rejected))
    return results[0], results[1]


AGGREGATES = [
    lambda q: q.aggregate(
        n=Count(),
        missing=Count(where=F.status == 404),
        total=Sum("bytes"),
        hosts=CountBy("host"),
        largest=Max(key="bytes"),
        pages=Distinct("request", where=F.status.isin([404, 200])),
    ),
    lambda q: q.aggregate(Count(where=F.method == "GET")),
    lambda q: q.aggregate(odd=Count(where=F.status < "5"), n=Count()),  # raises on any record
    lambda q: q.aggregate(n=Count(), big=Count(where=lambda r: r["bytes"] > 100)),  # not pushed
    lambda q: q.sum("bytes"),
    lambda q: q.set("request"),
    lambda q: q.count_by("method"),
    lambda q: q.max(key="proto", default=None),
    lambda q: q.count(),
    lambda q: q.set("host"),
    lambda q: q.max(key="bytes"),
    lambda q: q.min(key="status", default=None),
    lambda q: q.min("bytes", default=None),
    lambda q: q.max("user", default=None),
    lambda q: q.count_by("status"),
    lambda q: q.aggregate(Mean("bytes")),
    lambda q: q.aggregate(Sum("status")),
    lambda q: q.aggregate(CountBy("ident")),
]


@SETTINGS
@given(logs, layouts, st.sampled_from(["auto", "common", "combined"]), st.data())
def test_pushdown_gives_the_plain_answer_and_rejects(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    layout: dict[str, Any],
    fmt: str,
    data: st.DataObject,
) -> None:
    monkeypatch.setattr(batches, "BLOCK_CHARS", layout["block"])
    path = write_log(tmp_path, lines, layout)
    errors = data.draw(st.sampled_from(["skip", "raise"]))
    terminal = data.draw(st.sampled_from(AGGREGATES))
    query = Stream.lines(path).parse_apache(fmt, errors=errors)
    for condition in data.draw(st.lists(st.sampled_from(CONDITIONS), max_size=2)):
        try:
            query = (
                query.where(**condition) if isinstance(condition, dict) else query.where(condition)
            )
        except FieldError as exc:  # refused before reading: common records have no agent
            assert fmt == "common" and exc.field == "agent"
            return
    planned, plain = both(query, terminal)
    assert planned == plain
    # The skipped lines are the same lines, at the same places.
    if errors == "skip":
        rejects = outcome(query.rejects.list)
        assert rejects == outcome(query.using(options=NONE).rejects.list)


CONDITIONS = [
    {"status": 404},
    {"request": "/robots.txt"},
    F.request.contains("robots") | F.request.endswith(".gz"),
    (F.status == 404) & F.request.startswith("/ply"),
    F.status.isin([404, 200]),
    {"user": "bob"},
    # A common line's agent is None, which contains nothing: pre-scanned too.
    F.agent.contains("curl"),
    # Not pre-scanned, from here on:
    F.bytes > 100,
    F.status < "5",  # raises TypeError on every record: so must the rewritten plan
    ~F.method.isin(["GET"]) | F.request.matches("^/a"),
]


@SETTINGS
@given(logs, layouts, st.sampled_from(CONDITIONS), st.sampled_from(["skip", "raise", "keep"]))
def test_blocks_with_a_prescan_give_the_plain_records_and_rejects(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    layout: dict[str, Any],
    condition: Any,
    errors: str,
) -> None:
    monkeypatch.setattr(batches, "BLOCK_CHARS", layout["block"])
    path = write_log(tmp_path, lines, layout)
    log = Stream.lines(path).parse_apache(errors=errors)  # type: ignore[arg-type]
    query = log.where(**condition) if isinstance(condition, dict) else log.where(condition)
    # Conditions that imply no text, or that might raise, are never pre-scanned.
    place = next(i for i, c in enumerate(CONDITIONS) if c is condition)  # == builds an F
    prescanned = place < PRESCANNED
    assert ("rewritten: prescan, blocks" in query.explain()) is prescanned
    planned, plain = both(query.with_origin(), lambda q: q.list())
    assert planned == plain


# Logs of lines the fast check passes, but for a few: whole blocks are built in C.
mostly_good_logs = st.lists(
    st.tuples(st.integers(0, 9), valid_line, st.one_of(good, bad)).map(
        lambda t: t[2] if t[0] >= 8 else t[1]  # one line in five from the others
    ),
    min_size=5,
    max_size=40,
)


@SETTINGS
@given(
    mostly_good_logs,
    st.one_of(layouts, layouts.map(lambda layout: {**layout, "newline": "\n"})),
    st.sampled_from(["auto", "auto", "common", "combined"]),
    st.sampled_from([300, 2000, 1 << 20]),
    st.sampled_from(["skip", "raise", "keep"]),
    st.sampled_from([1, 3, 1024]),
)
def test_blocks_build_the_plain_records_and_rejects(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scanner: str,
    lines: list[str],
    layout: dict[str, Any],
    fmt: str,
    block: int,
    errors: str,
    batch: int,
) -> None:
    monkeypatch.setattr(batches, "BLOCK_CHARS", block)  # several lines a block
    monkeypatch.setattr(block_parse, "RECORD_BATCH", batch)
    path = write_log(tmp_path, lines, layout)
    query = Stream.lines(path).parse_apache(fmt, errors=errors)  # type: ignore[arg-type]
    assert ("rewritten: blocks" in query.explain()) is (scanner == "C scanner")
    planned, plain = both(query.with_origin(), lambda q: q.list())
    assert planned == plain  # records, rejects, and the file and line of each


def test_a_later_step_that_raises_names_the_line_of_its_record(tmp_path: Path) -> None:
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /{} HTTP/1.1" 200 7\n'
    path = tmp_path / "log"
    path.write_text("".join(line.format(i) for i in range(5000)))
    query = Stream.lines(path).parse_apache().map(lambda r: 1 / (r["request"] != "/4321"))
    notes = []
    for q in (query, query.using(options=NONE)):
        with pytest.raises(ZeroDivisionError) as caught:
            q.count()
        notes.append(caught.value.__notes__)
    assert notes[0] == notes[1] and f"{path}:4322" in notes[0][0].replace(", line ", ":")


@SETTINGS
@given(st.lists(good, max_size=20))
def test_a_block_match_is_a_line_the_parser_accepts(lines: list[str]) -> None:
    """Soundness of the fast check: every line it passes, parse_apache passes too."""
    for fmt in ("auto", "common", "combined"):
        fields = BLOCK_FIELDS if fmt == "combined" else BLOCK_FIELDS[:-2]
        for line in lines:
            found = block_pattern(fmt, "\\" in line, fields).fullmatch(line)
            if found is None:
                continue
            record = parse_apache_line(line, fmt)  # raises if the fast check was wrong
            host, ident, user, req, status, size, *tail = found.groups()
            assert (host, ident, user) == (record["host"], record["ident"], record["user"])
            assert request_parts(req) == (record["method"], record["request"], record["proto"])
            assert int(status) == record["status"]
            assert (0 if size == "-" else int(size)) == record["bytes"]
            assert tail == ([record["referer"], record["agent"]] if tail else [])


def test_the_fast_check_knows_real_lines(tmp_path: Path) -> None:
    """A check that refused good lines would cost time, not answers: it should know them all."""
    tree = write_sample_tree(tmp_path, lines_per_file=500)
    for sample in tree.files:
        with open_file(sample.path) as f:
            text = f.read()
        matched = block_pattern("auto", "\\" in text).subn("", text)[1]
        assert matched == sample.good, sample.relpath
    if (SHARED_DATA / "elastic").exists():
        for name in ("elastic/apache_logs", "dabeaz/access-log"):
            text = (SHARED_DATA / name).read_text()
            lines = text.count("\n")
            assert block_pattern("auto", "\\" in text).subn("", text)[1] >= lines - 1


def test_files_open_cat_and_compressed_logs_are_pushed_down_too(tmp_path: Path) -> None:
    lines = [
        f'h{i % 7} - - [29/Feb/2008:00:0{i % 10}:59 -0600] "GET /{i} HTTP/1.1" {200 + i % 3} {i}'
        for i in range(500)
    ]
    text = "\n".join(lines) + "\nbad line\n"
    (tmp_path / "a.log").write_text(text)
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(text.encode()))
    query = Stream.files("*.log*", tmp_path).open().cat().parse_apache()
    with pytest.warns(Warning):
        assert query.sum("bytes") == 2 * sum(range(500))
    assert query.last_run.rejected == {"parse_apache": 2}
    first = query.last_run.first_reject
    assert (first["file"], first["lineno"]) == (str(tmp_path / "a.log"), 501)
    with pytest.warns(Warning):
        assert query.count_by("status") == query.using(options=NONE).count_by("status")


def test_an_empty_log_keeps_each_terminals_meaning(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_text("")
    log = Stream.lines(path).parse_apache()
    assert (log.sum("bytes"), log.count(), log.set("host")) == (0, 0, set())
    with pytest.raises(StreamError, match="empty"):
        log.max(key="bytes")
    assert log.max(key="bytes", default="none") == "none"


def test_errors_raise_names_the_file_and_line(tmp_path: Path) -> None:
    good_line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1\n'
    path = tmp_path / "log"
    path.write_text(good_line * 3000 + "broken\n" + good_line)
    with pytest.raises(ParseError) as caught:
        Stream.lines(path).parse_apache(errors="raise").sum("bytes")
    assert (caught.value.path, caught.value.lineno) == (str(path), 3001)


def test_a_corrupt_archive_fails_after_the_same_lines(tmp_path: Path) -> None:
    good_line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1\n'
    data = gzip.compress((good_line * 20000).encode())
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    from streamql import CorruptFileError

    outcomes = []
    for options in (optimize.DEFAULT, NONE):
        with pytest.raises(CorruptFileError) as caught:
            Stream.lines(path).parse_apache().using(options=options).sum("bytes")
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_the_plan_says_what_it_pushed_down(scanner: str) -> None:
    plan, fold = optimize.for_aggregate(Stream.lines("log").parse_apache().steps, Count())
    assert [s.render() for s in plan] == [
        "lines('log')",
        "parse_apache(aggregate=Count())",
    ]
    # Not pushed: a where on the aggregate, a key function, kept rejects, a step in between.
    for query, agg in [
        (Stream.lines("log").parse_apache(), Count(where=lambda r: r["status"] == 404)),
        (Stream.lines("log").parse_apache(), Max(key=lambda r: r["bytes"])),
        (Stream.lines("log").parse_apache(errors="keep"), Count()),
        (Stream.lines("log").parse_apache().take(3), Count()),
        (Stream(["x"]).parse_apache(), Count()),
        (Stream.lines("log").parse_apache(), Min("datetime")),
        (Stream.lines("log").parse_apache().where(lambda r: True), Count()),
        (Stream.lines("log").parse_apache().where(F.datetime.isin([])), Count()),
        (Stream.lines("log").parse_apache().where(F.agent.contains("x")), Count()),
    ]:
        plan, fold = optimize.for_aggregate(query.steps, agg)
        assert fold is agg and plan == query.steps
    plan, fold = optimize.for_aggregate(
        Stream.lines("log").parse_apache().steps, Sum("bytes"), NONE
    )
    assert fold.__class__ is Sum
    query = (
        Stream.lines("log").parse_apache("combined").where(status=404).where(F.agent.contains("x"))
    )
    plan, fold = optimize.for_aggregate(query.steps, Distinct("request"))
    assert [s.render() for s in plan][1] == (
        "parse_apache('combined', aggregate=Distinct('request'), "
        "where=(F.status == 404) & F.agent.contains('x'), prescan='\" 404 ' & 'x')"
    )
    said = Stream.lines("log").parse_apache().explain(aggregate=Count()).splitlines()
    checked = "the C scanner" if scanner == "C scanner" else "a regular expression"
    assert said[-1].startswith(f"  blocks are checked by {checked}")


@pytest.mark.skipif(not (SHARED_DATA / "elastic").exists(), reason="needs ../shared/data")
@pytest.mark.parametrize("name", ["elastic/apache_logs", "dabeaz/access-log"])
def test_real_logs_give_the_same_answers_either_way(name: str) -> None:
    query = Stream.lines(SHARED_DATA / name).parse_apache()
    for terminal in AGGREGATES:
        assert both(query, terminal)[0] == both(query, terminal)[1]
    for condition in CONDITIONS:
        narrowed = (
            query.where(**condition) if isinstance(condition, dict) else query.where(condition)
        )
        planned, plain = both(narrowed, lambda q: q.list())
        assert planned == plain


def test_explain_analyze_says_how_much_of_the_files_was_read(tmp_path: Path) -> None:
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 404 1\n'
    path = tmp_path / "log"
    path.write_text(line * 100_000)  # 6.5 MB: several blocks
    report = Stream.lines(path).parse_apache().where(status=404).take(3).explain(analyze=True)
    read, total = map(int, re.findall(r"[\d,]+", report.splitlines()[-1].replace(",", ""))[:2])
    assert total == path.stat().st_size and 0 < read < total // 2
    log = Stream.lines(path).parse_apache()
    assert log.count() == 100_000
    assert log.last_run.plan == (
        f"lines({path!r})",
        "parse_apache(aggregate=Count())",
    )
    assert str(log.last_run).endswith("read 6.4 MB of 6.4 MB")


def test_a_progress_bar_moves_block_by_block_when_pushed_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    from streamql import show_progress

    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 404 2\n'
    path = tmp_path / "log"
    path.write_text(line * 50_000)  # 3.2 MB: 4 blocks
    log = Stream.lines(path).parse_apache()
    show_progress(True)
    try:
        assert log.sum("bytes") == 100_000
    finally:
        show_progress(None)
    # The bar watches the run: the plan is the one without it, pushdown and all.
    assert log.last_run.plan[1:] == ("parse_apache(aggregate=Sum('bytes'))",)
    assert "100%" in capsys.readouterr().err


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(logs, st.sampled_from(AGGREGATES[:8]), st.sampled_from([*CONDITIONS[:6], None]))
def test_processes_engine_gives_the_pushed_down_answer(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    terminal: Any,
    condition: Any,
) -> None:
    """Parts cut mid-file, blocks cut small: the processes engine agrees with the plain plan."""
    from streamql.engine import processes as parallel

    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 200)
    monkeypatch.setattr(batches, "BLOCK_CHARS", 150)
    path = write_log(
        tmp_path,
        lines * 5,
        {
            "newline": "\n",
            "last_newline": True,
            "bom": False,
            "gzip": False,
            "latin1": False,
            "block": 150,
        },
    )
    query = Stream.lines(path).parse_apache()
    if condition is not None:
        query = query.where(**condition) if isinstance(condition, dict) else query.where(condition)
    parallel_query = query.using("processes", workers=2)
    planned = outcome(lambda: terminal(parallel_query))
    assert (planned, parallel_query.last_run.rejected) == both(query, terminal)[1]


def test_explain_shows_how_a_terminal_runs(tmp_path: Path) -> None:
    line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /x HTTP/1.1" 404 7\n'
    path = tmp_path / "log"
    path.write_text(line * 10 + "bad\n")
    log = Stream.lines(path).parse_apache()
    shown = log.where(status=404).explain(aggregate=Distinct("request"))
    assert (
        "parse_apache(aggregate=Distinct('request'), where=F.status == 404, prescan='\" 404 ')"
        in shown
    )
    report = log.explain(True, aggregate=Sum("bytes"))
    assert "answer: 70" in report and "1 rejected" in report
    assert "then Sum('bytes') of the items" in log.take(2).explain(aggregate=Sum("bytes"))
    with pytest.raises(TypeError):
        log.explain(aggregate="bytes")


def test_a_huge_line_and_binary_garbage_are_rejects_at_their_lines(tmp_path: Path) -> None:
    good = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 3\n'
    path = tmp_path / "log"
    with open(path, "wb") as f:
        f.write(good.encode() * 1000)
        f.write(b"x" * (3 << 20) + b"\n")  # a 3 MB line: longer than a block and the cap
        f.write(good.encode() * 10 + b"\x00\xff\xfe\x80 binary\n" + good.encode())
    log = Stream.lines(path).parse_apache()
    with pytest.warns(RejectedLinesWarning):
        assert log.sum("bytes") == 3 * 1011
    assert log.last_run.rejected == {"cat": 1, "parse_apache": 1}
    assert [(r["stage"], r["lineno"]) for r in log.rejects.list()] == [
        ("cat", 1001),
        ("parse_apache", 1012),
    ]
    assert "aggregate=Sum('bytes')" in log.last_run.plan[1]


RECORDS = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200, 404, 500]),
        "request": st.sampled_from(["/", "/robots.txt", "/a.gz"]),
    }
)
ON_TWO_FIELDS = [
    c for c in CONDITIONS if isinstance(c, Expr) and c.fields() <= {"status", "request"}
]


@settings(max_examples=100, deadline=None)
@given(st.lists(RECORDS, max_size=20), st.sampled_from(ON_TWO_FIELDS))
def test_compile_columns_keeps_the_rows_the_record_test_keeps(
    rows: list[Any], condition: Any
) -> None:
    """Against the plain reference: the compiled record test over a list of records."""
    names = ("request", "status")
    select = condition.compile_columns(names)
    columns = [[r[name] for r in rows] for name in names]
    try:
        expected: Any = [i for i, r in enumerate(rows) if condition.compile()(r)]
    except TypeError:  # a condition that raises on records raises on columns too
        expected = TypeError
    if expected is TypeError:
        with pytest.raises(TypeError):
            select(*columns)
    else:
        assert select(*columns) == expected
    with pytest.raises(ValueError, match="no column for"):
        condition.compile_columns(("host",))
