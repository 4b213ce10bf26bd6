"""``explain()``: the plan as it will run, step by step, and with ``analyze`` what each step did.

The text lists each step of the plan after the planner's rewrites
(:mod:`streamql.planner.optimize`), with the properties it declares and the rewrite
that changed it; with ``analyze=True`` the query runs and each step also
shows the items it took and passed on, the items it rejected and the time
spent in it alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import aggregates
from ..core._lazy import lazy
from ..core.plan import Step
from ..engine.local import StepStats, running
from ..planner.optimize import for_aggregate, optimize

if TYPE_CHECKING:
    from ..formats.access import scan
    from .base import StreamBase
else:  # only a plan that reads blocks asks which check runs
    scan = lazy("streamql.formats.access.scan")

__all__ = ["Explanation", "explain_plan"]


class Explanation(str):
    """The text of ``explain()``: a str that shows as itself at the REPL."""

    def __repr__(self) -> str:
        return str(self)


def _block_check(plan: Iterable[Step]) -> list[str]:
    """The line explain() adds when blocks of lines are checked: which check does it."""
    if not any(step.note and "blocks" in step.note for step in plan):
        return []
    return [f"  blocks are checked by {scan.checker()}"]


def explain_plan(stream: StreamBase[Any], analyze: bool, aggregate: Any) -> Explanation:
    """The text of ``stream.explain(analyze, aggregate=aggregate)``."""
    options = stream._settings.options
    steps, fold = stream._steps, aggregate
    if aggregate is not None:
        if not isinstance(aggregate, aggregates.Aggregate):
            raise TypeError(
                f"explain: aggregate must be an aggregation such as Sum('bytes'), got {aggregate!r}"
            )
        steps, fold = for_aggregate(steps, aggregate, options)
    plan = optimize(steps, options)  # as it will run
    shown = [f"Stream({s.args[0]!r})" if s.name == "Stream" else s.render() for s in plan]
    width = max(len(s) for s in shown) + 4
    props = [", ".join(step.properties()) for step in plan]
    head = repr(stream) + (f".aggregate({aggregate!r})" if aggregate is not None else "")
    lines = [head, ""]
    then = [f"  then {aggregate!r} of the items"] if fold is aggregate is not None else []
    then += _block_check(plan)
    if not analyze:
        for i, (label, flags) in enumerate(zip(shown, props, strict=True), 1):
            lines.append(f"  {i}. {label:<{width}}{flags}".rstrip())
        return Explanation("\n".join(lines + then))
    probes: list[StepStats] = []
    run = stream._plan()
    if aggregate is not None:
        run, fold = for_aggregate(run, aggregate, options)
    answer: Any = None
    with running(run, stream.last_run, probes=probes, warn=False, options=options) as it:
        if fold is None:
            for _ in it:
                pass
        else:
            answer = fold.finish(fold.add_all(fold.start(), it))
    rejected = stream.last_run.rejected
    flag_width = max(len(f) for f in props) + 2
    upstream = 0.0
    came: int | None = None  # items in: what the step before handed out
    for i, (step, label, flags, stats) in enumerate(
        zip(plan, shown, props, probes, strict=True), 1
    ):
        own = max(stats.seconds - upstream, 0.0)
        upstream = stats.seconds
        bad = rejected.get(step.name, 0)
        refused = f"{bad:>7,} rejected" if step.rejects else " " * 16
        taken = " " * 13 if came is None else f"{came:>10,} in"
        lines.append(
            f"  {i}. {label:<{width}}{flags:<{flag_width}}{taken}{stats.items:>10,} out "
            f"{refused}{own:>9.3f} s"
        )
        came = stats.items
    total = sum(rejected.values())
    lines += then
    lines.append(
        f"ran in {stream.last_run.seconds:.3f} s: {probes[-1].items:,} items out, "
        f"{total:,} rejected"
    )
    if fold is not None:
        said = repr(answer)
        lines.append(f"answer: {said[:200]}{'...' if len(said) > 200 else ''}")
    read, of = stream.last_run.bytes_read, stream.last_run.bytes_total
    if of:
        lines.append(
            f"read {read:,} of {of:,} bytes ({100 * read / of:.0f}%) of the files it names"
        )
    return Explanation("\n".join(lines))

    # --------------------------------------------------------------- running
