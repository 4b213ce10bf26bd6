"""Framing and codecs for shipping records between processes and machines.

A *frame* is a 4-byte big-endian length and that many bytes of payload; a
reader refuses a frame longer than its ``max_frame`` before reading it. Each
payload carries a *batch* of records, encoded by a codec:

- ``"json"`` (default, always safe): a JSON array of the records. ``datetime``,
  ``date`` and ``bytes`` round-trip as tagged objects
  (``{"__datetime__": "2008-02-24T00:08:59-06:00"}``); tuples arrive as lists
  (JSON has no tuple); a dict of exactly one of those tag keys would be read
  back as the tagged value.
- ``"msgpack"`` (when the ``msgpack`` package is installed): the same records,
  with the same tagged types as extension types; tuples arrive as lists.
- ``"pickle"`` carries any picklable object, but unpickling data runs code of
  the sender's choosing, so it needs a shared ``key``: every payload is signed
  with HMAC-SHA256 and the signature checked before anything is unpickled. A
  receiver accepts it only when told it trusts its senders. The signature
  covers a *nonce* the receiver picks for each connection
  (:meth:`Codec.session`) and the payload's sequence number, so a captured
  frame replayed — on another connection, or twice on one — is refused
  (:class:`ReplayError`) instead of unpickled again.

A payload that does not decode (garbage, a JSON bomb of nested brackets that
would raise ``RecursionError``, a bad signature) raises :class:`FrameError`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import importlib
import json
import pickle
import struct
from collections.abc import Callable, Iterator
from typing import Any

from ..core.defaults import MAX_FRAME
from ..core.errors import StreamError

__all__ = [
    "FrameError",
    "ReplayError",
    "Codec",
    "codec_for",
    "available_codecs",
    "frame",
    "FrameBuffer",
    "MAX_FRAME",
]

HEADER = struct.Struct("!I")
_SIG = 32  # bytes of an HMAC-SHA256 signature
_SEQ = struct.Struct("!Q")  # the sequence number of a signed payload


class FrameError(StreamError, ValueError):
    """A frame that is too large, or whose payload does not decode."""


class ReplayError(FrameError):
    """A correctly signed payload out of sequence: a captured frame sent again."""


# -------------------------------------------------------------------- framing
def frame(payload: bytes) -> bytes:
    """Return ``payload`` with its length prefix.

    >>> frame(b"hi")
    b'\\x00\\x00\\x00\\x02hi'
    """
    return HEADER.pack(len(payload)) + payload


class FrameBuffer:
    """Split a byte stream into frames, refusing any longer than ``max_frame``.

    Feed it the bytes as they arrive; it yields each complete payload.

    >>> buf = FrameBuffer()
    >>> list(buf.feed(frame(b"ab") + frame(b"c")[:3])), list(buf.feed(b"\\x01c"))
    ([b'ab'], [b'c'])
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        if not isinstance(max_frame, int) or max_frame < 1:
            raise ValueError(f"FrameBuffer: max_frame must be an int >= 1, got {max_frame!r}")
        self.max_frame = max_frame
        self._data = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._data)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Add received bytes; yield every payload now complete."""
        buf = self._data
        buf += data
        start = 0
        try:
            while len(buf) - start >= 4:
                (size,) = HEADER.unpack_from(buf, start)
                if size > self.max_frame:
                    raise FrameError(
                        f"transport: frame of {size:,} bytes exceeds max_frame {self.max_frame:,}"
                    )
                end = start + 4 + size
                if len(buf) < end:
                    break
                yield bytes(buf[start + 4 : end])
                start = end
        finally:
            del buf[:start]


# --------------------------------------------------------------------- codecs
_TAGS: dict[str, Callable[[Any], Any]] = {
    "__datetime__": dt.datetime.fromisoformat,
    "__date__": dt.date.fromisoformat,
    "__bytes__": base64.b64decode,
}


def _tag(obj: Any) -> dict[str, str]:
    if isinstance(obj, dt.datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, dt.date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"__bytes__": base64.b64encode(bytes(obj)).decode("ascii")}
    raise TypeError(f"transport: cannot encode {type(obj).__name__} {obj!r} with this codec")


def _untag(d: dict[str, Any]) -> Any:
    if len(d) == 1:
        for key, value in d.items():
            convert = _TAGS.get(key)
            if convert is not None and isinstance(value, str):
                return convert(value)
    return d


class Codec:
    """Encode a batch of records to bytes and back."""

    def __init__(
        self,
        name: str,
        encode: Callable[[list[Any]], bytes],
        decode: Callable[[bytes], list[Any]],
        session: Callable[[bytes], Codec] | None = None,
    ) -> None:
        self.name = name
        self._encode = encode
        self._decode = decode
        self._session = session

    @property
    def signed(self) -> bool:
        """True for a codec whose payloads are signed, so need a :meth:`session` per connection."""
        return self._session is not None

    def session(self, nonce: bytes) -> Codec:
        """Return this codec for one connection: signatures cover ``nonce`` and a sequence number.

        Each side keeps its own count: the n-th payload encoded is the only
        one the other side's n-th decode accepts. Unsigned codecs return themselves.

        >>> a, b = (codec_for("pickle", key=b"k" * 16).session(b"nonce") for _ in "ab")
        >>> first = a.encode([1])
        >>> b.decode(first)
        [1]
        >>> b.decode(first)
        Traceback (most recent call last):
        ...
        streamql.routing.transport.ReplayError: transport: signed payload number 0 replayed...
        """
        return self if self._session is None else self._session(nonce)

    def encode(self, records: list[Any]) -> bytes:
        """Encode a batch of records (raises TypeError for a value the codec cannot carry)."""
        return self._encode(records)

    def decode(self, payload: bytes) -> list[Any]:
        """Decode a batch; any failure, including a nesting bomb, raises :class:`FrameError`."""
        try:
            records = self._decode(payload)
        except FrameError:
            raise
        except Exception as exc:  # ValueError, RecursionError (a nesting bomb), msgpack's own
            raise FrameError(f"transport: undecodable {self.name} payload: {exc!s:.200}") from None
        if not isinstance(records, list):
            raise FrameError(f"transport: {self.name} payload is not a batch of records")
        return records

    def __repr__(self) -> str:
        return f"Codec({self.name!r})"


_json_encoder = json.JSONEncoder(default=_tag, separators=(",", ":"), ensure_ascii=False)
_json_decoder = json.JSONDecoder(object_hook=_untag)


def _json_codec() -> Codec:
    return Codec(
        "json",
        lambda records: _json_encoder.encode(records).encode("utf-8"),
        lambda payload: _json_decoder.decode(payload.decode("utf-8")),
    )


_MSGPACK_TAGS = {1: "__datetime__", 2: "__date__"}


def _msgpack_codec() -> Codec | None:
    try:
        msgpack: Any = importlib.import_module("msgpack")
    except ImportError:
        return None

    def default(obj: Any) -> Any:
        if isinstance(obj, dt.datetime):
            return msgpack.ExtType(1, obj.isoformat().encode())
        if isinstance(obj, dt.date):
            return msgpack.ExtType(2, obj.isoformat().encode())
        raise TypeError(f"transport: cannot encode {type(obj).__name__} {obj!r} with msgpack")

    def ext_hook(code: int, data: bytes) -> Any:
        tag = _MSGPACK_TAGS.get(code)
        if tag is None:
            raise FrameError(f"transport: unknown msgpack extension type {code}")
        return _TAGS[tag](data.decode())

    def encode(records: list[Any]) -> bytes:
        return msgpack.packb(records, default=default, use_bin_type=True)  # type: ignore[no-any-return]

    def decode(payload: bytes) -> list[Any]:
        return msgpack.unpackb(  # type: ignore[no-any-return]
            payload, raw=False, ext_hook=ext_hook, strict_map_key=False
        )

    return Codec("msgpack", encode, decode)


def _pickle_codec(key: bytes, nonce: bytes = b"") -> Codec:
    """Pickle signed with ``key`` over ``nonce``, the sequence number and the data."""
    sent, received = [0], [0]

    def sign(seq: bytes, data: bytes) -> bytes:
        return hmac.new(key, b"%d:" % len(nonce) + nonce + seq + data, hashlib.sha256).digest()

    def encode(records: list[Any]) -> bytes:
        data = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
        seq = _SEQ.pack(sent[0])
        sent[0] += 1
        return sign(seq, data) + seq + data

    def decode(payload: bytes) -> list[Any]:
        head = _SIG + _SEQ.size
        signature, seq, data = payload[:_SIG], payload[_SIG:head], payload[head:]
        if len(seq) != _SEQ.size or not hmac.compare_digest(signature, sign(seq, data)):
            raise FrameError(
                "transport: pickle payload with a bad signature "
                "(a wrong key, or a frame replayed from another connection)"
            )
        (number,) = _SEQ.unpack(seq)
        if number != received[0]:
            raise ReplayError(
                f"transport: signed payload number {number} replayed (expected {received[0]})"
            )
        received[0] += 1
        records: list[Any] = pickle.loads(data)
        return records

    return Codec("pickle", encode, decode, lambda n: _pickle_codec(key, n))


def available_codecs() -> list[str]:
    """Name the codecs usable here: json, msgpack when installed, and pickle (with a key).

    >>> "json" in available_codecs()
    True
    """
    names = ["json"]
    if _msgpack_codec() is not None:
        names.append("msgpack")
    return [*names, "pickle"]


def check_key(stage: str, key: object) -> bytes | None:
    """Validate a shared key argument: None, or at least 16 bytes."""
    if key is None:
        return None
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError(f"{stage}: key must be bytes, at least 16 of them, got {key!r}")
    return key


def codec_for(name: str, *, key: bytes | None = None) -> Codec:
    """Return the codec called ``name``; ``"pickle"`` needs a shared ``key`` (16+ bytes).

    >>> import datetime
    >>> c = codec_for("json")
    >>> record = {"when": datetime.datetime(2008, 2, 24, 0, 8, 59), "raw": b"\\x00"}
    >>> c.decode(c.encode([record])) == [record]
    True
    """
    if name == "json":
        return _json_codec()
    if name == "msgpack":
        codec = _msgpack_codec()
        if codec is None:
            raise ValueError("codec: 'msgpack' needs the msgpack package: pip install msgpack")
        return codec
    if name == "pickle":
        checked = check_key("codec", key)
        if checked is None:
            raise ValueError(
                "codec: 'pickle' needs a shared key, since unpickling runs the sender's code\n\n"
                "Pass key=<the same secret bytes> to both sender and receiver, or use 'json'."
            )
        return _pickle_codec(checked)
    raise ValueError(f"codec: expected one of {available_codecs()!r}, got {name!r}")
