"""TCP send/receive over loopback: volume, order, bad peers, limits, pickle refusal."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pickle
import queue
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streamql import Stream
from streamql.routing.coroutines import broadcast
from streamql.routing.net import NetConsumer, ReceiverStats, send_to
from streamql.routing.transport import FrameBuffer, codec_for, frame

KEY = b"0123456789abcdef-shared"
TIMEOUT = 10


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


class Receiver:
    """receive_from running in a thread; .got holds its records, .error what it raised."""

    def __init__(self, **options: Any) -> None:
        self.stats = ReceiverStats()
        self.got: list[Any] = []
        self.error: BaseException | None = None
        bound: queue.Queue[tuple[str, int]] = queue.Queue()
        self.stream = Stream.receive_from(0, on_bind=bound.put, stats=self.stats, **options)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        self.address = bound.get(timeout=TIMEOUT)

    def run(self) -> None:
        try:
            for item in self.stream:
                self.got.append(item)
        except BaseException as exc:
            self.error = exc

    def join(self) -> list[Any]:
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "receiver did not finish"
        assert self.error is None, self.error
        return self.got


def raw_connection(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=TIMEOUT)


def assert_hung_up(s: socket.socket) -> None:
    """The receiver closed this connection (a reset, when it left our bytes unread)."""
    s.settimeout(TIMEOUT)
    with contextlib.suppress(ConnectionResetError):
        assert s.recv(10) == b""


def hello(codec: str = "json") -> bytes:
    return frame(json.dumps({"streamql": 1, "codec": codec}).encode())


def test_million_records_over_tcp_in_order() -> None:
    rx = Receiver(senders=1)
    assert Stream(range(1_000_000)).send_to(rx.address) == 1_000_000
    assert rx.join() == list(range(1_000_000))


def test_records_round_trip_datetime_and_bytes() -> None:
    rx = Receiver(senders=1)
    records = [{"when": dt.datetime(2008, 2, 24, 0, 8, 59), "raw": b"\x00\xff", "n": [1, "x"]}]
    send_to(rx.address, records)
    assert rx.join() == records


def test_many_senders_at_once_each_in_order() -> None:
    rx = Receiver(senders=4)
    senders = [
        threading.Thread(target=send_to, args=(rx.address, [(k, i) for i in range(5000)]))
        for k in range(4)
    ]
    for t in senders:
        t.start()
    for t in senders:
        t.join(TIMEOUT)
    got = rx.join()
    for k in range(4):
        assert [i for kk, i in got if kk == k] == list(range(5000))


def test_garbage_and_oversized_frames_drop_only_that_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rx = Receiver(senders=4, max_frame=300_000)
    bad_payloads = [
        hello() + frame(b"\xff garbage"),
        hello() + struct.pack("!I", 10_000_000),
        hello() + frame(b"[" * 100_000 + b"]" * 100_000),
    ]
    for payload in bad_payloads:
        with raw_connection(rx.address) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            assert_hung_up(s)
    send_to(rx.address, ["good"])
    assert rx.join() == ["good"]
    assert rx.stats.dropped == 3
    assert "dropped the connection" in caplog.text


def test_peer_disconnect_mid_frame_is_dropped() -> None:
    rx = Receiver(senders=2)
    with raw_connection(rx.address) as s:
        s.sendall(hello() + frame(b'["a"]') + frame(b'["b", "c"]')[:-3])
    send_to(rx.address, ["z"])
    assert sorted(rx.join()) == ["a", "z"]
    assert rx.stats.dropped == 1


def test_pickle_refused_unless_trusted_and_nothing_executes(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    evil = pickle.dumps([Exploit()])
    rx = Receiver(senders=3)
    for payload in [hello("pickle") + frame(evil), hello() + frame(evil), frame(evil)]:
        with raw_connection(rx.address) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            assert_hung_up(s)
    assert rx.join() == []
    assert rx.stats.dropped == 3
    assert not marker.exists()


def test_pickle_with_trust_and_key() -> None:
    rx = Receiver(senders=2, trusted=True, key=KEY)
    send_to(rx.address, [{1, 2}, (3, 4)], codec="pickle", key=KEY)
    with pytest.raises(ConnectionError):  # wrong key: the receiver drops the connection
        send_to(rx.address, list(range(100_000)), codec="pickle", key=b"not-the-shared-key!")
    assert rx.join() == [{1, 2}, (3, 4)]
    assert rx.stats.dropped == 1


def test_trusted_needs_key() -> None:
    with pytest.raises(ValueError, match="key"):
        Stream.receive_from(0, trusted=True)


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_connection_limit_evicts_the_idlest_for_a_newcomer() -> None:
    rx = Receiver(senders=2, max_connections=1)
    with raw_connection(rx.address) as first:
        first.sendall(hello())
        wait_for(lambda: rx.stats.accepted == 1, "the first connection")
        assert send_to(rx.address, ["in"]) == 1  # the silent first one made room
        assert_hung_up(first)
    assert rx.join() == ["in"]
    assert (rx.stats.evicted, rx.stats.refused, rx.stats.dropped) == (1, 0, 0)


def test_trickling_peers_cannot_keep_a_good_sender_out() -> None:
    rx = Receiver(senders=65, max_connections=64, idle_timeout=60)
    tricklers = [raw_connection(rx.address) for _ in range(64)]
    try:
        for s in tricklers:
            s.sendall(b"\x00")  # the first byte of a hello that never comes
        wait_for(lambda: rx.stats.accepted == 64, "64 trickling connections")
        for s in tricklers:
            s.sendall(b"\x00")  # one more byte each, well within the idle timeout
        assert send_to(rx.address, [{"n": i} for i in range(1000)]) == 1000
    finally:
        for s in tricklers:
            s.close()
    assert rx.join() == [{"n": i} for i in range(1000)]
    assert rx.stats.evicted >= 1 and rx.stats.refused == 0


def trickle_until_hung_up(s: socket.socket) -> None:
    """Send a byte every 20 ms until the receiver hangs up (bounded: fails after TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            s.sendall(b"\x00")
            time.sleep(0.02)
    except OSError:  # reset or broken pipe: hung up
        return
    raise AssertionError("the receiver kept a trickling peer")


def test_a_peer_must_say_hello_in_time_however_often_it_sends() -> None:
    rx = Receiver(senders=1, hello_timeout=0.2, idle_timeout=60)
    with raw_connection(rx.address) as s:
        s.sendall(struct.pack("!I", 100))  # a hello of 100 bytes, sent a byte at a time
        trickle_until_hung_up(s)
    assert rx.join() == []
    assert rx.stats.dropped == 1 and "no hello within" in str(rx.stats.last_error)


def test_a_frame_must_arrive_in_time_however_often_bytes_come() -> None:
    rx = Receiver(senders=1, frame_timeout=0.2, idle_timeout=60)
    with raw_connection(rx.address) as s:
        s.sendall(hello() + frame(b'["ok"]') + struct.pack("!I", 1000))
        trickle_until_hung_up(s)
    assert rx.join() == ["ok"]
    assert rx.stats.dropped == 1 and "a frame took more than" in str(rx.stats.last_error)


def test_a_frame_of_too_many_records_is_refused_and_counted() -> None:
    rx = Receiver(senders=1, max_records=1000)
    many_empty_lists = b"[" + b"[]," * 1000 + b"[]]"  # 1,001 records in 3 kB
    with raw_connection(rx.address) as s:
        s.sendall(hello() + frame(b'["ok"]') + frame(many_empty_lists))
        assert_hung_up(s)
    assert rx.join() == ["ok"]
    assert rx.stats.dropped == 1 and "max_records=1,000" in str(rx.stats.last_error)


def read_nonce(s: socket.socket) -> bytes:
    frames = FrameBuffer(1024)
    got: list[bytes] = []
    while not got:
        data = s.recv(1024)
        assert data, "no nonce"
        got.extend(frames.feed(data))
    return bytes.fromhex(json.loads(got[0])["nonce"])


def test_a_captured_signed_frame_replayed_is_refused_and_counted() -> None:
    rx = Receiver(senders=3, trusted=True, key=KEY)
    with raw_connection(rx.address) as s:
        s.sendall(hello("pickle"))
        captured = frame(codec_for("pickle", key=KEY).session(read_nonce(s)).encode([1]))
        s.sendall(captured + captured)  # the same frame twice on one connection
        assert_hung_up(s)
    with raw_connection(rx.address) as s:
        s.sendall(hello("pickle"))
        read_nonce(s)  # a fresh nonce: the captured frame's signature no longer holds
        s.sendall(captured)
        assert_hung_up(s)
    assert send_to(rx.address, [{2}], codec="pickle", key=KEY) == 1  # a real sender still works
    assert rx.join() == [1, {2}]
    assert (rx.stats.dropped, rx.stats.replayed) == (2, 1)
    # Which refusal is recorded last depends on which connection the receiver closes last.
    assert "replayed" in str(rx.stats.last_error)


def test_idle_connection_dropped() -> None:
    rx = Receiver(senders=1, idle_timeout=0.3)
    with raw_connection(rx.address) as s:
        assert_hung_up(s)  # dropped after 0.3 s of silence
    assert rx.join() == []
    assert rx.stats.dropped == 1


def test_receiver_take_stops_and_closes() -> None:
    bound: queue.Queue[tuple[str, int]] = queue.Queue()
    s = Stream.receive_from(0, on_bind=bound.put)
    result: list[Any] = []
    reader = threading.Thread(target=lambda: result.extend(s.take(3)))
    reader.start()
    address = bound.get(timeout=TIMEOUT)
    with pytest.raises(OSError):
        send_to(address, range(10_000_000), timeout=2)
    reader.join(TIMEOUT)
    assert result == [0, 1, 2]


def test_sender_retries_then_fails_cleanly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()
    start = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        send_to(address, [1], retries=2, retry_delay=0.05)
    assert time.monotonic() - start >= 0.15


def test_sender_source_error_propagates() -> None:
    rx = Receiver(senders=1)

    def bad() -> Iterator[int]:
        yield 1
        raise KeyError("source broke")

    with pytest.raises(KeyError, match="source broke"):
        send_to(rx.address, bad())
    rx.join()


def test_net_consumer_in_broadcast() -> None:
    rx = Receiver(senders=1)
    local: list[int] = []
    sink = NetConsumer(rx.address)

    class Local:
        def send(self, item: int) -> None:
            local.append(item)

    assert broadcast([sink, Local()], range(1000)) == 1000
    assert rx.join() == local == list(range(1000))


def test_binds_loopback_by_default() -> None:
    rx = Receiver(senders=1)
    assert rx.address[0] == "127.0.0.1"
    send_to(rx.address, [])
    assert rx.join() == []


def test_receive_from_is_rerunnable() -> None:
    s = Stream.receive_from(0, senders=1)
    assert "infinite" not in s.explain()
    assert "infinite" in Stream.receive_from(0).explain()
