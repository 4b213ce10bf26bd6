"""The defaults and limits streamql's sources and stages share, in one place, with their numbers.

Every bound a user may meet is named here, so the docs, the method
signatures and the functions that enforce it read one value.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_LINE", "REJECT_HEAD", "POLL", "GRACE", "MAX_FUTURE", "MISSING"]

MAX_LINE = 1 << 20
"""The longest line a line source hands out: 1 MiB (characters of text; bytes for follow).

A longer line is a counted reject holding its first :data:`REJECT_HEAD`
characters, read through in pieces so memory stays bounded; None lifts it.
"""

REJECT_HEAD = 200
"""How much of an over-long line its reject keeps."""

POLL = 0.05
"""Seconds between two looks at an idle followed file."""

GRACE = 5.0
"""Seconds after its last write that a rotated-away file is still read."""

MAX_FUTURE = 86_400.0
"""``window``'s default ``max_future``: how far ahead an event time may plausibly be, in seconds."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The default of an argument that was not given (``default=``, ``initial=``)."""
