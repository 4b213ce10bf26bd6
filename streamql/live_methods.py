"""Stream methods for live and infinite streams: follow, logfile, until, windows, sockets.

Each method is a short delegate to a plain function in its domain module.
"""

from __future__ import annotations

from typing import TypeVar

from .base import StreamBase

__all__ = ["LiveMethods"]

T = TypeVar("T")


class LiveMethods(StreamBase[T]):
    """Methods of ``Stream`` for live data (tutorial parts 5, 6 and 9)."""

    __slots__ = ()
