"""Follow growing files like ``tail -F``: rotation, lag, truncation, missing and hostile files.

The tutorial's ``follow()`` seeks to the end and polls ``readline()``. Real logs
are renamed by logrotate (and compressed, and deleted), truncated in place
(``copytruncate``), deleted and recreated, written half a line at a time, and
sometimes replaced by something that is not a file at all. :func:`follow`
keeps reading through all of that:

- **rotation by rename**: the old file is read to its end; then every file
  rotated since — a follower slower than the writer may be several rotations
  behind — found among the rotation siblings (``name.1``, ``name.2.gz`` …,
  compressed or not, see :mod:`streamql.live.rotation`) by identity (inode *and*
  first bytes), oldest first; then the new live file. Nothing that still
  exists on disk is skipped. An old file is watched for ``grace`` seconds
  after its last write, for writers that go on appending to it until they
  reopen their log;
- **truncation in place** (copytruncate): noticed when the file shrinks, and
  when its first bytes or the bytes before the read position changed (lines
  that all end alike cannot hide it). The lines written after the last read
  and before the truncation are then read from the copy (a sibling with the
  same first bytes), so only lines written between the copy and the
  truncation can be lost: logrotate's own window, which no reader can close;
- **missing file**: waited for (at start, or deleted for a while), then read
  from its start;
- **hostile names**: files are opened with ``O_NONBLOCK`` and anything but a
  regular file (a FIFO, a directory, an unreadable file, a symlink loop) is a
  counted reject naming it; the other files go on, and the name is tried
  again each poll;
- **partial last line**: held until its newline arrives, never yielded in two
  pieces (a file given up after rotation yields its unterminated end as is);
  a line longer than ``max_line`` bytes becomes a reject holding its first
  bytes, so memory stays bounded.

It polls every ``poll`` seconds (default 0.05): one ``fstat`` per file, plus a
``stat`` of the name when the file is at its end; with inotify (optional,
:mod:`streamql.live.watch`) it wakes as soon as a file changes and looks at idle
files once a second. A file created and rotated away *and deleted* between
two looks is not seen.
"""

from __future__ import annotations

import codecs
import glob
import os
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from ..core.context import LineCursor, RunContext
from ..core.defaults import GRACE, MAX_LINE, POLL
from .logname import FollowStats, Options, Start, _Name
from .rotation import siblings
from .shutdown import check_event, stop_requested
from .tail import CHUNK, Batch, line_start_before_end, split_lines
from .watch import RESCAN, Waiter, inotify_available

__all__ = [
    "follow",
    "Batch",
    "FollowStats",
    "follow_batches",
    "split_lines",
    "DEFAULT_POLL",
    "DEFAULT_GRACE",
    "MAX_LINE",
    "CHUNK",
    "line_start_before_end",
]

DEFAULT_POLL, DEFAULT_GRACE = POLL, GRACE  # (the names this module has always had)

Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


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


def refuse_directory(stage: str, name: str) -> None:
    """Raise ``IsADirectoryError`` for a name that is a directory when the run starts.

    A directory named alone is a mistake, not a file to wait for (among
    several names, or replacing a file later, it is a counted reject instead).

    >>> import tempfile
    >>> refuse_directory("follow", tempfile.gettempdir())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    IsADirectoryError: follow: '...' is a directory, not a log file...
    """
    if os.path.isdir(name):
        pattern = os.path.join(name, "*.log")
        raise IsADirectoryError(
            f"{stage}: {name!r} is a directory, not a log file"
            f"\n\nName a file in it, or a glob such as {pattern!r}; "
            f"Stream.files({name!r}).open().cat() reads every file under it."
        )


def _expand(names: list[str], stage: str = "follow") -> list[str]:
    out: list[str] = []
    for name in names:
        if glob.has_magic(name) and not os.path.exists(name):
            found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"{stage}: no file matches {name!r}")
            out.extend(found)
        else:
            if len(names) == 1:  # among several, a directory is a reject and the rest go on
                refuse_directory(stage, name)
            out.append(name)
    return list(dict.fromkeys(out))


def check_options(
    stage: str,
    poll: object,
    grace: object,
    encoding: object,
    max_line: object = MAX_LINE,
    stats: object = None,
) -> None:
    """Refuse bad follow options (poll, grace, encoding, max_line, stats) when the step is added."""
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
    if max_line is not None and (
        not isinstance(max_line, int) or isinstance(max_line, bool) or max_line < 1
    ):
        raise ValueError(
            f"{stage}: max_line must be a number of bytes >= 1 or None, got {max_line!r}"
        )
    if stats is not None and not isinstance(stats, FollowStats):
        raise TypeError(f"{stage}: stats must be a FollowStats, got {stats!r}")


def check_inotify(stage: str, inotify: object) -> None:
    """Refuse an ``inotify`` argument other than None/True/False, or True where it is missing."""
    if inotify not in (None, True, False):
        raise TypeError(f"{stage}: inotify must be True, False or None, got {inotify!r}")
    if inotify and not inotify_available():
        raise ValueError(
            f"{stage}: inotify=True but inotify is not available here\n\n"
            "Install the optional package: pip install 'streamql[inotify]'"
        )


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
    max_line: int | None = MAX_LINE,
    inotify: bool | None = None,
    stats: FollowStats | None = None,
    ctx: RunContext | None = None,
    start: dict[str, Start] | None = None,
    until_end: bool = False,
) -> Generator[Batch, None, None]:
    """Yield batches of new lines from the named files until shut down (see :func:`follow`).

    ``start`` maps a name to where it begins (``logfile`` opens the live file
    before reading the history, so a rotation in between loses nothing, and
    says which rotated files were read already). Without it, the rotated files
    present at the start count as read. ``until_end``: stop once every file
    is read to its end. A batch with ``done`` set says a file was given up.
    """
    own = ctx or RunContext()
    stats = stats if stats is not None else FollowStats()
    opts = Options(grace, encoding, decode_errors, max_line, own, stats)
    followed: list[_Name] = []
    waiter: Waiter | None = None
    try:
        for path in _expand(names):
            begin = (start or {}).get(path)
            if begin is not None:
                followed.append(_Name(path, opts, begin, at_end=False))
                continue
            # Open first (at its end, as tail does: no time for lines to slip
            # by), then count the rotated files there now as read.
            name = _Name(path, opts, Start(), at_end=not from_start)
            followed.append(name)
            name.open_live()
            for sib in siblings(path):
                name.seen.add(sib.ident, sib.head)
        if not wait:
            for name in followed:
                if name.current is None and not os.path.exists(name.path):
                    raise FileNotFoundError(f"follow: no such file {name.path!r}")
        waiter = Waiter([n.path for n in followed], inotify)
        stats.inotify = waiter.uses_inotify
        last_round = 0.0
        while not stop_requested(own, shutdown):
            progressed = False
            last_round = now = time.monotonic()
            for name in followed:
                for batch in name.step(now):
                    _measure(stats, followed)
                    yield batch
                progressed = progressed or name.progressed
            _measure(stats, followed)
            if progressed:
                continue
            if until_end:
                for name in followed:
                    yield from name.finish()
                return
            # Idle: wait for a change (inotify), or a poll; shutdown is seen every poll.
            while not waiter.wait(poll, shutdown) and time.monotonic() - last_round < RESCAN:
                if stop_requested(own, shutdown):
                    break
    finally:
        if waiter is not None:
            waiter.close()
        for name in followed:
            name.close()
        if ctx is None:
            own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")


def _measure(stats: FollowStats, followed: list[_Name]) -> None:
    stats.files_behind = sum(n.files_behind for n in followed)
    stats.bytes_behind = sum(n.bytes_behind + sum(t.behind() for t in n.tails()) for n in followed)


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
    max_line: int | None = MAX_LINE,
    inotify: bool | None = None,
    stats: FollowStats | None = None,
    ctx: RunContext | None = None,
) -> Iterator[Any]:
    """Yield the lines appended to one or several files, forever, like ``tail -F``.

    Infinite; ends only when closed or shut down (``shutdown`` set: within
    one poll interval, whatever the files are). Holds one 64 KiB chunk per
    file and a partial line of at most ``max_line`` bytes (default 1 MiB;
    a longer line is a reject holding its first 200 bytes; None lifts the
    cap). ``paths`` is a file, a glob (expanded when the run starts) or a
    list; each file is read a chunk per round, so a busy file cannot hold back
    a quiet one. Starts at the end of each file present at the start, at its
    beginning with ``from_start=True``; files that appear later, and files
    rotated while it runs, are read from their beginning. ``wait=False``
    raises ``FileNotFoundError`` for a file missing at the start instead of
    waiting for it. ``tag=True`` yields ``(path, line)`` pairs. ``inotify``:
    None uses it when available, True requires it, False polls. ``stats``, a
    :class:`FollowStats`, shows how far behind the follow is while it runs.
    Rotation, lag, truncation, deletion, hostile files: see the module.

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
    check_options("follow", poll, grace, encoding, max_line, stats)
    check_event("follow", shutdown)
    check_inotify("follow", inotify)
    batches = follow_batches(
        names,
        from_start=from_start,
        shutdown=shutdown,
        poll=poll,
        grace=grace,
        wait=wait,
        encoding=encoding,
        decode_errors=decode_errors,
        max_line=max_line,
        inotify=inotify,
        stats=stats,
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
