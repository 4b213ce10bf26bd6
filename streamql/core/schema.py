"""Record schemas as values: the fields a parser yields, their types, and how a scanner finds them.

A parser step declares the :class:`Schema` of the records it yields. Everything
that needs to know a record's fields reads that one value: the planner (which
fields appear verbatim in the raw line, so a pre-scan can search for them;
which a block scanner can cut as columns), the checks that make a misspelled
field fail before anything is read, and the docs. A step that passes records
through unchanged declares that it keeps the schema, so the schema of a
query's items is known wherever it can be.

>>> s = Schema("parse_x", (Field("host", str, "the client"), Field("status", int, "the code")))
>>> s.names
('host', 'status')
>>> s.require("count_by", {"stauts"})
Traceback (most recent call last):
...
streamql.core.errors.FieldError: count_by: parse_x yields no field 'stauts'; did you mean 'status'?
<BLANKLINE>
Its fields: host, status
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import FieldError

__all__ = ["Field", "Schema", "schema_of"]


def verbatim(value: Any) -> str | None:
    """The text a raw line holds when a verbatim text field equals ``value``."""
    return value if isinstance(value, str) and value else None


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a record: its name, type, meaning, and what a scanner knows of it.

    ``column``: the block scanner's capture that holds its text (None: not cut
    from blocks); ``needle``: given a value, text the raw line must hold when
    the field equals it (None: no such text); ``optional``: some records lack it;
    ``nullable``: some records hold None in it (a ``-`` in an access log).
    """

    name: str
    type: type
    doc: str = ""
    column: str | None = None
    needle: Callable[[Any], str | None] | None = None
    optional: bool = False
    nullable: bool = False


@dataclasses.dataclass(frozen=True)
class Schema:
    """The fields of the records a step yields, in order; ``source`` names the step."""

    source: str
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    def get(self, name: str) -> Field | None:
        """Return the field called ``name``, or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def present(self) -> frozenset[str]:
        """The fields every record has."""
        return frozenset(f.name for f in self.fields if not f.optional)

    def columns(self) -> frozenset[str]:
        """The fields a block scanner can cut as columns."""
        return frozenset(f.name for f in self.fields if f.column is not None)

    def require(self, stage: str, names: Iterable[str]) -> None:
        """Raise :class:`~streamql.core.errors.FieldError` for the first name not in the schema."""
        known = self.names
        for name in sorted(set(names) - set(known)):
            raise FieldError(stage, name, known=known, source=self.source)

    def check_value(self, stage: str, name: str, value: Any) -> None:
        """Refuse comparing a field with a value of a type it never holds (``status="404"``)."""
        f = self.get(name)
        if f is None or value is None:
            return
        numeric = f.type in (int, float)
        if (numeric and isinstance(value, str)) or (f.type is str and _number(value)):
            fix = repr(int(value)) if numeric and value.strip().isdigit() else None
            hint = f"\n\nCompare with {name}={fix} instead." if fix else ""
            kind = f.type.__name__
            raise TypeError(
                f"{stage}: {name} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} field of "
                f"{self.source} records, "
                f"so it never equals the {type(value).__name__} {value!r}{hint}"
            )

    def keeping(self, names: Sequence[str]) -> Schema:
        """The schema of records cut down to ``names`` (``select``)."""
        return Schema(self.source, tuple(f for f in self.fields if f.name in names))

    def plus(self, *fields: Field) -> Schema:
        """The schema with more fields (``with_origin``)."""
        return Schema(self.source, (*self.fields, *fields))

    def without(self, *names: str) -> Schema:
        """The schema without the named fields."""
        return Schema(self.source, tuple(f for f in self.fields if f.name not in names))

    def marking_optional(self, *names: str) -> Schema:
        """The schema with the named fields absent from some records."""
        fields = tuple(
            dataclasses.replace(f, optional=True) if f.name in names else f for f in self.fields
        )
        return Schema(self.source, fields)

    def table(self) -> str:
        """The fields as a text table, for docs and ``help()``.

        >>> print(Schema("p", (Field("bytes", int, "size, 0 for -"),)).table())
        bytes  int  size, 0 for -
        """
        width = max(len(f.name) for f in self.fields)
        kinds = [f.type.__name__ + ("?" if f.optional else "") for f in self.fields]
        kind_width = max(map(len, kinds))
        return "\n".join(
            f"{f.name:<{width}}  {k:<{kind_width}}  {f.doc}".rstrip()
            for f, k in zip(self.fields, kinds, strict=True)
        )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def schema_of(steps: Sequence[Any]) -> Schema | None:
    """The schema of the items a plan yields, if its steps declare it (else None).

    A step that declares a schema sets it; one that keeps its input's schema
    passes it on; any other step makes it unknown.
    """
    schema: Schema | None = None
    for step in steps:
        if step.schema is not None:
            schema = step.schema
        elif not step.keeps_schema:
            schema = None
    return schema
