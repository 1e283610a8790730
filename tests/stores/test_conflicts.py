"""A lost append race is re-validated and retried; it never tells a client the session is gone."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.protocol.messages import Ack
from accord.server.config import ServerConfig
from accord.server.relay import Relay
from server_support import WireClient, same_board

Start = Callable[[], Awaitable[Relay]]


@pytest.fixture
async def sqlite_relays(tmp_path: Path) -> AsyncIterator[Start]:
    """Relays in this process sharing one SQLite file (a store written by two relays)."""
    started: list[Relay] = []

    async def start() -> Relay:
        config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "shared")
        relay = Relay(config)
        await relay.start()
        started.append(relay)
        return relay

    yield start
    for relay in reversed(started):
        await relay.close()


async def test_a_stale_relay_revalidates_and_commits(sqlite_relays: Start) -> None:
    """A relay whose copy is behind loses the append, catches up, and acks the command."""
    a, b = await sqlite_relays(), await sqlite_relays()
    fac = await WireClient.create(a.url)
    pat = await WireClient.join(b.url, fac.secrets.participant_code, "Pat")
    # Without a feed neither relay hears of the other's writes: a's copy misses Pat's
    # join, so this append loses the race too, and a catches up before committing it.
    await fac.ok(C.AddCard(lane="value", text="written on a"))
    assert a.metrics.store_conflicts._value.get() == 1

    reply = await pat.cmd(C.AddCard(lane="value", text="written on b"))
    assert isinstance(reply, Ack) and reply.seq == fac.seq + 1
    await pat.catch_up(reply.seq)  # a's event first, then its own, with no gap
    assert pat.session is not None
    assert sorted(c.text for c in pat.session.cards.values()) == ["written on a", "written on b"]
    assert b.metrics.store_conflicts._value.get() == 1
    await fac.catch_up(reply.seq - 1)
    assert same_board(b.hub.hosts[pat.session.id].session, pat)


async def test_a_refusal_after_catching_up_is_a_plain_error(sqlite_relays: Start) -> None:
    """A command that the other relay's write made invalid is refused, not lost or applied."""
    a, b = await sqlite_relays(), await sqlite_relays()
    fac_a = await WireClient.create(a.url)
    await fac_a.ok(C.AddCard(lane="value", text="doomed"))
    assert fac_a.session is not None
    fac_b = await fac_a.resume(b.url)  # b loads the session with the card
    fac_b.session = copy.deepcopy(fac_b.session)  # resume() shares the board object
    card_id = next(iter(fac_a.session.cards))
    await fac_a.ok(C.DeleteCard(card_id=card_id))  # b does not hear of it
    reply = await fac_b.cmd(C.DeleteCard(card_id=card_id))
    assert not isinstance(reply, Ack) and reply.code == "not_found"
    assert b.metrics.store_conflicts._value.get() == 1
    await fac_b.catch_up(fac_a.seq)  # the delete made on a reached b's member
    assert fac_b.session is not None and card_id not in fac_b.session.cards
    assert b.hub.hosts[fac_a.session.id].session.seq == fac_a.seq
