"""Operations on any items: map, take, skip, distinct, and the tutorial's debug tricks."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from ..core._toolz import drop, take, unique
from ..core.expr import key_function

__all__ = [
    "map_items",
    "take_n",
    "skip_n",
    "distinct",
    "trace",
    "tap",
    "LastSeen",
    "storelast",
    "generate",
]

T = TypeVar("T")
U = TypeVar("U")


def _count_arg(stage: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{stage}: n must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"{stage}: n must be >= 0, got {n}")
    return n


def _callable_arg(stage: str, func: object) -> None:
    if not callable(func):
        raise TypeError(f"{stage}: func must be callable, got {func!r}")


def map_items(func: Callable[[T], U], items: Iterable[T]) -> Iterator[U]:
    """Apply ``func`` to every item. Lazy; constant memory.

    >>> list(map_items(int, ["1", "22"]))
    [1, 22]
    """
    _callable_arg("map", func)
    return map(func, items)


def take_n(n: int, items: Iterable[T]) -> Iterator[T]:
    """Yield the first ``n`` items, then stop reading. Lazy.

    >>> import itertools
    >>> list(take_n(3, itertools.count()))
    [0, 1, 2]
    """
    return take(_count_arg("take", n), items)


def skip_n(n: int, items: Iterable[T]) -> Iterator[T]:
    """Drop the first ``n`` items and yield the rest. Lazy.

    >>> list(skip_n(2, "abcd"))
    ['c', 'd']
    """
    return drop(_count_arg("skip", n), items)


def distinct(
    items: Iterable[T], *, field: str | int | Callable[[T], Any] | None = None
) -> Iterator[T]:
    """Yield each item whose value (or field's value) has not been seen before.

    Lazy; memory grows with the number of distinct values.

    >>> list(distinct([{"h": 1, "n": 1}, {"h": 1, "n": 2}, {"h": 2, "n": 3}], field="h"))
    [{'h': 1, 'n': 1}, {'h': 2, 'n': 3}]
    """
    return unique(items, key=key_function("distinct", field))


def trace(
    items: Iterable[T], *, label: str | None = None, file: IO[str] | None = None
) -> Iterator[T]:
    """Print each item as it passes (the tutorial's ``trace``). Lazy.

    >>> list(trace([1, 2], label="n"))
    n: 1
    n: 2
    [1, 2]
    """
    prefix = f"{label}: " if label else ""
    for item in items:
        print(f"{prefix}{item!r}", file=file or sys.stdout)
        yield item


def tap(func: Callable[[T], Any], items: Iterable[T]) -> Iterator[T]:
    """Call ``func`` on each item for its side effect, passing the item on. Lazy.

    >>> seen = []
    >>> list(tap(seen.append, "ab")), seen
    (['a', 'b'], ['a', 'b'])
    """
    _callable_arg("tap", func)

    def run() -> Iterator[T]:
        for item in items:
            func(item)
            yield item

    return run()


class LastSeen:
    """Holds the last item a ``storelast`` stage passed on (None before any)."""

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: Any = None

    def __repr__(self) -> str:
        return f"LastSeen({self.item!r})"


def storelast(holder: LastSeen, items: Iterable[T]) -> Iterator[T]:
    """Pass items on, keeping the latest in ``holder.item`` (the tutorial's storelast).

    >>> last = LastSeen()
    >>> it = storelast(last, ["a", "b"])
    >>> next(it), last.item
    ('a', 'a')
    """
    for item in items:
        holder.item = item
        yield item


def generate(func: Callable[[T], U]) -> Callable[[Iterable[T]], Iterator[U]]:
    """Lift a one-argument function into a pipeline stage (the tutorial's ``generate``).

    >>> import math
    >>> gen_sqrt = generate(math.sqrt)
    >>> list(gen_sqrt([1, 4, 9]))
    [1.0, 2.0, 3.0]
    """
    _callable_arg("generate", func)

    def stage(items: Iterable[T]) -> Iterator[U]:
        return map(func, items)

    stage.__name__ = stage.__qualname__ = f"gen_{getattr(func, '__name__', 'func')}"
    return stage
