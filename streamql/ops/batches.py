"""Reading the lines of a text file a batch at a time, under a line-length cap.

Batches make line numbers cheap (see :class:`streamql.core.context.LineCursor`).
The cap (``max_line``) keeps memory bounded whatever the file holds: a line
longer than it is read through in pieces and becomes a counted reject of stage
``cat`` holding its first characters, never one huge string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain, islice
from typing import Any

from ..core.context import LineCursor, RunContext
from ..core.defaults import MAX_LINE, REJECT_HEAD
from ..core.errors import CorruptFileError
from .compress import DAMAGE, open_file

__all__ = [
    "BATCH_BYTES",
    "BLOCK_CHARS",
    "BlockCursor",
    "MAX_LINE",
    "REJECT_HEAD",
    "batches",
    "block_lines",
    "check_max_line",
    "file_blocks",
    "salvage",
]

# Lines are read in batches of about this many bytes: cheap line numbers
# (see context.LineCursor) at no cost over plain file iteration.
BATCH_BYTES = 1 << 16

# Under a cap a file is read in pieces of at most PIECE characters (a line
# longer than that is joined from its pieces, up to the cap), BATCH_LINES
# pieces a batch: a batch holds at most 8 MiB whatever the lines, and as many
# lines as readlines() would give (so the cap costs nothing measurable).
PIECE = 1 << 12
BATCH_LINES = 2048


def check_max_line(stage: str, max_line: object) -> int | None:
    """Validate a ``max_line`` argument when the step is added: a positive int, or None.

    >>> check_max_line("lines", 0)
    Traceback (most recent call last):
    ...
    ValueError: lines: max_line must be a positive int or None, got 0
    """
    if max_line is None:
        return None
    if not isinstance(max_line, int) or isinstance(max_line, bool) or max_line < 1:
        raise ValueError(f"{stage}: max_line must be a positive int or None, got {max_line!r}")
    return max_line


def batches(
    files: Iterable[Any],
    cursor: LineCursor | None,
    max_line: int | None = MAX_LINE,
    ctx: RunContext | None = None,
) -> Iterator[Iterator[Any]]:
    own = ctx or RunContext()
    for f in files:
        if getattr(f, "readlines", None) is None:
            # Any other iterable of items: the tutorial's gen_cat.
            if cursor is not None:
                cursor.path, cursor.base, cursor.it = None, 0, None
            yield iter(f)
            continue
        path = getattr(f, "path", None) or getattr(f, "name", None)
        path = None if path is None else os.fspath(path)
        if cursor is not None:
            cursor.path, cursor.base, cursor.batch, cursor.it = path, 0, [], None
        yield from _file_batches(f, path, cursor, max_line, own)
    if ctx is None:
        own.warn(hint="pass max_line=None to lift the cap")


def _take(it: Iterator[str], n: int) -> list[str]:
    return list(islice(it, n))


def _take_live(it: Iterator[str], n: int, source: Any) -> list[str]:
    """Take up to ``n`` pieces, but no more once ``source`` has drained what was sent."""
    batch: list[str] = []
    for piece in it:
        batch.append(piece)
        if len(batch) >= n or source.drained:
            break
    return batch


def _assemble(
    batch: list[str], pieces: Iterator[str], piece: int, max_line: int
) -> tuple[list[str], list[tuple[int, str, int]]]:
    """Join the pieces of lines longer than ``piece`` in a batch; refuse those over the cap.

    Returns the lines to hand out and, for each refused line, where it falls
    among them, its first characters and its length. A line still going at
    the end of the batch is read on from ``pieces``.
    """
    good: list[str] = []
    refused: list[tuple[int, str, int]] = []
    it = iter(batch)
    for p in it:
        if len(p) < piece or p.endswith("\n"):
            good.append(p)
            continue
        parts: list[str] | None = [p]
        head = ""
        length = len(p)
        last = p
        for q in chain(it, pieces):  # the rest of the batch, then the file
            length += len(q)
            last = q
            if parts is not None:
                parts.append(q)
                if length > max_line + 1:  # over the cap, newline or not: stop keeping it
                    head, parts = "".join(parts)[:REJECT_HEAD], None
            elif len(head) < REJECT_HEAD:
                head += q[: REJECT_HEAD - len(head)]
            if len(q) < piece or q.endswith("\n"):
                break
        chars = length - last.endswith("\n")
        if chars <= max_line and parts is not None:
            good.append("".join(parts))
        else:
            head = head or "".join(parts or ())[:REJECT_HEAD]
            refused.append((len(good), head.removesuffix("\n"), chars))
    return good, refused


def _file_batches(
    f: Any, path: str | None, cursor: LineCursor | None, max_line: int | None, own: RunContext
) -> Iterator[Iterator[Any]]:
    """The lines of one text file, a batch at a time; over-long lines become rejects.

    Under a cap the file is read with ``readline(PIECE)``: a batch holds at
    most ``BATCH_LINES`` pieces of at most ``PIECE`` characters, and a line
    longer than a piece is joined from its pieces only up to the cap.
    """
    piece = 0 if max_line is None else min(PIECE, max_line + 1)
    pieces: Iterator[str] = iter(partial(f.readline, piece or -1), "")
    read: Callable[[], list[str]]
    live = getattr(f, "live", None)
    if live is not None:  # a pipe: hand on the lines that came, do not wait for a batch
        read = partial(_take_live, pieces, BATCH_LINES, live)
    elif max_line is None:
        read = partial(f.readlines, BATCH_BYTES)
    else:
        read = partial(_take, pieces, BATCH_LINES)

    done = 0
    while True:
        refused: list[tuple[int, str, int]] = []
        try:
            batch = read()
            if piece and batch and max(map(len, batch)) >= piece:
                assert max_line is not None
                batch, refused = _assemble(batch, pieces, piece, max_line)
        except DAMAGE as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error already names its file
            # readlines() dropped the good lines it had gathered before the
            # damage: read them again one by one, then report the damage.
            batch, cause = salvage(f, done)
            if batch:
                it = iter(batch)
                if cursor is not None:
                    cursor.base, cursor.batch, cursor.it = done, batch, it
                yield it
                done += len(batch)
            raise CorruptFileError(str(path), done, cause or exc) from exc
        if not batch and not refused:
            return
        start = 0
        for at, head, chars in [*refused, (len(batch), "", -1)]:
            if at > start:
                part = batch[start:at]
                it = iter(part)
                if cursor is not None:
                    cursor.base, cursor.batch, cursor.it = done, part, it
                yield it
                done += len(part)
                start = at
            if chars >= 0:
                done += 1
                reason = f"line longer than max_line={max_line:,} ({chars:,} characters)"
                own.bad("skip", "cat", reason, head, origin=(path, done))


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


def file_blocks(
    f: Any,
    cursor: BlockCursor,
    ctx: RunContext | None = None,
    max_line: int | None = MAX_LINE,
) -> Iterator[str]:
    """Yield the text of one open file as blocks of whole lines (the last may lack its newline).

    A line longer than ``max_line`` characters is left out and counted as a
    reject of stage ``cat`` holding its first characters, as
    :func:`streamql.ops.files.cat` does. It is read through a block at a time:
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
        own.bad("skip", "cat", reason, head[:REJECT_HEAD], origin=(cursor.path, done + 1))

    while True:
        try:
            chunk = read(BLOCK_CHARS)
        except DAMAGE as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            good, cause = salvage(f, done)  # the lines up to the damage, one by one
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
                    skipping = "".join(carry)[:REJECT_HEAD]
                    carry, carried = [], 0
                if len(skipping) < REJECT_HEAD:
                    skipping += part[: REJECT_HEAD - len(skipping)]
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


def salvage(f: Any, done: int) -> tuple[list[str], BaseException | None]:
    """Re-read a damaged file past its first ``done`` lines, up to the damage.

    Works on the raw (decompressed) bytes a line at a time, so that neither a
    decompressor failing mid-batch nor an undecodable byte takes the good lines
    before it down with it.
    """
    path = getattr(f, "path", None)
    if path is None:
        return [], None
    good: list[str] = []
    n = 0
    try:
        with open_file(path) as again:
            for raw in again.buffer:  # type: ignore[attr-defined]
                text = raw.decode(f.encoding, f.errors).replace("\r\n", "\n").replace("\r", "\n")
                pieces = text.split("\n")
                for i, piece in enumerate(pieces):
                    if i == len(pieces) - 1 and not piece:
                        break
                    n += 1
                    if n > done:
                        good.append(piece + "\n" if i < len(pieces) - 1 else piece)
    except DAMAGE as exc:
        return good, exc
    return good, None
