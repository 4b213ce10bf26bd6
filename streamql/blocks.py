r"""Whole blocks of lines: how the planner makes a query read and parse faster.

Python pays for every item that crosses a generator. The tutorial's pipelines
pay it per line and per record; a query over a 1.3 GB log pays it 13 million
times. When the planner (:mod:`streamql.optimize`) sees ``parse_apache`` read
files, it switches the file source to :func:`blocks`, which hands out about a
megabyte of whole lines at a time, and the parser to
:func:`parse_apache_blocks`, which checks every line of a block at once
(:mod:`streamql.scan`: a C scanner, or the same test as one regular
expression) and then:

- builds the records in C, a batch of lines at a time (where the C scanner is
  built), or with ``needles`` (texts a wanted line must hold, from a
  ``where``) only those of the lines that hold one of them;
- with ``agg`` (the query's aggregate of a field, after any ``where`` on
  fields), folds the field's column of the block into the aggregate in C, and
  yields only the aggregate's running state, once per block.

A block that holds any line the fast check refuses (a bad line, or a rare good
one it does not know) is parsed line by line like ``parse_apache`` does, with
the same rejects, reasons, files and line numbers. So the answers and the
reject counts are the ones the plain plan gives; the property tests in
``tests/test_blocks.py`` compare the two on generated logs.

>>> import io
>>> text = io.StringIO(
...     '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 200 10\n'
...     'garbage\n'
...     '1.2.3.4 - - [24/Feb/2008:00:09:00 -0600] "GET /b HTTP/1.1" 404 5\n')
>>> from streamql.context import RunContext
>>> from streamql.aggregates import Sum
>>> ctx = RunContext()
>>> list(parse_apache_blocks(blocks([text], ctx=ctx), ctx=ctx, agg=Sum("bytes")))[-1]
15
>>> ctx.rejected, ctx.first_reject["lineno"]
(Counter({'parse_apache': 1}), 2)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from operator import itemgetter
from typing import Any

from . import files
from .aggregates import Aggregate, Reads, reads_of
from .apache import RequestParts, _parse, check_format
from .apache_schema import BLOCK_FIELDS, REQUEST_PARTS
from .context import Errors, RunContext, check_errors
from .errors import CorruptFileError
from .expr import Expr, Logic
from .files import MAX_LINE
from .scan import block_hits, block_lines_valid, block_records, builds_records, hit_spans

__all__ = [
    "BLOCK_CHARS",
    "BlockCursor",
    "blocks",
    "block_lines",
    "parse_apache_blocks",
]

# Characters per read: big enough that the per-block cost vanishes, small
# enough that memory stays flat (a block and its column are alive at once).
BLOCK_CHARS = 1 << 20


class BlockCursor:
    """Where a block source is: a file, the lines before the block, the line within it.

    The source sets ``path``, ``base`` (lines before the block) and ``lines``
    (the block's line count, which its consumer needs too) for each block. The
    consumer says where it is in the block: ``within`` (a 1-based line), or
    ``offset`` (a character offset, turned into a line only if asked).
    """

    __slots__ = ("base", "block", "counted", "lines", "offset", "path", "within")

    def __init__(self) -> None:
        self.path: str | None = None
        self.base = self.lines = self.within = 0
        self.block = ""
        self.offset = -1
        self.counted = (0, 0)  # newlines before an offset: where the last count stopped

    def at(self, block: str, base: int) -> None:
        """Move to a new block that follows ``base`` lines of its file."""
        self.block, self.base, self.within, self.offset = block, base, 0, -1
        self.lines = block.count("\n") + (not block.endswith("\n"))
        self.counted = (0, 0)

    def position(self) -> tuple[str | None, int | None]:
        if self.offset >= 0:
            # Asked once per record (with_origin), so count on from the last answer.
            start, newlines = self.counted
            if self.offset < start:
                start = newlines = 0
            newlines += self.block.count("\n", start, self.offset)
            self.counted = (self.offset, newlines)
            self.within = newlines + 1
            self.offset = -1
        return self.path, (self.base + self.within) or None


def _file_blocks(
    f: Any,
    cursor: BlockCursor,
    ctx: RunContext | None = None,
    max_line: int | None = files.MAX_LINE,
) -> Iterator[str]:
    """Yield the text of one open file as blocks of whole lines (the last may lack its newline).

    A line longer than ``max_line`` characters is left out and counted as a
    reject of stage ``cat`` holding its first characters, as
    :func:`streamql.files.cat` does. It is read through a block at a time:
    at most a block and ``max_line`` characters of a line are held at once.
    """
    path = getattr(f, "path", None) or getattr(f, "name", None)
    cursor.path = None if path is None else str(path)
    cursor.at("", 0)
    own = ctx or RunContext()
    read = f.read
    cap = max_line
    # Under a cap shorter than a block, a line inside one block can be too long.
    too_long = None
    if cap is not None and cap < BLOCK_CHARS:
        too_long = re.compile(f"[^\n]{{{cap + 1},}}\n?")
    carry: list[str] = []
    carried = 0  # characters in carry: the start of a line longer than the blocks so far
    skipping: str | None = None  # the head of an over-long line being read through
    skipped = 0  # its length so far
    done = 0  # lines in the blocks handed out, and rejected lines

    def refuse(head: str, length: int) -> None:
        reason = f"line longer than max_line={cap:,} ({length:,} characters)"
        own.bad("skip", "cat", reason, head[: files.REJECT_HEAD], origin=(cursor.path, done + 1))

    while True:
        try:
            chunk = read(BLOCK_CHARS)
        except files._DAMAGE as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            good, cause = files._salvage(f, done)  # the lines up to the damage, one by one
            if good:
                block = "".join(good)
                cursor.at(block, done)
                yield block
                done += len(good)
            raise CorruptFileError(str(path), done, cause or exc) from exc
        if not chunk:
            if skipping is not None:
                refuse(skipping, skipped)
            elif cap is not None and carried > cap:
                refuse("".join(carry), carried)
            elif carry:
                block = "".join(carry)
                cursor.at(block, done)
                yield block
            return
        if cap is not None and (skipping is not None or carried + len(chunk) > cap):
            first = chunk.find("\n")
            length = (skipped if skipping is not None else carried) + (
                first if first >= 0 else len(chunk)
            )
            if skipping is not None or length > cap:
                part = chunk if first < 0 else chunk[:first]
                if skipping is None:
                    skipping = "".join(carry)[: files.REJECT_HEAD]
                    carry, carried = [], 0
                if len(skipping) < files.REJECT_HEAD:
                    skipping += part[: files.REJECT_HEAD - len(skipping)]
                if first < 0:
                    skipped = length
                    continue
                refuse(skipping, length)
                done += 1
                skipping, skipped, chunk = None, 0, chunk[first + 1 :]
                if not chunk:
                    continue
        cut = chunk.rfind("\n") + 1
        if not cut:  # a line longer than a block: keep reading
            carry.append(chunk)
            carried += len(chunk)
            continue
        if carry:
            block = "".join(carry) + chunk[:cut]
        else:
            block = chunk if cut == len(chunk) else chunk[:cut]
        carry = [chunk[cut:]] if cut < len(chunk) else []
        carried = len(chunk) - cut
        if too_long is None or too_long.search(block) is None:
            cursor.at(block, done)
            yield block
            done += cursor.lines
            continue
        start = 0  # hand out the block around its over-long lines
        for match in too_long.finditer(block):
            if match.start() > start:
                part = block[start : match.start()]
                cursor.at(part, done)
                yield part
                done += cursor.lines
            line = match.group().removesuffix("\n")
            refuse(line, len(line))
            done += 1
            start = match.end()
        if start < len(block):
            part = block[start:]
            cursor.at(part, done)
            yield part
            done += cursor.lines


def blocks(
    files: Iterable[Any], *, ctx: RunContext | None = None, max_line: int | None = MAX_LINE
) -> Iterator[str]:
    r"""Chain the text of open files as blocks of whole lines, about ``BLOCK_CHARS`` each.

    Like :func:`streamql.files.cat`, but a block at a time: ``"".join`` of the
    blocks is the text of the files, and every block ends at the end of a line.
    A damaged archive raises :class:`~streamql.errors.CorruptFileError` after
    the lines before the damage. The run context's cursor is a
    :class:`BlockCursor`, which the consumer of the blocks keeps at its line.

    >>> import io
    >>> list(blocks([io.StringIO("a\nb\n"), io.StringIO("c")]))
    ['a\nb\n', 'c']
    """
    cursor = BlockCursor()
    if ctx is not None:
        ctx.cursor = cursor
    return chain.from_iterable(_file_blocks(f, cursor, ctx, max_line) for f in files)


def block_lines(block: str) -> list[str]:
    r"""Cut a block into the lines file iteration would give (newlines kept).

    >>> block_lines("a\n\nb")
    ['a\n', '\n', 'b']
    """
    pieces = block.split("\n")
    last = pieces.pop()
    out = [piece + "\n" for piece in pieces]
    if last:
        out.append(last)
    return out


def _numbered(lines: Iterable[str], cursor: BlockCursor, first: int = 1) -> Iterator[str]:
    """Pass lines on, keeping the cursor at each one (the line numbers of rejects)."""
    cursor.offset = -1
    for n, line in enumerate(lines, first):
        cursor.within = n
        yield line


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
    fmt = check_format("parse_apache", format)
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
        blocks = _renumbered(blocks, cursor)
    if agg is not None:
        return _aggregate(blocks, fmt, errors, ctx, cursor, agg, where, needles, own)
    return _records(blocks, fmt, errors, ctx, cursor, prefilter, needles, own)


def _renumbered(blocks: Iterable[str], cursor: BlockCursor) -> Iterator[str]:
    done = 0
    for block in blocks:
        cursor.at(block, done)
        yield block
        done += cursor.lines


def _records(
    blocks: Iterable[str],
    fmt: str,
    errors: Errors,
    ctx: RunContext,
    cursor: BlockCursor,
    prefilter: Callable[[str], Any] | None,
    needles: tuple[str, ...],
    own: bool,
) -> Iterator[Any]:
    requests = RequestParts()
    for block in blocks:
        if builds_records():
            yield from _built(block, fmt, errors, ctx, cursor, prefilter, needles, requests)
            continue
        if needles and block_lines_valid(block, fmt, cursor.lines):
            lines: Iterator[str] = _candidates(block, needles, cursor)
        else:
            lines = _numbered(block_lines(block), cursor)
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
    while pos < len(block):
        found = block_records(block, fmt, pos, RECORD_BATCH, requests, needles)
        if found is None:
            lines = _numbered(block_lines(block[pos:]), cursor, done + 1)
            yield from _parse(lines, fmt, errors, ctx, None, prefilter)
            return
        records, starts, passed, pos = found
        done += passed
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
        self.tested = tuple(sorted(where.fields())) if where is not None else ()
        self.select = where.compile_columns(self.tested) if where is not None else None

    def fields(self) -> set[str]:
        return {*self.tested, *([self.column] if self.column else [])}

    def fold(self, state: Any, values: Any, record: Callable[[int], Any]) -> Any:
        if self.reads.kind == "key":
            return self.agg.fold_keyed(state, values, record)  # type: ignore[attr-defined]
        return self.agg.fold(state, values)


def _both(first: Expr | None, second: Any) -> Expr | None:
    if not isinstance(second, Expr):
        return first
    return second if first is None else Logic("and", (first, second))


def _aggregate(
    blocks: Iterable[str],
    fmt: str,
    errors: Errors,
    ctx: RunContext,
    cursor: BlockCursor,
    agg: Aggregate,
    where: Expr | None,
    needles: tuple[str, ...],
    own: bool,
) -> Iterator[Any]:
    parts = reads_of(agg)
    if parts is None:
        raise TypeError(f"parse_apache_blocks: {agg!r} cannot be folded from columns")
    many = len(parts) > 1 or parts[0][0] is not None
    # Each aggregation its own column, and its own where after the stream's.
    specs = [_Spec(name, part, reads, _both(where, part.where)) for name, part, reads in parts]
    wanted = {"req" if f in _FROM_REQUEST else f for spec in specs for f in spec.fields()}
    captured = tuple(f for f in BLOCK_FIELDS if f in wanted)
    test = where.compile("where") if where is not None else None
    requests = RequestParts()
    state = agg.start()
    for block in blocks:
        found = block_hits(block, fmt, captured, needles, cursor.lines)
        if found is not None:
            raw, hits = found  # hits: the lines the columns hold (None: every line)
            lines = cursor.lines if hits is None else len(hits)
            columns: dict[str, list[Any]] = {}

            def column_for(name: str, raw: dict[str, Any] = raw, columns: Any = columns) -> Any:
                if name not in columns:
                    columns[name] = _column(name, raw, requests)
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
                    values = _values(spec, rows, lines, raw, columns, requests)
                    record = _record_maker(block, rows, hits, cursor, fmt, ctx)
                    if many:
                        state[spec.name] = spec.fold(state[spec.name], values, record)
                    else:
                        state = spec.fold(state, values, record)
                yield state
                continue
        items = _parse(_numbered(block_lines(block), cursor), fmt, errors, ctx, None)
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
    requests: RequestParts,
) -> Any:
    """The values ``spec`` folds from a block: its column at ``rows`` (None: every row)."""
    if spec.column is None:  # a count
        return range(lines) if rows is None else rows
    if spec.column in columns:
        values = columns[spec.column]
        return values if rows is None else list(map(values.__getitem__, rows))
    return _column(spec.column, raw, requests, rows)  # built for those rows only


def _record_maker(
    block: str,
    rows: list[int] | None,
    hits: list[int] | None,
    cursor: BlockCursor,
    fmt: str,
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
