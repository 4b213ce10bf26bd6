"""Typed conversion of named fields for the text parsers: datetimes and plain callables.

A conversion is a name (``"iso8601"``, ``"epoch"``, ``"epoch_ms"``, each giving
an aware :class:`~datetime.datetime`) or a callable such as ``int`` or ``float``.
A value it cannot convert raises :class:`ValueError` with a reason that names
the field, which the parsers turn into a reject.

>>> convert("ts", "iso8601", "2026-12-04T10:00:00Z").isoformat()
'2026-12-04T10:00:00+00:00'
>>> convert("ts", "epoch_ms", 1_000).isoformat()
'1970-01-01T00:00:01+00:00'
>>> convert("ts", "iso8601", "2026-12-04 10:00")
Traceback (most recent call last):
...
ValueError: field 'ts': datetime without a UTC offset: '2026-12-04 10:00'
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["DATETIME_FORMATS", "Conversion", "check_conversions", "convert", "result_type"]

DATETIME_FORMATS = ("iso8601", "epoch", "epoch_ms")
Conversion = str | Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NEEDS_Z_FIX = sys.version_info < (3, 11)  # fromisoformat learnt "Z" in 3.11


def check_conversions(stage: str, option: str, conversions: object) -> dict[str, Conversion]:
    """Validate a ``datetime=`` / ``types=`` mapping when the step is added; return it as a dict."""
    if conversions is None:
        return {}
    if not isinstance(conversions, Mapping):
        raise TypeError(
            f"{stage}: {option} must be a mapping of field to conversion, got {conversions!r}"
        )
    out: dict[str, Conversion] = {}
    for name, how in conversions.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{stage}: {option} keys must be field names, got {name!r}")
        if isinstance(how, str):
            if how not in DATETIME_FORMATS:
                raise ValueError(
                    f"{stage}: {option}[{name!r}] must be one of {DATETIME_FORMATS}"
                    f"{' or a callable' if option == 'types' else ''}, got {how!r}"
                )
        elif not callable(how) or option == "datetime":
            raise TypeError(
                f"{stage}: {option}[{name!r}] must be one of {DATETIME_FORMATS}"
                f"{' or a callable' if option == 'types' else ''}, got {how!r}"
            )
        out[name] = how
    return out


def result_type(how: Conversion) -> type:
    """The type a conversion yields, for the schema (``object`` when unknown)."""
    if isinstance(how, str):
        return datetime
    return how if isinstance(how, type) else object


def _iso(name: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"field {name!r}: not an ISO 8601 datetime: {value!r:.60}")
    text = value[:-1] + "+00:00" if _NEEDS_Z_FIX and value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"field {name!r}: not an ISO 8601 datetime: {value!r:.60}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"field {name!r}: datetime without a UTC offset: {value!r:.60}")
    return parsed


def _epoch(name: str, value: Any, unit: str) -> datetime:
    number = value
    if isinstance(value, str):  # logfmt values are text
        try:
            number = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            number = None
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        raise ValueError(f"field {name!r}: not a number of {unit}: {value!r:.60}")
    try:
        return _EPOCH + timedelta(**{unit: number})
    except (OverflowError, ValueError):
        raise ValueError(f"field {name!r}: {unit} out of range: {value!r:.60}") from None


def convert(name: str, how: Conversion, value: Any) -> Any:
    """Convert one field's value; raise ValueError naming the field if it cannot be."""
    if how == "iso8601":
        return _iso(name, value)
    if how == "epoch":
        return _epoch(name, value, "seconds")
    if how == "epoch_ms":
        return _epoch(name, value, "milliseconds")
    assert callable(how)
    try:
        return how(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        kind = getattr(how, "__name__", repr(how))
        raise ValueError(f"field {name!r}: {kind}({value!r:.60}) failed: {exc}") from None
