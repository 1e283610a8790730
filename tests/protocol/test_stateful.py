"""A stateful test: the relay's session and every member's view, step by step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from accord.protocol import codec, reducer, rules, views
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol import limits as L
from accord.protocol.ballots import answered
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.messages import Welcome
from accord.protocol.model import (
    CONSENT_OBJECT,
    PHASES,
    PROPOSAL_KEY,
    Role,
    Session,
    Vote,
)
from accord.protocol.partner import is_partner, may_see_ballots, partner_ballot
from accord.protocol.results import (
    all_ballots,
    cells,
    dot_totals,
    need_split,
)
from accord.protocol.rounds import consensus_round
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from protocol_support import (
    Board,
    Roster,
    chance,
    draw_step,
    first_difference,
    pick,
    plain,
    seeded_board,
)

#: Codes a refusal may carry; anything else from the rules is a bug.
REFUSALS = {
    ErrorCode.FORBIDDEN,
    ErrorCode.WRONG_PHASE,
    ErrorCode.NOT_FOUND,
    ErrorCode.LIMIT,
    ErrorCode.VOTE_CLOSED,
    ErrorCode.INVALID,
    ErrorCode.CONFLICT,
    ErrorCode.SESSION_CLOSED,
}


class SessionMachine(RuleBasedStateMachine):
    """Runs commands from every role and checks privacy, tallies, limits and drift."""

    board: Board
    cast: Roster

    def __init__(self) -> None:
        super().__init__()
        #: member id -> that member's client-side session.
        self.views: dict[str, Session] = {}
        self.late_joins = 0
        #: vote id -> its criteria when first seen (they must never change).
        self.frozen: dict[str, str] = {}
        self.partner_checks = 0

    # ---- the relay's fan-out ------------------------------------------------------

    def fan_out(self, event: E.Event) -> None:
        """Send ``event`` to every member's view, then welcome a member who just joined."""
        server = self.board.session
        frames: dict[str, bytes] = {}
        for member_id, view in self.views.items():
            projected, key = views.project_event(server, event, member_id)
            self.check_frame(server, event, projected, member_id)
            frame = codec.encode(projected)
            # Members that share a variant key must be sent byte-identical frames.
            assert frames.setdefault(key, frame) == frame, key
            received = codec.decode_server(frame)
            assert isinstance(received, E.Event)
            reducer.apply_event(view, received)
        if isinstance(event.body, E.MemberJoined):
            member = event.body.member
            welcome = Welcome(
                session_id=server.id,
                member_id=member.id,
                role=member.role,
                epoch="e1",
                seq=server.seq,
                mode="snapshot",
                snapshot=views.project_session(server, member.id),
            )
            received = codec.decode_server(codec.encode(welcome))
            assert isinstance(received, Welcome) and received.snapshot is not None
            self.views[member.id] = received.snapshot

    def check_frame(self, server: Session, event: E.Event, projected: E.Event, viewer: str) -> None:
        """What one member is sent never holds another member's hidden or anonymous ballot."""
        assert projected.seq == event.seq
        assert projected.op == (event.op if viewer == event.by else "")
        body = projected.body
        if isinstance(body, E.BallotCast):
            vote = server.votes[body.vote_id]
            if body.ballot is not None and body.member_id != viewer:
                assert vote.results_visible and not vote.anonymous
            if body.anon_ballots is not None:
                assert vote.anonymous and vote.results_visible
        elif isinstance(body, E.VoteRevealed):
            vote = server.votes[body.vote_id]
            if vote.anonymous:
                assert body.ballots is None
            else:
                assert body.anon_ballots is None

    # ---- rules -----------------------------------------------------------------------

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """Start from a bare board or one seeded up to some phase."""
        self.board = Board()
        self.board.listeners.append(self.fan_out)
        start = data.draw(st.sampled_from([None, *PHASES]), label="start")
        self.board, self.cast = seeded_board(start, self.board)

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        """Someone sends a command; a refusal changes nothing."""
        member, command = draw_step(data, self.board.session, self.cast)
        before = plain(self.board.session)
        try:
            self.board.do(member, command)
        except Refusal as refusal:
            assert refusal.code in REFUSALS, refusal
            assert plain(self.board.session) == before

    @precondition(lambda self: self.late_joins < 2)
    @rule(data=st.data())
    def late_join(self, data: st.DataObject) -> None:
        """Someone joins mid-session and gets a snapshot of what they may see."""
        self.late_joins += 1
        role: Role = pick(data, ("participant", "observer", "partner"))
        try:
            member = self.board.join(f"Late {self.late_joins}", role, pick(data, ("Sales", "")))
        except Refusal as refusal:
            assert refusal.code is ErrorCode.SESSION_CLOSED
            return
        if role == "participant":
            self.cast.participants.append(member)

    @precondition(lambda self: bool(self.board.applied))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """A retried (member, op) is recognised and not applied a second time."""
        server = self.board.session
        if not self.board.refused or chance(data, 80):
            member, op, seq = pick(data, self.board.applied)
            recent = [o for m, o, _ in self.board.applied if m == member][-L.OP_MEMORY :]
            if op not in recent:
                return
            assert rules.retried_seq(server, member, op) == seq
            assert rules.retried_seq(self.views[member], member, op) == seq
            before = plain(server)
            assert self.board.do(member, C.SetReady(ready=True), op=op) == []
            assert plain(server) == before
        else:
            member, op = pick(data, self.board.refused)
            assert rules.retried_seq(server, member, op) is None

    # ---- invariants ---------------------------------------------------------------------

    @invariant()
    def views_do_not_drift(self) -> None:
        """Each member's view equals a fresh projection of the relay's session."""
        server = self.board.session
        for member_id, view in self.views.items():
            expected = plain(views.project_session(server, member_id))
            got = plain(view)
            assert got == expected, (member_id, first_difference(got, expected))
            assert set(view.ops) <= {member_id}

    @invariant()
    def no_hidden_or_anonymous_ballot_leaks(self) -> None:
        """No view holds others' ballots of a hidden vote, or keyed ballots of an anonymous one."""
        server = self.board.session
        for vote in server.votes.values():
            for member_id, view in self.views.items():
                seen = view.votes[vote.id]
                if not vote.results_visible or vote.anonymous:
                    assert set(seen.ballots) <= {member_id}
                if not vote.results_visible:
                    assert seen.anon_ballots == []
                own = vote.ballots.get(member_id)
                assert seen.ballots.get(member_id) == own
                assert seen.voters == vote.voters

    @invariant()
    def tallies_equal_ballots(self) -> None:
        """Results from the relay's ballots and from every view that may see them agree."""
        server = self.board.session
        for vote in server.votes.values():
            ballots = list(vote.ballots.values())
            complete = [m for m, b in vote.ballots.items() if answered(server, vote, b).complete]
            assert vote.voters == sorted(complete)
            assert vote.anon_ballots == []  # the relay keeps ballots keyed, never anonymous rows
            expected = tally(server, vote, ballots)
            for member_id, view in self.views.items():
                seen = view.votes[vote.id]
                hidden = is_partner(server, member_id) and not may_see_ballots(
                    server.partner_view, vote.kind
                )
                if vote.results_visible and not hidden:
                    want, mine = expected, ballots
                    if is_partner(server, member_id):
                        # The partner counts over what is shared: unshared needs and their
                        # marks never reach them (partner_ballot), so their tally omits them.
                        view_of = server.partner_view
                        mine = [partner_ballot(view_of, vote.kind, b) for b in ballots]
                        want = tally(view, seen, mine)
                    assert tally(view, seen, all_ballots(seen)) == want
                    assert sorted(map(repr, all_ballots(seen))) == sorted(map(repr, mine))

    @invariant()
    def limits_hold(self) -> None:
        """Every ballot keeps to its vote's limits, and each kind has at most one open vote."""
        server = self.board.session
        open_kinds = Counter(v.kind for v in server.votes.values() if v.accepting)
        assert all(n == 1 for n in open_kinds.values()), open_kinds
        assert len(server.votes) <= L.MAX_VOTES
        for member_ops in server.ops.values():
            assert len(member_ops) <= L.OP_MEMORY
        for vote in server.votes.values():
            for member_id, ballot in vote.ballots.items():
                assert server.members[member_id].role in ("facilitator", "participant")
                check_ballot(vote, ballot.marks, ballot.reason)

    @invariant()
    def rounds_and_decisions_are_true(self) -> None:
        """No round passed with a missing eligible voter; no decision without a passed round
        unless it is marked as recorded without consensus."""
        server = self.board.session
        for round_ in server.rounds:
            vote = server.votes[round_.vote_id]
            if round_.outcome == "passed":
                assert round_.passed and not round_.missing
                assert set(vote.eligible) <= set(vote.ballots)
            assert round_.passed == (round_.outcome == "passed")
        by_number = {r.number: r for r in server.rounds}
        decisions = [*server.superseded, *([server.decision] if server.decision else [])]
        for decision in decisions:
            if decision.without_consensus:
                assert decision.round_number == 0 and decision.dissent.strip()
                continue
            basis = by_number[decision.round_number]
            assert basis.outcome == "passed" and basis.option_id == decision.option_id
            assert basis.statement.strip() == decision.statement.strip()
        assert all(d.superseded_by for d in server.superseded)

    @invariant()
    def answers_keep_their_kind(self) -> None:
        """A score vote's criteria never change after it opens, and every answer fits the
        kind (gate: pass/fail; weighted: 0-5) of the criterion it was cast on."""
        server = self.board.session
        for vote in server.votes.values():
            if vote.kind != "score":
                continue
            first = self.frozen.setdefault(vote.id, repr(vote.criteria))
            assert repr(vote.criteria) == first
            gates = {c.need_id: c.gate for c in vote.criteria}
            for ballot in vote.ballots.values():
                for key, value in ballot.marks.items():
                    need_id = key.partition(":")[2]
                    assert 0 <= value <= (1 if gates[need_id] else 5), (key, value)

    @invariant()
    def partner_sees_only_what_is_shared(self) -> None:
        """The partner's view never holds a need not shared, a class, or ballots it may not see."""
        server = self.board.session
        pv = server.partner_view
        for member_id, view in self.views.items():
            if not is_partner(server, member_id):
                continue
            self.partner_checks += 1
            for need in view.needs.values():
                assert pv.all_needs or need.id in pv.shared_needs
                assert pv.classes or need.settled is None
            for vote in view.votes.values():
                if not may_see_ballots(pv, vote.kind):
                    assert vote.ballots == {} and vote.anon_ballots == []
                assert all(pv.all_needs or n.id in pv.shared_needs for n in vote.needs)
                if vote.kind in ("classify", "score") and not pv.all_needs:
                    for ballot in [*vote.ballots.values(), *vote.anon_ballots]:
                        for key in ballot.marks:
                            assert key.rpartition(":")[2] in pv.shared_needs, key
                assert pv.classes or vote.criteria == []
            for round_ in view.rounds:
                assert pv.stances or (round_.stances == [] and round_.objections == [])

    def teardown(self) -> None:
        """The whole log replays to the relay's session (and the partner was checked)."""
        if hasattr(self, "board"):
            assert self.partner_checks > 0
            replayed = reducer.replay(self.board.session.id, self.board.log)
            assert plain(replayed) == plain(self.board.session)


def tally(session: Session, vote: Vote, ballots: Sequence[object]) -> object:
    """The results of ``vote``, worked out by hand from ``ballots`` and by the results module."""
    marks = [b.marks for b in ballots]  # type: ignore[attr-defined]
    if vote.kind == "dots":
        by_hand: Counter[str] = Counter()
        for m in marks:
            by_hand.update(m)
        totals = dot_totals(vote)
        assert {k: v for k, v in totals.items() if v} == {k: v for k, v in by_hand.items() if v}
        return sorted(totals.items())
    if vote.kind == "classify":
        out = {}
        for need in session.live_needs():
            split = need_split(vote, need.id)
            counts = Counter(m[need.id] for m in marks if need.id in m)
            assert (split.not_a_need, split.optional, split.must) == (
                counts[0],
                counts[1],
                counts[2],
            )
            out[need.id] = split
        return out
    if vote.kind == "score":
        table = cells(session, vote)
        for key, cell in table.items():
            assert sorted(cell.values) == sorted(m[key] for m in marks if key in m)
        return {k: sorted(c.values) for k, c in table.items()}
    round_ = consensus_round(session, vote)
    values = [m[PROPOSAL_KEY] for m in marks]
    everyone = not vote.eligible or set(vote.eligible) <= set(vote.ballots)
    if vote.method == "consent":
        blocked = CONSENT_OBJECT in values
        assert len(round_.objections) == values.count(CONSENT_OBJECT)
    else:
        blocked = bool(values) and min(values) < 2
    assert round_.passed == (bool(values) and not blocked and everyone)
    assert round_.outcome == ("blocked" if blocked else "passed" if round_.passed else "incomplete")
    return round_


def check_ballot(vote: Vote, marks: dict[str, int], reason: str) -> None:
    """One ballot keeps to its vote's kind and limits."""
    if vote.kind == "dots":
        assert sum(marks.values()) <= vote.dots
        cap = vote.max_per_item or vote.dots
        assert all(1 <= v <= cap for v in marks.values()), marks
        assert reason == ""
    elif vote.kind == "classify":
        assert set(marks.values()) <= {0, 1, 2}
        assert reason == ""
    elif vote.kind == "score":
        assert all(0 <= v <= 5 and ":" in k for k, v in marks.items()), marks
        assert reason == ""
    else:
        assert set(marks) == {PROPOSAL_KEY}
        top = 5 if vote.method == "fist" else 2
        assert 0 <= marks[PROPOSAL_KEY] <= top


@pytest.mark.slow
def test_session_machine() -> None:
    """Across random command runs by every role, no view leaks, drifts or breaks a limit."""
    run_state_machine_as_test(
        SessionMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
