"""The client retries a create or join whose welcome was lost, and gets one session or member."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

from accord.client import Connection
from accord.protocol import limits as L
from accord.protocol.codec import decode_server
from accord.protocol.commands import AddCard
from accord.protocol.messages import Create, Hello, Welcome
from client_support import wait_until
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def quick() -> Generator[float]:
    """Reconnect delays for tests: retry every 50 ms."""
    while True:
        yield 0.05


class WelcomeEater:
    """A websocket proxy that loses the relay's first welcome: it forwards the intro,
    waits until the relay has welcomed it (so the create or join is committed), then
    cuts the client off without passing the welcome on. Later connections pass through.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.intros: list[bytes] = []
        self.eaten: list[Welcome] = []
        self._server: Server | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; returns the URL to dial."""
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=L.MAX_SERVER_FRAME)
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def close(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, client: ServerConnection) -> None:
        async with connect(self.upstream, max_size=L.MAX_SERVER_FRAME) as relay:
            intro = await client.recv()
            assert isinstance(intro, bytes)
            self.intros.append(intro)
            await relay.send(intro)
            if len(self.intros) == 1:
                welcome = decode_server(await relay.recv())  # type: ignore[arg-type]
                assert isinstance(welcome, Welcome)
                self.eaten.append(welcome)
                client.transport.abort()  # the link dies; the welcome never arrives
                return
            await _pipe(client, relay)


async def _pipe(client: ServerConnection, relay: ClientConnection) -> None:
    async def copy(src: Any, dst: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in src:
                await dst.send(frame)

    tasks = [asyncio.ensure_future(copy(client, relay)), asyncio.ensure_future(copy(relay, client))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_join_retried_after_a_lost_welcome_makes_one_member(relay: Any) -> None:
    """A join whose welcome is lost is retried with its claim and ends as one member, not two."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    proxy = WelcomeEater(relay.url)
    url = await proxy.start()
    pat = Connection(url, Hello(code=fac.secrets.participant_code, name="Pat"), delays=quick)
    try:
        await pat.start(timeout=10)
        assert len(proxy.intros) == 2 and proxy.intros[0] == proxy.intros[1]
        assert pat.member_id == proxy.eaten[0].member_id
        assert pat.token == proxy.eaten[0].token
        await pat.send(AddCard("value", "One of me"))
        await wait_until(fac, lambda c: c.session is not None and len(c.session.cards) == 1, 5)
        assert fac.session is not None
        assert sorted(m.name for m in fac.session.members.values()) == ["Fay", "Pat"]
    finally:
        await pat.close()
        await fac.close()
        await proxy.close()


async def test_create_retried_after_a_lost_welcome_makes_one_session(relay: Any) -> None:
    """A create whose welcome is lost is retried and ends as one session with working codes."""
    proxy = WelcomeEater(relay.url)
    url = await proxy.start()
    fac = Connection(url, Create(question="Which way?", name="Fay"), delays=quick)
    try:
        await fac.start(timeout=10)
        assert len(proxy.intros) == 2
        assert await relay.store.count() == 1
        first = proxy.eaten[0]
        assert (fac.session, fac.member_id) != (None, "")
        assert fac.session is not None and fac.session.id == first.session_id
        assert fac.secrets is not None and fac.secrets == first.secrets
        pat = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Pat"))
        await pat.start(timeout=10)
        await wait_until(fac, lambda c: c.session is not None and len(c.session.members) == 2, 5)
        await pat.close()
    finally:
        await fac.close()
        await proxy.close()
