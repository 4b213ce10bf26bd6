"""``streamql query EXPR [FILE ...]``: one query on files or standard input, as grep or awk.

EXPR is a Python expression over ``lines`` (a leading dot continues it), with
``Stream``, ``F``, the aggregations, ``re`` and ``datetime`` in scope; its
answer prints as a shell tool would (:mod:`streamql.cli.output`).
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import datetime as dt
import glob
import importlib.util
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from types import CodeType
from typing import IO, Any, TextIO, cast

from .. import aggregates
from ..api.stream import Stream
from ..core.errors import CorruptFileError, RejectedLinesWarning, StreamError
from ..core.expr import F
from ..engine import local as engine
from ..ops.files import open_stream
from .console import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, CliError, split_message, write
from .output import print_result, rejects_hint

__all__ = ["run_query"]


# ----------------------------------------------------------------- output


# What the library's reject summary suggests, in Python terms; the command
# line says it as a command instead (see rejects_hint).
_PYTHON_HINT = "; query .rejects to see them all"


@contextlib.contextmanager
def _report_warnings(err: IO[str], hint: Callable[[], str] = str) -> Iterator[None]:
    """Show each warning once on stderr as one readable line, rejected lines included.

    ``hint()`` says how to see the rejects; it runs only when there are some.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RejectedLinesWarning)
        try:
            yield
        finally:
            shown: set[str] = set()
            for w in caught:
                text = str(w.message)
                if text in shown:
                    continue
                shown.add(text)
                label = "" if issubclass(w.category, RejectedLinesWarning) else "warning: "
                if text.endswith(_PYTHON_HINT) and (said := hint()):
                    text = text.removesuffix(_PYTHON_HINT) + "; " + said
                write(err, f"streamql: {label}{text}\n")


# ------------------------------------------------------------------ query


def _compile_query(expr: str) -> tuple[CodeType, str]:
    """Compile EXPR; a leading dot continues ``lines``. Return the code and its text."""
    text = expr.strip()
    source = "lines" + text if text.startswith(".") or not text else text
    shift = len(source) - len(text) - (len(expr) - len(expr.lstrip()))
    try:
        return compile(source, "<query>", "eval"), source
    except SyntaxError as exc:
        caret = ""
        if exc.offset is not None and exc.lineno == 1:
            column = max(exc.offset - 1 - shift, 0)
            caret = f"\n  {expr}\n  {' ' * column}^"
        raise CliError(f"bad expression: {exc.msg}{caret}", EXIT_USAGE) from exc


def _check_files(names: list[str]) -> None:
    for name in names:
        if name == "-":
            raise CliError("'-' (standard input) cannot be mixed with files", EXIT_USAGE)
        if os.path.exists(name):
            continue
        if glob.has_magic(name):
            if not glob.glob(name, recursive=True):
                raise CliError(f"no file matches {name!r}", EXIT_RUNTIME)
        else:
            raise CliError(f"cannot open {name!r}: No such file or directory", EXIT_RUNTIME)


@contextlib.contextmanager
def _input(names: list[str], err: IO[str]) -> Iterator[Stream[str]]:
    """The Stream of input lines: the files named, or standard input.

    Standard input is read like a file: decompressed by content (gzip, bzip2,
    xz, zstd), undecodable bytes as \\xNN, lines over the cap rejected. The
    end of a run (``.first()``, ``| head``) closes the reader, never stdin.
    """
    if names and names != ["-"]:
        _check_files(names)
        yield Stream.lines(*names)
        return
    if sys.stdin is None:  # started without one (a service, pythonw)
        raise CliError("no standard input to read: name a FILE", EXIT_USAGE)
    if _isatty(sys.stdin):
        write(
            err,
            "streamql: reading lines from the terminal; end with Ctrl-D "
            "(or name a FILE; see streamql query --help)\n",
        )
    yield Stream(_stdin()).cat()


def _stdin() -> Iterator[IO[str]]:
    """Yield standard input once as a text file; closing it leaves the process's stdin open."""
    stdin = sys.stdin
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes under it (tests, embedding)
        yield stdin
        return
    text = open_stream(buffer, "<stdin>")
    try:
        yield text
    finally:
        text.close()


def _usage_error(exc: Exception) -> CliError:
    message, hint = split_message(str(exc))
    if isinstance(exc, NameError) and exc.name and hasattr(Stream, exc.name):
        hint = hint or f"to continue the input lines, start EXPR with a dot: '.{exc.name}(...)'"
    if isinstance(exc, AttributeError) and exc.obj is not None and exc.name:
        import difflib  # only a misspelled name needs it

        close = difflib.get_close_matches(exc.name, dir(exc.obj), n=1)
        if close:
            hint = hint or f"did you mean .{close[0]}?"
    if not isinstance(exc, (TypeError, ValueError)) or not message:
        message = f"{type(exc).__name__}: {message}"
    return CliError(f"bad expression: {message}", EXIT_USAGE, hint)


def _runtime_error(exc: Exception) -> CliError:
    if isinstance(exc, CorruptFileError):
        message, hint = split_message(str(exc))
    elif isinstance(exc, OSError) and exc.filename is not None:
        message, hint = f"{exc.filename}: {exc.strerror or exc}", ""
    elif isinstance(exc, (StreamError, OSError)):
        message, hint = split_message(str(exc))
    else:
        message, hint = split_message(f"{type(exc).__name__}: {exc}")
    notes = [n.removeprefix("streamql: ") for n in getattr(exc, "__notes__", ())]
    if notes:
        message += " (" + "; ".join(notes) + ")"
    return CliError(message, EXIT_RUNTIME, hint)


def _want_progress(choice: str, err: IO[str]) -> bool:
    """Show a progress bar: always, never, or (auto) when stderr is a terminal and tqdm is here."""
    have_tqdm = importlib.util.find_spec("tqdm") is not None
    if choice == "on" and not have_tqdm:
        raise CliError(
            "--progress on needs tqdm, which is not installed",
            EXIT_USAGE,
            "pip install streamql[progress]   (or leave --progress at auto)",
        )
    if choice != "auto":
        return choice == "on"
    return _isatty(err) and have_tqdm


def _names(code: CodeType) -> set[str]:
    """Every name ``code`` reads, in lambdas and comprehensions too."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


def _scope(lines: Stream[str], names: set[str]) -> dict[str, Any]:
    """The names an expression sees: the input, Stream, F, the aggregations, re and datetime."""
    scope: dict[str, Any] = {
        "__builtins__": builtins,
        "lines": lines,
        "Stream": Stream,
        "F": F,
        "re": re,
        "datetime": dt.datetime,
        "timedelta": dt.timedelta,
        "timezone": dt.timezone,
    }
    for name in aggregates.__all__:
        if name in names:  # imported only when named: most queries name none
            scope.setdefault(name, getattr(aggregates, name))
    return scope


def run_query(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    code, source = _compile_query(args.expr)
    progress = _want_progress(args.progress, err)

    def hint() -> str:
        return rejects_hint(source, args.files)

    with _input(args.files, err) as lines, _report_warnings(err, hint):
        if progress:
            lines = lines.progress(file=cast(TextIO, err))
        try:
            result = eval(code, _scope(lines, _names(code)))
        except BrokenPipeError:
            raise
        except Exception as exc:
            if engine.raised_in_run(exc) or isinstance(exc, (StreamError, OSError)):
                raise _runtime_error(exc) from exc
            raise _usage_error(exc) from exc
        try:
            print_result(result, out, aligned=_isatty(out), output=args.output)
        except BrokenPipeError:
            raise
        except Exception as exc:
            raise _runtime_error(exc) from exc
    return EXIT_OK


def _isatty(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
