r"""Run a compiled format's line program over a whole block: its columns, or a refusal.

:func:`program_columns` is the block scanner of every compiled format
(:class:`~streamql.formats.access.logformat.LogFormat`): it checks that every line of a
block fits the program and returns the columns asked for, one list per
column, or None when any line does not fit (the caller then parses that block
line by line, so a refusal costs time, never an answer). It runs the regular
expression :func:`~streamql.formats.access.logformat.program_regex` builds from the program,
the one the line parser is built from; a C interpreter of the same program
can take its place (:data:`C_PROGRAM`), and must give the same answers.

>>> from streamql.formats.access.log_presets import compile_format
>>> prog = compile_format("nginx").program
>>> block = ('1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 10 "-" "curl" "-"\n'
...          '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /b HTTP/1.1" 200 5 "-" "curl" "-"\n')
>>> program_columns(block, prog, ("status", "bytes"))
{'status': [404, 200], 'bytes': [10, 5]}
>>> program_columns(block, prog, ("bytes",), ("/b ",))
{'bytes': [5], '#rows': [1]}
>>> program_columns(block + "garbage\n", prog, ()) is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cprogram
from .logformat import LogFormat, Program, program_columns_of
from .scan import _hit_lines

__all__ = ["program_columns", "ROWS", "C_PROGRAM", "FormatReader", "MAX_NEEDLES"]

#: With needles, the key of the 0-based line numbers (in the block) the columns come from.
ROWS = "#rows"
MAX_NEEDLES = 16


def _c_program(
    block: str, program: Program, capture: tuple[str, ...], needles: tuple[str, ...]
) -> dict[str, list[Any]] | None:
    """:func:`program_columns` by the C scanner (:mod:`streamql.formats.access.cprogram`)."""
    if not needles:
        return cprogram.columns(block, program, capture)
    found = cprogram.hits(block, program, capture, needles)
    if found is None:
        return None
    columns, rows = found
    return {**columns, ROWS: list(range(_line_count(block))) if rows is None else rows}


#: The C interpreter of programs where it is built: same arguments and answers
#: as :func:`program_columns` (None: the regex runs; ``STREAMQL_PURE=1`` sets that).
C_PROGRAM: Callable[..., dict[str, list[Any]] | None] | None = (
    _c_program if cprogram.available() else None
)


def _line_count(block: str) -> int:
    return block.count("\n") + (not block.endswith("\n")) if block else 0


def program_columns(
    block: str, program: Program, capture: tuple[str, ...], needles: tuple[str, ...] = ()
) -> dict[str, list[Any]] | None:
    """Return the ``capture`` columns of every line of ``block``, or None if one does not fit.

    ``program`` is a compiled format's program (see :mod:`streamql.formats.access.logformat`);
    ``capture`` names some of its columns, in the program's order. Each
    column's values are typed by its op: ``int``/``status`` give int (None
    for ``-``), ``float`` float, ``run`` and ``stamp`` the text as written;
    a column after an ``("opt",)`` is None on a line that ends before it.
    With ``needles`` (at most 16 non-empty str), every line is still checked
    but only the lines holding one of them are cut, and ``result["#rows"]``
    (:data:`ROWS`) lists their 0-based numbers. A NUL anywhere, a
    newline-free run past its line, 19 digits or more in an int: None.
    Holds the block's columns in memory.
    """
    if len(needles) > MAX_NEEDLES or "" in needles:
        raise ValueError(f"program_columns: at most {MAX_NEEDLES} non-empty needles: {needles!r}")
    if "\x00" in block:  # a hole in the file: the line parser names the lines
        return None
    if C_PROGRAM is not None:
        return C_PROGRAM(block, program, capture, needles)
    lines = _line_count(block)
    if not needles:
        return program_columns_of(block, program, capture, lines)
    if program_columns_of(block, program, (), lines) is None:
        return None
    text, rows = _hit_lines(block, needles)
    if not rows:
        found: dict[str, list[Any]] | None = {name: [] for name in capture}
    else:
        found = program_columns_of(text, program, capture, len(rows))
    if found is None:  # not reached: the lines passed the check above
        return None
    found[ROWS] = rows
    return found


class FormatReader:
    """What the block parser needs of a compiled format: captures, columns, field values.

    >>> from streamql.formats.access.log_presets import compile_format
    >>> reader = FormatReader(compile_format("nginx"))
    >>> reader.captured({"method", "bytes"})
    ('req', 'bytes')
    >>> reader.field("method", {"req": ["GET /a HTTP/1.1"]}, None)
    ['GET']
    """

    def __init__(self, fmt: LogFormat) -> None:
        self.fmt = fmt
        self.order = tuple(c.op[1] for c in fmt.columns)
        self.makers = {name: (c.op[1], make) for c in fmt.columns for name, make in c.fields}
        self.checked = tuple(c for c in fmt.columns if c.checked)

    def captured(self, fields: set[str]) -> tuple[str, ...]:
        """The program's columns that hold ``fields``, in the program's order."""
        wanted = {self.makers[f][0] for f in fields}
        return tuple(c for c in self.order if c in wanted)

    def hits(
        self, block: str, captured: tuple[str, ...], needles: tuple[str, ...], lines: int = 0
    ) -> tuple[dict[str, list[Any]], list[int] | None] | None:
        """The columns of a block and the lines they come from (None: every line), or None."""
        needles = () if "" in needles or len(needles) > MAX_NEEDLES else needles
        if not self.checked:
            found = program_columns(block, self.fmt.program, captured, needles)
            return None if found is None else (found, found.pop(ROWS, None))
        # Every line's checked columns are converted, as the line parser does.
        checked = {c.op[1] for c in self.checked}
        capture = tuple(c for c in self.order if c in checked or c in captured)
        found = program_columns(block, self.fmt.program, capture)
        if found is None:
            return None
        try:
            for column in self.checked:
                for _, make in column.fields:
                    list(map(make, found[column.op[1]]))
        except ValueError:
            return None  # the line parser rejects that line
        return {name: found[name] for name in captured}, None

    def field(self, name: str, raw: dict[str, list[Any]], rows: list[int] | None) -> list[Any]:
        """The field's values as records hold them, from the raw columns (at ``rows``)."""
        col, make = self.makers[name]
        values = raw[col]
        if rows is not None:
            values = list(map(values.__getitem__, rows))
        return list(map(make, values))
