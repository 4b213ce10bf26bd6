"""Why a line of the tuned Apache parser (common, combined, auto) is rejected.

Only called for lines the line pattern refused, so it may walk them slowly,
field by field, to name what is wrong.

>>> _diagnose('h - - [24/Feb/2008:00:08:59 -0600] "GET / HTTP/1.1" 200 1 "x"', "auto")
'unexpected text after bytes'
"""

from __future__ import annotations

import re

from .apache_time import _datetime
from .logformat import possessive

__all__ = ["_diagnose", "QUOTED"]

# A quoted field as Apache writes it: '"' and '\' appear only escaped, as \"
# and \\. Unrolled ("normal* (special normal*)*") because the alternation form
# (?:[^"\\]|\\.)* costs one regex branch per character. Each character belongs
# to exactly one token, so nothing is lost by never backtracking: on 3.11+ the
# quantifiers are possessive, which keeps a 10 MB field full of \" linear.
QUOTED = possessive(r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"')
_QUOTED = QUOTED

_START = re.compile(r"(\S+) (\S+) (\S+) \[([^\]]*)\] ")
_FIELD = re.compile(_QUOTED)
_STATUS_BYTES = re.compile(r" (?:[0-9]{3}|-) (?:[0-9]+|-)")
_BLANK = re.compile(r"\s*\Z")  # matched at a position: no copy of a long line


def _diagnose(line: str, format: str) -> str:
    """Name what is wrong with a line, walking it field by field.

    Only called for lines the line pattern refused, so it may be slow.
    """
    if _BLANK.match(line):
        return "blank line"
    if "\x00" in line:
        return "NUL byte in line"
    start = _START.match(line)
    if start is None:
        return "not an Apache log line"
    if _datetime(start[4]) is None:
        return "bad datetime"
    pos = start.end()
    if not line.startswith('"', pos):
        return "not an Apache log line"
    field = _FIELD.match(line, pos)
    if field is None:
        return "unterminated quoted field"
    status_bytes = _STATUS_BYTES.match(line, field.end())
    if status_bytes is None:
        return "bad status or bytes field"
    pos = status_bytes.end()
    if _BLANK.match(line, pos):
        return "not a combined line" if format == "combined" else "not an Apache log line"
    if format == "common":
        return "unexpected text after bytes (common format)"
    for _ in ("referer", "agent"):
        if not line.startswith(' "', pos):
            return "unexpected text after bytes"
        field = _FIELD.match(line, pos + 1)
        if field is None:
            return "unterminated quoted field"
        pos = field.end()
    if not _BLANK.match(line, pos):
        return "unexpected text after agent"
    return "not an Apache log line"  # not reached while the two walks agree
