"""How ``streamql query`` prints a result: as a shell tool would, or in a format asked for.

``auto`` (the default) prints a Stream item by item (lines as they are,
records as JSON lines), a dict as ``key<TAB>value`` lines, a list or set one
item per line, and anything else as itself; None (``.show()`` already
printed) prints nothing. ``--output`` asks for one format instead: ``jsonl``,
``json`` (one document), ``csv``, ``tsv`` or ``table`` (an aligned text
table; holds every row). In the JSON formats a dict keeps its shape (one
object); in the tabular ones it becomes ``key`` and ``value`` columns.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from ..api.base import StreamBase
from ..api.stream import Stream
from ..core._lazy import lazy
from .console import sorted_values, write

if TYPE_CHECKING:
    import json
    import shlex

    from ..ops import writers
else:  # loaded when a result is first written as JSON, CSV or TSV, or a hint is shown
    writers, json, shlex = lazy("streamql.ops.writers"), lazy("json"), lazy("shlex")

__all__ = ["OUTPUTS", "render_item", "print_result", "rejects_hint"]

OUTPUTS = ("auto", "jsonl", "json", "csv", "tsv", "table")


def render_item(item: Any) -> str:
    """Show one item on one line: lines as they are, records as JSON, times in ISO 8601.

    Named tuples (windows) show as JSON objects, so their fields keep their names.

    >>> render_item("GET / HTTP/1.1\\n")
    'GET / HTTP/1.1'
    >>> render_item({"status": 404, "datetime": dt.datetime(2008, 2, 24, 0, 8, 59)})
    '{"status": 404, "datetime": "2008-02-24T00:08:59"}'
    """
    if isinstance(item, str):
        return item.removesuffix("\n").removesuffix("\r")
    if isinstance(item, (dt.datetime, dt.date, dt.time)):
        return item.isoformat()
    if isinstance(item, tuple) and hasattr(item, "_asdict"):
        item = item._asdict()
    if isinstance(item, (dict, list, tuple)):
        try:
            return json.dumps(item, default=writers.to_json, ensure_ascii=False)
        except (TypeError, ValueError):  # keys JSON cannot hold, circular data
            return repr(item)
    return str(item)


class _Safe:
    """A text output that escapes what its encoding cannot show instead of failing."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def write(self, text: str) -> int:
        write(self._out, text)
        return len(text)


def _items(result: Any) -> Iterable[Any]:
    if isinstance(result, (set, frozenset)):
        return sorted_values(result)
    if isinstance(result, (list, tuple, Iterator)) and not hasattr(result, "_asdict"):
        return result
    return [result]


def _print_items(items: Iterable[Any], out: IO[str], output: str, aligned: bool) -> None:
    if output == "auto":
        for item in items:
            write(out, render_item(item) + "\n")
    elif output == "table":
        from ..display.show import text_table

        write(out, text_table(list(items)) + "\n")
    else:
        writer = {
            "jsonl": writers.write_jsonl,
            "json": writers.write_json,
            "csv": writers.write_csv,
            "tsv": writers.write_tsv,
        }
        writer[output](items, _Safe(out))  # type: ignore[arg-type]


def _json(value: Any) -> str:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        value = value._asdict()
    return json.dumps(value, default=writers.to_json, ensure_ascii=False) + "\n"


def print_result(result: Any, out: IO[str], *, aligned: bool = False, output: str = "auto") -> None:
    """Print a query's result: a Stream item by item, a dict as key<TAB>value lines.

    Lists, tuples and sets print one item per line (sets sorted); None prints
    nothing; anything else prints as :func:`render_item` shows it. ``aligned``
    pads the keys of a dict so its values line up (for a terminal; a pipe
    gets plain TSV). ``output`` picks a format (see the module's summary).

    >>> import sys
    >>> print_result({"/favicon.ico": 12, "/ply/": 3}, sys.stdout, aligned=True)
    /favicon.ico	12
    /ply/       	3
    >>> print_result({"/favicon.ico": 12, "/ply/": 3}, sys.stdout, output="csv")
    key,value
    /favicon.ico,12
    /ply/,3
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    if result is None:
        return  # .show() and friends printed already; a REPL prints nothing either
    if isinstance(result, StreamBase):
        items = iter(result)
        try:
            _print_items(items, out, output, aligned)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # stopped early (| head, Ctrl-C): close every file now
    elif isinstance(result, Mapping):
        if output in ("json", "jsonl"):
            write(out, _json(dict(result)))
        elif output == "auto":
            keys = [render_item(k) for k in result]
            width = min(max(map(len, keys), default=0), 60) if aligned else 0
            for key, value in zip(keys, result.values(), strict=True):
                write(out, f"{key:<{width}}\t{render_item(value)}\n")
        else:
            rows = ({"key": k, "value": v} for k, v in result.items())
            _print_items(rows, out, output, aligned)
    elif isinstance(result, str):
        _print_items([result], out, output, aligned)
    elif output in ("json", "jsonl") and not isinstance(result, (list, tuple, set, frozenset)):
        write(out, _json(result))
    else:
        _print_items(_items(result), out, output, aligned)


def rejects_hint(source: str, files: list[str]) -> str:
    """Say, as a command line, how to see the rejects of the query ``source`` (EXPR after "lines").

    The query without its terminal, then ``.rejects``:

    >>> rejects_hint("lines.parse_apache().where(status=404).count()", ["access-log"])
    "see them all: streamql query '.parse_apache().where(status=404).rejects' access-log"
    >>> rejects_hint("lines.parse_apache()", [])
    "see them all: ... | streamql query '.parse_apache().rejects'"
    """
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return ""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = getattr(Stream, node.func.attr, None)
        returns = getattr(method, "__annotations__", {}).get("return", "")
        if not str(returns).startswith("Stream"):
            node = node.func.value  # a terminal: the rejects are its stream's
    query = ast.unparse(node)
    if not query.startswith("lines"):
        return "see them all: add .rejects after the step that rejects them"
    query = shlex.quote(query.removeprefix("lines") + ".rejects")
    if files and files != ["-"]:
        return f"see them all: streamql query {query} {shlex.join(files)}"
    return f"see them all: ... | streamql query {query}"
