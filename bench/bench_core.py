"""Time the core's promises: observers cost nothing, Top keeps the pushdown, imports stay light.

Each variant runs as a whole fresh child process, interleaved with the others
in rounds; the best (min) of the rounds counts and the median is printed
beside it, because machines are shared and noisy. Answers are checked equal.
Rows, on the tutorial's access-log repeated ``--repeat`` times (200: 130 MB):

- ``sum("bytes")`` without and with ``.progress()`` (the notebook path: a
  bar that draws to a file), and their ratio (target: within 1.05);
- ``aggregate(n=Count(), total=Sum("bytes"), hosts=CountBy("host"))`` without
  and with ``biggest=Top(3, by="bytes")`` (target: within 1.3);
- ``python -c "import streamql"`` against bare ``python -c pass``, and
  ``streamql query '.count()'`` on the tutorial's log (7,298 lines).

Run from the repository root::

    python bench/bench_core.py                  # --repeat 200, 5 rounds
    python bench/bench_core.py --repeat 20 --rounds 9
    python bench/bench_core.py --repo ../old-checkout   # the same rows for another checkout
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "dabeaz" / "access-log"

PRELUDE = (
    "import os, sys, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "sys.path.insert(0, {repo!r})\n"
    "from streamql import Stream, Count, Sum, CountBy, Top\n"
    "log = Stream.lines({path!r}).parse_apache()\n"
    "out = open(os.devnull, 'w')\n"
)
QUERIES = {
    "sum": "print(log.sum('bytes'))",
    "sum, progress": "print(log.progress(file=out).sum('bytes'))",
    "aggregate": "a = log.aggregate(n=Count(), total=Sum('bytes'), hosts=CountBy('host')); "
    "print(a['n'], a['total'], len(a['hosts']))",
    "aggregate + Top": "a = log.aggregate(n=Count(), total=Sum('bytes'), hosts=CountBy('host'), "
    "biggest=Top(3, by='bytes')); print(a['n'], a['total'], len(a['hosts']))",
}


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="copies of access-log (200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; best counts (5)")
    parser.add_argument("--repo", default=str(HERE.parent), help="the checkout to time")
    args = parser.parse_args(argv)
    if not SHARED.exists():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    repo = str(Path(args.repo).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="streamql-core-"))
    try:
        big = tmp / "access-log"
        text = SHARED.read_bytes()
        with open(big, "wb") as f:
            for _ in range(args.repeat):
                f.write(text)
        runs: dict[str, list[float]] = {}
        answers: dict[str, str] = {}
        commands = {
            name: [sys.executable, "-c", PRELUDE.format(repo=repo, path=str(big)) + code]
            for name, code in QUERIES.items()
        }
        commands["python -c pass"] = [sys.executable, "-c", "pass"]
        commands["import streamql"] = [
            sys.executable, "-c", f"import sys; sys.path.insert(0, {repo!r}); import streamql"
        ]  # fmt: skip
        cli = shutil.which("streamql")
        env = {**os.environ, "PYTHONPATH": repo}
        if cli:
            commands["streamql query '.count()'"] = [
                sys.executable, "-m", "streamql", "query", ".count()", str(SHARED)
            ]  # fmt: skip
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                seconds, out = timed(cmd, env)
                runs.setdefault(name, []).append(seconds)
                if answers.setdefault(name, out) != out:
                    raise SystemExit(f"{name}: the answer changed between rounds")
        if answers["sum"] != answers["sum, progress"]:
            raise SystemExit("progress changed the answer")
        if answers["aggregate"] != answers["aggregate + Top"]:
            raise SystemExit("Top changed the other answers")
        best = {name: min(times) for name, times in runs.items()}
        print(f"{repo}: access-log x {args.repeat}, best of {args.rounds} (median)")
        for name, times in runs.items():
            print(f"  {name:<28} {best[name]:8.3f} s  ({statistics.median(times):.3f})")
        print(f"  progress / plain:            {best['sum, progress'] / best['sum']:8.2f}")
        print(f"  aggregate with Top / without:{best['aggregate + Top'] / best['aggregate']:8.2f}")
        bare = best["python -c pass"]
        print(
            f"  import streamql over bare Python: {1000 * (best['import streamql'] - bare):.0f} ms"
        )
        if cli:
            print(
                f"  streamql query '.count()' wall: {1000 * best[next(reversed(commands))]:.0f} ms"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
