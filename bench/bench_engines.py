"""Time each engine's cost per run: a tiny log (the engine's own overhead) and a larger one.

Each round runs every (size, query, engine) once, interleaved, in this one
process, and the best (min) time of the rounds counts, because machines are
shared and noisy; the median is printed beside it. Answers are checked equal
to the default engine's. Run from the repository root::

    python bench/bench_engines.py                     # 1,000 lines and ~13 MB, 15 rounds
    python bench/bench_engines.py --mb 50 --rounds 30
    PYTHONPATH=/other/checkout python bench/bench_engines.py   # another checkout, same data

The last form compares two checkouts on the same machine: run both, one after
the other, and compare the tables (the data is generated the same each time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if not os.environ.get("PYTHONPATH"):  # this checkout, unless another one is named
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamql import RejectedLinesWarning, Stream

LINE = '10.0.{a}.{b} - - [24/Feb/2008:00:08:59 -0600] "GET /page/{n} HTTP/1.1" {status} {size}\n'
QUERIES: dict[str, Callable[[Stream[Any], str], Any]] = {
    "count": lambda log, e: log.count(engine=e),
    "status counts": lambda log, e: log.parse_apache().count_by("status", engine=e),
    "404 lambda": lambda log, e: (
        log.parse_apache().where(lambda r: r["status"] == 404).count(engine=e)
    ),
}


def write_log(path: Path, lines: int) -> None:
    with open(path, "w") as f:
        for n in range(lines):
            status = 404 if n % 17 == 0 else 200
            f.write(LINE.format(a=n % 13, b=n % 251, n=n % 997, status=status, size=n % 5000))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=13, help="size of the larger log (13)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds; best counts (15)")
    parser.add_argument("--workers", type=int, default=2, help="processes engine workers (2)")
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    args = parser.parse_args(argv)
    import streamql

    print(f"streamql from {Path(streamql.__file__).parent}")
    times: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {"tiny": Path(tmp) / "tiny.log", "larger": Path(tmp) / "larger.log"}
        write_log(sizes["tiny"], 1000)
        write_log(
            sizes["larger"], int(args.mb * 1e6 / len(LINE.format(a=1, b=1, n=1, status=1, size=1)))
        )
        warnings.simplefilter("ignore", RejectedLinesWarning)
        for _ in range(args.rounds):
            for size, path in sizes.items():
                log = Stream.lines(path).using(workers=args.workers)
                for name, query in QUERIES.items():
                    answers = []
                    for engine in ("default", "processes"):
                        start = time.perf_counter()
                        answers.append(query(log, engine))
                        times.setdefault((size, name, engine), []).append(
                            time.perf_counter() - start
                        )
                    if answers[0] != answers[1]:
                        raise SystemExit(f"{size} {name}: answers differ: {answers}")
    print(f"best of {args.rounds} rounds (median), seconds; workers={args.workers}")
    print(f"{'size':<8}{'query':<16}{'default':>20}{'processes':>20}")
    rows = []
    for size in ("tiny", "larger"):
        for name in QUERIES:
            cells = []
            for engine in ("default", "processes"):
                runs = times[(size, name, engine)]
                cells.append(f"{min(runs):.4f} ({statistics.median(runs):.4f})")
                rows.append(
                    {"size": size, "query": name, "engine": engine, "best": min(runs), "runs": runs}
                )
            print(f"{size:<8}{name:<16}{cells[0]:>20}{cells[1]:>20}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
