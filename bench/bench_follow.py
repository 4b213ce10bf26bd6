"""Follow benchmark: latency at a steady write rate, and the highest rate followed.

Latency: a writer thread appends lines carrying their write time
(``time.perf_counter``) at ``--rate`` lines/s, flushing each; the follower
(``streamql.live.follow.follow``, default poll 0.05 s) records receipt time minus
write time. Reports median and p99. Targets: p99 < 100 ms at 10k lines/s.

Throughput: a writer appends as fast as it can for ``--seconds`` while the
follower reads; reports lines/s delivered and whether every line arrived
(the follower keeps up if it ends within a poll of the writer). Target:
>= 200k lines/s.

Reliability rows (issue 14), each a count of lines, not a timing:

- ``lag``: a writer at 20k lines/s rotating every 0.2 s (rename, delaycompress
  gzip) and a consumer 25% slower; lines lost (must be 0) and duplicated, and
  how far behind the follow got (its ``FollowStats``).
- ``copytruncate``: another thread copies and truncates the log every 0.2 s
  while the writer appends at 20k lines/s; lines lost, with inotify and
  polling. What is lost is what was written between the copy and the truncation.
- ``checkpoint``: a ``logfile`` consumer with a checkpoint killed with SIGKILL
  ``--kills`` times while the writer rotates and compresses; lines lost (must
  be 0) and lines redelivered per restart.
- ``idle``: CPU used by a follow of 100 idle files, polling vs inotify.

    python bench/bench_follow.py                 # every row, ~1 min
    python bench/bench_follow.py --rows latency,throughput --rate 10000 --seconds 3
    python bench/bench_follow.py --rows lag --seconds 10
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from streamql.live.follow import DEFAULT_POLL, FollowStats, follow
from streamql.live.watch import inotify_available

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


# ------------------------------------------------------------------ issue 14 rows


def _logrotate(log: str, *, compress: bool = True) -> None:
    """logrotate with delaycompress: shift log.N[.gz] up, log -> log.1, gzip log.2."""
    n = 1
    while os.path.exists(f"{log}.{n}") or os.path.exists(f"{log}.{n}.gz"):
        n += 1
    for i in range(n - 1, 0, -1):
        for suffix in ("", ".gz"):
            if os.path.exists(f"{log}.{i}{suffix}"):
                os.rename(f"{log}.{i}{suffix}", f"{log}.{i + 1}{suffix}")
    os.rename(log, f"{log}.1")
    open(log, "w").close()
    if compress and os.path.exists(f"{log}.2"):
        with open(f"{log}.2", "rb") as src, gzip.open(f"{log}.2.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copystat(f"{log}.2", f"{log}.2.gz")
        os.unlink(f"{log}.2")


def _paced(rate: float) -> Any:
    """Yield i = 0, 1, ... no faster than ``rate`` a second."""
    t0 = time.perf_counter()
    i = 0
    while True:
        due = t0 + i / rate
        while (now := time.perf_counter()) < due:
            time.sleep(min(due - now, 0.002))
        yield i
        i += 1


def lag(folder: str, rate: int, seconds: float, rotate_every: float) -> str:
    """A consumer 25% slower than the writer, which rotates (and compresses) every 0.2 s."""
    log = os.path.join(folder, "lag-log")
    open(log, "w").close()
    total = int(rate * seconds)
    stop = threading.Event()
    stats = FollowStats()

    def write() -> None:
        f = open(log, "a")  # noqa: SIM115 - reopened on each rotation
        next_rotation = time.perf_counter() + rotate_every
        try:
            for i in _paced(rate):
                if i == total:
                    break
                f.write(f"{i:09d} {PAD}\n")
                if i % 50 == 0:
                    f.flush()
                if time.perf_counter() >= next_rotation:
                    f.close()
                    _logrotate(log)
                    f = open(log, "a")  # noqa: SIM115
                    next_rotation += rotate_every
        finally:
            f.close()

    writer = threading.Thread(target=write)
    seen: set[int] = set()
    got = 0
    behind_files = behind_bytes = 0
    lines = follow(log, from_start=True, shutdown=stop, stats=stats)
    guard = threading.Timer(seconds * 3 + 60, stop.set)
    guard.start()
    writer.start()
    try:
        pace = _paced(rate / 1.25)
        for line in lines:
            next(pace)
            seen.add(int(line[:9]))
            got += 1
            behind_files = max(behind_files, stats.files_behind)
            behind_bytes = max(behind_bytes, stats.bytes_behind)
            if len(seen) == total:
                break
    finally:
        lines.close()
        writer.join(60)
        guard.cancel()
    return (
        f"lag: writer {rate:,} lines/s rotating every {rotate_every} s (delaycompress), "
        f"consumer 25% slower: {total - len(seen):,} of {total:,} lines lost, "
        f"{got - len(seen):,} duplicated; {stats.files_opened} files read, "
        f"up to {behind_files} files / {behind_bytes / 1e6:.1f} MB behind"
    )


def copytruncate(folder: str, rate: int, seconds: float, every: float, inotify: bool) -> str:
    """logrotate's copytruncate run by another thread while the writer goes on writing."""
    log = os.path.join(folder, f"ct-log-{inotify}")
    open(log, "w").close()
    total = int(rate * seconds)
    stop = threading.Event()
    stats = FollowStats()
    written = threading.Event()

    def write() -> None:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        try:
            for i in _paced(rate):
                if i == total:
                    break
                os.write(fd, f"{i:09d} {PAD}\n".encode())
        finally:
            os.close(fd)
            written.set()

    def rotate() -> None:
        n = 0
        while not written.wait(every):
            n += 1
            shutil.copyfile(log, f"{log}.{n}")
            os.truncate(log, 0)

    threads = [threading.Thread(target=write), threading.Thread(target=rotate)]
    seen: set[int] = set()
    lines = follow(log, from_start=True, shutdown=stop, stats=stats, inotify=inotify)
    for t in threads:
        t.start()
    try:
        idle = threading.Timer(seconds + 5, stop.set)  # ends the follow once all is written
        idle.start()
        for line in lines:
            seen.add(int(line[:9]))
            if len(seen) == total:
                break
    finally:
        lines.close()
        idle.cancel()
        for t in threads:
            t.join(60)
    lost = total - len(seen)
    how = "inotify" if stats.inotify else f"polling every {DEFAULT_POLL} s"
    return (
        f"copytruncate at {rate:,} lines/s every {every} s, {how}: {lost:,} of {total:,} "
        f"lines lost ({lost / total:.3%}); {stats.truncations} truncations, "
        f"{stats.copies_read} copies read for what they cut"
    )


CONSUMERS = """
import os, sys
sys.path.insert(0, sys.argv[4])
from streamql.live.logfile import logfile
log, checkpoint, out = sys.argv[1:4]
for n, _ in enumerate(sys.stdin):
    pid = os.fork()
    if pid == 0:
        with open(f"{out}.{n}", "w") as f:
            for line in logfile(log, checkpoint=checkpoint, poll=0.01, grace=0.2):
                f.write(line)
                f.flush()
        os._exit(0)
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("dead", flush=True)
"""


def checkpoint_kills(folder: str, kills: int, rate: int) -> str:
    """kill -9 a logfile consumer ``kills`` times while the writer rotates and compresses."""
    log, cp, out = (os.path.join(folder, n) for n in ("cp-log", "cp-checkpoint", "cp-out"))
    open(log, "w").close()
    done = threading.Event()
    written = [0]

    def write() -> None:
        f = open(log, "a")  # noqa: SIM115
        try:
            for i in _paced(rate):
                if done.is_set():
                    break
                f.write(f"{i:09d} {PAD}\n")
                f.flush()
                written[0] = i + 1
                if (i + 1) % 2000 == 0:
                    f.close()
                    _logrotate(log)
                    f = open(log, "a")  # noqa: SIM115
        finally:
            f.close()

    def count(n: int) -> int:
        try:
            with open(f"{out}.{n}", "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with subprocess.Popen(
        [sys.executable, "-c", CONSUMERS, log, cp, out, root],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as runs:
        assert runs.stdin is not None and runs.stdout is not None

        def run(n: int, enough: Any) -> None:
            assert runs.stdin is not None and runs.stdout is not None
            runs.stdin.write("run\n")
            runs.stdin.flush()
            pid = int(runs.stdout.readline())
            deadline = time.monotonic() + 120
            while not enough(n) and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(pid, signal.SIGKILL)
            runs.stdout.readline()

        writer = threading.Thread(target=write)
        writer.start()
        try:
            for n in range(kills):
                run(n, lambda n: count(n) >= 3000)
        finally:
            done.set()
            writer.join(60)
        total = written[0]

        def complete(n: int) -> bool:
            have: set[int] = set()
            for k in range(n + 1):
                with open(f"{out}.{k}") as f:
                    have.update(int(line[:9]) for line in f if len(line) > 9)
            return len(have) >= total

        run(kills, lambda n: count(n) > 0 and complete(n))
        runs.stdin.close()
        runs.wait(30)
    delivered: set[int] = set()
    again: list[int] = []
    for n in range(kills + 1):
        with open(f"{out}.{n}") as f:
            got = [int(line[:9]) for line in f if line.endswith("\n")]
        again.append(sum(1 for i in got if i in delivered))
        delivered.update(got)
    lost = total - len(delivered & set(range(total)))
    per_kill = again[1:]
    return (
        f"checkpoint: {kills} x kill -9 while writing {rate:,} lines/s, rotating and "
        f"compressing: {lost:,} of {total:,} lines lost; redelivered per restart: "
        f"mean {statistics.mean(per_kill):,.0f}, max {max(per_kill):,} lines "
        f"(bound: 10,000 + 2 batches of {(1 << 16) // (len(PAD) + 11) + 1:,} lines)"
    )


def idle_cpu(folder: str, files: int, seconds: float, inotify: bool) -> str:
    """CPU used by a follow of ``files`` idle files for ``seconds``."""
    names = []
    for i in range(files):
        p = os.path.join(folder, f"idle-{i:03d}.log")
        with open(p, "w") as f:
            f.write("one line\n")
        names.append(p)
    stop = threading.Event()
    stats = FollowStats()
    lines = follow(names, shutdown=stop, stats=stats, inotify=inotify)
    marks: list[tuple[float, float]] = []

    def measure() -> None:  # from 1 s in (the start-up is done), for ``seconds``
        for wait in (1.0, seconds):
            stop.wait(wait)
            marks.append((time.process_time(), time.perf_counter()))
        stop.set()

    timer = threading.Thread(target=measure)
    timer.start()
    try:
        for _ in lines:
            pass
    finally:
        lines.close()
        timer.join()
    cpu, wall = marks[1][0] - marks[0][0], marks[1][1] - marks[0][1]
    how = "inotify" if stats.inotify else f"polling every {DEFAULT_POLL} s"
    return f"idle follow of {files} files, {how}: {cpu / wall:.2%} of a core ({cpu:.3f} s CPU)"


ROWS = ("latency", "throughput", "lag", "copytruncate", "checkpoint", "idle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10_000, help="lines/s for the latency run")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--poll", type=float, default=0.05)
    parser.add_argument("--rows", default=",".join(ROWS), help="which rows, comma-separated")
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    rows = args.rows.split(",")
    with tempfile.TemporaryDirectory() as d:
        for row in rows:
            if row not in ROWS:
                raise SystemExit(f"unknown row {row!r}; choose from {', '.join(ROWS)}")
        if "lag" in rows:
            print(lag(d, 20_000, args.seconds, 0.2), flush=True)
        if "copytruncate" in rows:
            for notify in (True, False):
                if notify and not inotify_available():
                    print("copytruncate with inotify: skipped (pip install inotify_simple)")
                    continue
                print(copytruncate(d, 20_000, args.seconds, 0.2, notify), flush=True)
        if "checkpoint" in rows:
            print(checkpoint_kills(d, args.kills, 5_000), flush=True)
        if "idle" in rows:
            for notify in (False, True):
                if notify and not inotify_available():
                    print("idle follow with inotify: skipped (pip install inotify_simple)")
                    continue
                print(idle_cpu(d, 100, max(args.seconds, 3.0), notify), flush=True)
        if "latency" not in rows and "throughput" not in rows:
            return
        path = os.path.join(d, "access-log")
        if "latency" in rows:
            med, p99, n = latency(path, args.rate, args.seconds, args.poll)
            print(
                f"latency at {args.rate:,} lines/s, poll {args.poll} s: "
                f"median {med * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms ({n:,} lines)"
            )
        if "throughput" not in rows:
            return
        rate, got, written = throughput(path, args.seconds, args.poll)
        print(
            f"throughput: {rate:,.0f} lines/s followed ({got:,} of {written:,} lines, "
            f"{'all' if got == written else 'NOT all'} delivered)"
        )


if __name__ == "__main__":
    main()
