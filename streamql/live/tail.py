"""One file being followed: where it is read, its held partial line, its identity, its line cap.

A :class:`Tail` reads appended bytes of a plain file by offset (``pread``), or
the content of a compressed rotated copy as a stream, and cuts complete lines
out of them. The partial last line is held in a ``bytearray`` and only the
newly read bytes are searched for a newline, so a very long line costs linear
time; a line longer than ``max_line`` bytes is not held at all: its first
bytes go to a counted reject and the rest is skipped up to its newline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

from ..core.defaults import REJECT_HEAD
from .rotation import DAMAGE, FINGERPRINT, decompressor, open_regular, read_head

__all__ = ["Batch", "Tail", "split_lines", "CHUNK", "MARK", "REJECT_HEAD"]

CHUNK = 1 << 16  # bytes read from one file per round: a busy file cannot starve the others
MARK = 64  # bytes before the read position kept to recognise the same file content

Reject = Callable[[str, str, str, "int | None"], None]  # reason, first bytes, path, lineno


class Batch(NamedTuple):
    """Complete lines read from one file at once, and where they lie in it.

    ``start``/``end`` are byte offsets (of the content: decompressed for a
    compressed file) of the first line and past the last; ``ident`` is the
    file's ``(st_dev, st_ino)``; ``lineno`` the number of lines before this
    batch in the file, or None when reading began mid-file; ``head`` the
    file's first bytes (its fingerprint, see :mod:`streamql.live.rotation`);
    ``done`` is True for the empty batch that says the file was given up.
    """

    path: str
    ident: tuple[int, int]
    start: int
    end: int
    lineno: int | None
    lines: list[str]
    head: bytes = b""
    mtime_ns: int = 0
    done: bool = False


def split_lines(data: bytes, encoding: str, errors: str) -> tuple[list[str], int]:
    """Decode the complete lines of ``data``; return them and the bytes they used.

    ``\\r\\n`` reads as ``\\n``, as in a file opened in text mode.

    >>> split_lines(b"a\\r\\nb\\nhalf", "utf-8", "strict")
    (['a\\n', 'b\\n'], 5)
    """
    used = data.rfind(b"\n") + 1
    if not used:
        return [], 0
    return _decode(data[:used], encoding, errors), used


def _decode(data: bytes, encoding: str, errors: str) -> list[str]:
    text = data.decode(encoding, errors)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    parts = text.split("\n")
    parts.pop()
    return [p + "\n" for p in parts]


def line_start_before_end(fd: int, size: int) -> int:
    """Return the offset just past the last newline before ``size`` (0 if none).

    Following from the end starts there, so a half-written last line is
    delivered whole once its newline comes.
    """
    pos = size
    while pos > 0:
        n = min(CHUNK, pos)
        data = os.pread(fd, n, pos - n)
        i = data.rfind(b"\n")
        if i >= 0:
            return pos - n + i + 1
        pos -= n
    return 0


class Tail:
    """One open file being followed: descriptor, identity, read position, held partial line."""

    def __init__(
        self,
        path: str,
        fd: int,
        pos: int,
        lineno: int | None,
        *,
        stream: Any = None,
        head: bytes | None = None,
    ) -> None:
        self.path = path
        self.fd = fd
        st = os.fstat(fd)
        self.ident = (st.st_dev, st.st_ino)
        self.mtime_ns = st.st_mtime_ns
        self.stream = stream  # a decompressor: the file is a compressed rotated copy
        self.head = head if head is not None else os.pread(fd, FINGERPRINT, 0)
        self.pos = pos  # offset of the next byte to read (of the content)
        self.pending = bytearray()  # a partial line, held until its newline
        self.skipping = False  # inside an over-long line: drop bytes up to its newline
        n = 0 if stream else min(MARK, pos)
        self.mark = os.pread(fd, n, pos - n) if n else b""
        self.seen: tuple[int, int] | None = None  # (size, mtime) at the last content check
        self.lineno = lineno
        self.deadline = 0.0  # when a rotated-away file is given up
        self.size = st.st_size  # at the last look: how far behind the reader is
        self.skip_from = 0  # where the over-long line being skipped began
        self.stream_raw: Any = None
        self.damaged = ""  # why a compressed file could not be read to its end
        self.reported = False

    @classmethod
    def open(cls, path: str, *, at_end: bool = False) -> Tail | None:
        """Open ``path`` at its start, or at its last line start; None if it is missing.

        A compressed file is read through its decompressor. Raises ``OSError``
        naming the file if it is not a readable regular file; never blocks.
        """
        try:
            fd = open_regular(path)
        except FileNotFoundError:
            return None
        try:
            head, kind, _ = read_head(fd)
            if kind is not None:
                raw = os.fdopen(os.dup(fd), "rb")
                raw.seek(0)  # a duplicate shares the offset that read_head moved
                tail = cls(path, fd, 0, 0, stream=decompressor(kind, raw), head=head)
                tail.stream_raw = raw
                return tail
            if at_end:
                pos = line_start_before_end(fd, os.fstat(fd).st_size)
                return cls(path, fd, pos, None if pos else 0, head=head)
            return cls(path, fd, 0, 0, head=head)
        except BaseException:
            os.close(fd)
            raise

    def _next(self, n: int) -> bytes:
        if self.stream is None:
            return os.pread(self.fd, n, self.pos)
        if self.damaged:
            return b""
        try:
            data: bytes = self.stream.read(n)
        except DAMAGE as exc:
            self.damaged = f"damaged compressed file ({exc}); read up to byte {self.pos:,}"
            return b""
        return data

    def skip_to(self, offset: int) -> None:
        """Go on from content byte ``offset`` (a checkpoint, or a copy of a truncated file)."""
        if self.stream is None:
            self.pos = offset
            n = min(MARK, offset)
            self.mark = os.pread(self.fd, n, offset - n) if n else b""
        else:
            while self.pos < offset and (data := self._next(min(CHUNK, offset - self.pos))):
                self.pos += len(data)
        self.lineno = None if self.pos else 0

    def refresh_head(self) -> None:
        """Read the first bytes again if they were shorter than a whole fingerprint."""
        if self.stream is None and self.fd >= 0 and len(self.head) < FINGERPRINT:
            self.head = os.pread(self.fd, FINGERPRINT, 0)

    def mtime(self) -> float:
        """Seconds since the epoch of the last write (for the grace of a rotated file)."""
        return os.fstat(self.fd).st_mtime

    def truncated(self) -> bool:
        """Say whether the file was cut below the read position, or rewritten under it.

        Rewritten: its first bytes (the fingerprint) or the bytes before the
        read position differ from what was read, so lines that end alike in
        every row cannot hide a truncation that was refilled past the old size.
        """
        if self.stream is not None:
            return False
        st = os.fstat(self.fd)
        self.size = st.st_size
        if st.st_size < self.pos:
            return True
        seen = (st.st_size, st.st_mtime_ns)
        if seen == self.seen:
            return False
        self.seen = seen
        if self.head and os.pread(self.fd, len(self.head), 0) != self.head:
            return True
        n = len(self.mark)
        if n and os.pread(self.fd, n, self.pos - n) != self.mark:
            return True
        if len(self.head) < FINGERPRINT and st.st_size > len(self.head):
            self.head = os.pread(self.fd, FINGERPRINT, 0)
        return False

    def restart(self) -> bytes:
        """Read again from the start (after a truncation); return the partial line dropped."""
        dropped = bytes(self.pending)
        self.pos, self.pending, self.mark, self.seen = 0, bytearray(), b"", None
        self.skipping = False
        self.head = os.pread(self.fd, FINGERPRINT, 0)
        self.lineno = 0
        return dropped

    def batch(self, start: int, end: int, lines: list[str]) -> Batch:
        ident, head = self.ident, self.head
        return Batch(self.path, ident, start, end, self.lineno, lines, head, self.mtime_ns)

    def read(
        self, encoding: str, errors: str, max_line: int | None, reject: Reject
    ) -> Batch | None:
        """Read what was appended (up to one chunk); None at the end of the file.

        Lazy; holds one chunk and at most ``max_line`` bytes of a partial line.
        A batch may hold no line (a partial line grew): it still says where
        the complete lines end.
        """
        data = self._next(CHUNK)
        if not data:
            return None
        start = self.pos - len(self.pending)
        self.pos += len(data)
        self.mark = (self.mark + data)[-MARK:] if len(data) < MARK else data[-MARK:]
        cut = data.rfind(b"\n") + 1  # only the new bytes are searched: linear in the line
        if self.skipping:
            if not cut:
                return self.batch(self.skip_from, self.skip_from, [])
            first = data.find(b"\n") + 1
            self.skipping = False
            start = self.pos - len(data) + first
            data, cut = data[first:], cut - first
            if self.lineno is not None:
                self.lineno += 1
        buf = b""
        if cut:
            buf = bytes(self.pending) + data[:cut] if self.pending else data[:cut]
            self.pending = bytearray(data[cut:])
        else:
            self.pending += data
        lines: list[str] = []
        dropped = 0
        if buf and max_line is not None and len(buf) > max_line:
            for i, raw in enumerate(buf.split(b"\n")[:-1]):
                if len(raw) > max_line:
                    self._too_long(raw, max_line, reject, i)
                    dropped += 1
                else:
                    lines.extend(_decode(raw + b"\n", encoding, errors))
        elif buf:
            lines = _decode(buf, encoding, errors)
        batch = self.batch(start, start + len(buf), lines)
        if self.lineno is not None:
            self.lineno += len(lines) + dropped
        if max_line is not None and len(self.pending) > max_line:
            self._too_long(self.pending, max_line, reject, 0)
            self.skip_from = start + len(buf)
            self.pending = bytearray()
            self.skipping = True
        return batch

    def _too_long(self, line: bytes | bytearray, max_line: int, reject: Reject, i: int) -> None:
        lineno = None if self.lineno is None else self.lineno + i + 1
        first = bytes(line[:REJECT_HEAD]).decode("utf-8", "backslashreplace")
        reason = f"line longer than max_line ({max_line:,} bytes); its first bytes kept"
        reject(reason, first, self.path, lineno)

    def rest(self, encoding: str) -> Batch | None:
        """Hand out the unterminated end of a file that is being given up."""
        if not self.pending:
            return None
        text = bytes(self.pending).decode(encoding, "backslashreplace")
        start = self.pos - len(self.pending)
        self.pending = bytearray()
        return self.batch(start, self.pos, [text])

    def behind(self) -> int:
        """Bytes written to this file and not read yet (as of the last look)."""
        return 0 if self.stream is not None else max(0, self.size - self.pos)

    def close(self) -> None:
        if self.stream is not None:
            stream, self.stream = self.stream, None
            stream.close()
            self.stream_raw.close()
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)
