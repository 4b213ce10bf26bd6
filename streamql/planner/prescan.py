"""What a ``where`` on parsed fields says about the raw line: the planner's pre-scan texts.

A record whose ``status`` is 404 came from a line holding ``" 404 ``; one whose
``request`` contains ``robots`` from a line holding ``robots``. The schema
says which text each field leaves in the line (:attr:`streamql.core.schema.Field.needle`);
these functions turn a condition into the texts a wanted line must hold,
and into one compiled test of a raw line. Only conditions that cannot raise
lend their texts (:func:`safe`), so skipping a line never skips an error.

>>> from streamql import F
>>> from streamql.formats.access.apache_schema import APACHE
>>> safe_needles([(F.status == 404) & F.request.contains("robots")], APACHE)
[('" 404 ',), ('robots',)]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..core.expr import Compare, Const, Expr, Field, Logic, Method, Not
from ..core.schema import Schema

__all__ = ["Needles", "LineTest", "safe", "safe_needles", "needles_test", "search_for"]


class Needles:
    """A test of a raw line: all of ``all_of`` and, if given, one of each ``any_of`` group.

    Compiled to one regular expression, so the parser's check of each line is
    a C call, not a Python one.

    >>> test = Needles(all_of=('" 404 ',), any_of=(("robots", ".png"),)).test
    >>> bool(test('"GET /robots.txt" 404 1')), bool(test('"GET /x" 404 1'))
    (True, False)
    """

    def __init__(self, all_of: tuple[str, ...] = (), any_of: tuple[tuple[str, ...], ...] = ()):
        self.all_of = all_of
        self.any_of = any_of
        groups = [(n,) for n in all_of] + list(any_of)
        alternatives = ["|".join(map(re.escape, group)) for group in groups]
        if len(alternatives) == 1:
            check: Callable[[str], Any] = re.compile(alternatives[0]).search
        else:
            ahead = "".join(f"(?=.*?(?:{alt}))" for alt in alternatives)
            check = re.compile(ahead, re.DOTALL).match
        self.test = LineTest(self, check)

    def __repr__(self) -> str:
        parts = [repr(n) for n in self.all_of]
        parts += ["(" + " | ".join(map(repr, group)) + ")" for group in self.any_of]
        return " & ".join(parts)


class LineTest:
    """A needles test as a callable that still knows its needles (for the blocks pass)."""

    __slots__ = ("check", "owner")

    def __init__(self, owner: Needles, check: Callable[[str], Any]) -> None:
        self.owner, self.check = owner, check

    def __call__(self, line: str) -> Any:
        return self.check(line)

    def __repr__(self) -> str:
        return repr(self.owner)


def literal(field: str, value: Any, schema: Schema) -> str | None:
    """Text that a record whose ``field`` equals ``value`` must have in its raw line."""
    spec = schema.get(field)
    return spec.needle(value) if spec is not None and spec.needle is not None else None


def needles(expr: Expr, schema: Schema) -> list[tuple[str, ...]]:
    """Groups of texts, one of each group must appear in the raw line (empty: no clue)."""
    if isinstance(expr, Compare) and expr.op == "eq":
        left, right = expr.left, expr.right
        if isinstance(right, Field) and isinstance(left, Const):
            left, right = right, left
        if isinstance(left, Field) and isinstance(right, Const):
            text = literal(left.name, right.value, schema)
            return [(text,)] if text else []
        return []
    if isinstance(expr, Method) and isinstance(expr.subject, Field):
        name, arg = expr.subject.name, expr.args[0]
        spec = schema.get(name)
        verbatim = spec is not None and spec.needle is not None and spec.type is str
        if expr.method in ("contains", "startswith", "endswith") and verbatim:
            options = arg if isinstance(arg, tuple) else (arg,)
            if options and all(isinstance(o, str) and o for o in options):
                return [tuple(options)]
        if expr.method == "isin":
            texts = [literal(name, v, schema) for v in arg]
            if texts and all(texts):
                return [tuple(sorted(t for t in texts if t))]
        return []
    if isinstance(expr, Logic):
        if expr.op == "and":
            return [group for part in expr.parts for group in needles(part, schema)]
        groups = [needles(part, schema) for part in expr.parts]
        if all(len(g) == 1 for g in groups):  # (a) | (b): one of their texts
            return [tuple(sorted({t for g in groups for t in g[0]}))]
    return []


def safe(expr: Expr, schema: Schema) -> bool:
    """Tell whether ``expr`` cannot raise on any record with the ``present`` fields.

    A record the pre-scan skips is one the ``where`` would drop; but if a
    condition could raise on it (a missing field, ``<`` between a number and a
    string), the plain plan would raise where the rewritten one would not. So
    only conditions that cannot raise lend their texts to the pre-scan.
    """

    present = schema.present()

    def kind(e: Expr) -> type | None:
        spec = schema.get(e.name) if isinstance(e, Field) and e.name in present else None
        return spec.type if spec is not None else None

    if isinstance(expr, Field):
        return expr.name in present
    if isinstance(expr, Compare):
        sides = (expr.left, expr.right)
        if not all(isinstance(e, Const) or kind(e) is not None for e in sides):
            return False
        if expr.op in ("eq", "ne"):
            return True
        if any(isinstance(e, Field) and _nullable(e.name, schema) for e in sides):
            return False  # None < 400 raises
        types = {type(e.value) if isinstance(e, Const) else kind(e) for e in sides}
        return types in ({str}, {int}, {int, float}, {int, bool})
    if isinstance(expr, Method):
        subject, arg = kind(expr.subject), expr.args[0]
        if expr.method == "isin":  # a field of any type may hold a list, which isin cannot hash
            return subject is not None and subject is not object
        if subject is not str:
            return False
        if expr.method == "contains":
            return isinstance(arg, str)
        if expr.method == "matches":
            return isinstance(arg.pattern, str)
        options = arg if isinstance(arg, tuple) else (arg,)
        return all(isinstance(o, str) for o in options)
    if isinstance(expr, Logic):
        return all(safe(part, schema) for part in expr.parts)
    if isinstance(expr, Not):
        return safe(expr.part, schema)
    return isinstance(expr, Const)


def _nullable(name: str, schema: Schema) -> bool:
    spec = schema.get(name)
    return spec is not None and spec.nullable


def safe_needles(conditions: Sequence[Expr], schema: Schema) -> list[tuple[str, ...]]:
    """The needle groups of the conditions, up to the first that might raise."""
    groups: list[tuple[str, ...]] = []
    for condition in conditions:
        if not safe(condition, schema):
            break
        groups += needles(condition, schema)
    return groups


def needles_test(groups: list[tuple[str, ...]]) -> LineTest | None:
    """The raw-line test of a where's needle groups (None if it gives none)."""
    if not groups:
        return None
    return Needles(
        all_of=tuple(g[0] for g in groups if len(g) == 1),
        any_of=tuple(g for g in groups if len(g) > 1),
    ).test


def search_for(test: LineTest) -> tuple[str, ...]:
    """What to search a block for: the longest text every wanted line holds, else one of a set."""
    owner = test.owner
    return (max(owner.all_of, key=len),) if owner.all_of else owner.any_of[0]
