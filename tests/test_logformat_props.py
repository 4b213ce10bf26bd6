"""Generated formats and lines: the line parser and the block path agree, field for field.

Formats are drawn from the Apache directives and nginx variables; lines from
each format's fields, with escapes, ``-`` wherever a field allows it,
Unicode, huge numbers and a damaged character here and there. The block path
(the program's regular expression, or a C interpreter of it) may refuse a
block of good lines, but must never accept a line the line parser rejects,
and where it accepts, its columns give the parser's values.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from apache_lines import good, likely_good
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.core.context import RunContext
from streamql.core.errors import RejectedLinesWarning
from streamql.formats.access.apache import parse_apache_line
from streamql.formats.access.log_parse import parse_compiled
from streamql.formats.access.log_presets import compile_format
from streamql.formats.access.program_scan import FormatReader, program_columns
from streamql.planner.optimize import NONE

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ODD = '"\\ -\t\x00\x01é€\U0001f600\u2028[]:0123456789.'
word = st.one_of(
    st.just("-"),
    st.text(
        st.characters(blacklist_characters=' \n"\\', blacklist_categories=["Cs"]),
        min_size=1,
        max_size=8,
    ),
)
digits = st.one_of(
    st.just("-"), st.integers(0, 10**6).map(str), st.integers(1, 30).map(lambda n: "9" * n)
)
inside = st.lists(
    st.one_of(
        st.text(
            st.characters(blacklist_characters='\n"\\', blacklist_categories=["Cs"]), max_size=6
        ),
        st.sampled_from(['\\"', "\\\\", "\\x16", " ", " HTTP/1.1", "GET "]),
    ),
    max_size=5,
).map("".join)
stamp = st.one_of(
    st.sampled_from(
        ["24/Feb/2008:00:08:59 -0600", "29/Feb/2008:23:59:59 +0000", "01/Jan/0001:00:00:00 +1400"]
    ),
    st.sampled_from(
        ["29/Feb/2007:00:00:00 +0000", "24/Foo/2008:00:08:59 -0600", "24/Feb/2008:24:00:00 +0000"]
    ),
)
iso = st.sampled_from(
    [
        "2008-02-24T00:08:59-06:00",
        "2008-02-24T00:08:59Z",
        "2008-02-30T00:08:59+00:00",
        "2008-02-24T00:08:59",
        "yesterday",
        "-",
    ]
)
floats = st.one_of(st.just("-"), st.sampled_from(["0.123", "12", "1.", ".5", "0.000"]))

# directive -> (how it is written in a format, a strategy for its text in a line, quoted)
APACHE = {
    "%h": (word, False),
    "%l": (word, False),
    "%u": (word, False),
    "%>s": (digits, False),
    "%b": (digits, False),
    "%B": (digits, False),
    "%D": (digits, False),
    "%T": (digits, False),
    "%v": (word, False),
    "%U": (word, False),
    "%r": (inside, True),
    "%{Referer}i": (inside, True),
    "%{User-Agent}i": (inside, True),
    "%X": (word, False),
    "%t": (stamp, False),
    "%p": (digits, False),
}
NGINX = {
    "$remote_addr": (word, False),
    "$remote_user": (word, False),
    "$status": (digits, False),
    "$body_bytes_sent": (digits, False),
    "$request_time": (floats, False),
    "$request": (inside, True),
    "$http_referer": (inside, True),
    "$http_x_forwarded_for": (inside, True),
    "$host": (word, False),
    "$upstream_status": (word, False),
    "$time_local": (stamp, False),
    "$ssl_protocol": (word, False),
    "$time_iso8601": (iso, False),
}


@st.composite
def formats_and_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    table = draw(st.sampled_from([APACHE, NGINX]))
    names = draw(st.lists(st.sampled_from(sorted(table)), min_size=1, max_size=6))
    pieces = []
    for name in names:
        _, quoted = table[name]
        written = f'"{name}"' if quoted else f"[{name}]" if name == "$time_local" else name
        pieces.append(written)
    fmt = " ".join(pieces)
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        parts = []
        for name in names:
            strategy, quoted = table[name]
            text = draw(strategy)
            if name in ("%t", "$time_local"):
                text = f"[{text}]"
            parts.append(f'"{text}"' if quoted else text)
        line = " ".join(parts)
        if draw(st.integers(0, 4)) == 0:  # a damaged character
            at = draw(st.integers(0, len(line)))
            line = line[:at] + draw(st.sampled_from(ODD)) + line[at + 1 :]
        lines.append(line + draw(st.sampled_from(["", " ", "\t"])))
    return fmt, lines


def line_records(fmt: Any, lines: list[str]) -> list[Any]:
    return list(parse_compiled(iter(lines), fmt, "keep", RunContext(), None))


@SETTINGS
@given(formats_and_lines())
def test_the_block_path_never_accepts_a_rejected_line_and_gives_the_parsers_fields(
    case: tuple[str, list[str]],
) -> None:
    text, lines = case
    fmt = compile_format(text)
    reader = FormatReader(fmt)
    capture = tuple(c.op[1] for c in fmt.columns)
    records = line_records(fmt, lines)
    for line, record in zip(lines, records, strict=True):
        hit = reader.hits(line + "\n", capture, ())  # the program, and the checked times
        found = None if hit is None else hit[0]
        if "reason" in record:
            assert found is None, (text, line, record["reason"])
        elif found is not None:
            for field in fmt.schema.fields:
                if field.column is not None:
                    assert reader.field(field.name, found, None) == [record[field.name]], field
    block = "\n".join(lines) + "\n"
    hit = reader.hits(block, capture, ())
    whole = None if hit is None else hit[0]
    if whole is not None:
        assert all("reason" not in r for r in records)
        for field in fmt.schema.fields:
            if field.column is not None:
                assert reader.field(field.name, whole, None) == [r[field.name] for r in records]
    needles = ("9", "-")
    hits = program_columns(block, fmt.program, capture, needles)
    assert (hits is None) == (program_columns(block, fmt.program, capture) is None)
    if hits is not None:
        assert hits["#rows"] == [
            i for i, line in enumerate(lines) if any(n in line for n in needles)
        ]


@SETTINGS
@given(formats_and_lines(), st.integers(1, 400))
def test_planned_queries_give_the_plain_answers_and_rejects(
    tmp_path: Path, case: tuple[str, list[str]], block: int
) -> None:
    import streamql.ops.batches as batches

    text, lines = case
    fmt = compile_format(text)
    path = tmp_path / "log"
    path.write_text("\n".join(lines * 3) + "\n", encoding="utf-8", newline="\n")
    old, batches.BLOCK_CHARS = batches.BLOCK_CHARS, block
    try:
        log = Stream.lines(path).parse_apache(text)
        field = next((f.name for f in fmt.schema.fields if f.column and f.type is int), None)
        terminals: list[Any] = [lambda q: q.count(), lambda q: q.rejects.list()]
        if field is not None:
            terminals += [lambda q: q.count_by(field), lambda q: q.set(field)]
        for terminal in terminals:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RejectedLinesWarning)
                assert terminal(log) == terminal(log.using(options=NONE))
    finally:
        batches.BLOCK_CHARS = old


@SETTINGS
@given(st.sampled_from(["common", "combined", "auto"]), st.data())
def test_the_tuned_parser_and_the_compiled_preset_agree_on_plain_lines(
    name: str, data: st.DataObject
) -> None:
    """Where both read a line, the tuned parser and its preset's program give the same record."""
    line = data.draw(st.one_of(good, likely_good))
    compiled = compile_format(name).parse_line(line)
    try:
        tuned: Any = parse_apache_line(line, name)
    except ValueError:
        tuned = None
    if tuned is not None and isinstance(compiled, dict):
        assert tuned == compiled
    plain = all(c == " " or not c.isspace() for c in line.rstrip())
    if plain and "\x00" not in line:  # the tuned parser splits at any space, the program at " "
        assert (tuned is None) == (not isinstance(compiled, dict)), (line, compiled)
