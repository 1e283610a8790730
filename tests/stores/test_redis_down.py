"""Redis going away: /readyz says 503, commands are refused as retryable, nothing is lost."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from accord.protocol import commands as C
from accord.protocol.messages import Ack, Cmd
from accord.server.config import ServerConfig
from accord.server.relay import Relay
from redis_support import RedisServer
from server_support import WireClient, fetch, new_op


async def _ready(url: str) -> int:
    status, _ = await fetch(url.replace("ws://", "http://") + "/readyz")
    return status


async def test_redis_down_refuses_retryably_and_recovers(tmp_path: Path) -> None:
    """Redis killed: 503 and a 1011 close; restarted: the same op commits exactly once."""
    redis = RedisServer(tmp_path / "redis")
    await asyncio.to_thread(redis.start)
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "relay", store=redis.url)
    try:
        async with Relay(config) as relay:
            fac = await WireClient.create(relay.url)
            await fac.ok(C.AddCard(lane="value", text="before"))
            assert await _ready(relay.url) == 200

            await asyncio.to_thread(redis.stop, signal.SIGKILL)
            assert await _ready(relay.url) == 503
            op = new_op()
            await fac.send(Cmd(op=op, c=C.AddCard(lane="value", text="during")))
            assert await fac.closed() == 1011  # reconnect with backoff and resume

            await asyncio.to_thread(redis.start)  # same port, same append-only file
            deadline = time.monotonic() + 10
            while await _ready(relay.url) != 200:
                assert time.monotonic() < deadline, "the relay never became ready again"
                await asyncio.sleep(0.05)
            back = await fac.resume()
            assert back.welcome is not None and back.welcome.epoch == fac.epoch
            for _ in range(2):  # the client retries with the same op id; it counts once
                await back.send(Cmd(op=op, c=C.AddCard(lane="value", text="during")))
                reply = await back.until(lambda m: isinstance(m, Ack) and m.op == op)
                assert isinstance(reply, Ack)
            assert isinstance(reply, Ack)
            await back.catch_up(reply.seq)
            assert back.session is not None
            assert sorted(c.text for c in back.session.cards.values()) == ["before", "during"]
    finally:
        await asyncio.to_thread(redis.stop, signal.SIGKILL)
