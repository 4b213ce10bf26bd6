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

from . import _moved

_moved.install()  # streamql 0.1's flat module paths still import

# Each public name and the module that holds it. They are imported on first
# use (PEP 562), so ``import streamql`` costs next to nothing and a one-line
# query loads only what it runs. Modules whose names a function shares keep
# the module's name: import those functions from them (from streamql.ops.files
# import files, lines; from streamql.live.follow import follow; from
# streamql.live.logfile import logfile).
_WHERE = {
    "ApacheRecord": "formats.access.apache",
    "ApproxDistinct": "aggregates",
    "ApproxQuantiles": "aggregates",
    "ConsumerThread": "routing.coroutines",
    "CorruptFileError": "core.errors",
    "Count": "aggregates",
    "CountBy": "aggregates",
    "Distinct": "aggregates",
    "Explanation": "api.stream",
    "F": "core.expr",
    "FieldError": "core.errors",
    "First": "aggregates",
    "FrameError": "routing.transport",
    "HeavyHitters": "aggregates",
    "Last": "aggregates",
    "LastSeen": "ops.flow",
    "LiveRun": "live.runs",
    "LiveView": "display.liveview",
    "Max": "aggregates",
    "Mean": "aggregates",
    "Min": "aggregates",
    "NetConsumer": "routing.net",
    "Origin": "ops.records",
    "ParseError": "core.errors",
    "Quantiles": "aggregates",
    "Reject": "core.context",
    "RejectedLinesWarning": "core.errors",
    "RunContext": "core.context",
    "Stream": "api.stream",
    "StreamError": "core.errors",
    "Sum": "aggregates",
    "Table": "display.show",
    "Top": "aggregates",
    "Window": "live.windows",
    "broadcast": "routing.coroutines",
    "cat": "ops.files",
    "consumer": "routing.coroutines",
    "field": "ops.text",
    "generate": "ops.flow",
    "grep": "ops.text",
    "live_runs": "live.runs",
    "open_file": "ops.files",
    "open_files": "ops.files",
    "operation": "api.stream",
    "parse_apache": "formats.access.apache",
    "receive_from": "routing.net",
    "send_to": "routing.net",
    "show_progress": "engine.progress",
    "shutdown_on_signals": "live.shutdown",
    "stop_all": "live.runs",
    "storelast": "ops.flow",
    "trace": "ops.flow",
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
    from .api.stream import Explanation, Stream, operation
    from .core.context import Reject, RunContext
    from .core.errors import (
        CorruptFileError,
        FieldError,
        ParseError,
        RejectedLinesWarning,
        StreamError,
    )
    from .core.expr import F
    from .display.liveview import LiveView
    from .display.show import Table
    from .engine.progress import show_progress
    from .formats.access.apache import ApacheRecord, parse_apache
    from .live.runs import LiveRun, live_runs, stop_all
    from .live.shutdown import shutdown_on_signals
    from .live.windows import Window
    from .ops.files import cat, open_file, open_files
    from .ops.flow import LastSeen, generate, storelast, trace
    from .ops.records import Origin
    from .ops.text import field, grep
    from .routing.coroutines import ConsumerThread, broadcast, consumer
    from .routing.net import NetConsumer, receive_from, send_to
    from .routing.transport import FrameError


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
