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
- ``blocks``: when ``parse_apache`` reads files directly, the files are read
  a megabyte of whole lines at a time, each block is checked in one call
  (:mod:`streamql.formats.access.scan`), and only its lines holding the pre-scan's text are
  parsed. Without a pre-scan, where the C scanner is built, it builds every
  line's record itself, about four times as fast as the line parser. See
  :mod:`streamql.ops.blocks`; a block holding a bad line is parsed line by line.
- ``pushdown`` (:func:`for_aggregate`, used by terminals): a terminal that
  aggregates one field of the parsed records (``sum("bytes")``, ``set("host")``,
  ``count()``, ``max(key="bytes")``...) gets that field's column from each
  block and folds it in C; no record is built.

>>> from streamql import Stream
>>> plan = Stream.lines("log").parse_apache().where(status=404).steps
>>> [s.render() for s in optimize(plan)]
["lines('log')", 'parse_apache(prescan=\'" 404 \')', 'where(status=404)']
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..aggregates import KINDS, reads_of
from ..core.expr import Expr, Logic
from ..core.plan import Step
from .prescan import LineTest, needles_test, safe_needles, search_for

__all__ = ["Options", "optimize", "for_aggregate", "DEFAULT", "NONE"]


@dataclasses.dataclass(frozen=True)
class Options:
    """Which rewrites the planner may make (all on by default).

    ``prescan``: a ``where`` on parsed fields gives the parser a raw-text test.
    ``blocks``: with a pre-scan, files are read and checked a block at a time
    and only the lines holding the pre-scan's text are parsed.
    ``pushdown``: a terminal aggregating one field of parsed records (``sum``,
    ``set``, ``count``, ``max(key=...)``, ``count_by``...) is computed from
    that field's column, block by block, with no record built.
    """

    prescan: bool = True
    blocks: bool = True
    pushdown: bool = True

    def __repr__(self) -> str:
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        ]
        return f"Options({', '.join(changed)})"


DEFAULT = Options()
NONE = Options(prescan=False, blocks=False, pushdown=False)


def _prescannable(step: Step) -> bool:
    """A parser whose schema says which texts its fields leave in the raw line."""
    return step.schema is not None and step.variant("prescan") is not None


def _prescan(steps: Sequence[Step]) -> tuple[Step, ...]:
    out = list(steps)
    for i, step in enumerate(out):
        if not _prescannable(step) or step.note:
            continue
        conditions = []
        for later in out[i + 1 :]:
            if later.condition is None:
                break
            conditions.append(later.condition)
        assert step.schema is not None
        needles = needles_test(safe_needles(conditions, step.schema))
        if needles is None:
            continue
        test = needles.owner
        inner = step.inner()
        out[i] = step.as_variant(
            "prescan",
            args=(needles, *step.args),
            shown=f"{inner}, prescan={test!r}" if inner else f"prescan={test!r}",
            note="prescan",
        )
    return tuple(out)


def _prefilter(step: Step) -> LineTest | None:
    """The raw-line test the prescan pass gave a parser (None if none)."""
    if step.func is step.variant("prescan") and step.args and isinstance(step.args[0], LineTest):
        return step.args[0]
    return None


def _line_source(steps: Sequence[Step], i: int) -> bool:
    """Tell whether step ``i`` hands out lines of files and declares a ``blocks`` variant."""
    return (
        i >= 0
        and steps[i].variant("blocks") is not None
        and steps[i].func is not steps[i].variant("blocks")
    )


def _as_blocks(source: Step) -> Step:
    return source.as_variant("blocks", note="blocks")


def _block_parse(step: Step, note: str, **kwargs: Any) -> Step:
    """The parser's ``blocks`` variant, with the pre-scan's test and the pass's arguments."""
    test = _prefilter(step)
    if test is not None:
        kwargs["prefilter"] = test
    return step.as_variant(
        "blocks",
        args=(),
        kwargs=(*step.kwargs, *kwargs.items()),
        note=f"{step.note}, {note}" if step.note else note,
        shown=step.inner(),
    )


def _blocks(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Read blocks: parse only the lines holding the pre-scan's text, or build records in C."""
    out = list(steps)
    for i, step in enumerate(out):
        if step.variant("blocks") is None or not _line_source(out, i - 1):
            continue
        test = _prefilter(step)
        if test is not None:
            needles = search_for(test)
        elif step.variant("every_block") is not None:
            needles = ()  # every line, its record built in C a batch at a time
        else:
            continue
        out[i - 1] = _as_blocks(out[i - 1])
        out[i] = _block_parse(step, "blocks", needles=needles)
    return tuple(out)


_PASSES: tuple[tuple[str, Callable[[Sequence[Step]], tuple[Step, ...]]], ...] = (
    ("prescan", _prescan),
    ("blocks", _blocks),
)


def optimize(steps: Sequence[Step], options: Options = DEFAULT) -> tuple[Step, ...]:
    """Return the plan the engine runs: ``steps`` rewritten by the passes ``options`` allow."""
    plan = tuple(steps)
    for name, rewrite in _PASSES:
        if getattr(options, name):
            plan = rewrite(plan)
    return plan


class Fold:
    """Takes what a pushed-down plan yields: its running aggregate state; the last one counts."""

    def __init__(self, agg: Any) -> None:
        self.agg = agg
        self.start, self.merge, self.finish = agg.start, agg.merge, agg.finish

    @staticmethod
    def add_all(state: Any, items: Iterable[Any]) -> Any:
        last = collections.deque(items, maxlen=1)  # the last one is the answer
        return last[0] if last else state

    def __repr__(self) -> str:
        return f"Fold({self.agg!r})"


def for_aggregate(steps: Sequence[Step], agg: Any, options: Options = DEFAULT) -> tuple[Any, Any]:
    """Return the plan and the fold that compute ``agg`` over ``steps``' items.

    When the plan is ``parse_apache`` over the lines of files, then only
    ``where`` steps with ``F`` expressions, and ``agg`` reads one field of the
    records (``pushdown``), the parser computes the aggregate itself from each
    block's columns (the ``where`` tested on them too) and yields its state,
    and the fold merges the states; otherwise the plan is ``steps`` and the
    fold is ``agg``. Either way the answer is ``fold.finish(state)``.

    >>> from streamql import Stream
    >>> from streamql.aggregates import Sum
    >>> plan, fold = for_aggregate(Stream.lines("log").parse_apache().steps, Sum("bytes"))
    >>> [s.render() for s in plan], fold
    (["lines('log')", "parse_apache(aggregate=Sum('bytes'))"], Fold(Sum('bytes')))
    """
    unchanged = tuple(steps), agg
    if not options.pushdown:
        return unchanged
    end = len(steps)
    conditions: list[Expr] = []
    while end > 0 and steps[end - 1].condition is not None:
        conditions.insert(0, steps[end - 1].condition)  # type: ignore[arg-type]
        end -= 1
    if end < 2:
        return unchanged
    parse = steps[end - 1]
    kwargs = dict(parse.kwargs)
    schema = parse.schema
    if (
        schema is None
        or parse.variant("blocks") is None
        or parse.note
        or kwargs.get("errors", "skip") == "keep"
        or not _line_source(steps, end - 2)
    ):
        return unchanged
    parts = reads_of(agg, kinds=(*KINDS, "columns"))  # what each aggregation reads
    if parts is None:
        return unchanged
    read: set[str] = set()
    for _, part, reads in parts:
        read |= {reads.field} if reads.field is not None else set()
        read |= set(reads.fields)
        read |= part.where.fields() if isinstance(part.where, Expr) else set()
    # Columns of fields every record has: a missing one raises in the plain plan.
    allowed = schema.columns() & schema.present()
    for condition in conditions:
        read |= condition.fields()
    if not read <= allowed:
        return unchanged
    where: Expr | None = None
    extra: dict[str, Any] = {}
    if conditions:
        where = conditions[0] if len(conditions) == 1 else Logic("and", tuple(conditions))
        # Texts the wanted lines hold: blocks where they are rare parse only those lines.
        test = needles_test(safe_needles(conditions, schema))
        if test is not None:
            extra = {"prefilter": test, "needles": search_for(test)}
    pushed = _block_parse(parse, "pushdown", agg=agg, where=where, **extra)
    shown = [parse.inner(), f"aggregate={agg!r}"] + (
        [f"where={where!r}"] if where is not None else []
    )
    shown += [f"prescan={extra['prefilter']!r}"] if extra else []
    pushed = dataclasses.replace(pushed, shown=", ".join(filter(None, shown)))
    return (*steps[: end - 2], _as_blocks(steps[end - 2]), pushed), Fold(agg)
