"""The trust rules over real sockets: a facilitator, two participants and a partner."""

from __future__ import annotations

from dataclasses import dataclass

from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.ballots import ballot_progress, has_voted
from accord.protocol.errors import ErrorCode
from accord.protocol.messages import Error, Welcome
from accord.protocol.model import PROPOSAL_KEY, PartnerView, Session
from accord.protocol.results import cell_key, ranking
from accord.protocol.staleness import stale_marks
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, same_board

SECRET_NEED = "secret-need-only-for-the-group"
SHARED_NEED = "shared-need-the-partner-may-read"
REASON = "secret-objection-reason"


@dataclass
class Cast:
    """The four clients of a session."""

    fac: WireClient
    ana: WireClient
    bo: WireClient
    pat: WireClient

    @property
    def group(self) -> list[WireClient]:
        """The facilitator and the participants."""
        return [self.fac, self.ana, self.bo]

    async def settle(self) -> None:
        """Let every client reach the facilitator's seq."""
        top = max(c.seq for c in (self.fac, self.ana, self.bo, self.pat))
        for client in (self.fac, self.ana, self.bo, self.pat):
            await client.catch_up(top)


def board(client: WireClient) -> Session:
    """A client's copy of the session."""
    assert client.session is not None
    return client.session


async def cast_of(relay: Relay) -> Cast:
    """A session with a facilitator, Ana and Bo (participants) and Pat (the partner)."""
    fac = await WireClient.create(relay.url)
    ana = await WireClient.join(relay.url, fac.secrets.participant_code, "Ana", "Finance")
    bo = await WireClient.join(relay.url, fac.secrets.participant_code, "Bo", "Ops")
    pat = await WireClient.join(relay.url, fac.secrets.partner_code, "Pat", "Vendor")
    cast = Cast(fac, ana, bo, pat)
    await cast.settle()
    return cast


async def to_options(cast: Cast) -> tuple[str, str, str]:
    """Needs (one must, one optional), an option; returns (must, optional, option) ids."""
    fac = cast.fac
    await fac.ok(C.SetPhase(phase="needs"))
    await fac.ok(C.AddNeed(text=SHARED_NEED))
    await fac.ok(C.AddNeed(text=SECRET_NEED))
    must, nice = list(board(fac).needs)
    await fac.ok(C.OpenVote(kind="classify", hidden=False))
    vote = board(fac).open_vote("classify")
    assert vote is not None
    await cast.settle()
    for client in cast.group:
        await client.ok(C.Cast(vote_id=vote.id, marks={must: 2, nice: 1}))
    await cast.settle()
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await fac.ok(C.SettleNeed(need_id=must, cls="must"))
    await fac.ok(C.SettleNeed(need_id=nice, cls="optional"))
    await fac.ok(C.SetPhase(phase="options"))
    await fac.ok(C.AddOption(kind="partnership", title="Partner with Pat's company"))
    option = list(board(fac).options)[-1]
    return must, nice, option


async def score_all(cast: Cast, must: str, nice: str) -> str:
    """A hidden score vote every group member fills completely, then revealed; its id."""
    fac = cast.fac
    await fac.ok(C.OpenVote(kind="score"))
    vote = board(fac).open_vote("score")
    assert vote is not None
    await cast.settle()
    for n, client in enumerate(cast.group):
        marks = {cell_key(o, must): 1 for o in vote.option_ids}
        marks |= {cell_key(o, nice): 3 + n % 2 for o in vote.option_ids}
        await client.ok(C.Cast(vote_id=vote.id, marks=marks))
    await cast.settle()
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await cast.settle()
    return vote.id


async def test_a_round_ended_early_is_incomplete_and_a_block_counts_at_once(relay: Relay) -> None:
    """A fist of 1 with no reason blocks at once; revealing with Bo missing is never 'passed'."""
    cast = await cast_of(relay)
    fac, ana, bo = cast.fac, cast.ana, cast.bo
    await fac.ok(C.SetPhase(phase="decide"))
    await fac.ok(C.Propose(option_id="baseline", statement="We change nothing."))
    await fac.ok(C.OpenVote(kind="consensus", method="fist", hidden=False))
    vote = board(fac).open_vote("consensus")
    assert vote is not None
    await cast.settle()
    await fac.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 4}))
    await ana.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 4}))
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await cast.settle()
    for client in (fac, ana, bo, cast.pat):
        (round_,) = board(client).rounds
        assert round_.outcome == "incomplete" and not round_.passed
        assert round_.missing == [bo.member_id]
    await fac.ok(C.OpenVote(kind="consensus", method="fist", hidden=False))
    second = board(fac).open_vote("consensus")
    assert second is not None and board(fac).last_method == "fist"
    await cast.settle()
    await bo.ok(C.Cast(vote_id=second.id, marks={PROPOSAL_KEY: 1}))  # no reason yet
    await cast.settle()
    assert has_voted(board(fac).votes[second.id], bo.member_id)
    for client in (fac, ana):
        await client.ok(C.Cast(vote_id=second.id, marks={PROPOSAL_KEY: 5}))
    await fac.ok(C.RevealVote(vote_id=second.id))
    await cast.settle()
    round_ = board(ana).rounds[-1]
    assert round_.outcome == "blocked" and round_.number == 2
    assert [(s.member_id, s.value) for s in round_.stances] == [
        (fac.member_id, 5),
        (ana.member_id, 5),
        (bo.member_id, 1),
    ]


async def test_decisions_rest_on_a_passed_round_and_are_superseded(relay: Relay) -> None:
    """No round: refused. A passed round: recorded. Again: the first is kept as superseded."""
    cast = await cast_of(relay)
    fac = cast.fac
    await fac.ok(C.SetPhase(phase="decide"))
    statement = "We change nothing this year."
    await fac.ok(C.Propose(option_id="baseline", statement=statement))
    reply = await fac.cmd(C.RecordDecision(option_id="baseline", statement=statement))
    assert isinstance(reply, Error) and reply.code == ErrorCode.CONFLICT.value
    await fac.ok(C.OpenVote(kind="consensus", method="consent"))
    vote = board(fac).open_vote("consensus")
    assert vote is not None
    await cast.settle()
    for client in cast.group:
        await client.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 2}))
    await fac.ok(C.RevealVote(vote_id=vote.id))
    await fac.ok(C.RecordDecision(option_id="baseline", statement=statement))
    await fac.ok(
        C.RecordDecision(
            option_id="baseline",
            statement="We change nothing for two years.",
            dissent="Nobody voted on two years.",
            without_consensus=True,
        )
    )
    await cast.settle()
    for client in (fac, cast.ana, cast.pat):
        session = board(client)
        assert session.decision is not None and session.decision.without_consensus
        (old,) = session.superseded
        assert old.round_number == 1 and old.superseded_by == fac.member_id


async def test_reclassifying_after_scoring_marks_results_stale(relay: Relay) -> None:
    """After a revealed score vote, swapping must and optional keeps the ranking, marks it stale."""
    cast = await cast_of(relay)
    must, nice, option = await to_options(cast)
    vote_id = await score_all(cast, must, nice)
    ana = cast.ana
    before = {s.option_id: s.score for s in ranking(board(ana), board(ana).votes[vote_id])}
    await cast.fac.ok(C.OpenVote(kind="score"))
    reply = await cast.fac.cmd(C.SetWeight(need_id=nice, weight=9))  # frozen while scoring
    assert isinstance(reply, Error) and reply.code == ErrorCode.CONFLICT.value
    rescore = board(cast.fac).open_vote("score")
    assert rescore is not None
    await cast.fac.ok(C.CloseVote(vote_id=rescore.id))
    await cast.fac.ok(C.SettleNeed(need_id=must, cls="optional"))
    await cast.fac.ok(C.SettleNeed(need_id=nice, cls="must"))
    await cast.fac.ok(C.EditNeed(need_id=must, text="under 500k a year"))
    await cast.settle()
    after = {s.option_id: s.score for s in ranking(board(ana), board(ana).votes[vote_id])}
    assert after == before and before[option] is not None
    whats = [m.what for m in stale_marks(board(ana), board(ana).votes[vote_id])]
    assert any("now optional (was must)" in w for w in whats)
    assert any(SHARED_NEED in w for w in whats)  # the old wording is kept
    (edit,) = board(ana).needs[must].edits
    assert edit.before["text"] == SHARED_NEED and edit.by == cast.fac.member_id


async def test_a_partial_score_ballot_is_progress_not_a_vote(relay: Relay) -> None:
    """A participant who filled some cells shows as in progress, not as voted, to everyone."""
    cast = await cast_of(relay)
    _, nice, option = await to_options(cast)
    await cast.fac.ok(C.OpenVote(kind="score"))
    vote = board(cast.fac).open_vote("score")
    assert vote is not None
    await cast.settle()
    await cast.ana.ok(C.Cast(vote_id=vote.id, marks={cell_key(option, nice): 4}))
    await cast.settle()
    total = len(vote.option_ids) * 2
    for client in (cast.fac, cast.bo):
        seen = board(client).votes[vote.id]
        assert not has_voted(seen, cast.ana.member_id)
        progress = ballot_progress(board(client), seen, cast.ana.member_id)
        assert (progress.done, progress.total) == (1, total)


def _partner_leaks(message: object) -> list[str]:
    """What in one decoded frame the partner should not have been sent."""
    leaks: list[str] = []
    sessions: list[Session] = []
    if isinstance(message, Welcome) and message.snapshot is not None:
        sessions.append(message.snapshot)
    if isinstance(message, E.Event):
        body = message.body
        if isinstance(body, E.PartnerViewSet) and body.snapshot is not None:
            sessions.append(body.snapshot)
        if isinstance(body, E.BallotCast) and (body.ballot or body.anon_ballots):
            leaks.append(f"ballot of {body.member_id}")
        if isinstance(body, E.VoteRevealed) and (body.ballots or body.anon_ballots):
            leaks.append("revealed ballots")
        if isinstance(body, E.VoteRevealed) and body.round and body.round.stances:
            leaks.append("stances")
        if isinstance(body, E.NeedSettled | E.WeightSet):
            leaks.append("need class or weight")
        if isinstance(body, E.NeedAdded) and body.need.text == SECRET_NEED:
            leaks.append("secret need")
    for session in sessions:
        for need in session.needs.values():
            if need.settled is not None or need.text == SECRET_NEED:
                leaks.append(f"need {need.id}")
        for vote in session.votes.values():
            if vote.ballots or vote.anon_ballots or vote.criteria:
                leaks.append(f"vote {vote.id}")
        leaks += [f"round {r.number}" for r in session.rounds if r.stances or r.objections]
    return leaks


async def test_partner_frames_hold_none_of_the_groups_deliberation(relay: Relay) -> None:
    """Every frame the partner receives lacks hidden needs, classes, ballots, scores and stances."""
    cast = await cast_of(relay)
    must, nice, option = await to_options(cast)
    await cast.fac.ok(C.SetPartnerView(view=PartnerView(shared_needs=[must])))
    await score_all(cast, must, nice)
    await cast.fac.ok(C.SetPhase(phase="decide"))
    await cast.fac.ok(C.Propose(option_id=option, statement="We partner with Pat's company."))
    await cast.fac.ok(C.OpenVote(kind="consensus", method="consent", hidden=False))
    vote = board(cast.fac).open_vote("consensus")
    assert vote is not None
    await cast.settle()
    await cast.bo.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 0}, reason=REASON))
    await cast.fac.ok(C.RevealVote(vote_id=vote.id))
    await cast.settle()
    late = await WireClient.open(relay.url)  # a fresh snapshot for the partner, too
    await late.send(codec_hello(cast.pat))
    await late.expect_welcome()
    frames = [*cast.pat.raw, *late.raw]
    decoded = [codec.decode_server(frame) for frame in frames]
    assert len(decoded) > 10
    leaks = [leak for message in decoded for leak in _partner_leaks(message)]
    assert leaks == []
    blob = b"".join(frames)
    assert SECRET_NEED.encode() not in blob and REASON.encode() not in blob
    assert SHARED_NEED.encode() in blob  # the shared need did reach the partner
    assert REASON.encode() in b"".join(cast.ana.raw)  # and the group did see the reason
    # The partner's copy is exactly the relay's projection for them.
    host = relay.hub.hosts[board(cast.fac).id]
    assert same_board(host.session, cast.pat)


def codec_hello(client: WireClient) -> object:
    """A snapshot hello for ``client``'s member (a resume with a stale epoch)."""
    from accord.protocol.messages import Hello

    return Hello(token=client.token, last_seq=1, epoch="e-stale")


async def test_a_session_at_the_rounds_cap_refuses_the_next_and_reloads(
    relay_factory: RelayFactory,
) -> None:
    """50 rounds, the 51st refused; a restarted relay loads the session and serves a snapshot."""
    fast = {"rate_limit": 100000.0, "rate_burst": 100000, "snapshot_every": 25}
    relay = await relay_factory(**fast)
    data_dir = relay.config.data_dir
    fac = await WireClient.create(relay.url)
    await fac.ok(C.SetPhase(phase="decide"))
    await fac.ok(C.Propose(option_id="baseline", statement="We change nothing."))
    for _ in range(50):
        await fac.ok(C.OpenVote(kind="consensus"))
        vote = board(fac).open_vote("consensus")
        assert vote is not None
        await fac.ok(C.Cast(vote_id=vote.id, marks={PROPOSAL_KEY: 3}))
        await fac.ok(C.RevealVote(vote_id=vote.id))
    reply = await fac.cmd(C.OpenVote(kind="consensus"))
    assert isinstance(reply, Error) and reply.code == ErrorCode.LIMIT.value
    assert len(board(fac).rounds) == 50
    await relay.close()
    again = await relay_factory(data_dir=data_dir, **fast)
    back = await WireClient.open(again.url)
    await back.send(codec_hello(fac))
    welcome = await back.expect_welcome()
    assert welcome.mode == "snapshot" and welcome.snapshot is not None
    assert len(welcome.snapshot.rounds) == 50
    assert [r.number for r in welcome.snapshot.rounds] == list(range(1, 51))


async def test_a_partner_resuming_across_a_view_change_gets_a_snapshot(relay: Relay) -> None:
    """A partner who missed a partner_view_set resumes by snapshot; otherwise by replay."""
    cast = await cast_of(relay)
    fac, pat = cast.fac, cast.pat
    await fac.ok(C.SetPhase(phase="needs"))
    await fac.ok(C.AddNeed(text=SHARED_NEED))
    await pat.catch_up(fac.seq)
    await pat.close()
    await fac.ok(C.AddNeed(text=SECRET_NEED))
    plain = await pat.resume()
    assert plain.welcome is not None and plain.welcome.mode == "replay"
    assert SECRET_NEED.encode() not in b"".join(plain.raw)
    await plain.close()
    need = next(iter(board(fac).needs))
    await fac.ok(C.SetPartnerView(view=PartnerView(shared_needs=[need])))
    again = await plain.resume()
    assert again.welcome is not None and again.welcome.mode == "snapshot"
    assert [n.text for n in board(again).needs.values()] == [SHARED_NEED]
    host = relay.hub.hosts[board(fac).id]
    assert same_board(host.session, again)
