"""Forked workers: results in order, a dead worker an error at once, signals stop them all."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streamql import Stream, StreamError
from streamql.engine import processes as parallel
from streamql.engine.forkpool import WorkerDied, map_forked

pytestmark = pytest.mark.usefixtures("no_leaked_threads", "no_new_children")


def children_of(pid: int) -> list[int]:
    """The live (not zombie) child processes of ``pid``: psutil where installed, else /proc."""
    try:
        import psutil
    except ImportError:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(entry.name))
        return found
    found = []
    for child in psutil.Process(pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


_before: set[int] = set()


def new_children() -> list[int]:
    """This process's live children that were not there when the test began."""
    return [pid for pid in children_of(os.getpid()) if pid not in _before]


@pytest.fixture
def no_new_children() -> Iterator[None]:
    """Fail the test if it leaves a child process behind (a forkserver from before may stay)."""
    _before.clear()
    _before.update(children_of(os.getpid()))
    yield
    assert new_children() == []


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def wait_until(condition: Any, what: str, seconds: float = 60) -> None:
    """Poll ``condition`` until it holds; fail, naming ``what``, if it never does (a hang)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {seconds} s for {what}")
        time.sleep(0.05)


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

SCRIPT_HEAD = """
import faulthandler, os, signal, sys, time
from pathlib import Path
faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test asks where a slow one is
from streamql import Stream, StreamError; from streamql.engine import processes as parallel
parallel.MIN_PART_BYTES = 100
path, marks = sys.argv[1], Path(sys.argv[2])

def children():
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if ppid == str(os.getpid()) and state != "Z":
            found.append(stat.parent.name)
    return found
"""


REPO = Path(__file__).resolve().parents[1]


def script_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout's streamql."""
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def run_script(tmp_path: Path, body: str, *args: str, timeout: float = 120) -> Any:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT_HEAD + body)
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails the test instead of freezing the suite
        env=script_env(),
    )


def test_no_worker_outlives_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 100)
    path = tmp_path / "log"
    path.write_text("".join(f"h{i} {i}\n" for i in range(500)))
    s = Stream.lines(path).field(1).map(int).using("processes", workers=2)
    assert s.sum() == sum(range(500))
    assert new_children() == []

    def boom(n: int) -> int:
        if n == 50:
            raise KeyError(n)
        return n

    with pytest.raises(KeyError):
        s.map(boom).sum()
    assert new_children() == []


@needs_proc
def test_a_worker_killed_by_sigkill_is_an_error_not_a_hang(tmp_path: Path) -> None:
    """It once hung for good: the pool waited for the dead worker's task."""
    path = tmp_path / "log"
    path.write_text("".join(f"line {i}\n" for i in range(300)) + "kill\n" + "line\n" * 300)
    body = """
def die(line):
    if line.startswith("kill"):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return line
try:
    Stream.lines(path).map(die).using("processes", workers=2).count()
except StreamError as exc:
    print("raised:", exc)
print("children:", len(children()))
"""
    done = run_script(tmp_path, body, str(path), str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "raised: a worker process (pid " in done.stdout
    assert "killed by SIGKILL" in done.stdout and str(path) in done.stdout
    assert "children: 0" in done.stdout


@needs_proc
@pytest.mark.parametrize(
    "signum",
    [
        signal.SIGTERM,
        signal.SIGINT,
        pytest.param(
            signal.SIGKILL,  # nothing runs in the parent: the kernel ends the workers with it
            marks=pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG"),
        ),
    ],
)
def test_a_signal_to_the_parent_stops_its_workers(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "log"
    path.write_text("line\n" * 2000)
    marks = tmp_path / "marks"
    marks.mkdir()
    body = """
def stuck(line):
    (marks / str(os.getpid())).touch()
    while True:
        time.sleep(1)
Stream.lines(path).map(stuck).using("processes", workers=2).count()
"""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT_HEAD + body)
    with subprocess.Popen(
        [sys.executable, str(script), str(path), str(marks)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=script_env(),
    ) as parent:
        try:
            wait_until(lambda: len(list(marks.iterdir())) == 2, "both workers to start")
            workers = [int(p.name) for p in marks.iterdir()]
            parent.send_signal(signum)
            try:
                parent.wait(timeout=120)  # bounds a hang only
            except subprocess.TimeoutExpired:
                parent.send_signal(signal.SIGUSR1)  # its stacks, to say where it hangs
                with contextlib.suppress(subprocess.TimeoutExpired):
                    parent.wait(timeout=5)  # time to write them; it is killed next anyway
                parent.kill()
                _, err = parent.communicate()
                pytest.fail(f"the parent did not end on {signum!r}:\n{err.decode()}")
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
        assert parent.returncode == -signum
        wait_until(lambda: all(gone(pid) for pid in workers), f"workers {workers} to end")


def test_results_come_in_order_and_stop_at_the_first_that_says_so() -> None:
    assert map_forked(lambda i: -i, 7, workers=3) == [0, -1, -2, -3, -4, -5, -6]
    assert map_forked(lambda i: i, 0, workers=3) == []
    # The first to stop *in order* wins, though a later one stops too.
    assert map_forked(lambda i: i, 9, workers=2, stop=lambda r: r in (3, 7)) == [0, 1, 2, 3]
    assert new_children() == []


@needs_proc
def test_a_dead_worker_names_what_it_ran() -> None:
    def die_on_two(i: int) -> int:
        if i == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    with pytest.raises(
        WorkerDied, match=r"died while it ran item two: killed by SIGKILL"
    ) as caught:
        map_forked(die_on_two, 4, workers=2, describe=lambda i: "item two" if i == 2 else "?")
    assert (caught.value.index, caught.value.exitcode) == (2, -signal.SIGKILL)
    assert isinstance(caught.value, StreamError)

    def exit_on_one(i: int) -> int:
        if i == 1:
            os._exit(3)
        return i

    with pytest.raises(WorkerDied, match=r"died while it ran 1: exit status 3"):
        map_forked(exit_on_one, 3, workers=1)
    assert new_children() == []
