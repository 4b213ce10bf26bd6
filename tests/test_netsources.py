"""TCP and UDP sources on loopback, with well-behaved and badly-behaved clients."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from streamql import Stream
from streamql.routing.netsources import tcp_connections, tcp_lines, udp_messages

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

TIMEOUT = 10.0


class Server:
    """Run a network source in a thread, collecting what it yields until stopped."""

    def __init__(self, make: Callable[..., Iterator[Any]], **kwargs: Any) -> None:
        self.stop = threading.Event()
        self.bound = threading.Event()
        self.items: list[Any] = []
        self.address: tuple[str, int] = ("", 0)
        self.error: BaseException | None = None

        def on_bind(addr: tuple[str, int]) -> None:
            self.address = addr
            self.bound.set()

        self.source: Any = make(shutdown=self.stop, poll=0.01, on_bind=on_bind, **kwargs)
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.bound.wait(TIMEOUT)

    def _run(self) -> None:
        for item in iter(self.source):
            self.items.append(item)

    def wait_items(self, n: int) -> list[Any]:
        deadline = time.monotonic() + TIMEOUT
        while len(self.items) < n:
            assert time.monotonic() < deadline, f"only {self.items!r}"
            time.sleep(0.005)
        return self.items

    def close(self) -> None:
        self.stop.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=TIMEOUT)


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_tcp_lines_from_several_clients_with_bad_ones_among_them() -> None:
    query = Stream.tcp_lines(0, max_line=100, tag=True)
    server = Server(lambda **kw: Stream.tcp_lines(0, max_line=100, tag=True, **kw))
    try:
        with connect(server.address) as good1, connect(server.address) as good2:
            with connect(server.address) as bad:
                bad.sendall(b"\xff\xfe garbage \x00\n")  # undecodable: escaped, not fatal
                bad.sendall(b"x" * 5000)  # a line far past max_line: refused
                good1.sendall(b"one from 1\n")
                good2.sendall(b"one from 2\nhalf ")
                bad.sendall(b"still the long line\nafter the long line\n")
            good2.sendall(b"line\n")
            with connect(server.address) as quitter:
                quitter.sendall(b"cut off mid-li")  # disconnect mid-line: refused
            good1.sendall(b"two from 1\n")
            items = server.wait_items(6)
    finally:
        server.close()
    lines = sorted(line for _, line in items)
    assert lines == sorted(
        [
            "\\xff\\xfe garbage \x00\n",
            "one from 1\n",
            "one from 2\n",
            "half line\n",
            "after the long line\n",
            "two from 1\n",
        ]
    )
    assert all(host == "127.0.0.1" for (host, _), _ in items)
    assert server.source.last_run.rejected == {"tcp_lines": 2}  # too long, cut off
    assert query.explain().splitlines()[2].endswith("source, infinite, may reject")


@pytest.mark.filterwarnings("ignore::streamql.RejectedLinesWarning")
def test_tcp_lines_drops_idle_clients() -> None:
    server = Server(tcp_lines, address=0, idle_timeout=0.2)
    try:
        idle = [connect(server.address) for _ in range(3)]  # a flood of silent clients
        try:
            for s in idle:  # dropped after idle_timeout
                assert s.recv(10) == b""
        finally:
            for s in idle:
                s.close()
        with connect(server.address) as late:
            late.sendall(b"hello\n")
            assert server.wait_items(1) == ["hello\n"]
    finally:
        server.close()


@pytest.mark.filterwarnings("ignore::streamql.core.errors.RejectedLinesWarning")
def test_trickling_clients_give_way_to_a_newcomer_and_are_told() -> None:
    server = Server(lambda **kw: Stream.tcp_lines(0, max_connections=4, **kw))
    tricklers = [connect(server.address) for _ in range(4)]
    try:
        tricklers[0].sendall(b"said before giving way\n")
        server.wait_items(1)
        for s in tricklers:
            s.sendall(b"a byte at a time, never a whole line")
        with connect(server.address) as good:  # the house is full: one trickler gives way
            good.sendall(b"good\n")
            assert server.wait_items(2)[1] == "good\n"
        told = 0
        for s in tricklers:
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                try:
                    s.recv(10)
                except ConnectionResetError:  # reset: the client sees the refusal
                    told += 1
        assert told == 1
    finally:
        for s in tricklers:
            s.close()
        server.close()
    assert server.items == ["said before giving way\n", "good\n"]
    run = server.source.last_run  # then each trickler's line cut short when it hung up
    assert run.first_reject["reason"] == "closed to make room: 4 connections open"
    assert run.rejected["tcp_lines"] >= 2


def test_a_flooding_client_does_not_starve_a_quiet_one() -> None:
    server = Server(tcp_lines, address=0)
    flooding = threading.Event()
    try:
        with connect(server.address) as flood, connect(server.address) as quiet:

            def pour() -> None:
                chunk = b"flood\n" * 10000
                while not flooding.is_set():
                    try:
                        flood.sendall(chunk)
                    except OSError:
                        return

            pourer = threading.Thread(target=pour)
            pourer.start()
            try:
                server.wait_items(1000)
                quiet.sendall(b"quiet\n")
                deadline = time.monotonic() + TIMEOUT
                while "quiet\n" not in server.items[-200000:]:
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
            finally:
                flooding.set()
                server.stop.set()
                pourer.join(TIMEOUT)
    finally:
        server.close()


def test_tcp_connections_hands_out_each_client() -> None:
    server = Server(tcp_connections, address=0)
    try:
        for _ in range(3):
            with connect(server.address):
                pass
        items = server.wait_items(3)
        assert all(peer[0] == "127.0.0.1" for _, peer in items)
    finally:
        server.close()
    assert all(conn.fileno() == -1 for conn, _ in items)  # each closed when the next came


def test_udp_messages_from_several_senders() -> None:
    server = Server(udp_messages, address=0, maxsize=1024)
    try:
        senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        try:
            for i, s in enumerate(senders):
                s.sendto(f"hello {i}".encode(), server.address)
            items = server.wait_items(3)
        finally:
            for s in senders:
                s.close()
    finally:
        server.close()
    assert sorted(m for m, _ in items) == [b"hello 0", b"hello 1", b"hello 2"]


def test_sockets_bind_loopback_by_default_and_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="tcp_lines: address"):
        Stream.tcp_lines("localhost")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_line"):
        Stream.tcp_lines(0, max_line=0)
    with pytest.raises(ValueError, match="maxsize"):
        Stream.udp_messages(0, -1)
    assert repr(Stream.tcp_connections(9000)) == "Stream.tcp_connections(9000)"
