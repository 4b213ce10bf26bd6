"""The C line-program scanner against a plain regex made from the same ops, and against today's.

``reference`` below reads PROGRAM.md's contract as one regular expression a
line must match in full, every op possessive (no op is tried twice), and
the stamp checked with the calendar. Programs are generated as a format
compiler writes them (fields with literals between, a run's stop the first
character of the literal after it), lines from each program, then mutated.
"""

from __future__ import annotations

import calendar
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from apache_lines import likely_good, timestamps, valid_line
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tutorial_reference import SHARED_DATA

from streamql.formats.access import cprogram, scan
from streamql.formats.access.apache_schema import BLOCK_FIELDS
from streamql.formats.access.cprogram import APACHE_PROGRAMS, Program

needs_c = pytest.mark.skipif(
    not cprogram.available(), reason="the C scanner is not in use (not built, or STREAMQL_PURE set)"
)
EXAMPLES = int(os.environ.get("STREAMQL_EXAMPLES", "120"))
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# ---------------------------------------------------------------- the reference


def good_stamp(text: str) -> bool:
    """The stamp op's test, with the calendar: dd/Mon/yyyy:hh:mm:ss +zzzz, all of it valid."""
    shape = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}"
    if not re.fullmatch(shape, text) or text[3:6] not in MONTHS:
        return False
    day, year = int(text[0:2]), int(text[7:11])
    if day == 0 or year == 0 or day > calendar.monthrange(year, MONTHS.index(text[3:6]) + 1)[1]:
        return False
    hours, minutes, seconds = int(text[12:14]), int(text[15:17]), int(text[18:20])
    return (
        hours <= 23
        and minutes <= 59
        and seconds <= 59
        and int(text[22:24]) <= 23
        and (int(text[24:26]) <= 59)
    )


def atomic(name: str, body: str) -> str:
    """``body`` matched once and never given back (a possessive group, on any Python)."""
    return f"(?=(?P<{name}>{body}))(?P={name})"


def reference_pattern(ops: Program) -> re.Pattern[str]:
    """One line (without its newline) that fits ``ops``, as a regex; group g<k> is op k."""
    parts, opts = [], 0
    for k, op in enumerate(ops):
        kind, name = op[0], f"g{k}"
        if kind == "lit":
            parts.append(re.escape(op[1]))
        elif kind == "run":
            stop, escaped, nonempty = re.escape(op[2]), op[3], op[4]
            one = rf"(?:[^{stop}\\]|\\.)" if escaped else f"[^{stop}]"
            parts.append(atomic(name, one + ("+" if nonempty else "*")))
        elif kind in ("int", "status", "float"):
            digits = {
                "int": "[0-9]{1,18}(?![0-9])",
                "status": "[0-9]{3}(?![0-9])",
                "float": r"[0-9]+(?:\.[0-9]+)?",
            }[kind]
            parts.append(atomic(name, f"-|{digits}" if op[2] else digits))
        elif kind == "stamp":
            parts.append(f"(?P<{name}>.{{26}})")
        elif kind == "opt":  # the line may end here: then nothing later is matched
            parts.append(r"(?:(?=[ \t]*\Z)|")
            opts += 1
        else:  # end
            parts.append(")" * opts + r"[ \t]*")
    return re.compile("".join(parts))


def reference(block: str, ops: Program, capture: tuple[str, ...]) -> dict[str, list[Any]] | None:
    """What the scanner must answer: the columns of every line, or None if one does not fit."""
    pattern = reference_pattern(ops)
    where = {op[1]: (k, op[0]) for k, op in enumerate(ops) if len(op) > 1 and op[0] != "lit"}
    lines = block.split("\n")
    if lines[-1] == "":
        lines.pop()
    found: dict[str, list[Any]] = {name: [] for name in capture}
    for line in lines:
        match = pattern.fullmatch(line)
        if match is None:
            return None
        stamps = [match[f"g{k}"] for k, op in enumerate(ops) if op[0] == "stamp"]
        if not all(good_stamp(s) for s in stamps if s is not None):
            return None
        for name in capture:
            k, kind = where[name]
            text = match[f"g{k}"]
            if text is None or kind in ("run", "stamp"):
                found[name].append(text)
            elif text == "-":
                found[name].append(None)
            else:
                found[name].append(float(text) if kind == "float" else int(text))
    return found


def test_the_reference_reads_the_contract() -> None:
    ops = APACHE_PROGRAMS["auto"]
    line = 'h - - [24/Feb/2008:00:08:59 -0600] "GET /a\\"b HTTP/1.1" 200 -  \n'
    assert reference(line, ops, ("req", "bytes", "agent")) == {
        "req": ['GET /a\\"b HTTP/1.1'],
        "bytes": [None],
        "agent": [None],
    }
    assert reference(line.replace("24/", "29/"), ops, ()) is not None  # 2008: a leap year
    assert reference(line.replace("2008", "2007").replace("24/", "29/"), ops, ()) is None
    assert reference(line.replace(" -  ", " " + "9" * 19), ops, ()) is None
    assert reference("", ops, ("host",)) == {"host": []}


# ---------------------------------------------------------------- generated programs and lines

LITERALS = [
    " ",
    '"',
    " [",
    '] "',
    '" ',
    "\t",
    "|",
    ", ",
    "\u00e9",
    "\u2192",
    "\U0001f600",
    "ab",
    ":",
]
FIELDS = ["run", "run", "int", "status", "float", "stamp"]


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """A program as a format compiler writes one: fields, literals between, stops from them."""
    kinds = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5))
    between = [draw(st.sampled_from(LITERALS)) for _ in kinds[1:]]
    lead, tail = draw(st.sampled_from(["", "[", "\u00e9 "])), draw(st.sampled_from(["", '"', "]"]))
    opt_after = draw(st.sets(st.integers(0, len(kinds) - 1), max_size=2))
    seq: list[tuple[Any, ...]] = [("lit", lead)] if lead else []
    for j, kind in enumerate(kinds):
        col = draw(st.sampled_from([f"c{j}", f"c{j}", f"c{j}", None]))
        if kind == "run":
            seq.append(("run", col, None, draw(st.booleans()), draw(st.booleans())))
        elif kind == "stamp":
            seq.append(("stamp", col))
        else:
            seq.append((kind, col, draw(st.booleans())))
        if j in opt_after:
            seq.append(("opt",))
        text = between[j] if j < len(between) else tail
        if text:
            seq.append(("lit", text))
    seq.append(("end",))
    ops: list[tuple[Any, ...]] = []
    for k, op in enumerate(seq):  # a run stops at the first character of the next literal
        if op[0] == "run":
            after = [o[1] for o in seq[k + 1 :] if o[0] == "lit"]
            op = (*op[:2], after[0][0] if after else "\n", *op[3:])
        ops.append(op)
    return tuple(ops)


@st.composite
def arbitrary_programs(draw: st.DrawFn) -> Program:
    """Any well-formed program: fields side by side, stops at random, opts anywhere."""
    ops: list[tuple[Any, ...]] = []
    for j in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["lit", "opt", *FIELDS]))
        col = draw(st.sampled_from([f"c{j}", None]))
        if kind == "lit":
            ops.append(("lit", draw(st.sampled_from(LITERALS))))
        elif kind == "opt":
            ops.append(("opt",))
        elif kind == "run":
            stop = draw(st.sampled_from([" ", '"', "\n", "|", "\u00e9", "0", "\\"]))
            escaped = draw(st.booleans()) and stop != "\\"
            ops.append(("run", col, stop, escaped, draw(st.booleans())))
        elif kind == "stamp":
            ops.append(("stamp", col))
        else:
            ops.append((kind, col, draw(st.booleans())))
    return (*ops, ("end",))


RUN_CHARS = 'ab -"\\\t\x00\u00e9\u2603\U0001f600/[]|,.:0'
ODD = '"\\\n \t[]:/-+.0123456789Feb\r\x00\x0b\x85\xa0\u2028\u00e9\u2603\U0001f600'


@st.composite
def fitting_line(draw: st.DrawFn, ops: Program) -> str:
    """A line of ``ops`` (mostly fitting: huge ints and bad dates come now and then)."""
    out = []
    for op in ops:
        kind = op[0]
        if kind == "lit":
            out.append(op[1])
        elif kind == "run":
            stop, escaped, nonempty = op[2], op[3], op[4]
            plain = [c for c in RUN_CHARS if c != stop and not (escaped and c == "\\")]
            pieces = st.sampled_from(plain)
            if escaped:
                pieces = st.one_of(pieces, st.sampled_from(RUN_CHARS).map(lambda c: "\\" + c))
            longest = draw(st.sampled_from([6, 6, 20, 40]))  # the C scanner reads 8 at a time
            out.append("".join(draw(st.lists(pieces, min_size=int(nonempty), max_size=longest))))
        elif kind in ("int", "status", "float"):
            width = {"int": st.integers(1, 22), "status": st.sampled_from([3, 3, 3, 2, 4])}
            digits = "".join(
                draw(st.lists(st.sampled_from("0123456789"), min_size=1, max_size=25))
                if kind == "float"
                else [draw(st.sampled_from("0123456789")) for _ in range(draw(width[kind]))]
            )
            if kind == "float" and draw(st.booleans()):
                digits += "." + draw(st.sampled_from(["0", "25", "123456789", ""]))
            out.append("-" if op[2] and draw(st.integers(0, 3)) == 0 else digits)
        elif kind == "stamp":
            out.append(draw(timestamps))
        elif kind == "opt" and draw(st.booleans()):
            out.append(draw(st.sampled_from(["", " ", "\t ", " x"])))
            break
        elif kind == "end":
            out.append(draw(st.sampled_from(["", "", " ", "\t", " \t "])))
    return "".join(out)


@st.composite
def mutated(draw: st.DrawFn, line: str) -> str:
    """``line`` with up to two characters put in, swapped or removed, or cut short."""
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(line)))
        what = draw(st.sampled_from(["insert", "replace", "delete", "cut"]))
        char = draw(st.sampled_from(ODD))
        line = {
            "insert": line[:at] + char + line[at:],
            "replace": line[:at] + char + line[at + 1 :],
            "delete": line[:at] + line[at + 1 :],
            "cut": line[:at],
        }[what]
    return line


@st.composite
def blocks_of(draw: st.DrawFn, line: st.SearchStrategy[str]) -> str:
    """One to five lines, sometimes empty, with or without the final newline."""
    lines = draw(st.lists(st.one_of(line, line, line, st.just("")), min_size=1, max_size=5))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "\n", ""]))


@st.composite
def program_and_block(draw: st.DrawFn) -> tuple[Program, str, tuple[str, ...]]:
    ops = draw(st.one_of(programs(), programs(), arbitrary_programs()))
    line = fitting_line(ops)
    block = draw(blocks_of(st.one_of(line, line, line.flatmap(mutated))))
    names = [op[1] for op in ops if len(op) > 1 and op[0] != "lit" and op[1] is not None]
    capture = draw(
        st.permutations(names).flatmap(lambda p: st.integers(0, len(p)).map(lambda n: tuple(p[:n])))
    )
    return ops, block, capture


@needs_c
@settings(max_examples=EXAMPLES * 8, deadline=None)
@given(program_and_block())
def test_the_scanner_fits_and_cuts_what_the_reference_does(
    case: tuple[Program, str, tuple[str, ...]],
) -> None:
    ops, block, capture = case
    assert cprogram.columns(block, ops, capture) == reference(block, ops, capture)


@needs_c
@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(
    program_and_block(),
    st.lists(st.sampled_from(["a", "\u00e9", "\U0001f600", "-", "0", ":", "zz", ""]), max_size=3),
)
def test_needles_pick_the_lines_holding_them(
    case: tuple[Program, str, tuple[str, ...]], needles: list[str]
) -> None:
    ops, block, capture = case
    every = reference(block, ops, capture)
    got = cprogram.hits(block, ops, capture, tuple(needles))
    if every is None:
        assert got is None
        return
    assert got is not None
    columns, rows = got
    if rows is None:  # every line was cut
        assert not needles or "" in needles
        assert columns == every
        return
    lines = block.split("\n")[: block.count("\n") + (not block.endswith("\n"))]
    want = [k for k, line in enumerate(lines) if any(n in line for n in needles)]
    assert rows == want
    assert columns == {name: [every[name][k] for k in want] for name in capture}


# ---------------------------------------------------------------- today's formats as programs


def holds_space(block: str) -> bool:
    """Whether a line's host, ident or user holds whitespace other than the space (\\S in regex)."""
    return any(
        any(c.isspace() for c in token)
        for line in block.split("\n")
        for token in line.split(" ")[:3]
    )


def huge_bytes(block: str) -> bool:
    """Whether a line's bytes has 19 digits or more (a program refuses the line)."""
    return re.search(r"\] \"(?:[^\"\\\n]|\\.)*\" [0-9]{3} [0-9]{19}", block) is not None


@needs_c
@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(
    blocks_of(st.one_of(valid_line, likely_good, likely_good.flatmap(mutated))),
    st.sampled_from(["common", "combined", "auto"]),
)
def test_apache_programs_give_what_block_columns_gives(block: str, fmt: str) -> None:
    fields = BLOCK_FIELDS if fmt == "combined" else BLOCK_FIELDS[:6]
    assume(block != "")  # no line to a program, one empty line to block_columns: refused
    want = scan.block_columns(block, fmt, fields)
    got = cprogram.columns(block, APACHE_PROGRAMS[fmt], fields)
    if got is None:
        assert want is None or huge_bytes(block)
        return
    if want is None:  # the program's run stops at a space only, \S at any whitespace
        assert holds_space(block)
        return
    got["bytes"] = [0 if b is None else b for b in got["bytes"]]  # today's columns say 0
    assert got == want


@needs_c
def test_the_known_difference_from_block_columns() -> None:
    line = 'h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 {size}\n'
    huge = line.format(size="9" * 19)
    # Both refuse 19 digits now: the line parser makes such a line a counted reject.
    assert scan.block_columns(huge, "common", ("bytes",)) is None
    assert cprogram.columns(huge, APACHE_PROGRAMS["common"], ("bytes",)) is None
    spaced = "x\ty" + line.format(size=1)[1:]
    assert scan.block_columns(spaced, "common", ("host",)) is None
    assert cprogram.columns(spaced, APACHE_PROGRAMS["common"], ("host",)) == {"host": ["x\ty"]}


@pytest.mark.skipif(not (SHARED_DATA / "elastic").exists(), reason="needs ../shared/data")
@needs_c
@pytest.mark.parametrize(
    ("name", "fmt"), [("elastic/apache_logs", "combined"), ("dabeaz/access-log", "common")]
)
def test_real_logs_give_the_same_columns(name: str, fmt: str) -> None:
    lines = (SHARED_DATA / name).read_text(encoding="latin-1").splitlines(keepends=True)
    good = "".join(line for line in lines if scan.block_lines_valid(line, fmt))
    fields = BLOCK_FIELDS if fmt == "combined" else BLOCK_FIELDS[:6]
    got = cprogram.columns(good, APACHE_PROGRAMS[fmt], fields)
    assert got is not None
    got["bytes"] = [0 if b is None else b for b in got["bytes"]]
    assert got == scan.block_columns(good, fmt, fields)


# ---------------------------------------------------------------- widths, numbers, errors


@needs_c
def test_every_width_of_str_and_the_number_limits() -> None:
    ops = (
        ("run", "a", " ", True, True),
        ("lit", " "),
        ("int", "n", True),
        ("lit", " "),
        ("float", "f", True),
        ("opt",),
        ("lit", " "),
        ("stamp", "t"),
        ("end",),
    )
    for wide in ["x", "\u00e9", "\u2603", "\U0001f600"]:
        block = f"{wide}\\ {wide} 123456789012345678 0.5\n{wide} - - 24/Feb/2008:00:08:59 -0600"
        assert cprogram.columns(block, ops, ("a", "n", "f", "t")) == {
            "a": [f"{wide}\\ {wide}", wide],
            "n": [123456789012345678, None],
            "f": [0.5, None],
            "t": [None, "24/Feb/2008:00:08:59 -0600"],
        }
        assert cprogram.columns(f"{wide} 1234567890123456789 1\n", ops, ("n",)) is None
        assert cprogram.columns(f"{wide}\0 1 {'1' * 400}.5\n", ops, ("f",)) == {
            "f": [float("1" * 400 + ".5")]
        }
        assert cprogram.columns(f"{wide} 1 1 24/Feb/2008:00:08:59 -0600\0", ops, ()) is None


@needs_c
@pytest.mark.parametrize("stop", [" ", '"', "\n", "\u00e9", "\u2603"])
@pytest.mark.parametrize("escaped", [False, True])
def test_long_runs_stop_at_every_offset(stop: str, escaped: bool) -> None:
    """A run reads Latin-1 eight characters at a time: any offset of a stop, a newline or a
    backslash, in any width of str, ends it where the reference does."""
    tail = "" if stop == "\n" else stop
    ops = (("run", "r", stop, escaped, False), *((("lit", tail),) if tail else ()), ("end",))
    for wide in ["a", "\u00ff", "\u0100", "\U0001f600"]:
        for at in range(26):
            for char in [stop, "\n", "\\", "\\" + stop, '\\"', "\\\n", "\x00"]:
                body = wide + "x" * 24
                line = body[:at] + char + body[at:] + tail
                bare = body[:at] + char + body[at:]  # Latin-1, where the stop is not
                for block in (line, line + "\n", line + "\n" + line[:at], bare, bare + "\n"):
                    assert cprogram.columns(block, ops, ("r",)) == reference(block, ops, ("r",))


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ((), "a program is a non-empty tuple"),
        ([("end",)], "a tuple of op tuples"),
        ((("end",), ("end",)), r"op 0, \('end',\): end must be the last op"),
        ((("lit", "x"),), r"op 0, \('lit', 'x'\): end must be the last op"),
        ((("lit", ""), ("end",)), "op 0.*non-empty str without a newline"),
        ((("lit", "a\nb"), ("end",)), "op 0.*non-empty str without a newline"),
        ((("word", "x"), ("end",)), r"op 0, \('word', 'x'\): not an op"),
        ((("run", "a", " ", False), ("end",)), "op 0.*run takes 4 items"),
        ((("run", "a", "  ", False, True), ("end",)), "op 0.*one character"),
        ((("run", "a", "\\", True, True), ("end",)), "cannot stop at a backslash"),
        ((("int", "a", 1), ("end",)), "op 0.*dash must be a bool"),
        ((("int", 3, True), ("end",)), "op 0.*column must be a str or None"),
        ((("stamp", "a"), ("lit", " "), ("stamp", "a"), ("end",)), "op 2.*'a' comes earlier"),
        ((("opt", 1), ("end",)), "opt takes 0 items"),
    ],
)
def test_compile_names_the_bad_op(ops: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        cprogram.compile(ops)


@needs_c
def test_bad_captures_and_needles_are_clear_errors() -> None:
    ops = (("run", "a", "\n", False, False), ("end",))
    with pytest.raises(ValueError, match="capture 'b' is not a column"):
        cprogram.columns("x\n", ops, ("b",))
    with pytest.raises(ValueError, match=r"capture 'a' .*comes twice"):
        cprogram.columns("x\n", ops, ("a", "a"))
    with pytest.raises(TypeError, match="capture must be a tuple"):
        cprogram.columns("x\n", ops, ["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most 16 needles"):
        cprogram.hits("x\n", ops, ("a",), tuple("abcdefghijklmnopq"))
    with pytest.raises(TypeError, match="needles must be a tuple of str"):
        cprogram.hits("x\n", ops, ("a",), (b"x",))  # type: ignore[arg-type]


@needs_c
def test_the_c_entry_points_check_their_arguments() -> None:
    from streamql.formats.access import _scanner

    with pytest.raises(TypeError, match="must come from compile_program"):
        _scanner.program_scan("x", object(), ())
    with pytest.raises(ValueError, match="op 1"):
        _scanner.compile_program((("lit", "x"), ("status", None, None), ("end",)))


@needs_c
def test_no_memory_is_kept_on_any_path() -> None:
    """Answers, refusals and errors all give back what they took (lists, spans, programs)."""
    ops = APACHE_PROGRAMS["auto"]
    good = 'h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1 "r" "a"\n' * 200
    bad = good + "garbage\n"

    def every_path() -> None:
        cprogram.columns(good, ops, ("host", "status", "agent"))
        cprogram.columns(bad, ops, ("host", "status", "agent"))
        cprogram.hits(good, ops, ("req",), ("GET",))
        cprogram.hits(bad, ops, ("req",), ("GET",))
        with pytest.raises(ValueError):
            cprogram.columns(good, ops, ("host", "nope"))
        with pytest.raises(ValueError):
            cprogram.compile((("lit", "x"), ("int", "n", True), ("int", "n", True), ("end",)))

    every_path()
    tracemalloc.start()
    try:
        every_path()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            every_path()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes kept after 200 rounds"


def test_without_the_c_scanner_compile_still_checks_and_then_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cprogram, "_compile_c", None)
    monkeypatch.setattr(cprogram, "_scan_c", None)
    monkeypatch.setattr(cprogram, "_CACHE", {})
    assert not cprogram.available()
    with pytest.raises(ValueError, match="dash must be a bool"):
        cprogram.compile((("int", "n", None), ("end",)))
    with pytest.raises(RuntimeError, match="see available"):
        cprogram.columns("1\n", (("int", "n", True), ("end",)), ("n",))


@needs_c
def test_the_cache_tells_true_from_one() -> None:
    good = (("int", "n", True), ("end",))
    assert cprogram.compile(good) is cprogram.compile(tuple(list(good)))
    with pytest.raises(ValueError, match="dash must be a bool"):
        cprogram.compile((("int", "n", 1), ("end",)))  # equal to good, and hashed alike


def test_streamql_pure_turns_programs_off() -> None:
    code = "from streamql.formats.access import cprogram; print(cprogram.available())"
    env = {**os.environ, "STREAMQL_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_programs_run_in_c_where_a_compiler_is() -> None:
    """A failed build of the optional scanner must not pass unseen where it can be built."""
    headers = Path(sysconfig.get_paths()["include"], "Python.h").exists()
    if os.environ.get("STREAMQL_PURE") or not (shutil.which("cc") and headers):
        pytest.skip("no C compiler or Python headers: the regex path is the one in use")
    assert cprogram.available(), (
        "streamql.formats.access._scanner did not build; pip install -e . shows why"
    )
