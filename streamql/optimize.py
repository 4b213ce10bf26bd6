r"""The planner: plan-to-plan rewrites that keep every answer and every reject.

Each pass reads only the steps' declared properties and expressions, and
returns a new plan; :class:`Options` switches them. ``explain()`` shows the plan
as written and, where a pass changed it, as it will run.

Passes:

- ``prescan``: a ``where`` on fields of ``parse_apache`` records whose
  condition implies text that must appear in the raw line (``status=404``
  implies ``'" 404 '``, ``F.request.contains("robots")`` implies ``"robots"``)
  hands the parser a pre-scan: lines without that text are still checked,
  and still rejected if bad, but never built into records the ``where``
  would drop. The ``where`` itself stays, so the answer is exact.

>>> from streamql import Stream
>>> plan = Stream.lines("log").parse_apache().where(status=404).steps
>>> [s.render() for s in optimize(plan)]
["lines('log')", 'parse_apache(prescan=\'" 404 \')', 'where(status=404)']
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from .expr import Compare, Const, Expr, Field, Logic, Method
from .plan import Step

__all__ = ["Options", "optimize", "DEFAULT"]

# Fields of an Apache record that appear verbatim in the raw line.
_VERBATIM = frozenset({"host", "ident", "user", "method", "request", "proto", "referer", "agent"})


@dataclasses.dataclass(frozen=True)
class Options:
    """Which rewrites the planner may make (all on by default)."""

    prescan: bool = True


DEFAULT = Options()
NONE = Options(prescan=False)


class _Needles:
    """A test of a raw line: all of ``all_of`` and, if given, one of each ``any_of`` group.

    Compiled to one regular expression, so the parser's check of each line is
    a C call, not a Python one.

    >>> test = _Needles(all_of=('" 404 ',), any_of=(("robots", ".png"),)).test
    >>> bool(test('"GET /robots.txt" 404 1')), bool(test('"GET /x" 404 1'))
    (True, False)
    """

    def __init__(self, all_of: tuple[str, ...] = (), any_of: tuple[tuple[str, ...], ...] = ()):
        self.all_of = all_of
        self.any_of = any_of
        groups = [(n,) for n in all_of] + list(any_of)
        alternatives = ["|".join(map(re.escape, group)) for group in groups]
        if len(alternatives) == 1:
            self.test: Callable[[str], Any] = re.compile(alternatives[0]).search
        else:
            ahead = "".join(f"(?=.*?(?:{alt}))" for alt in alternatives)
            self.test = re.compile(ahead, re.DOTALL).match

    def __repr__(self) -> str:
        parts = [repr(n) for n in self.all_of]
        parts += ["(" + " | ".join(map(repr, group)) + ")" for group in self.any_of]
        return " & ".join(parts)


def _literal(field: str, value: Any) -> str | None:
    """Text that a record whose ``field`` equals ``value`` must have in its raw line."""
    if field in _VERBATIM and isinstance(value, str) and value:
        return value
    if field == "status" and isinstance(value, int) and 100 <= value <= 999:
        return f'" {value} '
    return None


def _needles(expr: Expr) -> list[tuple[str, ...]]:
    """Groups of texts, one of each group must appear in the raw line (empty: no clue)."""
    if isinstance(expr, Compare) and expr.op == "eq":
        left, right = expr.left, expr.right
        if isinstance(right, Field) and isinstance(left, Const):
            left, right = right, left
        if isinstance(left, Field) and isinstance(right, Const):
            text = _literal(left.name, right.value)
            return [(text,)] if text else []
        return []
    if isinstance(expr, Method) and isinstance(expr.subject, Field):
        name, arg = expr.subject.name, expr.args[0]
        if expr.method in ("contains", "startswith", "endswith") and name in _VERBATIM:
            options = arg if isinstance(arg, tuple) else (arg,)
            if options and all(isinstance(o, str) and o for o in options):
                return [tuple(options)]
        if expr.method == "isin":
            texts = [_literal(name, v) for v in arg]
            if texts and all(texts):
                return [tuple(sorted(t for t in texts if t))]
        return []
    if isinstance(expr, Logic):
        if expr.op == "and":
            return [group for part in expr.parts for group in _needles(part)]
        groups = [_needles(part) for part in expr.parts]
        if all(len(g) == 1 for g in groups):  # (a) | (b): one of their texts
            return [tuple(sorted({t for g in groups for t in g[0]}))]
    return []


def _condition(step: Step) -> Expr | None:
    if step.name != "where" or not step.args:
        return None
    condition = step.args[0]
    return condition if isinstance(condition, Expr) else None


def _prescan(steps: Sequence[Step]) -> tuple[Step, ...]:
    out = list(steps)
    for i, step in enumerate(out):
        if step.name != "parse_apache" or "prefilter" in dict(step.kwargs):
            continue
        groups: list[tuple[str, ...]] = []
        for later in out[i + 1 :]:
            condition = _condition(later)
            if condition is None:
                break
            groups += _needles(condition)
        if not groups:
            continue
        test = _Needles(
            all_of=tuple(g[0] for g in groups if len(g) == 1),
            any_of=tuple(g for g in groups if len(g) > 1),
        )
        inner = step.render()[len(step.name) + 1 : -1]
        out[i] = dataclasses.replace(
            step,
            kwargs=(*step.kwargs, ("prefilter", test.test)),
            shown=f"{inner}, prescan={test!r}" if inner else f"prescan={test!r}",
            note="prescan",
        )
    return tuple(out)


_PASSES: tuple[tuple[str, Callable[[Sequence[Step]], tuple[Step, ...]]], ...] = (
    ("prescan", _prescan),
)


def optimize(steps: Sequence[Step], options: Options = DEFAULT) -> tuple[Step, ...]:
    """Return the plan the engine runs: ``steps`` rewritten by the passes ``options`` allow."""
    plan = tuple(steps)
    for name, rewrite in _PASSES:
        if getattr(options, name):
            plan = rewrite(plan)
    return plan
