"""The tutorial's queries on the real logs of ../shared/data, against its own generator code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tutorial_reference import SHARED_DATA, apache_log, gen_cat, gen_open, tutorial_log

from streamql import F, RejectedLinesWarning, Stream

# ---- part 2: bytes sum


def test_part2_bytes_sum(shared_data: Path) -> None:
    path = shared_data / "dabeaz" / "access-log"
    with open(path) as wwwlog:
        bytecolumn = (line.rsplit(None, 1)[1] for line in wwwlog)
        bytes_sent = (int(x) for x in bytecolumn if x != "-")
        expected = sum(bytes_sent)
    got = Stream.lines(path).field(-1).where(lambda x: x != "-").map(int).sum()
    assert got == expected
    assert Stream.lines(path).parse_apache().sum("bytes") == expected


# ---- part 3: the directory of plain, gzip and bzip2 logs


def test_part3_pattern_bytes_over_the_tree(shared_data: Path) -> None:
    www = shared_data / "dabeaz" / "www"
    pat = r"ply-2\.\d"
    patc = re.compile(pat)
    lines = gen_cat(gen_open(www.rglob("access-log*")))
    patlines = (line for line in lines if patc.search(line))
    bytecolumn = (line.rsplit(None, 1)[1] for line in patlines)
    expected = sum(int(x) for x in bytecolumn if x != "-")
    assert expected > 0
    got = (
        Stream.files("access-log*", www)
        .open()
        .cat()
        .grep(pat)
        .field(-1)
        .where(lambda x: x != "-")
        .map(int)
        .sum()
    )
    assert got == expected
    assert Stream.files("access-log*", www).count() == 6


# ---- part 4: the query language


@pytest.fixture(scope="module")
def www_log() -> tuple[Stream[Any], list[dict[str, Any]]]:
    www = SHARED_DATA / "dabeaz" / "www"
    if not www.exists():
        pytest.skip("real logs not present")
    return Stream.files("access-log*", www).open().cat().parse_apache(), tutorial_log(www)


def test_part4_every_line_parses_like_the_tutorial(www_log: Any) -> None:
    log, ref = www_log
    ours = log.select("host", "request", "status", "bytes").list()
    assert ours == [{k: r[k] for k in ("host", "request", "status", "bytes")} for r in ref]
    assert log.rejects.count() == 0
    assert len(ours) == 6 * 7298


def test_part4_queries(www_log: Any) -> None:
    log, ref = www_log
    assert log.where(status=404).set("request") == {r["request"] for r in ref if r["status"] == 404}
    large = log.where(F.bytes > 1_000_000).select("request", "bytes").list()
    assert large == [
        {"request": r["request"], "bytes": r["bytes"]} for r in ref if r["bytes"] > 1_000_000
    ]
    biggest = log.max(key=lambda r: (r["bytes"], r["request"]))
    assert (biggest["bytes"], biggest["request"]) == max((r["bytes"], r["request"]) for r in ref)
    assert log.set("host") == {r["host"] for r in ref}
    assert log.where(request="/ply/ply-2.3.tar.gz").count() == sum(
        1 for r in ref if r["request"] == "/ply/ply-2.3.tar.gz"
    )
    assert log.where(F.request.contains("robots.txt")).set("host") == {
        r["host"] for r in ref if "robots.txt" in r["request"]
    }


def test_datetimes_keep_the_logs_own_offset(shared_data: Path) -> None:
    first = Stream.lines(shared_data / "dabeaz" / "access-log").parse_apache().first()
    assert first["datetime"].isoformat() == "2008-02-24T00:08:59-06:00"


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_elastic_combined_log_and_its_one_cut_line(shared_data: Path) -> None:
    path = shared_data / "elastic" / "apache_logs"
    log = Stream.lines(path).parse_apache()
    with open(path, encoding="utf-8", errors="backslashreplace") as f:
        ref = list(apache_log(f))
    assert len(ref) == 10_000  # the tutorial's loose regex takes the cut line too
    rejects = log.rejects.list()
    assert [(r["file"], r["lineno"]) for r in rejects] == [(str(path), 8899)]
    with pytest.warns(RejectedLinesWarning, match=r"apache_logs:8899 \(parse_apache: "):
        assert log.count() == 9_999
    assert log.count() + len(rejects) == 10_000
    kept = [r for i, r in enumerate(ref, 1) if i != 8899]
    assert log.select("host", "request", "status", "bytes").list() == [
        {k: r[k] for k in ("host", "request", "status", "bytes")} for r in kept
    ]
    assert "agent" in log.first() and "referer" in log.first()
    with_origin = log.where(F.request.contains("robots.txt")).with_origin().first()
    assert str(with_origin["origin"]).startswith(f"{path}:")
