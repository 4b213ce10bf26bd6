"""toolz, or the faster cytoolz when it is installed (same functions, same answers)."""

from __future__ import annotations

try:  # pragma: no cover - depends on what is installed
    from cytoolz import countby, drop, frequencies, groupby, take, topk, unique
except ImportError:  # pragma: no cover
    from toolz import countby, drop, frequencies, groupby, take, topk, unique

__all__ = ["countby", "drop", "frequencies", "groupby", "take", "topk", "unique"]
