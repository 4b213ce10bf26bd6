"""The expression tree behind ``F`` (:mod:`streamql.core.expr`): nodes that know their children,
and write themselves as Python source (compiled once) and as the code that built them.

>>> from streamql.core.expr import F
>>> e = (F.bytes / 1024 > 5) & F.agent.contains("BOT", case=False)
>>> e, e.fields() == {"bytes", "agent"}
((F.bytes / 1024 > 5) & F.agent.contains('BOT', case=False), True)
>>> e.compile()({"bytes": 10240, "agent": "Googlebot"})
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import expr_funcs as fn

__all__ = ["Expr", "Const", "Compare", "Logic", "Not", "Method", "Part", "Arith"]

_INTERNAL = ("atomic", "show", "source")  # not offered by dir(): what nodes define for compiling
_NOCASE = "_nocase"  # suffix of the methods that compare casefolded text


def _binary(build: Callable[[Expr, Expr], Expr]) -> Callable[[Expr, object], Expr]:
    def method(self: Expr, other: object) -> Expr:
        return build(self, _lift(other))

    return method


def _arith(op: str) -> tuple[Callable[[Expr, object], Expr], Callable[[Expr, object], Expr]]:
    """The method for ``expr <op> other`` and the one for ``other <op> expr``."""
    return _binary(lambda a, b: Arith(op, a, b)), _binary(lambda a, b: Arith(op, b, a))


class _Part:
    """A datetime part as an attribute of every expression: ``F.datetime.hour``."""

    def __init__(self, part: str, doc: str) -> None:
        self.part, self.__doc__ = part, doc

    def __get__(self, expr: Expr | None, owner: type) -> Expr:
        if expr is None:
            return self  # type: ignore[return-value]  # the class's own attribute: for help()
        return Part(self.part, expr)


class Expr:
    """A node of a field expression. Build them from ``F``, not directly."""

    __slots__ = ()
    _kids: tuple[str, ...] = ()  # the slots that hold its children
    atomic = False  # whether it reads as code without parentheses around it (F.x, F.t.hour)

    # Comparisons and arithmetic build expressions; they do not compute.
    __eq__ = _binary(lambda a, b: Compare("eq", a, b))  # type: ignore[assignment]
    __ne__ = _binary(lambda a, b: Compare("ne", a, b))  # type: ignore[assignment]
    __lt__ = _binary(lambda a, b: Compare("lt", a, b))
    __le__ = _binary(lambda a, b: Compare("le", a, b))
    __gt__ = _binary(lambda a, b: Compare("gt", a, b))
    __ge__ = _binary(lambda a, b: Compare("ge", a, b))
    __add__, __radd__ = _arith("add")
    __sub__, __rsub__ = _arith("sub")
    __mul__, __rmul__ = _arith("mul")
    __truediv__, __rtruediv__ = _arith("truediv")
    __floordiv__, __rfloordiv__ = _arith("floordiv")
    __mod__, __rmod__ = _arith("mod")

    def __and__(self, other: Expr) -> Expr:
        return Logic("and", (self, _expr(other, "&")))

    def __or__(self, other: Expr) -> Expr:
        return Logic("or", (self, _expr(other, "|")))

    def __invert__(self) -> Expr:
        return Not(self)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of the expression {self!r} is unknown until it runs\n\n"
            "Combine expressions with & | ~ instead of and, or, not."
        )

    def __repr__(self) -> str:
        return self.show(False)

    def __dir__(self) -> list[str]:
        return sorted(n for n in dir(Expr) if not n.startswith("_") and n not in _INTERNAL)

    # Text predicates.
    def contains(self, text: str, *, case: bool = True) -> Expr:
        """True where the value contains ``text`` (``case=False``: in any case)."""
        return _predicate("contains", self, text, case)

    def startswith(self, prefix: str | tuple[str, ...], *, case: bool = True) -> Expr:
        """True where the value starts with ``prefix`` (or one of them); see ``contains``."""
        return _predicate("startswith", self, prefix, case)

    def endswith(self, suffix: str | tuple[str, ...], *, case: bool = True) -> Expr:
        """True where the value ends with ``suffix`` (or one of them); see ``contains``."""
        return _predicate("endswith", self, suffix, case)

    def matches(self, pattern: str | re.Pattern[str]) -> Expr:
        """True where the regular expression ``pattern`` is found in the value."""
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(compiled, re.Pattern):
            raise TypeError(f"matches: expected a regular expression, got {pattern!r}")
        return Method("matches", self, (compiled,))

    def isin(self, values: Iterable[Any]) -> Expr:
        """True where the value is one of ``values``."""
        return Method("isin", self, (frozenset(values),))

    # Values computed from a value.
    def lower(self) -> Expr:
        """The text in lower case."""
        return Part("lower", self)

    def upper(self) -> Expr:
        """The text in upper case."""
        return Part("upper", self)

    def len(self) -> Expr:
        """The value's length."""
        return Part("len", self)

    year = _Part("year", "The datetime's year.")
    month = _Part("month", "The datetime's month, 1 to 12.")
    day = _Part("day", "The datetime's day of the month.")
    hour = _Part("hour", "The datetime's hour, 0 to 23, in its own timezone.")
    minute = _Part("minute", "The datetime's minute.")
    second = _Part("second", "The datetime's second.")
    date = _Part("date", "The datetime's date (a datetime.date), in its own timezone.")
    weekday = _Part("weekday", "The datetime's day of the week: Monday is 0, Sunday 6.")

    def floor(self, bucket: str) -> Expr:
        """The start of the time bucket (``"30s"``, ``"5min"``, ``"1h"``, ``"1d"``…) of a datetime.

        Buckets count from midnight in the datetime's own timezone, which is
        kept; a bucket must divide a day evenly.

        >>> from datetime import datetime
        >>> from streamql.core.expr import F
        >>> F.t.floor("5min").compile()({"t": datetime(2008, 2, 24, 10, 47, 13)})
        datetime.datetime(2008, 2, 24, 10, 45)
        """
        return Part("floor", self, bucket)

    # What the planner reads.
    def compared(self) -> list[tuple[str, Any]]:
        """The (field, value) pairs this expression tests for equality (``==``, ``!=``, ``isin``).

        >>> from streamql.core.expr import F
        >>> ((F.status == 404) & F.host.isin({"a"})).compared()
        [('status', 404), ('host', 'a')]
        """
        if isinstance(self, Compare) and self.op in ("eq", "ne"):
            pairs = [(self.left, self.right), (self.right, self.left)]
            return [
                (f.field_name(), c.value)  # type: ignore[misc]
                for f, c in pairs
                if f.field_name() is not None and isinstance(c, Const)
            ]
        if isinstance(self, Method) and self.method == "isin":
            name = self.subject.field_name()
            return [] if name is None else [(name, v) for v in self.args[0]]
        if isinstance(self, (Logic, Not)):
            parts = self.parts if isinstance(self, Logic) else (self.part,)
            return [pair for part in parts for pair in part.compared()]
        return []

    def literals(self) -> list[tuple[str, str]]:
        """(field, text) pairs: wherever the expression holds, the field's value contains the text.

        From case-sensitive text tests and the literal runs of a ``matches``, through ``&``.

        >>> from streamql.core.expr import F
        >>> (F.request.matches(r"/img/\\d+\\.png") & F.agent.contains("bot")).literals()
        [('request', '/img/'), ('request', '.png'), ('agent', 'bot')]
        """
        if isinstance(self, Logic):
            return [] if self.op == "or" else [p for part in self.parts for p in part.literals()]
        name = self.subject.field_name() if isinstance(self, Method) else None
        if not isinstance(self, Method) or name is None:
            return []
        arg = self.args[0]
        if self.method == "matches":
            return [(name, text) for text in fn.required_texts(arg)]
        if self.method in ("contains", "startswith", "endswith") and isinstance(arg, str) and arg:
            return [(name, arg)]
        return []

    def field_name(self) -> str | None:
        """The name of the top-level field this expression is (None: it is not a field)."""
        return None

    def fields(self) -> frozenset[str]:
        """Return the names of the (top-level) fields the expression reads."""
        return frozenset(path[0] for path in self.paths())

    def paths(self) -> tuple[tuple[str, ...], ...]:
        """The key paths the expression reads: ``("http", "status")`` for ``F.http.status``."""
        return tuple(dict.fromkeys(p for child in self.children() for p in child.paths()))

    def children(self) -> tuple[Expr, ...]:
        """The expressions this one is built from."""
        return tuple(getattr(self, name) for name in self._kids)

    def label(self) -> str:
        """A name for the expression's values, as a result column: its repr without ``F.``.

        >>> from streamql.core.expr import F
        >>> F.datetime.floor("1h").label(), F.http.status.label()
        ("datetime.floor('1h')", 'http.status')
        """
        return self.show(True)

    def show(self, bare: bool) -> str:  # pragma: no cover - every node has its own
        """The expression as code (``bare``: without ``F.``)."""
        raise NotImplementedError

    def source(self, consts: list[Any]) -> str:  # pragma: no cover - every node has its own
        """Python source computing the expression from the record ``r``; constants in ``consts``."""
        raise NotImplementedError

    def compile(self, stage: str = "where") -> Callable[[Any], Any]:
        """Turn the expression into one plain function of a record."""
        consts: list[Any] = []
        return fn.record_function(self.source(consts), consts, repr(self), stage, self.paths())

    def compile_columns(self, names: tuple[str, ...]) -> Callable[..., list[int]]:
        """Turn the expression into a function of columns (one per name in ``names``, every field
        read among them): the indexes of the rows it is true for, in one comprehension.

        >>> from streamql.core.expr import F
        >>> rows = (F.status == 404) & F.request.endswith(".png")
        >>> rows.compile_columns(("request", "status"))(["/a.png", "/b.png", "/c"], [404, 200, 404])
        [0]
        """
        return self._columns(names, select=True)

    def compile_values(self, names: tuple[str, ...]) -> Callable[..., list[Any]]:
        """Turn the expression into a function of columns: its value for every row.

        >>> from streamql.core.expr import F
        >>> (F.bytes // 1024).compile_values(("bytes",))([2048, 10])
        [2, 0]
        """
        return self._columns(names, select=False)

    def _columns(self, names: tuple[str, ...], select: bool) -> Callable[..., list[Any]]:
        if missing := self.fields() - set(names):
            raise ValueError(f"compile_columns: no column for {sorted(missing)}")
        consts: list[Any] = []
        return fn.columns_function(self.source(consts), consts, names, repr(self), select)


def _lift(value: object) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


def _expr(value: object, op: str) -> Expr:
    if isinstance(value, Expr):
        return value
    raise TypeError(f"{op} combines expressions, got {value!r}")


def _predicate(name: str, subject: Expr, arg: Any, case: bool) -> Expr:
    if case:
        return Method(name, subject, (arg,))
    return Method(name + _NOCASE, subject, (fn.check_texts(name, arg),))


def _atom(expr: Expr, bare: bool) -> str:
    """The expression as the subject of a method or attribute: in parentheses unless it is one."""
    text = expr.show(bare)
    return text if expr.atomic else f"({text})"


class Const(Expr):
    __slots__ = ("value",)
    atomic = True

    def __init__(self, value: Any) -> None:
        self.value = value

    def source(self, consts: list[Any]) -> str:
        consts.append(self.value)
        return f"_c{len(consts) - 1}"

    def show(self, bare: bool) -> str:
        return repr(self.value)


class Compare(Expr):
    __slots__ = ("left", "op", "right")
    _kids = ("left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right

    def source(self, consts: list[Any]) -> str:
        return f"({self.left.source(consts)} {fn.COMPARISONS[self.op]} {self.right.source(consts)})"

    def show(self, bare: bool) -> str:
        left, right = (
            f"({e.show(bare)})" if isinstance(e, (Compare, Logic)) else e.show(bare)
            for e in (self.left, self.right)
        )
        return f"{left} {fn.COMPARISONS[self.op]} {right}"


class Logic(Expr):
    __slots__ = ("op", "parts")

    def __init__(self, op: str, parts: tuple[Expr, ...]) -> None:
        self.op, self.parts = op, parts

    def children(self) -> tuple[Expr, ...]:
        return self.parts

    def source(self, consts: list[Any]) -> str:
        return "(" + f" {self.op} ".join(p.source(consts) for p in self.parts) + ")"

    def show(self, bare: bool) -> str:
        symbol = " & " if self.op == "and" else " | "
        return symbol.join(
            f"({p.show(bare)})" if isinstance(p, (Compare, Logic, Arith)) else p.show(bare)
            for p in self.parts
        )


class Not(Expr):
    __slots__ = ("part",)
    _kids = ("part",)

    def __init__(self, part: Expr) -> None:
        self.part = part

    def source(self, consts: list[Any]) -> str:
        return f"(not {self.part.source(consts)})"

    def show(self, bare: bool) -> str:
        return f"~({self.part.show(bare)})"


class Method(Expr):
    """A test of a value: ``contains``, ``startswith``, ``endswith``, ``matches``, ``isin``.

    ``contains_nocase`` (and the like) are the ``case=False`` forms: a
    different name, so a planner that knows only the exact forms leaves them be.
    """

    __slots__ = ("args", "method", "subject")
    _kids = ("subject",)
    atomic = True

    def __init__(self, method: str, subject: Expr, args: tuple[Any, ...]) -> None:
        self.method, self.subject, self.args = method, subject, args

    def source(self, consts: list[Any]) -> str:
        subject = value = self.subject.source(consts)
        arg = self.args[0]
        if self.method.endswith(_NOCASE):  # the casefolded text, tested in the casefolded value
            folded = tuple(a.casefold() for a in arg) if isinstance(arg, tuple) else arg.casefold()
            arg, subject = folded, f"{subject}.casefold()"
        test = fn.TESTS[self.method.removesuffix(_NOCASE)].format(
            s=subject, a=Const(arg).source(consts)
        )
        if self.method == "isin":
            return test
        # None (a log's "-", a common line's agent) holds no text: never a match.
        return f"({value} is not None and {test})"

    def show(self, bare: bool) -> str:
        arg = self.args[0]
        arg = arg.pattern if self.method == "matches" else arg
        shown = repr(sorted(arg, key=repr) if self.method == "isin" else arg)
        name = self.method.removesuffix(_NOCASE)
        case = ", case=False" if self.method.endswith(_NOCASE) else ""
        return f"{_atom(self.subject, bare)}.{name}({shown}{case})"


class Part(Expr):
    """A value computed from a value: a datetime's ``hour``, ``date`` or ``floor("1h")``…"""

    __slots__ = ("bucket", "part", "seconds", "subject")
    _kids = ("subject",)
    atomic = True

    def __init__(self, part: str, subject: Expr, bucket: str = "") -> None:
        self.part, self.subject, self.bucket = part, subject, bucket
        self.seconds = fn.bucket_seconds(part, bucket) if part == "floor" else 0

    def source(self, consts: list[Any]) -> str:
        subject = self.subject.source(consts)
        if self.part == "floor":
            func, seconds = (
                Const(fn.floor_datetime).source(consts),
                Const(self.seconds).source(consts),
            )
            return f"{func}({subject}, {seconds})"
        return (
            f"{subject}.{self.part}"
            if self.part in fn.PARTS
            else fn.CALLS[self.part].format(subject)
        )

    def show(self, bare: bool) -> str:
        call = f"({self.bucket!r})" if self.part == "floor" else ""
        call = "()" if self.part in ("lower", "upper", "len") else call
        return f"{_atom(self.subject, bare)}.{self.part}{call}"


class Arith(Expr):
    """Arithmetic on values: ``F.bytes / 1024``; None on either side gives None."""

    __slots__ = ("left", "op", "right")
    _kids = ("left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right

    def source(self, consts: list[Any]) -> str:
        func = Const(fn.ARITHMETIC[self.op][2]).source(consts)
        return f"{func}({self.left.source(consts)}, {self.right.source(consts)})"

    def show(self, bare: bool) -> str:
        symbol, rank, _ = fn.ARITHMETIC[self.op]

        def side(e: Expr, strict: bool) -> str:
            if isinstance(e, Arith):
                inner = fn.ARITHMETIC[e.op][1]
                low = inner < rank or (strict and inner == rank)
                return f"({e.show(bare)})" if low else e.show(bare)
            return e.show(bare) if e.atomic and not isinstance(e, Method) else f"({e.show(bare)})"

        return f"{side(self.left, False)} {symbol} {side(self.right, True)}"
