"""Decode one JSON line into a dict, with the standard library or msgspec, the same either way.

The standard library's :func:`json.loads` is the reference: whatever it
accepts is a record, whatever it refuses is a reject with its reason. msgspec,
when installed, is a fast path that must never change that: a line it decodes
is a line the standard library decodes to the same value, and a line it refuses
is handed to the standard library, which decides (and names the reason). Where
the two could disagree, the line goes to the standard library first:

- nesting: both give up by running out of stack, which depends on how deep
  the caller already is. So a line that may nest deeper than
  :data:`MAX_DEPTH` levels is measured, and refused with one reason;
- integers longer than Python's ``int`` digit limit (4300 by default): the
  standard library refuses them; msgspec does too when it builds the value,
  but not when it skips it (a field outside ``fields=``). No line shorter
  than that limit can hold such a number, so longer lines go to the
  standard library.

With ``fields=`` (a projection) msgspec decodes into a struct of just those
fields and skips the rest, still checking its syntax, several times faster
than building every value.

>>> decoder = Decoder(("level", "http.status"), "json")
>>> decoder.record('{"level": "info", "http": {"status": 200, "path": "/"}, "x": 1}')
{'level': 'info', 'http': {'status': 200}}
>>> decoder.record('{"level": "info"}')
{'level': 'info', 'http': {'status': None}}
>>> decoder.record('[1, 2]')
Traceback (most recent call last):
...
streamql.formats.json_decode.BadLine: not a JSON object (got a list)
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["BadLine", "Decoder", "MAX_DEPTH", "backend_named", "paths_tree", "get_path"]

MAX_DEPTH = 256  # deeper lines are refused, the same on every backend and engine

BACKENDS = ("auto", "json", "msgspec")

_LIMIT = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
# Lines longer than this go to the standard library (see the module's notes).
_LONG = _LIMIT or sys.maxsize
_POSSESSIVE = "+" if sys.version_info >= (3, 11) else ""
_STRING = re.compile(rf'"[^"\\]*{_POSSESSIVE}(?:\\.[^"\\]*{_POSSESSIVE})*{_POSSESSIVE}"')
_BRACKETS = re.compile(r"[\[\]{}]")
_TYPES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}


class BadLine(ValueError):
    """A line that is not one JSON object; ``args[0]`` is the reason."""


def backend_named(stage: str, backend: str) -> str:
    """Validate a ``backend=`` argument; return the backend a run will use."""
    if backend not in BACKENDS:
        raise ValueError(f"{stage}: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "json":
        return backend
    try:
        import msgspec  # noqa: F401  (optional: the "json" extra)
    except ImportError:
        if backend == "auto":
            return "json"
        raise ImportError(
            f"{stage}: backend='msgspec' needs msgspec: pip install streamql[json]"
        ) from None
    return "msgspec"


def paths_tree(fields: Sequence[str]) -> dict[str, Any]:
    """The dotted paths as a tree: ``("a", "b.c")`` -> ``{"a": None, "b": {"c": None}}``."""
    tree: dict[str, Any] = {}
    for path in fields:
        node = tree
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = None
    return tree


def get_path(record: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested dicts, or None where a step is missing or not a dict."""
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def depth(line: str) -> int:
    """How deep the brackets of a JSON text nest, outside its strings.

    >>> depth('{"a": [[1], "]]]]"]}')
    3
    """
    peak = level = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", line)):
        level += 1 if bracket in "[{" else -1
        peak = max(peak, level)
    return peak


def _check_depth(line: str) -> None:
    long_and_bracketed = len(line) > 2 * MAX_DEPTH and line.count("{") + line.count("[") > MAX_DEPTH
    if long_and_bracketed and depth(line) > MAX_DEPTH:
        raise BadLine(f"bad JSON: nested deeper than {MAX_DEPTH} levels")


def loads(line: str) -> dict[str, Any]:
    """Decode ``line`` with the standard library; raise :class:`BadLine` naming why not."""
    _check_depth(line)
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        if not line or line.isspace():
            raise BadLine("blank line") from None
        raise BadLine(f"bad JSON: {exc.msg} at column {exc.pos + 1}") from None
    except RecursionError:
        raise BadLine("bad JSON: nested too deep") from None
    except ValueError as exc:  # an integer past the digit limit
        raise BadLine(f"bad JSON: {exc}") from None
    if not isinstance(value, dict):
        kind = _TYPES.get(type(value), "null" if value is None else "true or false")
        raise BadLine(f"not a JSON object (got {kind})")
    return value


def _project(tree: dict[str, Any], value: Any) -> dict[str, Any]:
    """Cut a decoded object down to the tree's paths, None where one is missing."""
    if not isinstance(value, dict):
        value = {}
    get = value.get
    return {key: get(key) if sub is None else _project(sub, get(key)) for key, sub in tree.items()}


class Decoder:
    """Decodes lines to records on one backend; ``fields`` (dotted paths) projects them."""

    def __init__(self, fields: Sequence[str] | None, backend: str) -> None:
        self.tree = paths_tree(fields) if fields is not None else None
        fast: Callable[[str], Any] | None = None
        if backend == "msgspec":
            fast = _msgspec_decoder(self.tree)
        self.record = self._plain if fast is None else self._fast(fast)

    def _plain(self, line: str) -> dict[str, Any]:
        value = loads(line)
        return value if self.tree is None else _project(self.tree, value)

    def _fast(self, decode: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
        plain = self._plain
        short = min(_LONG, 2 * MAX_DEPTH)

        def record(line: str) -> dict[str, Any]:
            if len(line) > short:
                if len(line) > _LONG:
                    return plain(line)
                _check_depth(line)
            try:
                value = decode(line)
            except Exception:  # the standard library decides, and says why
                return plain(line)
            if value.__class__ is dict:
                return value
            return plain(line)  # a JSON value, but not an object: the reference names it

        return record


def _msgspec_decoder(tree: dict[str, Any] | None) -> Callable[[str], Any]:
    """msgspec's decode of a line: to a dict, or through a struct of the tree's fields."""
    import msgspec

    if tree is None:
        return msgspec.json.Decoder().decode
    struct, convert = _struct(msgspec, tree)
    decode = msgspec.json.Decoder(struct).decode
    return lambda line: convert(decode(line))


def _attribute(key: str, i: int) -> str:
    """The struct attribute for a JSON key: the key itself where Python allows it."""
    usable = key.isidentifier() and not keyword.iskeyword(key) and not key.startswith("_")
    return key if usable else f"f{i}"


def _struct(msgspec: Any, tree: dict[str, Any]) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
    """A msgspec struct type for one level of the tree, and its struct -> dict conversion.

    Not tracked by the garbage collector (``gc=False``): a struct lives only
    until it becomes a dict, which makes decoding it about twice as fast.
    """
    names = tuple(tree)
    attrs = [_attribute(key, i) for i, key in enumerate(names)]
    subs: list[Callable[[Any], dict[str, Any]] | None] = []
    spec = []
    for attr, key in zip(attrs, names, strict=True):
        sub = tree[key]
        if sub is None:
            spec.append((attr, object, None))
            subs.append(None)
        else:
            kind, sub_convert = _struct(msgspec, sub)
            spec.append((attr, kind | None, None))  # null or absent: its fields are None
            subs.append(sub_convert)
    renamed = {a: k for a, k in zip(attrs, names, strict=True) if a != k}
    struct = msgspec.defstruct("Fields", spec, rename=renamed or None, gc=False)
    astuple = msgspec.structs.astuple
    if not any(subs):
        if not renamed:
            asdict: Callable[[Any], dict[str, Any]] = msgspec.structs.asdict
            return struct, lambda s: dict.fromkeys(names) if s is None else asdict(s)

        def flat(s: Any) -> dict[str, Any]:
            return dict.fromkeys(names) if s is None else dict(zip(names, astuple(s), strict=True))

        return struct, flat

    def convert(s: Any) -> dict[str, Any]:
        if s is None:
            return _project(tree, None)
        values = astuple(s)
        return {
            key: value if sub is None else sub(value)
            for key, value, sub in zip(names, values, subs, strict=True)
        }

    return struct, convert
