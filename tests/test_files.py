"""files, open, cat and lines: order, compression, closing, and every kind of bad input."""

from __future__ import annotations

import bz2
import contextlib
import gc
import gzip
import io
import lzma
import os
import tracemalloc
import zlib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamql import CorruptFileError, RejectedLinesWarning, Stream
from streamql.core.context import RunContext
from streamql.ops import batches as batches_module
from streamql.ops import blocks as blocks_module
from streamql.ops import compress
from streamql.ops.files import cat, files, lines, open_file, open_files


def open_fds() -> set[str]:
    gc.collect()
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            fds.add(os.readlink(f"/proc/self/fd/{fd}"))
    return {p for p in fds if p.startswith("/") and not p.startswith(("/dev", "/proc"))}


# ---------------------------------------------------------------- files()


def test_files_recursive_sorted_and_paths(tree: dict[str, list[str]]) -> None:
    found = list(files("access-log*", "www"))
    assert all(isinstance(p, Path) for p in found)
    assert [p.as_posix() for p in found] == [
        "www/bar/access-log",
        "www/bar/access-log-0108.bz2",
        "www/bar/old/access-log-1207.xz",
        "www/foo/access-log",
        "www/foo/access-log-0108.gz",
    ]


def test_files_pattern_with_folder_matches_path_end(tree: dict[str, list[str]]) -> None:
    assert [p.as_posix() for p in files("foo/access-log*", ".")] == [
        "www/foo/access-log",
        "www/foo/access-log-0108.gz",
    ]


def test_files_no_match_is_empty_and_missing_root_raises(tmp_path: Path) -> None:
    assert list(files("nothing*", tmp_path)) == []
    with pytest.raises(FileNotFoundError, match="not a directory"):
        files("*", tmp_path / "absent")


@pytest.mark.parametrize("pattern", ["../*", "a/../../b", "/etc/*", ""])
def test_files_refuses_patterns_leaving_root(pattern: str, tmp_path: Path) -> None:
    with pytest.raises((ValueError, TypeError), match="files: pattern"):
        files(pattern, tmp_path)
    with pytest.raises((ValueError, TypeError), match="files: pattern"):
        Stream.files(pattern, tmp_path)


def test_files_symlinks_stay_inside_root_and_loops_end(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "log").write_text("x\n")
    (tmp_path / "real" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "real" / "same-log").symlink_to(tmp_path / "real" / "log")
    (tmp_path / "real" / "sub").mkdir()
    (tmp_path / "real" / "sub" / "deep-log").write_text("z\n")
    (tmp_path / "real" / "alias").symlink_to(tmp_path / "real" / "sub", target_is_directory=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "log").write_text("y\n")
    (tmp_path / "real" / "link-out").symlink_to(tmp_path / "outside", target_is_directory=True)

    def walk(**kwargs: Any) -> tuple[list[str], list[str]]:
        ctx = RunContext(keep_rejects=True)
        found = [
            p.relative_to(tmp_path).as_posix()
            for p in files("*log", tmp_path / "real", ctx=ctx, **kwargs)
        ]
        assert ctx.sink is not None
        return found, [f"{Path(r['line']).name}: {r['reason'].split(':')[0]}" for r in ctx.sink]

    found, skipped = walk()
    assert found == ["real/log", "real/sub/deep-log"]  # same-log is the same real file: once
    assert skipped == ["link-out: symlink leaves the root", "loop: symlink leaves the root"]
    found, skipped = walk(follow_symlinks=True)  # still never outside root
    assert found == ["real/log", "real/alias/deep-log"]  # sub/ holds the same file: once
    assert skipped == ["link-out: symlink leaves the root", "loop: symlink leaves the root"]
    # Naming the target itself reads it.
    assert [p.name for p in files("*log", tmp_path / "real" / "link-out")] == ["log"]


def test_files_skips_a_symlinked_file_leaving_root_and_reports_it(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("root:x:0:0\n")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "access-log").write_text("a\n")
    (tmp_path / "www" / "passwd-log").symlink_to(tmp_path / "secret")
    with pytest.warns(RejectedLinesWarning, match="files 1;.*passwd-log.*symlink leaves the root"):
        assert [p.name for p in files("*log", tmp_path / "www")] == ["access-log"]
    with pytest.warns(RejectedLinesWarning, match="files 1"):
        assert Stream.lines(tmp_path / "www").list() == ["a\n"]
    found = Stream.files("*log", tmp_path / "www")
    with pytest.warns(RejectedLinesWarning, match="files 1"):
        assert [p.name for p in found.list()] == ["access-log"]
    assert found.last_run.rejected == {"files": 1}
    assert [r["reason"] for r in found.rejects.list()] == [
        f"symlink leaves the root: {tmp_path / 'secret'}"
    ]


def test_files_symlink_loops_are_counted_never_fatal(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("x\n")
    (tmp_path / "self").symlink_to(tmp_path / "self")  # ELOOP on stat
    (tmp_path / "a-log").symlink_to(tmp_path / "b-log")
    (tmp_path / "b-log").symlink_to(tmp_path / "a-log")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)  # a cycle
    for follow in (False, True):
        ctx = RunContext(keep_rejects=True)
        assert [p.name for p in files("*", tmp_path, follow_symlinks=follow, ctx=ctx)] == ["log"]
        assert ctx.sink is not None
        assert sorted((Path(r["line"]).name, r["reason"]) for r in ctx.sink) == [
            ("a-log", "symlink loop"),
            ("b-log", "symlink loop"),
            ("self", "symlink loop"),
        ] + ([("up", "symlink loop")] if follow else [])


# ------------------------------------------------------------ open / cat


def test_open_all_compressions_by_content(tree: dict[str, list[str]]) -> None:
    expected = [line for rel in sorted(tree) if "access-log" in rel for line in tree[rel]]
    got = Stream.files("access-log*", "www").open().cat().list()
    assert sorted(got) == sorted(expected)
    assert len(got) == len(expected)


def test_misnamed_compressed_file_reads_by_content(tmp_path: Path) -> None:
    path = tmp_path / "access-log.txt"
    with gzip.open(path, "wt") as f:
        f.write("hidden gzip\n")
    assert Stream.lines(path).list() == ["hidden gzip\n"]


def test_each_file_closed_before_the_next_opens(tree: dict[str, list[str]]) -> None:
    before = open_fds()
    paths = list(files("access-log*", "www"))
    seen_open = []
    for f in open_files(paths):
        seen_open.append(len(open_fds() - before))
        f.read()
    assert max(seen_open) == 1
    assert open_fds() == before


@pytest.mark.parametrize("stop", ["take", "first", "break", "error"])
def test_early_stop_closes_files(tree: dict[str, list[str]], stop: str) -> None:
    before = open_fds()
    log = Stream.files("access-log*", "www").open().cat()
    if stop == "take":
        assert len(log.take(3).list()) == 3
    elif stop == "first":
        assert log.first().startswith("bar-plain")
    elif stop == "break":
        for _ in log:
            break
    else:

        def boom(line: str) -> str:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom") as info:
            log.map(boom).list()
        assert any("www/bar/access-log:1" in note for note in info.value.__notes__)
    assert open_fds() == before


def test_keyboard_interrupt_closes_files(tree: dict[str, list[str]]) -> None:
    before = open_fds()

    def interrupt(line: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Stream.lines("www").map(interrupt).count()
    assert open_fds() == before


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open, open])
def test_empty_files(tmp_path: Path, opener: object) -> None:
    path = tmp_path / "empty"
    with opener(path, "wb"):  # type: ignore[operator]
        pass
    assert Stream.lines(path).count() == 0
    raw_empty = tmp_path / "zero.gz"
    raw_empty.write_bytes(b"")
    assert Stream.lines(raw_empty).count() == 0


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        Stream.lines(tmp_path / "nope.log").count()
    assert "nope.log" in str(info.value)


def test_glob_matching_nothing_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no file matches .*nothing\*"):
        Stream.lines(str(tmp_path / "nothing*")).count()


def test_file_vanishing_between_listing_and_opening(tree: dict[str, list[str]]) -> None:
    listed = Stream.files("access-log*", "www")

    def remove_next(path: Path) -> Path:
        if path.name == "access-log" and "foo" in str(path):
            path.unlink()
        return path

    with pytest.raises(FileNotFoundError, match="www/foo/access-log"):
        listed.map(remove_next).open().cat().count()

    Path("www/foo/access-log").write_text("".join(tree["www/foo/access-log"]))
    skipped = Stream.files("access-log*", "www").map(remove_next).open(errors="skip").cat()
    with pytest.warns(RejectedLinesWarning, match=r"open 1; first at www/foo/access-log "):
        assert skipped.count() == 25 + 15 + 5 + 20
    Path("www/foo/access-log").write_text("".join(tree["www/foo/access-log"]))
    reject = skipped.rejects.first()
    assert (reject["stage"], reject["reason"]) == ("open", "FileNotFoundError")


def _truncated_gzip(tmp_path: Path, n: int = 50_000) -> tuple[Path, list[str]]:
    original = [f"line {i} {'x' * (i % 50)}\n" for i in range(n)]
    data = gzip.compress("".join(original).encode())
    cut = data[: len(data) // 2]
    path = tmp_path / "access-log.gz"
    path.write_bytes(cut)
    prefix = zlib.decompressobj(31).decompress(cut).decode()
    whole = prefix.count("\n")
    return path, original[:whole]


@pytest.fixture(params=["gzip", "isal"])
def gzip_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each gzip test runs with Python's gzip and with ISA-L's (skipped where not installed)."""
    if request.param == "isal":
        igzip = pytest.importorskip("isal.igzip")
        monkeypatch.setattr(compress, "gzip_module", lambda: igzip)
    else:
        monkeypatch.setattr(compress, "gzip_module", lambda: gzip)
    return str(request.param)


def test_the_gzip_reader_is_the_one_asked_for(tmp_path: Path, gzip_reader: str) -> None:
    path = tmp_path / "log.gz"
    path.write_bytes(gzip.compress(b"a\nb\n"))
    with open_file(path) as f:
        assert (type(f.buffer) is gzip.GzipFile) == (gzip_reader == "gzip")
        assert f.read() == "a\nb\n"


@pytest.mark.parametrize("at", [0.01, 0.5])
def test_damage_in_a_gzip_stream_that_cannot_seek_is_one_of_damage(
    gzip_reader: str, at: float
) -> None:
    data = bytearray(gzip.compress(b"".join(b"line %d\n" % i for i in range(20_000))))
    start = max(10, int(len(data) * at))
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    with compress.open_stream(io.BytesIO(bytes(data))) as f, pytest.raises(compress.DAMAGE):
        f.read()
    whole = gzip.compress(b"".join(b"line %d\n" % i for i in range(20_000)))
    with compress.open_stream(io.BytesIO(whole[: len(whole) // 2])) as f, pytest.raises(EOFError):
        f.read()


def test_truncated_gzip_delivers_every_line_before_the_damage(
    tmp_path: Path, gzip_reader: str
) -> None:
    path, good = _truncated_gzip(tmp_path)
    got: list[str] = []
    with pytest.raises(CorruptFileError) as info:
        for line in Stream.lines(path):
            got.append(line)
    assert got == good
    assert info.value.path == str(path)
    assert info.value.lineno == len(good)
    assert f"{path} is damaged after line {len(good)}" in str(info.value)


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
def test_corrupt_archive_names_the_file(tmp_path: Path, kind: str) -> None:
    compress = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind]
    data = bytearray(compress(b"".join(b"line %d\n" % i for i in range(20_000))))
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    path = tmp_path / f"log.{kind}"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=f"log.{kind} is damaged after line"):
        Stream.lines(path).count()


@pytest.mark.parametrize("at", [0.01, 0.5])  # in the first deflate block, or in the middle
def test_corrupt_gzip_names_the_file_with_either_reader(
    tmp_path: Path, gzip_reader: str, at: float
) -> None:
    data = bytearray(gzip.compress(b"".join(b"line %d\n" % i for i in range(20_000))))
    start = max(10, int(len(data) * at))
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    path = tmp_path / "log.gz"
    path.write_bytes(bytes(data))
    for query in (Stream.lines(path), Stream.lines(path).parse_apache()):
        with pytest.raises(CorruptFileError, match=r"log\.gz is damaged after line"):
            query.count()


def test_concatenated_gzip_members(tmp_path: Path, gzip_reader: str) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\n"))
    assert Stream.lines(path).list() == ["a\n", "b\n", "c\n"]


def test_bom_crlf_and_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "odd"
    path.write_bytes(b"\xef\xbb\xbffirst\r\nsecond\r\n\xff\xfe\x00junk\x80\n")
    assert Stream.lines(path).list() == ["first\n", "second\n", "\\xff\\xfe\x00junk\\x80\n"]
    strict = Stream.lines(path, decode_errors="strict")
    with pytest.raises(CorruptFileError, match="odd is damaged after line 2"):
        strict.count()


def test_ten_megabyte_line_with_the_cap_lifted(tmp_path: Path) -> None:
    path = tmp_path / "huge"
    big = "x" * 10_000_000
    path.write_text(f"a\n{big}\nb 5\n")
    assert Stream.lines(path, max_line=None).map(len).list() == [2, 10_000_001, 4]
    assert Stream.lines(path, max_line=None).field(-1).list() == ["a", big, "5"]
    assert Stream.files("huge", tmp_path).open().cat(max_line=None).count() == 3


def test_lines_expands_directories_and_globs(tree: dict[str, list[str]]) -> None:
    assert Stream.lines("www/foo").count() == 50
    assert Stream.lines("www/*/access-log").count() == 55
    assert Stream.lines("www/**/access-log-*").count() == 40


def test_plain_functions_compose_like_the_tutorial(tree: dict[str, list[str]]) -> None:
    names = files("access-log*", "www")
    total = sum(1 for _ in cat(open_files(names)))
    assert total == 95
    assert sum(1 for _ in lines("www")) == 96


def test_open_file_reports_compression(tree: dict[str, list[str]]) -> None:
    kinds = {}
    for rel in tree:
        with open_file(rel) as f:
            kinds[Path(rel).suffix] = f.compression
    assert kinds == {"": None, ".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".txt": None}


def test_origin_names_file_and_line(tree: dict[str, list[str]]) -> None:
    hits = Stream.files("access-log*", "www").open().cat().grep("line 7 ").with_origin().list()
    assert [str(origin) for _, origin in hits] == [
        "www/bar/access-log:7",
        "www/bar/access-log-0108.bz2:7",
        "www/foo/access-log:7",
        "www/foo/access-log-0108.gz:7",
    ]


# ------------------------------------------------------------- line caps


def _cat_and_rejects(text: str, max_line: int | None) -> tuple[list[str], list[tuple[Any, ...]]]:
    ctx = RunContext(keep_rejects=True)
    got = list(cat([io.StringIO(text)], ctx=ctx, max_line=max_line))
    assert ctx.sink is not None
    return got, [(r["stage"], r["lineno"], r["line"]) for r in ctx.sink]


def test_an_over_long_line_is_a_counted_reject_with_its_first_characters(tmp_path: Path) -> None:
    got, rejects = _cat_and_rejects("a\n" + "x" * 30 + "\nb\n" + "y" * 11, max_line=10)
    assert got == ["a\n", "b\n"]
    assert rejects == [("cat", 2, "x" * 30), ("cat", 4, "y" * 11)]
    got, rejects = _cat_and_rejects("a\n" + "x" * 10 + "\n" + "z" * 10, max_line=10)
    assert got == ["a\n", "x" * 10 + "\n", "z" * 10] and rejects == []  # exactly the cap: kept
    head = _cat_and_rejects("q" * 5000 + "\n", max_line=10)[1][0][2]
    assert head == "q" * 200  # the reject keeps the line's start, not all of it

    path = tmp_path / "log"
    path.write_text("ok 1\n" + "x" * 3000 + "\nok 2\n")
    log = Stream.lines(path, max_line=1000)
    with pytest.warns(RejectedLinesWarning, match=r"cat 1; first at .*log:2 \(cat: line longer"):
        assert log.field(-1).list() == ["1", "2"]
    assert Stream.lines(path, max_line=None).count() == 3  # None lifts the cap
    assert Stream.files("log", tmp_path).open().cat(max_line=5000).count() == 3
    with pytest.raises(ValueError, match="lines: max_line must be a positive int or None"):
        Stream.lines(path, max_line=0)


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), max_size=12),
    cap=st.integers(1, 30),
    piece=st.integers(1, 8),
    block=st.integers(1, 50),
    last_newline=st.booleans(),
)
def test_cat_and_the_block_reader_cap_lines_alike(
    lengths: list[int], cap: int, piece: int, block: int, last_newline: bool
) -> None:
    text = "\n".join(chr(97 + i % 26) * n for i, n in enumerate(lengths))
    text += "\n" if last_newline and text else ""
    every = io.StringIO(text).readlines()
    kept = [line for line in every if len(line.removesuffix("\n")) <= cap]
    refused = [
        ("cat", n, line.removesuffix("\n")[:200])
        for n, line in enumerate(every, 1)
        if len(line.removesuffix("\n")) > cap
    ]
    with mock.patch.object(batches_module, "PIECE", piece):  # lines in many pieces
        assert _cat_and_rejects(text, cap) == (kept, refused)
    ctx = RunContext(keep_rejects=True)
    with mock.patch.object(batches_module, "BLOCK_CHARS", block):
        got = list(blocks_module.blocks([io.StringIO(text)], ctx=ctx, max_line=cap))
    assert ctx.sink is not None
    assert "".join(got) == "".join(kept)
    assert [(r["stage"], r["lineno"], r["line"]) for r in ctx.sink] == refused


def test_a_gzip_of_zeros_is_read_in_bounded_memory(tmp_path: Path) -> None:
    # 64 MB of NUL bytes and no newline: one line far over the cap, 64 KB on disk.
    path = tmp_path / "zeros.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        chunk = bytes(1 << 20)
        for _ in range(64):
            f.write(chunk)
    for query in (Stream.lines(path), Stream.lines(path).parse_apache()):
        tracemalloc.start()
        try:
            with pytest.warns(RejectedLinesWarning, match="cat 1.*67,108,864 characters"):
                assert query.count() == 0
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 40 << 20, f"{query!r} held {peak:,} bytes"


# ------------------------------------------------------------------ zstd


def test_zstd_is_told_by_content_frames_and_all(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    lines_ = [f"line {i}\n" for i in range(5000)]
    data = "".join(lines_).encode()
    path = tmp_path / "access-log.1"  # logrotate's compresscmd zstd, misnamed
    one = zstandard.ZstdCompressor().compress(data[:20000])
    two = zstandard.ZstdCompressor(level=3).compress(data[20000:])
    path.write_bytes(one + two)  # two frames, as `cat a.zst b.zst` makes
    with open_file(path) as f:
        assert f.compression == "zstd"
    assert Stream.lines(path).list() == lines_
    assert Stream.lines(path).grep("line 49").count() == 111


def test_a_truncated_zstd_file_is_a_corrupt_file_error(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = "".join(f"line {i}\n" for i in range(100_000)).encode()
    whole = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / "log.zst"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptFileError, match=r"log\.zst is damaged after line \d+"):
        Stream.lines(path).count()
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage" * 100)
    with pytest.raises(CorruptFileError, match=r"log\.zst is damaged"):
        Stream.lines(path).count()


def test_zstd_without_a_decompressor_names_the_file_and_the_extra(tmp_path: Path) -> None:
    path = tmp_path / "log.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(20))
    with mock.patch.object(compress, "zstd_module", lambda: None):
        with pytest.raises(OSError, match=r"log\.zst' is zstd-compressed.*\n\n.*streamql\[zstd\]"):
            open_file(path)
        with pytest.raises(OSError, match="zstd-compressed"):
            Stream.lines(path).count()
        assert not any("log.zst" in p for p in open_fds())  # the raw file was closed


def test_a_zstd_of_zeros_is_read_in_bounded_memory(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "zeros.zst"
    with open(path, "wb") as f, zstandard.ZstdCompressor().stream_writer(f) as w:
        chunk = bytes(1 << 20)
        for _ in range(64):
            w.write(chunk)  # 64 MB of NUL bytes, a few KB on disk: one call could make GBs
    tracemalloc.start()
    try:
        with pytest.warns(RejectedLinesWarning, match="cat 1.*67,108,864 characters"):
            assert Stream.lines(path).count() == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20, f"held {peak:,} bytes"
