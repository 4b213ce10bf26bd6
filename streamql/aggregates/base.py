"""The aggregation protocol: start, fold many values, merge two states, finish.

Every terminal of a Stream is an aggregation, and so is every answer of
``Stream.aggregate`` and of a window. An aggregation folds values in bulk:
``fold(state, values)`` takes an iterator of field values (or a block's
column, which the planner cuts without building records) in one call, so the
per-item loop runs in C where the kind allows. ``add_all`` applies the
aggregation's own field and ``where`` to whole items and then folds;
``add`` does the same for one item. Partial states of parts of the stream
merge, in order, with ``merge``; ``finish`` reads the answer and leaves the
state usable.

What an aggregation reads of each item is declared by :attr:`Aggregate.reads`,
and the planner decides from it alone whether the aggregation can be folded
from columns (see :mod:`streamql.planner.optimize`):

- ``Reads("count")``: nothing but that an item is there (``Count()``);
- ``Reads("field", name)``: one field's value (``Sum("bytes")``);
- ``Reads("key", name)``: one field as the key of whole items it answers with
  (``Max(key="bytes")``, ``Top(3, by="bytes")``): such an aggregation also
  takes ``fold_keyed(state, keys, item_at)``, and only the items it keeps are
  built;
- ``Reads("columns", fields=names)``: several fields, or an ``F`` expression
  of them (``Sum(F.bytes / 1024)``, ``count_by("host", "status")``,
  ``Grouped``): such an aggregation also takes ``fold_columns(state, columns)``,
  the columns in the order of ``fields``. Only a consumer that folds several
  columns asks for this kind (``reads_of(agg, kinds=...)``);
- ``None``: anything else (a function as field or key, a function as ``where``).

A field may be a name, an index, a function, or an ``F`` expression
(``Max(F.bytes / 1024)``); a plain ``F.bytes`` reads like ``"bytes"``.

To write an aggregation, subclass :class:`Aggregate` and define ``start``,
``merge`` and ``finish``, and ``step`` (one value into the state) or, faster,
``fold`` (many).

>>> class Longest(Aggregate):
...     name = "longest"
...     def start(self): return ""
...     def step(self, state, value): return value if len(value) > len(state) else state
...     def merge(self, a, b): return self.step(a, b)
>>> Longest().finish(Longest().add_all("", ["ab", "abc", "x"]))
'abc'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from ..core.errors import FieldError
from ..core.expr import Expr, Field, key_function

__all__ = ["Aggregate", "Reads", "Many", "EMPTY", "KINDS", "Where", "check", "run", "reads_of"]
__all__ += ["expr_reads", "field_label", "value_getter"]

Where = Callable[[Any], Any] | Expr | None
"""An aggregation's ``where``: a function of the item, an ``F`` expression, or None."""


class _Empty:
    """The state of min, max, first and last before any item: one object, even pickled."""

    def __repr__(self) -> str:
        return "EMPTY"

    def __reduce__(self) -> str:
        return "EMPTY"  # pickled by name: unpickles as this module's EMPTY


EMPTY: Any = _Empty()


class Reads(NamedTuple):
    """What an aggregation reads of each item: ``kind`` (count, field, key, columns), its fields."""

    kind: str
    field: str | None = None
    fields: tuple[str, ...] = ()  # the columns of kind 'columns'

    def __repr__(self) -> str:
        more = f", fields={self.fields!r}" if self.fields else ""
        return f"Reads(kind={self.kind!r}, field={self.field!r}{more})"


KINDS = ("count", "field", "key")
"""The kinds of :class:`Reads` a consumer that folds one column at a time takes."""


def value_getter(stage: str, field: Any) -> Callable[[Any], Any] | None:
    """A function of an item giving its ``field``: a name, an index, a function or an expression.

    >>> from streamql.core.expr import F
    >>> value_getter("sum", F.bytes // 1024)({"bytes": 4096}), value_getter("sum", None)
    (4, None)
    """
    if isinstance(field, Field):
        return itemgetter(field.name)  # as fast as the name
    if isinstance(field, Expr):
        return field.compile(stage)
    if isinstance(field, tuple):
        if not field:
            raise TypeError(f"{stage}: name at least one field")
        getters = [value_getter(stage, f) for f in field]
        if all(isinstance(f, (str, int)) for f in field):
            return itemgetter(*field) if len(field) > 1 else lambda item: (item[field[0]],)
        return lambda item: tuple(get(item) for get in getters)  # type: ignore[misc]
    return key_function(stage, field)


def field_label(field: Any) -> str:
    """A column name for a field: its name, an expression's label, ``value`` for a function."""
    if isinstance(field, str):
        return field
    return field.label() if isinstance(field, Expr) else "value"


def expr_reads(field: Any) -> Reads | None:
    """What reading ``field`` takes: a column for a name or F.name, columns for an expression."""
    if isinstance(field, Field):
        return Reads("field", field.name)
    if isinstance(field, str):
        return Reads("field", field)
    if isinstance(field, Expr):
        return Reads("columns", None, tuple(sorted(field.fields())))
    return None


class Aggregate:
    """Base of all aggregations: a field (or key function) and an optional condition.

    ``field`` picks the value of each item that is folded (a name, an index or
    a function; None: the item itself); ``where`` (a function or an ``F``
    expression) keeps only the items passing it.
    """

    name = "aggregate"

    def __init__(
        self, field: Any = None, *, where: Callable[[Any], Any] | Expr | None = None
    ) -> None:
        self.field = field
        self.get = value_getter(self.name, field)
        self.where = where
        if isinstance(where, Expr):
            self.test: Callable[[Any], Any] | None = where.compile(self.name)
        elif where is None or callable(where):
            self.test = where
        else:
            raise TypeError(
                f"{self.name}: where must be a function or an F expression, got {where!r}"
            )

    # -- what a kind defines -------------------------------------------------------
    def start(self) -> Any:
        """Return the state before any item."""
        raise NotImplementedError

    def step(self, state: Any, value: Any) -> Any:
        """Fold one value into the state (define this or :meth:`fold`)."""
        raise NotImplementedError(f"{type(self).__name__} defines neither step nor fold")

    def fold(self, state: Any, values: Iterable[Any]) -> Any:
        """Fold many values in (``where`` and field already applied); return the new state.

        >>> from streamql.aggregates import Sum
        >>> Sum().fold(1, [2, 3])
        6
        """
        step = self.step
        for value in values:
            state = step(state, value)
        return state

    def merge(self, a: Any, b: Any) -> Any:
        """Combine the states of two consecutive parts of a stream, in order."""
        raise NotImplementedError

    def finish(self, state: Any) -> Any:
        """Read the answer from a state (the state stays usable)."""
        return state

    # -- derived: written once, here -----------------------------------------------
    @property
    def reads(self) -> Reads | None:
        """What this aggregation reads of each item, for the planner (None: not declared).

        >>> from streamql.aggregates import Count, Sum, Max
        >>> Count().reads, Sum("bytes").reads, Max(key="bytes").reads, Sum(len).reads
        (Reads(kind='count', field=None), Reads(kind='field', field='bytes'), \
Reads(kind='key', field='bytes'), None)
        """
        if self.test is not None and not isinstance(self.where, Expr):
            return None
        return expr_reads(self.field)

    def fold_columns(self, state: Any, columns: Sequence[Sequence[Any]]) -> Any:
        """Fold a block's columns (those of ``reads.fields``, in order): an expression's values.

        >>> from streamql.aggregates import Sum
        >>> from streamql.core.expr import F
        >>> agg = Sum(F.bytes // 1024)
        >>> agg.reads.fields, agg.fold_columns(0, [[2048, 1024, 10]])
        (('bytes',), 3)
        """
        reads = self.reads
        if reads is None or not isinstance(self.field, Expr):
            raise TypeError(f"{self.name}: {self!r} does not read columns")
        values = self.__dict__.get("_values")
        if values is None:
            values = self._values = self.field.compile_values(reads.fields)
        return self.fold(state, values(*columns))

    def add_all(self, state: Any, items: Iterable[Any]) -> Any:
        """Fold every item in: its field, if it passes ``where``.

        >>> from streamql.aggregates import Count, Sum
        >>> Sum("b").add_all(0, [{"b": 2}, {"b": 3}]), Count().add_all(1, iter("ab"))
        (5, 3)
        """
        if self.test is not None:
            items = filter(self.test, items)
        try:
            return self.fold(state, items if self.get is None else map(self.get, items))
        except KeyError as exc:
            raise self._missing(exc) from None

    def add(self, state: Any, item: Any) -> Any:
        """Fold one item in (windows and live views add as items arrive)."""
        return self.add_all(state, (item,))

    def fields_read(self) -> frozenset[str]:
        """The record fields this aggregation reads (its ``where``'s apart), by name.

        >>> from streamql.aggregates import Max, CountBy
        >>> sorted(Max(key="bytes").fields_read()), sorted(CountBy(("h", "s")).fields_read())
        (['bytes'], ['h', 's'])
        """
        return _names(self.field)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_values", None)  # compiled on first use, in each process
        return state

    def _missing(self, exc: KeyError) -> BaseException:
        """A record without a field the aggregation reads: say which, not a bare KeyError."""
        if isinstance(exc, FieldError) or len(exc.args) != 1:
            return exc
        name = exc.args[0]
        if not isinstance(name, str) or name not in self.fields_read():
            return exc
        return FieldError(self.name, name)

    def __repr__(self) -> str:
        args = [] if self.field is None else [repr(self.field)]
        args += self._extra()
        if self.where is not None:
            args.append(f"where={self.where!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def _extra(self) -> list[str]:
        return []


class Many(Aggregate):
    """Several aggregations by name, as one: each sees every item; answers come as a dict.

    >>> from streamql.aggregates import Count, Sum
    >>> run(Many({"n": Count(), "total": Sum()}), [1, 2, 3])
    {'n': 3, 'total': 6}
    """

    name = "aggregate"

    def __init__(self, aggs: Mapping[str, Aggregate]) -> None:
        check(aggs)
        super().__init__()
        self.aggs = dict(aggs)

    @property
    def reads(self) -> Reads | None:
        """Many has no one input: the planner asks each part (:func:`reads_of`)."""
        return None

    def start(self) -> dict[str, Any]:
        return {name: agg.start() for name, agg in self.aggs.items()}

    def add_all(self, state: dict[str, Any], items: Iterable[Any]) -> dict[str, Any]:
        parts = [(name, agg.add) for name, agg in self.aggs.items()]
        for item in items:
            for name, add in parts:
                state[name] = add(state[name], item)
        return state

    def fold(self, state: dict[str, Any], values: Iterable[Any]) -> dict[str, Any]:
        return self.add_all(state, values)

    def merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {name: agg.merge(a[name], b[name]) for name, agg in self.aggs.items()}

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        return {name: agg.finish(state[name]) for name, agg in self.aggs.items()}

    def __repr__(self) -> str:
        return f"Many({self.aggs!r})"


def _names(field: Any) -> frozenset[str]:
    """The field names in a field argument: a name, an expression, a tuple of them, or none."""
    names = field if isinstance(field, tuple) else (field,)
    found = {f for f in names if isinstance(f, str)}
    return frozenset(found.union(*(f.fields() for f in names if isinstance(f, Expr))))


def reads_of(
    agg: Aggregate, kinds: Sequence[str] = KINDS
) -> list[tuple[str | None, Aggregate, Reads]] | None:
    """The parts of ``agg`` with what each reads, if each declares one of ``kinds`` (else None).

    A consumer names the kinds it can fold; one that folds several columns
    adds ``"columns"``.

    >>> from streamql.aggregates import Count, Sum
    >>> [(name, r.kind) for name, _, r in reads_of(Many({"n": Count(), "b": Sum("b")}))]
    [('n', 'count'), ('b', 'field')]
    """
    parts: Sequence[tuple[str | None, Aggregate]] = (
        list(agg.aggs.items()) if isinstance(agg, Many) else [(None, agg)]
    )
    out = []
    for name, part in parts:
        reads = part.reads
        if reads is None or reads.kind not in kinds:
            return None
        out.append((name, part, reads))
    return out


def check(aggs: Mapping[str, Aggregate] | Aggregate) -> None:
    """Refuse anything but aggregations, naming what was given."""
    items = [aggs] if isinstance(aggs, Aggregate) else list(aggs.values())
    if not items:
        raise TypeError("aggregate: name at least one aggregation")
    for agg in items:
        if not isinstance(agg, Aggregate):
            raise TypeError(
                f"aggregate: expected aggregations such as Count() or Sum('bytes'), got {agg!r}"
            )


def run(aggs: Mapping[str, Aggregate] | Aggregate, items: Iterable[Any]) -> Any:
    """Compute one aggregation, or a dict of them, in one pass over ``items``.

    The plain-function face of every terminal. Terminal; memory as the aggregations need.

    >>> from streamql.aggregates import Count
    >>> run({"n": Count(), "big": Count(where=lambda x: x > 5)}, range(10))
    {'n': 10, 'big': 4}
    """
    agg = aggs if isinstance(aggs, Aggregate) else Many(aggs)
    check(agg)
    return agg.finish(agg.add_all(agg.start(), items))
