"""Checkpoints of a followed log: which files were delivered up to where, written atomically.

A checkpoint lists, oldest first, the files a :func:`streamql.live.logfile.logfile`
run was reading and the byte offset (of their content) past the last
*acknowledged* batch of lines in each — a batch is acknowledged once the
consumer asks for the item after it. Several files are listed while an old
file is still watched for late writes after a rotation. A file is named by
``(st_dev, st_ino)`` *and* a fingerprint of its first bytes (see
:mod:`streamql.live.rotation`), so a reused inode number is a new file, and a
compressed copy is still recognised by its content.

Each write goes to a temporary file in the same folder, is flushed and
fsynced, and replaces the checkpoint with ``os.replace``: a reader sees the
old checkpoint or the new one, whole.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from .rotation import MIN_CONTENT_MATCH, Seen, Sibling, digest, siblings
from .tail import Batch, Tail

__all__ = [
    "Position",
    "Checkpointer",
    "read_checkpoint",
    "write_checkpoint",
    "resume_plan",
    "DEFAULT_CHECKPOINT_LINES",
    "DEFAULT_CHECKPOINT_EVERY",
]

DEFAULT_CHECKPOINT_LINES = 10_000
"""Acknowledged lines after which the checkpoint is written again."""
DEFAULT_CHECKPOINT_EVERY = 1.0
"""Seconds after which the checkpoint is written again (if anything was acknowledged)."""


class Position(NamedTuple):
    """How far one file was delivered: its name then, identity, fingerprint and offset."""

    file: str
    dev: int
    ino: int
    fp: str | None  # sha256 of the first fp_len bytes; None in an old checkpoint
    fp_len: int
    offset: int
    mtime_ns: int
    done: bool = False  # given up (read to its end and past its grace)

    @classmethod
    def of(cls, batch: Batch, *, done: bool = False) -> Position:
        dev, ino = batch.ident
        fp = digest(batch.head)
        return cls(batch.path, dev, ino, fp, len(batch.head), batch.end, batch.mtime_ns, done)


def read_checkpoint(path: str | os.PathLike[str]) -> list[Position] | None:
    """Load a checkpoint, oldest file first; None if there is none yet.

    >>> read_checkpoint("/nonexistent/checkpoint") is None
    True
    """
    try:
        with open(path, encoding="utf-8") as f:
            data: Any = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"logfile: cannot read checkpoint {os.fspath(path)!r}: {exc}") from None
    try:
        if isinstance(data, dict) and "files" in data:
            return [Position(**entry) for entry in data["files"]]
        if isinstance(data, dict) and {"dev", "ino", "offset"} <= data.keys():  # version 1
            old = Position(str(data.get("file", "")), data["dev"], data["ino"], None, 0, 0, 0)
            return [old._replace(offset=data["offset"])]
    except TypeError:
        pass
    raise ValueError(f"logfile: {os.fspath(path)!r} is not a streamql checkpoint")


def write_checkpoint(path: str | os.PathLike[str], positions: Sequence[Position]) -> None:
    """Replace the checkpoint atomically (temporary file, fsync, ``os.replace``).

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "log.checkpoint")
    >>> write_checkpoint(p, [Position("log", 1, 2, None, 0, 30, 0)])
    >>> read_checkpoint(p)
    [Position(file='log', dev=1, ino=2, fp=None, fp_len=0, offset=30, mtime_ns=0, done=False)]
    """
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 2, "files": [p._asdict() for p in positions]}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Checkpointer:
    """Record acknowledged batches; write the checkpoint often enough to bound redelivery.

    Written at the first acknowledged batch, then once ``every_lines`` more
    lines or ``every_seconds`` passed, when a file is given up, and at the end.
    """

    def __init__(
        self, path: str | os.PathLike[str], every_lines: int, every_seconds: float
    ) -> None:
        self.path = path
        self.every_lines, self.every_seconds = every_lines, every_seconds
        self.positions: dict[tuple[int, int], Position] = {}
        self.lines = 0  # acknowledged since the last write
        self.last = 0.0
        self.dirty = False
        self.writes = 0

    def ack(self, batch: Batch) -> None:
        if batch.lines or batch.done or batch.ident not in self.positions:
            self.positions[batch.ident] = Position.of(batch, done=batch.done)
            # Files given up before every open one are no longer needed (keep the newest).
            while len(self.positions) > 1 and next(iter(self.positions.values())).done:
                del self.positions[next(iter(self.positions))]
            self.lines += len(batch.lines)
            self.dirty = True
            if (
                not self.writes
                or batch.done
                or self.lines >= self.every_lines
                or time.monotonic() - self.last >= self.every_seconds
            ):
                self.write()

    def write(self) -> None:
        if self.dirty:
            write_checkpoint(self.path, list(self.positions.values()))
            self.lines, self.last, self.dirty = 0, time.monotonic(), False
            self.writes += 1


def _matches(pos: Position, sib: Sibling) -> bool:
    if pos.fp is None:
        return sib.kind is None and sib.ident == (pos.dev, pos.ino)
    if len(sib.head) < pos.fp_len or digest(sib.head[: pos.fp_len]) != pos.fp:
        return False
    if sib.kind is None and sib.ident == (pos.dev, pos.ino):
        return True
    # The same content under another inode: a compressed (or copied) rotation of it.
    return pos.fp_len >= MIN_CONTENT_MATCH or (sib.kind is not None and pos.fp_len > 0)


def resume_plan(
    live: str, positions: Sequence[Position], current: Tail | None
) -> tuple[Seen, dict[tuple[int, int], int]]:
    """Say which rotated files a resumed run has read already, and where the others resume.

    Every file from the oldest one the checkpoint names is read again from its
    checkpointed offset (or its start if it is not named): nothing that was
    not acknowledged is skipped. If no named file is left, files last written
    before the oldest named one count as read.
    """
    files = siblings(live)
    if current is not None:
        files.append(Sibling(live, current.ident, 0, 0, current.head, None, True))
    offsets: dict[tuple[int, int], int] = {}
    first = len(files)
    for pos in positions:
        for i, sib in enumerate(files):
            if sib.ident not in offsets and _matches(pos, sib):
                offsets[sib.ident] = pos.offset
                first = min(first, i)
                break
    seen = Seen()
    oldest = min((p.mtime_ns for p in positions), default=0)
    for i, sib in enumerate(files[: len(files) - (current is not None)]):
        read = i < first if offsets else sib.mtime_ns < oldest
        if read and sib.ident not in offsets:
            seen.add(sib.ident, sib.head)
    return seen, offsets
