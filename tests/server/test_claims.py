"""Idempotent create and join: a retried intro with the same claim never makes a second one."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from accord.protocol import commands as C
from accord.protocol.messages import Create, Error, Hello, Welcome
from accord.server import credentials
from server_support import RelayFactory, WireClient


def claim() -> str:
    """A fresh claim, as the reference client makes it."""
    return secrets.token_hex(20)


def members(relay: Any, session_id: str) -> list[tuple[str, str]]:
    """(member id, name) of every member of a session the relay holds."""
    return [(m.id, m.name) for m in relay.hub.hosts[session_id].session.members.values()]


async def lost_welcome(url: str, message: Any) -> Welcome:
    """Send an intro, wait until the relay has answered it, then vanish without reading on."""
    client = await WireClient.open(url)
    await client.send(message)
    welcome = await client.expect_welcome()
    client.drop()
    return welcome


async def test_join_retried_after_a_lost_welcome_is_the_same_member(relay: Any) -> None:
    """A hello(code, claim) sent again on a new connection resumes the member it made."""
    fac = await WireClient.create(relay.url)
    hello = Hello(code=fac.secrets.participant_code, name="Pat", department="Ops", claim=claim())
    first = await lost_welcome(relay.url, hello)
    again = await WireClient.open(relay.url)
    await again.send(hello)
    second = await again.expect_welcome()
    assert second.member_id == first.member_id
    assert second.mode == "snapshot" and second.token == first.token == hello.claim
    assert fac.welcome is not None
    assert members(relay, fac.welcome.session_id) == [
        (fac.member_id, "Fran"),
        (first.member_id, "Pat"),
    ]
    joined = [m for m in await fac.quiet() if getattr(m, "body", None) is not None]
    assert len(joined) == 1  # one member_joined reached the facilitator, not two
    await again.ok(C.AddCard(lane="value", text="from the retried join"))


async def test_concurrent_joins_with_one_claim_make_one_member(relay: Any) -> None:
    """Two hellos with the same claim racing on two connections yield one member, both welcomed."""
    fac = await WireClient.create(relay.url)
    hello = Hello(code=fac.secrets.participant_code, name="Pat", claim=claim())
    clients = [await WireClient.open(relay.url) for _ in range(3)]
    await asyncio.gather(*(c.send(hello) for c in clients))
    welcomes = [await c.expect_welcome() for c in clients]
    assert len({w.member_id for w in welcomes}) == 1
    assert fac.welcome is not None
    assert len(members(relay, fac.welcome.session_id)) == 2


async def test_claimed_join_resumes_with_the_claim_as_token(relay: Any) -> None:
    """The claim is the member token: hello(token=claim, last_seq, epoch) replays missed events."""
    fac = await WireClient.create(relay.url)
    hello = Hello(code=fac.secrets.participant_code, name="Pat", claim=claim())
    pat = await WireClient.open(relay.url)
    await pat.send(hello)
    await pat.expect_welcome()
    assert pat.token == hello.claim
    await pat.close()
    await fac.ok(C.AddCard(lane="value", text="while Pat was away"))
    back = await pat.resume()
    assert back.welcome is not None and back.welcome.mode == "replay"
    await back.catch_up(fac.seq)
    assert back.member_id == pat.member_id
    assert back.session is not None
    assert [c.text for c in back.session.cards.values()] == ["while Pat was away"]


async def test_claimed_join_survives_a_relay_restart(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """A join committed before a restart is found by its claim's stored hash afterwards."""
    data = tmp_path / "restart-data"
    relay = await relay_factory(data_dir=data)
    fac = await WireClient.create(relay.url)
    hello = Hello(code=fac.secrets.participant_code, name="Pat", claim=claim())
    first = await lost_welcome(relay.url, hello)
    await relay.close()
    relay = await relay_factory(data_dir=data)
    again = await WireClient.open(relay.url)
    await again.send(hello)
    second = await again.expect_welcome()
    assert second.member_id == first.member_id
    assert second.snapshot is not None
    assert [m.name for m in second.snapshot.members.values()] == ["Fran", "Pat"]


async def test_create_retried_after_a_lost_welcome_is_the_same_session(relay: Any) -> None:
    """A create(claim) sent again makes no second session and shows the same, working codes."""
    create = Create(question="Build or buy?", name="Fran", claim=claim())
    first = await lost_welcome(relay.url, create)
    again = await WireClient.open(relay.url)
    await again.send(create)
    second = await again.expect_welcome()
    assert await relay.store.count() == 1
    assert (second.session_id, second.member_id) == (first.session_id, first.member_id)
    assert second.token == create.claim
    assert second.secrets is not None and second.secrets == first.secrets
    assert second.secrets.facilitator_key == create.claim
    assert second.snapshot is not None and len(second.snapshot.members) == 1
    for code, role in [
        (second.secrets.participant_code, "participant"),
        (second.secrets.partner_code, "partner"),
        (second.secrets.observer_code, "observer"),
    ]:
        member = await WireClient.join(relay.url, code, f"A {role}")
        assert member.welcome is not None and member.welcome.role == role
    await again.ok(C.AddCard(lane="value", text="the facilitator is in"))


async def test_concurrent_creates_with_one_claim_make_one_session(relay: Any) -> None:
    """Creates with the same claim racing on three connections store exactly one session."""
    create = Create(question="Build or buy?", name="Fran", claim=claim())
    clients = [await WireClient.open(relay.url) for _ in range(3)]
    await asyncio.gather(*(c.send(create) for c in clients))
    welcomes = [await c.expect_welcome() for c in clients]
    assert len({(w.session_id, w.member_id) for w in welcomes}) == 1
    assert len({w.secrets.participant_code for w in welcomes if w.secrets}) == 1
    assert await relay.store.count() == 1


async def test_retried_create_is_not_refused_by_the_session_cap(
    relay_factory: RelayFactory,
) -> None:
    """At max_sessions a retried create still gets its session back; a new one is refused."""
    relay = await relay_factory(max_sessions=1)
    create = Create(question="Build or buy?", name="Fran", claim=claim())
    first = await lost_welcome(relay.url, create)
    again = await WireClient.open(relay.url)
    await again.send(create)
    assert (await again.expect_welcome()).session_id == first.session_id
    other = await WireClient.open(relay.url)
    await other.send(Create(question="Another?", name="Fran", claim=claim()))
    refusal = await other.recv()
    assert isinstance(refusal, Error) and refusal.code == "limit"


async def test_codes_of_a_claimed_create_are_unguessable_from_each_other(relay: Any) -> None:
    """Each session and role gets its own derived code; only SHA-256 hashes are stored."""
    one = await WireClient.create(relay.url, claim=claim())
    two = await WireClient.create(relay.url, claim=claim())
    codes = [
        c
        for s in (one.secrets, two.secrets)
        for c in (s.participant_code, s.partner_code, s.observer_code)
    ]
    assert len(set(codes)) == 6
    for code in codes:
        assert len(credentials.normalise(code)) == credentials.CODE_CHARS
        assert await relay.store.grant(code) is None  # stored by hash only
        assert await relay.store.grant(credentials.digest(code)) is not None


async def test_a_claim_that_is_another_credential_is_refused(relay: Any) -> None:
    """A claim that is another code or token, or too short, is refused and changes nothing."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    other = await WireClient.create(relay.url, question="Other?", claim=claim())
    cases: list[tuple[Any, str, int]] = [
        (Create(question="Q?", name="Eve", claim=pat.token), "unauthorized", 4001),
        (Create(question="Q?", name="Eve", claim=fac.token), "unauthorized", 4001),
        (
            Hello(code=other.secrets.participant_code, name="Eve", claim=pat.token),
            "unauthorized",
            4001,
        ),
        (Hello(code=fac.secrets.participant_code, name="Eve", claim="short"), "bad_message", 4005),
        (Create(question="Q?", name="Eve", claim="a-b-c " * 5), "bad_message", 4005),
    ]
    for message, code, close in cases:
        client = await WireClient.open(relay.url)
        await client.send(message)
        refusal = await client.recv()
        assert isinstance(refusal, Error) and refusal.code == code, (message, refusal)
        assert await client.closed() == close
    assert await relay.store.count() == 2
    assert fac.welcome is not None
    assert len(members(relay, fac.welcome.session_id)) == 2
