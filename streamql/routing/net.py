"""Ship records over TCP: send a stream to an address, receive streams from any number of peers.

The tutorial's ``sendto``/``receivefrom`` and ``NetConsumer``, made safe:
length-prefixed frames of record batches (see :mod:`streamql.routing.transport`), JSON
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
once (the rule of :mod:`streamql.routing.threads`).

**Sender retry policy.** Connecting is retried: ``retries`` more attempts after
the first, waiting ``retry_delay`` seconds and doubling the wait each time (at
most 2 s between tries), on refusal or timeout. Once connected there is no
reconnect: a connection that breaks mid-stream raises ``OSError``
(``ConnectionError``), because the records in flight may or may not have
arrived and a resend could duplicate them. Streams are re-runnable, so
re-running the send is the caller's explicit choice.

**Signed frames.** With ``codec="pickle"`` the receiver answers the hello
with a frame ``{"nonce": <hex>}``, fresh for each connection, and each frame
is signed over that nonce and its sequence number (:mod:`streamql.routing.transport`),
so a captured frame replayed is refused.

**The receiver** (:mod:`streamql.routing.receiver`) binds to 127.0.0.1 unless given
another host, and drops a connection, logging to ``streamql.routing.net`` and counting
it in :class:`ReceiverStats` — never raising into the stream — when the peer
sends a bad hello, an oversized, truncated, slow or undecodable frame, or
stays silent for ``idle_timeout`` seconds. At ``max_connections`` the peer
longest without a complete frame is closed to make room for a newcomer.
The other connections carry on.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any

from ..core.defaults import IDLE_TIMEOUT, RECEIVER_CONNECTIONS
from .channel import (
    DEFAULT_MAXSIZE,
    Channel,
    check_maxsize,
    join_all,
    pump,
    start_thread,
    thread_name,
)
from .coroutines import ConsumerThread
from .receiver import (
    DEFAULT_HOST,
    FRAME_TIMEOUT,
    HELLO_MAX,
    HELLO_TIMEOUT,
    MAX_RECORDS,
    Limits,
    ReceiverStats,
    serve,
)
from .transport import MAX_FRAME, Codec, FrameBuffer, check_key, codec_for, frame

__all__ = [
    "check_send_options",
    "send_to",
    "receive_from",
    "NetConsumer",
    "ReceiverStats",
    "DEFAULT_HOST",
    "HELLO_TIMEOUT",
    "FRAME_TIMEOUT",
    "MAX_RECORDS",
]

log = logging.getLogger("streamql.net")


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
    replies = FrameBuffer(HELLO_MAX)
    if codec.signed:
        codec = codec.session(_await_nonce(sock, replies))
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
    _await_ack(sock, sent, replies)
    return sent


def _await_nonce(sock: socket.socket, frames: FrameBuffer) -> bytes:
    """Read the nonce a receiver of signed frames sends for this connection."""
    got: list[bytes] = []
    while not got:
        data = sock.recv(4096)
        if not data:
            raise ConnectionError(
                "send_to: the receiver closed the connection instead of sending a nonce "
                "for signed frames; it does not trust pickle senders"
            )
        got.extend(frames.feed(data))
    try:
        return bytes.fromhex(json.loads(got[0])["nonce"])
    except (ValueError, TypeError, KeyError):
        raise ConnectionError(
            f"send_to: no nonce in the receiver's reply {got[0]!r:.100}"
        ) from None


def _await_ack(sock: socket.socket, sent: int, frames: FrameBuffer) -> None:
    """Wait for the receiver's acknowledgement that it read all ``sent`` records."""
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
def receive_from(
    address: tuple[str, int] | int = (DEFAULT_HOST, 0),
    *,
    senders: int | None = None,
    max_connections: int = RECEIVER_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
    hello_timeout: float = HELLO_TIMEOUT,
    frame_timeout: float = FRAME_TIMEOUT,
    max_frame: int = MAX_FRAME,
    max_records: int = MAX_RECORDS,
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
    (with a ``key``) also accepts pickle. The limits (``max_connections``,
    the timeouts, ``max_frame``, ``max_records``) are described in
    :mod:`streamql.routing.receiver`: a peer over one is dropped and counted in
    ``stats``, and at the connection limit the idlest peer makes room for a
    newcomer. Memory: at most about ``2 * maxsize`` records buffered, plus one
    frame per connection.

    >>> r = receive_from(0, senders=1)
    >>> r.close()
    """
    addr = _address("receive_from", address)
    if senders is not None:
        _positive("receive_from", "senders", senders, integer=True)
    _positive("receive_from", "max_connections", max_connections, integer=True)
    _positive("receive_from", "idle_timeout", idle_timeout)
    _positive("receive_from", "hello_timeout", hello_timeout)
    _positive("receive_from", "frame_timeout", frame_timeout)
    _positive("receive_from", "max_frame", max_frame, integer=True)
    _positive("receive_from", "max_records", max_records, integer=True)
    check_maxsize("receive_from", maxsize)
    checked_key = check_key("receive_from", key)
    if trusted and checked_key is None:
        raise ValueError("receive_from: trusted=True needs the key its senders sign with")
    limits = Limits(
        max_connections, idle_timeout, hello_timeout, frame_timeout, max_frame, max_records
    )
    return serve(
        addr,
        senders=senders,
        limits=limits,
        pickle_key=checked_key if trusted else None,
        maxsize=maxsize,
        on_bind=on_bind,
        stats=stats if stats is not None else ReceiverStats(),
    )
