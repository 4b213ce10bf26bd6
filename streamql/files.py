"""Files and directories as streams: find, open (any compression), cat.

The tutorial's ``gen_open``/``gen_cat`` done properly: files are closed as soon
as they are consumed (and when the consumer stops early), compression is told
by the file's first bytes rather than its name, undecodable bytes never crash a
query, and a damaged archive raises an error naming the file and the last good
line after delivering every line before the damage.
"""

from __future__ import annotations

import bz2
import codecs
import fnmatch
import glob
import gzip
import io
import lzma
import os
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import chain
from pathlib import Path, PurePosixPath
from types import GeneratorType
from typing import IO, Any

from .context import ItemCursor, LineCursor, RunContext, check_errors, file_position
from .errors import CorruptFileError
from .optimize import reads_blocks

__all__ = ["files", "open_files", "open_file", "cat", "lines", "expand_paths"]

# Lines are read in batches of about this many bytes: cheap line numbers
# (see context.LineCursor) at no cost over plain file iteration.
BATCH_BYTES = 1 << 16

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], Any]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "bz2": lambda raw: bz2.BZ2File(raw, "rb"),
    "xz": lambda raw: lzma.LZMAFile(raw, "rb"),  # noqa: SIM115
}
# What Python's decompressors raise on damaged input, without the file name.
_DAMAGE = (EOFError, zlib.error, lzma.LZMAError, OSError, UnicodeDecodeError)


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
    pattern: str = "*", root: str | os.PathLike[str] = ".", *, follow_symlinks: bool = False
) -> Iterator[Path]:
    """Yield the files under ``root`` whose name matches ``pattern``, recursively.

    Lazy; memory grows only with the set of files seen (to yield each real file
    once). Order is deterministic: a directory's files by name, then its
    subdirectories by name. A pattern with a ``/`` is matched against the end of
    the path relative to root (like ``Path.rglob``); ``..`` and absolute
    patterns are refused. Symlinked directories are entered only with
    ``follow_symlinks=True``, and a symlink loop cannot make a file appear twice.

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

    return _walk(base, matches, follow_symlinks)


def _walk(base: Path, matches: Any, follow_symlinks: bool) -> Iterator[Path]:
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
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    if entry.is_symlink():
                        st = os.stat(entry.path)
                        key = (st.st_dev, st.st_ino)
                        if key in seen_dirs:
                            continue
                        seen_dirs.add(key)
                    subdirs.append((folder / entry.name, entry_rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=True) or not matches(entry_rel, entry.name):
                    continue
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                continue  # vanished between listing and looking: it is not there to yield
            key = (st.st_dev, st.st_ino)
            if key in seen_files:
                continue
            seen_files.add(key)
            yield folder / entry.name
        stack.extend(reversed(subdirs))


def _sniff(raw: io.BufferedReader) -> str | None:
    head = raw.peek(6)[:6]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def open_file(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
) -> io.TextIOWrapper:
    """Open one file for reading text, decompressing gzip, bzip2 or xz.

    Compression is told by the file's first bytes, not its suffix, so a
    mis-named file still reads right and an empty ``.gz`` is simply empty.
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
        kind = _sniff(raw)
        utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8")
        text: io.TextIOWrapper
        if kind is None:
            # Plain files get the exact TextIOWrapper type: CPython reads lines
            # through its fast path only for that type, not for a subclass.
            if utf8 and raw.peek(3)[:3] == codecs.BOM_UTF8:
                raw.read(3)
            text = io.TextIOWrapper(raw, encoding=encoding, errors=decode_errors)
        else:
            opener = _DECOMPRESSORS[kind]
            compressed = TextFile(
                opener(raw), encoding="utf-8-sig" if utf8 else encoding, errors=decode_errors
            )
            compressed._raw_under = raw
            text = compressed
    except BaseException:
        raw.close()
        raise
    text.path = os.fspath(path)  # type: ignore[attr-defined]
    text.compression = kind  # type: ignore[attr-defined]
    return text


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


def _batches(files: Iterable[Any], cursor: LineCursor | None) -> Iterator[Iterator[Any]]:
    for f in files:
        readlines = getattr(f, "readlines", None)
        if readlines is None:
            # Any other iterable of items: the tutorial's gen_cat.
            if cursor is not None:
                cursor.path, cursor.base, cursor.it = None, 0, None
            yield iter(f)
            continue
        path = getattr(f, "path", None) or getattr(f, "name", None)
        path = None if path is None else os.fspath(path)
        if cursor is not None:
            cursor.path, cursor.base, cursor.batch, cursor.it = path, 0, [], None
        done = 0
        while True:
            try:
                batch = readlines(BATCH_BYTES)
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
            if not batch:
                break
            it = iter(batch)
            if cursor is not None:
                cursor.base, cursor.batch, cursor.it = done, batch, it
            yield it
            done += len(batch)


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
    files: Iterable[Iterable[Any]], *, blocks: bool = False, ctx: RunContext | None = None
) -> Iterator[Any]:
    """Chain the lines of each file (or the items of each iterable) into one stream.

    Lazy; holds one batch of about 64 KiB of lines. When ``ctx`` is given the
    run context learns, for free, which file and line each line came from.
    A truncated or corrupt archive raises :class:`~streamql.errors.CorruptFileError`
    naming the file, after every line before the damage.

    >>> list(cat([["a\\n", "b\\n"], ["c\\n"]]))
    ['a\\n', 'b\\n', 'c\\n']
    """
    if blocks:  # the planner's choice (see streamql.blocks): files only
        from .blocks import blocks as block_source

        return block_source(files, ctx=ctx)
    cursor = None
    if ctx is not None:
        cursor = LineCursor(None)
        ctx.cursor = cursor
    return chain.from_iterable(_batches(files, cursor))


def expand_paths(args: Iterable[str | os.PathLike[str]]) -> list[Path]:
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
            out.extend(files("*", name))
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
) -> Iterator[str]:
    """Yield the lines of the named files (names, directories or globs), in order.

    ``files`` + ``open`` + ``cat`` in one call. Lazy; one file open at a time.
    ``blocks=True`` (set by the query planner) yields blocks of whole lines
    instead (see :mod:`streamql.blocks`).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log")
    >>> with open(p, "w") as f:
    ...     _ = f.write("GET /\\nGET /x\\n")
    >>> list(lines(p))
    ['GET /\\n', 'GET /x\\n']
    """
    found = expand_paths(paths)
    opened = open_files(found, encoding=encoding, decode_errors=decode_errors, ctx=ctx)
    return Closing(cat(opened, blocks=blocks, ctx=ctx), opened.close)


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
