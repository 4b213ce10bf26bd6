"""Field expressions: ``F.bytes > 1_000_000``, ``F.request.contains("robots.txt")``.

An expression is a small tree the planner can inspect (which fields it reads,
which comparisons it makes) and that compiles to one plain Python function, so
``where(F.status == 404)`` filters as fast as a hand-written lambda.

>>> pred = (F.status == 404) & F.request.endswith(".png")
>>> pred
(F.status == 404) & F.request.endswith('.png')
>>> sorted(pred.fields())
['request', 'status']
>>> pred.compile()({"status": 404, "request": "/a.png"})
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import FieldError

__all__ = ["Expr", "F", "field_equals"]

_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class Expr:
    """A node of a field expression. Build them from ``F``, not directly."""

    __slots__ = ()

    # Comparisons build expressions; they do not compare.
    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return Compare("eq", self, _lift(other))

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return Compare("ne", self, _lift(other))

    def __lt__(self, other: object) -> Expr:
        return Compare("lt", self, _lift(other))

    def __le__(self, other: object) -> Expr:
        return Compare("le", self, _lift(other))

    def __gt__(self, other: object) -> Expr:
        return Compare("gt", self, _lift(other))

    def __ge__(self, other: object) -> Expr:
        return Compare("ge", self, _lift(other))

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

    def contains(self, text: str) -> Expr:
        """True where the field's value contains ``text``."""
        return Method("contains", self, (text,))

    def startswith(self, prefix: str | tuple[str, ...]) -> Expr:
        """True where the field's value starts with ``prefix``."""
        return Method("startswith", self, (prefix,))

    def endswith(self, suffix: str | tuple[str, ...]) -> Expr:
        """True where the field's value ends with ``suffix``."""
        return Method("endswith", self, (suffix,))

    def matches(self, pattern: str | re.Pattern[str]) -> Expr:
        """True where the regular expression ``pattern`` is found in the value."""
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        return Method("matches", self, (compiled,))

    def isin(self, values: Iterable[Any]) -> Expr:
        """True where the value is one of ``values``."""
        return Method("isin", self, (frozenset(values),))

    # What the planner reads.
    def compared(self) -> list[tuple[str, Any]]:
        """The (field, value) pairs this expression tests for equality (``==``, ``!=``, ``isin``).

        >>> ((F.status == 404) & F.host.isin({"a"})).compared()
        [('status', 404), ('host', 'a')]
        """
        if isinstance(self, Compare) and self.op in ("eq", "ne"):
            pairs = [(self.left, self.right), (self.right, self.left)]
            return [
                (f.name, c.value) for f, c in pairs if isinstance(f, Field) and isinstance(c, Const)
            ]
        if isinstance(self, Method) and self.method == "isin" and isinstance(self.subject, Field):
            return [(self.subject.name, v) for v in self.args[0]]
        if isinstance(self, (Logic, Not)):
            parts = self.parts if isinstance(self, Logic) else (self.part,)
            return [pair for part in parts for pair in part.compared()]
        return []

    def fields(self) -> frozenset[str]:
        """Return the names of the fields the expression reads."""
        raise NotImplementedError

    def source(self, consts: list[Any]) -> str:
        raise NotImplementedError

    def compile(self, stage: str = "where") -> Callable[[Any], Any]:
        """Turn the expression into one plain function of a record."""
        consts: list[Any] = []
        body = self.source(consts)
        names = ", ".join(f"_c{i}=_c{i}" for i in range(len(consts)))
        code = (
            f"def _expr(r{', ' + names if names else ''}):\n"
            f"    try:\n"
            f"        return {body}\n"
            f"    except KeyError as exc:\n"
            f"        raise _FieldError(_stage, exc.args[0], r) from None\n"
        )
        scope: dict[str, Any] = {f"_c{i}": c for i, c in enumerate(consts)}
        scope.update(_FieldError=FieldError, _stage=stage)
        exec(compile(code, f"<streamql expression {self!r}>", "exec"), scope)
        func: Callable[[Any], Any] = scope["_expr"]
        func.__qualname__ = repr(self)
        return func

    def compile_columns(self, names: tuple[str, ...]) -> Callable[..., list[int]]:
        """Turn the expression into a function of columns: the indexes of the rows it is true for.

        ``names`` are the fields, in the order their columns are passed; every
        field the expression reads must be one of them. One list
        comprehension runs over all rows, so a block's worth costs a single
        Python call (the query planner's aggregate pushdown uses this).

        >>> rows = (F.status == 404) & F.request.endswith(".png")
        >>> rows.compile_columns(("request", "status"))(["/a.png", "/b.png", "/c"], [404, 200, 404])
        [0]
        """
        missing = self.fields() - set(names)
        if missing:
            raise ValueError(f"compile_columns: no column for {sorted(missing)}")
        consts: list[Any] = []
        body = self.source(consts)
        for i, name in enumerate(names):  # field reads are the only r[...] in the source
            body = body.replace(f"r[{name!r}]", f"_v{i}")
        columns = ", ".join(f"_col{i}" for i in range(len(names)))
        defaults = "".join(f", _c{i}=_c{i}" for i in range(len(consts)))
        if len(names) == 1:
            row, rows = "_v0", "_col0"
        else:
            row = "(" + ", ".join(f"_v{i}" for i in range(len(names))) + ")"
            rows = f"zip({columns})"
        code = (
            f"def _select({columns}{defaults}):\n"
            f"    return [_i for _i, {row} in enumerate({rows}) if {body}]\n"
        )
        scope: dict[str, Any] = {f"_c{i}": c for i, c in enumerate(consts)}
        exec(compile(code, f"<streamql columns {self!r}>", "exec"), scope)
        func: Callable[..., list[int]] = scope["_select"]
        return func


def _lift(value: object) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


def _expr(value: object, op: str) -> Expr:
    if not isinstance(value, Expr):
        raise TypeError(f"{op} combines expressions, got {value!r}")
    return value


class Field(Expr):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def fields(self) -> frozenset[str]:
        return frozenset({self.name})

    def source(self, consts: list[Any]) -> str:
        return f"r[{self.name!r}]"

    def __repr__(self) -> str:
        return f"F.{self.name}" if self.name.isidentifier() else f"F[{self.name!r}]"


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def fields(self) -> frozenset[str]:
        return frozenset()

    def source(self, consts: list[Any]) -> str:
        consts.append(self.value)
        return f"_c{len(consts) - 1}"

    def __repr__(self) -> str:
        return repr(self.value)


class Compare(Expr):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right

    def fields(self) -> frozenset[str]:
        return self.left.fields() | self.right.fields()

    def source(self, consts: list[Any]) -> str:
        return f"({self.left.source(consts)} {_SYMBOLS[self.op]} {self.right.source(consts)})"

    def __repr__(self) -> str:
        return f"{self.left!r} {_SYMBOLS[self.op]} {self.right!r}"


class Logic(Expr):
    __slots__ = ("op", "parts")

    def __init__(self, op: str, parts: tuple[Expr, ...]) -> None:
        self.op, self.parts = op, parts

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(p.fields() for p in self.parts))

    def source(self, consts: list[Any]) -> str:
        return "(" + f" {self.op} ".join(p.source(consts) for p in self.parts) + ")"

    def __repr__(self) -> str:
        symbol = " & " if self.op == "and" else " | "
        return symbol.join(
            f"({p!r})" if isinstance(p, (Compare, Logic)) else repr(p) for p in self.parts
        )


class Not(Expr):
    __slots__ = ("part",)

    def __init__(self, part: Expr) -> None:
        self.part = part

    def fields(self) -> frozenset[str]:
        return self.part.fields()

    def source(self, consts: list[Any]) -> str:
        return f"(not {self.part.source(consts)})"

    def __repr__(self) -> str:
        return f"~({self.part!r})"


class Method(Expr):
    __slots__ = ("args", "method", "subject")

    def __init__(self, method: str, subject: Expr, args: tuple[Any, ...]) -> None:
        self.method, self.subject, self.args = method, subject, args

    def fields(self) -> frozenset[str]:
        return self.subject.fields()

    def source(self, consts: list[Any]) -> str:
        subject = self.subject.source(consts)
        arg = Const(self.args[0]).source(consts)
        if self.method == "isin":
            return f"({subject} in {arg})"
        # None (a log's "-", a field some lines lack) holds no text: never a match.
        if self.method == "contains":
            return f"({subject} is not None and {arg} in {subject})"
        if self.method == "matches":
            return f"({subject} is not None and {arg}.search({subject}) is not None)"
        return f"({subject} is not None and {subject}.{self.method}({arg}))"

    def __repr__(self) -> str:
        arg = self.args[0]
        if self.method == "matches":
            shown = repr(arg.pattern)
        elif self.method == "isin":
            shown = repr(sorted(arg, key=repr))
        else:
            shown = repr(arg)
        return f"{self.subject!r}.{self.method}({shown})"


class _FieldFactory:
    """``F.name`` (or ``F["odd-name"]``) refers to a field of a dict record.

    >>> F.status >= 400
    F.status >= 400
    >>> F["user-agent"].contains("bot")
    F['user-agent'].contains('bot')
    """

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)

    def __repr__(self) -> str:
        return "F"


F = _FieldFactory()


def field_equals(equalities: dict[str, Any]) -> Expr:
    """Turn ``where(status=404, method="GET")`` keywords into one expression.

    >>> field_equals({"status": 404, "method": "GET"})
    (F.status == 404) & (F.method == 'GET')
    """
    parts = tuple(Field(k) == v for k, v in equalities.items())
    return parts[0] if len(parts) == 1 else Logic("and", parts)
