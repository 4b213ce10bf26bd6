"""streamql: a lazy, re-runnable stream query language for logs, files and streams.

David Beazley's "Generator Tricks for Systems Programmers" as a library: every
trick is an ordinary generator function you can use on its own, and the
``Stream`` class chains them into queries that read like the code you meant.

>>> from streamql import Stream, F
>>> log = Stream(['1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 133'])
>>> log.parse_apache().where(F.status == 404).set("request")
{'/a'}
"""

from __future__ import annotations

from .apache import ApacheRecord, parse_apache
from .context import Reject, RunContext
from .errors import CorruptFileError, FieldError, ParseError, RejectedLinesWarning, StreamError
from .expr import F

# The modules streamql.files and streamql.text keep their names: import their
# functions from them (from streamql.files import files, lines).
from .files import cat, open_file, open_files
from .flow import Last, generate, storelast, trace
from .records import Origin
from .stream import Explanation, Stream, operation
from .text import field, grep

__all__ = [
    "ApacheRecord",
    "CorruptFileError",
    "Explanation",
    "F",
    "FieldError",
    "Last",
    "Origin",
    "ParseError",
    "Reject",
    "RejectedLinesWarning",
    "RunContext",
    "Stream",
    "StreamError",
    "cat",
    "field",
    "generate",
    "grep",
    "open_file",
    "open_files",
    "operation",
    "parse_apache",
    "storelast",
    "trace",
]

__version__ = "0.1.0"
