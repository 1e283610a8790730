"""The network client against a real relay on 127.0.0.1: sync, acks, refusals, resume, retries."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from accord.client import (
    Applied,
    CommandFailed,
    Connection,
    ConnectionFailed,
    LinkChanged,
    Outgoing,
)
from accord.protocol.commands import AddCard, Cast, OpenVote, SetPhase
from accord.protocol.messages import Create, Hello
from client_support import wait_until


def quick() -> Generator[float]:
    """Reconnect delays for tests: retry every 50 ms."""
    while True:
        yield 0.05


async def session_of(relay: Any, *names: str) -> list[Connection]:
    """A facilitator ("Fay") and participants with ``names``, all connected."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay", department="Ops"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    conns = [fac]
    for i, name in enumerate(names):
        code = fac.secrets.participant_code
        conn = Connection(
            relay.url, Hello(code=code, name=name, department=f"Dept{i}"), delays=quick
        )
        await conn.start(timeout=10)
        conns.append(conn)
    return conns


async def close_all(conns: list[Connection]) -> None:
    """Close every connection."""
    for conn in conns:
        await conn.close()


async def test_send_returns_after_the_event_is_applied_everywhere(relay: Any) -> None:
    """``send`` resolves once the change is in the sender's session; others receive it too."""
    fac, priya = await session_of(relay, "Priya")
    ack = await priya.send(AddCard("value", "Lower fees"))
    assert priya.session is not None and priya.session.seq >= ack.seq
    assert [c.text for c in priya.session.cards.values()] == ["Lower fees"]
    await wait_until(fac, lambda c: c.session is not None and c.session.seq >= ack.seq, 5)
    assert fac.session is not None
    assert [c.text for c in fac.session.cards.values()] == ["Lower fees"]
    assert fac.online == priya.online == {fac.member_id, priya.member_id}
    await close_all([fac, priya])


async def test_refused_command_raises_with_code_and_reason(relay: Any) -> None:
    """A participant moving the board is refused with ``forbidden`` and a sentence, not lost."""
    fac, priya = await session_of(relay, "Priya")
    seen: list[Outgoing] = []
    priya.add_listener(lambda u: seen.append(u.outgoing) if hasattr(u, "outgoing") else None)
    with pytest.raises(CommandFailed) as info:
        await priya.send(SetPhase("needs"))
    assert info.value.code == "forbidden"
    assert "facilitator" in info.value.reason
    assert seen[-1].state == "failed" and seen[-1].reason == info.value.reason
    assert priya.outbox == {}
    await close_all([fac, priya])


async def test_op_ids_are_unique_per_client(relay: Any) -> None:
    """Op ids never repeat within a client, and two clients use different prefixes."""
    fac, priya = await session_of(relay, "Priya")
    ops = [priya.state.next_op() for _ in range(500)]
    assert len(set(ops)) == 500
    assert ops[0].split("-")[0] != fac.state.next_op().split("-")[0]
    await close_all([fac, priya])


async def test_resume_replays_what_happened_while_away(relay: Any) -> None:
    """A client that reconnects gets the events it missed and ends at the relay's seq."""
    fac, priya = await session_of(relay, "Priya")
    links: list[str] = []
    priya.add_listener(lambda u: links.append(u.state.kind) if isinstance(u, LinkChanged) else None)
    await priya.reconnect()
    for text in ("one", "two", "three"):
        await fac.send(AddCard("no_change", text))
    assert fac.session is not None
    target = fac.session.seq
    await wait_until(priya, lambda c: c.session is not None and c.session.seq == target, 10)
    assert priya.session is not None
    assert [c.text for c in priya.session.cards.values()] == ["one", "two", "three"]
    assert "reconnecting" in links and links[-1] == "connected"
    await close_all([fac, priya])


async def test_others_ballots_stay_hidden_until_the_reveal(relay: Any) -> None:
    """In a hidden vote a participant's session knows who voted, never what, until the reveal."""
    fac, priya, marco = await session_of(relay, "Priya", "Marco")
    await fac.send(AddCard("value", "Lower fees"))
    await fac.send(OpenVote(kind="dots", dots=3))
    assert fac.session is not None
    vote_id = next(iter(fac.session.votes))
    card_id = next(iter(fac.session.cards))
    await priya.send(Cast(vote_id, {card_id: 2}))
    await wait_until(marco, lambda c: priya.member_id in c.session.votes[vote_id].voters, 5)  # type: ignore[union-attr]
    assert marco.session is not None
    assert priya.member_id not in marco.session.votes[vote_id].ballots
    assert marco.session.votes[vote_id].anon_ballots == []
    await close_all([fac, priya, marco])


async def test_listeners_hear_applied_events_and_the_close(relay: Any) -> None:
    """A listener hears every applied event, then the link going offline on close."""
    fac, priya = await session_of(relay, "Priya")
    got: list[Any] = []
    fac.add_listener(got.append)
    await priya.send(AddCard("value", "Streamed"))
    await wait_until(fac, lambda c: c.session is not None and len(c.session.cards) == 1, 5)
    await fac.close()
    assert any(isinstance(u, Applied) for u in got)
    assert isinstance(got[-1], LinkChanged) and got[-1].state.kind == "offline"
    assert fac.link.kind == "offline"
    await priya.close()


async def test_bad_code_is_fatal_with_a_clear_reason(relay: Any) -> None:
    """An unknown join code stops the client with the relay's explanation; no retry loop."""
    conn = Connection(relay.url, Hello(code="2222-3333-44444", name="Eve"))
    with pytest.raises(ConnectionFailed) as info:
        await conn.start(timeout=10)
    assert "code" in info.value.reason
    assert conn.link.kind == "offline"


async def test_unreachable_relay_fails_fast_on_first_connect(unused_tcp_port: int) -> None:
    """Nobody listening: the first connection gives up after a couple of tries and says so."""
    conn = Connection(
        f"ws://127.0.0.1:{unused_tcp_port}", Hello(code="x", name="Eve"), delays=quick
    )
    with pytest.raises(ConnectionFailed) as info:
        await conn.start(timeout=10)
    assert "cannot reach the relay" in info.value.reason


async def test_wrong_url_is_fatal() -> None:
    """A URL that is not ws:// or wss:// is refused with what a relay URL looks like."""
    conn = Connection("http://127.0.0.1:9", Hello(code="x", name="Eve"))
    with pytest.raises(ConnectionFailed) as info:
        await conn.start(timeout=5)
    assert "ws://" in info.value.reason


async def test_pending_commands_fail_with_a_reason_when_closed_while_offline(
    relay_factory: Any,
) -> None:
    """Closing while the relay is down fails the waiting command visibly, never silently."""
    relay = await relay_factory()
    fac = Connection(relay.url, Create(question="Q?", name="Fay"), delays=quick)
    await fac.start(timeout=10)
    await relay.close()
    await wait_until(fac, lambda c: c.link.kind == "reconnecting", 5)
    out = fac.submit(AddCard("value", "Never sent"))
    assert out.op in fac.outbox  # still pending
    await fac.close()
    assert out.state == "failed" and "not delivered" in out.reason
    with pytest.raises(CommandFailed):
        await fac.outcome(out)
