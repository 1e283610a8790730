"""Ending a websocket for sure: a fixed, byte-bounded close reason, and abort if closing fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from accord.protocol.errors import CloseCode, ErrorCode
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("accord.server.connection")

#: A close frame's payload is at most 125 bytes, 2 of them the code.
REASON_BYTES = 123
#: Seconds a close may take (error frame, close frame, the peer's answer) before an abort.
CLOSE_DEADLINE = 6.0

#: The one reason sent with each close code. Reasons never carry client input: the
#: error frame before the close says what was wrong, to that client only.
REASONS: dict[CloseCode, str] = {
    CloseCode.NORMAL: "closed",
    CloseCode.GOING_AWAY: "relay shutting down; reconnect",
    CloseCode.UNSUPPORTED_DATA: "frames are binary msgpack",
    CloseCode.POLICY: "too many frames",
    CloseCode.TOO_BIG: "frame too big",
    CloseCode.INTERNAL: "relay error; reconnect",
    CloseCode.UNAUTHORIZED: "unauthorized",
    CloseCode.HELLO_TIMEOUT: "no hello in time",
    CloseCode.SLOW_CONSUMER: "too far behind; reconnect and resume",
    CloseCode.SESSION_GONE: "session gone",
    CloseCode.BAD_HELLO: "bad hello",
    CloseCode.MEMBER_REMOVED: "removed from the session",
}


def cut_reason(text: str) -> str:
    """``text`` cut to at most ``REASON_BYTES`` bytes of UTF-8, never inside a character."""
    data = text.encode("utf-8", "replace")
    if len(data) <= REASON_BYTES:
        return text
    return data[:REASON_BYTES].decode("utf-8", "ignore")


def reason_for(code: CloseCode) -> str:
    """The fixed close reason for ``code``."""
    return REASONS.get(code, "closed")


def abort(conn: ServerConnection) -> None:
    """Drop the TCP connection now, without a closing handshake."""
    transport = conn.transport
    if transport is not None:
        transport.abort()


async def close_or_abort(conn: ServerConnection, code: CloseCode, reason: str = "") -> None:
    """Close with ``code``; if that fails or takes too long, abort the transport.

    Never raises: a connection that cannot be closed politely is dropped.
    """
    reason = cut_reason(reason or reason_for(code))
    try:
        async with asyncio.timeout(CLOSE_DEADLINE):
            await conn.close(int(code), reason)
    except (TimeoutError, ConnectionClosed, OSError) as exc:
        log.debug("close did not finish; aborting", extra={"error": type(exc).__name__})
        abort(conn)
    except Exception as exc:  # websockets refusing the frame, a broken transport, ...
        log.warning("could not close a connection (%s); aborting it", type(exc).__name__)
        abort(conn)


async def drain_and_close(conn: ServerConnection, code: CloseCode) -> None:
    """Close with ``code``'s reason while discarding what the client still sends.

    A flooding client may have filled the receive queue, which pauses reading;
    draining lets its close frame arrive so the handshake can end. The whole
    thing has a deadline, after which the transport is aborted.
    """
    closing = asyncio.create_task(close_or_abort(conn, code))
    try:
        async with asyncio.timeout(CLOSE_DEADLINE + 1.0):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await conn.recv()
    except TimeoutError:
        abort(conn)
    finally:
        await closing


class Refused(Exception):
    """The connection must end: an error frame is sent, then a close with ``close_code``."""

    def __init__(self, code: ErrorCode, message: str, close_code: CloseCode) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code
