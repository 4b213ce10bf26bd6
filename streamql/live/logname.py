"""One followed log name across rotations: its live file, the files rotated since, and lag.

:class:`_Name` is the state of one name in a :func:`streamql.live.follow.follow`:
the live file, an older rotated file being read before it (the follower is
behind), files read to their end but still watched for late writes, and the
rotated files already read (:class:`streamql.live.rotation.Seen`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.context import RunContext
from .rotation import Seen, siblings
from .tail import Batch, Tail

__all__ = ["FollowStats", "Options", "Start"]


@dataclass
class FollowStats:
    """How far a follow is behind its files, as of its last look; filled in while it runs.

    Pass one as ``stats=`` and read it from any thread (plain numbers, no lock).

    >>> FollowStats()
    FollowStats(bytes_behind=0, files_behind=0, files_opened=0, rotations=0, truncations=0, \
copies_read=0, inotify=False)
    """

    bytes_behind: int = 0  # written to the followed files and not read yet
    files_behind: int = 0  # rotated files found but not started yet
    files_opened: int = 0
    rotations: int = 0
    truncations: int = 0
    copies_read: int = 0  # copytruncate copies read for lines the truncation cut
    inotify: bool = False


class Options:
    """What every followed name of one follow shares."""

    def __init__(
        self,
        grace: float,
        encoding: str,
        errors: str,
        max_line: int | None,
        ctx: RunContext,
        stats: FollowStats,
    ) -> None:
        self.grace, self.encoding, self.errors = grace, encoding, errors
        self.max_line, self.ctx, self.stats = max_line, ctx, stats

    def reject(self, reason: str, line: str, path: str, lineno: int | None) -> None:
        self.ctx.bad("skip", "follow", reason, line, origin=(path, lineno))


class Start:
    """Where a followed name begins: a file already open, files already read, offsets to resume."""

    def __init__(
        self,
        current: Tail | None = None,
        seen: Seen | None = None,
        offsets: dict[tuple[int, int], int] | None = None,
    ) -> None:
        self.current, self.seen, self.offsets = current, seen or Seen(), offsets or {}


class _Name:
    """One followed name: its live file, an older rotated file read first, files in their grace."""

    def __init__(self, path: str, opts: Options, start: Start, *, at_end: bool) -> None:
        self.path, self.opts, self.at_end = path, opts, at_end
        self.current = start.current
        self.seen, self.offsets = start.seen, start.offsets
        self.older: Tail | None = None  # a rotated file read before the live one
        self.retired: list[Tail] = []  # read to their end, watched for late writes
        self.catching_up = True  # look for rotated files not read yet before the live file
        self.trouble: str | None = None  # the last reject for this name, not repeated each poll
        self.progressed = False
        self.files_behind = 0
        self.bytes_behind = 0
        if self.current is not None:
            self.seen.update(self.current.ident, self.current.head)

    def _read(self, tail: Tail) -> Batch | None:
        o = self.opts
        batch = tail.read(o.encoding, o.errors, o.max_line, o.reject)
        if tail.damaged and not tail.reported:
            tail.reported = True
            o.reject(tail.damaged, "", tail.path, None)
        return batch

    def _open(self, path: str, *, at_end: bool = False) -> Tail | None:
        """Open a file; one that cannot be followed is a reject (once, until it changes)."""
        try:
            tail = Tail.open(path, at_end=at_end)
        except OSError as exc:
            trouble = f"cannot follow {path!r}: {exc.strerror or exc}"
            if trouble != self.trouble:
                self.trouble = trouble
                self.opts.reject(trouble, path, path, None)
            return None
        if tail is None:
            return None
        self.trouble = None
        self.opts.stats.files_opened += 1
        offset = self.offsets.pop(tail.ident, 0)
        if offset:
            tail.skip_to(offset)
        self.seen.update(tail.ident, tail.head)
        return tail

    def open_live(self) -> None:
        """Open the file now at the name, if any; then look for files rotated before it."""
        self.current = self._open(self.path, at_end=self.at_end)
        self.at_end = False  # only the file there at the start is read from its end
        if self.current is not None:
            self.catching_up = self.progressed = True

    def tails(self) -> list[Tail]:
        return [t for t in (*self.retired, self.older, self.current) if t is not None]

    def step(self, now: float) -> Iterator[Batch]:
        """Read one round: files in grace, then an older rotated file, else the live file."""
        self.progressed = False
        for old in list(self.retired):
            batch = self._read(old)
            if batch is not None:
                self.progressed = True
                yield batch
            elif now >= old.deadline:
                yield from self._give_up(old)
        if self.older is not None:
            batch = self._read(self.older)
            if batch is not None:
                self.progressed = True
                yield batch
                return
            self._retire(self.older, now, self.opts.grace - (time.time() - self.older.mtime()))
            self.older, self.progressed = None, True
            return  # its unterminated end, if given up, comes before anything newer
        if self.catching_up:
            self.progressed = True
            if self._next_unseen():
                return
            self.catching_up = False
        if self.current is None:
            self.open_live()
            return
        cur = self.current
        if cur.truncated():
            self._truncated(cur)
            self.progressed = True
            return
        batch = self._read(cur)
        if batch is not None:
            self.progressed = True
            yield batch
            return
        try:
            st = os.stat(self.path)
            now_there: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except OSError:
            now_there = None
        if now_there == cur.ident:
            return
        # Renamed away or deleted: finish it now (nothing newer may come before
        # it), then every file rotated since, then the new live file.
        while (batch := self._read(cur)) is not None:
            yield batch
        self._retire(cur, now, self.opts.grace)
        self.current = None
        self.opts.stats.rotations += 1
        self.catching_up = self.progressed = True

    def _retire(self, tail: Tail, now: float, grace: float) -> None:
        tail.refresh_head()
        self.seen.update(tail.ident, tail.head)
        tail.deadline = now + max(0.0, grace)
        self.retired.append(tail)

    def _give_up(self, tail: Tail) -> Iterator[Batch]:
        rest = tail.rest(self.opts.encoding)
        if rest is not None:
            yield rest
        tail.refresh_head()
        self.seen.update(tail.ident, tail.head)
        yield tail.batch(tail.pos, tail.pos, [])._replace(done=True)
        self.retired.remove(tail)
        tail.close()

    def _next_unseen(self) -> bool:
        """Start the oldest rotated file not read yet; say whether there was one."""
        sibs = siblings(self.path)
        self.seen.prune(sibs, [t.ident for t in self.tails()])
        plain = [s.head for s in sibs if s.kind is None and s.head]
        # Not read yet; an empty file, a compressed file still being written, or
        # one whose original is still there, is left for the next look.
        fresh = [
            s
            for s in sibs
            if s.whole
            and not self.seen.knows(s)
            and not (s.kind and any(_prefixes(s.head, h) for h in plain))
        ]
        for i, sib in enumerate(fresh):
            tail = self._open(sib.path)
            if tail is not None:
                self.older = tail
                self.files_behind = len(fresh) - i - 1
                self.bytes_behind = sum(s.size for s in fresh[i + 1 :])
                return True
        self.files_behind = self.bytes_behind = 0
        return False

    def _truncated(self, cur: Tail) -> None:
        """Truncated in place: read what the truncation cut from its copy, then restart."""
        self.opts.stats.truncations += 1
        copy = None
        for sib in reversed(siblings(self.path)):
            if sib.ident != cur.ident and sib.whole and _prefixes(sib.head, cur.head):
                copy = self._open(sib.path)
                if copy is not None:
                    break
        if copy is not None:
            self.opts.stats.copies_read += 1
            copy.skip_to(cur.pos)
            if copy.pos == cur.pos:
                copy.pending, copy.lineno = cur.pending, cur.lineno
                cur.pending = bytearray()
            self.older = copy
        dropped = cur.restart()
        self.seen.update(cur.ident, cur.head)
        if dropped:
            text = dropped.decode(self.opts.encoding, "backslashreplace")
            self.opts.reject("partial line cut by a truncation", text, cur.path, None)

    def finish(self) -> Iterator[Batch]:
        """Hand out the unterminated ends of every file (a follow that stops at the end)."""
        for tail in self.tails():
            rest = tail.rest(self.opts.encoding)
            if rest is not None:
                yield rest

    def close(self) -> None:
        for tail in self.tails():
            tail.close()
        self.retired, self.older, self.current = [], None, None


def _prefixes(a: bytes, b: bytes) -> bool:
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))
