"""Stopping live streams from signals: a storm of them, in this process and in a child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from streamql import Stream
from streamql.shutdown import shutdown_on_signals

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
    from streamql.shutdown import shutdown_on_signals

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
