"""HTTP on the websocket port: /healthz, /readyz, /metrics, and the caps before an upgrade."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from prometheus_client import CONTENT_TYPE_LATEST
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .admission import Admission, client_address
from .guards import DiskGuard
from .metrics import Metrics
from .store import Store

log = logging.getLogger("accord.server.http")


class Routes:
    """The ``process_request`` hook: answers plain HTTP routes and refuses over-cap upgrades."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        admission: Admission,
        trust_proxy: bool,
        closing: Callable[[], bool],
        disk: DiskGuard | None = None,
    ) -> None:
        self._disk = disk
        self._store = store
        self._metrics = metrics
        self._admission = admission
        self._trust_proxy = trust_proxy
        self._closing = closing

    async def __call__(self, conn: ServerConnection, request: Request) -> Response | None:
        """Answer an HTTP route, refuse a connection over a cap, or let the upgrade go on."""
        path = request.path.partition("?")[0]
        if path == "/healthz":
            return conn.respond(HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            return await self._readiness(conn)
        if path == "/metrics":
            body = self._metrics.render()
            headers = Headers([("Content-Type", CONTENT_TYPE_LATEST)])
            headers["Content-Length"] = str(len(body))
            return Response(HTTPStatus.OK, "OK", headers, body)
        address = client_address(conn, request, self._trust_proxy)
        refusal = self._admission.refusal(address)
        if refusal is not None:
            status, text = refusal
            reason = "total" if status == HTTPStatus.SERVICE_UNAVAILABLE else "per_address"
            self._metrics.rejected.labels(reason).inc()
            log.debug("connection refused", extra={"address": address, "status": int(status)})
            return conn.respond(status, text)
        # Count it from now until the TCP connection is gone, however the handshake ends.
        self._admission.enter(address)
        conn.connection_lost_waiter.add_done_callback(lambda _: self._admission.leave(address))
        return None

    async def _readiness(self, conn: ServerConnection) -> Response:
        """200 when the relay takes writes; 503 with the reason when it cannot."""
        unavailable = HTTPStatus.SERVICE_UNAVAILABLE
        if self._closing():
            return conn.respond(unavailable, "not ready: shutting down\n")
        shortage = self._disk.shortage() if self._disk is not None else ""
        if shortage:
            return conn.respond(unavailable, f"not ready: disk nearly full ({shortage})\n")
        if not await self._store.writable():
            return conn.respond(unavailable, "not ready: storage unavailable\n")
        return conn.respond(HTTPStatus.OK, "ready\n")
