"""toolz, or the faster cytoolz when it is installed (same functions, same answers).

Imported on first use, so ``import streamql`` does not pay for it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["drop", "take", "unique"]

T = TypeVar("T")


@functools.cache
def _lib() -> Any:
    try:  # pragma: no cover - depends on what is installed
        return importlib.import_module("cytoolz")
    except ImportError:  # pragma: no cover
        return importlib.import_module("toolz")


def take(n: int, seq: Iterable[T]) -> Iterator[T]:
    """The first ``n`` items of ``seq`` (toolz.take)."""
    return _lib().take(n, seq)  # type: ignore[no-any-return]


def drop(n: int, seq: Iterable[T]) -> Iterator[T]:
    """``seq`` without its first ``n`` items (toolz.drop)."""
    return _lib().drop(n, seq)  # type: ignore[no-any-return]


def unique(seq: Iterable[T], key: Callable[[T], Any] | None = None) -> Iterator[T]:
    """Each item of ``seq`` whose key was not seen before (toolz.unique)."""
    return _lib().unique(seq, key=key)  # type: ignore[no-any-return]
