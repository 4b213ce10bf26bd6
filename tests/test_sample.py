"""The sample log tree: reproducible, the right compressions, and books that match its bytes.

The reference here re-reads the files with gzip, bz2 and lzma and two plain
regular expressions: nothing of streamql's.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from streamql.samples.tree import (
    BIG,
    DOWNLOAD,
    GREP_DIR,
    GREP_PATTERN,
    PLAIN_LOG,
    SampleTree,
    write_sample_tree,
)

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
COMMON = re.compile(rf"(\S+) (\S+) (\S+) \[([^\]]+)\] {_QUOTED} (\d{{3}}) (\d+|-)")
COMBINED = re.compile(COMMON.pattern + f" {_QUOTED} {_QUOTED}")
MAGIC = {None: None, "gzip": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00"}
DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    return write_sample_tree(tmp_path_factory.mktemp("sample"), lines_per_file=300, seed=7)


def read_lines(path: Path) -> list[str]:
    """Every line of a file as written, the last one even without its newline."""
    data = path.read_bytes()
    data = DECOMPRESS.get(path.suffix, lambda b: b)(data)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [line.decode("utf-8", "backslashreplace") for line in lines]


@dataclass
class Reference:
    good: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)
    file_bytes: Counter[str] = field(default_factory=Counter)
    total_bytes: int = 0
    not_found: set[str] = field(default_factory=set)
    transfers: list[tuple[int, str]] = field(default_factory=list)
    large: Counter[str] = field(default_factory=Counter)
    hosts: set[str] = field(default_factory=set)
    downloads: int = 0
    robots: set[str] = field(default_factory=set)
    grep_bytes: int = 0
    offsets: dict[str, set[str]] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)


def reference(tree: SampleTree) -> Reference:
    """The tutorial's answers, computed the tutorial's way from the files' bytes."""
    ref = Reference()
    for path in sorted(tree.root.rglob("access-log*")):
        rel = path.relative_to(tree.root).as_posix()
        lines = ref.lines[rel] = read_lines(path)
        ref.offsets[rel] = set()
        for line in lines:
            m = COMBINED.fullmatch(line) or COMMON.fullmatch(line)
            if m is None:
                ref.bad[rel] += 1
                continue
            ref.good[rel] += 1
            host, _, _, when, req, status, nbytes = m.groups()[:7]
            ref.offsets[rel].add(when[-5:])
            parts = req.split(" ")
            request = parts[1] if len(parts) in (2, 3) else req
            size = 0 if nbytes == "-" else int(nbytes)
            ref.file_bytes[rel] += size
            ref.total_bytes += size
            ref.transfers.append((size, request))
            ref.hosts.add(host)
            if status == "404":
                ref.not_found.add(request)
            if size > BIG:
                ref.large[request] += 1
            if request == DOWNLOAD:
                ref.downloads += 1
            if "robots.txt" in request:
                ref.robots.add(host)
            if rel.startswith(GREP_DIR + "/") and re.search(GREP_PATTERN, line):
                last = line.rsplit(None, 1)[1]
                ref.grep_bytes += int(last) if last != "-" else 0
    return ref


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a = write_sample_tree(tmp_path / "a", lines_per_file=50, seed=3)
    b = write_sample_tree(tmp_path / "b", lines_per_file=50, seed=3)
    c = write_sample_tree(tmp_path / "c", lines_per_file=50, seed=4)
    assert [f.relpath for f in a.files] == [f.relpath for f in b.files]
    for fa, fb, fc in zip(a.files, b.files, c.files, strict=True):
        assert fa.path.read_bytes() == fb.path.read_bytes(), fa.relpath
        assert read_lines(fa.path) != read_lines(fc.path), fa.relpath
    assert a.hosts == b.hosts and a.largest == b.largest


def test_files_have_the_compression_their_names_say(tree: SampleTree) -> None:
    found = sorted(p.relative_to(tree.root).as_posix() for p in tree.root.rglob("*"))
    files = sorted(f.relpath for f in tree.files)
    assert [p for p in found if "access-log" in p] == files
    assert {f.compression for f in tree.files} == {None, "gzip", "bz2", "xz"}
    assert {f.format for f in tree.files} == {"common", "combined"}
    assert any(f.relpath.count("/") >= 3 for f in tree.files)  # a nested folder
    for f in tree.files:
        head = f.path.read_bytes()[:6]
        magic = MAGIC[f.compression]
        if magic is None:
            assert not any(head.startswith(m) for m in MAGIC.values() if m), f.relpath
        else:
            assert head.startswith(magic), f.relpath
        assert f.path.suffix == {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz"}[f.compression]


def test_books_match_a_plain_python_reference(tree: SampleTree) -> None:
    ref = reference(tree)
    for f in tree.files:
        assert len(ref.lines[f.relpath]) == f.lines == 300
        assert (ref.good[f.relpath], ref.bad[f.relpath]) == (f.good, f.malformed), f.relpath
        assert ref.file_bytes[f.relpath] == f.bytes, f.relpath
    assert sum(ref.good.values()) == tree.good_lines
    assert sum(ref.bad.values()) == tree.malformed_lines == 9
    assert tree.lines == 9 * 300
    assert ref.total_bytes == tree.total_bytes
    assert ref.not_found == tree.not_found
    assert max(ref.transfers) == tree.largest
    assert dict(ref.large) == tree.large_transfers
    assert ref.hosts == tree.hosts
    assert ref.downloads == tree.downloads
    assert ref.robots == tree.robots_hosts
    assert ref.grep_bytes == tree.grep_bytes
    assert tree.file(PLAIN_LOG).format == "common"


def test_largest_transfer_is_a_single_request(tree: SampleTree) -> None:
    # streamql's max(key="bytes") keeps the first of equals; the tutorial's max()
    # of (bytes, request) the greatest request: they agree only without a tie.
    ref = reference(tree)
    top = tree.largest[0]
    assert {r for b, r in ref.transfers if b == top} == {tree.largest[1]}


def test_malformed_lines_are_the_kinds_promised(tree: SampleTree) -> None:
    assert tree.malformed_kinds == {"binary": 2, "blank": 2, "garbage": 3, "truncated": 2}
    ref = reference(tree)
    bad = [
        line
        for rel, lines in ref.lines.items()
        for line in lines
        if not (COMBINED.fullmatch(line) or COMMON.fullmatch(line))
    ]
    assert sum(1 for line in bad if line == "") == 2
    assert sum(1 for line in bad if "[error]" in line) == 3
    assert sum(1 for line in bad if "\\x" in line) == 2  # undecodable bytes, escaped
    # A truncated line is the last of its file, without a newline.
    for rel in ("www/bar/access-log", "blog/access-log"):
        data = (tree.root / rel).read_bytes()
        assert not data.endswith(b"\n")
        assert not COMMON.fullmatch(ref.lines[rel][-1])
    # Part 3 greps the lines; no malformed line may match its pattern.
    assert not any(GREP_PATTERN in line for line in bad)


def test_default_tree_is_realistic_and_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    tree = write_sample_tree(tmp_path)
    seconds = time.perf_counter() - start
    assert 15_000 <= tree.lines <= 25_000
    assert seconds < 5  # about 0.4 s here; generous for slow CI machines
    ref = reference(tree)
    text = "\n".join(line for lines in ref.lines.values() for line in lines)
    assert any(":" in host for host in tree.hosts)  # IPv6
    assert any(host.count(".") == 3 for host in tree.hosts)  # IPv4
    for needle in (
        '"GET /robots.txt HTTP/1.0" 200',
        f'"GET {DOWNLOAD} HTTP/1.1" 200',
        '"GET /favicon.ico HTTP/1.1" 404 133',
        '"-" 408 -',  # a request of "-"
        '"GET /" 200',  # no protocol
        '"HEAD ',
        " 304 -",
        " 206 ",
        " 500 ",
        " 401 ",
        " 301 ",
        '\\"',  # escaped quotes in quoted fields
        '"http://www.google.ru/search?q=\\xd0',  # Apache's \xhh escapes
    ):
        assert needle in text, needle
    # Times advance through each file, with each site's offset and its DST change.
    assert ref.offsets["www/foo/access-log"] == {"-0600", "-0500"}
    assert "+0000" in ref.offsets["www/bar/access-log"] <= {"+0000", "+0100"}  # 30 March
    assert ref.offsets["blog/access-log"] == {"-0800", "-0700"}
    assert ref.offsets["www/bar/old/access-log-1207.xz"] == {"+0000"}
    first, last = (COMMON.match(ref.lines["www/foo/access-log-0108.gz"][i]) for i in (0, -1))
    assert first is not None and last is not None
    assert first[4].startswith("01/Jan/2008") and last[4][3:11] == "Jan/2008"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        write_sample_tree(tmp_path, lines_per_file=5)
    with pytest.raises(TypeError, match="lines_per_file"):
        write_sample_tree(tmp_path, lines_per_file="100")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no file"):
        write_sample_tree(tmp_path, lines_per_file=10).file("nope")
