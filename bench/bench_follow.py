"""Follow benchmark: latency at a steady write rate, and the highest rate followed.

Latency: a writer thread appends lines carrying their write time
(``time.perf_counter``) at ``--rate`` lines/s, flushing each; the follower
(``streamql.follow.follow``, default poll 0.05 s) records receipt time minus
write time. Reports median and p99. Targets: p99 < 100 ms at 10k lines/s.

Throughput: a writer appends as fast as it can for ``--seconds`` while the
follower reads; reports lines/s delivered and whether every line arrived
(the follower keeps up if it ends within a poll of the writer). Target:
>= 200k lines/s.

    python bench/bench_follow.py                 # both, ~10 s
    python bench/bench_follow.py --rate 10000 --seconds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from streamql.follow import follow

PAD = "x" * 60  # about the length of an Apache log line, with the stamp


def latency(path: str, rate: int, seconds: float, poll: float) -> tuple[float, float, int]:
    open(path, "w").close()
    total = int(rate * seconds)
    stop = threading.Event()
    started = threading.Event()

    def write() -> None:
        started.wait(10)
        with open(path, "a") as f:
            t0 = time.perf_counter()
            for i in range(total):
                due = t0 + i / rate
                while (now := time.perf_counter()) < due:
                    time.sleep(min(due - now, 0.001))
                f.write(f"{time.perf_counter():.9f} {PAD}\n")
                f.flush()

    writer = threading.Thread(target=write)
    writer.start()
    delays: list[float] = []
    lines = follow(path, from_start=True, poll=poll, shutdown=stop)
    try:
        started.set()
        for line in lines:
            delays.append(time.perf_counter() - float(line.split(" ", 1)[0]))
            if len(delays) == total:
                break
    finally:
        lines.close()
        writer.join(60)
    delays.sort()
    return statistics.median(delays), delays[int(len(delays) * 0.99) - 1], len(delays)


def throughput(path: str, seconds: float, poll: float) -> tuple[float, int, int]:
    open(path, "w").close()
    written = [0]
    done = threading.Event()

    def write() -> None:
        block = "".join(f"{i:09d} {PAD}\n" for i in range(1000))
        with open(path, "a") as f:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                f.write(block)
                f.flush()
                written[0] += 1000
        done.set()

    writer = threading.Thread(target=write)
    got = 0
    lines = follow(path, from_start=True, poll=poll)
    start = time.perf_counter()
    writer.start()
    try:
        for _ in lines:
            got += 1
            if done.is_set() and got == written[0]:
                break
    finally:
        lines.close()
        writer.join(60)
    elapsed = time.perf_counter() - start
    return got / elapsed, got, written[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10_000, help="lines/s for the latency run")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "access-log")
        med, p99, n = latency(path, args.rate, args.seconds, args.poll)
        print(
            f"latency at {args.rate:,} lines/s, poll {args.poll} s: "
            f"median {med * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms ({n:,} lines)"
        )
        rate, got, written = throughput(path, args.seconds, args.poll)
        print(
            f"throughput: {rate:,.0f} lines/s followed ({got:,} of {written:,} lines, "
            f"{'all' if got == written else 'NOT all'} delivered)"
        )


if __name__ == "__main__":
    main()
