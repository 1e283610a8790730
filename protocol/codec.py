"""The msgpack codec: bytes to typed messages and back, never raising anything else.

A frame is a msgpack map with ``t`` (message type) and ``v`` (protocol
version). Only maps, arrays, str, int, float, bool and nil appear on the wire.
"""

from __future__ import annotations

import reprlib
from typing import Any

import msgpack

from . import PROTOCOL_VERSION
from . import limits as L
from .errors import ErrorCode, ProtocolError
from .events import Event
from .messages import CLIENT_TYPES, SERVER_TYPES, ClientMessage, ServerMessage
from .schema import decode_as, encode_value
from .text import problem

_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ProtocolError(ErrorCode.BAD_FRAME, f"frame: msgpack ext type {code} is not allowed")


def encode(message: Any) -> bytes:
    """Encode a message dataclass into one binary frame."""
    frame: dict[str, Any] = {"t": "event" if type(message) is Event else message.TYPE}
    frame["v"] = PROTOCOL_VERSION
    frame.update(encode_value(message))
    return msgpack.packb(frame, use_bin_type=True)


class EncodedEvent:
    """An event encoded once: its stored form, and its frames with and without the op id.

    The body is turned into plain values one time; storage and the wire (the
    author's frame and everyone else's) are packed from that one value. The
    frames are byte for byte what ``encode`` gives for the event and for the
    event with ``op=""``.
    """

    __slots__ = ("_plain", "stored")

    def __init__(self, event: Event | None, stored: bytes = b"") -> None:
        if event is None:  # from its stored form: unpacking is cheaper than a fresh walk
            self._plain: dict[str, Any] = msgpack.unpackb(stored, raw=False)
            self.stored: bytes = stored
        else:
            self._plain = encode_value(event)
            self.stored = msgpack.packb(self._plain, use_bin_type=True)

    @classmethod
    def from_stored(cls, stored: bytes) -> EncodedEvent:
        """The encodings of an event read back from storage (already checked by decoding)."""
        return cls(None, stored)

    def frame(self, op: bool) -> bytes:
        """The wire frame, with the author's op id (``op``) or with it blanked."""
        frame: dict[str, Any] = {"t": "event", "v": PROTOCOL_VERSION}
        frame.update(self._plain)
        if not op:
            frame["op"] = ""
        return msgpack.packb(frame, use_bin_type=True)


def encode_plain(value: Any) -> bytes:
    """Encode a plain value (e.g. a stored event or snapshot) with the wire rules."""
    return msgpack.packb(encode_value(value), use_bin_type=True)


def unpack(data: bytes, max_size: int) -> Any:
    """Unpack msgpack bytes into plain values, checking size, depth and allowed types.

    Raises:
        ProtocolError: ``too_large`` or ``bad_frame``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(ErrorCode.BAD_FRAME, "frame: expected binary msgpack, got text")
    if len(data) > max_size:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"frame: {len(data)} bytes is over the limit of {max_size}"
        )
    try:
        value = msgpack.unpackb(
            data, raw=False, strict_map_key=True, ext_hook=_refuse_ext, timestamp=0
        )
    except ProtocolError:
        raise
    except Exception as exc:  # msgpack raises many types (ValueError, StackError, ...)
        raise ProtocolError(ErrorCode.BAD_FRAME, f"frame: not valid msgpack ({exc})") from None
    _check_plain(value)
    return value


def _check_plain(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > L.MAX_DEPTH:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"frame: nested deeper than {L.MAX_DEPTH}")
        kind = type(item)
        if kind is dict:
            for k, v in item.items():
                if type(k) is not str:
                    raise ProtocolError(ErrorCode.BAD_FRAME, "frame: map keys must be str")
                stack.append((v, depth + 1))
        elif kind is list:
            stack.extend((v, depth + 1) for v in item)
        elif kind not in _PLAIN_SCALARS:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"frame: {kind.__name__} values are not used")


def _decode(data: bytes, types: dict[str, type], max_size: int) -> Any:
    frame = unpack(data, max_size)
    if type(frame) is not dict:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "frame: expected a map")
    version = frame.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.VERSION,
            f"v: this side speaks protocol {PROTOCOL_VERSION}, the frame says "
            f"{reprlib.repr(version)}",
        )
    kind = frame.get("t")
    cls = types.get(kind) if type(kind) is str else None
    if cls is None:
        wrong = problem(kind) if type(kind) is str else None
        if wrong is not None:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"t: {wrong}")
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"t: unknown message type {reprlib.repr(kind)}")
    return decode_as(cls, frame)


def decode_client(data: bytes) -> ClientMessage:
    """Decode a frame a client sent.

    Raises:
        ProtocolError: for anything that is not a valid client message.
    """
    msg: ClientMessage = _decode(data, CLIENT_TYPES, L.MAX_CLIENT_FRAME)
    return msg


def decode_server(data: bytes) -> ServerMessage:
    """Decode a frame the relay sent.

    Raises:
        ProtocolError: for anything that is not a valid server message.
    """
    msg: ServerMessage = _decode(data, SERVER_TYPES, L.MAX_SERVER_FRAME)
    return msg
