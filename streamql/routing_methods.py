"""Stream methods for threads, queues, fan-in, fan-out, coroutines and the network.

Each method is a short delegate to a plain function in its domain module.
"""

from __future__ import annotations

from typing import TypeVar

from .base import StreamBase

__all__ = ["RoutingMethods"]

T = TypeVar("T")


class RoutingMethods(StreamBase[T]):
    """Methods of ``Stream`` that route items across threads, processes and machines."""

    __slots__ = ()
