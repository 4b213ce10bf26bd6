"""Writing results: the writer chosen by extension or format=, atomic, and clear about misuse."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from streamql import Stream
from streamql.live.windows import Window
from streamql.ops import writers

RECORDS = [
    {"host": "a.com", "bytes": 5, "datetime": dt.datetime(2008, 2, 24, 0, 8, 59)},
    {"host": "b, c", "bytes": 7, "datetime": dt.datetime(2008, 2, 24, 0, 9, 0)},
]


def test_the_extension_chooses_the_writer(tmp_path: Path) -> None:
    log = Stream(RECORDS)
    assert log.write(tmp_path / "out.csv") == 2
    with open(tmp_path / "out.csv", newline="") as f:
        assert list(csv.reader(f)) == [
            ["host", "bytes", "datetime"],
            ["a.com", "5", "2008-02-24T00:08:59"],
            ["b, c", "7", "2008-02-24T00:09:00"],
        ]
    log.write(tmp_path / "out.tsv")
    assert (tmp_path / "out.tsv").read_text().splitlines()[1] == "a.com\t5\t2008-02-24T00:08:59"
    log.write(tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert rows[1] == {"host": "b, c", "bytes": 7, "datetime": "2008-02-24T00:09:00"}
    log.write(tmp_path / "out.json")  # one JSON document
    assert json.loads((tmp_path / "out.json").read_text()) == rows
    Stream(["GET /\n", "GET /x\n"]).write(tmp_path / "out.log")
    assert (tmp_path / "out.log").read_text() == "GET /\nGET /x\n"
    log.write(tmp_path / "out.csv.gz")  # a compressed text format
    with gzip.open(tmp_path / "out.csv.gz", "rt") as f:
        assert f.readline() == "host,bytes,datetime\n"
    Stream([]).write(tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_format_overrides_the_extension_and_applies_to_open_files(tmp_path: Path) -> None:
    Stream(RECORDS).write(tmp_path / "records.out", format="csv")
    assert (tmp_path / "records.out").read_text().startswith("host,bytes,datetime\n")
    out = io.StringIO()
    assert Stream(RECORDS).write(out, format="tsv") == 2
    assert out.getvalue().startswith("host\tbytes\tdatetime\n")
    out = io.StringIO()
    Stream([Window(0, 10, 3)]).write(out, format="jsonl")  # windows keep their keys
    assert json.loads(out.getvalue()) == {"start": 0, "end": 10, "value": 3}
    with pytest.raises(ValueError, match="write: format must be one of lines, jsonl"):
        Stream(RECORDS).write(tmp_path / "x.csv", format="xlsx")
    with pytest.raises(ValueError, match="writes to a path, not an open text file"):
        Stream(RECORDS).write(io.StringIO(), format="parquet")


def test_an_unknown_extension_fails_before_reading_anything(tmp_path: Path) -> None:
    pulled: list[int] = []

    def source() -> Any:
        for i in range(3):
            pulled.append(i)
            yield {"n": i}

    with pytest.raises(ValueError, match=r"cannot tell the format of .*out\.xlsx.*\n\nName it"):
        Stream(source()).write(tmp_path / "out.xlsx")
    assert pulled == [] and list(tmp_path.iterdir()) == []
    Stream(["a\n"]).write(tmp_path / "copy")  # no extension: plain lines, as before
    assert (tmp_path / "copy").read_text() == "a\n"


def test_writing_is_atomic_and_csv_never_drops_a_field(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        Stream([1, 2, 0]).map(lambda x: {"inv": 1 / x}).write(target)
    assert target.read_text() == "old\n"  # untouched
    mixed = Stream([{"host": "a"}, {"host": "b", "bytes": 5}])
    with pytest.raises(ValueError, match=r"csv: item 2 has the field 'bytes'.*\n\n.*select"):
        mixed.write(target)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    Stream([{"host": "a", "bytes": 5}, {"host": "b"}]).write(target)  # a missing one is empty
    assert target.read_text() == "host,bytes\na,5\nb,\n"


def test_parquet_and_arrow_round_trip(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    many = [{"n": i, "host": f"h{i % 7}"} for i in range(25_000)]  # more than one batch
    assert Stream(many).write(tmp_path / "out.parquet") == 25_000
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == many
    Stream(RECORDS).write(tmp_path / "out.arrow")
    with pa.ipc.open_file(tmp_path / "out.arrow") as reader:
        table = reader.read_all()
    assert table.column_names == ["host", "bytes", "datetime"]
    assert table.column("datetime").to_pylist()[0] == RECORDS[0]["datetime"]
    with pytest.raises(ValueError, match="parquet files compress themselves"):
        Stream(RECORDS).write(tmp_path / "out.parquet.gz", format="parquet")


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path) -> None:
    with (
        mock.patch.dict(sys.modules, {"pyarrow": None}),
        pytest.raises(
            ImportError, match=r"pyarrow is not installed: pip install streamql\[arrow\]"
        ),
    ):
        Stream(RECORDS).write(tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_zstd_compressed_text(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    Stream(RECORDS).write(tmp_path / "out.jsonl.zst")
    data = (
        zstandard.ZstdDecompressor()
        .decompressobj()
        .decompress((tmp_path / "out.jsonl.zst").read_bytes())
    )
    assert [json.loads(line)["host"] for line in data.decode().splitlines()] == ["a.com", "b, c"]
    assert Stream.lines(tmp_path / "out.jsonl.zst").count() == 2  # and read back by content


def test_format_for_names() -> None:
    assert writers.format_for("a/b.NDJSON") == ("jsonl", None)
    assert writers.format_for("x.tsv.bz2") == ("tsv", ".bz2")
    assert writers.format_for("dir.d/file") == ("lines", None)
