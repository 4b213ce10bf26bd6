"""Operations on dict records: where, select, convert, with_origin."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from ..core.context import Errors, Reject, RunContext, check_errors
from ..core.errors import FieldError, add_note
from ..core.expr import Expr

__all__ = ["where", "select", "convert", "with_origin", "Origin", "predicate", "as_dict"]


def as_dict(item: Any) -> dict[str, Any]:
    """Turn an item into a record: dicts stay, named tuples give their fields, else ``value``.

    >>> from typing import NamedTuple
    >>> Point = NamedTuple("Point", [("x", int), ("y", int)])
    >>> as_dict({"a": 1}), as_dict(Point(1, 2)), as_dict(5)
    ({'a': 1}, {'x': 1, 'y': 2}, {'value': 5})
    """
    if isinstance(item, Mapping):
        return dict(item)
    if isinstance(item, tuple) and hasattr(item, "_asdict"):
        return dict(item._asdict())
    return {"value": item}


def predicate(stage: str, condition: object) -> Callable[[Any], Any]:
    """Turn a callable or an expression into a one-argument test."""
    if isinstance(condition, Expr):
        return condition.compile(stage)
    if callable(condition):
        return condition
    raise TypeError(
        f"{stage}: condition must be a callable or an F expression, got {condition!r}\n\n"
        "Compare fields with keywords (where(status=404)) or F (where(F.bytes > 1000))."
    )


def where(condition: Callable[[Any], Any] | Expr, items: Iterable[Any]) -> Iterator[Any]:
    """Keep the items for which ``condition`` is true.

    ``condition`` is a function of the item or an ``F`` expression over dict
    records. Lazy; constant memory.

    >>> from streamql.core.expr import F
    >>> list(where(F.status == 404, [{"status": 200}, {"status": 404}]))
    [{'status': 404}]
    >>> list(where(lambda x: x != "-", ["12", "-", "7"]))
    ['12', '7']
    """
    return filter(predicate("where", condition), items)


def _check_fields(stage: str, fields: tuple[Any, ...]) -> None:
    if not fields:
        raise TypeError(f"{stage}: name at least one field")
    for f in fields:
        if not isinstance(f, (str, int)):
            raise TypeError(f"{stage}: field names must be str (or int), got {f!r}")


def select(fields: tuple[str, ...], items: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Keep only the named fields of each record, in the order given.

    Lazy; constant memory. A record without one of them raises
    :class:`~streamql.core.errors.FieldError`.

    >>> list(select(("host", "bytes"), [{"host": "h", "status": 200, "bytes": 5}]))
    [{'host': 'h', 'bytes': 5}]
    """
    _check_fields("select", fields)

    def run() -> Iterator[dict[str, Any]]:
        record: Mapping[str, Any] = {}
        try:
            for record in items:
                yield {f: record[f] for f in fields}
        except KeyError as exc:
            raise FieldError("select", exc.args[0], record) from None

    return run()


def convert(
    conversions: Mapping[str, Callable[[Any], Any]],
    items: Iterable[Mapping[str, Any]],
    *,
    errors: Errors = "raise",
    ctx: RunContext | None = None,
) -> Iterator[dict[str, Any] | Reject]:
    """Map fields of each record through functions, into a new record.

    The tutorial's ``field_map``, without changing the input records. When a
    function raises, ``errors="raise"`` lets its exception through (with a note
    naming the field and value), ``"skip"`` counts the record as a reject and
    ``"keep"`` yields the reject record. Lazy; constant memory.

    >>> rows = [{"status": "200", "bytes": "-"}]
    >>> list(convert({"status": int, "bytes": lambda s: 0 if s == "-" else int(s)}, rows))
    [{'status': 200, 'bytes': 0}]
    """
    if not conversions:
        raise TypeError("convert: name at least one field=function")
    for name, func in conversions.items():
        if not callable(func):
            raise TypeError(f"convert: {name}= must be a function, got {func!r}")
    policy = check_errors("convert", errors)
    pairs = tuple(conversions.items())

    def run() -> Iterator[dict[str, Any] | Reject]:
        own = ctx or RunContext()
        it = iter(items)
        while True:
            name = ""
            record: Mapping[str, Any] = {}
            try:
                for record in it:
                    new = dict(record)
                    for name, func in pairs:
                        new[name] = func(new[name])
                    yield new
                break
            except KeyError as exc:
                if name not in record:
                    raise FieldError("convert", name, record) from None
                if policy == "raise":
                    raise
                kept = own.bad(policy, "convert", f"{name}: {type(exc).__name__}", record)
            except Exception as exc:
                if policy == "raise":
                    add_note(exc, f"convert: while converting {name}={record.get(name)!r}")
                    raise
                kept = own.bad(policy, "convert", f"{name}: {type(exc).__name__}", record)
            if kept is not None:
                yield kept
        if ctx is None:
            own.warn()

    return run()


class Origin(NamedTuple):
    """Where an item came from: file (None for in-memory data) and 1-based line."""

    file: str | None
    lineno: int | None

    def __str__(self) -> str:
        if self.file is None:
            return f"item {self.lineno}"
        return f"{self.file}:{self.lineno}"


def with_origin(items: Iterable[Any], *, key: str = "origin", ctx: RunContext) -> Iterator[Any]:
    """Attach each item's origin: a new dict with ``key`` set, else ``(item, origin)``.

    Lazy; constant memory. Needs the run context, so it is used through
    ``Stream.with_origin()``.

    >>> ctx = RunContext()
    >>> from streamql.ops.files import items as numbered
    >>> list(with_origin(numbered(["a", "b"], ctx=ctx), ctx=ctx))
    [('a', Origin(file=None, lineno=1)), ('b', Origin(file=None, lineno=2))]
    """
    origin = ctx.origin
    for item in items:
        here = Origin(*origin())
        if isinstance(item, dict):
            new = dict(item)
            new[key] = here
            yield new
        else:
            yield item, here
