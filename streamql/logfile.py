"""A logical log: the rotated history, oldest first, then the live file, resumable.

``logfile("www/foo/access-log")`` reads ``access-log.3.gz``, ``access-log.2``,
``access-log.1`` … (any ``.N``, ``-DATE``, ``_N`` suffix, compressed or not:
compression is told by content, see :func:`streamql.files.open_file`), then
the live ``access-log`` from its start, then follows it like ``tail -F``.

A checkpoint file makes a re-run continue where the last one stopped. It
holds the identity (``st_dev``, ``st_ino``) of the file being read and the
byte offset past the last *acknowledged* batch of lines — a batch is
acknowledged once the consumer asks for the item after it — and is replaced
atomically (write, fsync, rename). Delivery is therefore **at least once**:
nothing is lost, and after a crash or an early stop at most the last batch
(up to 64 KiB of lines) is delivered again. Rotation by rename keeps a file's
identity, so a checkpoint survives it; a file compressed after rotation gets
a new identity, and a checkpoint naming a file that no longer exists starts
over from the oldest file (again: repeated, not lost).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from . import files
from .context import LineCursor, RunContext
from .follow import (
    CHUNK,
    DEFAULT_GRACE,
    DEFAULT_POLL,
    Batch,
    Tail,
    check_options,
    follow_batches,
    split_lines,
)
from .shutdown import check_event, stop_requested

__all__ = ["logfile", "rotated_siblings", "read_checkpoint", "write_checkpoint"]

_ROTATED = re.compile(r"[._-]\d[\d._-]*(\.(gz|bz2|xz))?")


def rotated_siblings(path: str | os.PathLike[str]) -> list[Path]:
    """Return the rotated copies of a log next to it, oldest first.

    A sibling is named like the log plus ``.N``, ``-N`` or ``_N`` (digits,
    dates such as ``-0108`` or ``-2024-01-08``), maybe with ``.gz``, ``.bz2``
    or ``.xz``. Oldest first by modification time (rotation keeps it); ties go
    by rotation number, higher being older. Hard links to the live file and
    duplicates are left out.

    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for age, name in enumerate(["access-log.1", "access-log.2.gz", "access-log.txt"]):
    ...     p = os.path.join(d, name)
    ...     open(p, "w").close()
    ...     os.utime(p, (1000 - age, 1000 - age))
    >>> [p.name for p in rotated_siblings(os.path.join(d, "access-log"))]
    ['access-log.2.gz', 'access-log.1']
    """
    live = Path(path)
    base = live.name
    try:
        live_st = live.stat()
        seen = {(live_st.st_dev, live_st.st_ino)}
    except FileNotFoundError:
        seen = set()
    found: list[tuple[int, int, str, Path]] = []
    try:
        entries = list(os.scandir(live.parent))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.name.startswith(base) or not _ROTATED.fullmatch(entry.name[len(base) :]):
            continue
        try:
            if not entry.is_file():
                continue
            st = entry.stat()
        except FileNotFoundError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        numbers = re.findall(r"\d+", entry.name[len(base) :])
        number = int(numbers[0]) if len(numbers) == 1 else 0
        found.append((st.st_mtime_ns, -number, entry.name, live.parent / entry.name))
    return [p for *_, p in sorted(found)]


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Load a checkpoint (``{"dev", "ino", "offset", "file"}``); None if there is none yet.

    >>> read_checkpoint("/nonexistent/checkpoint") is None
    True
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or not {"dev", "ino", "offset"} <= data.keys():
        raise ValueError(f"logfile: {os.fspath(path)!r} is not a streamql checkpoint")
    return data


def write_checkpoint(
    path: str | os.PathLike[str], ident: tuple[int, int], offset: int, file: str
) -> None:
    """Replace the checkpoint atomically: a reader sees the old one or the new one, whole.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "log.checkpoint")
    >>> write_checkpoint(p, (1, 2), 30, "log")
    >>> read_checkpoint(p)
    {'dev': 1, 'ino': 2, 'offset': 30, 'file': 'log'}
    """
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"dev": ident[0], "ino": ident[1], "offset": offset, "file": file}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _history_batches(
    path: Path, skip: int, encoding: str, errors: str, ctx: RunContext
) -> Iterator[Batch]:
    """Read one rotated file (decompressing) as batches, from byte ``skip`` of its content."""
    try:
        f = files.open_file(path)
    except FileNotFoundError:
        ctx.bad(
            "skip", "logfile", "rotated file vanished before it was read", "", (str(path), None)
        )
        return
    try:
        plain = getattr(f, "compression", None) is None
        st = os.fstat(f.buffer.fileno()) if plain else path.stat()
        ident = (st.st_dev, st.st_ino)
        raw: Any = f.buffer
        pos, pending = 0, b""
        lineno: int | None
        while pos < skip and (data := raw.read(min(CHUNK, skip - pos))):
            pos += len(data)
        lineno = None if skip else 0
        while data := raw.read(CHUNK):
            start = pos - len(pending)
            buf = pending + data
            pos += len(data)
            lines, used = split_lines(buf, encoding, errors)
            pending = buf[used:]
            if lines:
                yield Batch(str(path), ident, start, start + used, lineno, lines)
                if lineno is not None:
                    lineno += len(lines)
        if pending:
            yield Batch(
                str(path),
                ident,
                pos - len(pending),
                pos,
                lineno,
                [pending.decode(encoding, errors)],
            )
    finally:
        f.close()


def logfile(
    path: str | os.PathLike[str],
    *,
    history: bool = True,
    follow: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    grace: float = DEFAULT_GRACE,
    checkpoint_every: float = 1.0,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    ctx: RunContext | None = None,
) -> Iterator[str]:
    """Yield a log's whole history, oldest rotated file first, then its live file, then follow it.

    Infinite with ``follow=True``: ends only when closed or shut down; with
    ``follow=False`` it ends at the live file's current end. Holds one 64 KiB
    batch. ``history=False`` starts at the live file (its end, when following
    with no checkpoint, as ``tail`` does). With ``checkpoint``, a re-run
    continues after the last acknowledged batch: at-least-once delivery (see
    the module). The checkpoint is written at most every ``checkpoint_every``
    seconds, and when the stream ends.

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
    check_options("logfile", poll, grace, encoding)
    check_event("logfile", shutdown)
    live = os.fspath(path)

    def run() -> Iterator[str]:
        own = ctx or RunContext()
        cursor = None
        if ctx is not None and ctx.track:
            cursor = LineCursor(None)
            ctx.cursor = cursor
        saved = read_checkpoint(checkpoint) if checkpoint is not None else None
        resume = None if saved is None else ((saved["dev"], saved["ino"]), saved["offset"])
        # Open the live file before reading the history: a rotation meanwhile
        # then only makes it an old file to finish, not a file skipped.
        tail = Tail.open(live, at_end=False)
        batches: Generator[Batch, None, None] | None = None
        acked: tuple[tuple[int, int], int, str] | None = None
        last_write = time.monotonic()
        try:
            older = rotated_siblings(live) if history else []
            skip_to = 0
            if resume is not None:
                idents = []
                for p in older:
                    try:
                        st = p.stat()
                        idents.append((st.st_dev, st.st_ino))
                    except FileNotFoundError:
                        idents.append((-1, -1))
                if tail is not None and tail.ident == resume[0]:
                    older, skip_to = [], resume[1]
                elif resume[0] in idents:
                    i = idents.index(resume[0])
                    older, skip_to = older[i:], resume[1]
            if tail is not None:
                if skip_to and not older:
                    tail.pos, tail.lineno = skip_to, None
                    tail.mark = b""
                elif not history and resume is None and follow:
                    tail.close()
                    tail = Tail.open(live, at_end=True)

            def sources() -> Generator[Batch, None, None]:
                nonlocal tail
                for i, p in enumerate(older):
                    yield from _history_batches(
                        p, skip_to if i == 0 else 0, encoding, decode_errors, own
                    )
                if follow:
                    opened = {live: tail} if tail is not None else {}
                    tail = None  # follow_batches owns it now
                    yield from follow_batches(
                        [live],
                        from_start=True,
                        shutdown=shutdown,
                        poll=poll,
                        grace=grace,
                        ctx=own,
                        encoding=encoding,
                        decode_errors=decode_errors,
                        opened=opened,
                    )
                elif tail is not None:
                    while (batch := tail.read(encoding, decode_errors)) is not None:
                        yield batch
                    rest = tail.rest(encoding)
                    if rest is not None:
                        yield rest

            batches = sources()
            for batch in batches:
                if cursor is not None:
                    it = iter(batch.lines)
                    cursor.path, cursor.batch = batch.path, batch.lines
                    cursor.base, cursor.it = (
                        (0, None) if batch.lineno is None else (batch.lineno, it)
                    )
                    yield from it
                else:
                    yield from batch.lines
                # The consumer asked for the item after this batch: it is acknowledged.
                acked = (batch.ident, batch.end, batch.path)
                if checkpoint is not None and time.monotonic() - last_write >= checkpoint_every:
                    write_checkpoint(checkpoint, *acked)
                    last_write = time.monotonic()
                if stop_requested(own, shutdown):
                    return
        finally:
            if batches is not None:
                batches.close()
            if tail is not None:
                tail.close()
            if checkpoint is not None and acked is not None:
                write_checkpoint(checkpoint, *acked)
            if ctx is None:
                own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")

    return run()
