"""The demo's simulated participants: real clients that add input and vote as the board moves."""

from __future__ import annotations

from typing import Any

from accord.client import Connection
from accord.protocol.commands import OpenVote, SetPhase
from accord.protocol.messages import Create
from accord.tui.demo import Demo
from client_support import wait_until


async def test_simulated_participants_follow_the_board(relay: Any) -> None:
    """They join from several departments, add cards and needs, and vote when votes open."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay", department="Product"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    demo = Demo(relay.url, fac.secrets.participant_code, fac.secrets.partner_code, pace=0.01)
    demo.start()
    try:
        await wait_until(fac, lambda c: c.session is not None and len(c.session.members) == 5, 10)
        assert fac.session is not None
        departments = {m.department for m in fac.session.members.values()}
        assert {"Finance", "Operations", "Sales"} <= departments
        assert any(m.role == "partner" for m in fac.session.members.values())
        await wait_until(fac, lambda c: len(c.session.cards) >= 6, 10)  # type: ignore[union-attr]
        await fac.send(OpenVote(kind="dots", dots=3))
        vote_id = next(iter(fac.session.votes))
        await wait_until(fac, lambda c: len(c.session.votes[vote_id].voters) == 3, 10)  # type: ignore[union-attr]
        await fac.send(SetPhase("needs"))
        await wait_until(fac, lambda c: len(c.session.needs) >= 4, 10)  # type: ignore[union-attr]
        await fac.send(OpenVote(kind="classify"))
        classify = list(fac.session.votes)[-1]
        await wait_until(fac, lambda c: len(c.session.votes[classify].voters) == 3, 10)  # type: ignore[union-attr]
    finally:
        await demo.stop()
        await fac.close()
    assert all(bot.conn.link.kind == "offline" for bot in demo.bots)
