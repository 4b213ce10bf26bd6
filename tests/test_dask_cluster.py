"""The Dask engine on a real cluster: a ``dask scheduler`` and two ``dask worker`` processes.

Not a LocalCluster: the scheduler and the workers are the command-line
programs a user starts on their machines, here on 127.0.0.1 with free ports,
started and stopped by the tests. Every terminal runs with ``engine="dask"``
and a Client to that scheduler and gives the default engine's answer; a
worker killed in the middle of a query leaves the answer right (its part runs
again on the other worker) or raises a clear error, and never hangs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # comes with distributed

import streamql  # noqa: E402
from streamql import F, RejectedLinesWarning, Stream  # noqa: E402
from streamql.samples.tree import SampleTree, write_sample_tree  # noqa: E402

# The checkout under test, for the workers to import (not another installed copy).
CHECKOUT = str(Path(streamql.__file__).resolve().parents[1])
DEADLINE = 120.0  # bounds a hang only: every wait here ends on an event well before


def wait_for(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` if it never does."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"{what}: not within {deadline:.0f} s")


@dataclass
class Cluster:
    """A scheduler and its workers, as processes of this test run, and a Client to them."""

    root: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    client: Any = None

    @property
    def scheduler_file(self) -> Path:
        return self.root / "scheduler.json"

    def _start(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        path = os.pathsep.join([CHECKOUT, os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path}
        with open(self.root / log, "wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                env=env,
            )

    def start(self, workers: int = 2) -> Cluster:
        self.scheduler = self._start(
            "scheduler",
            "--host", "127.0.0.1",
            "--port", "0",  # a free port, written to the scheduler file
            "--no-dashboard",
            "--scheduler-file", str(self.scheduler_file),
            log="scheduler.log",
        )  # fmt: skip
        address = wait_for(self._address, "the scheduler's address")
        for i in range(workers):
            self.add_worker(f"w{i}")
        self.client = distributed.Client(address, timeout=DEADLINE, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=DEADLINE)
        return self

    def _address(self) -> str | None:
        if self.scheduler is not None and self.scheduler.poll() is not None:
            pytest.fail(f"the scheduler exited: {(self.root / 'scheduler.log').read_text()}")
        try:
            return str(json.loads(self.scheduler_file.read_text())["address"])
        except (OSError, ValueError, KeyError):
            return None  # not written yet, or half written

    def add_worker(self, name: str) -> None:
        self.workers.append(
            self._start(
                "worker",
                "--scheduler-file", str(self.scheduler_file),
                "--nthreads", "1",
                "--no-nanny",  # the worker is this process: killing it kills the worker
                "--no-dashboard",
                "--host", "127.0.0.1",
                "--name", name,
                "--local-directory", str(self.root / name),
                "--death-timeout", "60",
                log=f"{name}.log",
            )
        )  # fmt: skip

    def stop(self) -> None:
        """Close the client; end every process (SIGTERM, then SIGKILL); reap them all."""
        try:
            if self.client is not None:
                self.client.close()
        finally:
            procs = [*self.workers, *([self.scheduler] if self.scheduler else [])]
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def own_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@contextmanager
def running_cluster(root: Path) -> Iterator[Cluster]:
    """A started cluster for the block; after it, no process or thread of it is left."""
    before = own_children()
    threads = set(threading.enumerate())
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(root)
    try:
        yield cluster.start()
    finally:
        cluster.stop()

    def left() -> list[Any]:
        # distributed keeps one offload thread per process, by design, until exit.
        extra = [t for t in threading.enumerate() if t not in threads]
        return [t for t in extra if not t.name.startswith("Dask-Offload")]

    wait_for(lambda: not (own_children() - before) and not left(), "the cluster to go")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    """Nine logs (plain, gzip, bzip2, xz) of 400 lines, nine of them malformed."""
    return write_sample_tree(tmp_path_factory.mktemp("logs"), lines_per_file=400)


TERMINALS: dict[str, Callable[[Stream[Any], Any], Any]] = {
    "list": lambda s, e: s.select("host", "status").list(engine=e),
    "count": lambda s, e: s.count(engine=e),
    "sum": lambda s, e: s.sum("bytes", engine=e),
    "min": lambda s, e: s.min("bytes", engine=e),
    "max": lambda s, e: s.max("bytes", engine=e),
    "set": lambda s, e: s.set("host", engine=e),
    "first": lambda s, e: s.first(engine=e),
    "top": lambda s, e: s.top(3, "bytes", engine=e),
    "count_by": lambda s, e: s.count_by("status", engine=e),
    "group_by": lambda s, e: s.group_by("status", agg=len, engine=e),
    "aggregate": lambda s, e: s.where(F.status == 404).count_by("request", n=5, engine=e),
}


@pytest.mark.filterwarnings("ignore", category=RejectedLinesWarning)
@pytest.mark.parametrize("terminal", sorted(TERMINALS))
def test_every_terminal_on_a_scheduler_and_two_workers(
    cluster: Cluster, tree: SampleTree, terminal: str
) -> None:
    log = Stream.lines(tree.root).parse_apache()
    run = TERMINALS[terminal]
    plain = run(log, "default")
    rejected, first = log.last_run.rejected, log.last_run.first_reject
    on_cluster = log.using("dask", client=cluster.client, workers=6)
    assert run(on_cluster, None) == plain
    assert (on_cluster.last_run.rejected, on_cluster.last_run.first_reject) == (rejected, first)


def test_a_worker_killed_mid_query_leaves_the_answer_right_or_a_clear_error(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    path = tmp_path / "log"
    path.write_text("".join(f"h{i % 9} - - x {200 + i % 3} {i}\n" for i in range(40_000)))
    go = str(gate / "go")

    def hold(line: str, seen: set[int] = set()) -> str:  # noqa: B006 - one flag per process
        # Runs in a worker: the first line of its first part says which process it is,
        # then waits for the test to let it go (the wait ends on the file, not a clock).
        if os.getpid() not in seen:
            seen.add(os.getpid())
            (Path(go).parent / f"started-{os.getpid()}").touch()
            end = time.monotonic() + DEADLINE
            while not os.path.exists(go) and time.monotonic() < end:
                time.sleep(0.01)
        return line

    expected = Stream.lines(path).field(5).map(int).sum()
    s = Stream.lines(path).map(hold).field(5).map(int)
    with running_cluster(tmp_path / "cluster") as cluster:
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def query() -> None:
            try:
                outcome["answer"] = s.using("dask", client=cluster.client, workers=2).sum()
            except BaseException as exc:  # the test checks what it was
                outcome["error"] = exc
            finally:
                done.set()

        runner = threading.Thread(target=query)
        runner.start()
        try:
            started = wait_for(
                lambda: [n for n in os.listdir(gate) if n.startswith("started-")],
                "a part to start on a worker",
            )
            victim = int(started[0].removeprefix("started-"))
            assert victim in {w.pid for w in cluster.workers}
            os.kill(victim, signal.SIGKILL)
            next(w for w in cluster.workers if w.pid == victim).wait(timeout=DEADLINE)
            Path(go).touch()
            assert done.wait(DEADLINE), "the query hung after its worker was killed"
        finally:
            Path(go).touch()
            runner.join(DEADLINE)
    if "error" in outcome:
        error = outcome["error"]
        assert isinstance(error, distributed.scheduler.KilledWorker), repr(error)
        assert "died" in str(error)
    else:
        assert outcome["answer"] == expected
