"""Runs of bzip2 blocks: found, rebuilt into streams, and read by parts as the whole file reads.

Level 1 compression makes 100 kB blocks, so a few hundred kB of generated
lines give several blocks, and lines that run across blocks, or across
several.
"""

from __future__ import annotations

import bz2
import itertools
import random
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamql import CorruptFileError, RejectedLinesWarning, Stream, bz2split, parallel
from streamql.aggregates import Count, Sum

SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(path: Path, text: bytes, level: int = 1) -> Path:
    path.write_bytes(bz2.compress(text, level))
    return path


def log_text(seed: int, lines: int, long_every: int, last_newline: bool, bom: bool) -> bytes:
    """Lines of many lengths; every ``long_every``-th is longer than a block (0: none)."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        if long_every and i % long_every == long_every - 1:
            out.append(b"L" * rng.randrange(100_000, 250_000) + b" 7")
        else:
            words = rng.randrange(0, 12)
            out.append(b" ".join(b"w\xc3\xa9%d" % rng.randrange(1000) for _ in range(words)))
    text = b"\n".join(out) + (b"\n" if last_newline else b"")
    return (b"\xef\xbb\xbf" if bom else b"") + text


@SETTINGS
@given(
    st.integers(0, 2**32),
    st.integers(1, 40_000),
    st.sampled_from([0, 0, 9, 4000]),
    st.booleans(),
    st.booleans(),
    st.integers(1, 9),
)
def test_runs_of_blocks_read_as_the_whole_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    lines: int,
    long_every: int,
    last_newline: bool,
    bom: bool,
    runs: int,
) -> None:
    text = log_text(seed, lines, long_every, last_newline, bom)
    path = write(tmp_path / "log.bz2", text)
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1)
    monkeypatch.setattr(parallel, "PARTS_PER_WORKER", runs)  # up to 9 runs per worker
    monkeypatch.setattr(bz2split, "CHUNK", 7)  # a rebuilt stream in many small pieces
    layout = bz2split.bz2_blocks(str(path))
    assert layout is not None
    # The runs themselves give the text (a run that failed would be read whole below).
    n = len(layout.starts)
    cuts = sorted({0, n, *random.Random(seed).sample(range(n + 1), min(runs, n + 1))})
    got = b""
    for a, b in itertools.pairwise(cuts):
        reader = bz2split.RunReader(str(path), layout, a, b)
        got += reader.read()
        reader.close()
    assert got == text
    # The field that is missing on empty lines rejects them, with their line numbers.
    query = Stream.lines(path).field(1)
    for run in (
        lambda e: query.with_origin().list(engine=e),
        lambda e: query.aggregate(n=Count(), total=Sum(len), engine=e),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedLinesWarning)
            plain = run("default")
            rejected, first = query.last_run.rejected, query.last_run.first_reject
            assert run("processes") == plain
        assert (query.last_run.rejected, query.last_run.first_reject) == (rejected, first)


def test_the_parts_are_runs_of_blocks_costliest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "log.bz2", log_text(1, 60_000, 0, True, False))
    plain = tmp_path / "plain"
    plain.write_bytes(b"x 1\n" * 1000)
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    parts = parallel.split_plan(Stream.lines(path, plain).steps, 2)[0]
    runs = [p.bz2[1:] for p in parts if p.bz2 is not None]
    assert len(runs) == 4 and runs[0][0] == 0 and runs[-1][1] == len(parts[0].bz2[0].starts)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(runs))
    assert [p.path for p in parts][-1] == str(plain)
    whole = parallel.split_plan(Stream.lines(path).steps, 2, whole={str(path)})[0]
    assert [p.bz2 for p in whole] == [None]


def test_marks_are_found_at_every_bit_alignment() -> None:
    rng = random.Random(7)
    for shift in range(64):
        noise = rng.randbytes(40)
        value = int.from_bytes(noise, "big")
        value &= ~(((1 << 48) - 1) << (320 - 48 - shift - 20))
        value |= bz2split.BLOCK_MARK << (320 - 48 - shift - 20)
        data = value.to_bytes(40, "big")
        assert shift + 20 in bz2split._mark_offsets(data, bz2split.BLOCK_MARK)


def test_files_that_are_not_one_clean_stream_are_read_whole(tmp_path: Path) -> None:
    text = log_text(3, 30_000, 0, True, False)
    two = tmp_path / "two.bz2"
    two.write_bytes(bz2.compress(text, 1) + bz2.compress(text, 1))  # two streams
    cut = tmp_path / "cut.bz2"
    cut.write_bytes(bz2.compress(text, 1)[:-20])  # its end mark lost
    empty = write(tmp_path / "empty.bz2", b"")
    not_bz2 = tmp_path / "plain"
    not_bz2.write_bytes(text)
    for path in (two, cut, empty, not_bz2):
        assert bz2split.bz2_blocks(str(path)) is None, path.name


def test_a_damaged_block_fails_as_the_whole_file_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails is retried with the file whole: the same error, after the same lines."""
    data = bytearray(bz2.compress(log_text(5, 60_000, 0, True, False), 1))
    data[len(data) * 2 // 3] ^= 0x55  # inside a block: its CRC fails
    path = tmp_path / "log.bz2"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    query = Stream.lines(path)
    outcomes = []
    for engine in ("default", "processes"):
        with pytest.raises(CorruptFileError) as caught:
            query.count(engine=engine)
        outcomes.append((caught.value.path, caught.value.lineno))
    assert outcomes[0] == outcomes[1]


def test_a_false_mark_makes_a_run_fail_and_the_file_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "log.bz2", log_text(9, 60_000, 0, True, False))
    real = bz2split.bz2_blocks(str(path))
    assert real is not None
    middle = (real.starts[1] + real.starts[2]) // 2  # a "block" that starts mid-block
    false = bz2split.Bz2Layout(
        real.level,
        (*real.starts[:2], middle, *real.starts[2:]),
        real.end,
        (*real.crcs[:2], 0, *real.crcs[2:]),
    )
    monkeypatch.setattr(parallel, "bz2_blocks", lambda p: false)
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", 1000)
    monkeypatch.setattr(parallel, "PARTS_PER_WORKER", 4)
    query = Stream.lines(path).field(0)  # empty lines are rejects
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedLinesWarning)
        assert query.count(engine="processes") == query.count()


def test_rebuilt_streams_stay_in_step_with_the_file(tmp_path: Path) -> None:
    text = log_text(11, 50_000, 0, False, False)
    path = write(tmp_path / "log.bz2", text)
    layout = bz2split.bz2_blocks(str(path))
    assert layout is not None
    n = len(layout.starts)
    assert n > 3
    pieces = [b"".join(bz2split.run_bytes(str(path), layout, i, i + 1)) for i in range(n)]
    assert b"".join(pieces) == text
    readers: Any = [bz2split.RunReader(str(path), layout, a, b) for a, b in [(0, 1), (1, n)]]
    try:
        assert b"".join(r.read() for r in readers) == text
    finally:
        for r in readers:
            r.close()
