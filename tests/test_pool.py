"""The process pool stage: order kept, errors raised, early stop shuts the pool down."""

from __future__ import annotations

import itertools
import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import Stream
from streamql.engine.forkpool import WorkerDied
from streamql.routing.pool import parallel_map


def square(x: int) -> int:
    return x * x


def fails_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError("seven")
    return x


def dies_on_seven(x: int) -> int:
    if x == 7:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return x


def test_parallel_map_keeps_order() -> None:
    assert Stream(range(2000)).parallel_map(square, processes=2, chunksize=64).list() == [
        x * x for x in range(2000)
    ]


def test_parallel_map_error_is_raised() -> None:
    with pytest.raises(ValueError, match="seven"):
        list(parallel_map(fails_on_seven, range(20), processes=2, chunksize=3))


@pytest.mark.usefixtures("no_leaked_threads")
def test_a_worker_that_dies_is_a_clear_error() -> None:
    with pytest.raises(WorkerDied, match="a worker process died while the pool ran items"):
        list(parallel_map(dies_on_seven, range(40), processes=2, chunksize=4))


def pool_workers() -> set[int]:
    """The live processes under this one but multiprocessing's own servers.

    The forkserver and the resource tracker stay for the life of the process
    by design; a pool's workers (the forkserver's children) must not.
    """
    psutil = pytest.importorskip("psutil")
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if child.ppid() == os.getpid() and (
            "forkserver" in command or "resource_tracker" in command
        ):
            continue
        found.add(child.pid)
    return found


@pytest.mark.usefixtures("no_leaked_threads")
def test_parallel_map_early_stop_on_infinite_source() -> None:
    before = pool_workers()
    for _ in range(5):  # a leak was seen once in several suite runs: give it chances
        got = Stream(itertools.count()).parallel_map(square, processes=2).take(3).list()
        assert got == [0, 1, 4]
        # shutdown(wait=True) joined the workers: none may be left, not even for a moment.
        assert pool_workers() - before == set()


def test_parallel_map_checks_arguments_at_call_time() -> None:
    with pytest.raises(TypeError, match="picklable"):
        Stream([1]).parallel_map(lambda x: x)
    with pytest.raises(ValueError, match="processes"):
        Stream([1]).parallel_map(square, processes=0)
    assert "parallel_map(square, processes=2)" in repr(
        Stream([1]).parallel_map(square, processes=2)
    )


@settings(max_examples=3, deadline=None)
@given(st.lists(st.integers(), max_size=50), st.integers(min_value=1, max_value=8))
def test_parallel_map_equals_map(items: list[int], chunksize: int) -> None:
    assert list(parallel_map(square, items, processes=2, chunksize=chunksize)) == list(
        map(square, items)
    )
