"""Vote privacy on the socket: the raw frames a member receives, decoded by the test itself."""

from __future__ import annotations

from typing import Any

from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol.events import BallotCast, Event, VoteRevealed
from accord.protocol.messages import Hello, Welcome
from accord.protocol.model import PROPOSAL_KEY
from accord.server.relay import Relay
from server_support import WireClient

REASONS = {"Ana": "ana-secret-worry", "Bo": "bo-secret-worry", "Cy": "cy-secret-worry"}


async def _consent_vote(
    relay: Relay, *, anonymous: bool
) -> tuple[WireClient, dict[str, WireClient], str]:
    """A Decide-phase consent vote where everyone objects with a reason of their own."""
    fac = await WireClient.create(relay.url)
    code = fac.secrets.participant_code
    people = {name: await WireClient.join(relay.url, code, name) for name in REASONS}
    await fac.ok(C.SetPhase(phase="decide"))
    await fac.ok(C.Propose(option_id="baseline", statement="Keep things as they are"))
    await fac.ok(C.OpenVote(kind="consensus", method="consent", hidden=True, anonymous=anonymous))
    assert fac.session is not None
    vote = fac.session.open_vote("consensus")
    assert vote is not None
    for name, client in people.items():
        await client.catch_up(fac.seq)
        await client.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 0}, reason=REASONS[name]))
    for client in people.values():
        await client.catch_up(fac.seq + len(people))
    return fac, people, vote.id


def _ballot_owners(message: Any, vote_id: str) -> set[str]:
    """Member ids tied to ballot contents in one decoded frame."""
    owners: set[str] = set()
    if isinstance(message, Event):
        body = message.body
        if isinstance(body, BallotCast) and body.vote_id == vote_id and body.ballot is not None:
            owners.add(body.member_id)
        if isinstance(body, VoteRevealed) and body.vote_id == vote_id and body.ballots:
            owners |= set(body.ballots)
    if isinstance(message, Welcome) and message.snapshot is not None:
        vote = message.snapshot.votes.get(vote_id)
        if vote is not None:
            owners |= set(vote.ballots)
    return owners


async def _snapshot_frame(relay: Relay, client: WireClient) -> bytes:
    """A fresh snapshot welcome for ``client``'s member (a resume with a stale epoch)."""
    other = await WireClient.open(relay.url)
    await other.send(Hello(token=client.token, last_seq=1, epoch="e-stale"))
    await other.expect_welcome()
    return other.raw[-1]


async def test_hidden_vote_frames_carry_no_other_ballot(relay: Relay) -> None:
    """Before the reveal a voter's frames hold only their own ballot; after it, everyone's."""
    fac, people, vote_id = await _consent_vote(relay, anonymous=False)
    ana = people["Ana"]
    frames = [*ana.raw, await _snapshot_frame(relay, ana)]
    blob = b"".join(frames)
    assert REASONS["Ana"].encode() in blob  # the check below can see reasons at all
    for name in ("Bo", "Cy"):
        assert REASONS[name].encode() not in blob, f"{name}'s ballot leaked before the reveal"
    for frame in frames:
        owners = _ballot_owners(codec.decode_server(frame), vote_id)
        assert owners <= {ana.member_id}, owners
    fac_blob = b"".join(fac.raw)
    assert not any(reason.encode() in fac_blob for reason in REASONS.values())

    seen = len(ana.raw)
    await fac.ok(C.RevealVote(vote_id=vote_id))
    await ana.catch_up(fac.seq)
    after = b"".join(ana.raw[seen:])
    assert all(reason.encode() in after for reason in REASONS.values())


async def test_anonymous_vote_never_ties_ballots_to_people(relay: Relay) -> None:
    """In an anonymous vote no frame, before or after the reveal, ties a ballot to anyone else."""
    fac, people, vote_id = await _consent_vote(relay, anonymous=True)
    ana = people["Ana"]
    blob = b"".join(ana.raw)
    assert not any(REASONS[n].encode() in blob for n in ("Bo", "Cy"))
    await fac.ok(C.RevealVote(vote_id=vote_id))
    await ana.catch_up(fac.seq)
    late = await WireClient.join(relay.url, fac.secrets.observer_code, "Late")
    assert all(reason.encode() in b"".join(ana.raw) for reason in REASONS.values())
    received = {
        ana.member_id: [*ana.raw, await _snapshot_frame(relay, ana)],
        fac.member_id: fac.raw,
        late.member_id: late.raw,
    }
    for member_id, frames in received.items():
        for frame in frames:
            owners = _ballot_owners(codec.decode_server(frame), vote_id)
            assert owners <= {member_id}, f"{member_id} saw ballots of {owners}"
    assert late.session is not None
    vote = late.session.votes[vote_id]
    assert not vote.ballots and sorted(b.reason for b in vote.anon_ballots) == sorted(
        REASONS.values()
    )


async def test_anonymous_vote_asked_live_stays_hidden_on_the_wire(relay: Relay) -> None:
    """An anonymous vote asked to be live sends no ballot or row to others until the reveal."""
    fac = await WireClient.create(relay.url)
    code = fac.secrets.participant_code
    ana = await WireClient.join(relay.url, code, "Ana")
    bo = await WireClient.join(relay.url, code, "Bo")
    await fac.ok(C.AddCard(lane="value", text="one"))
    await fac.ok(C.OpenVote(kind="dots", dots=3, hidden=False, anonymous=True))
    assert fac.session is not None
    vote = fac.session.open_vote("dots")
    assert vote is not None and vote.hidden
    card = next(iter(fac.session.cards))
    await bo.catch_up(fac.seq)
    await bo.ok(C.Cast(vote_id=vote.id, marks={card: 3}))
    await ana.catch_up(bo.seq)
    assert ana.session is not None
    live = ana.session.votes[vote.id]
    assert live.voters == [bo.member_id] and live.anon_ballots == []
    for frame in ana.raw:
        assert _ballot_owners(codec.decode_server(frame), vote.id) <= {ana.member_id}
    await fac.catch_up(bo.seq)
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await ana.catch_up(fac.seq)
    assert [b.marks for b in ana.session.votes[vote.id].anon_ballots] == [{card: 3}]
    for frame in ana.raw:
        assert _ballot_owners(codec.decode_server(frame), vote.id) <= {ana.member_id}


async def test_replay_across_a_reveal_keeps_ballots_secret_until_it(relay: Relay) -> None:
    """A resume replaying casts and then their reveal shows no ballot before the reveal frame."""
    for anonymous in (False, True):
        fac = await WireClient.create(relay.url)
        code = fac.secrets.participant_code
        ana = await WireClient.join(relay.url, code, "Ana")
        bo = await WireClient.join(relay.url, code, "Bo")
        await fac.ok(C.AddCard(lane="value", text="one"))
        await fac.ok(C.OpenVote(kind="dots", dots=3, hidden=True, anonymous=anonymous))
        assert fac.session is not None
        vote = fac.session.open_vote("dots")
        assert vote is not None
        card = next(iter(fac.session.cards))
        await ana.catch_up(fac.seq)
        await ana.close()
        await bo.catch_up(fac.seq)
        await bo.ok(C.Cast(vote_id=vote.id, marks={card: 2}))
        await fac.catch_up(bo.seq)
        await fac.ok(C.RevealVote(vote_id=vote.id))
        back = await ana.resume()
        assert back.welcome is not None and back.welcome.mode == "replay"
        await back.catch_up(fac.seq)
        replayed = [codec.decode_server(f) for f in back.raw[1:]]
        kinds = [type(m.body).__name__ for m in replayed if isinstance(m, Event)]
        assert kinds == ["BallotCast", "VoteRevealed"]
        cast = replayed[0]
        assert isinstance(cast, Event) and isinstance(cast.body, BallotCast)
        assert cast.body.ballot is None and not cast.body.anon_ballots
        assert back.session is not None
        tally = back.session.votes[vote.id]
        assert [b.marks for b in tally.anon_ballots or list(tally.ballots.values())] == [{card: 2}]
