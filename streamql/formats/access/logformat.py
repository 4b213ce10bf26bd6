r"""Access-log formats as data: a line program, its regular expression, and its records.

A format string (Apache ``LogFormat``, nginx ``log_format``, a preset; see
:mod:`streamql.formats.access.log_presets`) compiles to a :class:`LogFormat`: its
:class:`~streamql.core.schema.Schema`, its *program* (a tuple of ops saying how a
line is laid out, the contract the block scanner runs) and the converters
that turn the program's columns into record fields. The line parser and the
block scanner's regular expression are both built from the program by
:func:`program_regex`, so the two cannot disagree about what a line holds.

Ops (plain tuples): ``("lit", text)``; ``("run", col, stop, escaped,
nonempty)``: text up to the first ``stop`` character (``"\n"``: the end of the
line), a backslash taking the next character when ``escaped``;
``("int", col, dash)``: 1 to 18 digits, or ``-`` (None) when ``dash``;
``("status", col, dash)``: 3 digits or ``-``; ``("float", col, dash)``;
``("stamp", col)``: ``dd/Mon/yyyy:hh:mm:ss +zzzz`` checked in full;
``("opt",)``: the rest may be absent as a whole (its columns None);
``("end",)``: spaces or tabs, then the end of the line.

>>> prog = (("run", "host", " ", False, True), ("lit", " "), ("int", "bytes", True), ("end",))
>>> program_regex(prog, ("bytes",), "line").match("::1 4096 ").groups()
('4096',)
>>> program_regex(prog, ("bytes",), "block").findall("::1 4096\n::1 -\n::1 1234567890123456789\n")
['4096', '-']
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ...core.schema import Schema

__all__ = [
    "Op",
    "Program",
    "LogFormat",
    "Column",
    "MAX_DIGITS",
    "program_regex",
    "program_columns_of",
    "typed",
]

Op = tuple[Any, ...]
Program = tuple[Op, ...]

#: Integers longer than this are rejects (never an exception, never a huge int).
MAX_DIGITS = 18

# The timestamp, checked in full: month names, days per month, leap years,
# hours, minutes, seconds and offsets (the line parser needs no second look).
_LONG = "Jan|Mar|May|Jul|Aug|Oct|Dec"
_DAY = (
    "(?:(?:0[1-9]|1[0-9]|2[0-8])/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    f"|(?:29|30)/(?:Jan|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)|31/(?:{_LONG}))"
    "/(?!0000)[0-9]{4}"
    "|29/Feb/(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
)
STAMP = rf"(?:{_DAY}):(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-](?:[01][0-9]|2[0-3])[0-5][0-9]"


_POSSESSIVE = sys.version_info >= (3, 11)


def possessive(pattern: str) -> str:
    """``pattern`` with its possessive quantifiers (``*+``, ``++``, ``}+``) where Python has them.

    Before 3.11 they are plain (greedy) quantifiers: the same matches, since
    each token here stops at a character the next token must start with.
    """
    return pattern if _POSSESSIVE else re.sub(r"(?<=[*+}])\+", "", pattern)


def _body(op: Op, mode: str) -> str:
    """The regular expression of one capturing op (without its group)."""
    kind = op[0]
    if kind == "run":
        _, _, stop, escaped, nonempty = op
        # In a block, a run may pass a newline: the match then covers two lines
        # and the count of matches falls short of the count of lines (a refusal).
        # So no "\n" in the class, which the regex engine scans several times
        # faster as a one-character negated class.
        out = "\\n" if stop == "\n" or mode == "line" else ""
        out = out if stop == "\n" else re.escape(stop) + out
        if escaped and mode != "plain":  # "plain": a block without a backslash
            plain = f"[^{out}\\\\]*+"
            body = f"{plain}(?:\\\\.{plain})*+"
            return f"(?=[^{out}]){body}" if nonempty else body
        return f"[^{out}]{'+' if nonempty else '*'}+"
    dash = "|-" if len(op) > 2 and op[2] else ""
    if kind == "int":
        # The block refuses 19 digits or more outright; the line parser takes
        # them so that it can say why it rejects the line.
        return ("[0-9]++" if mode == "line" else "[0-9]{1,18}+") + dash
    if kind == "status":
        return "[0-9]{3}" + dash
    if kind == "float":
        return r"[0-9]++(?:\.[0-9]++)?+" + dash
    if kind == "stamp":
        return STAMP
    raise ValueError(f"program: unknown op {op!r}")


def _end(mode: str) -> str:
    return r"\s*\Z" if mode == "line" else r"[ \t]*$"


def _pieces(program: Sequence[Op], capture: frozenset[str], mode: str) -> str:
    out: list[str] = []
    for i, op in enumerate(program):
        kind = op[0]
        if kind == "lit":
            out.append(re.escape(op[1]))
        elif kind == "end":
            out.append(_end(mode))
        elif kind == "opt":
            rest = _pieces(program[i + 1 :], capture, mode)
            out.append(f"(?:{_end(mode)}|{rest})")
            break
        else:
            body = _body(op, mode)
            out.append(f"({body})" if op[1] in capture else f"(?:{body})")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def program_regex(program: Program, capture: tuple[str, ...], mode: str) -> re.Pattern[str]:
    r"""Compile ``program`` to one regular expression capturing the ``capture`` columns.

    ``mode`` is ``"line"`` (one line: anchored at its start, ``\s*`` then its
    end; integers of any length, so the parser can name an overlong one) or
    ``"block"`` (every line of a block, multiline; 19 digits or more refused)
    or ``"plain"`` (the same, for a block without a backslash: an escaped run
    is then a plain one, which the regex engine scans several times faster).
    The groups follow the program's order. The one place ops become a regex.
    """
    if not program or program[-1] != ("end",):
        raise ValueError(f"program: the last op must be ('end',), got {program[-1:]!r}")
    names = [op[1] for op in program if op[0] not in ("lit", "opt", "end")]
    if [n for n in names if n in capture] != list(capture):
        raise ValueError(f"program_regex: capture columns of {names}, in order: {capture}")
    text = possessive(_pieces(program, frozenset(capture), mode))
    if mode == "line":
        return re.compile(text)
    return re.compile("^" + text, re.MULTILINE)


def typed(op: Op, text: str | None) -> Any:
    """The column value of ``text`` as ``op`` captured it; ValueError names what is wrong."""
    if text is None:  # after an ("opt",) the line lacks
        return None
    kind = op[0]
    if kind in ("run", "stamp"):
        return text
    if text == "-":
        return None
    if kind == "float":
        return float(text)
    if len(text) > MAX_DIGITS:
        raise ValueError(f"overlong integer in {op[1]} ({len(text)} digits)")
    return int(text)


def _type_column(op: Op, values: list[str]) -> list[Any]:
    """A block's column of ``op`` as :func:`typed` gives each value."""
    kind = op[0]
    if kind in ("run", "stamp"):
        return values
    none = "-" in values or "" in values  # "": the line lacked it, after an opt
    convert: Callable[[str], Any] = float if kind == "float" else int
    if not none:
        return list(map(convert, values))
    return [None if v in ("-", "") else convert(v) for v in values]


def program_columns_of(
    block: str, program: Program, capture: tuple[str, ...], lines: int
) -> dict[str, list[Any]] | None:
    """The ``capture`` columns of every line of ``block`` by the regex; None if one is refused."""
    pattern = program_regex(program, capture, "block" if "\\" in block else "plain")
    if not capture:
        return {} if pattern.subn("", block)[1] == lines else None
    ops = {op[1]: op for op in program if op[0] not in ("lit", "opt", "end")}
    if ("opt",) in program:  # findall gives "" for a group the line lacks: keep None
        found: list[Any] = [m.groups() for m in pattern.finditer(block)]
        if len(found) != lines:
            return None
        return {
            name: [
                t[i] if ops[name][0] in ("run", "stamp") else typed(ops[name], t[i]) for t in found
            ]
            for i, name in enumerate(capture)
        }
    found = pattern.findall(block)
    if len(found) != lines:
        return None
    if len(capture) == 1:
        return {capture[0]: _type_column(ops[capture[0]], found)}
    return {name: _type_column(ops[name], [t[i] for t in found]) for i, name in enumerate(capture)}


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a program and the record fields made from it.

    ``fields`` pairs each field's name with the function that makes its value
    from the column's typed value (:func:`typed`); the function raises
    ValueError for a value the line cannot hold (a reject). ``checked``: it
    may (a time read by ``fromisoformat`` or ``strptime``), so the block path
    runs it on every line too, and refuses a block where it raises.
    """

    op: Op
    fields: tuple[tuple[str, Callable[[Any], Any]], ...]
    checked: bool = False


@dataclasses.dataclass(frozen=True)
class LogFormat:
    """A compiled access-log format: its name, text, program, schema and columns.

    ``name`` is the preset's name or the format string; ``kind`` says which
    language the text is in (``"apache"`` or ``"nginx"``).
    """

    name: str
    text: str
    kind: str
    program: Program
    schema: Schema
    columns: tuple[Column, ...]

    def __repr__(self) -> str:
        return f"LogFormat({self.name!r})"

    @functools.cached_property
    def _line(self) -> re.Pattern[str]:
        capture = tuple(c.op[1] for c in self.columns)
        return program_regex(self.program, capture, "line")

    def parse_line(self, line: str) -> dict[str, Any] | str:
        """The record of ``line``, or the reason it is rejected (a str).

        >>> from streamql.formats.access.log_presets import compile_format
        >>> fmt = compile_format('$remote_addr [$time_local] $status $request_time')
        >>> r = fmt.parse_line('::1 [24/Feb/2008:00:08:59 -0600] 404 0.25')
        >>> r["status"], r["request_time"], r["datetime"].isoformat()
        (404, 0.25, '2008-02-24T00:08:59-06:00')
        >>> fmt.parse_line('::1 [24/Feb/2008:00:08:59 -0600] 404 x')
        'bad request_time field'
        """
        if "\x00" in line:
            return "NUL byte in line"
        m = self._line.match(line)
        if m is None:
            return self.diagnose(line)
        record: dict[str, Any] = {}
        try:
            for column, text in zip(self.columns, m.groups(), strict=True):
                value = typed(column.op, text)
                for name, make in column.fields:
                    record[name] = make(value)
        except ValueError as exc:
            return str(exc)
        return record

    def diagnose(self, line: str) -> str:
        """Name what is wrong with a line the program refused, walking it op by op."""
        if not line.strip():
            return "blank line"
        pos, last = 0, "the start of the line"
        end = re.compile(_end("line"))
        for op in self.program:
            kind = op[0]
            if kind == "opt":
                if end.match(line, pos):
                    break
                continue
            if kind == "end":
                return f"unexpected text after {last}"
            text = re.escape(op[1]) if kind == "lit" else possessive(_body(op, "line"))
            m = re.compile(text).match(line, pos)
            if m is None:
                if kind == "lit":
                    return f"expected {op[1]!r} after {last}"
                return "bad datetime" if kind == "stamp" else f"bad {op[1]} field"
            pos = m.end()
            last = last if kind == "lit" else op[1]
        return "not a line of this format"  # not reached while the two walks agree
