"""Stream methods that add a step: text, records, flow, and your own stages.

Each is a short delegate to a plain, data-last function in its domain module
(:mod:`streamql.ops.files`, :mod:`streamql.ops.text`,
:mod:`streamql.ops.records`, :mod:`streamql.ops.flow`) and declares what the planner
may rely on (row-wise, pure, may reject, the schema it yields or keeps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, TypeVar

from ..core.context import Errors
from ..core.expr import Expr, field_equals
from ..core.plan import Step, render_value
from ..core.schema import Field as SchemaField
from ..ops import blocks, files, flow, records, text
from ..ops.files import MAX_LINE
from ..ops.records import Origin
from .base import StreamBase

if TYPE_CHECKING:
    from .stream import Stream

__all__ = ["TransformMethods"]

T = TypeVar("T")
U = TypeVar("U")


class TransformMethods(StreamBase[T]):
    """Methods that add one step to the plan."""

    __slots__ = ()

    def open(
        self,
        *,
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        errors: str = "raise",
    ) -> Stream[Any]:
        """Open each path as a text file (plain, gzip, bzip2, xz: told by content).

        Each file is closed as soon as the next is asked for, or the run ends.

        >>> from streamql import Stream

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
            effect="reads",
            reads_files=True,
        )

    def cat(self, *, max_line: int | None = MAX_LINE) -> Stream[Any]:
        """Chain the lines of each file (or items of each iterable) into one stream.

        A line of a file over ``max_line`` characters is a counted reject (None: no cap).

        >>> from streamql import Stream

        >>> Stream([["a", "b"], ["c"]]).cat().list()
        ['a', 'b', 'c']
        """
        kwargs = {} if max_line == files.MAX_LINE else {"max_line": max_line}
        # After open, cat can read blocks of whole lines instead (the planner's choice).
        opened = self._steps[-1].reads_files
        return self._then(
            "cat",
            files.cat,
            (),
            kwargs,
            uses_ctx=True,
            rowwise=False,
            variants=(("blocks", blocks.blocks),) if opened else (),
            files_read=files.files_of_cat if opened else None,
        )

    def grep(
        self, pattern: str | Any, *, invert: bool = False, ignore_case: bool = False
    ) -> Stream[T]:
        """Keep the lines where the regular expression ``pattern`` is found.

        >>> from streamql import Stream

        >>> Stream(["GET /ply/", "GET /"]).grep("ply").list()
        ['GET /ply/']
        """
        kwargs = {k: v for k, v in (("invert", invert), ("ignore_case", ignore_case)) if v}
        return self._then("grep", text.grep, (pattern,), kwargs, keeps_schema=True)

    def field(self, n: int, *, sep: str | None = None, errors: Errors = "skip") -> Stream[str]:
        """Take the ``n``-th whitespace-separated column of each line (negative: from the end).

        A line with too few columns is a reject (see ``errors``).

        >>> from streamql import Stream

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

        >>> from streamql import Stream

        >>> Stream(["1", "2"]).map(int).list()
        [1, 2]
        """
        return self._then("map", flow.map_items, (func,))

    def where(self, *conditions: Callable[[Any], Any] | Expr, **equalities: Any) -> Stream[T]:
        """Keep the items that pass every condition.

        A condition is a function of the item or an ``F`` expression;
        keywords test fields for equality (``where(status=404)``).

        >>> from streamql import Stream

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

        >>> from streamql import Stream

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

        >>> from streamql import Stream

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

    def take(self, n: int) -> Stream[T]:
        """Keep the first ``n`` items, then stop reading (ends an infinite stream).

        >>> from streamql import Stream

        >>> import itertools
        >>> Stream(itertools.count()).take(3).list()
        [0, 1, 2]
        """
        return self._then("take", flow.take_n, (n,), rowwise=False, keeps_schema=True)

    def skip(self, n: int) -> Stream[T]:
        """Drop the first ``n`` items.

        >>> from streamql import Stream

        >>> Stream(["a", "b", "c"]).skip(1).list()
        ['b', 'c']
        """
        return self._then("skip", flow.skip_n, (n,), rowwise=False, keeps_schema=True)

    def distinct(self, field: str | int | Callable[[Any], Any] | None = None) -> Stream[T]:
        """Keep the first item of each distinct value (or field value).

        >>> from streamql import Stream

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

        >>> from streamql import Stream

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

        >>> from streamql import Stream

        >>> seen = []
        >>> Stream([1, 2]).tap(seen.append).count(), seen
        (2, [1, 2])
        """
        return self._then("tap", flow.tap, (func,), pure=False, keeps_schema=True)

    def storelast(self) -> Stream[T]:
        """Remember the last item that passed this point; read it as ``.last``.

        The tutorial's storelast: keep a handle on the raw lines while
        iterating the parsed records.

        >>> from streamql import Stream

        >>> lines = Stream(["a 1", "b 2"]).storelast()
        >>> [(col, lines.last) for col in lines.field(1)]
        [('1', 'a 1'), ('2', 'b 2')]
        """
        return self._then(
            "storelast",
            flow.storelast,
            (flow.LastSeen(),),
            pure=False,
            effect="reads",
            shown="",
            keeps_schema=True,
        )

    @property
    def last(self) -> Any:
        """The last item the latest ``storelast()`` step of this query passed on.

        >>> from streamql import Stream

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

        >>> from streamql import Stream

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

        >>> from streamql import Stream

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
