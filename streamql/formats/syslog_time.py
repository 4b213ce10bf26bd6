"""Syslog timestamps: BSD's ``Oct 11 22:14:15`` (no year, no zone) and RFC 3339's.

A BSD (RFC 3164) timestamp has neither a year nor a time zone, so both come
from the user (``year=``, ``tz=`` of :func:`streamql.formats.syslog.parse_syslog`):

- ``tz``: a :class:`~datetime.tzinfo`, an IANA name (``"Europe/Paris"``,
  ``"UTC"``), or None (the default): the local time zone of the machine
  running the query, which is what a syslog daemon on that machine wrote;
  a timestamp is given the zone's offset of its own date, so summer and
  winter time both come out right.
- ``year``: None (the default) gives each timestamp the latest year that
  does not put it more than a day after *now* (the wall clock, read again
  whenever an hour not seen before is met, so a live stream keeps up). A log
  that crosses December to January, read in January, has its December lines
  in the old year and its January lines in the new one. A
  :class:`~datetime.datetime` does the same with that moment as *now* (the
  time the log was copied, say), for a reproducible answer; an int puts every
  line in that year, as is.

The rule looks at each line alone, never at the line before: a run over part
of a file (``engine="processes"``), a ``tail`` or a rotated file gives every
line the year it would get reading the whole file. Lines of one hour share
one datetime for the hour's start, so the cost per line is a dict lookup.

>>> from datetime import datetime, timezone
>>> clock = BsdClock(datetime(2025, 1, 2, tzinfo=timezone.utc), "UTC")
>>> clock.hour("Dec", "31", "23"), clock.hour("Jan", " 1", "00")
(datetime.datetime(2024, 12, 31, 23, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
 datetime.datetime(2025, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
>>> rfc3339("2003-08-24T05:14:15.000003-07:00").isoformat()
'2003-08-24T05:14:15.000003-07:00'
"""

from __future__ import annotations

import re
import time
import zoneinfo
from datetime import datetime, timedelta, timezone, tzinfo

from .access.apache_time import _MONTHS

__all__ = ["BsdClock", "check_tz", "check_year", "rfc3339", "seconds_into_hour", "RFC3339"]

Year = int | datetime | None

# A day of slack: a sender's clock a little ahead, or a zone east of UTC.
_SLACK = timedelta(days=1)
_UTC = timezone.utc

RFC3339 = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))\Z"
)
_OFFSETS: dict[str, tzinfo] = {}


def check_tz(stage: str, tz: object) -> tzinfo | None:
    """Validate a ``tz=`` argument when the step is added: a tzinfo, a zone name, or None."""
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str):
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{stage}: tz {tz!r} is not a time zone this machine knows\n\n"
                "Name an IANA zone such as 'UTC' or 'Europe/Paris', or pass a tzinfo."
            ) from None
    raise TypeError(f"{stage}: tz must be a tzinfo, a zone name or None, got {tz!r}")


def check_year(stage: str, year: object) -> Year:
    """Validate a ``year=`` argument when the step is added: an int, a datetime, or None."""
    if year is None or isinstance(year, datetime):
        return year
    if isinstance(year, int) and not isinstance(year, bool) and 1 <= year <= 9999:
        return year
    raise TypeError(f"{stage}: year must be an int (1-9999), a datetime or None, got {year!r}")


class BsdClock:
    """Turns a BSD timestamp's month, day and hour into an aware datetime, cached by hour."""

    def __init__(self, year: Year, tz: str | tzinfo | None) -> None:
        self._year = year
        self._tz = tz if isinstance(tz, tzinfo) or tz is None else check_tz("syslog", tz)
        self._hours: dict[tuple[str, str, str], datetime | None] = {}
        self._fresh_until = 0.0  # year=None: when the cached years were resolved, plus a day

    def hour(self, month: str, day: str, hour: str) -> datetime | None:
        """The start of the hour, or None if no date fits (``Feb 30``, ``Foo 1``)."""
        key = (month, day, hour)
        start = self._hours.get(key)
        if start is None and key not in self._hours:
            # A year decided against the wall clock holds for a day: a stream
            # that runs for a year must not reuse last December's for this one.
            # (Checked on a miss only, which a live stream has every new hour.)
            stale = self._year is None and time.time() > self._fresh_until
            if len(self._hours) >= 10_000 or stale:
                self._hours.clear()
                self._fresh_until = time.time() + 86_400
            start = self._hours[key] = self._resolve(month, day, hour)
        return start

    def _resolve(self, month: str, day: str, hour: str) -> datetime | None:
        number = _MONTHS.get(month)
        if number is None or not day.strip().isdigit() or not hour.isdigit():
            return None
        d, h = int(day), int(hour)
        year = self._year
        if isinstance(year, int):
            return self._local(year, number, d, h)
        now = year if year is not None else datetime.fromtimestamp(time.time(), _UTC)
        if now.tzinfo is None:
            now = self._local(now.year, now.month, now.day, now.hour) or now.replace(tzinfo=_UTC)
        latest = now + _SLACK
        # Feb 29 may need to go back to the last leap year: at most 8 years.
        for y in range(now.year + 1, now.year - 9, -1):
            start = self._local(y, number, d, h)
            if start is not None and start <= latest:
                return start
        return None

    def _local(self, y: int, month: int, d: int, h: int) -> datetime | None:
        try:
            naive = datetime(y, month, d, h)
        except ValueError:  # day 32, hour 25, Feb 29 of a common year
            return None
        if self._tz is None:
            return naive.astimezone()  # the machine's zone, with that date's offset
        return naive.replace(tzinfo=self._tz)


_INTO_HOUR: dict[str, timedelta] = {}


def seconds_into_hour(mmss: str) -> timedelta | None:
    """The time into the hour of ``MM:SS``, or None if out of range (cached)."""
    delta = _INTO_HOUR.get(mmss)
    if delta is None:
        if not (mmss[:2].isdigit() and mmss[3:].isdigit()):
            return None
        minutes, seconds = int(mmss[:2]), int(mmss[3:])
        if minutes >= 60 or seconds >= 60:
            return None
        delta = _INTO_HOUR[mmss] = timedelta(minutes=minutes, seconds=seconds)
    return delta


def _offset(sign: str, hh: str, mm: str) -> tzinfo | None:
    key = sign + hh + mm
    tz = _OFFSETS.get(key)
    if tz is None:
        if int(mm) >= 60 or int(hh) >= 24:
            return None
        delta = timedelta(hours=int(hh), minutes=int(mm))
        tz = _OFFSETS[key] = timezone(-delta if sign == "-" else delta)
    return tz


def rfc3339(text: str) -> datetime | None:
    """Parse an RFC 3339 timestamp (RFC 5424's TIMESTAMP) into an aware datetime, or None.

    Fractions of up to 6 digits; a leap second (``:60``) is refused, as RFC
    5424 asks. Works the same on every Python streamql supports.

    >>> rfc3339("1985-04-12T23:20:50.52Z").isoformat()
    '1985-04-12T23:20:50.520000+00:00'
    >>> rfc3339("2003-10-11T22:14:15.003Z").microsecond, rfc3339("2003-10-11T22:14:60Z")
    (3000, None)
    """
    m = _RFC3339.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zulu, sign, oh, om = m.groups()
    tz = _UTC if zulu else _offset(sign, oh, om)
    if tz is None:
        return None
    try:
        return datetime(
            int(y),
            int(mo),
            int(d),
            int(h),
            int(mi),
            int(s),
            int(frac.ljust(6, "0")) if frac else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None
