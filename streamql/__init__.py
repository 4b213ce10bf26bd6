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

from .aggregates import (
    ApproxDistinct,
    ApproxQuantiles,
    Count,
    CountBy,
    Distinct,
    First,
    HeavyHitters,
    Last,
    Max,
    Mean,
    Min,
    Quantiles,
    Sum,
    Top,
)
from .apache import ApacheRecord, parse_apache
from .context import Reject, RunContext
from .coroutines import ConsumerThread, broadcast, consumer
from .display import Table
from .errors import CorruptFileError, FieldError, ParseError, RejectedLinesWarning, StreamError
from .expr import F

# Modules whose names a function shares keep the module's name: import those
# functions from them (from streamql.files import files, lines; from
# streamql.follow import follow; from streamql.logfile import logfile).
from .files import cat, open_file, open_files
from .flow import LastSeen, generate, storelast, trace
from .live import LiveRun, live_runs, stop_all
from .liveview import LiveView
from .net import NetConsumer, receive_from, send_to
from .progress import show_progress
from .records import Origin
from .shutdown import shutdown_on_signals
from .stream import Explanation, Stream, operation
from .text import field, grep
from .transport import FrameError
from .windows import Window

__all__ = [
    "ApacheRecord",
    "ApproxDistinct",
    "ApproxQuantiles",
    "ConsumerThread",
    "CorruptFileError",
    "Count",
    "CountBy",
    "Distinct",
    "Explanation",
    "F",
    "FieldError",
    "First",
    "FrameError",
    "HeavyHitters",
    "Last",
    "LastSeen",
    "LiveRun",
    "LiveView",
    "Max",
    "Mean",
    "Min",
    "NetConsumer",
    "Origin",
    "ParseError",
    "Quantiles",
    "Reject",
    "RejectedLinesWarning",
    "RunContext",
    "Stream",
    "StreamError",
    "Sum",
    "Table",
    "Top",
    "Window",
    "broadcast",
    "cat",
    "consumer",
    "field",
    "generate",
    "grep",
    "live_runs",
    "open_file",
    "open_files",
    "operation",
    "parse_apache",
    "receive_from",
    "send_to",
    "show_progress",
    "shutdown_on_signals",
    "stop_all",
    "storelast",
    "trace",
]

__version__ = "0.1.0"
