"""Frame writing for one session: batched socket writes and the slow-consumer bound."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import State

log = logging.getLogger("accord.relay")


class FrameWriter:
    """Writes frames to a session's connections and drops any that fall too far behind.

    Inside ``batch()`` frames are queued per connection and written with one socket
    write each at the end: a batch often holds several events and an ack for the same
    connections, and a syscall per frame was the largest cost of a fan-out
    (docs/performance.md). Outside a batch, ``send`` uses ``websockets.broadcast``.
    """

    def __init__(
        self, name: str, max_buffer: int, drop: Callable[[ServerConnection], None]
    ) -> None:
        self._name = name
        self._max_buffer = max_buffer
        self._drop = drop
        self._pending: dict[ServerConnection, list[bytes]] | None = None

    def send(self, frame: bytes, conns: list[ServerConnection]) -> None:
        """Write ``frame`` to ``conns`` now, or queue it while a batch is open."""
        if not conns:
            return
        pending = self._pending
        if pending is not None:
            for conn in conns:
                pending.setdefault(conn, []).append(frame)
            return
        broadcast(conns, frame)
        for conn in conns:
            self._check_backlog(conn)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Queue every ``send`` in the block; write once per connection when it ends."""
        pending: dict[ServerConnection, list[bytes]] = {}
        self._pending = pending
        try:
            yield
        finally:
            self._pending = None
        for conn, frames in pending.items():
            if conn.protocol.state is not State.OPEN or conn.send_in_progress is not None:
                continue  # as broadcast() does: closing, or mid-way through a fragmented send
            try:
                for frame in frames:
                    conn.protocol.send_binary(frame)
                conn.transport.write(b"".join(conn.protocol.data_to_send()))
            except Exception as exc:  # as broadcast(): one bad socket must not stop the rest
                log.warning("session %s: could not write to a client: %s", self._name, exc)
                continue
            self._check_backlog(conn)

    def _check_backlog(self, conn: ServerConnection) -> None:
        transport = conn.transport
        if transport is not None and transport.get_write_buffer_size() > self._max_buffer:
            self._drop(conn)
