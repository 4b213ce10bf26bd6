"""The sink that writes a stream's items to a file.

Every other terminal is an aggregation (:mod:`streamql.aggregates`).
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import json
import lzma
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import IO, Any

__all__ = ["write"]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"write: cannot write {type(value).__name__} {value!r} as JSON")


def _line(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return json.dumps(item, default=_json_default) + "\n"
    return f"{item}\n"


_OPENERS: dict[str, Callable[..., IO[str]]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
}


def write(target: str | os.PathLike[str] | IO[str], items: Iterable[Any]) -> int:
    """Write items to a file or path and return how many were written.

    The tutorial's "yield as print": strings are written as they are (lines
    keep their own newlines), dict records as JSON lines, anything else as
    ``str(item)`` plus a newline. A path ending in .gz, .bz2 or .xz is
    compressed. Writing to a path is atomic: the file appears complete or, if
    the stream fails, not at all. Terminal; constant memory.

    >>> import io
    >>> out = io.StringIO()
    >>> write(out, ["Hello World\\n", {"n": 1}, 42])
    3
    >>> out.getvalue()
    'Hello World\\n{"n": 1}\\n42\\n'
    """
    if hasattr(target, "write"):
        n = 0
        for item in items:
            target.write(_line(item))
            n += 1
        return n
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"write: expected a path or a writable file, got {target!r}")
    path = os.fspath(target)
    folder = os.path.dirname(path) or "."
    opener = _OPENERS.get(os.path.splitext(path)[1], open)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".streamql-", suffix=".part")
    os.close(fd)
    try:
        with opener(tmp, "wt", encoding="utf-8") as out:
            n = write(out, items)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return n
