"""Time streamql against the tutorial's hand-written generator pipelines, same run, same data.

Each query of "Generator Tricks for Systems Programmers" Parts 2-4 runs in up
to four ways per round: the tutorial's own code, verbatim (the reference);
streamql with its default engine; streamql with ``engine="processes"``; and
awk (here mawk) where the query fits awk. streamql's answers must equal the
reference exactly (the script aborts loudly if not); an awk answer that
differs is marked and explained, because awk splits on whitespace and does not
parse. Every variant runs in a fresh child process, so each one's peak memory
is its own; the variants are interleaved and each is run ``--runs`` times, and
the best (min) time counts, because machines are shared and noisy. Ratios are
variant / hand-written: below 1 the variant wins.

Run from the repository root::

    python bench/bench_queries.py                   # --repeat 200: ~130 MB log
    python bench/bench_queries.py --repeat 2000     # the tutorial's 1.3 GB log (minutes)
    python bench/bench_queries.py --sizes 200,2000 --queries bytes   # memory flat as it grows?
    python bench/bench_queries.py --runs 5 --json results.json

Queries (``--queries``, comma-separated; default all): ``bytes`` (Part 2 sum of
the last column), ``parsed-bytes`` (the same sum over parsed records),
``tree`` (Part 3 sum over a directory tree of plain, .gz and .bz2 logs
matching a pattern), and the Part 4 queries over parsed records ``404``,
``largest``, ``hosts``, ``downloads``, ``robots``; then ``404-lambda``, the
404 count with a Python function as the ``where`` (nothing pushed down: every
record is built). Under each table, the issue's targets are checked against
the rows.

The big log is built by ``bench/makebig.py`` in a temporary directory that is
deleted afterwards (``--keep`` keeps it; ``--tmpdir`` chooses where it goes).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TREE_PATTERN = r"/ply/"
DOWNLOAD = "/ply/ply-2.3.tar.gz"

# The targets, checked under each table (see check_targets).
PARSED_VS_RAW = 1.0  # parsed-bytes, streamql default / the tutorial's raw split
PARSE_VS_TUTORIAL = 1 / 3  # part 4, streamql default / the tutorial's apache_log
VS_AWK = 1.5  # selective queries, streamql default / awk
PROCESSES_SPEEDUP = 1.7  # streamql default / engine="processes"
PEAK_MB = 64.0  # streamql's peak memory, either engine
FLAT_MB, FLAT_SHARE = 5.0, 0.10  # "flat": grows by at most this much across sizes
PART4 = ("404", "largest", "hosts", "downloads", "robots")
SELECTIVE = ("downloads", "robots")
TIMES = "\N{MULTIPLICATION SIGN}"  # marks a ratio to hand-written in the table


# --------------------------------------------------------------------------
# The tutorial's code, as on the slides (the noqa comments keep it so). Two
# slide-text artefacts are fixed to match the tutorial's own example files
# (apachelog.py, fieldmap.py): ``logpats`` has no trailing space (with one it
# matches no common-format line), and ``field_map`` yields inside its loop.
# --------------------------------------------------------------------------


def gen_open(paths):
    for path in paths:
        if path.suffix == ".gz":
            yield gzip.open(path, "rt")  # noqa: SIM115
        elif path.suffix == ".bz2":
            yield bz2.open(path, "rt")  # noqa: SIM115
        else:
            yield open(path, "rt")  # noqa: SIM115, UP015


def gen_cat(sources):
    for src in sources:
        yield from src


def gen_grep(pat, lines):
    patc = re.compile(pat)
    return (line for line in lines if patc.search(line))


logpats = r"(\S+) (\S+) (\S+) \[(.*?)\] " r'"(\S+) (\S+) (\S+)" (\S+) (\S+)'
logpat = re.compile(logpats)


def field_map(dictseq, name, func):
    for d in dictseq:
        d[name] = func(d[name])
        yield d


def apache_log(lines):
    groups = (logpat.match(line) for line in lines)
    tuples = (g.groups() for g in groups if g)

    colnames = (
        "host",
        "referrer",
        "user",
        "datetime",
        "method",
        "request",
        "proto",
        "status",
        "bytes",
    )

    log = (dict(zip(colnames, t)) for t in tuples)  # noqa: B905
    log = field_map(log, "bytes", lambda s: int(s) if s != "-" else 0)
    log = field_map(log, "status", int)

    return log


# Hand-written queries: the tutorial's lines, returning what they print.


def hand_bytes_generators(path: str) -> int:
    with open(path) as wwwlog:
        bytecolumn = (line.rsplit(None, 1)[1] for line in wwwlog)
        bytes_sent = (int(x) for x in bytecolumn if x != "-")
        return sum(bytes_sent)


def hand_bytes_loop(path: str) -> int:
    with open(path) as wwwlog:
        total = 0
        for line in wwwlog:
            bytes_sent = line.rsplit(None, 1)[1]
            if bytes_sent != "-":
                total += int(bytes_sent)
        return total


def hand_parsed_bytes(path: str) -> int:
    with open(path) as lines:
        log = apache_log(lines)
        return sum(r["bytes"] for r in log)


def hand_tree(root: str) -> int:
    pat = TREE_PATTERN
    logdir = root

    filenames = Path(logdir).rglob("access-log*")
    logfiles = gen_open(filenames)
    loglines = gen_cat(logfiles)
    patlines = gen_grep(pat, loglines)
    bytecolumn = (line.rsplit(None, 1)[1] for line in patlines)
    bytes_sent = (int(x) for x in bytecolumn if x != "-")

    return sum(bytes_sent)


def hand_404(path: str) -> set[str]:
    with open(path) as lines:
        log = apache_log(lines)
        stat404 = {r["request"] for r in log if r["status"] == 404}
    return stat404


def hand_largest(path: str) -> tuple[int, str]:
    with open(path) as lines:
        log = apache_log(lines)
        return max((r["bytes"], r["request"]) for r in log)


def hand_404_count(path: str) -> int:
    with open(path) as lines:
        log = apache_log(lines)
        return sum(1 for r in log if r["status"] == 404)


def hand_hosts(path: str) -> set[str]:
    with open(path) as lines:
        log = apache_log(lines)
        hosts = {r["host"] for r in log}
    return hosts


def hand_downloads(path: str) -> int:
    with open(path) as lines:
        log = apache_log(lines)
        return sum(1 for r in log if r["request"] == DOWNLOAD)


def hand_robots(path: str) -> set[str]:
    with open(path) as lines:
        log = apache_log(lines)
        addrs = {r["host"] for r in log if "robots.txt" in r["request"]}
    return addrs


# --------------------------------------------------------------------------
# awk: one program per query, its output parsed back into the answer's shape.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Awk:
    program: str
    parse: Callable[[str], Any]
    approximate: bool = False  # awk prints big sums as %.6g: compare to 6 significant digits


def _lines(out: str) -> set[str]:
    return set(out.splitlines())


def _max_and_request(out: str) -> tuple[int, str]:
    most, _, request = out.strip().partition(" ")
    return int(most), request


AWK_SUM = Awk("{ total += $NF } END { print total }", float, approximate=True)  # the tutorial's
AWK_SET = "{ for (k in s) print k }"


def run_awk(awk: Awk, path: str) -> Any:
    """Run ``awk``'s program over ``path`` and parse what it prints, sampling its peak memory."""
    global _awk_peak_kib
    # Not subprocess.run: awk's peak memory is read while it runs (see peak_kib).
    cmd = ["awk", awk.program, path]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        while True:
            _awk_peak_kib = max(_awk_peak_kib, peak_kib(proc.pid) or 0)
            try:
                out, _ = proc.communicate(timeout=0.01)
                break
            except subprocess.TimeoutExpired:
                continue
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return awk.parse(out)


_awk_peak_kib = 0


# --------------------------------------------------------------------------
# streamql's versions of the same queries. Every one starts from files, so
# each also runs with engine="processes", passed to the terminal.
# --------------------------------------------------------------------------


def sq_bytes(path: str, engine: str) -> int:
    from streamql import Stream

    q = Stream.lines(path).field(-1).where(lambda x: x != "-").map(int)
    return q.sum(engine=engine)


def sq_parsed_bytes(path: str, engine: str) -> int:
    from streamql import Stream

    return Stream.lines(path).parse_apache().sum("bytes", engine=engine)


def sq_tree(root: str, engine: str) -> int:
    from streamql import Stream

    return (
        Stream.files("access-log*", root)
        .open()
        .cat()
        .grep(TREE_PATTERN)
        .field(-1)
        .where(lambda x: x != "-")
        .map(int)
        .sum(engine=engine)
    )


def sq_404(path: str, engine: str) -> set[str]:
    from streamql import Stream

    return Stream.lines(path).parse_apache().where(status=404).set("request", engine=engine)


def sq_404_lambda(path: str, engine: str) -> int:
    from streamql import Stream

    log = Stream.lines(path).parse_apache()
    return log.where(lambda r: r["status"] == 404).count(engine=engine)


def sq_largest(path: str, engine: str) -> tuple[int, str]:
    from streamql import Stream

    r = Stream.lines(path).parse_apache().max(key="bytes", engine=engine)
    return r["bytes"], r["request"]


def sq_hosts(path: str, engine: str) -> set[str]:
    from streamql import Stream

    return Stream.lines(path).parse_apache().set("host", engine=engine)


def sq_downloads(path: str, engine: str) -> int:
    from streamql import Stream

    return Stream.lines(path).parse_apache().where(request=DOWNLOAD).count(engine=engine)


def sq_robots(path: str, engine: str) -> set[str]:
    from streamql import F, Stream

    log = Stream.lines(path).parse_apache()
    return log.where(F.request.contains("robots.txt")).set("host", engine=engine)


def nothing(path: str) -> None:
    """The empty child: its peak RSS is what every child costs before its query."""
    return None


# --------------------------------------------------------------------------
# The queries: one row each.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    key: str
    title: str
    hand: Callable[[str], Any]  # the reference every ratio in the row is taken against
    hand_name: str
    streamql: Callable[[str, str], Any]  # (path, engine)
    awk: Awk | None = None
    # A second hand-written reference, reported under the table.
    also: Callable[[str], Any] | None = None
    also_name: str = ""
    on_tree: bool = False  # reads the directory tree, not the big log


QUERIES = (
    Query(
        "bytes",
        "bytes sum (part 2)",
        hand_bytes_generators,
        "tutorial generators",
        sq_bytes,
        AWK_SUM,
        also=hand_bytes_loop,
        also_name="tutorial for-loop",
    ),
    Query(
        "parsed-bytes",
        "bytes sum over parsed records",
        hand_bytes_generators,
        "tutorial generators (raw split)",
        sq_parsed_bytes,
        AWK_SUM,
        also=hand_parsed_bytes,
        also_name="tutorial apache_log",
    ),
    Query(
        "tree",
        f"tree grep {TREE_PATTERN!r} bytes sum (part 3)",
        hand_tree,
        "tutorial gen_open/gen_cat/gen_grep",
        sq_tree,
        on_tree=True,  # no awk: the tree holds .gz and .bz2 files
    ),
    Query(
        "404",
        "set of 404 requests (part 4)",
        hand_404,
        "tutorial apache_log",
        sq_404,
        Awk("$9 == 404 { s[$7] = 1 } END " + AWK_SET, _lines),
    ),
    Query(
        "largest",
        "largest transfer (part 4)",
        hand_largest,
        "tutorial apache_log",
        sq_largest,
        Awk("$10 > max { max = $10; req = $7 } END { print max, req }", _max_and_request),
    ),
    Query(
        "hosts",
        "unique hosts (part 4)",
        hand_hosts,
        "tutorial apache_log",
        sq_hosts,
        Awk("{ s[$1] = 1 } END " + AWK_SET, _lines),
    ),
    Query(
        "downloads",
        f"downloads of {DOWNLOAD.rsplit('/', 1)[1]} (part 4)",
        hand_downloads,
        "tutorial apache_log",
        sq_downloads,
        Awk(f'$7 == "{DOWNLOAD}" {{ n++ }} END {{ print n + 0 }}', int),
    ),
    Query(
        "robots",
        "hosts hitting robots.txt (part 4)",
        hand_robots,
        "tutorial apache_log",
        sq_robots,
        Awk('index($7, "robots.txt") { s[$1] = 1 } END ' + AWK_SET, _lines),
    ),
    Query(
        "404-lambda",
        "404 count, where(lambda r: ...): every record built",
        hand_404_count,
        "tutorial apache_log",
        sq_404_lambda,
        Awk("$9 == 404 { n++ } END { print n + 0 }", int),
    ),
)
BY_KEY = {q.key: q for q in QUERIES}
# Each query runs as these variants; "also" is the second hand-written reference.
KINDS = ("hand", "also", "streamql", "processes", "awk")
KIND_LABELS = {
    "hand": "hand-written",
    "also": "second hand-written",
    "streamql": "streamql",
    "processes": "streamql processes",
    "awk": "awk",
}


def variant_func(kind: str, q: Query) -> Callable[[str], Any]:
    if kind == "hand":
        return q.hand
    if kind == "also" and q.also:
        return q.also
    if kind in ("streamql", "processes"):
        engine = "default" if kind == "streamql" else "processes"
        return lambda path: q.streamql(path, engine)
    if kind == "awk" and q.awk:
        awk = q.awk
        return lambda path: run_awk(awk, path)
    raise ValueError(f"query {q.key!r} has no {kind!r} variant")


# --------------------------------------------------------------------------
# Child processes: one variant, one run, fresh interpreter.
# --------------------------------------------------------------------------


def _jsonable(answer: Any) -> Any:
    if isinstance(answer, (set, frozenset)):
        return sorted(answer)
    if isinstance(answer, tuple):
        return list(answer)
    return answer


def peak_kib(pid: int | str = "self") -> int | None:
    """Return a process's peak resident memory in KiB (Linux VmHWM), or None.

    Not ``ru_maxrss``: on Linux it keeps the high-water mark of the process
    that launched the child across ``exec``, so every child would read at
    least the parent's size and one variant's memory could hide another's.
    VmHWM belongs to the child's own address space.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def child_main(variant: str, path: str) -> None:
    """Run one variant ("kind:query", or "nothing"/"sq_nothing") once and print JSON.

    The JSON holds the answer, wall and CPU seconds, and peak memory (KiB).
    """
    kind, _, key = variant.partition(":")
    if kind in ("streamql", "processes", "sq_nothing"):
        sys.path.insert(0, str(REPO))
        # Imported before the clock starts: import streamql loads its modules
        # on first use, so load what a query over files runs (and, for the
        # processes variant, its engine), as the tutorial's code has nothing
        # to import. The cost of importing is measured as whole processes
        # (see the README's import-time figures), not in these rows.
        import streamql

        streamql.Stream.lines("-").parse_apache().explain()
        if kind == "processes":
            from streamql.engine.registry import engine_named

            engine_named("processes")
    func = nothing if kind in ("nothing", "sq_nothing") else variant_func(kind, BY_KEY[key])

    start, cpu_start = time.perf_counter(), time.process_time()
    answer = func(path)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    # No children before the query: theirs is the query's (awk, or the forked workers).
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += kids.ru_utime + kids.ru_stime
    own = peak_kib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "awk":
        # Sampled while awk ran: its ru_maxrss would start from this process's, across exec.
        peak = _awk_peak_kib
    elif kind == "processes":
        # The forked workers are this process's children, reaped when the pool closed.
        peak = max(own, kids.ru_maxrss)
    else:
        peak = own
    result = {
        "answer": _jsonable(answer),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_kib": peak,
        "own_peak_kib": own,
        "children_peak_kib": kids.ru_maxrss,
    }
    json.dump(result, sys.stdout)


def run_child(variant: str, path: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", variant, path]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(
            f"\n*** {variant} failed on {path} (exit {proc.returncode}) ***\n{proc.stderr}"
        )
    if proc.stderr.strip():
        print(f"[{variant}] {proc.stderr.strip()}", file=sys.stderr)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------
# The run: build data, interleave variants, check answers, report.
# --------------------------------------------------------------------------


@dataclass
class Measure:
    """Every run of one variant at one size."""

    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    # The child's own VmHWM and its children's largest ru_maxrss (awk, forked workers).
    own_peaks_kib: list[int] = field(default_factory=list)
    children_peaks_kib: list[int] = field(default_factory=list)
    answer: Any = None

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def peak_mb(self) -> float:
        return max(self.peaks_kib) / 1024

    def summary(self) -> dict[str, Any]:
        return {
            "best_s": self.best,
            "peak_mb": self.peak_mb,
            "times": self.times,
            "cpu_times": self.cpu_times,
            "own_peaks_kib": self.own_peaks_kib,
            "children_peaks_kib": self.children_peaks_kib,
        }


def build_tree(big: Path, root: Path, slice_mb: float) -> Path:
    """Write plain, .gz and .bz2 copies of the big log's first ``slice_mb`` MB (whole lines)."""
    with open(big, "rb") as f:
        head = f.read(int(slice_mb * 1_000_000))
        head += f.readline()  # finish the last line
    www = root / "www"
    (www / "foo").mkdir(parents=True)
    (www / "bar").mkdir()
    (www / "foo" / "access-log").write_bytes(head)
    with gzip.open(www / "foo" / "access-log-0108.gz", "wb", compresslevel=6) as gz:
        gz.write(head)
    with bz2.open(www / "bar" / "access-log-0208.bz2", "wb") as bz:
        bz.write(head)
    (www / "bar" / "notes.txt").write_text("not a log\n")
    return www


def warm(paths: list[Path]) -> None:
    """Read files once so every timed run finds them in the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


def answers_agree(ref: Any, got: Any, approximate: bool) -> bool:
    if approximate:
        try:
            value = float(got)
        except (TypeError, ValueError):
            return False
        return abs(value - ref) <= 1e-5 * max(abs(ref), 1)
    return bool(ref == got)


def describe_difference(hand: Any, awk: Any) -> str:
    """Say how awk's answer differs from the hand-written one, briefly."""
    if isinstance(hand, list) and isinstance(awk, list) and all(isinstance(x, str) for x in awk):
        only_awk = sorted(set(awk) - set(hand))
        only_hand = sorted(set(hand) - set(awk))
        out = [f"awk {len(awk):,} items, hand-written {len(hand):,}"]
        if only_awk:
            out.append(f"{len(only_awk):,} only in awk (e.g. {only_awk[0]!r})")
        if only_hand:
            out.append(f"{len(only_hand):,} only in hand-written (e.g. {only_hand[0]!r})")
        return "; ".join(out)
    return f"awk {str(awk)[:200]}, hand-written {str(hand)[:200]}"


def show_answer(answer: Any) -> str:
    if isinstance(answer, list) and len(answer) > 2 and not isinstance(answer[0], int):
        return f"{len(answer):,} items"
    if isinstance(answer, list):
        return "(" + ", ".join(f"{a:,}" if isinstance(a, int) else str(a) for a in answer) + ")"
    if isinstance(answer, int):
        return f"{answer:,}"
    return str(answer)


def kinds_of(q: Query, use_awk: bool) -> list[str]:
    """The variants a query runs as, in KINDS order."""
    present = {"hand": True, "also": bool(q.also), "streamql": True, "processes": True}
    present["awk"] = use_awk and q.awk is not None
    return [k for k in KINDS if present[k]]


def make_row(q: Query, ms: dict[str, Measure], repeat: int) -> dict[str, Any]:
    """Make one table row, every variant against the reference; abort if streamql differs."""
    hand = ms["hand"]
    for kind, name in (("also", q.also_name), ("streamql", "streamql"), ("processes", "processes")):
        if kind in ms and ms[kind].answer != hand.answer:
            raise SystemExit(
                f"\n*** ANSWERS DIFFER: {q.title} at --repeat {repeat} ***\n"
                f"{q.hand_name}: {str(hand.answer)[:500]}\n{name}: {str(ms[kind].answer)[:500]}"
            )
    sq, proc, awk, also = ms["streamql"], ms["processes"], ms.get("awk"), ms.get("also")
    row: dict[str, Any] = {
        "query": q.key,
        "title": q.title,
        "hand_name": q.hand_name,
        "answer": show_answer(hand.answer),
        "hand_s": hand.best,
        "streamql_s": sq.best,
        "streamql_ratio": sq.best / hand.best,
        "processes_s": proc.best,
        "processes_ratio": proc.best / hand.best,
        "processes_speedup": sq.best / proc.best,
        "cpu_ratio": min(sq.cpu_times) / min(hand.cpu_times),
        "peak_mb": {kind: m.peak_mb for kind, m in ms.items()},
        "variants": {kind: m.summary() for kind, m in ms.items()},
        "awk_s": None,
        "awk_ratio": None,
        "awk_agrees": None,
        "awk_difference": None,
        "also_name": q.also_name or None,
        "also_s": None,
        "streamql_vs_also": None,
        "processes_vs_also": None,
    }
    if awk is not None and q.awk is not None:
        agrees = answers_agree(hand.answer, awk.answer, q.awk.approximate)
        row.update(
            awk_s=awk.best,
            awk_ratio=awk.best / hand.best,
            awk_agrees=agrees,
            awk_difference=None if agrees else describe_difference(hand.answer, awk.answer),
        )
    if also is not None:
        row.update(
            also_s=also.best,
            streamql_vs_also=sq.best / also.best,
            processes_vs_also=proc.best / also.best,
        )
    return row


def bench_size(
    repeat: int,
    queries: list[Query],
    runs: int,
    tmp: Path,
    tree_mb: float,
    use_awk: bool,
    generated: bool = False,
) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from makebig import make_big

    t0 = time.perf_counter()
    big = make_big(tmp / f"big-access-log-{repeat}", repeat, generated=generated)
    size = big.stat().st_size
    built = time.perf_counter() - t0
    print(f"\n## --repeat {repeat}: {big} ({size / 1e6:,.0f} MB, built in {built:.1f} s)")
    data = [big]
    www = None
    if any(q.on_tree for q in queries):
        www = tmp / f"tree-{repeat}"
        t0 = time.perf_counter()
        www = build_tree(big, www, tree_mb)
        data += [p for p in www.rglob("*") if p.is_file()]
        built = time.perf_counter() - t0
        print(f"tree: {www} (plain, gz, bz2 copies of {tree_mb:g} MB, built in {built:.1f} s)")
    warm(data)

    measures: dict[str, dict[str, Measure]] = {q.key: {} for q in queries}
    baseline, sq_baseline = Measure(), Measure()
    for run in range(runs):
        baseline.peaks_kib.append(run_child("nothing", str(big))["peak_kib"])
        sq_baseline.peaks_kib.append(run_child("sq_nothing", str(big))["peak_kib"])
        for q in queries:
            path = str(www if q.on_tree else big)
            kinds = kinds_of(q, use_awk)
            shift = run % len(kinds)  # each variant takes a different place in each run
            for kind in kinds[shift:] + kinds[:shift]:
                r = run_child(f"{kind}:{q.key}", path)
                m = measures[q.key].setdefault(kind, Measure())
                m.times.append(r["seconds"])
                m.cpu_times.append(r["cpu_seconds"])
                m.peaks_kib.append(r["peak_kib"])
                m.own_peaks_kib.append(r["own_peak_kib"])
                m.children_peaks_kib.append(r["children_peak_kib"])
                if run and r["answer"] != m.answer:
                    raise SystemExit(
                        f"\n*** {kind}:{q.key} changed its answer in run {run + 1} ***"
                    )
                m.answer = r["answer"]
                print(
                    f"  run {run + 1}/{runs} {kind + ':' + q.key:<24}{r['seconds']:8.3f} s",
                    file=sys.stderr,
                )

    rows = [make_row(q, measures[q.key], repeat) for q in queries]
    return {
        "repeat": repeat,
        "log_bytes": size,
        "tree_mb": tree_mb if www else None,
        "baseline_peak_mb": baseline.peak_mb,
        "streamql_baseline_peak_mb": sq_baseline.peak_mb,
        "rows": rows,
        "targets": check_targets(rows),
    }


def _target(target: str, detail: str, met: bool | None) -> dict[str, Any]:
    return {"target": target, "detail": detail, "met": met}


def check_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the issue's targets against one size's rows (those whose queries ran)."""
    by = {r["query"]: r for r in rows}
    out = []
    if "parsed-bytes" in by:
        ratio = by["parsed-bytes"]["streamql_ratio"]
        out.append(
            _target(
                f"parsed-bytes: streamql / the tutorial's raw split <= {PARSED_VS_RAW:g}",
                f"{ratio:.2f}",
                ratio <= PARSED_VS_RAW,
            )
        )
    part4 = [by[k] for k in PART4 if k in by]
    if part4:
        ok = {r["query"]: r["streamql_ratio"] <= PARSE_VS_TUTORIAL for r in part4}
        out.append(
            _target(
                "part 4: streamql at least 3x faster than the tutorial's apache_log "
                f"(ratio <= {PARSE_VS_TUTORIAL:.3f})",
                ", ".join(
                    f"{r['query']} {r['streamql_ratio']:.3f}{'' if ok[r['query']] else ' (missed)'}"
                    for r in part4
                ),
                all(ok.values()),
            )
        )
    selective = [by[k] for k in SELECTIVE if k in by]
    if selective:
        timed = [r for r in selective if r["awk_s"]]
        ratios = {r["query"]: r["streamql_s"] / r["awk_s"] for r in timed}
        out.append(
            _target(
                f"selective queries: streamql within {VS_AWK:g}x of awk "
                f"(streamql / awk <= {VS_AWK:g})",
                ", ".join(
                    f"{k} {v:.2f}{'' if v <= VS_AWK else ' (missed)'}" for k, v in ratios.items()
                )
                or "awk not run",
                all(v <= VS_AWK for v in ratios.values()) if ratios else None,
            )
        )
    speedups = {r["query"]: r["processes_speedup"] for r in rows}
    if speedups:
        median = statistics.median(speedups.values())
        out.append(
            _target(
                f"engine='processes' at least {PROCESSES_SPEEDUP:g}x faster than the default "
                f"({os.cpu_count()} cores), every query",
                ", ".join(
                    f"{k} {v:.2f}x{'' if v >= PROCESSES_SPEEDUP else ' (missed)'}"
                    for k, v in speedups.items()
                ),
                all(v >= PROCESSES_SPEEDUP for v in speedups.values()),
            )
        )
        out.append(
            _target(
                f"engine='processes' at least {PROCESSES_SPEEDUP:g}x faster, median",
                f"{median:.2f}x",
                median >= PROCESSES_SPEEDUP,
            )
        )
    peaks = [
        (r["peak_mb"][k], f"{r['query']} {k}") for r in rows for k in ("streamql", "processes")
    ]
    if peaks:
        top = max(peaks)
        out.append(
            _target(
                f"streamql peak memory under {PEAK_MB:g} MB (default and processes)",
                f"highest {top[0]:.1f} MB ({top[1]})",
                top[0] < PEAK_MB,
            )
        )
    return out


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def _mb(value: float | None) -> str:
    return f"{value:.1f}" if value else "—"


def _ratio(value: float) -> str:
    return f"{TIMES}{value:.2f}"


def table(result: dict[str, Any]) -> str:
    x = TIMES
    out = [
        f"### --repeat {result['repeat']} ({result['log_bytes'] / 1e6:,.0f} MB log)",
        "",
        f"| query | hand-written s | streamql s ({x}hand) | processes s ({x}hand, speed-up) "
        f"| awk s ({x}hand) | peak MB hand / streamql / processes / awk | answer |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    by_reference: dict[str, list[str]] = {}
    for r in result["rows"]:
        by_reference.setdefault(r["hand_name"], []).append(r["query"])
        awk = "—"
        if r["awk_s"] is not None:
            awk = f"{r['awk_s']:.3f} ({_ratio(r['awk_ratio'])})"
            awk += "" if r["awk_agrees"] else " ≠"
        peaks = " / ".join(
            _mb(r["peak_mb"].get(k)) for k in ("hand", "streamql", "processes", "awk")
        )
        out.append(
            f"| {r['query']} | {r['hand_s']:.3f} "
            f"| {r['streamql_s']:.3f} ({_ratio(r['streamql_ratio'])}) "
            f"| {r['processes_s']:.3f} ({_ratio(r['processes_ratio'])}, "
            f"{r['processes_speedup']:.2f}{x}) "
            f"| {awk} | {peaks} | {r['answer']} |"
        )
    out += [
        "",
        f"Times are the best of the runs, in seconds. {x}: the variant's time / hand-written's "
        "(below 1: faster than hand-written); speed-up: streamql default's time / "
        "processes' time (above 1: processes faster). Hand-written is the tutorial's code: "
        + "; ".join(f"{name} ({', '.join(keys)})" for name, keys in by_reference.items())
        + ".",
    ]
    also = [r for r in result["rows"] if r["also_s"] is not None]
    if also:
        out.append(
            "Second hand-written references: "
            + "; ".join(
                f"{r['query']} vs {r['also_name']} {r['also_s']:.3f} s: "
                f"streamql {_ratio(r['streamql_vs_also'])}, "
                f"processes {_ratio(r['processes_vs_also'])}"
                for r in also
            )
            + "."
        )
    cpu = ", ".join(f"{r['query']} {r['cpu_ratio']:.2f}" for r in result["rows"])
    out.append(
        "CPU-time ratios, streamql default / hand-written (min of runs; less hurt by other "
        f"load than wall time): {cpu}."
    )
    base, sq_base = result["baseline_peak_mb"], result["streamql_baseline_peak_mb"]
    out.append(
        "Peak MB: each child's peak resident memory (VmHWM), the max over its runs; an empty "
        f"child peaks at {_mb(base)} MB, {_mb(sq_base)} MB once it imports streamql. "
        "processes: the larger of the parent's VmHWM and the biggest forked worker's "
        "ru_maxrss (RUSAGE_CHILDREN, read after the pool closed); a worker's figure counts "
        "the pages it shares with the parent, and the workers' peaks are not added up. "
        "awk: sampled from /proc/<pid>/status while it runs."
    )
    for r in result["rows"]:
        if r["awk_agrees"] is False:
            out.append(
                f"≠ {r['query']}: awk's answer differs ({r['awk_difference']}). awk splits "
                "each line on whitespace and does not parse it, so lines the Apache pattern "
                "rejects or whose fields hold spaces count differently."
            )
    out += ["", "Targets:", ""]
    out += [f"- {t['target']}: {t['detail']} → **{_verdict(t['met'])}**" for t in result["targets"]]
    return "\n".join(out)


def memory_table(results: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Peak MB of each variant at each size (flat means constant memory), and that target."""
    sizes = [r["repeat"] for r in results]
    head = " | ".join(f"--repeat {n}" for n in sizes)
    out = [
        "### Peak memory by log size (MB)",
        "",
        f"| variant | {head} |",
        "|---|" + "---:|" * len(sizes),
    ]
    seen: dict[tuple[str, str], dict[int, float]] = {}
    for res in results:
        for r in res["rows"]:
            for kind, mb in r["peak_mb"].items():
                seen.setdefault((r["query"], kind), {})[res["repeat"]] = mb
    for (query, kind), by_size in seen.items():
        cells = " | ".join(_mb(by_size.get(n)) for n in sizes)
        out.append(f"| {query}: {KIND_LABELS[kind]} | {cells} |")

    first, last = sizes[0], sizes[-1]
    growth = {
        (query, kind): (by_size[last] - by_size[first], max(FLAT_MB, FLAT_SHARE * by_size[first]))
        for (query, kind), by_size in seen.items()
        if kind in ("streamql", "processes") and first in by_size and last in by_size
    }
    worst = max(growth, key=lambda k: growth[k][0] - growth[k][1], default=None)
    target = _target(
        f"streamql peak memory flat from --repeat {first} to --repeat {last} "
        f"(grows by at most {FLAT_MB:g} MB or {FLAT_SHARE:.0%}, whichever is more)",
        f"largest growth {growth[worst][0]:+.1f} MB ({' '.join(worst)})"
        if worst
        else "no sizes to compare",
        all(grew <= allowed for grew, allowed in growth.values()) if growth else None,
    )
    out += ["", f"- {target['target']}: {target['detail']} → **{_verdict(target['met'])}**"]
    return "\n".join(out), target


def git_state() -> str | None:
    """Name the streamql code measured: its commit, and whether it had local edits."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "streamql"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+local-edits" if dirty else head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, help="copies of access-log in the big log (200)")
    parser.add_argument("--sizes", help="several --repeat values, comma-separated: 200,2000")
    parser.add_argument("--runs", type=int, default=3, help="runs of each variant; best counts (3)")
    parser.add_argument(
        "--queries", help="comma-separated subset of: " + ",".join(q.key for q in QUERIES)
    )
    parser.add_argument("--tree-mb", type=float, default=13, help="size of the part 3 slice (13)")
    parser.add_argument("--generated", action="store_true", help="bench on a generated log")
    parser.add_argument("--no-awk", action="store_true", help="skip awk even if it is on PATH")
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    parser.add_argument("--tmpdir", help="where to build the big log (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the big log and tree")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    if args.sizes and args.repeat:
        parser.error("give --repeat or --sizes, not both")
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.repeat or 200]
    if any(n < 1 for n in sizes) or args.runs < 1:
        parser.error("--repeat/--sizes and --runs must be >= 1")
    wanted = args.queries.split(",") if args.queries else list(BY_KEY)
    unknown = [k for k in wanted if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown queries {unknown}; choose from {list(BY_KEY)}")
    queries = [BY_KEY[k] for k in wanted]
    use_awk = not args.no_awk and shutil.which("awk") is not None
    if not use_awk and not args.no_awk:
        print("awk is not on PATH: skipping it", file=sys.stderr)

    state = git_state()  # before the runs: others may edit streamql meanwhile
    print(f"streamql {state or '(no git)'}; runs {args.runs}; sizes {sizes}", file=sys.stderr)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="streamql-bench-", dir=args.tmpdir))
    results = []
    memory_target = None
    try:
        for n in sizes:
            result = bench_size(
                n, queries, args.runs, tmp, args.tree_mb, use_awk, generated=args.generated
            )
            results.append(result)
            print()
            print(table(result), flush=True)
        if len(results) > 1:
            text, memory_target = memory_table(results)
            print()
            print(text)
        wall = time.perf_counter() - started
        print(f"\nbench wall time: {wall:.0f} s")
        if args.json:
            meta = {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "runs": args.runs,
                "awk": shutil.which("awk") if use_awk else None,
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "streamql": state,
                "generated_log": args.generated,
                "wall_seconds": wall,
            }
            Path(args.json).write_text(
                json.dumps(
                    {"meta": meta, "sizes": results, "memory_target": memory_target}, indent=2
                )
                + "\n"
            )
            print(f"results saved to {args.json}")
    finally:
        if args.keep:
            print(f"\nkept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
