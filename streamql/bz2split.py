r"""Cut a bzip2 file into runs of its blocks, each decompressed on its own.

A bzip2 stream is a header (``BZh`` and the block size, 1 to 9 hundred
thousand bytes), then blocks that each start with the 48-bit mark
``0x314159265359`` and their CRC, then the end-of-stream mark
``0x177245385090`` with the CRC of all the blocks. The marks are not aligned
to bytes, but each block decompresses without the others. So a run of blocks
becomes a stream of its own: the header, the run's bits shifted into place,
and an end mark with the run's combined CRC. This lets the processes engine
give the blocks of one big ``.bz2`` log to several workers (gzip has no such
marks: a ``.gz`` file is read whole).

Only a file that is one stream, whose marks all check out, is cut; anything
else (several streams, a cut-off file, a mark found where none can be) is read
whole. A mark could in theory also appear inside compressed data; a run cut
there fails its CRC, and the caller then reads the file whole
(:class:`SplitFailed`).

>>> import bz2, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "log.bz2")
>>> text = b"".join(b"line %d\n" % i for i in range(200_000))
>>> with open(path, "wb") as f:
...     _ = f.write(bz2.compress(text, 1))
>>> layout = bz2_blocks(path)
>>> len(layout.starts) > 1
True
>>> b"".join(run_bytes(path, layout, 0, len(layout.starts))) == text
True
"""

from __future__ import annotations

import bz2
import contextlib
import io
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from .errors import StreamError

__all__ = ["Bz2Layout", "RunReader", "SplitFailed", "bz2_blocks", "lines_before", "run_bytes"]

BLOCK_MARK = 0x314159265359
END_MARK = 0x177245385090
# Compressed bytes read at a time, when looking for marks and when decompressing.
CHUNK = 1 << 20


class SplitFailed(StreamError):
    """A run of a bzip2 file's blocks did not decompress: read the file whole instead."""

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"{path}: a run of bzip2 blocks did not decompress ({cause})")
        self.path, self.cause = path, cause

    def __reduce__(self) -> tuple[type[SplitFailed], tuple[str, BaseException]]:
        return type(self), (self.path, self.cause)


@dataclass(frozen=True)
class Bz2Layout:
    """Where a one-stream bzip2 file's blocks start, in bits; and each block's CRC."""

    level: int  # the block size digit of the header, 1 to 9
    starts: tuple[int, ...]  # the bit offset of each block's mark
    end: int  # the bit offset of the end-of-stream mark
    crcs: tuple[int, ...]  # each block's CRC, as its header holds it


def _mark_offsets(data: bytes, mark: int) -> list[int]:
    """The bit offsets of the 48-bit ``mark`` in ``data``, at any of the 8 alignments."""
    found = []
    for shift in range(8):
        size = (48 + shift + 7) // 8
        pad = size * 8 - 48 - shift
        pattern = (mark << pad).to_bytes(size, "big")
        lead, tail = (1 if shift else 0), (1 if pad else 0)
        core = pattern[lead : size - tail]  # the bytes the mark fills whole
        first_mask, last_mask = 0xFF >> shift, (0xFF << pad) & 0xFF
        at = data.find(core)
        while at >= 0:
            start = at - lead
            if (
                start >= 0
                and start + size <= len(data)
                and data[start] & first_mask == pattern[0] & first_mask
                and data[start + size - 1] & last_mask == pattern[-1] & last_mask
            ):
                found.append(start * 8 + shift)
            at = data.find(core, at + 1)
    return sorted(found)


def _bits(data: bytes, offset: int, count: int) -> int:
    """The ``count`` bits of ``data`` from bit ``offset``, as an int."""
    first, last = offset // 8, (offset + count + 7) // 8
    value = int.from_bytes(data[first:last], "big")
    return (value >> (last * 8 - offset - count)) & ((1 << count) - 1)


def bz2_blocks(path: str) -> Bz2Layout | None:
    """Find the blocks of a one-stream bzip2 file; None if it is not one (read it whole).

    Reads the whole compressed file (not decompressing it), a chunk at a time.
    """
    starts: list[int] = []
    ends: list[int] = []
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:3] != b"BZh" or not 0x31 <= head[3] <= 0x39:
            return None
        f.seek(0)
        done, keep = 0, b""
        while chunk := f.read(CHUNK):
            data = keep + chunk
            base = (done - len(keep)) * 8
            # A mark across the seam is found in the next round, which re-reads 6 bytes.
            limit = (len(data) - 6) * 8 if len(chunk) == CHUNK else len(data) * 8
            starts += [base + b for b in _mark_offsets(data, BLOCK_MARK) if b < limit]
            ends += [base + b for b in _mark_offsets(data, END_MARK) if b < limit]
            done += len(chunk)
            keep = data[-6:]
        size_bits = done * 8
        # One stream: blocks from just after the header, one end mark, then its
        # CRC and fewer than 8 bits of padding.
        if not starts or starts[0] != 32 or len(ends) != 1 or ends[0] <= starts[-1]:
            return None
        if not 0 <= size_bits - (ends[0] + 80) < 8:
            return None
        crcs = []
        for start in starts:
            f.seek(start // 8)
            crcs.append(_bits(f.read(12), start % 8 + 48, 32))
    return Bz2Layout(head[3] - 0x30, tuple(starts), ends[0], tuple(crcs))


def _combined(crcs: tuple[int, ...]) -> int:
    combined = 0
    for crc in crcs:
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ crc
    return combined


def _stream(path: str, layout: Bz2Layout, first: int, stop: int) -> Generator[bytes, None, None]:
    """A bzip2 stream of blocks [first, stop) of the file, a chunk at a time."""
    begin = layout.starts[first]
    end = layout.starts[stop] if stop < len(layout.starts) else layout.end
    yield b"BZh" + bytes([0x30 + layout.level])
    shift = begin % 8
    with open(path, "rb") as f:
        f.seek(begin // 8)
        left = end - begin  # bits still to send
        carry = f.read(1)
        while left >= 8 * CHUNK:
            data = carry + f.read(CHUNK)
            value = int.from_bytes(data, "big") >> (8 - shift) if shift else None
            if value is None:
                yield data[:CHUNK]
            else:
                yield (value & ((1 << (8 * CHUNK)) - 1)).to_bytes(CHUNK, "big")
            carry = data[CHUNK:]
            left -= 8 * CHUNK
        data = carry + f.read((left + shift + 7) // 8)
    # The last bits of the run, then the end mark and the run's CRC, padded.
    value = _bits(data, shift, left)
    crc = _combined(layout.crcs[first:stop])
    value = (((value << 48) | END_MARK) << 32) | crc
    count = left + 80
    pad = -count % 8
    yield (value << pad).to_bytes((count + pad) // 8, "big")


def run_bytes(path: str, layout: Bz2Layout, first: int, stop: int) -> Generator[bytes, None, None]:
    """Decompress blocks [first, stop) of the file; raise :class:`SplitFailed` if they fail."""
    decompressor = bz2.BZ2Decompressor()
    try:
        for piece in _stream(path, layout, first, stop):
            out = decompressor.decompress(piece)
            if out:
                yield out
        if not decompressor.eof:
            raise EOFError("the run ended before its end-of-stream mark")
    except (OSError, EOFError, ValueError) as exc:
        raise SplitFailed(path, exc) from exc


def _lines_of_run(
    path: str, layout: Bz2Layout, first: int, stop: int
) -> Generator[bytes, None, None]:
    """The bytes of the lines that start in blocks [first, stop).

    The line the run starts inside belongs to the run before; the run's last
    line is finished from the blocks after it.
    """
    with contextlib.closing(run_bytes(path, layout, first, stop)) as data:
        if first > 0:
            for chunk in data:
                cut = chunk.find(b"\n")
                if cut >= 0:
                    if cut + 1 < len(chunk):
                        yield chunk[cut + 1 :]
                    break
            else:
                return  # no line starts in this run
        yield from data
    for block in range(stop, len(layout.starts)):
        with contextlib.closing(run_bytes(path, layout, block, block + 1)) as data:
            for chunk in data:
                cut = chunk.find(b"\n")
                if cut >= 0:
                    yield chunk[: cut + 1]
                    return
                yield chunk


def lines_before(path: str, layout: Bz2Layout, first: int) -> int:
    """The lines of the file before the first line that starts in block ``first``.

    Decompresses the blocks before it: asked only when a line number is.
    """
    if first == 0:
        return 0
    with contextlib.closing(run_bytes(path, layout, 0, first)) as data:
        newlines = sum(chunk.count(b"\n") for chunk in data)
    return newlines + 1  # and the line that runs into block ``first``


class RunReader(io.RawIOBase):
    """The lines that start in blocks [first, stop) of a bzip2 file, as a raw byte stream.

    >>> import bz2, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.bz2")
    >>> text = b"".join(b"line %d\\n" % i for i in range(200_000))
    >>> with open(path, "wb") as f:
    ...     _ = f.write(bz2.compress(text, 1))
    >>> layout = bz2_blocks(path)
    >>> runs = [(0, 2), (2, len(layout.starts))]
    >>> b"".join(RunReader(path, layout, a, b).read() for a, b in runs) == text
    True
    """

    def __init__(self, path: str, layout: Bz2Layout, first: int, stop: int) -> None:
        self._chunks = _lines_of_run(path, layout, first, stop)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            super().close()
