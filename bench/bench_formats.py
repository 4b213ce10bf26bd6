"""Time queries over the big log written in other formats, as ratios to the same query on combined.

The big log (``bench/makebig.py``: the tutorial's access-log repeated) is
rewritten four ways: ``combined`` (each line plus ``"referer" "agent"``, the
reference), nginx's default ``main`` (combined plus ``"$http_x_forwarded_for"``),
``combined + %D`` (plus the microseconds taken) and a mixed tree (the
original common lines and the combined ones, two files, ``format="auto"``).
Each query runs on each, interleaved, ``--runs`` times; the best time counts
(machines are shared and noisy). Answers must agree across formats. Rows:
parse + ``sum("bytes")``, the 404 set (``where(status=404).set("request")``)
and ``count_by("status")``.

Run from the repository root::

    python bench/bench_formats.py                # --repeat 30: ~20 MB per format
    python bench/bench_formats.py --repeat 200 --runs 5
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from makebig import make_big  # noqa: E402

from streamql import Stream  # noqa: E402
from streamql.formats.access.scan import checker  # noqa: E402

AGENT = ' "http://www.dabeaz.com/" "Mozilla/5.0 (Macintosh; U; Intel Mac OS X; en)"'
FORMATS: dict[str, tuple[str, Callable[[str], str]]] = {
    "combined": ("combined", lambda line: line + AGENT),
    "nginx main": ("nginx", lambda line: line + AGENT + ' "-"'),
    "combined + %D": (
        '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D',
        lambda line: line + AGENT + " 1234",
    ),
}
QUERIES: dict[str, Callable[[Stream[Any]], Any]] = {
    'sum("bytes")': lambda q: q.sum("bytes"),
    "404 set": lambda q: q.where(status=404).set("request"),
    'count_by("status")': lambda q: q.count_by("status"),
}


def rewrite(src: Path, out: Path, change: Callable[[str], str]) -> None:
    with src.open() as lines, out.open("w") as dest:
        for line in lines:
            dest.write(change(line.rstrip("\n")) + "\n")


def build(tmp: Path, repeat: int) -> dict[str, tuple[str, list[Path]]]:
    big = tmp / "big-access-log"
    make_big(str(big), repeat=repeat)
    logs: dict[str, tuple[str, list[Path]]] = {}
    for name, (fmt, change) in FORMATS.items():
        path = tmp / name.replace(" ", "_").replace("%", "").replace("+", "")
        rewrite(big, path, change)
        logs[name] = (fmt, [path])
    # The mixed tree: half its lines common, half combined, one file each.
    half = tmp / "half"
    make_big(str(half), repeat=max(1, repeat // 2))
    mixed = tmp / "mixed"
    mixed.mkdir()
    rewrite(half, mixed / "a-common.log", lambda line: line)
    rewrite(half, mixed / "b-combined.log", FORMATS["combined"][1])
    logs["mixed tree (auto)"] = ("auto", sorted(mixed.iterdir()))
    logs["combined (auto)"] = ("auto", [logs["combined"][1][0]])
    return logs


def timed(query: Callable[[Stream[Any]], Any], fmt: str, paths: list[Path]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    answer = query(Stream.lines(*map(str, paths)).parse_apache(fmt))
    return time.perf_counter() - start, answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="copies of access-log (30)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; best counts (3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        logs = build(Path(tmp), args.repeat)
        print(
            f"{args.repeat} copies of access-log; blocks checked by {checker()}; "
            f"best of {args.runs} runs"
        )
        best: dict[tuple[str, str], float] = {}
        answers: dict[tuple[str, str], Any] = {}
        for _ in range(args.runs):
            for qname, query in QUERIES.items():
                for name, (fmt, paths) in logs.items():
                    seconds, answer = timed(query, fmt, paths)
                    key = (qname, name)
                    best[key] = min(best.get(key, seconds), seconds)
                    answers[key] = answer
        width = max(map(len, logs))
        print(f"{'':<{width}}  " + "  ".join(f"{q:>22}" for q in QUERIES))
        for name in logs:
            cells = []
            for qname in QUERIES:
                ratio = best[(qname, name)] / best[(qname, "combined")]
                cells.append(f"{best[(qname, name)] * 1e3:9.0f} ms {ratio:5.2f}x")
            print(f"{name:<{width}}  " + "  ".join(f"{c:>22}" for c in cells))
        for qname in QUERIES:
            reference = answers[(qname, "combined")]
            for name in FORMATS:
                if answers[(qname, name)] != reference:
                    print(f"ANSWERS DIFFER: {qname} on {name}", file=sys.stderr)
                    return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
