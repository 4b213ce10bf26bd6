"""The defaults and limits streamql's sources and stages share, in one place, with their numbers.

Every bound a user may meet is named here, so the docs, the method
signatures and the functions that enforce it read one value.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "MAX_LINE",
    "REJECT_HEAD",
    "POLL",
    "GRACE",
    "MAX_FUTURE",
    "QUEUE_MAXSIZE",
    "HOST",
    "MAX_FRAME",
    "MAX_RECORDS",
    "HELLO_TIMEOUT",
    "FRAME_TIMEOUT",
    "IDLE_TIMEOUT",
    "RECEIVER_CONNECTIONS",
    "TCP_MAX_LINE",
    "TCP_CONNECTIONS",
    "MISSING",
    "PURE",
]

#: ``STREAMQL_PURE=1`` in the environment: the C extensions stay unused and
#: their pure-Python twins run (the tests compare the two).
PURE = bool(os.environ.get("STREAMQL_PURE"))

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


QUEUE_MAXSIZE = 8192
"""Default bound, in items, of the buffer between two threads."""

HOST = "127.0.0.1"
"""Where a bare port is bound: this machine only."""

MAX_FRAME = 16 * 1024 * 1024
"""Largest payload a network reader accepts by default: 16 MiB."""

MAX_RECORDS = 100_000
"""Most records one network frame may carry (a sender batches 2,000 by default)."""

HELLO_TIMEOUT = 10.0
"""Seconds a peer has, from connecting, to send its hello."""

FRAME_TIMEOUT = 30.0
"""Seconds a frame, once its first byte has arrived, has to arrive in full."""

IDLE_TIMEOUT = 60.0
"""Seconds of silence after which a receiver disconnects a peer."""

RECEIVER_CONNECTIONS = 64
"""Most peers ``receive_from`` serves at once; a newcomer makes the idlest give way."""

TCP_MAX_LINE = 64 * 1024
"""Longest line ``tcp_lines`` accepts, in bytes (newline included)."""

TCP_CONNECTIONS = 100
"""Most clients ``tcp_lines`` serves at once; a newcomer makes the idlest give way."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The default of an argument that was not given (``default=``, ``initial=``)."""
