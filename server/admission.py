"""Who may open a connection: the total and per-address caps, and the client's address."""

from __future__ import annotations

import collections
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request


def client_address(conn: ServerConnection, request: Request | None, trust_proxy: bool) -> str:
    """The client's IP: the peer, or the proxy's ``X-Forwarded-For``/``X-Real-IP`` if trusted."""
    if trust_proxy and request is not None:
        forwarded = request.headers.get("X-Forwarded-For")
        if forwarded:
            return forwarded.split(",")[-1].strip()
        real = request.headers.get("X-Real-IP")
        if real:
            return real.strip()
    peer = conn.remote_address
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return "unknown"


class Admission:
    """Counts open connections in total and per client address, and refuses over the caps."""

    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.total = 0
        self._per_address: collections.Counter[str] = collections.Counter()

    def refusal(self, address: str) -> tuple[HTTPStatus, str] | None:
        """Why a new connection from ``address`` must be refused now, if it must."""
        if self.total >= self.max_total:
            return HTTPStatus.SERVICE_UNAVAILABLE, "This relay is at its connection limit.\n"
        if self._per_address[address] >= self.max_per_address:
            return HTTPStatus.TOO_MANY_REQUESTS, "Too many connections from your address.\n"
        return None

    def enter(self, address: str) -> None:
        """Count a connection that was accepted."""
        self.total += 1
        self._per_address[address] += 1

    def leave(self, address: str) -> None:
        """Stop counting a connection that ended."""
        self.total -= 1
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]
