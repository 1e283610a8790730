"""Every connection ends: hostile first frames and silent sockets are closed in time."""

from __future__ import annotations

import asyncio
import time

import msgpack
from accord.protocol import PROTOCOL_VERSION
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Error
from accord.server.closing import REASON_BYTES, cut_reason
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, fetch

#: A type name of 4-byte characters: 120 of them are 480 bytes of UTF-8.
WIDE = "\U0001d54f" * 120


def metric(text: str, name: str) -> float:
    """The value of an unlabelled metric in a /metrics scrape."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the scrape")


async def gauges(relay: Relay) -> tuple[float, float]:
    """(welcomed, unwelcomed) connections as /metrics reports them."""
    status, text = await fetch(relay.url.replace("ws", "http") + "/metrics")
    assert status == 200
    return metric(text, "accord_connections"), metric(text, "accord_connections_unwelcomed")


def test_close_reasons_are_cut_by_bytes() -> None:
    """A reason is cut to 123 bytes of UTF-8 on a character boundary."""
    cut = cut_reason(WIDE)
    assert len(cut.encode()) <= REASON_BYTES
    assert WIDE.startswith(cut) and len(cut) == REASON_BYTES // 4
    assert cut_reason("short") == "short"


async def test_hostile_and_silent_connections_all_end(relay_factory: RelayFactory) -> None:
    """50 connections with a wide-character type or no hello at all are closed within the deadline.

    Their close reasons echo nothing they sent, the gauges go back to zero, and a
    normal client from the same address is admitted afterwards.
    """
    relay = await relay_factory(hello_timeout=1.0, max_connections_per_ip=50)
    wide = await asyncio.gather(*(WireClient.open(relay.url) for _ in range(25)))
    silent = await asyncio.gather(*(WireClient.open(relay.url) for _ in range(25)))
    assert relay.admission.total == 50
    assert (await gauges(relay)) == (0, 50)
    frame = msgpack.packb({"t": WIDE, "v": PROTOCOL_VERSION}, use_bin_type=True)
    started = time.monotonic()
    await asyncio.gather(*(c.send_raw(frame) for c in wide))
    codes = await asyncio.gather(*(c.closed(timeout=10) for c in wide + silent))
    elapsed = time.monotonic() - started
    assert codes == [CloseCode.BAD_HELLO] * 25 + [CloseCode.HELLO_TIMEOUT] * 25
    assert elapsed < 5.0, f"closing took {elapsed:.1f} s"
    for client in wide:
        reason = client.ws.close_reason or ""
        assert "\U0001d54f" not in reason and len(reason.encode()) <= REASON_BYTES
        error = client.messages[-1]
        assert isinstance(error, Error) and error.fatal and error.code == "unknown_type"
    for _ in range(200):
        if relay.admission.total == 0 and (await gauges(relay)) == (0, 0):
            break
        await asyncio.sleep(0.02)
    assert relay.admission.total == 0
    assert (await gauges(relay)) == (0, 0)
    fac = await WireClient.create(relay.url)
    assert (await gauges(relay)) == (1, 0)
    await fac.close()


async def test_no_traceback_for_hostile_hellos(relay_factory: RelayFactory, caplog: object) -> None:
    """A refused hello logs no traceback: at most one short line per connection."""
    import logging

    import pytest

    assert isinstance(caplog, pytest.LogCaptureFixture)
    caplog.set_level(logging.DEBUG)
    relay = await relay_factory()
    client = await WireClient.open(relay.url)
    await client.send_raw(msgpack.packb({"t": WIDE, "v": PROTOCOL_VERSION}, use_bin_type=True))
    assert await client.closed() == CloseCode.BAD_HELLO
    for _ in range(100):
        if relay.admission.total == 0:
            break
        await asyncio.sleep(0.02)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_peer_that_never_answers_the_close_is_dropped(relay_factory: RelayFactory) -> None:
    """A client that stops reading after a bad hello is still disconnected within the deadline."""
    relay = await relay_factory(hello_timeout=1.0)
    client = await WireClient.open(relay.url)
    await client.send_raw(msgpack.packb({"t": WIDE, "v": PROTOCOL_VERSION}, use_bin_type=True))
    client.ws.transport.pause_reading()  # it will never see the error or answer the close
    started = time.monotonic()
    while relay.admission.total and time.monotonic() - started < 15:
        await asyncio.sleep(0.05)
    assert relay.admission.total == 0, "the connection outlived every deadline"
    assert (await gauges(relay)) == (0, 0)
    client.ws.transport.abort()
