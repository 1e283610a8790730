"""A whole session over the wire: a facilitator and three participants through all four phases."""

from __future__ import annotations

import asyncio
import json

from accord.protocol import commands as C
from accord.protocol.messages import Presence
from accord.protocol.model import PROPOSAL_KEY
from accord.server.records import record_paths
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, board_of, same_board


async def test_four_phases_end_to_end(relay: Relay) -> None:
    """Four people run Learn, Needs, Options and Decide; every board ends equal to the relay's."""
    fac = await WireClient.create(relay.url, department="Ops")
    code = fac.secrets.participant_code
    people = [
        await WireClient.join(relay.url, code, "Ana", "Sales"),
        await WireClient.join(relay.url, code, "Bo", "Finance"),
        await WireClient.join(relay.url, code, "Cy", "IT"),
    ]
    everyone = [fac, *people]
    ana, bo, cy = people

    # Learn: cards, a dot vote, a reveal.
    cards = []
    for who, text in ((ana, "Faster delivery"), (bo, "Lower cost"), (cy, "Keep our know-how")):
        await who.ok(C.AddCard(lane="value", text=text))
        assert who.session is not None
        cards.append(next(c.id for c in who.session.cards.values() if c.text == text))
    await fac.ok(C.AddCard(lane="no_change", text="We fall behind"))
    await fac.ok(C.OpenVote(kind="dots", dots=3, hidden=True))
    assert fac.session is not None
    vote = fac.session.open_vote("dots")
    assert vote is not None
    for who in people:
        await who.catch_up(fac.seq)
        await who.ok(C.Cast(vote_id=vote.id, marks={cards[0]: 2, cards[1]: 1}))
    await fac.ok(C.RevealVote(vote_id=vote.id))

    # Needs: propose, classify live, settle, weight.
    await fac.ok(C.SetPhase(phase="needs"))
    await ana.catch_up(fac.seq)
    await ana.ok(C.AddNeed(text="Ship in weeks", why="market", success="release < 6 weeks"))
    await bo.catch_up(ana.seq)
    await bo.ok(C.AddNeed(text="Budget under 1M"))
    await fac.catch_up(bo.seq)
    assert fac.session is not None
    need_ids = list(fac.session.needs)
    await fac.ok(C.OpenVote(kind="classify", hidden=False))
    vote = fac.session.open_vote("classify")
    assert vote is not None
    for who, marks in (
        (ana, {need_ids[0]: 2, need_ids[1]: 1}),
        (bo, {need_ids[0]: 2}),
        (cy, {need_ids[1]: 0}),
    ):
        await who.catch_up(fac.seq)
        await who.ok(C.Cast(vote_id=vote.id, marks=marks))
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await fac.ok(C.SettleNeed(need_id=need_ids[0], cls="must"))
    await fac.ok(C.SettleNeed(need_id=need_ids[1], cls="optional"))
    await fac.ok(C.SetWeight(need_id=need_ids[1], weight=4))

    # Options: add options, score hidden, reveal.
    await fac.ok(C.SetPhase(phase="options"))
    await cy.catch_up(fac.seq)
    await cy.ok(C.AddOption(kind="partnership", title="Partner with Acme"))
    await fac.catch_up(cy.seq)
    await fac.ok(C.AddOption(kind="outsourcing", title="Outsource to Beta"))
    options = [o for o in fac.session.options if o != "baseline"]
    await fac.ok(C.OpenVote(kind="score", hidden=True))
    vote = fac.session.open_vote("score")
    assert vote is not None
    for n, who in enumerate(people):
        marks = {f"{o}:{need_ids[0]}": 1 for o in options}
        marks |= {f"{o}:{need_ids[1]}": (n + i) % 6 for i, o in enumerate(options)}
        await who.catch_up(fac.seq)
        await who.ok(C.Cast(vote_id=vote.id, marks=marks))
    await fac.ok(C.RevealVote(vote_id=vote.id))

    # Decide: propose, consent round with an objection, record, close.
    await fac.ok(C.SetPhase(phase="decide"))
    await fac.ok(C.Propose(option_id=options[0], statement="We partner with Acme for a year."))
    await fac.ok(C.OpenVote(kind="consensus", method="consent", hidden=True))
    vote = fac.session.open_vote("consensus")
    assert vote is not None
    await ana.catch_up(fac.seq)
    await ana.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 2}))
    await bo.catch_up(ana.seq)
    await bo.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 0}, reason="Lock-in risk"))
    await cy.catch_up(bo.seq)
    await cy.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 1}))
    await fac.catch_up(cy.seq)
    await fac.ok(C.RevealVote(vote_id=vote.id))
    assert fac.session.rounds and fac.session.rounds[-1].objections == ["Lock-in risk"]
    await fac.ok(
        C.RecordDecision(
            option_id=options[0],
            statement="Partner with Acme",
            rationale="Fastest path",
            dissent="Bo: lock-in risk",
            review_date="2027-06-30",
            without_consensus=True,  # Bo objected, so no round passed
        )
    )
    await fac.ok(C.CloseSession())

    for who in everyone:
        await who.catch_up(fac.seq)
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    assert host.session.closed and host.session.decision is not None
    for who in everyone:
        assert same_board(host.session, who), f"{who.member_id} drifted from the relay"

    # Closing writes the decision record next to the data.
    md, js = record_paths(relay.config.records_dir, host.session.id)
    for _ in range(100):
        if md.exists() and js.exists():
            break
        await asyncio.sleep(0.02)
    assert "Partner with Acme" in md.read_text()
    data = json.loads(js.read_text())
    assert data["decision"]["review_date"] == "2027-06-30"
    assert board_of(host.session, fac.member_id) == board_of(fac.session, fac.member_id)


async def test_presence_follows_connections(relay: Relay) -> None:
    """A member is online while any of their connections is open, and offline after the last."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    online = await fac.until(lambda m: isinstance(m, Presence) and m.online)
    assert isinstance(online, Presence) and online.member_id == pat.member_id
    assert set(pat.online) == {fac.member_id, pat.member_id}
    second = await pat.resume()  # the same member on a second terminal
    await pat.close()
    assert not [m for m in await fac.quiet(0.3) if isinstance(m, Presence)]
    await second.close()
    offline = await fac.until(lambda m: isinstance(m, Presence))
    assert isinstance(offline, Presence) and offline.member_id == pat.member_id
    assert not offline.online


async def test_ping_gets_pong(relay: Relay) -> None:
    """A ping is answered with a pong carrying the same number and the relay's clock."""
    fac = await WireClient.create(relay.url)
    pong = await fac.ping(42)
    assert pong.n == 42 and pong.server_time > 1e9


async def test_close_sends_going_away(relay_factory: RelayFactory) -> None:
    """Closing the relay closes clients with 1001 so they know to reconnect and resume."""
    relay = await relay_factory()
    fac = await WireClient.create(relay.url)
    closing = asyncio.create_task(relay.close())
    assert await fac.closed() == 1001
    await closing
