"""``Stream``: a lazy, immutable, re-runnable query over ordinary generator functions.

A Stream is a plan — a tuple of :class:`~streamql.core.plan.Step` — not an
iterator. Each chained method returns a new Stream sharing the earlier steps;
nothing is read until the Stream is iterated or a terminal (``sum``,
``count``…) runs it, and every run reads its sources afresh. Each method is a
short delegate to a plain function in a domain module (``files``, ``text``,
``apache``, ``records``, ``flow``, ``terminals``), usable on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..core.plan import Step
from .base import Explanation
from .display import DisplayMethods
from .live import LiveMethods
from .parsers import ParserMethods
from .routing import RoutingMethods
from .sources import SourceMethods
from .terminals import TerminalMethods
from .transforms import TransformMethods

__all__ = ["Stream", "operation", "Explanation"]

T = TypeVar("T")


class Stream(
    SourceMethods[T],
    TransformMethods[T],
    ParserMethods[T],
    TerminalMethods[T],
    LiveMethods[T],
    RoutingMethods[T],
    DisplayMethods[T],
):
    """A lazy, re-runnable query: chain methods to build it, iterate or call a terminal to run it.

    >>> s = Stream(["GET /a 200 10", "GET /b 404 -", "GET /c 200 7"])
    >>> s.grep(" 200 ").field(-1).map(int).sum()
    17
    >>> s.grep(" 200 ").field(-1).map(int)
    Stream(['GET /a 200 10', 'GET /b 404 -', 'GET /c 200 7']).grep(' 200 ').field(-1).map(int)
    """

    __slots__ = ()

    def __dir__(self) -> list[str]:
        """The query's own names: constructors (``Stream.lines``...) belong to the class.

        >>> "lines" in dir(Stream([1])), "lines" in dir(Stream), "count" in dir(Stream([1]))
        (False, True, True)
        """
        import inspect  # only dir() needs it: not loaded by every import of streamql

        cls = type(self)
        return sorted(
            name
            for name in object.__dir__(self)
            if not isinstance(inspect.getattr_static(cls, name, None), (classmethod, staticmethod))
        )


def operation(func: Callable[..., Iterable[Any]] | None = None, *, name: str | None = None) -> Any:
    """Register a generator function as a chainable Stream method.

    The function takes its arguments first and the items last, like every
    streamql operation; the method passes them on. Returns the function
    unchanged, so it stays usable on its own.

    A method added at run time is invisible to type checkers (mypy reports
    ``"Stream" has no attribute``); where types matter, ``.apply(func, *args)``
    runs the same function and is typed.

    >>> @operation
    ... def every_other(items):
    ...     for i, item in enumerate(items):
    ...         if i % 2 == 0:
    ...             yield item
    >>> Stream([1, 2, 3, 4, 5]).every_other().list()
    [1, 3, 5]
    """

    def register(f: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        opname = name or f.__name__
        if not opname.isidentifier() or opname.startswith("_"):
            raise ValueError(f"operation: {opname!r} is not a usable method name")
        existing = getattr(Stream, opname, None)
        if existing is not None and getattr(existing, "__wrapped_operation__", None) is None:
            raise ValueError(f"operation: Stream already has a method {opname!r}")

        def method(self: Stream[Any], *args: Any, **kwargs: Any) -> Stream[Any]:
            step = Step(opname, f, args, tuple(kwargs.items()), rowwise=False, pure=False)
            return self._add(step)

        method.__name__ = method.__qualname__ = opname
        method.__doc__ = f.__doc__
        method.__wrapped_operation__ = f  # type: ignore[attr-defined]
        setattr(Stream, opname, method)
        return f

    return register(func) if func is not None else register
