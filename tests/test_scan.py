"""The C scanner and the regex check blocks alike: same refusals, same columns.

The regex (``streamql.formats.access.apache.block_pattern``) is the reference. Lines come from
the block tests' strategies (good lines, near misses, garbage), then are
mutated by a character put in or swapped at any place: quotes, backslashes,
newlines, digits, brackets, Unicode spaces and wide characters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from apache_lines import bad, good, likely_good, months
from hypothesis import given, settings
from hypothesis import strategies as st
from tutorial_reference import SHARED_DATA

from streamql.formats import logfmt
from streamql.formats.access import scan
from streamql.formats.access.apache import BLOCK_FIELDS, RequestParts

needs_c = pytest.mark.skipif(not scan.ACCELERATED, reason="the C scanner is not built")

ODD = '"\\\n \t[]:/-+0123456789Feb\r\x0b\x1c\x85\xa0\u2028\u3000\u00e9\U0001f600'


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A generated line, with up to two characters put in, swapped or removed."""
    line = draw(st.one_of(good, likely_good, bad))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(line)))
        what = draw(st.sampled_from(["insert", "replace", "delete"]))
        char = draw(st.sampled_from(ODD))
        if what == "insert":
            line = line[:at] + char + line[at:]
        elif what == "replace":
            line = line[:at] + char + line[at + 1 :]
        else:
            line = line[:at] + line[at + 1 :]
    return line


blocks = st.builds(
    lambda lines, last: "\n".join(lines) + ("\n" if last else ""),
    st.lists(st.one_of(likely_good, mutated()), min_size=1, max_size=4),
    st.booleans(),
)


def regex_columns(block: str, fmt: str, captured: tuple[str, ...]) -> object:
    """What block_columns gives on the regex path."""
    lines = block.count("\n") + (not block.endswith("\n"))
    return scan._by_regex(block, fmt, captured, lines)


def captures(fmt: str) -> st.SearchStrategy[tuple[str, ...]]:
    names = BLOCK_FIELDS if fmt == "combined" else BLOCK_FIELDS[:6]
    return st.sets(st.sampled_from(names)).map(lambda s: tuple(f for f in names if f in s))


@needs_c
@settings(max_examples=int(os.environ.get("STREAMQL_EXAMPLES", "120")) * 5, deadline=None)
@given(blocks, st.sampled_from(["auto", "common", "combined"]), st.data())
def test_the_c_scanner_refuses_and_cuts_what_the_regex_does(
    block: str, fmt: str, data: st.DataObject
) -> None:
    captured = data.draw(captures(fmt))
    assert scan.block_columns(block, fmt, captured) == regex_columns(block, fmt, captured)


def only_hits(found: object, block: str, needles: tuple[str, ...]) -> object:
    """block_hits' answer, the every-line form cut to the lines holding a needle."""
    if found is None:
        return None
    columns, rows = found  # type: ignore[misc]
    if rows is None:
        lines = block.split("\n")[: block.count("\n") + (not block.endswith("\n"))]
        rows = [i for i, line in enumerate(lines) if any(n in line for n in needles)]
        columns = {name: [column[i] for i in rows] for name, column in columns.items()}
    return columns, rows


FILLER = 'f - - [01/Jan/2008:00:00:00 +0100] "POST /p HTTP/1.1" 200 7'


@st.composite
def padded_blocks(draw: st.DrawFn) -> str:
    """A block of a few generated lines among up to 40 good lines holding no needle."""
    lines = draw(st.lists(st.one_of(likely_good, mutated()), min_size=1, max_size=4))
    lines = draw(st.permutations(lines + [FILLER] * draw(st.integers(0, 40))))
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None)
@given(
    padded_blocks(),
    st.sampled_from(["auto", "common", "combined"]),
    st.lists(
        st.sampled_from(["robots", "404", "GET", "\u00e9", "\u2603", "-0", "zz", ""]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    st.data(),
)
def test_needles_pick_the_lines_holding_them_both_ways(
    block: str, fmt: str, needles: list[str], data: st.DataObject
) -> None:
    captured = data.draw(captures(fmt))
    every = regex_columns(block, fmt, captured)
    want = None if every is None else only_hits((every, None), block, tuple(needles))
    c_scan = scan._c_scan
    try:
        scan._c_scan = None
        by_regex = scan.block_hits(block, fmt, captured, tuple(needles))
    finally:
        scan._c_scan = c_scan
    assert only_hits(by_regex, block, tuple(needles)) == want
    if scan.ACCELERATED:
        assert (
            only_hits(scan.block_hits(block, fmt, captured, tuple(needles)), block, tuple(needles))
            == want
        )


@needs_c
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(good, likely_good, mutated()), min_size=1, max_size=8),
    st.sampled_from(["auto", "common", "combined"]),
)
def test_the_c_scanner_agrees_on_each_line_alone(lines: list[str], fmt: str) -> None:
    for line in lines:
        assert scan.block_lines_valid(line, fmt) == (regex_columns(line, fmt, ()) is not None)


@needs_c
def test_the_c_scanner_knows_every_date_and_time_the_regex_knows() -> None:
    years = [0, 4, 100, 400, 1900, 2000, 2001, 2004, 2008, 2100, 2400, 9996, 9999]
    stamps = [
        f"{d:02d}/{m}/{y:04d}:12:30:30 +0100"
        for d in range(34)
        for m in [*months, "feb", "FEB", "Fe", "Febr"]
        for y in years
    ]
    stamps += [
        f"01/Jan/2008:{h:02d}:{mi:02d}:{s:02d} {sign}{oh:02d}{om:02d}"
        for h in range(26)
        for mi, s in [(0, 0), (59, 59), (60, 0), (0, 60), (99, 9)]
        for sign in "+-~"
        for oh in (0, 23, 24)
        for om in (0, 59, 60)
    ]
    stamps += ["1/Jan/2008:12:30:30 +0100", "01/Jan/08:12:30:30 +0100", "01/Jan/2008:1:30:30 +0100"]
    for stamp in stamps:
        line = f'h - - [{stamp}] "GET / HTTP/1.1" 200 1\n'
        assert scan.block_lines_valid(line, "common") == (
            regex_columns(line, "common", ()) is not None
        ), line


@needs_c
def test_the_c_scanner_reads_every_width_of_str() -> None:
    line = '{host} - - [24/Feb/2008:00:08:59 -0600] "GET /{path} HTTP/1.1" 200 {size}\n'
    for host, path in [("h", "a"), ("h\u00e9", "\u00e9"), ("h", "\u2603"), ("h\U0001f600", "x")]:
        block = line.format(host=host, path=path, size=12) + line.format(host="g", path="b", size=3)
        assert scan.block_columns(block, "common", ("host", "req", "bytes")) == {
            "host": [host, "g"],
            "req": [f"GET /{path} HTTP/1.1", "GET /b HTTP/1.1"],
            "bytes": [12, 3],
        }


@pytest.mark.parametrize("digits", [18, 19, 30, 4301, 5000])
@pytest.mark.parametrize("captured", [(), ("bytes",), ("status",)])
def test_overlong_byte_counts_are_refused_by_every_path(
    digits: int, captured: tuple[str, ...]
) -> None:
    """19 digits or more: the line parser rejects the line, so no block check passes it."""
    good = 'h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1\n'
    line = f'h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 {"9" * digits}\n'
    block = good + line
    found = scan.block_columns(block, "auto", captured)
    regex = regex_columns(block, "auto", captured)
    if digits <= 18:
        assert found == regex and found is not None
    else:
        assert found is None and regex is None
        assert scan.block_hits(block, "auto", captured, ("GET",)) is None
        if scan.builds_records():
            assert scan.block_records(block, "auto", 0, 10, RequestParts()) is None


@needs_c
def test_the_c_scanner_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="combined lines only"):
        scan._c_scan("x", 1, 1 << BLOCK_FIELDS.index("agent"))  # type: ignore[misc]
    with pytest.raises(ValueError, match="format"):
        scan._c_scan("x", 7, 0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        scan._c_scan(b"x", 0, 0)  # type: ignore[misc, arg-type]
    with pytest.raises(TypeError, match="needles must be non-empty str"):
        scan._c_scan("x", 0, 0, (b"x",))  # type: ignore[misc]
    requests = RequestParts()
    with pytest.raises(ValueError, match="start must be in the block"):
        scan.block_records("x\n", "auto", 5, 10, requests)
    with pytest.raises(ValueError, match="start must be in the block"):
        scan.block_records("x\n", "auto", 0, -1, requests)


@pytest.mark.skipif(not (SHARED_DATA / "elastic").exists(), reason="needs ../shared/data")
@pytest.mark.parametrize(
    ("name", "fmt"), [("elastic/apache_logs", "combined"), ("dabeaz/access-log", "common")]
)
def test_real_logs_give_the_same_columns_both_ways(name: str, fmt: str) -> None:
    lines = (SHARED_DATA / name).read_text(encoding="latin-1").splitlines(keepends=True)
    good_lines = "".join(line for line in lines if scan.block_lines_valid(line, fmt))
    assert len(good_lines) > 0.99 * sum(map(len, lines))  # one known bad line in elastic
    captured = BLOCK_FIELDS if fmt == "combined" else BLOCK_FIELDS[:6]
    assert scan.block_columns(good_lines, fmt, captured) == regex_columns(good_lines, fmt, captured)


@pytest.mark.parametrize(
    ("extension", "built"),
    [
        ("streamql.formats.access._scanner", lambda: scan.ACCELERATED),
        ("streamql.formats._logfmt", logfmt.cut_in_c),
    ],
)
def test_the_c_extensions_are_built_where_a_compiler_is(
    extension: str, built: Callable[[], bool]
) -> None:
    """A failed build of an optional extension must not pass unseen where it can be built."""
    headers = Path(sysconfig.get_paths()["include"], "Python.h").exists()
    if os.environ.get("STREAMQL_PURE") or not (shutil.which("cc") and headers):
        pytest.skip("no C compiler or Python headers: the regex path is the one in use")
    assert built(), f"{extension} did not build; pip install -e . shows why"


def test_streamql_pure_turns_the_c_scanner_off() -> None:
    code = "from streamql.formats.access import scan; print(scan.ACCELERATED)"
    env = {**os.environ, "STREAMQL_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_block_records_says_it_needs_the_c_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "_c_scan", None)
    assert not scan.builds_records()
    with pytest.raises(RuntimeError, match="see builds_records"):
        scan.block_records("x\n", "auto", 0, 10, RequestParts())
