"""Peak memory and time of group_by: folding aggregations against a function over records.

The question is bytes and hits per hour of the log's own time, written three
ways, each run as a whole child process (its ``ru_maxrss`` is the peak):

- ``fold``: ``log.group_by(F.datetime.hour, bytes=Sum("bytes"), hits=Count())``,
  one running state per hour (the default engine);
- ``fold processes``: the same with ``engine="processes"``: the parent's peak
  and the largest worker's;
- ``function``: ``log.group_by(lambda r: r["datetime"].hour, agg=...)``, which
  holds every record of every group (the form the notebooks used before).

Rounds are interleaved (each runs every form once) and the best time counts;
the peak is that of the best run. Answers must agree (the script stops if
not). A child runs under an address space limit (``--limit-mb``) so the
record-holding form cannot take the shared machine down: past it, its row
says so instead of a figure. Run from the
repository root::

    python bench/bench_group.py                      # ~130 MB and ~1.3 GB logs
    python bench/bench_group.py --sizes 200 --rounds 3
    python bench/bench_group.py --limit-mb 8000      # let the function form try 1.3 GB
    python bench/bench_group.py --source path/to/access-log   # the log to repeat
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from makebig import make_big  # noqa: E402

REPO = HERE.parent

# Each form as the child runs it: from the parsed ``log``, ``answer``: hour -> (bytes, hits).
FORMS = {
    "fold": (
        "from streamql.aggregates import Count, Sum\n"
        "got = log.group_by(F.datetime.hour, bytes=Sum('bytes'), hits=Count())\n"
        "answer = {k: tuple(v) for k, v in got.items()}\n"
    ),
    "fold processes": (
        "from streamql.aggregates import Count, Sum\n"
        "got = log.group_by(F.datetime.hour, bytes=Sum('bytes'), hits=Count(),\n"
        "                   engine='processes')\n"
        "answer = {k: tuple(v) for k, v in got.items()}\n"
    ),
    "function": (
        "got = log.group_by(lambda r: r['datetime'].hour,\n"
        "                   agg=lambda rs: (sum(r['bytes'] for r in rs), len(rs)))\n"
        "answer = dict(got)\n"
    ),
}

CHILD = """
import json, resource, sys, time, warnings
limit = {limit} * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from streamql import F, RejectedLinesWarning, Stream
warnings.simplefilter("ignore", RejectedLinesWarning)
log = Stream.lines({path!r}).parse_apache()
start = time.perf_counter()
try:
{body}
except MemoryError:
    print(json.dumps({{"error": "MemoryError"}}))
    sys.exit(0)
seconds = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "mb": own, "workers_mb": workers,
                  "answer": sorted(answer.items())}}))
"""


def run_child(path: Path, form: str, limit_mb: int) -> dict[str, Any]:
    body = "".join("    " + line + "\n" for line in FORMS[form].splitlines())
    code = CHILD.format(limit=limit_mb, path=str(path), body=body)
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": tail[0][:120]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000", help="copies of the log (200 = ~130 MB)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per form; best time counts")
    parser.add_argument("--limit-mb", type=int, default=4000, help="address space per child")
    parser.add_argument("--forms", default=",".join(FORMS), help="forms to run")
    parser.add_argument("--source", help="the log to repeat (default: as makebig.py chooses)")
    parser.add_argument("--dir", help="where the logs go (default: a temporary directory)")
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    args = parser.parse_args(argv)
    forms = args.forms.split(",")
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-group-"))
    rows: list[dict[str, Any]] = []
    print(f"{'log':>9}  {'form':<15} {'best s':>7}  {'peak MB':>8}  {'workers MB':>10}")
    try:
        for repeat in map(int, args.sizes.split(",")):
            path = make_big(work / f"access-log-x{repeat}", repeat=repeat, source=args.source)
            size = f"{path.stat().st_size / 1e6:,.0f} MB"
            answers = {}
            runs_of: dict[str, list[dict[str, Any]]] = {form: [] for form in forms}
            for _ in range(args.rounds):  # interleaved: each round runs every form once
                for form in forms:
                    runs_of[form].append(run_child(path, form, args.limit_mb))
            for form in forms:
                runs = runs_of[form]
                good = [r for r in runs if "error" not in r]
                if not good:
                    shown = f"over {args.limit_mb} MB ({runs[0]['error']})"
                    print(f"{size:>9}  {form:<15} {'-':>7}  {shown}")
                    rows.append({"log": size, "form": form, "error": runs[0]["error"]})
                    continue
                best = min(good, key=lambda r: r["seconds"])
                answers[form] = best.pop("answer")
                workers = f"{best['workers_mb']:10.0f}" if "processes" in form else f"{'':10}"
                print(f"{size:>9}  {form:<15} {best['seconds']:7.2f}  {best['mb']:8.0f}  {workers}")
                rows.append({"log": size, "form": form, **best})
            if len({json.dumps(a) for a in answers.values()}) > 1:
                raise SystemExit(f"answers differ at {size}: {sorted(answers)}")
            path.unlink()
    finally:
        if not args.dir:
            for leftover in work.glob("*"):
                leftover.unlink()
            work.rmdir()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
