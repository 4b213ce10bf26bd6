"""Follow growing files like ``tail -F``: rotation, truncation, missing files, partial lines.

The tutorial's ``follow()`` seeks to the end and polls ``readline()``. Real logs
are renamed by logrotate, truncated in place (``copytruncate``), deleted and
recreated, and written half a line at a time. :func:`follow` keeps reading
through all of that:

- **rotation by rename**: the old file is read to its end before the new one
  is read from its start, so nothing is lost or read twice; the old file is
  then watched for ``grace`` seconds more, for writers that go on appending to
  it until they reopen their log;
- **truncation in place**: noticed when the file shrinks, and also when it was
  refilled past the old size before the next look (the few bytes before the
  read position are compared, not the size alone); reading starts again at 0.
  Lines written after the last read and before the truncation exist only in
  the copy: no follower can promise them (``tail -F`` cannot either);
- **missing file**: waited for (at start, or deleted for a while), then read
  from its start;
- **partial last line**: held until its newline arrives, never yielded in two
  pieces (a file given up after rotation yields its unterminated end as is).

It polls: every ``poll`` seconds (default 0.05) one ``fstat`` per file, plus a
``stat`` of the name when the file is at its end — next to no CPU when idle,
and no delay while data flows (it only sleeps when a whole round read nothing).
A file that is created and rotated away again between two looks is not seen.
"""

from __future__ import annotations

import codecs
import glob
import os
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from typing import Any, NamedTuple

from .context import LineCursor, RunContext
from .shutdown import check_event, idle_wait, stop_requested

__all__ = ["follow", "Batch", "follow_batches", "split_lines", "DEFAULT_POLL", "DEFAULT_GRACE"]

DEFAULT_POLL = 0.05
"""Seconds between two looks at an idle file."""
DEFAULT_GRACE = 5.0
"""Seconds a rotated-away file is still read, for writers that have not reopened yet."""

CHUNK = 1 << 16  # bytes read from one file per round: a busy file cannot starve the others
MARK = 64  # bytes before the read position kept to recognise the same file content

Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


class Batch(NamedTuple):
    """Complete lines read from one file at once, and where they lie in it.

    ``start``/``end`` are byte offsets of the first line and past the last;
    ``ident`` is the file's ``(st_dev, st_ino)``; ``lineno`` the number of lines
    before this batch in the file, or None when reading began mid-file.
    """

    path: str
    ident: tuple[int, int]
    start: int
    end: int
    lineno: int | None
    lines: list[str]


def split_lines(data: bytes, encoding: str, errors: str) -> tuple[list[str], int]:
    """Decode the complete lines of ``data``; return them and the bytes they used.

    ``\\r\\n`` reads as ``\\n``, as in a file opened in text mode.

    >>> split_lines(b"a\\r\\nb\\nhalf", "utf-8", "strict")
    (['a\\n', 'b\\n'], 5)
    """
    used = data.rfind(b"\n") + 1
    if not used:
        return [], 0
    text = data[:used].decode(encoding, errors)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    parts = text.split("\n")
    parts.pop()
    return [p + "\n" for p in parts], used


def _read_at(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, size)  # pragma: no cover


def _ident(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def line_start_before_end(fd: int, size: int) -> int:
    """Return the offset just past the last newline before ``size`` (0 if none).

    Following from the end starts there, so a half-written last line is
    delivered whole once its newline comes.
    """
    pos = size
    while pos > 0:
        n = min(CHUNK, pos)
        data = _read_at(fd, n, pos - n)
        i = data.rfind(b"\n")
        if i >= 0:
            return pos - n + i + 1
        pos -= n
    return 0


class Tail:
    """One open file being followed: descriptor, identity, read position, held partial line."""

    __slots__ = ("deadline", "fd", "ident", "lineno", "mark", "path", "pending", "pos", "seen")

    def __init__(self, path: str, fd: int, pos: int, lineno: int | None) -> None:
        self.path = path
        self.fd = fd
        self.ident = _ident(os.fstat(fd))
        self.pos = pos  # offset of the next byte to read
        self.pending = b""  # a partial line, held until its newline
        self.mark = _read_at(fd, min(MARK, pos), pos - min(MARK, pos)) if pos else b""
        self.seen: tuple[int, int] | None = None  # (size, mtime) at the last content check
        self.lineno = lineno
        self.deadline = 0.0  # when a rotated-away file is given up

    @classmethod
    def open(cls, path: str, *, at_end: bool) -> Tail | None:
        """Open ``path`` at its start, or at its last line start; None if it is missing."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return None
        try:
            if at_end:
                pos = line_start_before_end(fd, os.fstat(fd).st_size)
                return cls(path, fd, pos, None if pos else 0)
            return cls(path, fd, 0, 0)
        except BaseException:
            os.close(fd)
            raise

    def truncated(self) -> bool:
        """Say whether the file was cut below the read position, or rewritten under it."""
        st = os.fstat(self.fd)
        if st.st_size < self.pos:
            return True
        seen = (st.st_size, st.st_mtime_ns)
        if seen == self.seen or not self.mark:
            self.seen = seen
            return False
        self.seen = seen
        n = len(self.mark)
        return _read_at(self.fd, n, self.pos - n) != self.mark

    def restart(self) -> bytes:
        """Read again from the start (after a truncation); return the partial line dropped."""
        dropped = self.pending
        self.pos, self.pending, self.mark, self.seen = 0, b"", b"", None
        self.lineno = 0
        return dropped

    def read(self, encoding: str, errors: str) -> Batch | None:
        """Read what was appended (up to one chunk); None at the end of the file."""
        data = _read_at(self.fd, CHUNK, self.pos)
        if not data:
            return None
        start = self.pos - len(self.pending)
        buf = self.pending + data if self.pending else data
        self.pos += len(data)
        self.mark = (self.mark + data)[-MARK:] if len(data) < MARK else data[-MARK:]
        lines, used = split_lines(buf, encoding, errors)
        self.pending = buf[used:]
        batch = Batch(self.path, self.ident, start, start + used, self.lineno, lines)
        if self.lineno is not None:
            self.lineno += len(lines)
        return batch

    def rest(self, encoding: str) -> Batch | None:
        """Hand out the unterminated end of a file that is being given up."""
        if not self.pending:
            return None
        text = self.pending.decode(encoding, "backslashreplace")
        start = self.pos - len(self.pending)
        self.pending = b""
        return Batch(self.path, self.ident, start, self.pos, self.lineno, [text])

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


class _Name:
    """One followed name: its current file, and rotated-away files still in their grace."""

    def __init__(self, path: str, at_end: bool, current: Tail | None = None) -> None:
        self.path = path
        self.at_end = at_end  # only the file there at start is read from its end
        self.current = current
        self.retired: list[Tail] = []
        self.progressed = False

    def step(
        self, now: float, grace: float, encoding: str, errors: str, ctx: RunContext
    ) -> Iterator[Batch]:
        """Read one round: rotated-away files first, then the current file."""
        self.progressed = False
        for old in list(self.retired):
            batch = old.read(encoding, errors)
            if batch is not None:
                self.progressed = True
                yield batch
            elif now >= old.deadline:
                rest = old.rest(encoding)
                if rest is not None:
                    yield rest
                self.retired.remove(old)
                old.close()
        if self.current is None:
            self.current = Tail.open(self.path, at_end=self.at_end)
            self.at_end = False
            if self.current is None:
                return
        cur = self.current
        if cur.truncated():
            dropped = cur.restart()
            if dropped:
                ctx.bad(
                    "skip",
                    "follow",
                    "partial line cut by a truncation",
                    dropped.decode(encoding, "backslashreplace"),
                    origin=(cur.path, None),
                )
        batch = cur.read(encoding, errors)
        if batch is not None:
            self.progressed = True
            yield batch
            return
        try:
            now_there: tuple[int, int] | None = _ident(os.stat(self.path))
        except FileNotFoundError:
            now_there = None
        if now_there == cur.ident:
            return
        # Renamed away or deleted: finish it now (nothing of the new file may
        # come before it), then keep an eye on it while writers catch up.
        while (batch := cur.read(encoding, errors)) is not None:
            yield batch
        cur.deadline = now + grace
        self.retired.append(cur)
        self.current = None
        self.progressed = True

    def close(self) -> None:
        for tail in [*self.retired, self.current]:
            if tail is not None:
                tail.close()
        self.retired, self.current = [], None


def _names(stage: str, paths: object) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        given = [paths]
    elif isinstance(paths, Sequence) and not isinstance(paths, bytes):
        given = list(paths)
    else:
        raise TypeError(f"{stage}: expected a path, a glob or a list of paths, got {paths!r}")
    if not given:
        raise ValueError(f"{stage}: name at least one file to follow")
    for p in given:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"{stage}: expected a path, got {p!r}")
    return [os.fspath(p) for p in given]


def _expand(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if glob.has_magic(name) and not os.path.exists(name):
            found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"follow: no file matches {name!r}")
            out.extend(found)
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def check_options(stage: str, poll: object, grace: object, encoding: object) -> None:
    """Refuse bad ``poll``, ``grace`` and ``encoding`` arguments when the step is added."""
    if not isinstance(poll, (int, float)) or isinstance(poll, bool) or not 0 < poll <= 60:
        raise ValueError(f"{stage}: poll must be a number of seconds in (0, 60], got {poll!r}")
    if not isinstance(grace, (int, float)) or isinstance(grace, bool) or grace < 0:
        raise ValueError(f"{stage}: grace must be a number of seconds >= 0, got {grace!r}")
    if not isinstance(encoding, str):
        raise TypeError(f"{stage}: encoding must be a str, got {encoding!r}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"{stage}: unknown encoding {encoding!r}") from None


def follow_batches(
    names: list[str],
    *,
    from_start: bool = False,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    grace: float = DEFAULT_GRACE,
    wait: bool = True,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    ctx: RunContext | None = None,
    opened: dict[str, Tail] | None = None,
) -> Generator[Batch, None, None]:
    """Yield batches of new lines from the named files until shut down (see :func:`follow`).

    ``opened`` maps a name to a file already open on it (``logfile`` opens the
    live file before reading the history, so a rotation in between loses nothing).
    """
    own = ctx or RunContext()
    followed = [_Name(n, not from_start, (opened or {}).get(n)) for n in _expand(names)]
    try:
        if not wait:
            for name in followed:
                if name.current is None and not os.path.exists(name.path):
                    raise FileNotFoundError(f"follow: no such file {name.path!r}")
        while not stop_requested(own, shutdown):
            progressed = False
            now = time.monotonic()
            for name in followed:
                yield from name.step(now, grace, encoding, decode_errors, own)
                progressed = progressed or name.progressed
            if not progressed:
                idle_wait(poll, shutdown)
    finally:
        for name in followed:
            name.close()
        if ctx is None:
            own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")


def follow(
    paths: Paths,
    *,
    from_start: bool = False,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    grace: float = DEFAULT_GRACE,
    wait: bool = True,
    tag: bool = False,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    ctx: RunContext | None = None,
) -> Iterator[Any]:
    """Yield the lines appended to one or several files, forever, like ``tail -F``.

    Infinite; ends only when closed or shut down (``shutdown`` set: within
    one poll interval). Holds one 64 KiB chunk per file and a partial line.
    ``paths`` is a file, a glob (expanded when the run starts) or a list;
    each file is read a chunk per round, so a busy file cannot hold back a
    quiet one. Starts at the end of each file present at the start, at its
    beginning with ``from_start=True``; files that appear later are read from
    their beginning. ``wait=False`` raises ``FileNotFoundError`` for a file
    missing at the start instead of waiting for it. ``tag=True`` yields
    ``(path, line)`` pairs. Rotation, truncation, deletion: see the module.

    >>> import itertools, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "access-log")
    >>> with open(p, "w") as f:
    ...     _ = f.write("GET /a\\nGET /b\\nGET /c (half writ")
    >>> lines = follow(p, from_start=True, poll=0.01)
    >>> list(itertools.islice(lines, 2))
    ['GET /a\\n', 'GET /b\\n']
    >>> with open(p, "a") as f:
    ...     _ = f.write("ten)\\n")
    >>> next(lines)
    'GET /c (half written)\\n'
    >>> lines.close()
    """
    names = _names("follow", paths)
    check_options("follow", poll, grace, encoding)
    check_event("follow", shutdown)
    batches = follow_batches(
        names,
        from_start=from_start,
        shutdown=shutdown,
        poll=poll,
        grace=grace,
        wait=wait,
        encoding=encoding,
        decode_errors=decode_errors,
        ctx=ctx,
    )
    return _flatten(batches, tag=tag, ctx=ctx)


def _flatten(
    batches: Generator[Batch, None, None], *, tag: bool, ctx: RunContext | None
) -> Iterator[Any]:
    cursor = None
    if ctx is not None and ctx.track:
        cursor = LineCursor(None)
        ctx.cursor = cursor
    try:
        for batch in batches:
            items: list[Any] = batch.lines
            if tag:
                items = [(batch.path, line) for line in items]
            if cursor is None:
                yield from items
                continue
            it = iter(items)
            cursor.path, cursor.batch = batch.path, items
            if batch.lineno is None:
                cursor.base, cursor.it = 0, None
            else:
                cursor.base, cursor.it = batch.lineno, it
            yield from it
    finally:
        batches.close()
