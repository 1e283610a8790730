"""Smoke: create, join, command, fan-out, resume."""

from __future__ import annotations

from accord.protocol import commands as C
from accord.server.relay import Relay
from server_support import WireClient


async def test_create_join_command_resume(relay: Relay) -> None:
    """A facilitator creates, a participant joins, a card fans out, and a resume replays it."""
    fac = await WireClient.create(relay.url)
    p = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat", "Sales")
    await fac.until(lambda m: getattr(m, "seq", 0) == 3)
    ack = await p.ok(C.AddCard(lane="value", text="Faster onboarding"))
    await fac.catch_up(ack.seq)
    assert fac.session is not None and p.session is not None
    assert [c.text for c in fac.session.cards.values()] == ["Faster onboarding"]
    seq = p.seq
    await p.close()
    await fac.ok(C.AddCard(lane="value", text="Lower cost"))
    p2 = await p.resume()
    assert p2.welcome is not None and p2.welcome.mode == "replay"
    await p2.catch_up(fac.seq)
    assert p2.seq == fac.seq > seq
    assert p2.session is not None and len(p2.session.cards) == 2
