"""What compiled ``F`` expressions call: time buckets, arithmetic that passes None, regex texts.

The expression tree (:mod:`streamql.core.expr`) compiles to one Python function;
the few things it cannot write inline live here as plain functions, so the
compiled code stays short and each piece is tested on its own.

>>> from datetime import datetime
>>> floor_datetime(datetime(2008, 2, 24, 10, 47, 13), bucket_seconds("floor", "15min"))
datetime.datetime(2008, 2, 24, 10, 45)
>>> divide(None, 1024), divide(2048, 1024)
(None, 2.0)
>>> required_texts(re.compile(r"GET /img/\\d+\\.png"))
('GET /img/', '.png')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .errors import FieldError

__all__ = [
    "ARITHMETIC",
    "CALLS",
    "COMPARISONS",
    "PARTS",
    "TESTS",
    "bucket_seconds",
    "check_texts",
    "floor_datetime",
    "divide",
    "required_texts",
    "record_function",
    "columns_function",
]

COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
PARTS = {"year", "month", "day", "hour", "minute", "second"}  # attributes of a datetime
CALLS = {"date": "{}.date()", "weekday": "{}.weekday()", "lower": "{}.lower()",
         "upper": "{}.upper()", "len": "len({})"}  # fmt: skip
"""How the parts that are calls read in Python source."""
TESTS = {"contains": "({a} in {s})", "isin": "({s} in {a})",
         "matches": "({a}.search({s}) is not None)",
         "startswith": "{s}.startswith({a})", "endswith": "{s}.endswith({a})"}  # fmt: skip
"""How each text test reads in Python source: ``s`` its subject, ``a`` its argument."""

_DAY = 86400
_UNITS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": _DAY}
_BUCKET = re.compile(r"(\d*)(s|sec|min|h|d)")


def bucket_seconds(stage: str, unit: object) -> int:
    """The length in seconds of a time bucket such as ``"30s"``, ``"5min"``, ``"1h"``, ``"1d"``.

    A bucket must divide a day evenly (buckets start at midnight, so every day
    has the same ones): ``"7min"`` does not, and ``"m"`` is refused as
    ambiguous (minute or month).

    >>> bucket_seconds("floor", "5min"), bucket_seconds("floor", "h")
    (300, 3600)
    >>> bucket_seconds("floor", "7min")
    Traceback (most recent call last):
    ...
    ValueError: floor: a bucket must divide a day evenly, got '7min'
    """
    found = _BUCKET.fullmatch(unit) if isinstance(unit, str) else None
    if found is None:
        raise ValueError(
            f"{stage}: expected a time bucket such as '30s', '5min', '1h' or '1d', got {unit!r}"
        )
    count = int(found[1] or 1)
    seconds = count * _UNITS[found[2]]
    if count == 0 or _DAY % seconds:
        raise ValueError(f"{stage}: a bucket must divide a day evenly, got {unit!r}")
    return seconds


def floor_datetime(value: datetime, seconds: int) -> datetime:
    """The start of the bucket of ``seconds`` that ``value`` falls in, counted from its midnight.

    The wall-clock time is floored, and the timezone kept: an aware datetime
    stays aware, in its own offset.

    >>> from datetime import timezone, timedelta
    >>> floor_datetime(datetime(2008, 2, 24, 0, 8, 59, tzinfo=timezone(timedelta(hours=-6))), 3600)
    datetime.datetime(2008, 2, 24, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, \
seconds=64800)))
    """
    if seconds == _DAY:
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    s = value.hour * 3600 + value.minute * 60 + value.second
    s -= s % seconds
    return value.replace(hour=s // 3600, minute=s // 60 % 60, second=s % 60, microsecond=0)


# Arithmetic on field values: None (a missing value, as JSON writes it) gives None.
def add(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def subtract(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def multiply(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a * b


def divide(a: Any, b: Any) -> Any:
    """``a / b``, or None if either is None."""
    return None if a is None or b is None else a / b


def floor_divide(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a // b


def modulo(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a % b


ARITHMETIC: dict[str, tuple[str, int, Callable[[Any, Any], Any]]] = {
    "add": ("+", 1, add),
    "sub": ("-", 1, subtract),
    "mul": ("*", 2, multiply),
    "truediv": ("/", 2, divide),
    "floordiv": ("//", 2, floor_divide),
    "mod": ("%", 2, modulo),
}
"""Each arithmetic operation: its symbol, its precedence (for parentheses), its function."""


def check_texts(stage: str, texts: object) -> str | tuple[str, ...]:
    """A text, or a tuple of texts, as given; anything else is a TypeError naming ``stage``."""
    for text in texts if isinstance(texts, tuple) else (texts,):
        if not isinstance(text, str):
            raise TypeError(f"{stage}: expected a str or a tuple of str, got {texts!r}")
    return texts  # type: ignore[return-value]


def _sre() -> Any:
    try:  # the regex parser is internal: its texts are a hint, so do without if it moves
        import re._parser as sre_parse  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - older or newer Pythons
        return None
    return sre_parse


def required_texts(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Texts that every string the pattern finds a match in must contain (a pre-scan's clue).

    Only runs of literal characters that every match must go through count:
    an alternation, an optional part or a character class ends a run; with
    IGNORECASE there are none.

    >>> required_texts(re.compile(r"^(?:GET|HEAD) /a+b\\?x"))
    (' /', 'a', 'b?x')
    >>> required_texts(re.compile("bot", re.IGNORECASE)), required_texts(re.compile("a|b"))
    ((), ())
    """
    sre_parse = _sre()
    if sre_parse is None or not isinstance(pattern.pattern, str):
        return ()
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return ()
    if parsed.state.flags & re.IGNORECASE:
        return ()
    runs: list[str] = []
    current: list[str] = []
    _walk(list(parsed), sre_parse, runs, current)
    runs.append("".join(current))
    return tuple(dict.fromkeys(r for r in runs if r))


def _walk(items: Sequence[Any], sre_parse: Any, runs: list[str], current: list[str]) -> None:
    constants = sre_parse._constants if hasattr(sre_parse, "_constants") else sre_parse
    for op, arg in items:
        if op is constants.LITERAL:
            current.append(chr(arg))
        elif op is constants.SUBPATTERN and not (arg[1] or arg[2]):  # a group, no local flags
            _walk(list(arg[3]), sre_parse, runs, current)
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
            low, _, inner = arg
            runs.append("".join(current))
            current.clear()
            if low >= 1:  # the repeated part is there at least once, on its own
                _walk(list(inner), sre_parse, runs, current)
                runs.append("".join(current))
                current.clear()
        elif op is constants.AT:
            continue  # an anchor takes no characters
        else:
            runs.append("".join(current))
            current.clear()


def missing_path(
    stage: str, exc: Exception, record: Any, paths: tuple[tuple[str, ...], ...]
) -> Exception:
    """The error a compiled expression raises for a record without a field it reads.

    A missing key, or a value that is not a dict where a nested key is read,
    is a :class:`FieldError` naming the whole path (``http.status``); any
    other error is returned unchanged.
    """
    for path in paths:
        value = record
        try:
            for key in path:
                value = value[key]
        except (KeyError, TypeError, IndexError):
            return FieldError(stage, ".".join(path), record)
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return FieldError(stage, exc.args[0], record)
    return exc


def record_function(
    body: str, consts: list[Any], title: str, stage: str, paths: tuple[tuple[str, ...], ...]
) -> Callable[[Any], Any]:
    """Compile ``body`` (Python reading the record ``r``) into a function of one record."""
    defaults = "".join(f", _c{i}=_c{i}" for i in range(len(consts)))
    code = (
        f"def _expr(r{defaults}):\n"
        f"    try:\n"
        f"        return {body}\n"
        f"    except (KeyError, TypeError) as exc:\n"
        f"        raise _missing(_stage, exc, r, _paths) from None\n"
    )
    scope: dict[str, Any] = {f"_c{i}": c for i, c in enumerate(consts)}
    scope.update(_missing=missing_path, _stage=stage, _paths=paths)
    exec(compile(code, f"<streamql expression {title}>", "exec"), scope)
    func: Callable[[Any], Any] = scope["_expr"]
    func.__qualname__ = title
    return func


def columns_function(
    body: str, consts: list[Any], names: tuple[str, ...], title: str, select: bool
) -> Callable[..., list[Any]]:
    """Compile ``body`` into a function of columns, one per name, in one comprehension.

    With ``select`` it returns the indexes of the rows ``body`` is true for;
    otherwise ``body``'s value for every row.
    """
    for i, name in enumerate(names):  # field reads are the only r[...] in the source
        body = body.replace(f"r[{name!r}]", f"_v{i}")
    columns = ", ".join(f"_col{i}" for i in range(len(names)))
    defaults = "".join(f", _c{i}=_c{i}" for i in range(len(consts)))
    if len(names) == 1:
        row, rows = "_v0", "_col0"
    else:
        row = "(" + ", ".join(f"_v{i}" for i in range(len(names))) + ")"
        rows = f"zip({columns})"
    loop = (
        f"[_i for _i, {row} in enumerate({rows}) if {body}]"
        if select
        else (f"[{body} for {row} in {rows}]")
    )
    code = f"def _columns({columns}{defaults}):\n    return {loop}\n"
    scope: dict[str, Any] = {f"_c{i}": c for i, c in enumerate(consts)}
    exec(compile(code, f"<streamql columns {title}>", "exec"), scope)
    func: Callable[..., list[Any]] = scope["_columns"]
    return func
