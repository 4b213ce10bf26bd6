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

import importlib
from typing import TYPE_CHECKING, Any

# Each public name and the module that holds it. They are imported on first
# use (PEP 562), so ``import streamql`` costs next to nothing and a one-line
# query loads only what it runs. Modules whose names a function shares keep
# the module's name: import those functions from them (from streamql.files
# import files, lines; from streamql.follow import follow; from
# streamql.logfile import logfile).
_WHERE = {
    "ApacheRecord": "apache",
    "ApproxDistinct": "aggregates",
    "ApproxQuantiles": "aggregates",
    "ConsumerThread": "coroutines",
    "CorruptFileError": "errors",
    "Count": "aggregates",
    "CountBy": "aggregates",
    "Distinct": "aggregates",
    "Explanation": "stream",
    "F": "expr",
    "FieldError": "errors",
    "First": "aggregates",
    "FrameError": "transport",
    "HeavyHitters": "aggregates",
    "Last": "aggregates",
    "LastSeen": "flow",
    "LiveRun": "live",
    "LiveView": "liveview",
    "Max": "aggregates",
    "Mean": "aggregates",
    "Min": "aggregates",
    "NetConsumer": "net",
    "Origin": "records",
    "ParseError": "errors",
    "Quantiles": "aggregates",
    "Reject": "context",
    "RejectedLinesWarning": "errors",
    "RunContext": "context",
    "Stream": "stream",
    "StreamError": "errors",
    "Sum": "aggregates",
    "Table": "display",
    "Top": "aggregates",
    "Window": "windows",
    "broadcast": "coroutines",
    "cat": "files",
    "consumer": "coroutines",
    "field": "text",
    "generate": "flow",
    "grep": "text",
    "live_runs": "live",
    "open_file": "files",
    "open_files": "files",
    "operation": "stream",
    "parse_apache": "apache",
    "receive_from": "net",
    "send_to": "net",
    "show_progress": "progress",
    "shutdown_on_signals": "shutdown",
    "stop_all": "live",
    "storelast": "flow",
    "trace": "flow",
}

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'streamql' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
