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
    blocks,
    files,
    flow,
    markup,
    records,
    text,
    writers,
)
from .aggregates import EMPTY
from .apache_schema import schema_for
from .base import ENGINES, MISSING, Explanation, Source, StreamBase, check_path
from .context import Errors
from .display_methods import DisplayMethods
from .errors import StreamError
from .expr import Expr, field_equals
from .files import MAX_LINE
from .live_methods import LiveMethods
from .plan import Step, render_value
from .records import Origin
from .routing_methods import RoutingMethods
from .schema import Field as SchemaField

__all__ = ["Stream", "operation", "Explanation"]

T = TypeVar("T")
U = TypeVar("U")


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
            "files",
            files.files,
            (pattern, root),
            tuple(kwargs.items()),
            source=True,
            shown=shown,
            uses_ctx=True,  # symlinks that leave root are counted rejects of the run
        )
        return cls._of((step,))

    @classmethod
    def lines(
        cls,
        *paths: str | os.PathLike[str],
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        max_line: int | None = MAX_LINE,
    ) -> Stream[str]:
        """Start from the lines of files: names, directories or globs (files+open+cat).

        Every run lists and opens the files afresh; one file is open at a time.
        A line over ``max_line`` characters is a counted reject (None: no cap).

        >>> Stream.lines("www/*/access-log*")
        Stream.lines('www/*/access-log*')
        """
        if not paths:
            raise TypeError("lines: name at least one file, directory or glob")
        for p in paths:
            check_path("lines", p)
        kwargs: dict[str, Any] = {}
        if encoding != "utf-8":
            kwargs["encoding"] = encoding
        if decode_errors != "backslashreplace":
            kwargs["decode_errors"] = decode_errors
        if files.check_max_line("lines", max_line) != files.MAX_LINE:
            kwargs["max_line"] = max_line
        step = Step(
            "lines",
            files.lines,
            paths,
            tuple(kwargs.items()),
            source=True,
            uses_ctx=True,
            reads_files=True,
        )
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
            "open",
            files.open_files,
            (),
            kwargs,
            uses_ctx=True,
            rowwise=False,
            pure=False,
            reads_files=True,
        )

    def cat(self, *, max_line: int | None = MAX_LINE) -> Stream[Any]:
        """Chain the lines of each file (or items of each iterable) into one stream.

        A line of a file over ``max_line`` characters is a counted reject (None: no cap).

        >>> Stream([["a", "b"], ["c"]]).cat().list()
        ['a', 'b', 'c']
        """
        kwargs = {} if max_line == files.MAX_LINE else {"max_line": max_line}
        return self._then("cat", files.cat, (), kwargs, uses_ctx=True, rowwise=False)

    def grep(
        self, pattern: str | Any, *, invert: bool = False, ignore_case: bool = False
    ) -> Stream[T]:
        """Keep the lines where the regular expression ``pattern`` is found.

        >>> Stream(["GET /ply/", "GET /"]).grep("ply").list()
        ['GET /ply/']
        """
        kwargs = {k: v for k, v in (("invert", invert), ("ignore_case", ignore_case)) if v}
        return self._then("grep", text.grep, (pattern,), kwargs, keeps_schema=True)

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
        return self._then("field", text.field, (n,), kwargs, uses_ctx=True, rejects=True)

    def map(self, func: Callable[[T], U]) -> Stream[U]:
        """Apply ``func`` to each item.

        >>> Stream(["1", "2"]).map(int).list()
        [1, 2]
        """
        return self._then("map", flow.map_items, (func,))

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
        expr = condition if isinstance(condition, Expr) else None
        if expr is not None:
            self._check_fields("where", expr.fields())
            schema = self.schema
            for name, value in expr.compared():
                if schema is not None:
                    schema.check_value("where", name, value)
        return self._then(
            "where",
            records.where,
            (condition,),
            shown=shown,
            fields_read=expr.fields() if expr is not None else None,
            condition=expr,
            keeps_schema=True,
        )

    def select(self, *fields: str) -> Stream[dict[str, Any]]:
        """Keep only the named fields of each record.

        >>> Stream([{"host": "h", "bytes": 5, "status": 200}]).select("host", "bytes").list()
        [{'host': 'h', 'bytes': 5}]
        """
        self._check_fields("select", fields)
        upstream = self.schema
        return self._then(
            "select",
            records.select,
            (fields,),
            shown=", ".join(map(repr, fields)),
            fields_read=frozenset(fields),
            schema=upstream.keeping(fields) if upstream is not None else None,
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
        self._check_fields("convert", merged)
        return self._then(
            "convert",
            records.convert,
            (merged,),
            {"errors": errors},
            uses_ctx=True,
            rejects=errors != "raise",
            shown=shown,
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
        kwargs: dict[str, Any] = {"format": format} if format != "auto" else {}
        if errors != "skip":
            kwargs["errors"] = errors
        shown = ", ".join(
            ([repr(format)] if format != "auto" else [])
            + ([f"errors={errors!r}"] if errors != "skip" else [])
        )
        return self._then(
            "parse_apache",
            apache.parse_apache,
            (),
            kwargs,
            uses_ctx=True,
            rejects=True,
            shown=shown,
            schema=schema_for(apache.check_format("parse_apache", format)),
            variants=(("prescan", apache.parse_prescanned), ("blocks", blocks.parse_apache_blocks)),
        )

    def take(self, n: int) -> Stream[T]:
        """Keep the first ``n`` items, then stop reading (ends an infinite stream).

        >>> import itertools
        >>> Stream(itertools.count()).take(3).list()
        [0, 1, 2]
        """
        return self._then("take", flow.take_n, (n,), rowwise=False, keeps_schema=True)

    def skip(self, n: int) -> Stream[T]:
        """Drop the first ``n`` items.

        >>> Stream(["a", "b", "c"]).skip(1).list()
        ['b', 'c']
        """
        return self._then("skip", flow.skip_n, (n,), rowwise=False, keeps_schema=True)

    def distinct(self, field: str | int | Callable[[Any], Any] | None = None) -> Stream[T]:
        """Keep the first item of each distinct value (or field value).

        >>> Stream([3, 1, 3, 2, 1]).distinct().list()
        [3, 1, 2]
        """
        if isinstance(field, str):
            self._check_fields("distinct", (field,))
        kwargs = {"field": field} if field is not None else {}
        shown = render_value(field) if field is not None else ""
        return self._then(
            "distinct", flow.distinct, (), kwargs, rowwise=False, keeps_schema=True, shown=shown
        )

    def trace(self, label: str | None = None, *, file: IO[str] | None = None) -> Stream[T]:
        """Print each item as it passes (the tutorial's trace), to stdout or ``file``.

        >>> Stream([1, 2]).trace("in").map(str).list()
        in: 1
        in: 2
        ['1', '2']
        """
        kwargs: dict[str, Any] = {"label": label} if label is not None else {}
        if file is not None:
            kwargs["file"] = file
        shown = ", ".join(
            ([repr(label)] if label is not None else [])
            + (["file=..."] if file is not None else [])
        )
        return self._then(
            "trace", flow.trace, (), kwargs, pure=False, keeps_schema=True, shown=shown
        )

    def tap(self, func: Callable[[T], Any]) -> Stream[T]:
        """Call ``func`` on each item for its side effect; items pass unchanged.

        >>> seen = []
        >>> Stream([1, 2]).tap(seen.append).count(), seen
        (2, [1, 2])
        """
        return self._then("tap", flow.tap, (func,), pure=False, keeps_schema=True)

    def storelast(self) -> Stream[T]:
        """Remember the last item that passed this point; read it as ``.last``.

        The tutorial's storelast: keep a handle on the raw lines while
        iterating the parsed records.

        >>> lines = Stream(["a 1", "b 2"]).storelast()
        >>> [(col, lines.last) for col in lines.field(1)]
        [('1', 'a 1'), ('2', 'b 2')]
        """
        return self._then(
            "storelast", flow.storelast, (flow.LastSeen(),), pure=False, shown="", keeps_schema=True
        )

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
        upstream = self.schema
        step = Step(
            "with_origin",
            records.with_origin,
            (),
            tuple(kwargs.items()),
            uses_ctx=True,
            needs_origin=True,
            schema=upstream.plus(SchemaField(key, Origin, "the file and line it came from"))
            if upstream is not None
            else None,
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
    # Every terminal is an aggregation (streamql.aggregates), on every engine.
    def _extreme(self, agg: aggregates.Aggregate, default: Any, engine: str | None) -> Any:
        found = self._answer(agg, engine)
        if found is not EMPTY:
            return found
        if default is MISSING:
            raise StreamError(
                f"{agg.name}: the stream is empty\n\nPass default= to get a value instead."
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
        items: builtins.list[T] = self._answer(aggregates.Collect(), engine)
        return items

    def count(self, *, engine: str | None = None) -> int:
        """Run the query and count its items.

        >>> Stream(["a", "b"]).count()
        2
        """
        n: int = self._answer(aggregates.Count(), engine)
        return n

    def sum(self, field: str | int | None = None, *, engine: str | None = None) -> Any:
        """Run the query and add up its items, or a field of each record.

        >>> Stream([{"bytes": 3}, {"bytes": 4}]).sum("bytes")
        7
        """
        return self._answer(aggregates.Sum(field), engine)

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
        return self._extreme(aggregates.Min(field, key=key, empty=EMPTY), default, engine)

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
        return self._extreme(aggregates.Max(field, key=key, empty=EMPTY), default, engine)

    def set(
        self, field: str | int | None = None, *, engine: str | None = None
    ) -> builtins.set[Any]:
        """Run the query and collect the distinct items (or field values).

        >>> sorted(Stream([{"host": "a"}, {"host": "a"}, {"host": "b"}]).set("host"))
        ['a', 'b']
        """
        result: builtins.set[Any] = self._answer(aggregates.Distinct(field), engine)
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
        found: T = self._extreme(aggregates.First(empty=EMPTY), default, "default")
        return found

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
        result: builtins.list[T] = self._answer(aggregates.Top(n, by), engine)
        return result

    def count_by(
        self,
        field: str | int | Callable[[Any], Any],
        *more: str,
        n: int | None = None,
        engine: str | None = None,
    ) -> dict[Any, int]:
        """Run the query and count items per value of a field, most common first.

        Name several fields to count per combination; ``n`` keeps the ``n``
        most common. The answer is a dict that knows its column names
        (``.columns``), so ``Table(answer)`` heads its columns.

        >>> rows = Stream([{"s": 200, "h": "a"}, {"s": 404, "h": "b"}, {"s": 404, "h": "b"}])
        >>> rows.count_by("s"), rows.count_by("s", n=1), rows.count_by("h", "s")
        ({404: 2, 200: 1}, {404: 2}, {('b', 404): 2, ('a', 200): 1})
        """
        key: Any = (field, *more) if more else field
        result: dict[Any, int] = self._answer(aggregates.CountBy(key, n=n), engine)
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
        groups: dict[Any, Any] = self._answer(aggregates.GroupBy(field), engine)
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
        target: aggregates.Aggregate = one[0] if one else aggregates.Many(named)
        aggregates.check(target)
        return self._answer(target, engine)

    def write(
        self, path_or_file: str | os.PathLike[str] | IO[str], *, format: str | None = None
    ) -> int:
        """Run the query, writing each item to a file (atomically to a path); return the count.

        The format is ``format`` or the path's extension: .jsonl, .json, .csv,
        .tsv, .txt/.log (plain lines), .parquet/.arrow (``streamql[arrow]``);
        see :func:`streamql.writers.write`.

        >>> import io
        >>> out = io.StringIO()
        >>> Stream(["a\\n", "b\\n"]).write(out), out.getvalue()
        (2, 'a\\nb\\n')
        """
        writers.check_format(format)
        if isinstance(path_or_file, (str, os.PathLike)) and format is None:
            writers.format_for(path_or_file)  # an unknown extension fails before the run
        return self._run(lambda it: writers.write(path_or_file, it, format=format))


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
