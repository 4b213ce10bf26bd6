"""``streamql demo``: the tutorial's queries of parts 2 to 4 on a generated sample tree.

Each query is shown as code, then its answer and its time, and every answer is
checked against the sample generator's own bookkeeping (:mod:`streamql.samples.tree`),
a reference that is not streamql.
"""

from __future__ import annotations

import argparse
import os
import reprlib
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from ..api.stream import Stream
from ..core.errors import RejectedLinesWarning
from ..core.expr import F
from ..core.plan import render_call
from ..samples.tree import (
    BIG,
    DOWNLOAD,
    GREP_DIR,
    GREP_PATTERN,
    PLAIN_LOG,
    SampleTree,
    write_sample_tree,
)
from .console import (
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    CliError,
    sorted_values,
    split_message,
    write,
)

__all__ = ["run_demo", "lines_per_file"]


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _some(values: Iterable[Any], n: int = 6) -> str:
    items = sorted_values(values)
    shown = ", ".join(map(str, items[:n]))
    return f"{len(items)}: {shown}" + (", ..." if len(items) > n else "")


def _counts(mapping: Mapping[Any, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in mapping.items()) or "none"


def _shorten(value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        value = sorted_values(value)
    return reprlib.repr(value)


class _Demo:
    """Run the tutorial's queries on a sample tree, printing and checking each."""

    def __init__(self, tree: SampleTree, out: IO[str]) -> None:
        self.tree = tree
        self.out = out
        self.root = str(tree.root)
        self.failures = 0

    def say(self, text: str = "") -> None:
        write(self.out, text + "\n")

    def code(self, stream: Stream[Any], log: Stream[Any] | None = None) -> str:
        """The Stream as code, paths relative to the sample root, ``log`` for its prefix."""
        text = repr(stream)
        if log is not None:
            text = text.replace(repr(log), "log", 1)
        prefix = repr(self.root + os.sep)[:-1]  # the quote and root, up to the path
        return text.replace(prefix, prefix[0]).replace(repr(self.root), "'.'")

    def ask(
        self,
        title: str,
        stream: Stream[Any],
        terminal: str,
        *args: Any,
        expected: Any,
        answer: Callable[[Any], Any] = lambda value: value,
        show: Callable[[Any], str] = _number,
        log: Stream[Any] | None = None,
        note: str = "",
        **kwargs: Any,
    ) -> None:
        """Run ``stream.terminal(*args, **kwargs)``; print it as code, its answer, and check it.

        ``answer`` turns the result into what is compared with ``expected``.
        """
        self.say(f"  {title}")
        self.say(f"  >>> {self.code(stream, log)}.{render_call(terminal, args, kwargs)}")
        if note:
            self.say(f"      # {note}")
        start = time.perf_counter()
        try:
            result = getattr(stream, terminal)(*args, **kwargs)
        except Exception as exc:
            self.failed(exc)
            return
        seconds = time.perf_counter() - start
        self.say(f"  {show(result)}")
        self.check(answer(result), expected, seconds, stream)

    def failed(self, exc: Exception) -> None:
        """Report a query that raised, and go on with the next."""
        problem, _ = split_message(str(exc))
        self.failures += 1
        self.say(f"  error: {type(exc).__name__}: {problem}")
        self.say("      [MISMATCH]")
        self.say()

    def check(
        self, value: Any, expected: Any, seconds: float, stream: Stream[Any] | None = None
    ) -> None:
        rejected = sum(stream.last_run.rejected.values()) if stream is not None else 0
        status = "ok" if value == expected else "MISMATCH"
        notes = f"{seconds:.3f} s"
        if rejected:
            notes += f", {rejected:,} line{'s' if rejected != 1 else ''} rejected"
        self.say(f"      [{notes}; {status}]")
        if value != expected:
            self.failures += 1
            self.say(f"      streamql says {_shorten(value)}")
            self.say(f"      the sample generator says {_shorten(expected)}")
        self.say()

    def run(self) -> None:
        tree = self.tree
        root = self.root
        plain = tree.file(PLAIN_LOG)
        not_dash: Callable[[str], bool] = lambda x: x != "-"  # noqa: E731 - shown as <lambda>

        self.say("Part 2: sum the bytes column (the last) of one log")
        self.ask(
            f"bytes sent by {PLAIN_LOG}",
            Stream.lines(str(plain.path)).field(-1).where(not_dash).map(int),
            "sum",
            expected=plain.bytes,
            note="<lambda> is the tutorial's test for a missing value: lambda x: x != '-'",
        )

        self.say(f"Part 3: the same over every log under {GREP_DIR}/, any compression")
        self.ask(
            f"bytes sent for lines matching {GREP_PATTERN!r}",
            Stream.files("access-log*", os.path.join(root, GREP_DIR))
            .open()
            .cat()
            .grep(GREP_PATTERN)
            .field(-1)
            .where(not_dash)
            .map(int),
            "sum",
            expected=tree.grep_bytes,
        )

        log = Stream.files("access-log*", root).open().cat().parse_apache()
        self.say("Part 4: parse every log (common and combined) into records, then query")
        self.say(f"  >>> log = {self.code(log)}")
        self.say()
        self.ask(
            "the requests answered 404",
            log.where(status=404),
            "set",
            "request",
            expected=tree.not_found,
            show=_some,
            log=log,
        )
        self.ask(
            f"transfers over {BIG:,} bytes, by request",
            log.where(F.bytes > BIG),
            "count_by",
            "request",
            expected=tree.large_transfers,
            show=_counts,
            log=log,
        )
        self.ask(
            "the largest transfer",
            log,
            "max",
            key="bytes",
            expected=tree.largest,
            answer=lambda r: (r["bytes"], r["request"]),
            show=lambda r: f"{r['bytes']:,} {r['request']}",
            log=log,
        )
        self.ask(
            "the distinct hosts",
            log,
            "set",
            "host",
            expected=tree.hosts,
            show=_some,
            log=log,
        )
        self.ask(
            f"downloads of {DOWNLOAD}",
            log.where(request=DOWNLOAD),
            "count",
            expected=tree.downloads,
            log=log,
        )
        self.ask(
            "the hosts that read robots.txt",
            log.where(F.request.contains("robots.txt")),
            "set",
            "host",
            expected=tree.robots_hosts,
            show=_some,
            log=log,
        )
        self.ask(
            "the lines parse_apache rejected, by reason",
            log.rejects,
            "count_by",
            "reason",
            expected=tree.malformed_lines,
            answer=lambda counts: sum(counts.values()),
            show=_counts,
            log=log,
        )
        self.say("  every line read is accounted for: parsed or rejected")
        self.say("  >>> log.count() + log.rejects.count()")
        start = time.perf_counter()
        try:
            parsed, rejected = log.count(), log.rejects.count()
        except Exception as exc:
            self.failed(exc)
            return
        seconds = time.perf_counter() - start
        self.say(f"  {parsed:,} + {rejected:,} = {parsed + rejected:,} lines read")
        self.check(
            (parsed, rejected, parsed + rejected),
            (tree.good_lines, tree.malformed_lines, tree.lines),
            seconds,
        )


def lines_per_file(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 10:
        raise argparse.ArgumentTypeError(f"must be at least 10, got {n}")
    return n


def run_demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if args.dir is not None:
        root = Path(args.dir)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise CliError(
                f"demo: --dir {str(root)!r} is not an empty directory",
                EXIT_USAGE,
                "give a new or empty directory: the demo's answers count every log in it",
            )
        remove = False
    else:
        root = Path(tempfile.mkdtemp(prefix="streamql-demo-"))
        remove = not args.keep
    try:
        start = time.perf_counter()
        tree = write_sample_tree(root, lines_per_file=args.lines, seed=args.seed)
        seconds = time.perf_counter() - start
        demo = _Demo(tree, out)
        demo.say('streamql demo: the queries of "Generator Tricks for Systems Programmers"')
        demo.say()
        demo.say(f"Wrote a sample log tree to {root} in {seconds:.2f} s (seed {args.seed}):")
        for f in tree.files:
            malformed = f", {f.malformed} malformed" if f.malformed else ""
            demo.say(
                f"  {f.relpath:<32}{f.compression or 'plain':<7}{f.format:<10}"
                f"{f.lines:>8,} lines{malformed}"
            )
        demo.say(
            f"  {tree.lines:,} lines, {tree.malformed_lines} malformed "
            f"({_counts(tree.malformed_kinds)})"
        )
        if remove:
            demo.say(
                "Paths in the queries below are relative to it. The tree is removed at the "
                "end; to try the queries yourself, run streamql demo --keep (or --dir DIR) "
                "and cd there."
            )
        else:
            demo.say("Paths in the queries below are relative to it: cd there to try them.")
        demo.say()
        with warnings.catch_warnings():
            # Each answer reports its own rejects (Stream.last_run).
            warnings.simplefilter("ignore", RejectedLinesWarning)
            demo.run()
    finally:
        if remove:
            shutil.rmtree(root, ignore_errors=True)
    if remove:
        demo.say(f"Removed {root} (--keep keeps it).")
    else:
        demo.say(f"The sample tree stays in {root}.")
    if demo.failures:
        write(
            err,
            f"streamql: demo: {demo.failures} answer(s) disagree with the sample's own "
            "bookkeeping\n",
        )
        return EXIT_RUNTIME
    return EXIT_OK
