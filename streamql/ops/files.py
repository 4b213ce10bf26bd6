"""Files and directories as streams: find, open (any compression), cat.

The tutorial's ``gen_open``/``gen_cat`` done properly: files are closed as soon
as they are consumed (and when the consumer stops early), compression is told
by the file's first bytes rather than its name, undecodable bytes never crash a
query, a damaged archive raises an error naming the file and the last good
line after delivering every line before the damage, and a line too long to
hold is a counted reject. The parts live in :mod:`streamql.ops.walk` (finding),
:mod:`streamql.ops.compress` (opening) and :mod:`streamql.ops.batches` (reading).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import chain
from types import GeneratorType
from typing import Any

from ..core.context import ItemCursor, LineCursor, RunContext, check_errors, file_position
from .batches import BATCH_BYTES, MAX_LINE, REJECT_HEAD, batches, check_max_line
from .compress import TextFile, open_file, open_stream
from .walk import _validate_pattern as _validate_pattern
from .walk import expand_paths, files

__all__ = [
    "files",
    "open_files",
    "open_file",
    "open_stream",
    "cat",
    "lines",
    "expand_paths",
    "MAX_LINE",
    "check_max_line",
    "TextFile",
    "BATCH_BYTES",
    "REJECT_HEAD",
]


def open_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    errors: str = "raise",
    ctx: RunContext | None = None,
) -> Generator[io.TextIOWrapper, None, None]:
    """Open each path in turn, yielding text files; each is closed when the next is asked for.

    Lazy; one file open at a time. A file that cannot be opened (missing,
    unreadable) raises its ``OSError`` (which names it) under ``errors="raise"``;
    under ``errors="skip"`` it is counted as a reject of stage ``open`` and the
    run goes on.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> for n in "ab":
    ...     with open(os.path.join(d, n), "w") as f:
    ...         _ = f.write(n * 3)
    >>> [f.read() for f in open_files([os.path.join(d, "a"), os.path.join(d, "b")])]
    ['aaa', 'bbb']
    """
    policy = check_errors("open", errors)
    if policy == "keep":
        raise ValueError("open: errors must be 'raise' or 'skip'; a file has no line to keep")

    listed = isinstance(paths, (list, tuple))
    if ctx is not None and listed:  # all the files there are: the total is known up front
        ctx.bytes_total += sum(_size(p) for p in paths)

    def opener() -> Generator[io.TextIOWrapper, None, None]:
        own = ctx or RunContext()
        for path in paths:
            try:
                f = open_file(path, encoding=encoding, decode_errors=decode_errors)
            except OSError as exc:
                if policy == "raise":
                    raise
                name = os.fspath(path)
                own.bad("skip", "open", type(exc).__name__, name, origin=(name, None))
                continue
            if not listed:
                own.bytes_total += _size(path)
            own.current = f
            try:
                yield f
            finally:
                own.current = None
                own.bytes_read += file_position(f)
                f.close()
        if ctx is None:
            own.warn()

    return opener()


class Closing:
    """An iterator that closes what it reads from when the run closes it.

    Iterating it iterates ``it`` itself, at C speed; ``close()`` closes the
    source (the generator of open files), so an early stop releases the file
    at once and counts the bytes read.
    """

    __slots__ = ("_close", "_it")

    def __init__(self, it: Iterator[Any], close: Callable[[], Any]) -> None:
        self._it, self._close = it, close

    def __iter__(self) -> Iterator[Any]:
        return self._it

    def __next__(self) -> Any:
        return next(self._it)

    def close(self) -> None:
        self._close()


def _size(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # a missing file: opening it says why


def cat(
    files: Iterable[Iterable[Any]],
    *,
    ctx: RunContext | None = None,
    max_line: int | None = MAX_LINE,
) -> Iterator[Any]:
    """Chain the lines of each file (or the items of each iterable) into one stream.

    Lazy; holds one batch of about 64 KiB of lines. When ``ctx`` is given the
    run context learns, for free, which file and line each line came from.
    A truncated or corrupt archive raises :class:`~streamql.core.errors.CorruptFileError`
    naming the file, after every line before the damage. A line of a file
    longer than ``max_line`` characters (1 MiB; None lifts the cap) is not
    handed out: it is a counted reject of stage ``cat`` holding its first 200
    characters, read through a piece at a time, so memory stays bounded
    (about 16 MiB at most under the default cap, whatever the file).

    >>> list(cat([["a\\n", "b\\n"], ["c\\n"]]))
    ['a\\n', 'b\\n', 'c\\n']
    >>> import io, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     list(cat([io.StringIO("ok\\n" + "x" * 50 + "\\nok\\n")], max_line=10))
    ['ok\\n', 'ok\\n']
    >>> "cat 1; first at item 2" in str(caught[0].message)
    True
    """
    max_line = check_max_line("cat", max_line)
    cursor = None
    if ctx is not None:
        cursor = LineCursor(None)
        ctx.cursor = cursor
    return chain.from_iterable(batches(files, cursor, max_line, ctx))


def lines(
    *paths: str | os.PathLike[str],
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    ctx: RunContext | None = None,
    max_line: int | None = MAX_LINE,
) -> Iterator[str]:
    """Yield the lines of the named files (names, directories or globs), in order.

    ``files`` + ``open`` + ``cat`` in one call. Lazy; one file open at a time.
    A line longer than ``max_line``
    characters is a counted reject (see :func:`cat`).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(p, "w") as f:
    ...     _ = f.write("GET /\\nGET /x\\n")
    >>> list(lines(p))
    ['GET /\\n', 'GET /x\\n']
    """
    max_line = check_max_line("lines", max_line)
    found = expand_paths(paths, ctx=ctx)
    opened = open_files(found, encoding=encoding, decode_errors=decode_errors, ctx=ctx)
    return Closing(cat(opened, ctx=ctx, max_line=max_line), opened.close)


def files_of_lines(steps: tuple[Any, ...]) -> tuple[list[str], dict[str, Any]]:
    """The files a ``lines`` source (the last of ``steps``) reads, and its reading options."""
    source = steps[-1]
    return [os.fspath(p) for p in expand_paths(source.args)], dict(source.kwargs)


def files_of_cat(steps: tuple[Any, ...]) -> tuple[list[str], dict[str, Any]]:
    """The files ``cat`` reads after ``open`` of a source of paths: ``files(...).open().cat()``."""
    if len(steps) != 3 or not steps[0].source:
        raise ValueError(f"the files must come from one source, got {steps[1].render()}")
    options = dict(steps[1].kwargs)
    if options.pop("errors", "raise") != "raise":
        raise ValueError("open(errors='skip') runs only in one process")
    return [os.fspath(p) for p in steps[0].call(None, None)], options


def items(iterable: Iterable[Any], *, ctx: RunContext | None = None) -> Iterator[Any]:
    """Pass items through, telling ``ctx`` each one's 1-based number when it tracks origins.

    A generator is the run's to close; a file or other closable iterator is not.

    >>> list(items(iter("ab")))
    ['a', 'b']
    """
    if ctx is None or not ctx.track:
        it = iter(iterable)
        if hasattr(it, "close") and not isinstance(it, GeneratorType):
            # A file or socket stream the caller handed us is theirs to close: the
            # engine closes the stages of a run, so give it a stage without close().
            return chain(it)
        return it
    cursor = ItemCursor()
    ctx.cursor = cursor

    def numbered() -> Iterator[Any]:
        for n, item in enumerate(iterable, 1):
            cursor.n = n
            yield item

    return numbered()
