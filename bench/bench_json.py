"""JSON lines and logfmt: streamql against a hand-written loop, polars and DuckDB, in one run.

The script generates an application log (streamql.samples.applogs: ten fields, a
nested http.status, ISO timestamps) as JSON lines and the same records as
logfmt, then runs two queries on each variant, every one in a fresh child
process, and checks the answers equal:

- ``count_by``: requests per ``service``;
- ``sum``: ``bytes`` of the lines whose ``level`` is ``"error"``.

JSON variants: a hand-written ``json.loads`` loop (the reference), streamql's
default engine, streamql's ``engine="processes"``, polars ``scan_ndjson`` and
DuckDB ``read_json_auto`` (a peer that is not installed is skipped). logfmt
variants: a hand-written regular-expression loop and streamql's default
engine. The table gives each variant's best wall time over ``--runs``, its
ratio to the reference, its CPU time, and its peak memory. Run from the
repository root::

    python bench/bench_json.py                 # a 1 GB log
    python bench/bench_json.py --size 200      # 200 MB
    python bench/bench_json.py --size 200 --runs 3 --keep /tmp/bench-json

Time is the query alone, measured inside the child (no interpreter start-up,
imports included only for the peers whose import is their set-up). Memory is
the child's peak resident set (``VmHWM``; ``ru_maxrss`` of a fresh child
carries its parent's mark across ``exec`` on Linux), and for the processes
engine the larger of that and the workers' ``ru_maxrss``. The machine's load
average is printed before and after: on a shared machine read the CPU column.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))

JSON_VARIANTS = ("hand-written", "streamql", "processes", "polars", "duckdb")
LOGFMT_VARIANTS = ("hand-written regex", "streamql logfmt")
QUERIES = ("count_by", "sum")
_PAIR = re.compile(r'([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


def hand_written(query: str, path: str) -> Any:
    """What one would write without streamql: json.loads each line, a dict or a total."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if query == "count_by":
                counts[record["service"]] += 1
            elif record["level"] == "error":
                total += record["bytes"]
    return dict(counts) if query == "count_by" else total


def hand_written_regex(query: str, path: str) -> Any:
    """The logfmt hand-written loop: one regex over each line's pairs."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    findall = _PAIR.findall
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = dict(findall(line))
            if query == "count_by":
                counts[record["service"]] += 1
            elif record["level"] == "error":
                total += int(record["bytes"])
    return dict(counts) if query == "count_by" else total


def streamql_query(query: str, path: str, engine: str, workers: int, fmt: str) -> Any:
    from streamql import RejectedLinesWarning, Stream

    warnings.simplefilter("error", RejectedLinesWarning)  # the log has no bad line
    lines = Stream.lines(path)
    if engine == "processes":
        lines = lines.using("processes", workers=workers)
    if fmt == "json":
        fields = ["service"] if query == "count_by" else ["level", "bytes"]
        log = lines.parse_json(fields)
    else:
        log = lines.parse_logfmt(
            ["service"] if query == "count_by" else ["level", "bytes"], types={"bytes": int}
        )
    if query == "count_by":
        return dict(log.count_by("service"))
    return log.where(level="error").sum("bytes")


def polars_query(query: str, path: str) -> Any:
    import polars as pl

    frame = pl.scan_ndjson(path)
    if query == "count_by":
        rows = frame.group_by("service").len().collect().rows()
        return dict(rows)
    return frame.filter(pl.col("level") == "error").select(pl.col("bytes").sum()).collect().item()


def duckdb_query(query: str, path: str) -> Any:
    import duckdb

    quoted = path.replace("'", "''")
    with duckdb.connect() as db:
        if query == "count_by":
            sql = f"select service, count(*) from read_json_auto('{quoted}') group by service"
            return dict(db.sql(sql).fetchall())
        sql = f"select sum(bytes) from read_json_auto('{quoted}') where level = 'error'"
        return int(db.sql(sql).fetchall()[0][0])


def peak_kib() -> int:
    """This process's peak resident memory in KiB (Linux VmHWM), else ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_main(variant: str, query: str, path: str, workers: int) -> None:
    """Run one variant's query once; print its answer, times and memory as JSON."""
    start, cpu = time.perf_counter(), time.process_time()
    if variant == "hand-written":
        answer = hand_written(query, path)
    elif variant == "hand-written regex":
        answer = hand_written_regex(query, path)
    elif variant in ("streamql", "processes", "streamql logfmt"):
        engine = "processes" if variant == "processes" else "default"
        fmt = "logfmt" if variant == "streamql logfmt" else "json"
        answer = streamql_query(query, path, engine, workers, fmt)
    elif variant == "polars":
        answer = polars_query(query, path)
    else:
        answer = duckdb_query(query, path)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + children.ru_utime + children.ru_stime
    peak = max(peak_kib(), children.ru_maxrss)
    print(json.dumps({"answer": answer, "seconds": seconds, "cpu": cpu, "peak_kib": peak}))


def run_child(variant: str, query: str, path: str, workers: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", variant, query, path, "--workers", str(workers)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{variant} {query} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _decode_all(decode: Any, lines: list[str]) -> None:
    for line in lines:
        decode(line)


def backends(path: str, n: int = 100_000) -> None:
    """Decode the first ``n`` lines with each JSON decoder: the fast-path choice, measured."""
    with open(path, encoding="utf-8") as f:
        lines = [line for _, line in zip(range(n), f, strict=False)]
    decoders: dict[str, Any] = {"json.loads": json.loads}
    if installed("orjson"):
        import orjson

        decoders["orjson.loads"] = orjson.loads
    if installed("msgspec"):
        import msgspec

        decoders["msgspec (whole object)"] = msgspec.json.Decoder().decode
        fields = msgspec.defstruct("Fields", [("level", object, None), ("bytes", object, None)])
        decoders["msgspec (2 fields)"] = msgspec.json.Decoder(fields).decode
    from streamql.formats.json_decode import Decoder

    decoders["streamql Decoder, json"] = Decoder(("level", "bytes"), "json").record
    if installed("msgspec"):
        decoders["streamql Decoder, msgspec"] = Decoder(("level", "bytes"), "msgspec").record
    print(f"\nDecoding {len(lines):,} lines in this process (best of 3, ns per line):")
    base = None
    for name, decode in decoders.items():
        best = min(timeit.repeat(functools.partial(_decode_all, decode, lines), number=1, repeat=3))
        per = best / len(lines) * 1e9
        base = base or per
        print(f"  {name:<28} {per:8.0f}   {per / base:5.2f}x json.loads")


def table(
    title: str, variants: tuple[str, ...], path: str, args: argparse.Namespace
) -> dict[Any, Any]:
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for run in range(args.runs):
        for query in QUERIES:
            order = variants[run % len(variants) :] + variants[: run % len(variants)]
            for variant in order:
                got = run_child(variant, query, path, args.workers)
                best = results.get((variant, query))
                if best is None or got["seconds"] < best["seconds"]:
                    results[(variant, query)] = got
    size = os.path.getsize(path)
    print(f"\n{title}: {size / 1e6:,.0f} MB, best of {args.runs} runs, {args.workers} workers")
    header = ("query", "variant", "wall s", "ratio", "cpu s", "ratio", "MB/s", "peak MB")
    print("  {:<9} {:<19} {:>8} {:>6} {:>8} {:>6} {:>7} {:>8}".format(*header))
    for query in QUERIES:
        reference = results[(variants[0], query)]
        for variant in variants:
            r = results[(variant, query)]
            if r["answer"] != reference["answer"]:
                raise SystemExit(f"{variant} {query}: {r['answer']!r} != {reference['answer']!r}")
            wall, cpu = r["seconds"], r["cpu"]
            print(
                f"  {query:<9} {variant:<19} {wall:8.2f} {wall / reference['seconds']:6.2f}"
                f" {cpu:8.2f} {cpu / reference['cpu']:6.2f} {size / 1e6 / wall:7.0f}"
                f" {r['peak_kib'] / 1024:8.0f}"
            )
    print("  (answers equal across variants; ratios: wall and CPU time / the first row's)")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1000, help="JSON log size in MB (1000)")
    parser.add_argument("--logfmt-size", type=float, help="logfmt log size in MB (as --size)")
    parser.add_argument("--runs", type=int, default=1, help="runs per variant; best counts (1)")
    parser.add_argument("--workers", type=int, default=2, help="processes engine workers (2)")
    parser.add_argument("--keep", metavar="DIR", help="write (or reuse) the logs in DIR")
    parser.add_argument(
        "--child", nargs=3, metavar=("VARIANT", "QUERY", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        variant, query, path = args.child
        child_main(variant, query, path, args.workers)
        return
    from streamql.samples.applogs import write_sample_log

    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        json_path = where / f"app-{args.size:g}MB.jsonl"
        logfmt_size = args.logfmt_size or args.size
        logfmt_path = where / f"app-{logfmt_size:g}MB.logfmt"
        for path, fmt, mb in ((json_path, "json", args.size), (logfmt_path, "logfmt", logfmt_size)):
            if not path.exists():
                start = time.perf_counter()
                n = write_sample_log(path, format=fmt, size=int(mb * 1e6))
                print(f"wrote {path.name}: {n:,} lines in {time.perf_counter() - start:.0f} s")
        backends(str(json_path))
        json_variants = tuple(
            v for v in JSON_VARIANTS if v not in ("polars", "duckdb") or installed(v)
        )
        skipped = set(JSON_VARIANTS) - set(json_variants)
        if skipped:
            print(f"not installed, skipped: {', '.join(sorted(skipped))}")
        jr = table("JSON lines", json_variants, str(json_path), args)
        lr = table("logfmt", LOGFMT_VARIANTS, str(logfmt_path), args)
    print("\nTargets (issue 13):")
    for query in QUERIES:
        hand, ours = jr[("hand-written", query)], jr[("streamql", query)]
        print(
            f"  {query}: streamql default {hand['seconds'] / ours['seconds']:.2f}x faster than the"
            f" json.loads loop by wall time, {hand['cpu'] / ours['cpu']:.2f}x by CPU (target >= 2)"
        )
        peers = [jr[(p, query)]["seconds"] for p in ("polars", "duckdb") if (p, query) in jr]
        if peers:
            within = jr[("processes", query)]["seconds"] / min(peers)
            print(f"  {query}: processes / faster peer = {within:.2f} (target <= 1.5)")
        peak = max(jr[(v, query)]["peak_kib"] for v in ("streamql", "processes")) / 1024
        print(f"  {query}: streamql peak {peak:.0f} MB (target < 100)")
        ratio = (
            lr[("hand-written regex", query)]["seconds"] / lr[("streamql logfmt", query)]["seconds"]
        )
        print(f"  {query}: logfmt {ratio:.2f}x faster than the regex loop (target >= 2)")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
