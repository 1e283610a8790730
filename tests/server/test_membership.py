"""Membership control: removing a member, rotating the codes, separate seats, random claims."""

from __future__ import annotations

import asyncio
import secrets

from accord.client.state import new_claim
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol import record
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Ack, Cmd, Create, Error, Hello
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, new_op


async def refused(relay: Relay, intro: Create | Hello) -> tuple[Error, int | None]:
    """Send an intro that must be refused; the fatal error and the close code."""
    client = await WireClient.open(relay.url)
    await client.send(intro)
    code = await client.closed()
    error = client.messages[-1]
    assert isinstance(error, Error) and error.fatal, client.messages
    return error, code


async def test_removed_member_is_cut_off_and_their_work_stays(relay: Relay) -> None:
    """remove_member closes every connection of that member with 4006 and kills their token.

    Their card stays on the board, everyone sees member_removed, and the record
    lists them as removed.
    """
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    other = await WireClient.join(relay.url, fac.secrets.participant_code, "Kim")
    await pat.ok(C.AddCard(lane="value", text="Pat's idea"))
    second = await WireClient.open(relay.url)  # Pat on a second terminal
    await second.send(Hello(token=pat.token))
    await second.expect_welcome()
    await fac.ok(C.RemoveMember(member_id=pat.member_id))
    assert await pat.closed() == CloseCode.MEMBER_REMOVED
    assert await second.closed() == CloseCode.MEMBER_REMOVED
    assert any(isinstance(e.body, E.MemberRemoved) for e in second.events)
    error, code = await refused(relay, Hello(token=pat.token, last_seq=pat.seq, epoch=pat.epoch))
    assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED
    await other.catch_up(fac.seq)
    assert other.session is not None and other.session.members[pat.member_id].removed
    assert [c.text for c in other.session.cards.values()] == ["Pat's idea"]
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    assert "Pat | participant (removed)" in record.record_markdown(host.session)
    await other.ok(C.AddCard(lane="value", text="we carry on"))


async def test_rotated_codes_replace_the_old_ones(relay: Relay) -> None:
    """rotate_codes answers the facilitator alone with new codes; old codes stop working.

    A retried rotate_codes (same op id) gets the same codes again; members who
    joined before keep their seats.
    """
    fac = await WireClient.create(relay.url)
    old = fac.secrets
    pat = await WireClient.join(relay.url, old.participant_code, "Pat")
    op = new_op()
    reply = await fac.cmd(C.RotateCodes(), op=op)
    assert isinstance(reply, Ack) and reply.secrets is not None
    new = reply.secrets
    assert {new.participant_code, new.partner_code, new.observer_code}.isdisjoint(
        {old.participant_code, old.partner_code, old.observer_code}
    )
    await fac.send(Cmd(op=op, c=C.RotateCodes()))
    again = await fac.until(lambda m: isinstance(m, Ack) and m.op == op)
    assert isinstance(again, Ack) and again.duplicate and again.secrets == new
    await pat.catch_up(fac.seq)
    assert not any(b"participant_code" in raw for raw in pat.raw)  # only the facilitator
    for code in (old.participant_code, old.partner_code, old.observer_code):
        error, close = await refused(relay, Hello(code=code, name="Late"))
        assert error.code == "unauthorized" and close == CloseCode.UNAUTHORIZED
    kim = await WireClient.join(relay.url, new.participant_code, "Kim")
    obi = await WireClient.join(relay.url, new.observer_code, "Obi")
    assert kim.welcome is not None and kim.welcome.role == "participant"
    assert obi.welcome is not None and obi.welcome.role == "observer"
    await pat.ok(C.SetReady(ready=True))
    resumed = await fac.resume()
    reply = await resumed.cmd(C.RotateCodes())  # a resumed facilitator may rotate again
    assert isinstance(reply, Ack) and reply.secrets is not None and reply.secrets != new


async def test_observers_never_lock_out_participants(relay_factory: RelayFactory) -> None:
    """With every observer seat taken, another observer gets limit but a participant joins."""
    relay = await relay_factory(max_observers=20, max_members=5, failed_join_burst=100)
    fac = await WireClient.create(relay.url)
    code = fac.secrets.observer_code
    await asyncio.gather(*(WireClient.join(relay.url, code, f"Obs {n}") for n in range(20)))
    error, close = await refused(relay, Hello(code=code, name="Obs 21"))
    assert error.code == "limit" and close == CloseCode.NORMAL
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await pat.ok(C.AddCard(lane="value", text="in"))


async def test_claims_must_look_random(relay: Relay) -> None:
    """A guessable claim is refused with bad_message (4005); the reference client's are fine."""
    fac = await WireClient.create(relay.url)
    code = fac.secrets.participant_code
    for weak in ("0123456789abcdef0123456789abcdef0123", "a" * 40, "password" * 5):
        error, close = await refused(relay, Hello(code=code, name="Eve", claim=weak))
        assert error.code == "bad_message" and "claim" in error.message
        assert close == CloseCode.BAD_HELLO
        error, close = await refused(relay, Create(question="Mine?", name="Eve", claim=weak))
        assert error.code == "bad_message" and close == CloseCode.BAD_HELLO
    good = new_claim()
    pat = await WireClient.open(relay.url)
    await pat.send(Hello(code=code, name="Pat", claim=good))
    welcome = await pat.expect_welcome()
    assert welcome.token == good
    mine = await WireClient.create(relay.url, claim=secrets.token_hex(20))
    assert mine.welcome is not None
