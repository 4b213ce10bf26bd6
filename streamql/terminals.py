"""Terminal operations: consume a stream and return a plain Python value.

Each is an ordinary function of an iterable, usable on its own; ``Stream``
methods of the same names call them and close the whole pipeline afterwards.
With a ``field`` they work on that field of each record (``sum("bytes")``).
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
from operator import itemgetter
from typing import IO, Any

from ._toolz import countby, groupby, topk
from .errors import StreamError
from .flow import key_function

__all__ = [
    "count",
    "total",
    "smallest",
    "largest",
    "distinct_set",
    "first",
    "top",
    "count_by",
    "group_by",
    "write",
    "MISSING",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _values(stage: str, items: Iterable[Any], field: object) -> Iterable[Any]:
    if field is None:
        return items
    if not isinstance(field, (str, int)):
        raise TypeError(f"{stage}: field must be a field name, got {field!r}")
    return map(itemgetter(field), items)


def count(items: Iterable[Any]) -> int:
    """Count the items. Terminal; constant memory.

    >>> count(x for x in range(5) if x % 2)
    2
    """
    n = 0
    for n, _ in enumerate(items, 1):  # noqa: B007 - the last n is the count
        pass
    return n


def total(items: Iterable[Any], field: str | int | None = None) -> Any:
    """Add up the items, or one field of each record. Terminal; constant memory.

    >>> total([{"bytes": 10}, {"bytes": 5}], "bytes")
    15
    """
    return sum(_values("sum", items, field))


def _extreme(
    stage: str, pick: Callable[..., Any], items: Iterable[Any], field: Any, key: Any, default: Any
) -> Any:
    if field is not None and key is not None:
        raise TypeError(f"{stage}: give a field or key=, not both")
    values = _values(stage, items, field)
    keyfunc = key_function(stage, key)
    try:
        if default is MISSING:
            return pick(values, key=keyfunc)
        return pick(values, key=keyfunc, default=default)
    except ValueError as exc:
        if "empty" in str(exc):
            raise StreamError(
                f"{stage}: the stream is empty\n\nPass default= to get a value instead."
            ) from None
        raise


def smallest(
    items: Iterable[Any], field: str | int | None = None, *, key: Any = None, default: Any = MISSING
) -> Any:
    """Return the smallest item, field value (``field``) or item by ``key``.

    Terminal; constant memory. An empty stream raises ``StreamError`` unless a
    ``default`` is given.

    >>> smallest([{"bytes": 10}, {"bytes": 5}], "bytes")
    5
    """
    return _extreme("min", min, items, field, key, default)


def largest(
    items: Iterable[Any], field: str | int | None = None, *, key: Any = None, default: Any = MISSING
) -> Any:
    """Return the largest item, field value (``field``) or item by ``key``.

    Terminal; constant memory. With ``key`` the whole item comes back, so the
    tutorial's largest transfer keeps its request.

    >>> rows = [{"bytes": 10, "request": "/a"}, {"bytes": 50, "request": "/b"}]
    >>> largest(rows, key="bytes")["request"]
    '/b'
    """
    return _extreme("max", max, items, field, key, default)


def distinct_set(items: Iterable[Any], field: str | int | None = None) -> set[Any]:
    """Collect the distinct items (or field values) into a set.

    Terminal; memory grows with the number of distinct values.

    >>> sorted(distinct_set([{"host": "a"}, {"host": "b"}, {"host": "a"}], "host"))
    ['a', 'b']
    """
    return set(_values("set", items, field))


def first(items: Iterable[Any], default: Any = MISSING) -> Any:
    """Return the first item, reading nothing more. Terminal.

    >>> first(iter([3, 4]))
    3
    """
    for item in items:
        return item
    if default is MISSING:
        raise StreamError("first: the stream is empty\n\nPass default= to get a value instead.")
    return default


def top(n: int, items: Iterable[Any], by: Any = None) -> list[Any]:
    """Return the ``n`` largest items (by a field or key function), largest first.

    Terminal; keeps ``n`` items in memory.

    >>> top(2, [{"b": 1}, {"b": 7}, {"b": 3}], by="b")
    [{'b': 7}, {'b': 3}]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"top: n must be an int >= 0, got {n!r}")
    keyfunc = key_function("top", by)
    if n == 0:
        return []
    if keyfunc is None:
        return list(topk(n, items))
    return list(topk(n, items, key=keyfunc))


def count_by(field: Any, items: Iterable[Any]) -> dict[Any, int]:
    """Count items per value of a field (or key function), most common first.

    Terminal; memory grows with the number of distinct values. Ties keep the
    order in which the values were first seen.

    >>> count_by("status", [{"status": 200}, {"status": 404}, {"status": 404}])
    {404: 2, 200: 1}
    """
    keyfunc = key_function("count_by", field)
    if keyfunc is None:
        raise TypeError("count_by: name a field or give a key function")
    counts = countby(keyfunc, items)
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def group_by(
    field: Any, items: Iterable[Any], agg: Callable[[list[Any]], Any] | None = None
) -> dict[Any, Any]:
    """Group items by a field (or key function): value -> list, or ``agg(list)``.

    Terminal; holds every item in memory (use ``agg`` to reduce each group).

    >>> group_by("host", [{"host": "a", "b": 1}, {"host": "a", "b": 2}],
    ...          agg=lambda rows: sum(r["b"] for r in rows))
    {'a': 3}
    """
    keyfunc = key_function("group_by", field)
    if keyfunc is None:
        raise TypeError("group_by: name a field or give a key function")
    if agg is not None and not callable(agg):
        raise TypeError(f"group_by: agg must be a function of a list, got {agg!r}")
    groups = groupby(keyfunc, items)
    if agg is None:
        return dict(groups)
    return {k: agg(v) for k, v in groups.items()}


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
