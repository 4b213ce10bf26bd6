r"""Whole blocks of lines: the readers the planner swaps in for line sources.

Python pays for every item that crosses a generator. The tutorial's pipelines
pay it per line and per record; a query over a 1.3 GB log pays it 13 million
times. When the planner (:mod:`streamql.optimize`) sees a parser that can
take blocks read files, it swaps the file source for its ``blocks`` variant:
:func:`lines_blocks` for ``Stream.lines``, :func:`blocks` for ``cat`` after
``open``. They hand out about a megabyte of whole lines at a time, and keep a
:class:`BlockCursor` on the run context so that every reject and error still
names its file and line. The parser's own ``blocks`` variant is
:func:`streamql.block_parse.parse_apache_blocks`.

>>> import io
>>> list(blocks([io.StringIO("a\nb\n"), io.StringIO("c")]))
['a\nb\n', 'c']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from . import files
from .context import RunContext
from .errors import CorruptFileError
from .files import MAX_LINE

__all__ = [
    "BLOCK_CHARS",
    "BlockCursor",
    "blocks",
    "block_lines",
    "lines_blocks",
    "numbered",
    "renumbered",
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


def numbered(lines: Iterable[str], cursor: BlockCursor, first: int = 1) -> Iterator[str]:
    """Pass lines on, keeping the cursor at each one (the line numbers of rejects)."""
    cursor.offset = -1
    for n, line in enumerate(lines, first):
        cursor.within = n
        yield line


def renumbered(blocks: Iterable[str], cursor: BlockCursor) -> Iterator[str]:
    done = 0
    for block in blocks:
        cursor.at(block, done)
        yield block
        done += cursor.lines


def lines_blocks(
    *paths: str | os.PathLike[str],
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    ctx: RunContext | None = None,
    max_line: int | None = files.MAX_LINE,
) -> Iterator[str]:
    """:func:`streamql.files.lines` a block of whole lines at a time (its ``blocks`` variant).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(p, "w") as f:
    ...     _ = f.write("GET /\\nGET /x\\n")
    >>> list(lines_blocks(p))
    ['GET /\\nGET /x\\n']
    """
    max_line = files.check_max_line("lines", max_line)
    found = files.expand_paths(paths, ctx=ctx)
    opened = files.open_files(found, encoding=encoding, decode_errors=decode_errors, ctx=ctx)
    return files.Closing(blocks(opened, ctx=ctx, max_line=max_line), opened.close)
