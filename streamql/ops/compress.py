"""Compressed input told by content: gzip, bzip2, xz and zstd.

A file (or standard input) is sniffed by its first bytes, never its name, and
wrapped in the matching decompressor. gzip, bzip2 and xz come with Python;
gzip is read with ISA-L (``pip install streamql[fast-gzip]``, the ``isal``
package) where it is installed, which decompresses about 1.5 times as fast,
with the same answers and the same errors for damaged files. zstd needs
the ``zstandard`` package (``pip install streamql[zstd]``) or
Python's own ``compression.zstd`` (3.14 and newer). Without either, a zstd
file is a clear error naming the file and the extra to install.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import importlib
import io
import lzma
import os
import zlib
from collections.abc import Callable
from typing import IO, Any

__all__ = [
    "sniff",
    "decompressor",
    "DAMAGE",
    "KINDS",
    "zstd_module",
    "gzip_module",
    "TextFile",
    "open_file",
    "open_stream",
]

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
KINDS = tuple(kind for _, kind in _MAGIC)


def zstd_module() -> Any:
    """Return the zstd binding in use (``compression.zstd`` or ``zstandard``), or None.

    >>> zstd_module() is None or hasattr(zstd_module(), "__name__")
    True
    """
    for name in ("compression.zstd", "zstandard"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _open_zstd(raw: IO[bytes], name: str | None = None) -> IO[bytes]:
    module = zstd_module()
    if module is None:
        name = name or getattr(raw, "name", None)
        shown = repr(name) if isinstance(name, str) else "the input"
        raise ZstdMissingError(
            f"{shown} is zstd-compressed, and no zstd decompressor is installed\n\n"
            "Install one: pip install streamql[zstd] (the zstandard package)."
        )
    if module.__name__ == "compression.zstd":
        return module.ZstdFile(raw, "rb")  # type: ignore[no-any-return]
    return io.BufferedReader(_CheckedZstd(raw, module))


# Compressed bytes handed to zstandard's decompressor at a time. It returns
# all it can make of them at once, and a zstd block of 4 bytes can stand for
# 128 KiB (a run of one byte), so this bounds one call's output to 8 MiB.
_ZSTD_INPUT = 1 << 8


class _CheckedZstd(io.RawIOBase):
    """zstandard's streaming decompressor: bounded output, EOFError on a stream cut short."""

    def __init__(self, raw: IO[bytes], module: Any) -> None:
        super().__init__()
        self._raw = raw
        self._new = module.ZstdDecompressor
        self._obj = self._new().decompressobj()
        self._pending = memoryview(b"")
        self._eof = False
        self._error = module.ZstdError

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._eof:
            data = self._raw.read(_ZSTD_INPUT)
            if not data:
                self._eof = True
                if not self._obj.eof:
                    raise EOFError(
                        "compressed file ended before the end-of-stream marker was reached"
                    )
                break
            try:
                out = self._obj.decompress(data)
                while self._obj.eof and self._obj.unused_data:  # the next frame
                    rest = self._obj.unused_data
                    self._obj = self._new().decompressobj()
                    out += self._obj.decompress(rest)
            except self._error as exc:
                raise EOFError(f"zstd: {exc}") from exc
            self._pending = memoryview(out)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]  # a view: no copy of what is left
        return n


class ZstdMissingError(OSError):
    """A zstd file met without a zstd decompressor installed."""


def gzip_module() -> Any:
    """Return the gzip reader in use: ISA-L's ``isal.igzip`` where installed, else ``gzip``.

    >>> gzip_module().__name__ in ("isal.igzip", "gzip")
    True
    """
    try:
        return importlib.import_module("isal.igzip")
    except ImportError:
        return gzip


def _open_gzip(raw: IO[bytes]) -> Any:
    module = gzip_module()
    if module is gzip:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return io.BufferedReader(_FastGzip(raw, module), buffer_size=1 << 17)


class _FastGzip(io.RawIOBase):
    """ISA-L's gzip reader that hands over to Python's at the first damage.

    A damaged file then yields the same lines and the same error as with
    Python's gzip: ISA-L holds back the output of the deflate block it was
    in when the data ends or goes wrong, and raises its own error type. The
    hand-over decompresses the file again from its start up to where ISA-L
    stopped, once, at the damage. A stream that cannot seek back (a pipe)
    keeps ISA-L's reading, its error raised as ``zlib.error``.
    """

    def __init__(self, raw: IO[bytes], igzip: Any) -> None:
        super().__init__()
        self._raw = raw
        self._start = raw.tell() if raw.seekable() else None
        self._fast: Any = igzip.GzipFile(fileobj=raw, mode="rb")
        self._slow: gzip.GzipFile | None = None
        self._given = 0
        self._error = importlib.import_module("isal.isal_zlib").error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # read1: one read of the decompressor below, so an error loses nothing it made.
        reader = self._slow or self._fast
        try:
            data = reader.read1(len(buffer))
        except (EOFError, OSError, self._error) as exc:
            if reader is self._slow or (isinstance(exc, OSError) and exc.errno is not None):
                raise  # Python's own error; or an I/O error, which names its file already
            if self._start is None:
                if isinstance(exc, self._error):
                    raise zlib.error(str(exc)) from exc
                raise
            self._slow = self._python_gzip_at(self._given)
            data = self._slow.read1(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._given += n
        return n

    def _python_gzip_at(self, offset: int) -> gzip.GzipFile:
        assert self._start is not None
        self._raw.seek(self._start)
        slow = gzip.GzipFile(fileobj=self._raw, mode="rb")
        left = offset
        while left > 0:  # the bytes ISA-L already gave, made again and dropped
            chunk = slow.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        return slow


_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], Any]] = {
    "gzip": _open_gzip,
    "bz2": lambda raw: bz2.BZ2File(raw, "rb"),
    "xz": lambda raw: lzma.LZMAFile(raw, "rb"),  # noqa: SIM115
}

# What Python's decompressors raise on damaged input, without the file name.
DAMAGE: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    lzma.LZMAError,
    OSError,
    UnicodeDecodeError,
)


def sniff(raw: io.BufferedReader) -> str | None:
    """Tell the compression of a buffered binary file by its first bytes (None: plain).

    >>> from io import BufferedReader, BytesIO
    >>> sniff(BufferedReader(BytesIO(b"\\x1f\\x8brest"))), sniff(BufferedReader(BytesIO(b"GET")))
    ('gzip', None)
    """
    head = raw.peek(6)[:6]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def decompressor(kind: str, raw: IO[bytes], name: str | None = None) -> Any:
    """Wrap ``raw`` in the binary reader that decompresses ``kind`` (a value of :data:`KINDS`).

    >>> import gzip, io
    >>> decompressor("gzip", io.BytesIO(gzip.compress(b"hi"))).read()
    b'hi'
    """
    if kind == "zstd":
        return _open_zstd(raw, name)
    return _DECOMPRESSORS[kind](raw)


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


class _Borrowed(io.RawIOBase):
    """A binary stream the caller owns, read through; closing this leaves it open.

    Reads take what is there (``read1``), as grep does on a pipe, and
    ``drained`` says whether the last read got less than it asked for: the
    writer has sent nothing more yet, so a reader should hand on what it has.
    """

    def __init__(self, binary: IO[bytes]) -> None:
        super().__init__()
        self._read = getattr(binary, "read1", binary.read)
        self.drained = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.drained = n < len(buffer)
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
    borrowed = _Borrowed(binary)
    raw = io.BufferedReader(borrowed)
    try:
        text = _wrap(raw, name, encoding, decode_errors)
    except BaseException:
        raw.close()
        raise
    text.live = borrowed  # type: ignore[attr-defined]  # its reader hands on lines as they come
    return text
