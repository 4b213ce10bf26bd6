"""Ship records over TCP: send a stream to an address, receive streams from any number of peers.

The tutorial's ``sendto``/``receivefrom`` and ``NetConsumer``, made safe:
length-prefixed frames of record batches (see :mod:`streamql.transport`), JSON
by default, pickle only for a receiver that says it trusts its senders and
shares a key with them.

**The wire.** A connection opens with a hello frame, the JSON object
``{"streamql": 1, "codec": "json"}``, then frames of record batches in that
codec. The sender half-closes when done; the receiver, having read everything,
answers with one frame ``{"received": <count>}`` and closes. :func:`send_to`
returns once that count matches what it sent, and raises ``ConnectionError``
otherwise (a receiver that refused or dropped the connection sends none).

**Batching.** The sender reads its items in a thread and sends a frame of
whatever is ready (at most ``batch`` records) as soon as the socket is free,
so a bulk stream goes in large frames and a live stream's records leave at
once (the rule of :mod:`streamql.threads`).

**Sender retry policy.** Connecting is retried: ``retries`` more attempts after
the first, waiting ``retry_delay`` seconds and doubling the wait each time (at
most 2 s between tries), on refusal or timeout. Once connected there is no
reconnect: a connection that breaks mid-stream raises ``OSError``
(``ConnectionError``), because the records in flight may or may not have
arrived and a resend could duplicate them. Streams are re-runnable, so
re-running the send is the caller's explicit choice.

**The receiver** binds to 127.0.0.1 unless given another host, serves at most
``max_connections`` peers at once (more are closed at once and counted as
refused), and drops a connection, logging to ``streamql.net`` and counting it
in :class:`ReceiverStats` — never raising into the stream — when the peer
sends a bad hello, an oversized, truncated or undecodable frame, or stays
silent for ``idle_timeout`` seconds. The other connections carry on.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from .coroutines import ConsumerThread
from .threads import (
    DEFAULT_MAXSIZE,
    Channel,
    check_maxsize,
    join_all,
    pump,
    start_thread,
    thread_name,
)
from .transport import MAX_FRAME, Codec, FrameBuffer, FrameError, check_key, codec_for, frame

__all__ = [
    "check_send_options",
    "send_to",
    "receive_from",
    "NetConsumer",
    "ReceiverStats",
    "DEFAULT_HOST",
]

log = logging.getLogger("streamql.net")

DEFAULT_HOST = "127.0.0.1"
_POLL = 0.1
_HELLO_MAX = 1024
_SAFE_CODECS = ("json", "msgpack")


def _address(stage: str, address: object) -> tuple[str, int]:
    if isinstance(address, int) and not isinstance(address, bool):
        return (DEFAULT_HOST, address)
    if (
        isinstance(address, tuple)
        and len(address) == 2
        and isinstance(address[0], str)
        and isinstance(address[1], int)
    ):
        return (address[0], address[1])
    raise TypeError(f"{stage}: address must be a port or a (host, port) tuple, got {address!r}")


def _positive(stage: str, name: str, value: object, *, integer: bool = False) -> None:
    kinds = (int,) if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{stage}: {name} must be a positive number, got {value!r}")


# --------------------------------------------------------------------- sending
def send_to(
    address: tuple[str, int] | int,
    items: Iterable[Any],
    *,
    codec: str = "json",
    key: bytes | None = None,
    batch: int = 2000,
    timeout: float = 10.0,
    retries: int = 5,
    retry_delay: float = 0.1,
) -> int:
    """Send every item to the receiver at ``address``; return how many once it has them all.

    Terminal; consumes ``items`` (read in a helper thread, joined before this
    returns), holding at most a few batches. See the module notes for the
    retry policy: connecting is retried, a broken connection raises.

    >>> import threading
    >>> bound = threading.Event(); where = []
    >>> def on_bind(addr): where.append(addr); bound.set()
    >>> got = []
    >>> def receive(): got.extend(receive_from(0, senders=1, on_bind=on_bind))
    >>> rx = threading.Thread(target=receive)
    >>> rx.start(); _ = bound.wait(5)
    >>> send_to(where[0], [{"n": 1}, {"n": 2}])
    2
    >>> rx.join(5); got
    [{'n': 1}, {'n': 2}]
    """
    addr, chosen = check_send_options(
        address,
        codec=codec,
        key=key,
        batch=batch,
        timeout=timeout,
        retries=retries,
        retry_delay=retry_delay,
    )
    sock = _connect(addr, timeout, retries, retry_delay)
    with sock:
        return _send(sock, chosen, items, batch, timeout)


def check_send_options(
    address: object,
    *,
    codec: str,
    key: bytes | None,
    batch: int,
    timeout: float,
    retries: int,
    retry_delay: float,
) -> tuple[tuple[str, int], Codec]:
    """Validate the arguments of :func:`send_to`; return the address and codec."""
    addr = _address("send_to", address)
    chosen = codec_for(codec, key=check_key("send_to", key))
    _positive("send_to", "batch", batch, integer=True)
    _positive("send_to", "timeout", timeout)
    _positive("send_to", "retry_delay", retry_delay)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ValueError(f"send_to: retries must be an int >= 0, got {retries!r}")
    return addr, chosen


def _connect(addr: tuple[str, int], timeout: float, retries: int, delay: float) -> socket.socket:
    for attempt in range(retries + 1):
        try:
            return socket.create_connection(addr, timeout=timeout)
        except (ConnectionRefusedError, TimeoutError, ConnectionResetError) as exc:
            if attempt == retries:
                raise
            log.info("send_to: connecting to %s failed (%s); retrying in %.2f s", addr, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def _send(
    sock: socket.socket, codec: Codec, items: Iterable[Any], batch: int, timeout: float
) -> int:
    hello = json.dumps({"streamql": 1, "codec": codec.name}).encode()
    sock.sendall(frame(hello))
    channel: Channel[Any] = Channel(batch * 4, producers=1)
    thread = start_thread(pump, channel, items, False, name=thread_name("send_to"))
    sent = 0
    try:
        for records in channel.batches(batch, where=thread.name):
            sock.sendall(frame(codec.encode(records)))
            sent += len(records)
    finally:
        channel.close()
        join_all([thread])
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError as exc:  # ENOTCONN: the receiver already hung up (refused, or dropped us)
        raise ConnectionError(
            f"send_to: the receiver closed the connection after {sent:,} records were sent "
            f"({exc.strerror or exc})"
        ) from exc
    sock.settimeout(timeout)
    _await_ack(sock, sent)
    return sent


def _await_ack(sock: socket.socket, sent: int) -> None:
    """Wait for the receiver's acknowledgement that it read all ``sent`` records."""
    frames = FrameBuffer(_HELLO_MAX)
    replies: list[bytes] = []
    try:
        while data := sock.recv(4096):
            replies.extend(frames.feed(data))
    except ConnectionResetError:
        pass
    try:
        received = json.loads(replies[0])["received"] if replies else None
    except (ValueError, TypeError, KeyError):
        received = None
    if received != sent:
        raise ConnectionError(
            f"send_to: the receiver closed the connection without acknowledging the {sent:,} "
            f"records sent (it acknowledged {received}); it refused or dropped the connection"
        )


class NetConsumer(ConsumerThread):
    """A broadcast consumer that sends what it receives to ``address`` (see :func:`send_to`).

    Connects at the first item; ``close()`` returns once the receiver has everything,
    and raises if sending failed.
    """

    def __init__(self, address: tuple[str, int] | int, **options: Any) -> None:
        addr = _address("NetConsumer", address)
        codec_for(options.get("codec", "json"), key=options.get("key"))  # check now

        def deliver(stream: Iterable[Any]) -> int:
            return send_to(addr, stream, **options)

        super().__init__(deliver)


# ------------------------------------------------------------------- receiving
@dataclass
class ReceiverStats:
    """What a receiver did: connections accepted, refused and dropped, records received."""

    accepted: int = 0
    refused: int = 0
    dropped: int = 0
    records: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class _Drop(Exception):
    """A peer broke the protocol; its connection is dropped."""


def receive_from(
    address: tuple[str, int] | int = (DEFAULT_HOST, 0),
    *,
    senders: int | None = None,
    max_connections: int = 64,
    idle_timeout: float = 60.0,
    max_frame: int = MAX_FRAME,
    trusted: bool = False,
    key: bytes | None = None,
    maxsize: int = DEFAULT_MAXSIZE,
    on_bind: Callable[[tuple[str, int]], Any] | None = None,
    stats: ReceiverStats | None = None,
) -> Generator[Any, None, None]:
    """Yield the records that peers send to ``address``, serving many at once.

    Lazy; binds when first iterated, and closing it closes the socket and
    joins every thread. Infinite unless ``senders`` is given: then it ends once
    that many connections have been served. Each peer's records come out in
    the order sent; peers' records interleave as they arrive. ``on_bind`` is
    called with the bound (host, port) (useful with port 0). ``trusted=True``
    (with a ``key``) also accepts pickle; see the module notes for what drops
    a connection. Memory: at most about ``2 * maxsize`` records buffered.

    >>> r = receive_from(0, senders=1)
    >>> r.close()
    """
    addr = _address("receive_from", address)
    if senders is not None:
        _positive("receive_from", "senders", senders, integer=True)
    _positive("receive_from", "max_connections", max_connections, integer=True)
    _positive("receive_from", "idle_timeout", idle_timeout)
    _positive("receive_from", "max_frame", max_frame, integer=True)
    check_maxsize("receive_from", maxsize)
    checked_key = check_key("receive_from", key)
    if trusted and checked_key is None:
        raise ValueError("receive_from: trusted=True needs the key its senders sign with")
    server = _Server(
        senders,
        max_connections,
        idle_timeout,
        max_frame,
        checked_key if trusted else None,
        Channel(maxsize, producers=1),
        stats if stats is not None else ReceiverStats(),
    )
    return server.run(addr, on_bind)


class _Server:
    def __init__(
        self,
        senders: int | None,
        max_connections: int,
        idle_timeout: float,
        max_frame: int,
        pickle_key: bytes | None,
        channel: Channel[Any],
        stats: ReceiverStats,
    ) -> None:
        self.senders = senders
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.max_frame = max_frame
        self.pickle_key = pickle_key
        self.channel = channel
        self.stats = stats
        self.lock = threading.Lock()
        self.active: set[threading.Thread] = set()

    def run(
        self, addr: tuple[str, int], on_bind: Callable[[tuple[str, int]], Any] | None
    ) -> Generator[Any, None, None]:
        channel = self.channel
        with socket.create_server(addr) as listener:
            listener.settimeout(_POLL)
            if on_bind is not None:
                on_bind(listener.getsockname()[:2])
            acceptor = start_thread(self.accept_loop, listener, name=thread_name("receive_from"))
            try:
                for batch in channel.batches(where=acceptor.name):
                    yield from batch
            finally:
                channel.close()
                join_all([acceptor])
                with self.lock:
                    threads = list(self.active)
                join_all(threads)

    def accept_loop(self, listener: socket.socket) -> None:
        error: BaseException | None = None
        accepted = 0
        try:
            while not self.channel.stopped and (self.senders is None or accepted < self.senders):
                try:
                    conn, peer = listener.accept()
                except TimeoutError:
                    continue
                with self.lock:
                    full = len(self.active) >= self.max_connections
                if full:
                    conn.close()
                    self.stats.add(refused=1)
                    log.warning(
                        "receive_from: refused %s: %d connections open", peer, len(self.active)
                    )
                    continue
                accepted += 1
                self.stats.add(accepted=1)
                self.channel.add_producer()
                thread = threading.Thread(
                    target=self.serve,
                    args=(conn, peer),
                    name=thread_name("connection"),
                    daemon=True,
                )
                with self.lock:
                    self.active.add(thread)
                thread.start()
        except BaseException as exc:
            error = exc
        finally:
            self.channel.finish(error)

    def serve(self, conn: socket.socket, peer: Any) -> None:
        try:
            with conn:
                conn.settimeout(_POLL)
                self.read(conn)
        except (_Drop, FrameError, OSError) as exc:
            self.stats.add(dropped=1)
            self.stats.last_error = f"{peer}: {exc}"
            log.warning("receive_from: dropped the connection from %s: %s", peer, exc)
        finally:
            with self.lock:
                self.active.discard(threading.current_thread())
            self.channel.finish()

    def read(self, conn: socket.socket) -> None:
        frames = FrameBuffer(self.max_frame)
        codec: Codec | None = None
        channel = self.channel
        last_heard = time.monotonic()
        received = 0
        while not channel.stopped:
            try:
                data = conn.recv(1 << 18)
            except TimeoutError:
                if time.monotonic() - last_heard > self.idle_timeout:
                    raise _Drop(f"idle for more than {self.idle_timeout} s") from None
                continue
            if not data:
                if frames.pending:
                    raise _Drop(f"closed in the middle of a frame ({frames.pending} bytes)")
                conn.sendall(frame(json.dumps({"received": received}).encode()))
                return
            last_heard = time.monotonic()
            for payload in frames.feed(data):
                if codec is None:
                    codec = self.hello(payload)
                    continue
                records = codec.decode(payload)
                received += len(records)
                self.stats.add(records=len(records))
                if not channel.put_many(records):
                    return

    def hello(self, payload: bytes) -> Codec:
        if len(payload) > _HELLO_MAX:
            raise _Drop(f"hello frame of {len(payload)} bytes; not a streamql sender")
        try:
            hello = json.loads(payload)
        except (ValueError, RecursionError):
            raise _Drop("no streamql hello; not a streamql sender") from None
        if not isinstance(hello, dict) or hello.get("streamql") != 1:
            raise _Drop(f"bad hello {hello!r:.100}")
        name = hello.get("codec")
        if name == "pickle":
            if self.pickle_key is None:
                raise _Drop("refused codec 'pickle': this receiver does not trust its senders")
            return codec_for("pickle", key=self.pickle_key)
        if name not in _SAFE_CODECS:
            raise _Drop(f"unknown codec {name!r}")
        try:
            return codec_for(name)
        except ValueError as exc:
            raise _Drop(str(exc)) from None
