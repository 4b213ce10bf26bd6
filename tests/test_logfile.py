"""logfile(): rotated history oldest first, then the live file, resumable by checkpoint."""

from __future__ import annotations

import bz2
import gzip
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from streamql import Stream
from streamql.live.logfile import logfile, read_checkpoint, rotated_siblings

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def make_log(tmp_path: Path) -> Path:
    """access-log with three rotated siblings (bz2, gz, plain), oldest written first."""
    folder = tmp_path / "www" / "foo"
    folder.mkdir(parents=True)
    log = folder / "access-log"
    with bz2.open(folder / "access-log-0108.bz2", "wt") as f:
        f.writelines(f"bz2 {i}\n" for i in range(3))
    with gzip.open(folder / "access-log.2.gz", "wt") as f:
        f.writelines(f"gz {i}\n" for i in range(3))
    (folder / "access-log.1").write_text("".join(f"one {i}\n" for i in range(3)))
    log.write_text("".join(f"live {i}\n" for i in range(3)))
    (folder / "access-log.lock").write_text("not a rotation\n")
    for age, name in enumerate(["access-log-0108.bz2", "access-log.2.gz", "access-log.1"]):
        os.utime(folder / name, (1000 + age, 1000 + age))
    return log


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


EXPECTED = [f"{kind} {i}\n" for kind in ("bz2", "gz", "one", "live") for i in range(3)]


def test_history_oldest_first_then_live(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    assert [p.name for p in rotated_siblings(log)] == [
        "access-log-0108.bz2",
        "access-log.2.gz",
        "access-log.1",
    ]
    assert list(logfile(log, follow=False)) == EXPECTED
    assert Stream.logfile(log, follow=False).list() == EXPECTED  # re-runnable
    assert Stream.logfile(log, follow=False).list() == EXPECTED


def test_history_then_follow_the_live_file(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    timer = threading.Timer(0.1, append, (log, "live 3\n"))
    timer.start()
    try:
        got = Stream.logfile(log, poll=0.01).take(13).list()
    finally:
        timer.join(5)
    assert got == [*EXPECTED, "live 3\n"]


def test_checkpoint_resumes_at_least_once_and_survives_rotation(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    cp = tmp_path / "checkpoint"
    first = Stream.logfile(log, follow=False, checkpoint=cp).take(5).list()
    assert first == EXPECTED[:5]
    saved = read_checkpoint(cp)
    assert saved is not None and saved[0].fp is not None and saved[0].offset > 0
    rest = Stream.logfile(log, follow=False, checkpoint=cp).list()
    # At least once: the batch being read when the run stopped (the .gz file's
    # three lines) was not acknowledged, so it comes again; nothing is lost.
    assert rest == EXPECTED[3:]
    # Everything acknowledged: a re-run has nothing new, even after a rotation by rename.
    assert Stream.logfile(log, follow=False, checkpoint=cp).list() == []
    os.rename(log, log.with_name("access-log.0"))
    log.write_text("new live\n")
    after = Stream.logfile(log, follow=False, checkpoint=cp).list()
    assert after == ["new live\n"]


def test_checkpoint_while_following(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    cp = tmp_path / "checkpoint"
    stop = threading.Event()
    got: list[str] = []
    start = time.monotonic()
    for line in logfile(log, checkpoint=cp, shutdown=stop, poll=0.01, checkpoint_every=0):
        got.append(line)
        if len(got) == len(EXPECTED):
            stop.set()
        assert time.monotonic() - start < 10
    assert got == EXPECTED
    with log.open("a") as f:
        f.write("live 3\n")
    assert Stream.logfile(log, follow=False, checkpoint=cp).list() == ["live 3\n"]


def numbered(prefix: str, start: int, stop: int) -> list[str]:
    return [f"{prefix} {i:06d}\n" for i in range(start, stop)]


@pytest.mark.parametrize("how", ["rewritten in place", "compressed, deleted, recreated"])
def test_a_new_file_on_a_reused_inode_is_read_from_its_start(tmp_path: Path, how: str) -> None:
    log = tmp_path / "access-log"
    cp = tmp_path / "checkpoint"
    log.write_text("".join(numbered("old", 0, 200)))
    assert Stream.logfile(log, follow=False, checkpoint=cp).list() == numbered("old", 0, 200)
    if how == "rewritten in place":  # the same (st_dev, st_ino), another file
        with log.open("r+") as f:
            f.truncate(0)
            f.write("".join(numbered("new", 0, 300)))
    else:  # logrotate's compress-and-delete: ext4 hands the freed inode to the next file
        with log.open("rb") as src, gzip.open(f"{log}.1.gz", "wb") as dst:
            dst.write(src.read())
        log.unlink()
        log.write_text("".join(numbered("new", 0, 300)))
    assert Stream.logfile(log, follow=False, checkpoint=cp).list() == numbered("new", 0, 300)


def test_the_first_checkpoint_is_written_at_the_first_acknowledged_batch(tmp_path: Path) -> None:
    log = tmp_path / "access-log"
    (tmp_path / "access-log.1").write_text("".join(numbered("one", 0, 3)))
    log.write_text("".join(numbered("live", 0, 3)))
    os.utime(tmp_path / "access-log.1", (1000, 1000))
    cp = tmp_path / "checkpoint"
    lines = logfile(log, checkpoint=cp, poll=0.01, checkpoint_every=3600)
    try:
        assert [next(lines) for _ in range(4)] == numbered("one", 0, 3) + numbered("live", 0, 1)
        saved = read_checkpoint(cp)  # the first batch (access-log.1) is acknowledged
        assert saved is not None and saved[0].file.endswith("access-log.1")
        assert saved[0].offset == (tmp_path / "access-log.1").stat().st_size
    finally:
        lines.close()


def test_late_writes_to_a_renamed_file_survive_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "access-log"
    cp = tmp_path / "checkpoint"
    log.write_text("")
    stop = threading.Event()
    writer = log.open("a")
    got: list[str] = []
    try:
        writer.write("old 1\n")
        writer.flush()
        lines = logfile(log, checkpoint=cp, shutdown=stop, poll=0.01, grace=60)
        got.append(next(lines))
        os.rename(log, tmp_path / "access-log.1")
        log.write_text("new 1\n")
        got.append(next(lines))
        stop.set()
        got.extend(lines)  # a clean stop writes the checkpoint
        writer.write("old 2 (written after the stop, before the writer reopened)\n")
    finally:
        writer.close()
    assert got == ["old 1\n", "new 1\n"]
    rest = Stream.logfile(log, follow=False, checkpoint=cp).list()
    assert rest == ["old 2 (written after the stop, before the writer reopened)\n"]


# Imports streamql once, then forks one consumer per run (a fresh interpreter per
# run would spend most of the test importing): the test kills each with SIGKILL.
CONSUMERS = textwrap.dedent(
    """
    import os, sys
    from streamql.live.logfile import logfile

    log, checkpoint, out = sys.argv[1:4]
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            with open(out, "a") as f:
                for line in logfile(log, checkpoint=checkpoint, poll=0.01, grace=0.2,
                                    checkpoint_lines=200):
                    f.write(line)
                    f.flush()
            os._exit(0)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
    """
)
PAD = "x" * 80


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def test_repeated_kill_9_loses_nothing_while_the_writer_rotates_and_compresses(
    tmp_path: Path,
) -> None:
    from test_follow import logrotate

    log, cp, out = tmp_path / "access-log", tmp_path / "checkpoint", tmp_path / "out"
    log.write_text("")
    kills_done = threading.Event()
    written = [0]

    def write() -> None:
        n = 0
        f = log.open("a")
        try:
            while not kills_done.is_set() or n < 5_000:
                f.write(f"{n:07d} {PAD}\n")
                n += 1
                if n % 20 == 0:
                    f.flush()
                    written[0] = n
                    time.sleep(0.001)  # pace: a few thousand lines a second
                if n % 400 == 0:
                    f.close()
                    logrotate(log, compress=True, delay=True)
                    f = log.open("a")
        finally:
            f.close()
            written[0] = n

    writer = threading.Thread(target=write)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-c", CONSUMERS, str(log), str(cp), str(out)]
    kills = 20
    with subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as runs:
        assert runs.stdin is not None and runs.stdout is not None

        def run_until(cond: Any) -> None:
            assert runs.stdin is not None and runs.stdout is not None
            runs.stdin.write("run\n")
            runs.stdin.flush()
            pid = int(runs.stdout.readline())
            try:
                wait_until(cond)
            finally:
                os.kill(pid, signal.SIGKILL)
                assert runs.stdout.readline().strip() == str(signal.SIGKILL)  # killed, not ended

        writer.start()
        try:
            for _ in range(kills):
                before = count_lines(out)
                run_until(lambda before=before: count_lines(out) >= before + 150)
        finally:
            kills_done.set()
            writer.join(60)
        assert not writer.is_alive()
        total = written[0]
        run_until(lambda: count_lines(out) >= total and cp_covers(out, total))  # catches up
        runs.stdin.close()
        assert runs.wait(30) == 0
    delivered = [int(line.split()[0]) for line in out.read_text().splitlines()]
    assert set(delivered) == set(range(total))  # nothing lost
    duplicates = len(delivered) - total
    batch = (1 << 16) // len(f"{0:07d} {PAD}\n") + 1
    assert duplicates <= kills * (200 + 2 * batch), duplicates  # the bound the docs state


def cp_covers(out: Path, total: int) -> bool:
    return {int(line.split()[0]) for line in out.read_text().splitlines()} >= set(range(total))


def wait_until(cond: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)
