"""Writing items out: plain lines, JSON lines, one JSON document, CSV, TSV, Parquet, Arrow.

One writer per format, each a plain function ``(items, out) -> count`` that
keeps constant memory (the Parquet and Arrow writers hold one batch of rows).
:func:`write` picks the writer by the path's extension or by ``format=``, and
writes a path atomically: the file appears complete or, if the stream fails,
not at all. ``.gz``, ``.bz2``, ``.xz`` (and ``.zst`` with the ``zstd`` extra)
after the format's extension compress the text formats. Parquet and Arrow
need pyarrow (``pip install streamql[arrow]``).
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import io
import json
import lzma
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import IO, Any

from ..core._lazy import optional
from .compress import zstd_module
from .records import as_dict

__all__ = [
    "FORMATS",
    "format_for",
    "write",
    "write_lines",
    "write_jsonl",
    "write_json",
    "write_csv",
    "write_tsv",
    "to_json",
]

# Extensions and the format each names; the text formats may be compressed.
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "lines",
    ".log": "lines",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
}
_BINARY = ("parquet", "arrow")
FORMATS = ("lines", "jsonl", "json", "csv", "tsv", "parquet", "arrow")
ROWS_PER_BATCH = 10_000  # rows Parquet and Arrow writers hold before writing them


def _zstd_open(path: str, mode: str, **text: Any) -> IO[str]:
    module = zstd_module()
    if module is None:
        raise ImportError(f"write: {path!r} asks for zstd: pip install streamql[zstd]")
    if module.__name__ == "compression.zstd":
        return module.open(path, mode, **text)  # type: ignore[no-any-return]
    binary = open(path, "wb")  # noqa: SIM115 - closed by the text file over it
    writer = module.ZstdCompressor().stream_writer(binary, closefd=True)
    return io.TextIOWrapper(writer, **text)


_OPENERS: dict[str, Callable[..., IO[str]]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
    ".zst": _zstd_open,
}


def to_json(value: Any) -> Any:
    """Turn a value JSON cannot hold into one it can: times in ISO 8601, sets sorted.

    Named tuples (windows) become objects, so their fields keep their names.

    >>> to_json(dt.datetime(2008, 2, 24, 0, 8, 59)), to_json({2, 1}), to_json(b"a\\xff")
    ('2008-02-24T00:08:59', [1, 2], 'a\\\\xff')
    """
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _dumps(item: Any) -> str:
    if isinstance(item, tuple) and hasattr(item, "_asdict"):
        item = item._asdict()
    return json.dumps(item, default=to_json, ensure_ascii=False)


def write_lines(items: Iterable[Any], out: IO[str]) -> int:
    """Write strings as they are (lines keep their newlines), records as JSON, else ``str``.

    The tutorial's "yield as print". Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write_lines(["Hello\\n", {"n": 1}, 42], out), out.getvalue()
    (3, 'Hello\\n{"n": 1}\\n42\\n')
    """
    n = 0
    for item in items:
        if isinstance(item, str):
            out.write(item)
        elif isinstance(item, Mapping) or (isinstance(item, tuple) and hasattr(item, "_asdict")):
            out.write(_dumps(item) + "\n")
        else:
            out.write(f"{item}\n")
        n += 1
    return n


def write_jsonl(items: Iterable[Any], out: IO[str]) -> int:
    """Write each item as one line of JSON (records as objects, lines as strings).

    Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write_jsonl([{"status": 404}, "GET /\\n"], out), out.getvalue()
    (2, '{"status": 404}\\n"GET /\\\\n"\\n')
    """
    n = 0
    for item in items:
        out.write(_dumps(item) + "\n")
        n += 1
    return n


def write_json(items: Iterable[Any], out: IO[str]) -> int:
    """Write the items as one JSON array, an item per line. Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write_json([{"a": 1}, {"a": 2}], out), json.loads(out.getvalue())
    (2, [{'a': 1}, {'a': 2}])
    """
    n = 0
    for item in items:
        out.write(("[\n" if n == 0 else ",\n") + _dumps(item))
        n += 1
    out.write("[]\n" if n == 0 else "\n]\n")
    return n


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return _dumps(value)
    return str(value)


def _write_delimited(items: Iterable[Any], out: IO[str], delimiter: str, stage: str) -> int:
    it = iter(items)
    first = next(it, None)
    if first is None:
        return 0
    row = as_dict(first)
    columns = list(row)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    known = set(columns)
    n = 0
    while True:
        extra = [k for k in row if k not in known]
        if extra:
            raise ValueError(
                f"{stage}: item {n + 1} has the field {extra[0]!r}, not among the columns "
                f"{columns!r} the first item gave\n\n"
                "Choose the columns first: .select(...), or write JSON lines (.jsonl)."
            )
        writer.writerow([_cell(row.get(c)) for c in columns])
        n += 1
        item = next(it, None)
        if item is None:
            return n
        row = as_dict(item)


def write_csv(items: Iterable[Any], out: IO[str]) -> int:
    """Write records as CSV: a header from the first record's fields, then a row each.

    A missing field is an empty cell; a field the first record lacked is an
    error (nothing is dropped silently). Non-records are a ``value`` column.
    Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write_csv([{"host": "a", "bytes": 5}, {"host": "b, c"}], out)
    2
    >>> print(out.getvalue(), end="")
    host,bytes
    a,5
    "b, c",
    """
    return _write_delimited(items, out, ",", "csv")


def write_tsv(items: Iterable[Any], out: IO[str]) -> int:
    """Write records as tab-separated values (see :func:`write_csv`). Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write_tsv([{"host": "a", "bytes": 5}], out), out.getvalue()
    (1, 'host\\tbytes\\na\\t5\\n')
    """
    return _write_delimited(items, out, "\t", "tsv")


_TEXT_WRITERS: dict[str, Callable[[Iterable[Any], IO[str]], int]] = {
    "lines": write_lines,
    "jsonl": write_jsonl,
    "json": write_json,
    "csv": write_csv,
    "tsv": write_tsv,
}


def _batches(items: Iterable[Any]) -> Iterator[list[dict[str, Any]]]:
    it = iter(items)
    while batch := [as_dict(item) for item in islice(it, ROWS_PER_BATCH)]:
        yield batch


def _write_arrow_table(kind: str, items: Iterable[Any], path: str) -> int:
    pa = optional("pyarrow")
    writer: Any = None
    n = 0
    try:
        for batch in _batches(items):
            table = pa.Table.from_pylist(batch, schema=None if writer is None else writer.schema)
            if writer is None:
                if kind == "parquet":
                    writer = optional("pyarrow.parquet").ParquetWriter(path, table.schema)
                else:
                    writer = pa.ipc.new_file(path, table.schema)
            writer.write_table(table)
            n += len(batch)
        if writer is None:  # no rows: an empty file of no columns
            empty = pa.table({})
            if kind == "parquet":
                optional("pyarrow.parquet").write_table(empty, path)
            else:
                with pa.ipc.new_file(path, empty.schema) as w:
                    w.write_table(empty)
    finally:
        if writer is not None:
            writer.close()
    return n


def format_for(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Tell a path's format and compression by its extensions.

    >>> format_for("out.csv.gz"), format_for("top.jsonl"), format_for("copy")
    (('csv', '.gz'), ('jsonl', None), ('lines', None))
    >>> format_for("out.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: write: cannot tell the format of 'out.xlsx' by its extension '.xlsx'
    <BLANKLINE>
    Name it .jsonl, .json, .csv, .tsv, .txt, .log, .parquet or .arrow ...
    """
    name = os.fspath(path)
    stem, ext = os.path.splitext(name)
    compression = None
    if ext in _OPENERS:
        compression = ext
        stem, ext = os.path.splitext(stem)
    if not ext or os.sep in ext:
        return "lines", compression
    kind = _EXTENSIONS.get(ext.lower())
    if kind is None:
        raise ValueError(
            f"write: cannot tell the format of {name!r} by its extension {ext!r}\n\n"
            "Name it .jsonl, .json, .csv, .tsv, .txt, .log, .parquet or .arrow (a .gz, .bz2, "
            ".xz or .zst after a text format compresses it), or pass format= one of "
            + ", ".join(FORMATS)
            + "."
        )
    return kind, compression


def check_format(format: str | None) -> str | None:
    """Validate a ``format=`` argument when the step is added."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"write: format must be one of {', '.join(FORMATS)}, got {format!r}")
    return format


def write(
    target: str | os.PathLike[str] | IO[str], items: Iterable[Any], *, format: str | None = None
) -> int:
    """Write items to a path (atomically) or an open text file; return how many were written.

    The format is ``format``, or the path's extension (see :func:`format_for`;
    a path without one gets plain lines), or plain lines for an open file.
    Terminal; constant memory (Parquet and Arrow hold one batch of rows).

    >>> import io, os, tempfile
    >>> out = io.StringIO()
    >>> write(out, ["Hello World\\n", {"n": 1}, 42])
    3
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> write(path, [{"host": "a", "bytes": 5}])
    1
    >>> with open(path) as f:
    ...     f.read()
    'host,bytes\\na,5\\n'
    """
    check_format(format)
    if hasattr(target, "write"):
        kind = format or "lines"
        if kind in _BINARY:
            raise ValueError(f"write: format={kind!r} writes to a path, not an open text file")
        return _TEXT_WRITERS[kind](items, target)  # type: ignore[arg-type]
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"write: expected a path or a writable file, got {target!r}")
    path = os.fspath(target)
    kind, compression = format_for(path) if format is None else (format, None)
    if format is not None:
        ext = os.path.splitext(path)[1]
        compression = ext if ext in _OPENERS else None
    if kind in _BINARY:
        if compression is not None:
            raise ValueError(f"write: {kind} files compress themselves; drop {compression!r}")
        optional("pyarrow")  # fail before reading anything
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".streamql-", suffix=".part")
    os.close(fd)
    try:
        if kind in _BINARY:
            n = _write_arrow_table(kind, items, tmp)
        else:
            opener: Callable[..., IO[str]] = _OPENERS[compression] if compression else open
            with opener(tmp, "wt", encoding="utf-8", **_newline(kind)) as out:
                n = _TEXT_WRITERS[kind](items, out)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return n


def _newline(kind: str) -> dict[str, str]:
    return {"newline": ""} if kind in ("csv", "tsv") else {}
