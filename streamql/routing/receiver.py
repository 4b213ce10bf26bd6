"""Receive record streams from many peers over TCP, fairly and within stated limits.

The receiving half of :mod:`streamql.routing.net` (see there for the wire). A
receiver binds to 127.0.0.1 unless given another host and drops a connection
— logging to ``streamql.routing.net`` and counting it in :class:`ReceiverStats`, never
raising into the stream — when its peer breaks the protocol or a limit. The
other connections carry on. The limits, each a keyword with its default:

- ``hello_timeout`` (10 s): a peer must send its hello within this long of
  connecting; ``frame_timeout`` (30 s): a frame, once begun, must be complete
  within this long. So a peer trickling a byte at a time cannot hold a
  connection, however often it sends.
- ``idle_timeout`` (60 s): a peer silent this long is dropped.
- ``max_connections`` (64): at most this many peers at once. A newcomer is
  never refused for a full house: the connection that has gone longest
  without completing a frame (a peer that never sent its hello first) is
  closed to make room, and counted as ``evicted``. A sender evicted so gets a
  ``ConnectionError`` (no acknowledgement), never a silent loss.
- ``max_frame`` (16 MiB) bytes and ``max_records`` (100,000) records per
  frame: a larger frame drops the connection. Memory per connection is
  therefore at most one frame being read plus one frame's records waiting
  for room in the receiver's buffer (``maxsize`` records, 8192).
- Signed (pickle) frames carry a per-connection nonce and a sequence number
  in their MAC: a replayed frame drops the connection and counts as
  ``replayed``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from ..core.defaults import FRAME_TIMEOUT, HELLO_TIMEOUT, HOST, MAX_RECORDS
from .channel import Channel, check_maxsize, join_all, start_thread, thread_name
from .transport import Codec, FrameBuffer, FrameError, ReplayError, codec_for, frame

__all__ = [
    "ReceiverStats",
    "Limits",
    "serve",
    "DEFAULT_HOST",
    "HELLO_MAX",
    "HELLO_TIMEOUT",
    "FRAME_TIMEOUT",
    "MAX_RECORDS",
]

log = logging.getLogger("streamql.net")

DEFAULT_HOST = HOST
HELLO_MAX = 1024
"""Largest hello (and acknowledgement) frame, in bytes."""
_POLL = 0.1
_SAFE_CODECS = ("json", "msgpack")


@dataclass
class ReceiverStats:
    """What a receiver did: connections accepted, evicted, refused and dropped, records received.

    ``replayed`` counts the connections dropped for a replayed signed frame
    (they count as ``dropped`` too).
    """

    accepted: int = 0
    refused: int = 0
    dropped: int = 0
    evicted: int = 0
    replayed: int = 0
    records: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


@dataclass(frozen=True)
class Limits:
    """The limits a receiver applies to each connection (see the module notes)."""

    max_connections: int
    idle_timeout: float
    hello_timeout: float
    frame_timeout: float
    max_frame: int
    max_records: int


class _Drop(Exception):
    """A peer broke the protocol or a limit; its connection is dropped."""


class _Peer:
    """One connection: its socket, and when it last completed a frame (-inf: no hello yet)."""

    __slots__ = ("conn", "evicted", "progress", "thread")

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.progress = -float("inf")
        self.evicted = False
        self.thread: threading.Thread | None = None


def serve(
    addr: tuple[str, int],
    *,
    senders: int | None,
    limits: Limits,
    pickle_key: bytes | None,
    maxsize: int,
    on_bind: Callable[[tuple[str, int]], Any] | None,
    stats: ReceiverStats,
) -> Generator[Any, None, None]:
    """Bind ``addr`` and yield the records its peers send (the body of ``receive_from``)."""
    check_maxsize("receive_from", maxsize)
    server = _Server(senders, limits, pickle_key, Channel(maxsize, producers=1), stats)
    return server.run(addr, on_bind)


class _Server:
    def __init__(
        self,
        senders: int | None,
        limits: Limits,
        pickle_key: bytes | None,
        channel: Channel[Any],
        stats: ReceiverStats,
    ) -> None:
        self.senders = senders
        self.limits = limits
        self.pickle_key = pickle_key
        self.channel = channel
        self.stats = stats
        self.lock = threading.Lock()
        self.active: dict[threading.Thread, _Peer] = {}

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
                self.make_room(peer)
                accepted += 1
                self.stats.add(accepted=1)
                self.channel.add_producer()
                state = _Peer(conn)
                thread = threading.Thread(
                    target=self.serve,
                    args=(state, peer),
                    name=thread_name("connection"),
                    daemon=True,
                )
                state.thread = thread
                with self.lock:
                    self.active[thread] = state
                thread.start()
        except BaseException as exc:
            error = exc
        finally:
            self.channel.finish(error)

    def make_room(self, newcomer: Any) -> None:
        """At the connection limit, close the connection longest without a complete frame."""
        with self.lock:
            candidates = [p for p in self.active.values() if not p.evicted]
            if len(candidates) < self.limits.max_connections:
                return
            idlest = min(candidates, key=lambda p: p.progress)
            idlest.evicted = True
        self.stats.add(evicted=1)
        log.warning(
            "receive_from: %d connections open; closed the idlest to make room for %s",
            len(candidates),
            newcomer,
        )
        with contextlib.suppress(OSError):
            idlest.conn.shutdown(socket.SHUT_RDWR)  # wakes its reader, which closes it

    def serve(self, state: _Peer, peer: Any) -> None:
        try:
            with state.conn as conn:
                conn.settimeout(_POLL)
                self.read(state, conn)
        except (_Drop, FrameError, OSError) as exc:
            counts = {"dropped": 1, "replayed": 1} if isinstance(exc, ReplayError) else {}
            if not state.evicted:
                self.stats.add(**(counts or {"dropped": 1}))
                self.stats.last_error = f"{peer}: {exc}"
                log.warning("receive_from: dropped the connection from %s: %s", peer, exc)
        finally:
            with self.lock:
                self.active.pop(threading.current_thread(), None)
            self.channel.finish()

    def read(self, state: _Peer, conn: socket.socket) -> None:
        limits = self.limits
        frames = FrameBuffer(limits.max_frame)
        codec: Codec | None = None
        channel = self.channel
        now = last_heard = time.monotonic()
        hello_by = now + limits.hello_timeout
        frame_by = float("inf")  # when the frame being read must be complete
        received = 0
        while not channel.stopped:
            try:
                data = conn.recv(1 << 18)
            except TimeoutError:
                data = None
            now = time.monotonic()
            if state.evicted:
                raise _Drop("evicted to make room for a new connection")
            if codec is None and now > hello_by:
                raise _Drop(f"no hello within {limits.hello_timeout} s")
            if now > frame_by:
                raise _Drop(f"a frame took more than {limits.frame_timeout} s")
            if data is None:
                if now - last_heard > limits.idle_timeout:
                    raise _Drop(f"idle for more than {limits.idle_timeout} s")
                continue
            if not data:
                if frames.pending:
                    raise _Drop(f"closed in the middle of a frame ({frames.pending} bytes)")
                conn.sendall(frame(json.dumps({"received": received}).encode()))
                return
            last_heard = now
            for payload in frames.feed(data):
                state.progress = now
                if codec is None:
                    codec = self.hello(payload, conn)
                    continue
                records = codec.decode(payload)
                if len(records) > limits.max_records:
                    raise _Drop(
                        f"a frame of {len(records):,} records (max_records={limits.max_records:,})"
                    )
                received += len(records)
                self.stats.add(records=len(records))
                if not channel.put_many(records):
                    return
            if not frames.pending:
                frame_by = float("inf")
            elif frame_by == float("inf"):
                frame_by = now + limits.frame_timeout

    def hello(self, payload: bytes, conn: socket.socket) -> Codec:
        if len(payload) > HELLO_MAX:
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
            nonce = secrets.token_bytes(16)
            conn.sendall(frame(json.dumps({"nonce": nonce.hex()}).encode()))
            return codec_for("pickle", key=self.pickle_key).session(nonce)
        if name not in _SAFE_CODECS:
            raise _Drop(f"unknown codec {name!r}")
        try:
            return codec_for(name)
        except ValueError as exc:
            raise _Drop(str(exc)) from None
