"""Fixed-size binary records (the tutorial's ``gen_records``), read in blocks."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import IO, Any

from ..core.errors import StreamError

__all__ = ["records"]

_BLOCK_RECORDS = 4096


def records(
    record_format: str, source: str | os.PathLike[str] | IO[bytes]
) -> Iterator[tuple[Any, ...]]:
    """Unpack fixed-size ``struct`` records from a binary file or path.

    Reads about 4096 records at a time and unpacks them with
    ``struct.iter_unpack``. Lazy; memory bounded by one block. A file that
    ends inside a record raises :class:`~streamql.core.errors.StreamError` naming
    the file and the record, after every whole record has been delivered.
    A path is opened and closed by the generator; a file object is left open.

    >>> import io, struct
    >>> data = struct.pack("<8sif", b"GOOG", 100, 490.5) * 2
    >>> list(records("<8sif", io.BytesIO(data)))[0]
    (b'GOOG\\x00\\x00\\x00\\x00', 100, 490.5)
    """
    if not isinstance(record_format, str):
        raise TypeError(
            f"records: record_format must be a struct format str, got {record_format!r}"
        )
    try:
        unpacker = struct.Struct(record_format)
    except struct.error as exc:
        raise ValueError(f"records: bad struct format {record_format!r}: {exc}") from None
    if unpacker.size == 0:
        raise ValueError(f"records: struct format {record_format!r} has size 0")
    if not (isinstance(source, (str, os.PathLike)) or hasattr(source, "read")):
        raise TypeError(f"records: expected a path or a binary file, got {source!r}")
    return _records(unpacker, source)


def _records(unpacker: struct.Struct, source: Any) -> Iterator[tuple[Any, ...]]:
    owned = isinstance(source, (str, os.PathLike))
    f: IO[bytes] = open(source, "rb") if owned else source  # noqa: SIM115
    name = os.fspath(source) if owned else getattr(f, "name", repr(f))
    size = unpacker.size
    block = size * _BLOCK_RECORDS
    done = 0
    try:
        while True:
            data = f.read(block)
            if not data:
                return
            while len(data) % size:
                more = f.read(size - len(data) % size)
                if not more:
                    whole = len(data) // size
                    yield from unpacker.iter_unpack(data[: whole * size])
                    done += whole
                    raise StreamError(
                        f"records: {name} ends inside record {done + 1} "
                        f"({len(data) - whole * size} of {size} bytes)\n\n"
                        f"The {done:,} whole records before it were delivered."
                    )
                data += more
            yield from unpacker.iter_unpack(data)
            done += len(data) // size
    finally:
        if owned:
            f.close()
