"""The relay: a websockets server in front of the session hub and its store."""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
from collections.abc import Callable
from types import TracebackType

from accord.protocol import limits as L
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Origin

from .admission import Admission
from .closing import abort
from .commits import Committer
from .config import ServerConfig
from .connection import ClientHandler, Services
from .guards import Guards
from .host_sync import Feed
from .hub import Hub
from .metrics import Metrics
from .private import private_dir
from .routes import Routes
from .sealing import Sealer, SealError
from .storage import SqliteStore
from .store import Store, StoreError

log = logging.getLogger("accord.server")

#: Seconds to wait for a client's close frame before dropping the TCP connection.
CLOSE_TIMEOUT = 5.0


class StartError(Exception):
    """The relay could not start (port in use, bad TLS files, unusable data dir); one line."""


def tls_context(config: ServerConfig) -> ssl.SSLContext | None:
    """The server TLS context for the configured cert and key, or None without TLS.

    Raises:
        StartError: if the files are missing or not a matching cert and key.
    """
    if config.tls_cert is None or config.tls_key is None:
        return None
    for name, path in (("tls_cert", config.tls_cert), ("tls_key", config.tls_key)):
        if not path.is_file():
            raise StartError(f"tls: {name}: {path}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (ssl.SSLError, OSError) as exc:
        raise StartError(
            f"tls: cannot use {config.tls_cert} with {config.tls_key} ({exc})"
        ) from None
    return context


def open_store(
    config: ServerConfig, sealer: Sealer | None = None, durability: str | None = ""
) -> Store:
    """The store the config names: SQLite in the data dir, or a shared Redis.

    ``sealer`` opens the ballots sealed at rest. ``durability`` defaults to the
    config's; tools beside a running relay pass None (see ``SqliteStore``).

    Raises:
        StartError: if Redis is asked for but its client library is not installed.
    """
    if not config.store:
        mode = config.durability if durability == "" else durability
        return SqliteStore(config.db_path, sealer, durability=mode)
    from .redis_store import RedisStore, RedisUnavailable

    try:
        return RedisStore(config.store, sealer)
    except RedisUnavailable as exc:
        raise StartError(f"store: {exc}") from None
    except ValueError as exc:  # a URL redis-py cannot parse
        raise StartError(f"store: {config.store}: {exc}") from None


class Relay:
    """Serves sessions over websockets; ``async with Relay(config) as relay:``."""

    def __init__(self, config: ServerConfig, store: Store | None = None) -> None:
        self.config = config
        self.metrics = Metrics()
        #: seals ballots at rest; its key file is read (or made) when the relay starts
        self.sealer = Sealer(config.ballot_key_path)
        self.store: Store = store if store is not None else open_store(config, self.sealer)
        self.committer = Committer(self.store, self.metrics)
        self.guards = Guards(config)
        # A store shared by several relays brings news of what the others commit.
        new_feed: Callable[[], Feed] | None = getattr(self.store, "new_feed", None)
        self.feed = new_feed() if new_feed is not None else None
        self.hub = Hub(
            config,
            self.store,
            self.committer,
            self.metrics,
            disk=self.guards.disk,
            sealer=self.sealer,
            feed=self.feed,
        )
        self.admission = Admission(config.max_connections, config.max_connections_per_ip)
        self._services = Services(config, self.hub, self.store, self.metrics, self.guards)
        self._server: Server | None = None
        self._tls = False
        self._closing = False
        self._store_open = False

    # ---- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store and start listening.

        Raises:
            StartError: if the store cannot be opened, TLS is misconfigured or the port is taken.
        """
        context = tls_context(self.config)
        self._tls = context is not None
        try:
            await asyncio.to_thread(self._prepare_data)
            await self.store.open()
        except StoreError as exc:
            raise StartError(f"data: {exc}") from None
        except (OSError, SealError) as exc:
            raise StartError(f"data: {exc}") from None
        self._store_open = True
        if self.feed is not None:
            await self.feed.start()
        self.committer.start()
        self.hub.start()
        try:
            self.metrics.sessions_stored.set(await self.store.count())
        except StoreError as exc:
            log.warning("could not count sessions: %s", exc)
        routes = Routes(
            self.store,
            self.metrics,
            self.admission,
            self.config.trust_proxy,
            lambda: self._closing,
            self.guards.disk,
        )
        origins: list[Origin | None] | None = None
        if self.config.origins:
            origins = [Origin(o) for o in self.config.origins] + [None]
        try:
            self._server = await serve(
                self._handle,
                self.config.host,
                self.config.port,
                process_request=routes,
                max_size=L.MAX_CLIENT_FRAME,
                compression="deflate" if self.config.compression else None,
                ping_interval=self.config.ping_interval,
                ping_timeout=self.config.ping_timeout,
                open_timeout=max(self.config.hello_timeout, 1.0),
                close_timeout=CLOSE_TIMEOUT,
                origins=origins,
                ssl=context,
                server_header="accord",
            )
        except OSError as exc:
            await self._shutdown_storage()
            where = f"{self.config.host}:{self.config.port}"
            if exc.errno == errno.EADDRINUSE:
                raise StartError(f"cannot listen on {where}: the address is in use") from None
            raise StartError(f"cannot listen on {where}: {exc.strerror or exc}") from None

    def _prepare_data(self) -> None:
        """The data dir 0700 and the ballot key (made 0600 if missing), before the store opens."""
        private_dir(self.config.data_dir)
        if self.config.ballot_key_file is not None:
            private_dir(self.config.ballot_key_file.parent)
        self.sealer.load()

    async def close(self) -> None:
        """Stop accepting, close clients with 1001, finish and flush storage. Idempotent."""
        if self._closing:
            return
        self._closing = True
        if self._server is not None:
            self._server.close()  # refuses new handshakes, closes clients with 1001
            await self._server.wait_closed()
        await self._shutdown_storage()
        log.info("relay stopped")

    async def _shutdown_storage(self) -> None:
        await self.hub.close()
        await self.committer.stop()
        if self.feed is not None:
            await self.feed.close()
        if self._store_open:
            self._store_open = False
            await self.store.close()

    async def __aenter__(self) -> Relay:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait_closed(self) -> None:
        """Return when the server stopped listening."""
        if self._server is not None:
            await self._server.wait_closed()

    # ---- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("the relay is not started")
        for sock in self._server.sockets:
            return int(sock.getsockname()[1])
        raise RuntimeError("the relay has no listening socket")

    @property
    def url(self) -> str:
        """``ws://host:port`` (or ``wss://``) for clients."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "wss" if self._tls else "ws"
        return f"{scheme}://{host}:{self.port}"

    # ---- connections -------------------------------------------------------------------

    async def _handle(self, conn: ServerConnection) -> None:
        try:
            await ClientHandler(conn, self._services).serve()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a relay bug: one line, never let a client crash the server
            log.error("connection handler failed: %s: %s", type(exc).__name__, exc)
            log.debug("connection handler failure", exc_info=True)
            abort(conn)
