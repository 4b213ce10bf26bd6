"""Stream.records (struct records, tutorial part 10) and Stream.xml (incremental XML)."""

from __future__ import annotations

import io
import struct
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamql import Stream, StreamError
from streamql.ops.binary import records

FMT = "<8sif"
rows = st.lists(
    st.tuples(
        st.binary(min_size=8, max_size=8),
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32, allow_nan=False),
    ),
    max_size=50,
)


@given(rows)
def test_records_round_trip_against_struct(items: list[tuple[bytes, int, float]]) -> None:
    data = b"".join(struct.pack(FMT, *r) for r in items)
    assert list(records(FMT, io.BytesIO(data))) == [
        struct.unpack(FMT, struct.pack(FMT, *r)) for r in items
    ]


def test_records_from_a_path_reruns_and_spans_blocks(tmp_path: Path) -> None:
    path = tmp_path / "stock.bin"
    path.write_bytes(b"".join(struct.pack("<ii", i, i * i) for i in range(10_000)))
    s = Stream.records("<ii", path)
    assert s.count() == 10_000
    assert s.map(lambda r: r[1]).sum() == sum(i * i for i in range(10_000))


def test_records_partial_last_record_is_an_error_after_the_whole_ones(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    path.write_bytes(struct.pack("<ii", 1, 2) * 3 + b"\x01\x02\x03")
    got = []
    with pytest.raises(StreamError, match=r"cut.bin ends inside record 4 \(3 of 8 bytes\)"):
        for r in Stream.records("<ii", path):
            got.append(r)
    assert got == [(1, 2)] * 3


def test_records_from_a_file_object_runs_once() -> None:
    s = Stream.records("<i", io.BytesIO(struct.pack("<3i", 1, 2, 3)))
    assert s.list() == [(1,), (2,), (3,)]
    assert "one-shot" in s.explain()
    with pytest.raises(StreamError, match=r"records: the one-shot source .* consumed"):
        s.count()


def test_xml_yields_detached_elements(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text("<feed><meta a='1'/><item n='1'><t>x</t></item><item n='2'/></feed>")
    items = Stream.xml(path, "item").list()
    assert [e.get("n") for e in items] == ["1", "2"]
    assert items[0].findtext("t") == "x"


def test_xml_memory_stays_flat_on_a_large_document() -> None:
    def document(n: int) -> io.BytesIO:
        body = b"".join(
            b"<item n='%d'><title>%s</title><junk>%s</junk></item>" % (i, b"t" * 50, b"j" * 200)
            for i in range(n)
        )
        return io.BytesIO(b"<feed>" + body + b"</feed>")

    def peak(n: int) -> int:
        doc = document(n)
        tracemalloc.start()
        count = Stream.xml(doc, "item").map(lambda e: e.findtext("title")).count()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return top

    small, large = peak(2_000), peak(40_000)  # 20x the elements ...
    assert large < small * 2  # ... not 20x the memory


def test_xml_malformed_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<feed><item></feed>")
    with pytest.raises(ET.ParseError, match=r"bad\.xml"):
        Stream.xml(path, "item").list()
