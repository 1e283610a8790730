"""Retries: a command sent again with the same op id is acknowledged again, applied once."""

from __future__ import annotations

from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol.messages import Ack, Error, Pong
from accord.server.relay import Relay
from server_support import WireClient


async def test_retry_on_same_connection_is_applied_once(relay: Relay) -> None:
    """The same op twice gets the first seq back with duplicate=True and no new event."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    first = await pat.cmd(C.AddCard(lane="value", text="once"), op="op-retry-1")
    assert isinstance(first, Ack) and not first.duplicate
    await fac.catch_up(first.seq)
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    before = codec.encode_plain(host.session)
    again = await pat.cmd(C.AddCard(lane="value", text="once"), op="op-retry-1")
    assert isinstance(again, Ack) and again.duplicate and again.seq == first.seq
    assert codec.encode_plain(host.session) == before
    seen = len(fac.messages)
    await fac.ping()
    assert [type(m) for m in fac.messages[seen:]] == [Pong], "a retry was fanned out"


async def test_retry_after_reconnect_is_applied_once(relay: Relay) -> None:
    """A command whose ack was lost is retried after a resume and still counts once."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    ack = await pat.cmd(C.AddCard(lane="value", text="lost ack"), op="op-retry-2")
    assert isinstance(ack, Ack)
    pat.drop()
    back = await pat.resume()
    retry = await back.cmd(C.AddCard(lane="value", text="lost ack"), op="op-retry-2")
    assert isinstance(retry, Ack) and retry.duplicate and retry.seq == ack.seq
    await back.catch_up(ack.seq)
    assert back.session is not None
    assert [c.text for c in back.session.cards.values()] == ["lost ack"]


async def test_refused_command_can_be_retried(relay: Relay) -> None:
    """A refused op is not remembered: the same op id may succeed once the state allows it."""
    fac = await WireClient.create(relay.url)
    refused = await fac.cmd(C.StopTimer(), op="op-timer")
    assert isinstance(refused, Error) and refused.code == "invalid"
    await fac.ok(C.StartTimer(seconds=60))
    accepted = await fac.cmd(C.StopTimer(), op="op-timer")
    assert isinstance(accepted, Ack) and not accepted.duplicate


async def test_ids_from_another_session_are_not_found(relay: Relay) -> None:
    """A member cannot reach into another session: its ids are unknown here."""
    one = await WireClient.create(relay.url)
    await one.ok(C.AddCard(lane="value", text="private"))
    assert one.session is not None
    card = next(iter(one.session.cards))
    two = await WireClient.create(relay.url, question="Another team's question?")
    reply = await two.cmd(C.EditCard(card_id=card, text="hijacked"))
    assert isinstance(reply, Error) and reply.code == "not_found"
    assert one.session.cards[card].text == "private"
    host = relay.hub.hosts[one.welcome.session_id]  # type: ignore[union-attr]
    assert host.session.cards[card].text == "private"
