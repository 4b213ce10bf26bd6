"""Frames and codecs: round trips, size limits, garbage, bombs, signed pickle."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamql.routing.transport import FrameBuffer, FrameError, codec_for, frame

KEY = b"0123456789abcdef-shared"

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False) | st.text() | st.binary()
    | st.datetimes() | st.datetimes(timezones=st.timezones(), allow_imaginary=False) | st.dates()
)  # fmt: skip
records = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text().filter(lambda k: not k.startswith("__")), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(st.lists(records, max_size=5))
def test_json_round_trips(batch: list[object]) -> None:
    codec = codec_for("json")
    assert codec.decode(codec.encode(batch)) == batch


@given(st.lists(records, max_size=5))
def test_pickle_round_trips_with_key(batch: list[object]) -> None:
    codec = codec_for("pickle", key=KEY)
    assert codec.decode(codec.encode(batch)) == batch


def test_msgpack_round_trips_when_installed() -> None:
    pytest.importorskip("msgpack")
    codec = codec_for("msgpack")
    batch = [{"when": dt.datetime(2008, 2, 24), "raw": b"\x00", "d": dt.date(2008, 1, 1)}]
    assert codec.decode(codec.encode(batch)) == batch


@given(st.lists(st.binary(max_size=50), max_size=6), st.integers(min_value=1, max_value=7))
def test_frames_split_anywhere(payloads: list[bytes], step: int) -> None:
    data = b"".join(frame(p) for p in payloads)
    buf = FrameBuffer()
    got = []
    for i in range(0, len(data), step):
        got.extend(buf.feed(data[i : i + step]))
    assert got == payloads
    assert buf.pending == 0


def test_oversized_frame_refused_before_reading() -> None:
    buf = FrameBuffer(max_frame=100)
    with pytest.raises(FrameError, match="exceeds max_frame"):
        list(buf.feed(b"\xff\xff\xff\xff"))


def test_json_bomb_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="undecodable"):
        codec_for("json").decode(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("garbage", [b"\xff\xfe", b"{not json", b'{"a": 1}', b"1"])
def test_garbage_is_a_frame_error(garbage: bytes) -> None:
    with pytest.raises(FrameError):
        codec_for("json").decode(garbage)


def test_pickle_needs_key_and_checks_signature() -> None:
    with pytest.raises(ValueError, match="shared key"):
        codec_for("pickle")
    with pytest.raises(ValueError, match="16"):
        codec_for("pickle", key=b"short")
    payload = codec_for("pickle", key=KEY).encode([1])
    with pytest.raises(FrameError, match="signature"):
        codec_for("pickle", key=b"another-key-of-16+bytes").decode(payload)


def test_unknown_codec_and_unencodable_value() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        codec_for("yaml")
    with pytest.raises(TypeError, match="cannot encode"):
        codec_for("json").encode([object()])
