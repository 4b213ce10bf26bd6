"""Network sources (tutorial part 6): connections, datagrams and lines from many clients.

The tutorial's ``receive_connections`` and ``receive_messages`` with safe
defaults: they bind to 127.0.0.1 unless told otherwise, poll a ``shutdown``
Event, and close every socket when the stream ends. :func:`tcp_lines` serves
many clients at once with a selector, and a misbehaving client — garbage, a
line that never ends, a flood of idle connections, a disconnect mid-line —
cannot crash it, starve the others or grow its memory without bound: each
client holds at most ``max_line`` bytes, at most ``max_connections`` are
open (a newcomer makes the client longest without a complete line give way),
and a client silent for ``idle_timeout`` seconds is disconnected. Refused
lines and clients are rejects (``.rejects``), never silently lost, and a
client closed to make room is told so: what it already sent is read first,
then the connection is reset, so its next send or receive fails.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..core.context import RunContext
from ..core.defaults import HOST, IDLE_TIMEOUT, TCP_CONNECTIONS, TCP_MAX_LINE
from ..live.follow import DEFAULT_POLL, split_lines
from ..live.shutdown import check_event, stop_requested

__all__ = [
    "tcp_connections",
    "udp_messages",
    "tcp_lines",
    "DEFAULT_HOST",
    "MAX_LINE",
    "MAX_CONNECTIONS",
    "IDLE_TIMEOUT",
]

DEFAULT_HOST, MAX_LINE, MAX_CONNECTIONS = HOST, TCP_MAX_LINE, TCP_CONNECTIONS

Address = tuple[str, int]
OnBind = Callable[[Address], Any]


def _address(stage: str, address: object) -> Address:
    if isinstance(address, int) and not isinstance(address, bool):
        address = (DEFAULT_HOST, address)
    if (
        not isinstance(address, tuple)
        or len(address) != 2
        or not isinstance(address[0], str)
        or not isinstance(address[1], int)
        or not 0 <= address[1] <= 65535
    ):
        raise TypeError(f"{stage}: address must be a port or (host, port), got {address!r}")
    return address


def _positive(stage: str, name: str, value: object, kind: type = float) -> None:
    ok = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
    if not ok or value <= 0:  # type: ignore[operator]
        raise ValueError(f"{stage}: {name} must be a positive {kind.__name__}, got {value!r}")


def _check(stage: str, address: object, shutdown: object, poll: object, on_bind: object) -> Address:
    addr = _address(stage, address)
    check_event(stage, shutdown)
    _positive(stage, "poll", poll)
    if on_bind is not None and not callable(on_bind):
        raise TypeError(f"{stage}: on_bind must be callable, got {on_bind!r}")
    return addr


def _bound(sock: socket.socket, on_bind: OnBind | None) -> None:
    if on_bind is not None:
        host, port = sock.getsockname()[:2]
        on_bind((host, port))


def _listener(addr: Address, backlog: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def tcp_connections(
    address: int | Address,
    *,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    backlog: int = 16,
    on_bind: OnBind | None = None,
    ctx: RunContext | None = None,
) -> Iterator[tuple[socket.socket, Address]]:
    """Yield ``(connection, address)`` for each client that connects (receive_connections).

    Infinite; ends only when closed or shut down (within ``poll`` seconds).
    ``address`` is a port (bound on 127.0.0.1) or ``(host, port)``; port 0
    picks a free one, which ``on_bind`` receives. Each connection is closed
    when the next is asked for or the stream ends (as ``open_files`` closes
    files): use it in the loop body, or keep ``conn.dup()``.

    >>> import socket, threading
    >>> got = []
    >>> conns = tcp_connections(0, on_bind=got.append)
    >>> def client():
    ...     while not got:
    ...         threading.Event().wait(0.01)
    ...     with socket.create_connection(got[0], timeout=5) as c:
    ...         _ = c.recv(100)
    >>> t = threading.Thread(target=client); t.start()
    >>> conn, _ = next(conns)
    >>> conn.sendall(b"Hello World\\n")
    >>> conns.close(); t.join(5)
    """
    addr = _check("tcp_connections", address, shutdown, poll, on_bind)
    _positive("tcp_connections", "backlog", backlog, int)

    def run() -> Iterator[tuple[socket.socket, Address]]:
        with _listener(addr, backlog) as sock, selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            _bound(sock, on_bind)
            while not stop_requested(ctx, shutdown):
                if not sel.select(poll):
                    continue
                try:
                    conn, peer = sock.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                conn.setblocking(True)
                with conn:
                    yield conn, peer

    return run()


def udp_messages(
    address: int | Address,
    maxsize: int = 65535,
    *,
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    on_bind: OnBind | None = None,
    ctx: RunContext | None = None,
) -> Iterator[tuple[bytes, Address]]:
    """Yield ``(message, address)`` for each UDP datagram received (receive_messages).

    Infinite; ends only when closed or shut down (within ``poll`` seconds).
    A datagram longer than ``maxsize`` bytes is cut to ``maxsize``.

    >>> import socket
    >>> got = []
    >>> messages = udp_messages(0, 1024, on_bind=got.append)
    >>> import threading
    >>> def send():
    ...     while not got:
    ...         threading.Event().wait(0.01)
    ...     with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    ...         for _ in range(100):  # UDP may drop: send until it is read
    ...             _ = s.sendto(b"ping", got[0])
    ...             threading.Event().wait(0.02)
    >>> t = threading.Thread(target=send); t.start()
    >>> next(messages)[0]
    b'ping'
    >>> messages.close(); t.join(5)
    """
    addr = _check("udp_messages", address, shutdown, poll, on_bind)
    _positive("udp_messages", "maxsize", maxsize, int)

    def run() -> Iterator[tuple[bytes, Address]]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with sock, selectors.DefaultSelector() as sel:
            sock.bind(addr)
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
            _bound(sock, on_bind)
            while not stop_requested(ctx, shutdown):
                if not sel.select(poll):
                    continue
                while True:  # drain what is queued before looking at shutdown again
                    try:
                        msg, peer = sock.recvfrom(maxsize)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # e.g. an ICMP error reported on this socket
                        break
                    yield msg, peer

    return run()


_DRAIN = 1 << 20  # most bytes read from a client being closed to make room
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


class _Client:
    __slots__ = ("buf", "last", "peer", "progress", "skipping", "sock")

    def __init__(self, sock: socket.socket, peer: Address, now: float) -> None:
        self.sock = sock
        self.peer = peer
        self.buf = b""
        self.last = now  # when it last sent anything
        self.progress = now  # when it last completed a line (or connected)
        self.skipping = False  # dropping the rest of an over-long line


def _drain(sock: socket.socket) -> bytes:
    """Read what a client has already sent, without waiting (at most 1 MiB)."""
    chunks: list[bytes] = []
    size = 0
    while size < _DRAIN:
        try:
            data = sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError, OSError):
            break
        if not data:
            break
        chunks.append(data)
        size += len(data)
    return b"".join(chunks)


def tcp_lines(
    address: int | Address,
    *,
    max_line: int = MAX_LINE,
    max_connections: int = MAX_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
    tag: bool = False,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    shutdown: threading.Event | None = None,
    poll: float = DEFAULT_POLL,
    on_bind: OnBind | None = None,
    ctx: RunContext | None = None,
) -> Iterator[Any]:
    """Yield the lines that clients send, from many clients at once.

    Infinite; ends only when closed or shut down (within ``poll`` seconds).
    Memory is bounded by ``max_connections`` x ``max_line``. Each client's
    data is read a chunk per round, so a flooding client cannot starve the
    others. A line longer than ``max_line`` bytes is refused and skipped up to
    its newline; a client silent for ``idle_timeout`` seconds is disconnected;
    a line cut off by a disconnect is refused. With ``max_connections`` open,
    a newcomer is served and the client longest without a complete line gives
    way: its lines already sent are read, then its connection is reset (so it
    sees an error) — each of these a reject of stage ``tcp_lines``.
    Undecodable bytes become ``\\xNN`` escapes. ``tag=True`` yields
    ``((host, port), line)`` pairs.

    >>> import socket, threading
    >>> got = []
    >>> lines = tcp_lines(0, on_bind=got.append)
    >>> def client():
    ...     while not got:
    ...         threading.Event().wait(0.01)
    ...     with socket.create_connection(got[0], timeout=5) as c:
    ...         c.sendall(b"GET /a\\nGET /b\\n")
    >>> t = threading.Thread(target=client); t.start()
    >>> next(lines), next(lines)
    ('GET /a\\n', 'GET /b\\n')
    >>> lines.close(); t.join(5)
    """
    stage = "tcp_lines"
    addr = _check(stage, address, shutdown, poll, on_bind)
    _positive(stage, "max_line", max_line, int)
    _positive(stage, "max_connections", max_connections, int)
    _positive(stage, "idle_timeout", idle_timeout)
    own = ctx or RunContext()

    def refuse(client: _Client, reason: str, data: bytes) -> None:
        shown = data[:200].decode(encoding, "backslashreplace")
        own.bad("skip", stage, reason, shown, origin=(f"{client.peer[0]}:{client.peer[1]}", None))

    def receive(client: _Client, data: bytes) -> list[str]:
        buf = client.buf + data
        if client.skipping:
            cut = buf.find(b"\n")
            if cut < 0:
                client.buf = b""
                return []
            client.skipping = False
            buf = buf[cut + 1 :]
        *complete, rest = buf.split(b"\n")
        if any(len(line) >= max_line for line in complete):
            for line in complete:
                if len(line) >= max_line:
                    refuse(client, f"line longer than {max_line} bytes", line)
            complete = [line for line in complete if len(line) < max_line]
        lines: list[str] = []
        if complete:
            lines, _ = split_lines(b"\n".join(complete) + b"\n", encoding, decode_errors)
        if len(rest) >= max_line:
            refuse(client, f"line longer than {max_line} bytes", rest)
            rest, client.skipping = b"", True
        client.buf = rest
        return lines

    def run() -> Iterator[Any]:
        clients: dict[socket.socket, _Client] = {}
        sel = selectors.DefaultSelector()
        listener = _listener(addr, min(max_connections, 128))

        def drop(client: _Client) -> None:
            sel.unregister(client.sock)
            del clients[client.sock]
            client.sock.close()

        try:
            sel.register(listener, selectors.EVENT_READ)
            _bound(listener, on_bind)
            next_sweep = time.monotonic() + idle_timeout / 4
            while not stop_requested(own, shutdown):
                events = sel.select(poll)
                now = time.monotonic()
                for key, _ in events:
                    if key.fileobj is listener:
                        try:
                            sock, peer = listener.accept()
                        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                            continue
                        lines = []
                        if len(clients) >= max_connections:
                            idlest = min(clients.values(), key=lambda c: c.progress)
                            lines = receive(idlest, _drain(idlest.sock))
                            own.bad(
                                "skip",
                                stage,
                                f"closed to make room: {max_connections} connections open",
                                "",
                                origin=(f"{idlest.peer[0]}:{idlest.peer[1]}", None),
                            )
                            if idlest.buf and not idlest.skipping:
                                refuse(idlest, "closed to make room mid-line", idlest.buf)
                            with contextlib.suppress(OSError):
                                idlest.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                            drop(idlest)
                        sock.setblocking(False)
                        clients[sock] = _Client(sock, peer, now)
                        sel.register(sock, selectors.EVENT_READ)
                        for line in lines:  # what the client that gave way had sent
                            yield (idlest.peer, line) if tag else line
                        continue
                    client = clients.get(key.fileobj)  # type: ignore[call-overload]
                    if client is None:
                        continue
                    try:
                        data = client.sock.recv(min(max_line, 1 << 16))
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        if client.buf and not client.skipping:
                            refuse(client, "disconnected mid-line", client.buf)
                        drop(client)
                        continue
                    client.last = now
                    lines = receive(client, data)
                    if lines:
                        client.progress = now
                    for line in lines:
                        yield (client.peer, line) if tag else line
                if now >= next_sweep:
                    next_sweep = now + idle_timeout / 4
                    for client in [c for c in clients.values() if now - c.last > idle_timeout]:
                        if client.buf and not client.skipping:
                            refuse(client, "idle mid-line", client.buf)
                        drop(client)
        finally:
            for client in list(clients.values()):
                client.sock.close()
            sel.close()
            listener.close()
            if ctx is None:
                own.warn(hint="pass ctx=RunContext(keep_rejects=True) to see them")

    return run()
