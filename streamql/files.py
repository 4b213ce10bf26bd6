"""Files and directories as streams: find, open (any compression), cat.

The tutorial's ``gen_open``/``gen_cat`` done properly: files are closed as soon
as they are consumed (and when the consumer stops early), compression is told
by the file's first bytes rather than its name, undecodable bytes never crash a
query, and a damaged archive raises an error naming the file and the last good
line after delivering every line before the damage.
"""

from __future__ import annotations

import codecs
import errno
import fnmatch
import glob
import io
import os
import stat
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from itertools import chain, islice
from pathlib import Path, PurePosixPath
from types import GeneratorType
from typing import IO, Any

from .compress import DAMAGE, decompressor, sniff
from .context import ItemCursor, LineCursor, RunContext, check_errors
from .errors import CorruptFileError
from .optimize import reads_blocks

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
]

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

_sniff = sniff
# What Python's decompressors raise on damaged input, without the file name.
_DAMAGE = DAMAGE


class TextFile(io.TextIOWrapper):
    """A decompressed text file that also closes the raw file under its decompressor.

    Every file streamql opens (a plain ``TextIOWrapper`` or this) carries
    ``path`` and ``compression`` (None, "gzip", "bz2" or "xz") attributes.
    """

    path: str
    compression: str | None
    _raw_under: IO[bytes] | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            # GzipFile/BZ2File given a file object leave it open: close it too.
            if self._raw_under is not None:
                self._raw_under.close()


def _validate_pattern(stage: str, pattern: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise TypeError(f"{stage}: pattern must be a non-empty str, got {pattern!r}")
    posix = pattern.replace("\\", "/")
    if posix.startswith("/") or os.path.isabs(pattern):
        raise ValueError(
            f"{stage}: pattern must be relative to root, got the absolute {pattern!r}\n\n"
            "Pass the directory as root instead: files('access-log*', root='/var/log')."
        )
    if ".." in PurePosixPath(posix).parts:
        raise ValueError(f"{stage}: pattern must stay inside root, got {pattern!r}")


def files(
    pattern: str = "*",
    root: str | os.PathLike[str] = ".",
    *,
    follow_symlinks: bool = False,
    ctx: RunContext | None = None,
) -> Iterator[Path]:
    """Yield the files under ``root`` whose name matches ``pattern``, recursively.

    Lazy; memory grows only with the set of files seen (to yield each real file
    once). Order is deterministic: a directory's files by name, then its
    subdirectories by name. A pattern with a ``/`` is matched against the end of
    the path relative to root (like ``Path.rglob``); ``..`` and absolute
    patterns are refused.

    Never outside root: a symlink (file or directory) whose target lies
    outside root is skipped and counted as a reject of stage ``files``, with or
    without ``follow_symlinks`` (to read such a target, name it as the root).
    Symlinked directories inside root are entered only with
    ``follow_symlinks=True``; a symlink loop is skipped and counted, never
    fatal, and cannot make a file appear twice. The count goes to ``ctx``, or
    without one to a :class:`~streamql.errors.RejectedLinesWarning` at the end.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["b/access-log", "a/access-log.gz", "a/notes.txt"]:
    ...     (d / name).parent.mkdir(exist_ok=True)
    ...     _ = (d / name).write_text("x")
    >>> [p.relative_to(d).as_posix() for p in files("access-log*", d)]
    ['a/access-log.gz', 'b/access-log']
    """
    _validate_pattern("files", pattern)
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"files: root {str(base)!r} is not a directory")
    posix = pattern.replace("\\", "/")

    if "/" in posix:

        def matches(rel: str, name: str) -> bool:
            return PurePosixPath(rel).match(posix)

    else:

        def matches(rel: str, name: str) -> bool:
            return fnmatch.fnmatchcase(name, posix)

    return _walk(base, matches, follow_symlinks, ctx)


def _inside(target: str, top: str) -> bool:
    return target == top or target.startswith(top.rstrip(os.sep) + os.sep)


def _walk(
    base: Path, matches: Any, follow_symlinks: bool, ctx: RunContext | None
) -> Iterator[Path]:
    own = ctx or RunContext()
    top = os.path.realpath(base)  # the root the user named, links in it resolved

    def skip(path: str, reason: str) -> None:
        own.bad("skip", "files", reason, path, origin=(path, None))

    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    st = base.stat()
    seen_dirs.add((st.st_dev, st.st_ino))
    stack: list[tuple[Path, str]] = [(base, "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (PermissionError, FileNotFoundError):
            # A folder removed or closed to us after it was listed has no files to give.
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            entry_rel = f"{rel}{entry.name}"
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    st = os.stat(entry.path)  # ELOOP for a loop of links
                    if not _inside(target, top):
                        if stat.S_ISDIR(st.st_mode) or matches(entry_rel, entry.name):
                            skip(entry.path, f"symlink leaves the root: {target}")
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        key = (st.st_dev, st.st_ino)
                        if not follow_symlinks or key in seen_dirs:
                            continue  # inside root: its files are reached by their own path
                        seen_dirs.add(key)
                        subdirs.append((folder / entry.name, entry_rel + "/"))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    subdirs.append((folder / entry.name, entry_rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=True) or not matches(entry_rel, entry.name):
                    continue
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                continue  # vanished between listing and looking (or a dangling link)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                skip(entry.path, "symlink loop")
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_files:
                continue
            seen_files.add(key)
            yield folder / entry.name
        stack.extend(reversed(subdirs))
    if ctx is None:
        own.warn(stacklevel=2, hint="name a link's target as the root to read it")


class _Borrowed(io.RawIOBase):
    """A binary stream the caller owns, read through; closing this leaves it open."""

    def __init__(self, binary: IO[bytes]) -> None:
        super().__init__()
        self._binary = binary

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._binary.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def _wrap(
    raw: io.BufferedReader[Any], name: str, encoding: str, decode_errors: str
) -> io.TextIOWrapper:
    """Text over a buffered binary file: decompressed by content, BOM dropped."""
    kind = sniff(raw)
    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8")
    text: io.TextIOWrapper
    if kind is None:
        # Plain files get the exact TextIOWrapper type: CPython reads lines
        # through its fast path only for that type, not for a subclass.
        if utf8 and raw.peek(3)[:3] == codecs.BOM_UTF8:
            raw.read(3)
        text = io.TextIOWrapper(raw, encoding=encoding, errors=decode_errors)
    else:
        compressed = TextFile(
            decompressor(kind, raw, name),
            encoding="utf-8-sig" if utf8 else encoding,
            errors=decode_errors,
        )
        compressed._raw_under = raw
        text = compressed
    text.path = name  # type: ignore[attr-defined]
    text.compression = kind  # type: ignore[attr-defined]
    return text


def open_file(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
) -> io.TextIOWrapper:
    """Open one file for reading text, decompressing gzip, bzip2, xz or zstd.

    Compression is told by the file's first bytes, not its suffix, so a
    mis-named file still reads right and an empty ``.gz`` is simply empty
    (zstd needs ``pip install streamql[zstd]`` before Python 3.14).
    UTF-8 input may start with a BOM (it is dropped). Undecodable bytes become
    ``\\xNN`` escapes (Apache's own convention) unless ``decode_errors`` says
    otherwise. Universal newlines: ``\\r\\n`` reads as ``\\n``.

    >>> import tempfile, gzip, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log")
    >>> with gzip.open(p, "wt") as f:
    ...     _ = f.write("one\\r\\ntwo\\n")
    >>> with open_file(p) as f:
    ...     (f.compression, f.read())
    ('gzip', 'one\\ntwo\\n')
    """
    raw = open(path, "rb")  # noqa: SIM115 - closed by the text file that wraps it
    try:
        return _wrap(raw, os.fspath(path), encoding, decode_errors)
    except BaseException:
        raw.close()
        raise


def open_stream(
    binary: IO[bytes],
    name: str = "<stdin>",
    *,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
) -> io.TextIOWrapper:
    """Read an open binary stream (standard input, a pipe) as text, decompressed by content.

    Like :func:`open_file`; closing the text file leaves ``binary`` open (it
    is the caller's). ``name`` stands for the file in rejects and errors.

    >>> import gzip, io
    >>> with open_stream(io.BytesIO(gzip.compress(b"a\\nb\\n"))) as f:
    ...     (f.path, f.compression, f.readlines())
    ('<stdin>', 'gzip', ['a\\n', 'b\\n'])
    """
    raw = io.BufferedReader(_Borrowed(binary))
    try:
        return _wrap(raw, name, encoding, decode_errors)
    except BaseException:
        raw.close()
        raise


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
            try:
                yield f
            finally:
                own.bytes_read += _position(f)
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


def _position(f: Any) -> int:
    """How many bytes of an open file have been read from disk (compressed bytes for archives)."""
    raw = getattr(f, "_raw_under", None) or getattr(getattr(f, "buffer", None), "raw", None)
    try:
        return int(raw.tell()) if raw is not None else 0
    except (OSError, ValueError):
        return 0


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


def _batches(
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
        except _DAMAGE as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error already names its file
            # readlines() dropped the good lines it had gathered before the
            # damage: read them again one by one, then report the damage.
            batch, cause = _salvage(f, done)
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


def _salvage(f: Any, done: int) -> tuple[list[str], BaseException | None]:
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
    except _DAMAGE as exc:
        return good, exc
    return good, None


@reads_blocks
def cat(
    files: Iterable[Iterable[Any]],
    *,
    blocks: bool = False,
    ctx: RunContext | None = None,
    max_line: int | None = MAX_LINE,
) -> Iterator[Any]:
    """Chain the lines of each file (or the items of each iterable) into one stream.

    Lazy; holds one batch of about 64 KiB of lines. When ``ctx`` is given the
    run context learns, for free, which file and line each line came from.
    A truncated or corrupt archive raises :class:`~streamql.errors.CorruptFileError`
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
    if blocks:  # the planner's choice (see streamql.blocks): files only
        from .blocks import blocks as block_source

        return block_source(files, ctx=ctx, max_line=max_line)
    cursor = None
    if ctx is not None:
        cursor = LineCursor(None)
        ctx.cursor = cursor
    return chain.from_iterable(_batches(files, cursor, max_line, ctx))


def expand_paths(
    args: Iterable[str | os.PathLike[str]], *, ctx: RunContext | None = None
) -> list[Path]:
    """Turn file names, directories and globs into a sorted list of files.

    A directory stands for every file under it; a glob (``*``, ``?``, ``[``,
    ``**``) for its matches. Each argument must name at least one file.

    >>> expand_paths([])
    []
    """
    out: list[Path] = []
    for arg in args:
        if not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"lines: expected file names or globs, got {arg!r}")
        name = os.fspath(arg)
        if os.path.isdir(name):
            out.extend(files("*", name, ctx=ctx))
        elif os.path.exists(name) or not glob.has_magic(name):
            out.append(Path(name))  # a missing plain name fails, naming it, when opened
        else:
            found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"lines: no file matches {name!r}")
            out.extend(Path(p) for p in found)
    return out


@reads_blocks
def lines(
    *paths: str | os.PathLike[str],
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    blocks: bool = False,
    ctx: RunContext | None = None,
    max_line: int | None = MAX_LINE,
) -> Iterator[str]:
    """Yield the lines of the named files (names, directories or globs), in order.

    ``files`` + ``open`` + ``cat`` in one call. Lazy; one file open at a time.
    ``blocks=True`` (set by the query planner) yields blocks of whole lines
    instead (see :mod:`streamql.blocks`). A line longer than ``max_line``
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
    return Closing(cat(opened, blocks=blocks, ctx=ctx, max_line=max_line), opened.close)


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
