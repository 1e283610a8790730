"""Bad input and floods: each gets its documented error or close code, and nobody else notices."""

from __future__ import annotations

import asyncio
import socket

import msgpack
import pytest
from accord.protocol import PROTOCOL_VERSION, codec
from accord.protocol import commands as C
from accord.protocol import limits as L
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Cmd, Error, Hello, Ping
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, fetch
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def _frame(**fields: object) -> bytes:
    return msgpack.packb(fields, use_bin_type=True)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


BAD_FRAMES = {
    "bad msgpack": (b"\xc1\xff\x00", "bad_frame"),
    "truncated msgpack": (_frame(t="ping", v=PROTOCOL_VERSION)[:-2], "bad_frame"),
    "not a map": (msgpack.packb([1, 2, 3]), "bad_message"),
    "wrong version": (_frame(t="ping", v=99, n=1), "version"),
    "unknown type": (_frame(t="launch", v=PROTOCOL_VERSION), "unknown_type"),
    "unknown command": (
        _frame(t="cmd", v=PROTOCOL_VERSION, op="o-x", c={"k": "self_destruct"}),
        "unknown_type",
    ),
    "wrong types": (
        _frame(t="cmd", v=PROTOCOL_VERSION, op="o-y", c={"k": "add_card", "lane": 5, "text": 1}),
        "bad_message",
    ),
    "missing field": (_frame(t="cmd", v=PROTOCOL_VERSION, op="o-z"), "bad_message"),
    "text too long": (
        _frame(
            t="cmd",
            v=PROTOCOL_VERSION,
            op="o-w",
            c={"k": "add_card", "lane": "value", "text": "x" * 600},
        ),
        "bad_message",
    ),
    "deep nesting": (_frame(t="ping", v=PROTOCOL_VERSION, n=_nested(50)), "bad_frame"),
    "binary value": (_frame(t="ping", v=PROTOCOL_VERSION, n=b"\x00"), "bad_frame"),
    "non-str keys": (msgpack.packb({1: 2}), "bad_frame"),
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
async def test_malformed_frame_gets_error_and_stays_open(relay: Relay, case: str) -> None:
    """A malformed frame gets its codec error code; the connection and the session live on."""
    data, code = BAD_FRAMES[case]
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    before = codec.encode_plain(host.session)
    await pat.send_raw(data)
    error = await pat.until(lambda m: isinstance(m, Error))
    assert isinstance(error, Error) and error.code == code and not error.fatal
    if case in ("unknown command", "wrong types", "missing field", "text too long"):
        assert error.op  # the client can match the error to its command
    assert codec.encode_plain(host.session) == before
    assert (await pat.ping()).n == 7  # still open
    await fac.ok(C.AddCard(lane="value", text="life goes on"))
    await pat.catch_up(fac.seq)  # other traffic unaffected


async def test_text_frame_closes_1003(relay: Relay) -> None:
    """A text frame gets a bad_frame error and close 1003; other members are unaffected."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await pat.send_raw('{"t": "ping"}')
    assert await pat.closed() == CloseCode.UNSUPPORTED_DATA
    assert isinstance(pat.messages[-1], Error) and pat.messages[-1].code == "bad_frame"
    await fac.ok(C.AddCard(lane="value", text="still here"))


async def test_text_hello_closes_1003(relay: Relay) -> None:
    """A text frame instead of a hello also closes with 1003."""
    client = await WireClient.open(relay.url)
    await client.send_raw("hello?")
    assert await client.closed() == CloseCode.UNSUPPORTED_DATA


async def test_oversized_frame_closes_1009(relay: Relay) -> None:
    """A frame above 64 KiB is closed with 1009 and the session carries on."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await pat.send_raw(b"\x00" * (L.MAX_CLIENT_FRAME + 1))
    assert await pat.closed() == CloseCode.TOO_BIG
    await fac.ok(C.AddCard(lane="value", text="still here"))
    assert (await fac.ping()).n == 7


async def test_second_hello_is_an_error(relay: Relay) -> None:
    """A hello on a connection that already said hello is refused and the connection stays."""
    fac = await WireClient.create(relay.url)
    await fac.send(Hello(token=fac.token))
    error = await fac.until(lambda m: isinstance(m, Error))
    assert isinstance(error, Error) and error.code == "bad_message" and not error.fatal
    assert (await fac.ping()).n == 7


async def test_rate_limit_then_flood_close(relay_factory: RelayFactory) -> None:
    """Over the token bucket a client gets rate_limited errors; a sustained flood is closed 1008."""
    relay = await relay_factory(rate_limit=2.0, rate_burst=5, flood_limit=15)
    fac = await WireClient.create(relay.url)
    for n in range(8):
        await fac.send(Ping(n=n))
    replies = [await fac.recv() for _ in range(8)]
    limited = [m for m in replies if isinstance(m, Error)]
    assert limited and all(m.code == "rate_limited" and not m.fatal for m in limited)
    assert len(replies) - len(limited) <= 6
    for n in range(40):
        await fac.send(Cmd(op=f"flood{n}", c=C.SetReady(ready=bool(n % 2))))
    assert await fac.closed() == CloseCode.POLICY


async def test_connection_caps(relay_factory: RelayFactory) -> None:
    """Over the per-address cap a handshake gets 429; over the total cap, 503."""
    relay = await relay_factory(max_connections=3, max_connections_per_ip=2)
    first = await WireClient.open(relay.url)
    await WireClient.open(relay.url)
    with pytest.raises(InvalidStatus) as per_ip:
        await connect(relay.url, open_timeout=5)
    assert per_ip.value.response.status_code == 429
    relay.admission.max_per_address = 10
    await WireClient.open(relay.url)
    with pytest.raises(InvalidStatus) as total:
        await connect(relay.url, open_timeout=5)
    assert total.value.response.status_code == 503
    assert (await fetch(relay.url.replace("ws", "http") + "/healthz"))[
        0
    ] == 200  # HTTP still served
    await first.close()
    for _ in range(100):  # the freed slot is usable again
        if relay.admission.total < 3:
            break
        await asyncio.sleep(0.01)
    again = await WireClient.open(relay.url)
    await again.close()


async def test_slow_consumer_is_dropped_and_resumes(relay_factory: RelayFactory) -> None:
    """A member who stops reading is closed with 4003 while others keep up, then resumes."""
    relay = await relay_factory(rate_limit=1e6, rate_burst=10**6, max_buffer=128 * 1024)
    fac = await WireClient.create(relay.url)
    fast = await WireClient.join(relay.url, fac.secrets.participant_code, "Fast")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", relay.port))
    ws = await connect(relay.url, sock=sock, compression=None, max_size=L.MAX_SERVER_FRAME)
    slow = WireClient(ws, relay.url)
    await slow.send(Hello(code=fac.secrets.participant_code, name="Slow"))
    await slow.expect_welcome()
    ws.transport.pause_reading()
    await fac.ok(C.AddNeed(text="seed"))
    assert fac.session is not None
    need = next(iter(fac.session.needs))
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    sent = 0
    while slow.member_id in host.listeners and sent < 8000:
        for _ in range(50):
            sent += 1
            text = f"{sent} " + "x" * 490
            command = C.EditNeed(need_id=need, text=text, why="y" * 500, success="z" * 500)
            await fac.send(Cmd(op=f"edit{sent}", c=command))
        await fac.quiet(0.005)
        await fast.quiet(0.001)
    assert slow.member_id not in host.listeners, "the slow consumer was never dropped"
    ws.transport.resume_reading()
    assert await slow.closed(10) == CloseCode.SLOW_CONSUMER
    await fac.catch_up(host.session.seq, timeout=10)
    await fast.catch_up(host.session.seq, timeout=10)
    back = await slow.resume()
    await back.catch_up(host.session.seq)
    assert back.session is not None and back.session.needs[need].text.startswith(f"{sent} ")
