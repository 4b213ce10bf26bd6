r"""Parse Apache log lines a block at a time: records built in C, or aggregates from columns.

The ``blocks`` variant of ``parse_apache`` (see :mod:`streamql.ops.blocks` for
the readers it takes its blocks from, and :mod:`streamql.planner.optimize` for when
the planner swaps it in). Each block is checked in one call
(:mod:`streamql.formats.access.scan`: a C scanner, or the same test as one regular
expression), and then:

- the records are built in C, a batch of lines at a time (where the C scanner
  is built), or with ``needles`` (texts a wanted line must hold, from a
  ``where``) only those of the lines that hold one of them;
- with ``agg`` (the query's aggregation, after any ``where`` on fields), the
  block's columns are folded into it and only its running state is yielded,
  once per block.

A block that holds any line the fast check refuses is parsed line by line,
as ``parse_apache`` does, with the same rejects, reasons, files and line
numbers; the property tests in ``tests/test_blocks.py`` compare the two.

>>> import io
>>> from streamql.ops.blocks import blocks
>>> from streamql.core.context import RunContext
>>> from streamql.aggregates import Sum
>>> text = io.StringIO(
...     '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 200 10\n'
...     'garbage\n'
...     '1.2.3.4 - - [24/Feb/2008:00:09:00 -0600] "GET /b HTTP/1.1" 404 5\n')
>>> ctx = RunContext()
>>> list(parse_apache_blocks(blocks([text], ctx=ctx), ctx=ctx, agg=Sum("bytes")))[-1]
15
>>> ctx.rejected, ctx.first_reject["lineno"]
(Counter({'parse_apache': 1}), 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from ...aggregates import KINDS, Aggregate, Reads, reads_of
from ...core.context import Errors, RunContext, check_errors
from ...core.expr import Expr, Logic
from ...ops.blocks import BlockCursor, block_lines, numbered, renumbered
from .apache import RequestParts, _parse, check_format
from .apache_schema import BLOCK_FIELDS, REQUEST_PARTS
from .logformat import LogFormat
from .program_scan import FormatReader
from .scan import block_hits, block_records, builds_records, hit_spans

__all__ = ["parse_apache_blocks", "RECORD_BATCH"]


def _candidates(block: str, needles: tuple[str, ...], cursor: BlockCursor) -> Iterator[str]:
    """Yield the lines of a block that hold one of ``needles``, each once, in order."""
    for start, end in hit_spans(block, needles):
        cursor.offset = start  # its line number is counted only if asked for
        yield block[start:end]


# Record fields that come from the quoted request text, and their place in request_parts().
_FROM_REQUEST = REQUEST_PARTS


def _column(
    name: str, raw: dict[str, Any], requests: RequestParts, rows: list[int] | None = None
) -> list[Any]:
    """The field's values as the records hold them: for every row, or for ``rows`` only."""
    text: list[Any] = raw["req" if name in _FROM_REQUEST else name]
    if rows is not None:
        text = list(map(text.__getitem__, rows))
    if name in _FROM_REQUEST:
        return list(map(itemgetter(_FROM_REQUEST[name]), map(requests.__getitem__, text)))
    return text  # block_columns gives status and bytes as ints already


def parse_apache_blocks(
    blocks: Iterable[str],
    *,
    format: str = "auto",
    extra: str = "reject",
    errors: Errors = "skip",
    ctx: RunContext | None = None,
    prefilter: Callable[[str], Any] | None = None,
    needles: tuple[str, ...] = (),
    agg: Aggregate | None = None,
    where: Expr | None = None,
) -> Iterator[Any]:
    r"""Parse Apache log lines a block at a time: into records, or into an aggregate.

    Without ``agg``, yields the records ``parse_apache`` would yield that pass
    ``prefilter``; if ``needles`` is given, only lines holding one of those
    texts can pass it, and only they are built into records. With ``agg`` (an
    aggregation that declares what it reads, ``Aggregate.reads``, or a
    ``Many`` of such, each with its own column and ``where``), yields the
    aggregate's running state after each block and once more at the end:
    the last is the state over every record that passes ``where`` (an ``F``
    expression, tested on the block's columns). Rejects are those of
    ``parse_apache``, line for line.

    >>> ctx = RunContext()
    >>> lines = ('h - - [24/Feb/2008:00:08:59 -0600] "GET /robots.txt HTTP/1.1" 200 1\n'
    ...          'h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 404 2\n')
    >>> [r["request"] for r in parse_apache_blocks([lines], needles=("robots",), ctx=ctx)]
    ['/robots.txt']
    """
    fmt = check_format("parse_apache", format, extra)
    errors = check_errors("parse_apache", errors)
    if agg is not None and errors == "keep":
        raise ValueError("parse_apache_blocks: an aggregate cannot keep reject records")
    own = ctx is None
    ctx = ctx or RunContext()
    # The processes engine wraps the source's cursor to add the lines before its part.
    cursor = getattr(ctx.cursor, "inner", ctx.cursor)
    cursor = cursor if isinstance(cursor, BlockCursor) else None
    if cursor is None:  # blocks from elsewhere: number lines from 1, across blocks
        cursor = BlockCursor()
        ctx.cursor = cursor
        blocks = renumbered(blocks, cursor)
    if agg is not None:
        return _aggregate(blocks, fmt, errors, ctx, cursor, agg, where, needles, own)
    return _records(blocks, fmt, errors, ctx, cursor, prefilter, needles, own)


class _TunedReader:
    """What the block parser needs of common, combined or auto (:class:`FormatReader`'s face)."""

    def __init__(self, fmt: str, requests: RequestParts) -> None:
        self.fmt, self.requests = fmt, requests

    def captured(self, fields: set[str]) -> tuple[str, ...]:
        wanted = {"req" if f in _FROM_REQUEST else f for f in fields}
        return tuple(f for f in BLOCK_FIELDS if f in wanted)

    def hits(
        self, block: str, captured: tuple[str, ...], needles: tuple[str, ...], lines: int
    ) -> tuple[dict[str, list[Any]], list[int] | None] | None:
        return block_hits(block, self.fmt, captured, needles, lines)

    def field(self, name: str, raw: dict[str, Any], rows: list[int] | None) -> list[Any]:
        return _column(name, raw, self.requests, rows)


def _reader(fmt: str | LogFormat, requests: RequestParts) -> _TunedReader | FormatReader:
    return FormatReader(fmt) if isinstance(fmt, LogFormat) else _TunedReader(fmt, requests)


def _records(
    blocks: Iterable[str],
    fmt: str | LogFormat,
    errors: Errors,
    ctx: RunContext,
    cursor: BlockCursor,
    prefilter: Callable[[str], Any] | None,
    needles: tuple[str, ...],
    own: bool,
) -> Iterator[Any]:
    requests = RequestParts()
    reader = _reader(fmt, requests)
    for block in blocks:
        if builds_records() and isinstance(fmt, str):
            yield from _built(block, fmt, errors, ctx, cursor, prefilter, needles, requests)
            continue
        if needles and reader.hits(block, (), (), cursor.lines) is not None:
            lines: Iterator[str] = _candidates(block, needles, cursor)
        else:
            lines = numbered(block_lines(block), cursor)
        yield from _parse(lines, fmt, errors, ctx, None, prefilter)
    if own and errors == "skip":
        ctx.warn()


# Lines per call of the C record builder: its records are alive at once.
RECORD_BATCH = 1024


def _built(
    block: str,
    fmt: str,
    errors: Errors,
    ctx: RunContext,
    cursor: BlockCursor,
    prefilter: Callable[[str], Any] | None,
    needles: tuple[str, ...],
    requests: RequestParts,
) -> Iterator[Any]:
    """The records of one block, built in C a batch of lines at a time.

    A batch holding a line the C scanner refuses, and the rest of the block,
    are parsed line by line, with their rejects.
    """
    pos = done = 0
    fill = fmt == "auto"  # a common line among combined ones: referer and agent None
    while pos < len(block):
        found = block_records(block, fmt, pos, RECORD_BATCH, requests, needles)
        if found is None:
            lines = numbered(block_lines(block[pos:]), cursor, done + 1)
            yield from _parse(lines, fmt, errors, ctx, None, prefilter)
            return
        records, starts, passed, pos = found
        done += passed
        if fill:  # the C builder leaves a common line's record without them
            for record in records:
                if "agent" not in record:
                    record["referer"] = record["agent"] = None
        if prefilter is None:
            for record, cursor.offset in zip(records, starts, strict=True):
                yield record  # the cursor is at its line, should a later step raise
            continue
        for record, start in zip(records, starts, strict=True):
            end = block.find("\n", start) + 1 or len(block)
            if prefilter(block[start:end]):
                cursor.offset = start
                yield record


class _Spec:
    """One aggregation folded from a block's columns: what it reads, and the rows it takes."""

    def __init__(self, name: str | None, agg: Aggregate, reads: Reads, where: Expr | None):
        self.name, self.agg, self.reads, self.where = name, agg, reads, where
        self.column = reads.field
        self.columns = reads.fields  # kind "columns": several, folded by fold_columns
        self.tested = tuple(sorted(where.fields())) if where is not None else ()
        self.select = where.compile_columns(self.tested) if where is not None else None

    def fields(self) -> set[str]:
        return {*self.tested, *([self.column] if self.column else []), *self.columns}

    def fold(self, state: Any, values: Any, record: Callable[[int], Any]) -> Any:
        if self.reads.kind == "key":
            return self.agg.fold_keyed(state, values, record)  # type: ignore[attr-defined]
        if self.reads.kind == "columns":
            return self.agg.fold_columns(state, values)
        return self.agg.fold(state, values)


def _both(first: Expr | None, second: Any) -> Expr | None:
    if not isinstance(second, Expr):
        return first
    return second if first is None else Logic("and", (first, second))


def _aggregate(
    blocks: Iterable[str],
    fmt: str | LogFormat,
    errors: Errors,
    ctx: RunContext,
    cursor: BlockCursor,
    agg: Aggregate,
    where: Expr | None,
    needles: tuple[str, ...],
    own: bool,
) -> Iterator[Any]:
    parts = reads_of(agg, kinds=(*KINDS, "columns"))
    if parts is None:
        raise TypeError(f"parse_apache_blocks: {agg!r} cannot be folded from columns")
    many = len(parts) > 1 or parts[0][0] is not None
    # Each aggregation its own column, and its own where after the stream's.
    specs = [_Spec(name, part, reads, _both(where, part.where)) for name, part, reads in parts]
    reader = _reader(fmt, RequestParts())
    captured = reader.captured({f for spec in specs for f in spec.fields()})
    test = where.compile("where") if where is not None else None
    state = agg.start()
    for block in blocks:
        found = reader.hits(block, captured, needles, cursor.lines)
        if found is not None:
            raw, hits = found  # hits: the lines the columns hold (None: every line)
            lines = cursor.lines if hits is None else len(hits)
            columns: dict[str, list[Any]] = {}

            def column_for(name: str, raw: dict[str, Any] = raw, columns: Any = columns) -> Any:
                if name not in columns:
                    columns[name] = reader.field(name, raw, None)
                return columns[name]

            try:  # every where first: one that raises leaves the states untouched
                chosen = [
                    None if spec.select is None else spec.select(*map(column_for, spec.tested))
                    for spec in specs
                ]
            except Exception:
                pass  # the line-by-line parse below raises it, at its line
            else:
                for spec, rows in zip(specs, chosen, strict=True):
                    values = _values(spec, rows, lines, raw, columns, reader)
                    record = _record_maker(block, rows, hits, cursor, fmt, ctx)
                    if many:
                        state[spec.name] = spec.fold(state[spec.name], values, record)
                    else:
                        state = spec.fold(state, values, record)
                yield state
                continue
        items = _parse(numbered(block_lines(block), cursor), fmt, errors, ctx, None)
        state = agg.add_all(state, items if test is None else filter(test, items))
        yield state
    if own and errors == "skip":
        ctx.warn()
    yield state  # the answer so far after each block (a progress bar sees it move), and at the end


def _values(
    spec: _Spec,
    rows: list[int] | None,
    lines: int,
    raw: dict[str, Any],
    columns: dict[str, list[Any]],
    reader: _TunedReader | FormatReader,
) -> Any:
    """The values ``spec`` folds from a block: its column at ``rows`` (None: every row)."""
    if spec.columns:  # several columns, in the order the aggregation declared them
        return [_cut(name, rows, raw, columns, reader) for name in spec.columns]
    if spec.column is None:  # a count
        return range(lines) if rows is None else rows
    return _cut(spec.column, rows, raw, columns, reader)


def _cut(
    name: str,
    rows: list[int] | None,
    raw: dict[str, Any],
    columns: dict[str, list[Any]],
    reader: _TunedReader | FormatReader,
) -> Any:
    """One field's values at ``rows`` (None: every row), cut or built for those rows only."""
    if name in columns:
        values = columns[name]
        return values if rows is None else list(map(values.__getitem__, rows))
    return reader.field(name, raw, rows)


def _record_maker(
    block: str,
    rows: list[int] | None,
    hits: list[int] | None,
    cursor: BlockCursor,
    fmt: str | LogFormat,
    ctx: RunContext,
) -> Callable[[int], Any]:
    """A function building the whole record of the i-th value (for min/max by key)."""

    lines: list[str] = []  # the block's lines, cut once if a record is asked for

    def record(i: int) -> Any:
        n = i if rows is None else rows[i]  # the row of the columns
        n = n if hits is None else hits[n]  # the line of the block
        cursor.within, cursor.offset = n + 1, -1
        if not lines:
            lines.extend(block_lines(block))
        return next(_parse(iter((lines[n],)), fmt, "raise", ctx, None))

    return record
