r"""Run a log format's line program over a block of lines in C: the fast path for any format.

A compiled access-log format gives, besides its schema and its line parser, a
*program*: a tuple of ops saying how one line is laid out. The C scanner
(``_scanner``) runs it over a whole block of lines and either refuses the
block (some line does not fit; the caller then parses that block line by
line) or returns the columns asked for, one value per line. The ops:

- ``("lit", text)``: exactly ``text`` (non-empty, no newline).
- ``("run", col, stop, escaped, nonempty)``: the characters up to the first
  ``stop`` (one character; ``"\n"``: to the end of the line), the line's end
  or the block's end, whichever comes first; the op after it decides whether
  the line fits there. With ``escaped``, a backslash takes the character
  after it (not a newline), so ``\"`` does not end a run stopping at ``"``.
  With ``nonempty``, an empty run refuses the line. The value: the text as
  written, escapes kept.
- ``("int", col, dash)``: 1 to 18 ASCII digits (19 or more refuse the line),
  or ``-`` when ``dash``; an int, or None for ``-``.
- ``("status", col, dash)``: exactly 3 ASCII digits, or ``-`` when ``dash``.
- ``("float", col, dash)``: digits, optionally ``.`` and digits, or ``-``
  when ``dash``; a float, or None.
- ``("stamp", col)``: the 26 characters ``dd/Mon/yyyy:hh:mm:ss +zzzz``,
  checked in full (month names, days per month, leap years, hours, offsets).
- ``("opt",)``: the rest is optional as a whole: when the line ends here
  (spaces or tabs, then its end), every later column is None for that line.
- ``("end",)``: spaces or tabs, then the newline or the block's end; the last op.

A number field takes every digit there is, and no op is ever tried twice:
a line costs one pass. ``col`` is the column's name (unique in the program)
or None for a piece that is checked but never captured.

>>> block = ('1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 200 10\n'
...          '1.2.3.4 - - [24/Feb/2008:00:09:00 -0600] "GET /b HTTP/1.1" 404 -\n')
>>> if available():
...     print(columns(block, APACHE_PROGRAMS["common"], ("status", "bytes")))
... else:  # the same answer, from the regex implementation of the contract
...     print({"status": [200, 404], "bytes": [10, None]})
{'status': [200, 404], 'bytes': [10, None]}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.defaults import PURE

__all__ = [
    "APACHE_PROGRAMS",
    "MAX_NEEDLES",
    "Program",
    "available",
    "check",
    "columns",
    "compile",
    "hits",
]

#: A line program: a tuple of ops (see the module's docs).
Program = tuple[tuple[Any, ...], ...]

#: The most needles :func:`hits` takes at once.
MAX_NEEDLES = 16

_compile_c: Callable[[Program], object] | None
_scan_c: Callable[..., Any] | None
_WHY_NOT = "STREAMQL_PURE is set"
try:
    from . import _scanner

    _compile_c, _scan_c = _scanner.compile_program, _scanner.program_scan
except ImportError:  # built without a C compiler: the regex implementation does the job
    _compile_c = _scan_c = None
    _WHY_NOT = "the C scanner is not built"
if PURE:
    _compile_c = _scan_c = None


def available() -> bool:
    """Tell whether the C scanner runs programs here (built, and ``STREAMQL_PURE`` not set).

    >>> available() in (True, False)
    True
    """
    return _scan_c is not None


# Each op's items after its name.
_SHAPES: dict[str, tuple[str, ...]] = {
    "lit": ("text",),
    "run": ("col", "stop", "escaped", "nonempty"),
    "int": ("col", "dash"),
    "status": ("col", "dash"),
    "float": ("col", "dash"),
    "stamp": ("col",),
    "opt": (),
    "end": (),
}


def _check_op(k: int, op: object, last: bool, names: set[str]) -> None:
    """Raise a ValueError naming op number ``k`` if it is not a well-formed op."""

    def bad(why: str) -> ValueError:
        return ValueError(f"compile: op {k}, {op!r}: {why}")

    if not isinstance(op, tuple) or not op or op[0] not in _SHAPES:
        raise bad(f"not an op; an op is a tuple whose first item is one of {', '.join(_SHAPES)}")
    shape = _SHAPES[op[0]]
    if len(op) != 1 + len(shape):
        raise bad(f"{op[0]} takes {len(shape)} items after its name: {', '.join(shape) or 'none'}")
    items = dict(zip(shape, op[1:], strict=True))
    if (op[0] == "end") != last:
        raise bad("end must be the last op, and the last op must be end")
    text = items.get("text")
    if "text" in items and (not isinstance(text, str) or not text or "\n" in text):
        raise bad("the text must be a non-empty str without a newline")
    col = items.get("col")
    if col is not None:
        if not isinstance(col, str):
            raise bad("the column must be a str or None")
        if col in names:
            raise bad(f"a column named {col!r} comes earlier")
        names.add(col)
    for flag in ("escaped", "nonempty", "dash"):
        if flag in items and not isinstance(items[flag], bool):
            raise bad(f"{flag} must be a bool")
    stop = items.get("stop")
    if "stop" in items and (not isinstance(stop, str) or len(stop) != 1):
        raise bad("the stop must be a str of one character")
    if stop == "\\" and items.get("escaped"):
        raise bad("an escaped run cannot stop at a backslash")


def check(ops: Program) -> None:
    """Raise a ValueError naming the first bad op of ``ops``, if it is not a well-formed program.

    >>> check((("run", "path", " ", False, True), ("lit", " "), ("int", "size", True), ("end",)))
    >>> check((("lit", "GET "), ("stamp", None)))
    Traceback (most recent call last):
    ...
    ValueError: compile: op 1, ('stamp', None): end must be the last op, and the last op must be end
    """
    if not isinstance(ops, tuple) or not ops:
        raise ValueError(f"compile: a program is a non-empty tuple of ops, got {ops!r}")
    names: set[str] = set()
    for k, op in enumerate(ops):
        _check_op(k, op, k == len(ops) - 1, names)


# Compiled programs by their ops, with the ops they were compiled from: a
# program equal to a cached one but for its items' types (1 for True) is
# checked afresh, so that it is refused as it would be first.
_CACHE: dict[Program, tuple[Program, object]] = {}
_CACHE_SIZE = 64


def _same_types(a: Program, b: Program) -> bool:
    return all(
        type(x) is type(y) for p, q in zip(a, b, strict=True) for x, y in zip(p, q, strict=True)
    )


def compile(ops: Program) -> object:
    """Check a line program and compile it for the C scanner, once per program (cached).

    Raises ValueError naming the first bad op, whether or not the C scanner
    is in use; RuntimeError where it is not (:func:`available`). The result
    is opaque: pass the ops themselves to :func:`columns` and :func:`hits`,
    which find it in the cache.

    >>> compile((("int", "bytes", "yes"), ("end",)))
    Traceback (most recent call last):
    ...
    ValueError: compile: op 0, ('int', 'bytes', 'yes'): dash must be a bool
    """
    try:
        hit = _CACHE.get(ops)
    except TypeError:
        raise TypeError(
            f"compile: a program is a tuple of op tuples of str, bool and None, got {ops!r}"
        ) from None
    if hit is not None and (hit[0] is ops or _same_types(hit[0], ops)):
        return hit[1]
    check(ops)
    if _compile_c is None:
        raise RuntimeError(f"compile: the C scanner is not in use ({_WHY_NOT}); see available()")
    compiled = _compile_c(ops)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[ops] = (ops, compiled)
    return compiled


def _check_capture(capture: tuple[str, ...]) -> None:
    if not isinstance(capture, tuple) or not all(isinstance(c, str) for c in capture):
        raise TypeError(f"columns: capture must be a tuple of column names, got {capture!r}")


def columns(block: str, ops: Program, capture: tuple[str, ...]) -> dict[str, list[Any]] | None:
    r"""Return the ``capture`` columns of every line of ``block``, or None if any line does not fit.

    ``capture`` names columns of the program, in any order; each maps to a
    list with one value per line (str for run and stamp, int or None for int
    and status, float or None for float, None where an ``opt`` left the
    column out). An unknown or repeated name is a ValueError. Needs the C
    scanner (:func:`available`). Holds the block's columns in memory.

    >>> ops = (("run", "path", " ", False, True), ("lit", " "), ("float", "secs", True), ("end",))
    >>> if available():
    ...     print(columns("/a 0.25\n/b -\n", ops, ("secs", "path")))
    ...     print(columns("/a 0.25\n/b x\n", ops, ("secs",)))
    ... else:
    ...     print({"secs": [0.25, None], "path": ["/a", "/b"]}, None, sep="\n")
    {'secs': [0.25, None], 'path': ['/a', '/b']}
    None
    """
    program = compile(ops)
    _check_capture(capture)
    assert _scan_c is not None  # compile raised otherwise
    found: dict[str, list[Any]] | None = _scan_c(block, program, capture)
    return found


def hits(
    block: str, ops: Program, capture: tuple[str, ...], needles: tuple[str, ...]
) -> tuple[dict[str, list[Any]], list[int] | None] | None:
    r"""Check every line of ``block``; cut the columns of the lines holding one of ``needles``.

    Returns None if any line does not fit, else the columns (as
    :func:`columns`, one value per line cut) and the 0-based numbers of the
    lines cut, or None for the numbers when every line was cut (no needles,
    or the empty one). The needles are found by CPython's substring search
    over the whole block; a needle starting in a line and running past its
    end makes it a candidate too, so the caller's own test must follow, as
    with :func:`streamql.formats.access.scan.block_hits`. At most :data:`MAX_NEEDLES`.

    >>> ops = (("run", "path", " ", False, True), ("lit", " "), ("int", "size", True), ("end",))
    >>> if available():
    ...     print(hits("/a 1\n/robots.txt 2\n/b -\n", ops, ("size",), ("robots",)))
    ... else:
    ...     print(({"size": [2]}, [1]))
    ({'size': [2]}, [1])
    """
    if not isinstance(needles, tuple) or not all(isinstance(n, str) for n in needles):
        raise TypeError(f"hits: needles must be a tuple of str, got {needles!r}")
    if not needles or "" in needles:  # every line holds the empty text
        found = columns(block, ops, capture)
        return None if found is None else (found, None)
    if len(needles) > MAX_NEEDLES:
        raise ValueError(f"hits: at most {MAX_NEEDLES} needles at once, got {len(needles)}")
    program = compile(ops)
    _check_capture(capture)
    assert _scan_c is not None
    scanned: tuple[dict[str, list[Any]], list[int]] | None = _scan_c(
        block, program, capture, needles
    )
    return scanned


def _apache(combined: bool | None) -> Program:
    """Today's common (False), combined (True) or auto (None: either) line, as a program."""
    head: Program = (
        ("run", "host", " ", False, True),
        ("lit", " "),
        ("run", "ident", " ", False, True),
        ("lit", " "),
        ("run", "user", " ", False, True),
        ("lit", " ["),
        ("stamp", "time"),
        ("lit", '] "'),
        ("run", "req", '"', True, False),
        ("lit", '" '),
        ("status", "status", False),
        ("lit", " "),
        ("int", "bytes", True),
    )
    tail: Program = (
        ("lit", ' "'),
        ("run", "referer", '"', True, False),
        ("lit", '" "'),
        ("run", "agent", '"', True, False),
        ("lit", '"'),
    )
    if combined is False:
        return (*head, ("end",))
    return (*head, *(() if combined else (("opt",),)), *tail, ("end",))


#: Apache's common and combined formats, and auto (either, line by line), as
#: programs; columns host, ident, user, time, req, status, bytes (and referer,
#: agent). Unlike :func:`streamql.formats.access.scan.block_columns`, bytes ``-`` is None.
APACHE_PROGRAMS: dict[str, Program] = {
    "common": _apache(False),
    "combined": _apache(True),
    "auto": _apache(None),
}
