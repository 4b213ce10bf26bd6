"""Tell files apart across rotation: identity by inode *and* first bytes, and the rotated siblings.

A log's rotated copies sit next to it (``access-log.1``, ``access-log.2.gz``,
``access-log-20240108``). A follower that falls behind, a re-run resuming from
a checkpoint, and a copytruncate rotation all need to know which of them it
has already read. ``(st_dev, st_ino)`` alone cannot say: ext4 hands a freed
inode number to the next new file at once, and compressing a file makes a new
inode of the same content. So a file is known by its inode *and* a
fingerprint: its first :data:`FINGERPRINT` bytes of content (decompressed for
``.gz``/``.bz2``/``.xz``), as Filebeat's fingerprint mode does. Two files
whose first bytes agree (one a prefix of the other, at least
:data:`MIN_CONTENT_MATCH` bytes, or both whole and equal) are taken to be one
file seen at two sizes, or a copy of it.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import re
import stat
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, NamedTuple

__all__ = [
    "FINGERPRINT",
    "Sibling",
    "Seen",
    "rotated_siblings",
    "siblings",
    "read_head",
    "digest",
    "open_regular",
]

FINGERPRINT = 1024
"""Bytes at the start of a file that, with its inode, identify it."""
MIN_CONTENT_MATCH = 256
"""Agreeing first bytes needed to call two files of different inodes one content."""

_ROTATED = re.compile(r"[._-]\d[\d._-]*(\.(gz|bz2|xz))?")
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))
DAMAGE = (EOFError, zlib.error, lzma.LZMAError, OSError)
_COMPRESSED = (".gz", ".bz2", ".xz")


def open_regular(path: str) -> int:
    """Open ``path`` for reading without ever blocking; refuse anything but a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once (a plain open waits for
    a writer forever); the descriptor is then refused with ``OSError`` naming
    the file, as are directories and devices. ``FileNotFoundError`` means the
    name is missing (or a dangling link).

    >>> open_regular("/")
    Traceback (most recent call last):
    OSError: '/' is not a regular file (a directory)
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(mode)
                else "a FIFO"
                if stat.S_ISFIFO(mode)
                else ("a device or socket")
            )
            raise OSError(f"{path!r} is not a regular file ({kind})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _kind(first: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if first.startswith(magic):
            return kind
    return None


def decompressor(kind: str, raw: IO[bytes]) -> Any:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bz2":
        return bz2.BZ2File(raw, "rb")
    return lzma.LZMAFile(raw, "rb")


def read_head(fd: int, n: int = FINGERPRINT) -> tuple[bytes, str | None, bool]:
    """Return the first ``n`` bytes of content of the open file, its compression, and if whole.

    "Whole" is False for a compressed file that ends before its end-of-stream
    marker while it is still being written (its head is not final yet).
    """
    first = os.pread(fd, 6, 0)
    kind = _kind(first)
    if kind is None:
        return os.pread(fd, n, 0), None, True
    raw = os.fdopen(os.dup(fd), "rb")
    try:
        raw.seek(0)
        stream = decompressor(kind, raw)
        try:
            return stream.read(n), kind, True
        except DAMAGE:
            return b"", kind, False
        finally:
            stream.close()
    finally:
        raw.close()


def digest(head: bytes) -> str:
    """Hash a fingerprint for a checkpoint file.

    >>> digest(b"GET /")[:12]
    'c767025d0edc'
    """
    return hashlib.sha256(head).hexdigest()


def same_content(a: bytes, b: bytes) -> bool:
    """Say whether two heads are one content seen at two sizes (or copied).

    >>> same_content(b"x" * 300, b"x" * 1024), same_content(b"ab", b"abc"), same_content(b"", b"")
    (True, False, False)
    """
    if not a or not b:
        return False
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if not long.startswith(short):
        return False
    return len(short) >= MIN_CONTENT_MATCH or len(short) == len(long)


class Sibling(NamedTuple):
    """A rotated copy of a log: where, its inode and change stamps, and its first bytes."""

    path: str
    ident: tuple[int, int]
    mtime_ns: int
    size: int
    head: bytes
    kind: str | None  # compression, or None
    whole: bool  # False: empty, or a compressed file still being written: look again later


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
    return [Path(s.path) for s in siblings(os.fspath(path), heads=False)]


def _candidates(live: str) -> list[tuple[int, int, str, os.stat_result]]:
    folder, base = os.path.split(live)
    try:
        live_st = os.stat(live)
        seen = {(live_st.st_dev, live_st.st_ino)}
    except OSError:
        seen = set()
    try:
        with os.scandir(folder or ".") as it:
            names = [e.name for e in it]
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(base) or not _ROTATED.fullmatch(name[len(base) :]):
            continue
        full = os.path.join(folder, name)
        try:
            st = os.stat(full)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        numbers = re.findall(r"\d+", name[len(base) :])
        number = int(numbers[0]) if len(numbers) == 1 else 0
        found.append((st.st_mtime_ns, -number, full, st))
    found.sort(key=lambda t: (t[0], t[1], t[2]))
    return found


_HEADS: dict[tuple[int, int, int, int], tuple[bytes, str | None, bool]] = {}


def siblings(live: str, *, heads: bool = True) -> list[Sibling]:
    """List the rotated copies of ``live``, oldest first, with their fingerprints.

    A head is read once per (inode, size, mtime): a rotation round costs one
    directory listing and one ``stat`` per copy. Unreadable copies are left out.
    """
    out: list[Sibling] = []
    for mtime, _, full, st in _candidates(live):
        ident = (st.st_dev, st.st_ino)
        head: tuple[bytes, str | None, bool] = (b"", None, True)
        if heads:
            key = (*ident, st.st_size, mtime)
            cached = _HEADS.get(key)
            if cached is None:
                try:
                    fd = open_regular(full)
                except OSError:
                    continue
                try:
                    cached = read_head(fd)
                finally:
                    os.close(fd)
                if len(_HEADS) > 4096:
                    _HEADS.clear()
                _HEADS[key] = cached
            head = cached
        data, kind, whole = head
        if heads and (not data or (kind is None and full.endswith(_COMPRESSED))):
            # Empty, or named compressed but not recognisably so yet: being
            # written (a compressor starts with an empty file). Not final.
            whole = False
        out.append(Sibling(full, ident, mtime, st.st_size, data, kind, whole))
    return out


def _key(head: bytes) -> tuple[bool, bytes]:
    """Heads that can be :func:`same_content` share this key (an index for many files)."""
    return (True, head[:MIN_CONTENT_MATCH]) if len(head) >= MIN_CONTENT_MATCH else (False, head)


class Seen:
    """The files a follow has read (or chose to skip), known by inode and first bytes.

    Indexed by inode and by first bytes: a look over n rotated files costs
    O(n). Bounded: :meth:`prune` keeps only entries still matching a file on disk.
    """

    def __init__(self) -> None:
        self.by_ident: dict[tuple[int, int], list[bytes]] = {}
        self.by_key: dict[tuple[bool, bytes], list[bytes]] = {}
        self.entries: list[tuple[tuple[int, int], bytes]] = []

    def add(self, ident: tuple[int, int], head: bytes) -> None:
        self.entries.append((ident, head))
        self.by_ident.setdefault(ident, []).append(head)
        if head:
            self.by_key.setdefault(_key(head), []).append(head)

    def update(self, ident: tuple[int, int], head: bytes) -> None:
        """Record that the file with inode ``ident`` now begins with ``head``."""
        for i, (known, old) in enumerate(self.entries):
            if known == ident and head.startswith(old):
                if head != old:
                    self.entries[i] = (ident, head)
                    self._index()
                return
        self.add(ident, head)

    def _index(self) -> None:
        entries, self.entries, self.by_ident, self.by_key = self.entries, [], {}, {}
        for ident, head in entries:
            self.add(ident, head)

    def knows(self, sib: Sibling) -> bool:
        if sib.kind is None:
            for head in self.by_ident.get(sib.ident, ()):
                # Same inode: the same file unless its start changed (inode reused).
                if (
                    not head
                    or not sib.head
                    or sib.head.startswith(head)
                    or head.startswith(sib.head)
                ):
                    return True
        return any(same_content(head, sib.head) for head in self.by_key.get(_key(sib.head), ()))

    def prune(self, present: Iterable[Sibling], keep: Iterable[tuple[int, int]]) -> None:
        sibs = list(present)
        idents = set(keep) | {s.ident for s in sibs}
        heads: dict[tuple[bool, bytes], list[bytes]] = {}
        for s in sibs:
            if s.head:
                heads.setdefault(_key(s.head), []).append(s.head)
        entries = self.entries
        kept = [
            (ident, head)
            for ident, head in entries
            if ident in idents or any(same_content(head, h) for h in heads.get(_key(head), ()))
        ]
        if len(kept) != len(entries):
            self.entries = kept
            self._index()
