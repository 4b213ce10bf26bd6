"""Reading the lines of a text file a batch at a time, under a line-length cap.

Batches make line numbers cheap (see :class:`streamql.context.LineCursor`).
The cap (``max_line``) keeps memory bounded whatever the file holds: a line
longer than it is read through in pieces and becomes a counted reject of stage
``cat`` holding its first characters, never one huge string.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import chain, islice
from typing import Any

from .compress import DAMAGE, open_file
from .context import LineCursor, RunContext
from .errors import CorruptFileError

__all__ = ["BATCH_BYTES", "MAX_LINE", "REJECT_HEAD", "check_max_line", "batches", "salvage"]

# Lines are read in batches of about this many bytes: cheap line numbers
# (see context.LineCursor) at no cost over plain file iteration.
BATCH_BYTES = 1 << 16

# The longest line (in characters, without its newline) a line source hands
# out; a longer one is a counted reject holding its first characters, read
# through in pieces of this size so memory stays bounded. None lifts the cap.
MAX_LINE = 1 << 20
# How much of an over-long line its reject keeps.
REJECT_HEAD = 200
# Under a cap a batch is a few lines or more, so that a file of lines just
# under the cap holds about this many characters at once, not a batch of
# BATCH_BYTES worth of lines each near a megabyte.
_CAPPED_BATCH_CHARS = 16 << 20


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


def _line_ends(piece: str, limit: int) -> bool:
    """Tell whether a piece ``readline(limit)`` returned ends its line."""
    return len(piece) < limit or piece.endswith("\n")


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
        own.warn(stacklevel=2, hint="pass max_line=None to lift the cap")


def _file_batches(
    f: Any, path: str | None, cursor: LineCursor | None, max_line: int | None, own: RunContext
) -> Iterator[Iterator[Any]]:
    """The lines of one text file, a batch at a time; over-long lines become rejects.

    Under a cap the file is read with ``readline(limit)``, so no read holds
    more than ``limit`` characters of a line, and a batch holds at most
    ``_CAPPED_BATCH_CHARS`` characters whatever the lines' lengths.
    """
    limit = 0 if max_line is None else max_line + 1
    if limit:
        pieces = iter(partial(f.readline, limit), "")
        n = max(1, min(256, _CAPPED_BATCH_CHARS // limit))
        pushback: list[str] = []

        def read() -> list[str]:
            if pushback:
                batch = pushback.copy()
                pushback.clear()
                return batch
            return list(islice(pieces, n))

    else:
        read = partial(f.readlines, BATCH_BYTES)
    done = 0
    while True:
        long: tuple[str, int] | None = None
        try:
            batch = read()
            i = -1
            if limit and batch and max(map(len, batch)) >= limit:
                i = next((i for i, p in enumerate(batch) if not _line_ends(p, limit)), -1)
            if i >= 0:
                head, length = batch[i][:REJECT_HEAD], len(batch[i])
                rest = iter(batch[i + 1 :])
                for piece in chain(rest, pieces):
                    length += len(piece)
                    ends = _line_ends(piece, limit)
                    if len(head) < REJECT_HEAD:
                        head += piece[: REJECT_HEAD - len(head)].removesuffix("\n")
                    if ends:
                        length -= piece.endswith("\n")
                        break
                pushback.extend(rest)
                batch, long = batch[:i], (head, length)
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
        if not batch and long is None:
            return
        if batch:
            it = iter(batch)
            if cursor is not None:
                cursor.base, cursor.batch, cursor.it = done, batch, it
            yield it
            done += len(batch)
        if long is not None:
            done += 1
            reason = f"line longer than max_line={max_line:,} ({long[1]:,} characters)"
            own.bad("skip", "cat", reason, long[0], origin=(path, done))


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
