"""A minimal websocket client on a raw asyncio socket, for cheap fan-out receivers.

It does the HTTP upgrade, parses server frames without any per-frame
allocation beyond the payload, answers pings and closes, and sends masked
frames. It has no extensions (so no compression) and no keepalive of its own.
Tests also use it to send what a real client never would: text frames,
unmasked frames, garbage bytes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C speedups
    from websockets.utils import apply_mask

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

FrameHandler = Callable[["RawClient", bytes, float], None]


class HandshakeError(Exception):
    """The server did not answer the upgrade with 101 Switching Protocols."""


def encode_frame(opcode: int, payload: bytes, *, mask: bool = True, fin: bool = True) -> bytes:
    """One websocket frame; client frames are masked unless ``mask`` is False."""
    n = len(payload)
    head = bytearray([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head.append(bit | n)
    elif n < 65536:
        head.append(bit | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(bit | 127)
        head += n.to_bytes(8, "big")
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    return bytes(head) + key + apply_mask(payload, key)


class RawClient(asyncio.Protocol):
    """One websocket connection driven by ``data_received``; frames go to ``on_frame``.

    ``on_frame(client, payload, monotonic_time)`` runs for each text or binary
    message. Without a handler, payloads are appended to ``frames``.
    """

    def __init__(self, on_frame: FrameHandler | None = None) -> None:
        self.on_frame = on_frame
        self.frames: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.close_code: int | None = None
        self.received = 0
        self.tag: object = None
        self._fragments: list[bytes] = []
        loop = asyncio.get_running_loop()
        self._opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._waiters: list[tuple[Callable[[bytes], bool], asyncio.Future[bytes]]] = []

    # ---- connecting ---------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str = "/",
        on_frame: FrameHandler | None = None,
        timeout: float = 10.0,
    ) -> RawClient:
        """Open a TCP connection and complete the websocket upgrade.

        Raises:
            HandshakeError: if the server refuses the upgrade.
            OSError, TimeoutError: if the connection fails or takes too long.
        """
        loop = asyncio.get_running_loop()
        client = cls(on_frame)
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: client, host, port)
            client.send_upgrade(host, port, path)
            await client._opened
        return client

    def send_upgrade(self, host: str, port: int, path: str) -> None:
        """Write the HTTP upgrade request."""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.write(request.encode())

    # ---- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # create_connection gives a Transport
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._opened.done():
            self._opened.set_exception(exc or ConnectionResetError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(ConnectionResetError("connection closed"))
        self._waiters.clear()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 16384 and not self._opened.done():
                    self._opened.set_exception(HandshakeError("response headers too long"))
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                if not self._opened.done():
                    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
                    self._opened.set_exception(HandshakeError(status))
                self.abort()
                return
            self.upgraded = True
            if not self._opened.done():
                self._opened.set_result(None)
        self._parse()

    def _parse(self) -> None:
        buf = self.buffer
        size = len(buf)
        pos = 0
        now = time.perf_counter()
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            start = pos + 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + n
            if end > size:
                break
            payload = bytes(buf[start:end])
            pos = end
            self._frame(b0 & 0x80 != 0, b0 & 0x0F, payload, now)
        if pos:
            del buf[:pos]

    def _frame(self, fin: bool, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self.received += 1
            if self._waiters:
                self._wake(payload)
            if self.on_frame is not None:
                self.on_frame(self, payload, now)
            else:
                self.frames.append(payload)
        elif opcode == OP_PING:
            self.write(encode_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.write(encode_frame(OP_CLOSE, payload[:2]))
            if self.transport is not None:
                self.transport.close()

    def _wake(self, payload: bytes) -> None:
        keep = []
        for match, fut in self._waiters:
            if fut.done():
                continue
            if match(payload):
                fut.set_result(payload)
            else:
                keep.append((match, fut))
        self._waiters = keep

    # ---- using it -----------------------------------------------------------

    def wait_for(self, match: Callable[[bytes], bool]) -> asyncio.Future[bytes]:
        """A future for the next message whose payload satisfies ``match``."""
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if self.closed.done():
            fut.set_exception(ConnectionResetError("connection closed"))
        else:
            self._waiters.append((match, fut))
        return fut

    def write(self, data: bytes) -> None:
        """Write raw bytes (frames, or anything at all) if the socket is open."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send(self, payload: bytes) -> None:
        """Send one binary message."""
        self.write(encode_frame(OP_BINARY, payload))

    @property
    def is_open(self) -> bool:
        """True while the TCP connection is up."""
        return not self.closed.done()

    async def close(self, code: int = 1000, timeout: float = 2.0) -> None:
        """Close with a close frame, waiting briefly for the server's answer."""
        if self.closed.done():
            return
        self.write(encode_frame(OP_CLOSE, code.to_bytes(2, "big")))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.closed)
        except TimeoutError:
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once, with no close frame."""
        if self.transport is not None:
            self.transport.abort()
