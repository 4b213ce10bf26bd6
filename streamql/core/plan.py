"""A query plan: an immutable tuple of steps that an optimiser can read and rewrite.

A :class:`Step` names an ordinary function (a generator function or any function
returning an iterator, data last) together with its bound arguments and a few
declared properties. Nothing in a plan runs until the engine builds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .expr import Expr
    from .schema import Schema

__all__ = ["Effect", "Step", "render_args", "render_call", "render_value"]

#: What a step that is not pure does, as a notebook preview needs to know (see Step).
Effect = Literal["", "reads", "consumes", "listens"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One stage of a plan.

    ``func`` is called as ``func(*args, upstream, **kwargs)`` (or without
    ``upstream`` for a source), plus ``ctx=`` when ``uses_ctx`` is set.

    Declared properties, which optimisation passes rely on and nothing else:

    - ``source``: starts a plan, takes no upstream.
    - ``rowwise``: takes one item at a time and yields at most one per item,
      buffering nothing, so the run context's origin stays exact past it.
    - ``pure``: no side effects; may be reordered, fused or run elsewhere.
    - ``rejects``: may refuse items under an ``errors=`` policy.
    - ``infinite``: a source that may never end.
    - ``one_shot``: a source that can be read only once.
    - ``needs_origin``: reads each item's file and line from the run context.
    - ``reads_files``: opens files by name (a progress bar can count their bytes).
    - ``fields_read``: the record fields this step reads, when known (None: unknown).
    - ``schema``: the schema of the records this step yields (a parser's), if known.
    - ``keeps_schema``: the items it yields are items it was given, unchanged.
    - ``condition``: a filter's condition, when it is an ``F`` expression the
      planner can read (``where``).
    - ``variants``: other functions that do this step's job in another form,
      by name, for the planner to swap in: ``"blocks"`` works on blocks of
      whole lines (:mod:`streamql.ops.blocks`), given a pre-scan's texts;
      ``"every_block"`` is a blocks variant that pays off with no pre-scan
      (it builds records in C); ``"prescan"`` takes a test of the raw line
      first (``prefilter=``), so records a ``where`` would drop are never
      built.
    - ``files_read``: the step yields the lines of files; given the plan up to
      it, this says which files, and the options they are read with, so an
      engine can cut them into parts (``engine="processes"``).
    - ``effect``: what a step that is not ``pure`` does, where a notebook
      preview needs to know: ``"reads"`` (it only reads, buffers or stops, so
      a preview may run it: opening files, a thread the run joins, ``until``),
      ``"consumes"`` (a source whose run takes items away from their owner,
      a queue), ``"listens"`` (a source that listens on the network). ``""``:
      nothing declared, and a preview refuses an impure step.

    The declared properties are the Step's own fields, never the function's
    arguments: ``args`` and ``kwargs`` go to ``func`` and nothing else.
    """

    name: str
    func: Callable[..., Iterable[Any]]
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    source: bool = False
    rowwise: bool = True
    pure: bool = True
    rejects: bool = False
    infinite: bool = False
    one_shot: bool = False
    uses_ctx: bool = False
    needs_origin: bool = False
    reads_files: bool = False
    fields_read: frozenset[str] | None = None
    schema: Schema | None = None
    keeps_schema: bool = False
    condition: Expr | None = None
    variants: tuple[tuple[str, Callable[..., Iterable[Any]]], ...] = ()
    files_read: Callable[[tuple[Step, ...]], tuple[list[str], dict[str, Any]]] | None = None
    effect: Effect = ""
    # How the step reads in repr(), when not its arguments (e.g. where(status=404)).
    shown: str | None = None
    # Optimiser bookkeeping: the passes that produced or changed this step.
    note: str = ""

    def call(self, upstream: Any, ctx: Any) -> Iterable[Any]:
        """Build this step's iterator over ``upstream``."""
        kwargs = dict(self.kwargs)
        if self.uses_ctx:
            kwargs["ctx"] = ctx
        if self.source:
            return self.func(*self.args, **kwargs)
        return self.func(*self.args, upstream, **kwargs)

    def variant(self, name: str) -> Callable[..., Iterable[Any]] | None:
        """Return the variant of this step's function called ``name``, if it declares one."""
        return dict(self.variants).get(name)

    def as_variant(self, name: str, **changes: Any) -> Step:
        """This step with its function swapped for its ``name`` variant (which it must declare)."""
        func = self.variant(name)
        if func is None:
            raise ValueError(f"{self.name}: the step declares no {name!r} variant")
        return dataclasses.replace(self, func=func, **changes)

    def render(self) -> str:
        """Return the step as the user wrote it: ``grep('404')``."""
        return f"{self.name}({self.inner()})"

    def inner(self) -> str:
        """Return the step's arguments as the user wrote them: ``'404'``."""
        if self.shown is not None:
            return self.shown
        return render_args(self.args, dict(self.kwargs))

    def properties(self) -> list[str]:
        """Name the declared properties that hold, for explain()."""
        flags = ["source" if self.source else ("row-wise" if self.rowwise else "not row-wise")]
        if self.infinite:
            flags.append("infinite")
        if self.one_shot:
            flags.append("one-shot")
        if not self.pure:
            flags.append("side effects")
        if self.rejects:
            flags.append("may reject")
        if self.fields_read:
            flags.append("reads " + ",".join(sorted(self.fields_read)))
        if self.note:
            flags.append(f"rewritten: {self.note}")
        return flags


def render_value(value: Any) -> str:
    """Show an argument the way the user would have typed it."""
    if callable(value) and not isinstance(value, type) and hasattr(value, "__qualname__"):
        name: str = value.__qualname__
        if name.endswith("<lambda>"):
            return "<lambda>"
        module = getattr(value, "__module__", None)
        if module in ("builtins", None):
            return name
        return name
    if isinstance(value, type):
        return value.__name__
    pattern = getattr(value, "pattern", None)
    if pattern is not None and hasattr(value, "flags") and hasattr(value, "search"):
        return f"re.compile({pattern!r})"
    return repr(value)


def render_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Show arguments the way the user would have typed them."""
    parts = [render_value(a) for a in args]
    parts += [f"{k}={render_value(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def render_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Show a call the way the user would have typed it: ``grep('404')``."""
    return f"{name}({render_args(args, kwargs)})"
