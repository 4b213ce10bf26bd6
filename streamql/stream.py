"""``Stream``: a lazy, immutable, re-runnable query over ordinary generator functions.

A Stream is a plan — a tuple of :class:`~streamql.plan.Step` — not an
iterator. Each chained method returns a new Stream sharing the earlier steps;
nothing is read until the Stream is iterated or a terminal (``sum``,
``count``…) runs it, and every run reads its sources afresh. Each method is a
short delegate to a plain function in a domain module (``files``, ``text``,
``apache``, ``records``, ``flow``, ``terminals``), usable on its own.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from . import (
    aggregates,
    apache,
    binary,
    files,
    flow,
    markup,
    records,
    terminals,
    text,
)
from .base import ENGINES, Explanation, Source, StreamBase, check_path
from .context import Errors
from .display_methods import DisplayMethods
from .engines import engine_named
from .errors import StreamError
from .expr import Expr, field_equals
from .live_methods import LiveMethods
from .plan import Step, render_value
from .routing_methods import RoutingMethods

__all__ = ["Stream", "operation", "Explanation"]

T = TypeVar("T")
U = TypeVar("U")
MISSING = terminals.MISSING


def _records(struct_format: str, source: Source) -> Iterator[Any]:
    return binary.records(struct_format, source.take("records"))


def _xml(source: Source, tag: str) -> Iterator[Any]:
    return markup.xml_elements(source.take("xml"), tag)


class Stream(LiveMethods[T], RoutingMethods[T], DisplayMethods[T], StreamBase[T]):
    """A lazy, re-runnable query: chain methods to build it, iterate or call a terminal to run it.

    >>> s = Stream(["GET /a 200 10", "GET /b 404 -", "GET /c 200 7"])
    >>> s.grep(" 200 ").field(-1).map(int).sum()
    17
    >>> s.grep(" 200 ").field(-1).map(int)
    Stream(['GET /a 200 10', 'GET /b 404 -', 'GET /c 200 7']).grep(' 200 ').field(-1).map(int)
    """

    __slots__ = ()

    # --------------------------------------------------------------- sources
    @classmethod
    def files(
        cls,
        pattern: str = "*",
        root: str | os.PathLike[str] = ".",
        *,
        follow_symlinks: bool = False,
    ) -> Stream[Any]:
        """Start from the files under ``root`` matching ``pattern``, recursively, as Paths.

        Sorted, each real file once, never outside root; see :func:`streamql.files.files`.

        >>> Stream.files("access-log*", "www")
        Stream.files('access-log*', 'www')
        """
        files._validate_pattern("files", pattern)
        check_path("files", root)
        kwargs = {"follow_symlinks": True} if follow_symlinks else {}
        shown = None
        if root == ".":
            shown = ", ".join([repr(pattern)] + [f"{k}=True" for k in kwargs])
        step = Step(
            "files", files.files, (pattern, root), tuple(kwargs.items()), source=True, shown=shown
        )
        return cls._of((step,))

    @classmethod
    def lines(
        cls,
        *paths: str | os.PathLike[str],
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
    ) -> Stream[str]:
        """Start from the lines of files: names, directories or globs (files+open+cat).

        Every run lists and opens the files afresh; one file is open at a time.

        >>> Stream.lines("www/*/access-log*")
        Stream.lines('www/*/access-log*')
        """
        if not paths:
            raise TypeError("lines: name at least one file, directory or glob")
        for p in paths:
            check_path("lines", p)
        kwargs = {}
        if encoding != "utf-8":
            kwargs["encoding"] = encoding
        if decode_errors != "backslashreplace":
            kwargs["decode_errors"] = decode_errors
        step = Step("lines", files.lines, paths, tuple(kwargs.items()), source=True, uses_ctx=True)
        return cls._of((step,))

    @classmethod
    def records(
        cls, struct_format: str, file_or_path: str | os.PathLike[str] | IO[bytes]
    ) -> Stream[tuple[Any, ...]]:
        """Start from fixed-size binary records unpacked with ``struct`` (tutorial part 10).

        >>> import io, struct
        >>> data = io.BytesIO(struct.pack("<ii", 1, 2) + struct.pack("<ii", 3, 4))
        >>> Stream.records("<ii", data).list()
        [(1, 2), (3, 4)]
        """
        binary.records(struct_format, file_or_path)  # checks the arguments now
        one_shot = not isinstance(file_or_path, (str, os.PathLike))
        source = Source(file_or_path, one_shot)
        step = Step("records", _records, (struct_format, source), source=True, one_shot=one_shot)
        return cls._of((step,))

    @classmethod
    def xml(cls, path_or_file: str | os.PathLike[str] | IO[bytes], tag: str) -> Stream[Any]:
        """Start from each ``tag`` element of a (large) XML file, in flat memory.

        >>> import io
        >>> doc = io.BytesIO(b"<log><hit ip='1'/><hit ip='2'/></log>")
        >>> Stream.xml(doc, "hit").map(lambda e: e.get("ip")).list()
        ['1', '2']
        """
        markup.xml_elements(path_or_file, tag)  # checks the arguments now; reads nothing
        one_shot = not isinstance(path_or_file, (str, os.PathLike))
        step = Step(
            "xml", _xml, (Source(path_or_file, one_shot), tag), source=True, one_shot=one_shot
        )
        return cls._of((step,))

    # ----------------------------------------------------------- transforms
    def open(
        self,
        *,
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        errors: str = "raise",
    ) -> Stream[Any]:
        """Open each path as a text file (plain, gzip, bzip2, xz: told by content).

        Each file is closed as soon as the next is asked for, or the run ends.

        >>> Stream.files("*.log", "logs").open().cat()
        Stream.files('*.log', 'logs').open().cat()
        """
        kwargs: dict[str, Any] = {}
        if encoding != "utf-8":
            kwargs["encoding"] = encoding
        if decode_errors != "backslashreplace":
            kwargs["decode_errors"] = decode_errors
        if errors != "raise":
            kwargs["errors"] = errors
        return self._then(
            "open", files.open_files, uses_ctx=True, rowwise=False, pure=False, **kwargs
        )

    def cat(self) -> Stream[Any]:
        """Chain the lines of each file (or items of each iterable) into one stream.

        >>> Stream([["a", "b"], ["c"]]).cat().list()
        ['a', 'b', 'c']
        """
        return self._then("cat", files.cat, uses_ctx=True, rowwise=False)

    def grep(
        self, pattern: str | Any, *, invert: bool = False, ignore_case: bool = False
    ) -> Stream[T]:
        """Keep the lines where the regular expression ``pattern`` is found.

        >>> Stream(["GET /ply/", "GET /"]).grep("ply").list()
        ['GET /ply/']
        """
        kwargs = {k: v for k, v in (("invert", invert), ("ignore_case", ignore_case)) if v}
        return self._then("grep", text.grep, pattern, **kwargs)

    def field(self, n: int, *, sep: str | None = None, errors: Errors = "skip") -> Stream[str]:
        """Take the ``n``-th whitespace-separated column of each line (negative: from the end).

        A line with too few columns is a reject (see ``errors``).

        >>> Stream(['1.2.3.4 - - "GET / HTTP/1.0" 200 4447']).field(-1).list()
        ['4447']
        """
        kwargs: dict[str, Any] = {}
        if sep is not None:
            kwargs["sep"] = sep
        if errors != "skip":
            kwargs["errors"] = errors
        return self._then("field", text.field, n, uses_ctx=True, rejects=True, **kwargs)

    def map(self, func: Callable[[T], U]) -> Stream[U]:
        """Apply ``func`` to each item.

        >>> Stream(["1", "2"]).map(int).list()
        [1, 2]
        """
        return self._then("map", flow.map_items, func)

    def where(self, *conditions: Callable[[Any], Any] | Expr, **equalities: Any) -> Stream[T]:
        """Keep the items that pass every condition.

        A condition is a function of the item or an ``F`` expression;
        keywords test fields for equality (``where(status=404)``).

        >>> from streamql import F
        >>> rows = Stream([{"status": 404, "bytes": 5}, {"status": 200, "bytes": 9}])
        >>> rows.where(status=404).count(), rows.where(F.bytes > 6).count()
        (1, 1)
        """
        if not conditions and not equalities:
            raise TypeError("where: give a condition or field=value")
        parts: list[Any] = list(conditions)
        if equalities:
            parts.append(field_equals(equalities))
        exprs = [p for p in parts if isinstance(p, Expr)]
        if len(parts) == 1:
            condition = parts[0]
        elif len(exprs) == len(parts):
            condition = exprs[0]
            for e in exprs[1:]:
                condition = condition & e
        else:
            tests = [records.predicate("where", p) for p in parts]

            def condition(item: Any) -> bool:
                return all(test(item) for test in tests)

        shown = ", ".join(
            [render_value(c) for c in conditions] + [f"{k}={v!r}" for k, v in equalities.items()]
        )
        fields_read = condition.fields() if isinstance(condition, Expr) else None
        return self._then("where", records.where, condition, shown=shown, fields_read=fields_read)

    def select(self, *fields: str) -> Stream[dict[str, Any]]:
        """Keep only the named fields of each record.

        >>> Stream([{"host": "h", "bytes": 5, "status": 200}]).select("host", "bytes").list()
        [{'host': 'h', 'bytes': 5}]
        """
        return self._then(
            "select",
            records.select,
            fields,
            shown=", ".join(map(repr, fields)),
            fields_read=frozenset(fields),
        )

    def convert(
        self,
        conversions: dict[str, Callable[[Any], Any]] | None = None,
        /,
        *,
        errors: Errors = "raise",
        **fields: Callable[[Any], Any],
    ) -> Stream[Any]:
        """Map fields of each record through functions, into new records (the tutorial's field_map).

        >>> Stream([{"status": "404"}]).convert(status=int).list()
        [{'status': 404}]
        """
        merged = {**(conversions or {}), **fields}
        shown = ", ".join(f"{k}={render_value(v)}" for k, v in merged.items())
        if errors != "raise":
            shown += f", errors={errors!r}"
        return self._then(
            "convert",
            records.convert,
            merged,
            uses_ctx=True,
            rejects=errors != "raise",
            shown=shown,
            errors=errors,
        )

    def parse_apache(self, format: str = "auto", *, errors: Errors = "skip") -> Stream[Any]:
        """Parse Apache common/combined log lines into dict records.

        Lines that do not parse are skipped and counted (``errors="skip"``),
        raise :class:`~streamql.ParseError` (``"raise"``) or are kept as reject
        records (``"keep"``); query them with ``.rejects``.

        >>> line = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /x HTTP/1.1" 404 133'
        >>> Stream([line]).parse_apache().first()["status"]
        404
        """
        args = (format,) if format != "auto" else ()
        kwargs = {"errors": errors} if errors != "skip" else {}
        return self._then(
            "parse_apache", _parse_apache, *args, uses_ctx=True, rejects=True, **kwargs
        )

    def take(self, n: int) -> Stream[T]:
        """Keep the first ``n`` items, then stop reading (ends an infinite stream).

        >>> import itertools
        >>> Stream(itertools.count()).take(3).list()
        [0, 1, 2]
        """
        return self._then("take", flow.take_n, n, rowwise=False)

    def skip(self, n: int) -> Stream[T]:
        """Drop the first ``n`` items.

        >>> Stream(["a", "b", "c"]).skip(1).list()
        ['b', 'c']
        """
        return self._then("skip", flow.skip_n, n, rowwise=False)

    def distinct(self, field: str | int | Callable[[Any], Any] | None = None) -> Stream[T]:
        """Keep the first item of each distinct value (or field value).

        >>> Stream([3, 1, 3, 2, 1]).distinct().list()
        [3, 1, 2]
        """
        args = (field,) if field is not None else ()
        return self._then("distinct", _distinct, *args, rowwise=False)

    def trace(self, label: str | None = None, *, file: IO[str] | None = None) -> Stream[T]:
        """Print each item as it passes (the tutorial's trace), to stdout or ``file``.

        >>> Stream([1, 2]).trace("in").map(str).list()
        in: 1
        in: 2
        ['1', '2']
        """
        args = (label,) if label is not None else ()
        kwargs: dict[str, Any] = {"file": file} if file is not None else {}
        return self._then("trace", _trace, *args, pure=False, **kwargs)

    def tap(self, func: Callable[[T], Any]) -> Stream[T]:
        """Call ``func`` on each item for its side effect; items pass unchanged.

        >>> seen = []
        >>> Stream([1, 2]).tap(seen.append).count(), seen
        (2, [1, 2])
        """
        return self._then("tap", flow.tap, func, pure=False)

    def storelast(self) -> Stream[T]:
        """Remember the last item that passed this point; read it as ``.last``.

        The tutorial's storelast: keep a handle on the raw lines while
        iterating the parsed records.

        >>> lines = Stream(["a 1", "b 2"]).storelast()
        >>> [(col, lines.last) for col in lines.field(1)]
        [('1', 'a 1'), ('2', 'b 2')]
        """
        return self._then("storelast", flow.storelast, flow.LastSeen(), pure=False, shown="")

    @property
    def last(self) -> Any:
        """The last item the latest ``storelast()`` step of this query passed on.

        >>> raw = Stream(["a", "b"]).storelast()
        >>> raw.map(str.upper).list(), raw.last
        (['A', 'B'], 'b')
        """
        for step in reversed(self._steps):
            if step.name == "storelast":
                return step.args[0].item
        raise AttributeError("last: this Stream has no storelast() step")

    def with_origin(self, key: str = "origin") -> Stream[Any]:
        """Attach where each item came from (file and line) for tracing a hit back.

        Dict records get a new ``key`` field; other items become ``(item, origin)``.

        >>> Stream(["a", "b"]).with_origin().list()[1]
        ('b', Origin(file=None, lineno=2))
        """
        kwargs = {"key": key} if key != "origin" else {}
        if not isinstance(key, str):
            raise TypeError(f"with_origin: key must be a str, got {key!r}")
        step = Step(
            "with_origin",
            records.with_origin,
            (),
            tuple(kwargs.items()),
            uses_ctx=True,
            needs_origin=True,
        )
        return self._add(step)

    def apply(self, func: Callable[..., Iterable[Any]], *args: Any, **kwargs: Any) -> Stream[Any]:
        """Add any generator function as a step: called ``func(*args, items, **kwargs)``.

        The one entry point for your own stages (see also :func:`operation`).

        >>> def pairs(items):
        ...     it = iter(items)
        ...     return zip(it, it)
        >>> Stream([1, 2, 3, 4]).apply(pairs).list()
        [(1, 2), (3, 4)]
        """
        if not callable(func):
            raise TypeError(f"apply: func must be callable, got {func!r}")
        shown = ", ".join(
            [render_value(func)]
            + [render_value(a) for a in args]
            + [f"{k}={render_value(v)}" for k, v in kwargs.items()]
        )
        step = Step(
            "apply", func, args, tuple(kwargs.items()), rowwise=False, pure=False, shown=shown
        )
        return self._add(step)

    # -------------------------------------------------------------- terminals
    def _answer(
        self,
        engine: str | None,
        consume: Callable[[Iterator[Any]], Any],
        agg: Callable[[], aggregates.Aggregate],
    ) -> Any:
        """Run a terminal with the default engine, or with the engine registered by that name."""
        name = engine or self._settings.engine
        chosen = engine_named(name)
        if name == "default":  # its own path still runs the terminal's consume (and progress)
            return self._run(consume, agg)
        return chosen.run(self._plan(), agg(), self._settings, self.last_run)

    def _extreme(
        self,
        engine: str | None,
        consume: Callable[[Iterator[Any]], Any],
        agg: Callable[[], aggregates.Aggregate],
        default: Any,
        stage: str,
    ) -> Any:
        if (engine or self._settings.engine) not in ("processes", "dask"):
            return self._answer(engine, consume, agg)

        def telling() -> aggregates.Aggregate:  # an empty stream's answer is EMPTY, not None
            extreme = agg()
            extreme.empty = aggregates.EMPTY  # type: ignore[attr-defined]
            return extreme

        found = self._answer(engine, consume, telling)
        if found is not aggregates.EMPTY:
            return found
        if default is MISSING:
            raise StreamError(
                f"{stage}: the stream is empty\n\nPass default= to get a value instead."
            )
        return default

    def list(self, *, engine: str | None = None) -> builtins.list[T]:
        """Run the query and return its items as a list.

        ``engine="processes"`` (on every terminal below) runs a query over
        files in worker processes, one part of the files each, and merges the
        parts' answers in order: see :mod:`streamql.parallel`. ``engine="dask"``
        runs the same parts as Dask tasks (:mod:`streamql.dask_engine`).

        >>> Stream([1, 2]).list()
        [1, 2]
        """
        items: builtins.list[T] = self._answer(engine, builtins.list, aggregates.Collect)
        return items

    def count(self, *, engine: str | None = None) -> int:
        """Run the query and count its items.

        >>> Stream(["a", "b"]).count()
        2
        """
        n: int = self._answer(engine, terminals.count, aggregates.Count)
        return n

    def sum(self, field: str | int | None = None, *, engine: str | None = None) -> Any:
        """Run the query and add up its items, or a field of each record.

        >>> Stream([{"bytes": 3}, {"bytes": 4}]).sum("bytes")
        7
        """
        return self._answer(
            engine, lambda it: terminals.total(it, field), lambda: aggregates.Sum(field)
        )

    def min(
        self,
        field: str | int | None = None,
        *,
        key: Any = None,
        default: Any = MISSING,
        engine: str | None = None,
    ) -> Any:
        """Run the query and return the smallest item, field value, or item by ``key``.

        >>> Stream([{"bytes": 3}, {"bytes": 4}]).min("bytes")
        3
        """
        return self._extreme(
            engine,
            lambda it: terminals.smallest(it, field, key=key, default=default),
            lambda: aggregates.Min(field, key=key),
            default,
            "min",
        )

    def max(
        self,
        field: str | int | None = None,
        *,
        key: Any = None,
        default: Any = MISSING,
        engine: str | None = None,
    ) -> Any:
        """Run the query and return the largest item, field value, or item by ``key``.

        >>> rows = Stream([{"bytes": 3, "request": "/a"}, {"bytes": 9, "request": "/b"}])
        >>> rows.max("bytes"), rows.max(key="bytes")["request"]
        (9, '/b')
        """
        return self._extreme(
            engine,
            lambda it: terminals.largest(it, field, key=key, default=default),
            lambda: aggregates.Max(field, key=key),
            default,
            "max",
        )

    def set(
        self, field: str | int | None = None, *, engine: str | None = None
    ) -> builtins.set[Any]:
        """Run the query and collect the distinct items (or field values).

        >>> sorted(Stream([{"host": "a"}, {"host": "a"}, {"host": "b"}]).set("host"))
        ['a', 'b']
        """
        result: builtins.set[Any] = self._answer(
            engine,
            lambda it: terminals.distinct_set(it, field),
            lambda: aggregates.Distinct(field),
        )
        return result

    def first(self, default: Any = MISSING, *, engine: str | None = None) -> T:
        """Run the query only as far as its first item and return it.

        It reads one item, so it always runs in this process, whatever ``engine``.

        >>> import itertools
        >>> Stream(itertools.count(5)).first()
        5
        """
        if engine is not None and engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        result: T = self._run(lambda it: terminals.first(it, default))
        return result

    def top(
        self,
        n: int,
        by: str | int | Callable[[Any], Any] | None = None,
        *,
        engine: str | None = None,
    ) -> builtins.list[T]:
        """Run the query and return the ``n`` largest items by a field or key, largest first.

        >>> Stream([{"b": 1}, {"b": 9}, {"b": 5}]).top(2, "b")
        [{'b': 9}, {'b': 5}]
        """
        result: builtins.list[T] = self._answer(
            engine,
            lambda it: terminals.top(n, it, by),
            lambda: aggregates.Top(n, by),
        )
        return result

    def count_by(
        self, field: str | int | Callable[[Any], Any], *, engine: str | None = None
    ) -> dict[Any, int]:
        """Run the query and count items per value of a field, most common first.

        >>> Stream([{"s": 200}, {"s": 404}, {"s": 404}]).count_by("s")
        {404: 2, 200: 1}
        """
        result: dict[Any, int] = self._answer(
            engine,
            lambda it: terminals.count_by(field, it),
            lambda: aggregates.CountBy(field),
        )
        return result

    def group_by(
        self,
        field: str | int | Callable[[Any], Any],
        *,
        agg: Callable[[builtins.list[Any]], Any] | None = None,
        engine: str | None = None,
    ) -> dict[Any, Any]:
        """Run the query and group items by a field: value -> list (or ``agg(list)``).

        >>> Stream([{"h": "a", "b": 1}, {"h": "a", "b": 2}]).group_by("h", agg=len)
        {'a': 2}
        """
        if agg is not None and not callable(agg):
            raise TypeError(f"group_by: agg must be a function of a list, got {agg!r}")
        groups: dict[Any, Any] = self._answer(
            engine, lambda it: terminals.group_by(field, it), lambda: aggregates.GroupBy(field)
        )
        return groups if agg is None else {k: agg(v) for k, v in groups.items()}

    def aggregate(
        self, *one: aggregates.Aggregate, engine: str | None = None, **named: aggregates.Aggregate
    ) -> Any:
        """Run the query once and compute aggregations: one, or many by name.

        Every aggregation sees each item in the same pass, so several answers
        cost one read of the data (see :mod:`streamql.aggregates`).

        >>> from streamql import F
        >>> from streamql.aggregates import Count, Sum, CountBy
        >>> rows = Stream([{"s": 404, "b": 5, "h": "a"}, {"s": 200, "b": 7, "h": "b"}])
        >>> rows.aggregate(missing=Count(where=F.s == 404), total=Sum("b"), hosts=CountBy("h"))
        {'missing': 1, 'total': 12, 'hosts': {'a': 1, 'b': 1}}
        >>> rows.aggregate(Sum("b"))
        12
        """
        if (one and named) or len(one) > 1:
            raise TypeError("aggregate: give one aggregation, or several by name=")
        target: Any = one[0] if one else aggregates.Many(named)
        aggregates._check(target)
        return self._answer(engine, lambda it: aggregates.run(target, it), lambda: target)

    def write(self, path_or_file: str | os.PathLike[str] | IO[str]) -> int:
        """Run the query, writing each item to a file (atomically to a path); return the count.

        >>> import io
        >>> out = io.StringIO()
        >>> Stream(["a\\n", "b\\n"]).write(out), out.getvalue()
        (2, 'a\\nb\\n')
        """
        return self._run(lambda it: terminals.write(path_or_file, it))


def _items_first(func: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Adapt ``func(items, *config)`` to the step call order ``(*config, items)``."""

    def step(*args: Any, **kwargs: Any) -> Iterator[Any]:
        *config, items = args
        return func(items, *config, **kwargs)

    step.__name__ = step.__qualname__ = func.__name__
    return step


def _parse_apache(*args: Any, **kwargs: Any) -> Iterator[Any]:
    return _items_first(apache.parse_apache)(*args, **kwargs)


_distinct = _items_first(flow.distinct)
_trace = _items_first(flow.trace)


def operation(func: Callable[..., Iterable[Any]] | None = None, *, name: str | None = None) -> Any:
    """Register a generator function as a chainable Stream method.

    The function takes its arguments first and the items last, like every
    streamql operation; the method passes them on. Returns the function
    unchanged, so it stays usable on its own.

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
