"""Compressed input told by content: gzip, bzip2, xz and zstd.

A file (or standard input) is sniffed by its first bytes, never its name, and
wrapped in the matching decompressor. gzip, bzip2 and xz come with Python;
zstd needs the ``zstandard`` package (``pip install streamql[zstd]``) or
Python's own ``compression.zstd`` (3.14 and newer). Without either, a zstd
file is a clear error naming the file and the extra to install.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import zlib
from collections.abc import Callable
from typing import IO, Any

__all__ = ["sniff", "decompressor", "DAMAGE", "KINDS", "zstd_module"]

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


class _CheckedZstd(io.RawIOBase):
    """zstandard's streaming decompressor, raising EOFError on a stream cut short."""

    def __init__(self, raw: IO[bytes], module: Any) -> None:
        super().__init__()
        self._raw = raw
        self._obj = module.ZstdDecompressor().decompressobj()
        self._new = module.ZstdDecompressor
        self._pending = b""
        self._eof = False
        self._error = module.ZstdError

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._eof:
            data = self._raw.read(1 << 16)
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
            self._pending = out
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class ZstdMissingError(OSError):
    """A zstd file met without a zstd decompressor installed."""


_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], Any]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
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
