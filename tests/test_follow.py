"""follow(): tail -F on real files, with writer threads rotating, truncating and deleting.

What a follower can promise (and these tests hold it to): with rotation by
rename, every line exactly once and in order, even when the follower is
several rotations behind and the rotated files are compressed meanwhile; with
copytruncate, every line but those written between the copy and the
truncation (the lines the truncation cut are read from the copy).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamql import RejectedLinesWarning, Stream
from streamql.live.follow import FollowStats, follow
from streamql.live.watch import inotify_available

needs_inotify = pytest.mark.skipif(not inotify_available(), reason="no inotify here")

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

POLL = 0.01
TIMEOUT = 20.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def wait_for(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.002)


class Watchdog:
    """Sets the shutdown event after ``timeout``: a stuck follower ends the test, not CI."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.event = threading.Event()
        self.timer = threading.Timer(timeout, self.event.set)
        self.timer.start()

    def close(self) -> None:
        self.timer.cancel()
        self.timer.join(5)


@pytest.fixture
def watchdog() -> Iterator[Watchdog]:
    dog = Watchdog()
    yield dog
    dog.close()


def collect(lines: Iterator[Any], want: int, out: list[Any] | None = None) -> list[Any]:
    got = [] if out is None else out
    for line in lines:
        got.append(line)
        if len(got) >= want:
            break
    return got


def test_from_end_starts_at_the_last_line_start(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    log.write_text("old 1\nold 2\nhalf of a li")
    lines = follow(log, poll=POLL, shutdown=watchdog.event)  # the run starts at next()
    timer = threading.Timer(0.1, append, (log, "ne\nnew\n"))
    timer.start()
    try:
        assert collect(lines, 2) == ["half of a line\n", "new\n"]
    finally:
        lines.close()
        timer.join(5)


def append(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def test_partial_line_is_held_until_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("first\nsec")
    lines = Stream.follow(log, from_start=True, poll=POLL).until(timeout=0.3)
    assert lines.list() == ["first\n"]
    with open(log, "a") as f:
        f.write("ond\n")
    assert lines.list() == ["first\n", "second\n"]  # every run reads afresh


def test_missing_file_is_waited_for(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    lines = follow(log, poll=POLL, shutdown=watchdog.event)
    timer = threading.Timer(0.1, lambda: log.write_text("appeared\n"))
    timer.start()
    try:
        assert collect(lines, 1) == ["appeared\n"]  # a file that appears is read from its start
    finally:
        lines.close()
        timer.join(5)
    with pytest.raises(FileNotFoundError):
        next(follow(tmp_path / "nope", wait=False))


def test_deleted_then_recreated(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    log.write_text("")
    lines = follow(log, from_start=True, poll=POLL, grace=0.05, shutdown=watchdog.event)
    got: list[str] = []
    try:
        with open(log, "a") as f:
            f.write("before\n")
        collect(lines, 1, got)
        log.unlink()
        time.sleep(0.1)
        log.write_text("after 1\nafter 2\n")
        collect(lines, 3, got)
    finally:
        lines.close()
    assert got == ["before\n", "after 1\n", "after 2\n"]


def _writer(
    path: Path, generations: int, per_gen: int, received: list[str], mode: str
) -> threading.Thread:
    """Append numbered lines fast, rotating ``generations - 1`` times by ``mode``."""

    def run() -> None:
        f = open(path, "a")  # noqa: SIM115 - reopened on each rotation
        n = 0
        try:
            for gen in range(generations):
                if gen:
                    # Rotate once the follower has seen this generation's first line.
                    first = n - per_gen
                    wait_for(lambda first=first: len(received) > first)  # type: ignore[misc]
                    f.flush()
                    if mode == "rename":
                        f.close()
                        os.rename(path, f"{path}.{gen}")
                        f = open(path, "a")  # noqa: SIM115
                    else:  # copytruncate, holding the writer's own "lock": nothing is written
                        wait_for(lambda n=n: len(received) >= n)  # type: ignore[misc]
                        shutil.copyfile(path, f"{path}.{gen}")
                        f.truncate(0)
                for _ in range(per_gen):
                    line = f"gen {gen} line {n:07d}\n"
                    if n % 97 == 0:  # now and then, half a line at a time
                        f.write(line[:5])
                        f.flush()
                        f.write(line[5:])
                    else:
                        f.write(line)
                    if n % 20 == 0:
                        f.flush()
                    n += 1
            f.flush()
        finally:
            f.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("inotify", [False, pytest.param(True, marks=needs_inotify)])
@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
def test_every_line_once_in_order_across_rotations(
    tmp_path: Path, watchdog: Watchdog, mode: str, inotify: bool
) -> None:
    log = tmp_path / "access-log"
    log.write_text("")
    generations, per_gen = 25, 400
    received: list[str] = []
    before = open_fds()
    stats = FollowStats()
    lines = follow(
        log,
        from_start=True,
        poll=POLL,
        grace=0.05,
        inotify=inotify,
        stats=stats,
        shutdown=watchdog.event,
    )
    writer = _writer(log, generations, per_gen, received, mode)
    try:
        collect(lines, generations * per_gen, received)
    finally:
        lines.close()
        writer.join(TIMEOUT)
    assert not writer.is_alive()
    expected = [f"gen {n // per_gen} line {n:07d}\n" for n in range(generations * per_gen)]
    assert received == expected
    assert open_fds() == before
    assert stats.inotify is inotify


def test_truncation_refilled_to_the_same_size_is_noticed(
    tmp_path: Path, watchdog: Watchdog
) -> None:
    log = tmp_path / "log"
    log.write_text("")
    lines = follow(log, from_start=True, poll=POLL, shutdown=watchdog.event)
    try:
        with open(log, "a") as f:
            f.write("aaaa 1\naaaa 2\n")
        assert collect(lines, 2) == ["aaaa 1\n", "aaaa 2\n"]
        # Truncate and refill to exactly the old size before the follower looks.
        with open(log, "r+") as f:
            f.truncate(0)
            f.write("bbbb 1\nbbbb 2\n")
        assert collect(lines, 2) == ["bbbb 1\n", "bbbb 2\n"]
    finally:
        lines.close()


def test_writer_still_appending_to_the_renamed_file(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    log.write_text("")
    lines = follow(log, from_start=True, poll=POLL, grace=2.0, shutdown=watchdog.event)
    got: list[str] = []
    try:
        with open(log, "a") as old:
            old.write("old 1\n")
            old.flush()
            collect(lines, 1, got)
            os.rename(log, tmp_path / "log.1")
            log.write_text("new 1\n")
            collect(lines, 2, got)
            old.write("old 2 (late writer)\n")  # web servers do this until they reopen
        collect(lines, 3, got)
    finally:
        lines.close()
    assert got == ["old 1\n", "new 1\n", "old 2 (late writer)\n"]


def test_several_files_tagged_and_a_quiet_one_delays_nothing(
    tmp_path: Path, watchdog: Watchdog
) -> None:
    busy, quiet = tmp_path / "busy.log", tmp_path / "quiet.log"
    busy.write_text("")
    quiet.write_text("")
    lines = Stream.follow(
        busy, quiet, tag=True, from_start=True, poll=POLL, shutdown=watchdog.event
    )
    it = iter(lines)
    try:
        start = time.monotonic()
        with open(busy, "a") as f:
            f.write("b1\n")
        assert next(it) == (str(busy), "b1\n")
        assert time.monotonic() - start < 1.0
        with open(quiet, "a") as f:
            f.write("q1\n")
        assert next(it) == (str(quiet), "q1\n")
    finally:
        it.close()  # type: ignore[attr-defined]


def test_glob_follows_every_match(tmp_path: Path, watchdog: Watchdog) -> None:
    for name in ("a.log", "b.log"):
        (tmp_path / name).write_text(f"{name}\n")
    got = Stream.follow(str(tmp_path / "*.log"), from_start=True, poll=POLL).until(timeout=0.3)
    assert sorted(got.list()) == ["a.log\n", "b.log\n"]


def test_realtime_404s_through_the_usual_chain(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "access-log"
    log.write_text("")
    query = (
        Stream.follow(log, from_start=True, poll=POLL, shutdown=watchdog.event)
        .parse_apache()
        .where(status=404)
        .map(lambda r: r["request"])
        .take(2)
    )
    rows = [
        '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 133\n',
        '1.2.3.4 - - [24/Feb/2008:00:09:00 -0600] "GET /b HTTP/1.1" 200 10\n',
        "garbage\n",
        '1.2.3.4 - - [24/Feb/2008:00:09:01 -0600] "GET /c HTTP/1.1" 404 133\n',
    ]
    timer = threading.Timer(0.1, lambda: log.write_text("".join(rows)))
    timer.start()
    try:
        with pytest.warns(RejectedLinesWarning, match="access-log:3"):
            assert query.list() == ["/a", "/c"]
    finally:
        timer.join(5)


def test_shutdown_from_another_thread_ends_within_a_poll(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("first\n")
    stop = threading.Event()
    before = open_fds()
    following = threading.Event()
    ended = threading.Event()

    def consume() -> None:
        for _ in Stream.follow(log, from_start=True, poll=0.05, shutdown=stop):
            following.set()  # the follower is in its loop, polling an idle file
        ended.set()

    thread = threading.Thread(target=consume)
    thread.start()
    assert following.wait(TIMEOUT)
    start = time.monotonic()
    stop.set()
    thread.join(TIMEOUT)
    assert ended.is_set()
    assert time.monotonic() - start < 0.05 + 0.25  # one poll, plus a loaded machine's slack
    assert open_fds() == before


def test_until_timeout_ends_an_idle_follow(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("")
    start = time.monotonic()
    assert Stream.follow(log, poll=POLL).until(timeout=0.2).list() == []
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("inotify", [False, pytest.param(True, marks=needs_inotify)])
def test_break_closes_the_file(tmp_path: Path, watchdog: Watchdog, inotify: bool) -> None:
    log = tmp_path / "log"
    log.write_text("a\nb\n")
    before = open_fds()
    query = Stream.follow(log, from_start=True, poll=POLL, inotify=inotify, shutdown=watchdog.event)
    for _line in query:
        assert open_fds() == before + 1 + inotify  # the file, and the inotify instance
        break
    assert open_fds() == before


def test_arguments_are_checked_when_the_step_is_added() -> None:
    with pytest.raises(ValueError, match="follow: poll"):
        Stream.follow("log", poll=0)
    with pytest.raises(TypeError, match="follow: expected a path"):
        Stream.follow(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"shutdown must be a threading\.Event"):
        follow("log", shutdown=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown encoding"):
        follow("log", encoding="nope")


# ---------------------------------------------------------------- lag, rotation, truncation


def logrotate(log: Path, *, compress: bool = True, delay: bool = True) -> None:
    """Rotate like logrotate: shift ``log.N[.gz]`` up, rename ``log`` to ``log.1``, compress.

    With ``delay`` (delaycompress) the newest rotated file stays plain and the
    one before it is compressed; the original is deleted once its ``.gz`` is
    written, keeping its modification time, as gzip does.
    """
    import gzip

    def rotated(n: int) -> list[Path]:
        return [p for p in (Path(f"{log}.{n}"), Path(f"{log}.{n}.gz")) if p.exists()]

    n = 1
    while rotated(n):
        n += 1
    for i in range(n - 1, 0, -1):
        for p in rotated(i):
            os.rename(p, str(p).replace(f"{log}.{i}", f"{log}.{i + 1}"))
    os.rename(log, f"{log}.1")
    log.write_text("")
    if compress:
        target = Path(f"{log}.2") if delay else Path(f"{log}.1")
        if target.exists():
            with open(target, "rb") as src, gzip.open(f"{target}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            shutil.copystat(target, f"{target}.gz")
            target.unlink()


def numbered(start: int, stop: int, pad: str = "") -> str:
    return "".join(f"line {i:07d}{pad}\n" for i in range(start, stop))


@pytest.mark.parametrize("compress", [False, True])
def test_a_lagging_follow_reads_every_file_rotated_meanwhile(
    tmp_path: Path, watchdog: Watchdog, compress: bool
) -> None:
    # The follower has read one line; the writer then rotates five times
    # (with delaycompress, so all but the newest rotated file are .gz) before
    # the follower reads again. Every line must come, once, in order.
    log = tmp_path / "access-log"
    log.write_text(numbered(0, 100))
    stats = FollowStats()
    lines = follow(log, from_start=True, poll=POLL, grace=0, shutdown=watchdog.event, stats=stats)
    got: list[str] = []
    try:
        collect(lines, 1, got)
        for gen in range(1, 6):
            append(log, numbered(gen * 100, gen * 100 + 100))
            logrotate(log, compress=compress)
        append(log, numbered(600, 650))
        collect(lines, 650, got)
    finally:
        lines.close()
    assert got == numbered(0, 650).splitlines(keepends=True)
    assert stats.rotations >= 1 and stats.files_opened == 6


TAIL = " " + "-" * 80 + " the same end on every line"


def test_truncation_refilled_past_the_old_size_with_lines_ending_alike(
    tmp_path: Path, watchdog: Watchdog
) -> None:
    # Every line ends in the same 100 bytes, so the bytes just before the read
    # position look the same after a truncation refilled past the old size.
    log = tmp_path / "log"
    log.write_text(numbered(0, 150, TAIL))
    lines = follow(log, from_start=True, poll=POLL, shutdown=watchdog.event)
    got: list[str] = []
    try:
        collect(lines, 150, got)
        with open(log, "r+") as f:
            f.truncate(0)
            f.write(numbered(1000, 1300, TAIL))
        collect(lines, 450, got)
    finally:
        lines.close()
    assert got[150:] == numbered(1000, 1300, TAIL).splitlines(keepends=True)


@pytest.mark.parametrize("compress", [False, True])
def test_copytruncate_reads_what_the_truncation_cut_from_the_copy(
    tmp_path: Path, watchdog: Watchdog, compress: bool
) -> None:
    # The follower had read lines 0-49; 50-99 were written, copied to log.1
    # (maybe compressed at once) and truncated away before it looked again.
    import gzip

    log = tmp_path / "log"
    log.write_text(numbered(0, 50))
    stats = FollowStats()
    lines = follow(log, from_start=True, poll=POLL, grace=0, shutdown=watchdog.event, stats=stats)
    got: list[str] = []
    try:
        collect(lines, 50, got)
        with open(log, "a") as f:
            f.write(numbered(50, 99) + "line 00000")  # and half of line 99
        if compress:
            with open(log, "rb") as src, gzip.open(f"{log}.1.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(log, f"{log}.1")
        with open(log, "r+") as f:
            f.truncate(0)
            f.write(numbered(100, 150))
        collect(lines, 150, got)
    finally:
        lines.close()
    # Line 99 was cut in half by the truncation: its first half is all there is.
    expected = [*numbered(0, 99).splitlines(keepends=True), "line 00000"]
    assert got == expected + numbered(100, 150).splitlines(keepends=True)
    assert stats.truncations == 1 and stats.copies_read == 1


@pytest.mark.parametrize("max_line", [100, 1 << 20])
def test_an_over_long_line_is_a_reject_with_its_first_bytes(
    tmp_path: Path, watchdog: Watchdog, max_line: int
) -> None:
    import tracemalloc

    from streamql import RunContext

    log = tmp_path / "log"
    huge = 12 * (1 << 20) if max_line > 100 else 300
    with open(log, "w") as f:
        f.write("before\n" + "x" * 20 + "y" * huge + "\nafter\n")
    ctx = RunContext(keep_rejects=True)
    tracemalloc.start()
    try:
        lines = follow(
            log, from_start=True, poll=POLL, max_line=max_line, shutdown=watchdog.event, ctx=ctx
        )
        got = collect(lines, 2)
        lines.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == ["before\n", "after\n"]
    assert ctx.rejected["follow"] == 1
    (reject,) = ctx.sink or []
    assert reject["line"].startswith("x" * 20 + "yyy") and len(reject["line"]) == 200
    assert reject["file"] == str(log) and reject["lineno"] == 2
    assert peak < max_line + 4 * (1 << 20)  # never the whole 12 MiB line


def test_max_line_none_lifts_the_cap(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    log.write_text("z" * (3 << 20) + "\n")
    lines = follow(log, from_start=True, poll=POLL, max_line=None, shutdown=watchdog.event)
    try:
        assert collect(lines, 1) == ["z" * (3 << 20) + "\n"]
    finally:
        lines.close()
    with pytest.raises(ValueError, match="max_line"):
        follow(log, max_line=0)


def test_lag_is_visible_in_the_stats(tmp_path: Path, watchdog: Watchdog) -> None:
    log = tmp_path / "log"
    log.write_text(numbered(0, 20_000))  # 260 KB: several 64 KiB rounds
    stats = FollowStats()
    lines = Stream.follow(log, from_start=True, poll=POLL, stats=stats, shutdown=watchdog.event)
    it = iter(lines)
    behind = []
    try:
        for _ in range(20_000):
            next(it)
            behind.append(stats.bytes_behind)
        logrotate(log, compress=False)
        logrotate(log, compress=False)
        append(log, numbered(0, 10))
        for _ in range(10):
            next(it)
    finally:
        it.close()  # type: ignore[attr-defined]
    assert max(behind) > 100_000 and behind[-1] == 0
    assert stats.rotations == 1 and stats.files_opened == 2  # the empty one between: nothing


def test_inotify_is_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamql.live.watch

    log = tmp_path / "log"
    log.write_text("a\n")
    monkeypatch.setattr(streamql.live.watch, "_inotify", None)  # as without inotify_simple
    stats = FollowStats()
    got = Stream.follow(log, from_start=True, poll=POLL, stats=stats).until(timeout=0.2).list()
    assert got == ["a\n"] and stats.inotify is False  # polls instead
    with pytest.raises(ValueError, match="inotify=True but inotify is not available"):
        Stream.follow(log, inotify=True)  # when the step is added


def test_a_compressed_copy_being_written_is_never_read_as_text(
    tmp_path: Path, watchdog: Watchdog
) -> None:
    import gzip

    log = tmp_path / "log"
    log.write_text(numbered(0, 100))
    lines = follow(log, from_start=True, poll=POLL, grace=60, shutdown=watchdog.event)
    got: list[str] = []
    try:
        collect(lines, 1, got)
        os.rename(log, f"{log}.1")
        log.write_text(numbered(100, 200))
        os.rename(f"{log}.1", f"{log}.2")
        os.rename(log, f"{log}.1")
        log.write_text(numbered(200, 250))
        Path(f"{log}.2.gz").touch()  # the compressor has just created its output
        collect(lines, 250, got)
        with open(f"{log}.2", "rb") as src, gzip.open(f"{log}.2.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(f"{log}.2")
        append(log, numbered(250, 300))
        collect(lines, 300, got)
    finally:
        lines.close()
    assert got == numbered(0, 300).splitlines(keepends=True)
