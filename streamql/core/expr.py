"""Field expressions: ``F.bytes > 1_000_000``, ``F.agent.contains("bot", case=False)``.

An expression is a small tree the planner can inspect (which fields it reads,
which comparisons it makes, which texts a match must contain) and that
compiles to one plain Python function, so ``where(F.status == 404)`` filters
as fast as a hand-written lambda. Expressions are also grouping keys and
aggregation inputs: ``count_by(F.datetime.floor("1h"))``, ``max(F.bytes / 1024)``.

- datetime parts: ``.year .month .day .hour .minute .second .date .weekday``
  (Monday is 0), and buckets ``.floor("30s" | "5min" | "1h" | "1d")``: the
  wall-clock time floored from midnight, the timezone kept;
- text: ``contains``, ``startswith``, ``endswith`` (``case=False`` compares
  casefolded text, so ``"STRASSE"`` contains ``"ß"``), ``matches(regex)``,
  ``lower()``, ``upper()``, ``len()``; and ``isin(values)``;
- arithmetic ``+ - * / // %`` with numbers or other expressions; a None
  operand gives None (as JSON's null for a missing value);
- nested keys: ``F.http.status`` (or ``F["http.status"]``, or
  ``F.http["status"]``) reads ``record["http"]["status"]``. A name that is
  an expression's own (``F.http.date``, ``F.x.name``) reads that with
  brackets, ``F.http["date"]``; a key that holds a dot is one element of a
  tuple, ``F[("a.b",)]``. A record without the key (or whose ``http`` is no
  dict) raises :class:`~streamql.core.errors.FieldError` naming the path.

``repr`` reads like the code that built the expression; ``label()`` is the
same without ``F.`` and names result columns (``datetime.floor('1h')``).

>>> pred = (F.status == 404) & F.request.endswith(".png")
>>> pred
(F.status == 404) & F.request.endswith('.png')
>>> sorted(pred.fields())
['request', 'status']
>>> pred.compile()({"status": 404, "request": "/a.png"})
True
>>> (F.bytes // 1024).label(), F.http.status.compile()({"http": {"status": 200}})
('bytes // 1024', 200)
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ._lazy import lazy
from .expr_tree import Arith, Compare, Const, Expr, Logic, Method, Not, Part

if TYPE_CHECKING:
    from ..formats.access import apache_schema
else:  # only F.<TAB> lists its fields: loaded then
    apache_schema = lazy("streamql.formats.access.apache_schema")

__all__ = ["Expr", "F", "field_equals", "Field", "Path", "key_function"]
__all__ += ["Arith", "Compare", "Const", "Logic", "Method", "Not", "Part"]  # the tree's nodes


def _name_ok(name: str) -> bool:
    """Whether ``F.<name>`` spells the field: an identifier, not a keyword, not private."""
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


# Attribute names that are the expression's own, not nested keys (``F.http["date"]`` reads those).
_OWN = frozenset(dir(Expr)) | {"name", "keys"}


class Field(Expr):
    """A top-level field of a dict record; attributes that are not expression methods nest."""

    __slots__ = ("name",)
    atomic = True

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, key: str) -> Expr:
        if key.startswith("_"):
            raise AttributeError(key)
        return Path((self.name, key))

    def __getitem__(self, key: str) -> Expr:
        return Path((self.name, _field_key(key)))

    def field_name(self) -> str | None:
        return self.name

    def paths(self) -> tuple[tuple[str, ...], ...]:
        return ((self.name,),)

    def source(self, consts: list[Any]) -> str:
        return f"r[{self.name!r}]"

    def show(self, bare: bool) -> str:
        if bare:
            return self.name
        if _name_ok(self.name):
            return f"F.{self.name}"
        return f"F[{self.name!r}]" if "." not in self.name else f"F[({self.name!r},)]"


class Path(Expr):
    """A nested key: ``F.http.status`` reads ``record["http"]["status"]``."""

    __slots__ = ("keys", "name")
    atomic = True

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys, self.name = keys, keys[0]

    def __getattr__(self, key: str) -> Expr:
        if key.startswith("_"):
            raise AttributeError(key)
        return Path((*self.keys, key))

    def __getitem__(self, key: str) -> Expr:
        return Path((*self.keys, _field_key(key)))

    def paths(self) -> tuple[tuple[str, ...], ...]:
        return (self.keys,)

    def source(self, consts: list[Any]) -> str:
        return "r" + "".join(f"[{k!r}]" for k in self.keys)

    def show(self, bare: bool) -> str:
        if any("." in k for k in self.keys):
            return repr(self.keys) if bare else f"F[{self.keys!r}]"
        if bare:
            return ".".join(self.keys)
        if _name_ok(self.keys[0]) and all(_name_ok(k) and k not in _OWN for k in self.keys[1:]):
            return "F." + ".".join(self.keys)
        return f"F[{'.'.join(self.keys)!r}]"


class _FieldFactory:
    """``F.name`` (or ``F["odd-name"]``) refers to a field of a dict record.

    ``F["http.status"]`` (or ``F["http", "status"]``) is a nested key.
    ``dir(F)`` (what ``F.<TAB>`` completes) lists the fields of Apache
    records; F reads any other name as well.

    >>> F.status >= 400
    F.status >= 400
    >>> F["user-agent"].contains("bot", case=False)
    F['user-agent'].contains('bot', case=False)
    >>> F["http.status"], F["a.b",]
    (F.http.status, F[('a.b',)])
    """

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str | tuple[str, ...]) -> Expr:
        keys = name if isinstance(name, tuple) else tuple(_field_key(name).split("."))
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError(f"F: expected a field name or a path of key names, got {name!r}")
        return Field(keys[0]) if len(keys) == 1 else Path(keys)

    def __dir__(self) -> list[str]:
        return [f.name for f in apache_schema.APACHE.fields]

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


def _field_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"F: expected a field name, got {key!r}")
    return key


def key_function(stage: str, key: object) -> Callable[[Any], Any] | None:
    """Turn a field name (or index) into a getter; pass callables and None through."""
    if key is None or callable(key):
        return key
    if isinstance(key, (str, int)):
        return itemgetter(key)
    raise TypeError(f"{stage}: expected a field name or a function, got {key!r}")
