"""The trust rules, replayed from the scenarios that once produced an untrue record."""

from __future__ import annotations

import pytest
from accord.protocol import commands as C
from accord.protocol import views
from accord.protocol.ballots import ballot_progress, has_voted, incomplete_ballots, voted_count
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.model import PROPOSAL_KEY, PartnerView, Round
from accord.protocol.record import record_data, record_markdown
from accord.protocol.results import cell_key, ranking
from accord.protocol.rounds import (
    decision_basis,
    default_method,
    dissent_text,
    live_stances,
    numbered_rounds,
)
from accord.protocol.staleness import stale_marks, stale_votes
from protocol_support import Board, Roster, seeded_board


def refused(board: Board, member: str, command: C.Command) -> Refusal:
    """The refusal ``command`` gets (fails the test if it is allowed)."""
    with pytest.raises(Refusal) as info:
        board.do(member, command)
    return info.value


def small_board() -> tuple[Board, Roster]:
    """Decide phase with a proposal: a facilitator, three participants, an observer, a partner."""
    return seeded_board("decide")


def consensus(board: Board, cast: Roster, method: str = "fist", **kw: bool) -> str:
    """Open a consensus vote on the current proposal; its id."""
    command = C.OpenVote(kind="consensus", method=method, **kw)  # type: ignore[arg-type]
    return board.new_id(board.do(cast.facilitator, command))


# ---- 1. consensus is complete or it is not consensus ------------------------------------


def test_round_with_a_missing_voter_is_incomplete_and_names_them() -> None:
    """Two of three hands and a reveal: the round is incomplete, never passed, and names Cy."""
    board, cast = small_board()
    fran, (ada, bo, cy) = cast.facilitator, cast.participants
    vote = consensus(board, cast)
    for member in (fran, ada, bo):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 4}))
    assert voted_count(board.session, board.session.votes[vote]) == (3, 4)
    board.do(fran, C.RevealVote(vote_id=vote))
    (round_,) = board.session.rounds
    assert (round_.outcome, round_.passed, round_.missing) == ("incomplete", False, [cy])
    assert round_.eligible == [fran, ada, bo, cy]
    assert "1 did not answer" in round_.summary
    assert "Did not answer: Cy" in dissent_text(board.session)


def test_a_block_counts_at_once_without_a_reason() -> None:
    """A fist of 1 cast with no reason blocks the round at once; the reason can follow."""
    board, cast = small_board()
    fran, (ada, bo, cy) = cast.facilitator, cast.participants
    vote = consensus(board, cast, hidden=False)
    for member in (fran, ada, bo):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 4}))
    board.do(cy, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 1}))
    assert has_voted(board.session.votes[vote], cy)
    (stance,) = [s for s in live_stances(board.session, board.session.votes[vote]) if s.value == 1]
    assert stance.reason == ""  # the board shows "no reason given yet"
    board.do(cy, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 1}, reason="the cost is unknown"))
    board.do(fran, C.RevealVote(vote_id=vote))
    (round_,) = board.session.rounds
    assert round_.outcome == "blocked" and round_.objections == ["the cost is unknown"]


def test_late_joiners_are_not_missing_from_an_earlier_round() -> None:
    """Who may answer is fixed when the round opens; a later joiner is not missing."""
    board, cast = small_board()
    vote = consensus(board, cast, method="consent")
    late = board.join("Dee", "participant", "Sales")
    for member in (cast.facilitator, *cast.participants):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 2}))
    board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    (round_,) = board.session.rounds
    assert round_.outcome == "passed" and late not in round_.eligible and round_.missing == []


def test_named_stances_after_the_reveal_and_none_when_anonymous() -> None:
    """A named round lists who agreed, stood aside and objected; an anonymous one lists nobody."""
    board, cast = small_board()
    fran, (ada, bo, cy) = cast.facilitator, cast.participants
    named = consensus(board, cast, method="consent")
    for member, value, reason in ((fran, 2, ""), (ada, 2, ""), (bo, 1, "no view"), (cy, 0, "")):
        board.do(member, C.Cast(vote_id=named, marks={PROPOSAL_KEY: value}, reason=reason))
    board.do(fran, C.RevealVote(vote_id=named))
    round_ = board.session.rounds[-1]
    assert [(s.member_id, s.value) for s in round_.stances] == [
        (fran, 2),
        (ada, 2),
        (bo, 1),
        (cy, 0),
    ]
    assert round_.objections == ["no reason given"]
    text = dissent_text(board.session)
    assert "Cy objects (no reason given)." in text and "Bo stands aside: no view." in text
    for member in cast.everyone:  # everyone sees the names after the reveal
        assert views.project_session(board.session, member).rounds[-1].stances or member == (
            cast.partner
        )
    anon = consensus(board, cast, method="consent", anonymous=True)
    board.do(bo, C.Cast(vote_id=anon, marks={PROPOSAL_KEY: 0}, reason="lock-in"))
    board.do(fran, C.RevealVote(vote_id=anon))
    assert board.session.rounds[-1].stances == [] and board.session.rounds[-1].anonymous
    seen = views.project_session(board.session, ada).rounds[-1]
    assert seen.stances == [] and seen.objections == ["lock-in"]  # a reason, never a name
    assert "Objections (anonymous): lock-in." in dissent_text(board.session)


def test_round_numbers_follow_opening_order_not_id_text() -> None:
    """Rounds are numbered by when their vote opened, even when ids sort differently as text."""
    board, cast = small_board()
    board.session.next_id = 95
    first = consensus(board, cast)
    board.do(cast.facilitator, C.RevealVote(vote_id=first))
    board.session.next_id = 102
    second = consensus(board, cast, method="consent")
    board.do(cast.facilitator, C.RevealVote(vote_id=second))
    assert (first, second) == ("v95", "v102") and second < first  # as text, v102 sorts first
    assert [(n, r.vote_id) for n, r in numbered_rounds(board.session)] == [
        (1, first),
        (2, second),
    ]
    assert default_method(board.session) == "consent"  # the next round starts from the last


def test_the_51st_round_is_refused() -> None:
    """A session holds at most 50 consensus rounds; the 51st is refused, never over the cap."""
    board, cast = small_board()
    for _ in range(50):
        vote = consensus(board, cast)
        board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    refusal = refused(board, cast.facilitator, C.OpenVote(kind="consensus"))
    assert refusal.code is ErrorCode.LIMIT and "rounds" in refusal.message
    assert len(board.session.rounds) == 50


# ---- 2. a decision rests on a passed round ---------------------------------------------


def _passed_round(board: Board, cast: Roster) -> Round:
    vote = consensus(board, cast)
    for member in (cast.facilitator, *cast.participants):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 4}))
    board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    return board.session.rounds[-1]


def test_no_decision_without_a_passed_round_unless_marked() -> None:
    """No round, or a round on another statement, refuses; without_consensus needs a dissent."""
    board, cast = small_board()
    fran = cast.facilitator
    proposal = board.session.proposal
    assert proposal is not None
    bare = C.RecordDecision(option_id=proposal.option_id, statement=proposal.statement)
    assert refused(board, fran, bare).code is ErrorCode.CONFLICT
    round_ = _passed_round(board, cast)
    other = C.RecordDecision(option_id=proposal.option_id, statement="Something nobody voted on")
    assert refused(board, fran, other).code is ErrorCode.CONFLICT
    marked = C.RecordDecision(
        option_id=proposal.option_id, statement="Something nobody voted on", without_consensus=True
    )
    assert refused(board, fran, marked).code is ErrorCode.INVALID  # no dissent written
    assert decision_basis(board.session, proposal.option_id, proposal.statement) == round_
    board.do(fran, bare)
    decision = board.session.decision
    assert decision is not None and decision.round_number == round_.number
    assert not decision.without_consensus and decision.recorded_by == fran


def test_recording_again_keeps_the_earlier_decision_as_superseded() -> None:
    """A second decision replaces the first, which stays in the record as superseded."""
    board, cast = small_board()
    fran = cast.facilitator
    proposal = board.session.proposal
    assert proposal is not None
    _passed_round(board, cast)
    board.do(fran, C.RecordDecision(option_id=proposal.option_id, statement=proposal.statement))
    board.do(
        fran,
        C.RecordDecision(
            option_id="baseline",
            statement="We wait a year.",
            dissent="Ada and Bo wanted to go ahead.",
            without_consensus=True,
        ),
    )
    (old,) = board.session.superseded
    assert old.statement == proposal.statement and old.superseded_by == fran
    assert board.session.decision is not None and board.session.decision.without_consensus
    md = record_markdown(board.session)
    assert "**Recorded without consensus**" in md and "(superseded decision 1)" in md
    assert record_data(board.session)["superseded"][0]["superseded_by"] == "Fran"


# ---- 3. results never silently change meaning ------------------------------------------


def scored_board() -> tuple[Board, Roster, str, str, str, str]:
    """A revealed score vote: a must-need and an optional need, two options, all cells."""
    board, cast = seeded_board("options")
    fran, (ada, bo, _) = cast.facilitator, cast.participants
    must, nice = (n.id for n in board.session.live_needs() if n.settled != "not_a_need")
    vote = board.new_id(board.do(fran, C.OpenVote(kind="score")))
    acme = next(o for o in board.session.options if o.startswith("o"))
    for member, score in ((ada, 5), (bo, 4)):
        marks = {cell_key(o, must): 1 for o in board.session.options}
        marks |= {cell_key(o, nice): score for o in board.session.options}
        board.do(member, C.Cast(vote_id=vote, marks=marks))
    board.do(fran, C.RevealVote(vote_id=vote))
    return board, cast, vote, must, nice, acme


def test_reclassifying_after_a_score_vote_marks_it_stale_and_keeps_its_meaning() -> None:
    """Swapping must and optional after scoring keeps the ranking and marks the result stale."""
    board, cast, vote, must, nice, acme = scored_board()
    fran = cast.facilitator
    before = {s.option_id: s.score for s in ranking(board.session, board.session.votes[vote])}
    assert before[acme] == 4.5
    board.do(fran, C.SettleNeed(need_id=must, cls="optional"))
    board.do(fran, C.SettleNeed(need_id=nice, cls="must"))
    after = {s.option_id: s.score for s in ranking(board.session, board.session.votes[vote])}
    assert after == before  # pass/fail answers are never read as 0-5 scores
    marks = stale_marks(board.session, board.session.votes[vote])
    assert {(m.need_id, m.what) for m in marks} == {
        (must, "now optional (was must)"),
        (nice, "now must (was optional)"),
    }
    assert vote in stale_votes(board.session)
    assert "**Stale**" in record_markdown(board.session)


def test_rewording_a_need_leaves_a_trace_and_a_stale_mark() -> None:
    """Rewording a scored need keeps what it said before, who changed it, and marks the vote."""
    board, cast, vote, must, _, _ = scored_board()
    fran = cast.facilitator
    old = board.session.needs[must].text
    board.do(fran, C.EditNeed(need_id=must, text="keeps our data in the EU or the UK"))
    (edit,) = board.session.needs[must].edits
    assert (edit.by, edit.before["text"]) == (fran, old)
    (mark,) = stale_marks(board.session, board.session.votes[vote])
    assert mark.need_id == must and old in mark.what
    md = record_markdown(board.session)
    assert "## Changes after the fact" in md and old in md


def test_edit_trace_keeps_the_original_and_the_latest() -> None:
    """Beyond the cap the original wording stays and the oldest later edit is dropped."""
    board, cast = seeded_board("learn")
    card = next(iter(board.session.cards))
    first = board.session.cards[card].text
    for i in range(12):
        board.do(cast.facilitator, C.EditCard(card_id=card, text=f"wording {i}"))
    edits = board.session.cards[card].edits
    assert len(edits) == 8 and edits[0].before["text"] == first
    assert [e.before["text"] for e in edits[1:]] == [f"wording {i}" for i in range(4, 11)]


def test_criteria_and_weights_are_frozen_while_scoring() -> None:
    """While a score vote is open, weights, classes, criterion needs and options stay put."""
    board, cast = seeded_board("options")
    fran = cast.facilitator
    must, nice = (n.id for n in board.session.live_needs() if n.settled != "not_a_need")
    board.do(fran, C.OpenVote(kind="score"))
    for command in (
        C.SetWeight(need_id=nice, weight=9),
        C.SettleNeed(need_id=must, cls="optional"),
        C.EditNeed(need_id=must, text="something else"),
        C.MergeNeeds(source_id=must, target_id=nice),
        C.DeleteNeed(need_id=nice),
        C.EditOption(option_id="baseline", title="Do nothing"),
    ):
        refusal = refused(board, fran, command)
        assert refusal.code is ErrorCode.CONFLICT and "close" in refusal.message


def test_a_need_added_during_a_classify_vote_waits_for_the_next() -> None:
    """A classify vote keeps the needs it opened on; a newer need is refused with a reason."""
    board, cast = seeded_board("needs")
    fran, ada = cast.facilitator, cast.participants[0]
    vote = board.new_id(board.do(fran, C.OpenVote(kind="classify")))
    new = board.new_id(board.do(ada, C.AddNeed(text="works offline")))
    refusal = refused(board, ada, C.Cast(vote_id=vote, marks={new: 2}))
    assert refusal.code is ErrorCode.NOT_FOUND and "next classify vote" in refusal.message


# ---- 4. "voted" means a complete ballot ------------------------------------------------


def test_a_partly_filled_score_ballot_is_not_a_vote() -> None:
    """Seven of twenty cells is progress, not a vote; the reveal counts it as incomplete."""
    board, cast = seeded_board("options")
    fran, ada = cast.facilitator, cast.participants[0]
    for i in range(7):  # 10 options x 2 criteria = 20 cells
        board.do(fran, C.AddOption(kind="other", title=f"Option {i}"))
    vote_id = board.new_id(board.do(fran, C.OpenVote(kind="score")))
    vote = board.session.votes[vote_id]
    cells = [cell_key(o, c.need_id) for o in vote.option_ids for c in vote.criteria]
    assert len(cells) == 20
    board.do(ada, C.Cast(vote_id=vote_id, marks={k: 1 for k in cells[:7]}))
    assert not has_voted(vote, ada) and (ballot_progress(board.session, vote, ada).done) == 7
    assert ballot_progress(board.session, vote, ada).total == 20
    for viewer in cast.everyone:  # every copy agrees, hidden vote or not
        seen = views.project_session(board.session, viewer).votes[vote_id]
        assert seen.voters == [] and ballot_progress(board.session, seen, ada).done == 7
    board.do(fran, C.RevealVote(vote_id=vote_id))
    assert incomplete_ballots(vote) == 1
    assert record_data(board.session)["scores"]["incomplete_ballots"] == 1


# ---- 6. the partner sees what the facilitator allows ------------------------------------


def test_partner_view_hides_internal_deliberation_by_default() -> None:
    """By default the partner's copy has no needs, classes, splits, scores or ranking."""
    board, cast, vote, must, nice, _ = scored_board()
    partner = views.project_session(board.session, cast.partner)
    assert partner.needs == {}
    assert partner.votes[vote].ballots == {} and partner.votes[vote].criteria == []
    assert ranking(partner, partner.votes[vote]) == [] or all(
        s.score is None for s in ranking(partner, partner.votes[vote])
    )
    board.do(
        cast.facilitator,
        C.SetPartnerView(view=PartnerView(shared_needs=[must], classes=True, scores=True)),
    )
    partner = views.project_session(board.session, cast.partner)
    assert list(partner.needs) == [must] and partner.needs[must].settled == "must"
    assert partner.votes[vote].ballots and [c.need_id for c in partner.votes[vote].criteria] == [
        must
    ]
    assert nice not in repr(partner)
