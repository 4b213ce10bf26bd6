"""The ``streamql`` command: the tutorial's queries on a sample tree, and one-off queries.

``streamql demo`` writes a sample log tree (see :mod:`streamql.samples.tree`) and runs
the queries of parts 2 to 4 of "Generator Tricks for Systems Programmers" on it,
showing each as code, its answer and its time, and checking every answer
against the sample's own bookkeeping. ``streamql query EXPR [FILE ...]`` runs
one query on your files, or on standard input, the way you would use grep or awk.

Exit status: 0 success; 1 a runtime error (a missing or damaged file, a failing
query, a demo answer that disagrees); 2 a usage error (bad option or
expression); 130 interrupted (Ctrl-C); 141 output pipe closed (``| head``).
``--traceback`` shows the Python traceback of an error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from .. import __version__
from ..core._lazy import lazy
from .console import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_RUNTIME,
    EXIT_USAGE,
    CliError,
    write,
)
from .output import OUTPUTS, print_result, render_item
from .query import run_query

__all__ = ["main", "print_result", "render_item"]


if TYPE_CHECKING:
    from . import demo as _demo
else:  # the demo and its sample writer load only for `streamql demo`
    _demo = lazy("streamql.cli.demo")


def _lines_per_file(text: str) -> int:
    return _demo.lines_per_file(text)


def _run_demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    return _demo.run_demo(args, out, err)


QUERY_HELP = """\
Run one query on the lines of FILEs, or of standard input (no FILE, or '-').
Files and standard input may be plain, gzip, bzip2, xz or zstd (told by
content); a directory stands for every file under it; quoted globs are
expanded ('logs/**/access-log*'). A line over 1 MiB is a counted reject.

EXPR is Python, evaluated in this process exactly like a line typed at the
Python prompt, so run only expressions you would run yourself. With a leading
dot it continues `lines`, the Stream of input lines:

  streamql query '.grep("ply").count()' access-log
  streamql query '.field(-1).where(lambda x: x != "-").map(int).sum()' access-log
  streamql query '.parse_apache().where(status=404).count_by("request")' www/*/access-log*
  grep ply access-log | streamql query '.parse_apache().where(F.bytes > 100_000)'
  streamql query -o csv '.parse_apache().select("host", "bytes")' access-log > out.csv

Without one, it is any expression using `lines`:

  streamql query 'sorted(lines.parse_apache().set("host"))[:10]' access-log
  streamql query 'lines.parse_apache().aggregate(total=Sum("bytes"), n=Count())' access-log

In scope: lines, Stream, F, the aggregations (Sum, Count, CountBy, Top, Min,
Max, Mean, Distinct, ...), re, datetime, timedelta, timezone.

Output (--output auto): a Stream prints one item per line (records and windows
as JSON lines, datetimes in ISO 8601); a dict (count_by, a record) prints
key<TAB>value lines; lists and sets print one item per line; None (after
.show()) prints nothing; anything else prints as itself. --output jsonl, json
(one document), csv, tsv or table print the result in that format. Lines the
query rejected (e.g. not Apache log lines) are summed up on stderr, with the
command that shows them all.
"""

MAIN_EPILOG = """\
Start with:  streamql demo            (the tutorial's queries on a sample tree)
Then:        streamql query --help    (queries on your own files)

Exit status: 0 done, 1 runtime error (missing or damaged file, failing query),
2 usage error (bad option or expression), 130 interrupted, 141 output closed.
"""

DEMO_HELP = """\
Write a sample tree of Apache logs (plain, gzip, bzip2 and xz; common and
combined format; a few malformed lines) and run the queries of parts 2-4 of
"Generator Tricks for Systems Programmers" on it. Each query is shown as the
code that runs it, then its answer and time, checked against the answers the
sample generator recorded while writing. Needs no data of yours.
"""


# ------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamql",
        description="Lazy stream queries over logs and files, after David Beazley's "
        '"Generator Tricks for Systems Programmers".',
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"streamql {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the Python traceback of an error"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--traceback", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        return sub

    demo = command("demo", "run the tutorial's queries on a generated sample tree", DEMO_HELP)
    demo.add_argument(
        "--dir", metavar="DIR", help="write the tree here (new or empty; kept afterwards)"
    )
    demo.add_argument(
        "--lines",
        metavar="N",
        type=_lines_per_file,
        default=2000,
        help="lines per log file, 9 files (default: %(default)s)",
    )
    demo.add_argument(
        "--seed",
        metavar="N",
        type=int,
        default=0,
        help="seed of the sample's generator (default: %(default)s)",
    )
    demo.add_argument("--keep", action="store_true", help="keep the temporary tree")
    demo.set_defaults(run=_run_demo)

    query = command("query", "run one query on files or standard input", QUERY_HELP)
    query.add_argument("expr", metavar="EXPR", help="the query: '.grep(\"x\").count()'")
    query.add_argument("files", metavar="FILE", nargs="*", help="files, directories, globs, '-'")
    query.add_argument(
        "--output",
        "-o",
        choices=OUTPUTS,
        default="auto",
        help="how to print the result: auto (lines, JSON lines, key<TAB>value), jsonl, "
        "json (one document), csv, tsv, table (default: %(default)s)",
    )
    query.add_argument(
        "--progress",
        choices=("auto", "on", "off"),
        default="auto",
        help="a progress bar by bytes read on stderr (auto: when stderr is a terminal)",
    )
    query.set_defaults(run=run_query)
    return parser


def _print_traceback(exc: BaseException, err: IO[str]) -> None:
    import traceback  # only --traceback needs it

    traceback.print_exception(exc, file=err)


def _error(err: IO[str], error: CliError) -> None:
    write(err, f"streamql: {error.message}\n")
    if error.hint:
        write(err, "".join(f"  {line}\n" for line in error.hint.splitlines()))


def _silence_stdout() -> None:
    """After the reader of our stdout went away, send what is left to /dev/null.

    Otherwise Python's final flush fails again and prints a second error.
    """
    real = sys.__stdout__
    if real is None or sys.stdout is not real:
        return  # not the process's own stdout (embedded, tests): nothing flushes it at exit
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, real.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``streamql`` command with ``argv`` (default: ``sys.argv[1:]``); return its status.

    >>> main(["query", "--help"])  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    usage: streamql query [-h] [--output {auto,jsonl,json,csv,tsv,table}]
                          [--progress {auto,on,off}]
                          EXPR [FILE ...]
    ...
    0
    """
    out, err = sys.stdout, sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace, IO[str], IO[str]], int] = args.run
    try:
        try:
            return run(args, out, err)
        except BrokenPipeError:
            raise
        except CliError as exc:
            if args.traceback:
                _print_traceback(exc.__cause__ or exc, err)
            _error(err, exc)
            return exc.status
        except Exception as exc:  # a bug of ours: still one line, unless asked
            if args.traceback:
                _print_traceback(exc, err)
            _error(err, CliError(f"internal error: {type(exc).__name__}: {exc}", EXIT_RUNTIME))
            return EXIT_RUNTIME
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
