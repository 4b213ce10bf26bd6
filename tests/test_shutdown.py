"""Stopping live streams from signals: a storm of them, in this process and in a child."""

from __future__ import annotations

import contextlib
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
from streamql.live.shutdown import shutdown_on_signals

needs_usr1 = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 here")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


@needs_usr1
def test_a_storm_of_signals_stops_a_follow_without_deadlock(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("")
    before_fds, before_threads = open_fds(), threading.active_count()
    storm_over = threading.Event()

    def storm() -> None:
        # Signals land in the main thread, often while it waits on the Event's lock.
        for _ in range(300):
            os.kill(os.getpid(), signal.SIGUSR1)
        storm_over.set()

    with shutdown_on_signals(signal.SIGUSR1) as stop:
        sender = threading.Timer(0.1, storm)
        sender.start()
        start = time.monotonic()
        assert Stream.follow(log, poll=0.01, shutdown=stop).until(timeout=10).list() == []
        assert time.monotonic() - start < 5
        sender.join(10)
    assert storm_over.is_set()
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
    assert open_fds() == before_fds
    assert threading.active_count() == before_threads


def test_only_the_main_thread_may_install_handlers() -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with shutdown_on_signals():
                pass
        except ValueError as exc:
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join(5)
    assert errors and "main thread" in str(errors[0])


CHILD = textwrap.dedent(
    """
    import sys, threading
    from streamql import Stream
    from streamql.live.shutdown import shutdown_on_signals

    with shutdown_on_signals() as stop:
        lines = Stream.follow(sys.argv[1], from_start=True, poll=0.02, shutdown=stop)
        for line in lines:
            print(line, end="", flush=True)
    print("closed", threading.active_count(), flush=True)
    """
)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_ends_a_live_query_in_another_process(tmp_path: Path, signame: str) -> None:
    if not hasattr(signal, signame):
        pytest.skip(f"no {signame} here")
    log = tmp_path / "log"
    log.write_text("ready\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log)], stdout=subprocess.PIPE, text=True, env=env
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"  # following, handlers installed
        for _ in range(20):
            child.send_signal(getattr(signal, signame))
        out, _ = child.communicate(timeout=15)
    assert child.returncode == 0
    assert out == "closed 1\n"


# ------------------------------------------------ hostile names: never block, never end the rest


def make_hostile(path: Path, kind: str) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink loop":
        os.symlink(path.name, path)  # points at itself: ELOOP
    else:  # unreadable
        path.write_text("secret\n")
        path.chmod(0)


def unblock(path: Path) -> None:
    """Open a FIFO for writing once, so a reader stuck in open() (old code) is released."""
    if path.is_fifo():
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


KINDS = ["fifo", "directory", "symlink loop"] + ([] if os.geteuid() == 0 else ["unreadable"])


@pytest.mark.parametrize("at_start", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_name_is_a_reject_and_the_other_files_go_on(
    tmp_path: Path, kind: str, at_start: bool
) -> None:
    from streamql import RunContext
    from streamql.live.follow import follow

    bad, good = tmp_path / "bad.log", tmp_path / "good.log"
    good.write_text("g1\n")
    bad.write_text("b1\n")
    if at_start:
        make_hostile(bad, kind)
    stop = threading.Event()
    ctx = RunContext(keep_rejects=True)
    got: list[str] = []
    ended = threading.Event()

    def consume() -> None:
        for line in follow([bad, good], from_start=True, poll=0.01, shutdown=stop, ctx=ctx):
            got.append(line)
        ended.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "g1\n" in got)
        if not at_start:
            wait_for(lambda: "b1\n" in got)
            make_hostile(bad, kind)
        with good.open("a") as f:
            f.write("g2\n")
        wait_for(lambda: "g2\n" in got and ctx.rejected["follow"] >= 1)
        stop.set()
        assert ended.wait(20), "the follow did not end on its shutdown Event"
    finally:
        stop.set()
        unblock(bad)
        thread.join(20)
    reasons = [r["reason"] for r in ctx.sink or []]
    assert ctx.rejected["follow"] == 1, reasons  # once, not once a poll
    assert str(bad) in reasons[0] and (ctx.sink or [])[0]["file"] == str(bad)


def wait_for(cond: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


FIFO_CHILD = textwrap.dedent(
    """
    import sys
    from streamql import Stream
    from streamql.live.shutdown import shutdown_on_signals

    with shutdown_on_signals() as stop:
        lines = Stream.follow(sys.argv[1], sys.argv[2], from_start=True, poll=0.02, shutdown=stop)
        for line in lines:
            print(line, end="", flush=True)
    print("closed", flush=True)
    """
)


def test_sigterm_ends_a_follow_of_a_fifo(tmp_path: Path) -> None:
    log, fifo = tmp_path / "log", tmp_path / "fifo.log"
    log.write_text("ready\n")
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with subprocess.Popen(
        [sys.executable, "-c", FIFO_CHILD, str(log), str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None
        try:
            assert child.stdout.readline() == "ready\n"
            child.send_signal(signal.SIGTERM)
            out, err = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert child.returncode == 0, err
    assert out == "closed\n"
    assert "fifo.log" in err and "not a regular file" in err  # the reject, warned about


LOGFILE_CHILD = textwrap.dedent(
    """
    import sys
    from streamql.live.logfile import logfile
    from streamql.live.shutdown import shutdown_on_signals

    with shutdown_on_signals() as stop:
        for line in logfile(sys.argv[1], checkpoint=sys.argv[2], shutdown=stop, poll=0.02,
                            checkpoint_every=3600, checkpoint_lines=10**9):
            print(line, end="", flush=True)
    print("closed", flush=True)
    """
)


def test_sigterm_writes_the_checkpoint_of_a_logfile(tmp_path: Path) -> None:
    from streamql.live.logfile import logfile

    log, cp = tmp_path / "access-log", tmp_path / "checkpoint"
    (tmp_path / "access-log.1").write_text("".join(f"one {i}\n" for i in range(5)))
    os.utime(tmp_path / "access-log.1", (1000, 1000))
    log.write_text("".join(f"live {i}\n" for i in range(5)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with subprocess.Popen(
        [sys.executable, "-c", LOGFILE_CHILD, str(log), str(cp)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None
        try:
            got = [child.stdout.readline() for _ in range(10)]  # all there is: now idle
            child.send_signal(signal.SIGTERM)
            out, _ = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert child.returncode == 0 and out == "closed\n"
    assert got == [f"one {i}\n" for i in range(5)] + [f"live {i}\n" for i in range(5)]
    with log.open("a") as f:
        f.write("live 5\n")
    # Written at the stop, not only at its first batch: only the new line comes.
    assert list(logfile(log, follow=False, checkpoint=cp)) == ["live 5\n"]
