r"""Whole blocks of lines: the readers the planner swaps in for line sources.

Python pays for every item that crosses a generator. The tutorial's pipelines
pay it per line and per record; a query over a 1.3 GB log pays it 13 million
times. When the planner (:mod:`streamql.planner.optimize`) sees a parser that can
take blocks read files, it swaps the file source for its ``blocks`` variant:
:func:`lines_blocks` for ``Stream.lines``, :func:`blocks` for ``cat`` after
``open``. They hand out about a megabyte of whole lines at a time, and keep a
:class:`BlockCursor` on the run context so that every reject and error still
names its file and line. The parser's own ``blocks`` variant is
:func:`streamql.formats.access.block_parse.parse_apache_blocks`.

>>> import io
>>> list(blocks([io.StringIO("a\nb\n"), io.StringIO("c")]))
['a\nb\n', 'c']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from ..core.context import RunContext
from . import files
from .batches import BLOCK_CHARS, BlockCursor, block_lines, file_blocks
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


def blocks(
    files: Iterable[Any], *, ctx: RunContext | None = None, max_line: int | None = MAX_LINE
) -> Iterator[str]:
    r"""Chain the text of open files as blocks of whole lines, about ``BLOCK_CHARS`` each.

    Like :func:`streamql.ops.files.cat`, but a block at a time: ``"".join`` of the
    blocks is the text of the files, and every block ends at the end of a line.
    A damaged archive raises :class:`~streamql.core.errors.CorruptFileError` after
    the lines before the damage. The run context's cursor is a
    :class:`BlockCursor`, which the consumer of the blocks keeps at its line.

    >>> import io
    >>> list(blocks([io.StringIO("a\nb\n"), io.StringIO("c")]))
    ['a\nb\n', 'c']
    """
    cursor = BlockCursor()
    if ctx is not None:
        ctx.cursor = cursor
    return chain.from_iterable(file_blocks(f, cursor, ctx, max_line) for f in files)


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
    """:func:`streamql.ops.files.lines` a block of whole lines at a time (its ``blocks`` variant).

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
