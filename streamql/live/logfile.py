"""A logical log: the rotated history, oldest first, then the live file, resumable.

``logfile("www/foo/access-log")`` reads ``access-log.3.gz``, ``access-log.2``,
``access-log.1`` … (any ``.N``, ``-DATE``, ``_N`` suffix, compressed or not:
compression is told by content), then the live ``access-log`` from its start,
then follows it like ``tail -F`` (:func:`streamql.live.follow.follow`). The
history is listed again at every rotation, so files rotated while the reader
was behind are read too, in order, before the new live file.

A checkpoint (:mod:`streamql.live.checkpoint`) makes a re-run continue where the
last one stopped. Files are named in it by inode *and* their first bytes, so
a file compressed after rotation is still found (by content) and a new file
that reuses a freed inode number is not taken for the old one. Delivery is
**at least once**: nothing acknowledged is lost, and nothing not delivered is
skipped — the checkpoint never points past a file that was not read.

Redelivery bound. A batch (up to 64 KiB of lines) is acknowledged when the
consumer asks for the item after it. At a clean stop, a shutdown Event or a
signal turned into one (:func:`streamql.live.shutdown.shutdown_on_signals`), the
checkpoint is written in the ``finally``: at most the batch being read comes
again. After a crash (``kill -9``, power loss) at most ``checkpoint_lines``
lines (default 10,000) plus two batches come again, or the lines acknowledged
in the last ``checkpoint_every`` seconds (default 1) if that is fewer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from ..core.context import LineCursor, RunContext
from ..core.defaults import MAX_LINE
from .checkpoint import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_CHECKPOINT_LINES,
    Checkpointer,
    read_checkpoint,
    resume_plan,
    write_checkpoint,
)
from .follow import (
    DEFAULT_GRACE,
    DEFAULT_POLL,
    FollowStats,
    check_inotify,
    check_options,
    follow_batches,
    refuse_directory,
)
from .logname import Start
from .rotation import Seen, rotated_siblings, siblings
from .shutdown import check_event, stop_requested
from .tail import Tail

__all__ = ["logfile", "rotated_siblings", "read_checkpoint", "write_checkpoint"]


def _start(
    live: str, history: bool, follow: bool, checkpoint: str | os.PathLike[str] | None
) -> Start:
    """Open the live file first (a rotation meanwhile then loses nothing), and plan what to read."""
    try:
        current = Tail.open(live)
    except OSError:
        current = None  # the follow reports it, and tries again
    try:
        saved = read_checkpoint(checkpoint) if checkpoint is not None else None
        if saved:
            seen, offsets = resume_plan(live, saved, current)
            if current is not None and current.ident in offsets:
                current.skip_to(offsets.pop(current.ident))
            return Start(current, seen, offsets)
        if history:
            return Start(current, Seen())
        seen = Seen()
        for sib in siblings(live):
            seen.add(sib.ident, sib.head)
        if follow and current is not None:
            current.close()
            current = Tail.open(live, at_end=True)
        return Start(current, seen)
    except BaseException:
        if current is not None:
            current.close()
        raise


def logfile(
    path: str | os.PathLike[str],
    *,
    history: bool = True,
    follow: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    grace: float = DEFAULT_GRACE,
    checkpoint_every: float = DEFAULT_CHECKPOINT_EVERY,
    checkpoint_lines: int = DEFAULT_CHECKPOINT_LINES,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    max_line: int | None = MAX_LINE,
    inotify: bool | None = None,
    stats: FollowStats | None = None,
    ctx: RunContext | None = None,
) -> Iterator[str]:
    """Yield a log's whole history, oldest rotated file first, then its live file, then follow it.

    Infinite with ``follow=True``: ends only when closed or shut down; with
    ``follow=False`` it ends at the live file's current end. Holds one 64 KiB
    batch. ``history=False`` starts at the live file (its end, when following
    with no checkpoint, as ``tail`` does). With ``checkpoint``, a re-run
    continues after the last acknowledged batch: at-least-once delivery, with
    the redelivery bound the module states. The checkpoint is written at the
    first acknowledged batch, then every ``checkpoint_lines`` lines or
    ``checkpoint_every`` seconds, when a file is given up, and when the stream
    ends. ``max_line``, ``inotify``, ``stats``: as for :func:`~streamql.live.follow.follow`.

    >>> import gzip, os, tempfile
    >>> d = tempfile.mkdtemp(); log = os.path.join(d, "access-log")
    >>> with gzip.open(log + ".2.gz", "wt") as f:
    ...     _ = f.write("oldest\\n")
    >>> with open(log + ".1", "w") as f:
    ...     _ = f.write("older\\n")
    >>> with open(log, "w") as f:
    ...     _ = f.write("live\\n")
    >>> os.utime(log + ".2.gz", (1, 1)); os.utime(log + ".1", (2, 2))
    >>> list(logfile(log, follow=False))
    ['oldest\\n', 'older\\n', 'live\\n']
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"logfile: expected a path, got {path!r}")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"logfile: checkpoint must be a path, got {checkpoint!r}")
    check_options("logfile", poll, grace, encoding, max_line, stats)
    check_event("logfile", shutdown)
    check_inotify("logfile", inotify)
    if not isinstance(checkpoint_lines, int) or checkpoint_lines < 1:
        raise ValueError(f"logfile: checkpoint_lines must be an int >= 1, got {checkpoint_lines!r}")
    if not isinstance(checkpoint_every, (int, float)) or checkpoint_every < 0:
        raise ValueError(
            f"logfile: checkpoint_every must be seconds >= 0, got {checkpoint_every!r}"
        )
    live = os.fspath(path)

    def run() -> Iterator[str]:
        refuse_directory("logfile", live)
        own = ctx or RunContext()
        cursor = None
        if ctx is not None and ctx.track:
            cursor = LineCursor(None)
            ctx.cursor = cursor
        begin = _start(live, history, follow, checkpoint)
        saver = None
        if checkpoint is not None:
            saver = Checkpointer(checkpoint, checkpoint_lines, checkpoint_every)
        batches = follow_batches(
            [live],
            from_start=True,
            shutdown=shutdown,
            poll=poll,
            grace=grace,
            encoding=encoding,
            decode_errors=decode_errors,
            max_line=max_line,
            inotify=inotify,
            stats=stats,
            ctx=own,
            start={live: begin},
            until_end=not follow,
        )
        try:
            for batch in batches:
                lines: list[Any] = batch.lines
                if cursor is not None:
                    it = iter(lines)
                    cursor.path, cursor.batch = batch.path, lines
                    cursor.base, cursor.it = (
                        (0, None) if batch.lineno is None else (batch.lineno, it)
                    )
                    yield from it
                else:
                    yield from lines
                # The consumer asked for the item after this batch: it is acknowledged.
                if saver is not None:
                    saver.ack(batch)
                if stop_requested(own, shutdown):
                    return
        finally:
            batches.close()
            if begin.current is not None:
                begin.current.close()  # if the follow never started
            if saver is not None:
                saver.write()
            if ctx is None:
                own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")

    return run()
