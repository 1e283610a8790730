"""The rules beyond roles and phases: ballots, limits, conflicts and ids."""

from __future__ import annotations

import pytest
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol import rules
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.model import BASELINE_ID, PROPOSAL_KEY, Ballot
from protocol_support import Board, Roster, seeded_board


def refused(board: Board, member: str, command: C.Command) -> ErrorCode:
    """The code the rules refuse ``command`` with (fails the test if they allow it)."""
    with pytest.raises(Refusal) as info:
        board.do(member, command)
    return info.value.code


def dots_board(dots: int = 3, max_per_item: int = 0) -> tuple[Board, Roster, str, list[str]]:
    """A Learn board with a hidden dots vote open over its three cards."""
    board, cast = seeded_board("learn")
    vote = board.new_id(
        board.do(cast.facilitator, C.OpenVote(kind="dots", dots=dots, max_per_item=max_per_item))
    )
    return board, cast, vote, list(board.session.cards)


def test_new_sessions_have_the_no_change_baseline() -> None:
    """Every session starts in Learn with the "no change" baseline option."""
    board = Board()
    assert board.session.phase == "learn"
    assert board.session.options[BASELINE_ID].kind == "baseline"


def test_dots_budget_and_per_item_cap() -> None:
    """A ballot may not spend more dots than the vote gives, nor more than the cap on one card."""
    board, cast, vote, cards = dots_board(dots=3, max_per_item=2)
    ada = cast.participants[0]
    assert refused(board, ada, C.Cast(vote_id=vote, marks={cards[0]: 3})) is ErrorCode.LIMIT
    board.do(ada, C.Cast(vote_id=vote, marks={cards[0]: 2}))
    code = refused(board, ada, C.Cast(vote_id=vote, marks={cards[1]: 2}))
    assert code is ErrorCode.LIMIT
    board.do(ada, C.Cast(vote_id=vote, marks={cards[1]: 1}))
    assert board.session.votes[vote].ballots[ada].marks == {cards[0]: 2, cards[1]: 1}


def test_changing_a_ballot_replaces_marks_and_zero_removes_dots() -> None:
    """A new cast merges into the ballot: marks are replaced, never added, and 0 removes a dot."""
    board, cast, vote, cards = dots_board(dots=3)
    ada = cast.participants[0]
    board.do(ada, C.Cast(vote_id=vote, marks={cards[0]: 2}))
    board.do(ada, C.Cast(vote_id=vote, marks={cards[0]: 1, cards[1]: 2}))
    board.do(ada, C.Cast(vote_id=vote, marks={cards[1]: 0}))
    the_vote = board.session.votes[vote]
    assert the_vote.ballots[ada].marks == {cards[0]: 1}
    assert the_vote.voters == [ada]


def test_retried_op_is_not_applied_twice() -> None:
    """A command retried with the same op id answers with the first seq and adds nothing."""
    board, cast, vote, cards = dots_board(dots=3)
    ada = cast.participants[0]
    (first,) = board.do(ada, C.Cast(vote_id=vote, marks={cards[0]: 1}), op="ada-7")
    assert rules.retried_seq(board.session, ada, "ada-7") == first.seq
    assert board.do(ada, C.Cast(vote_id=vote, marks={cards[0]: 1}), op="ada-7") == []
    assert rules.retried_seq(board.session, cast.participants[1], "ada-7") is None
    assert rules.retried_seq(board.session, ada, "ada-8") is None


def test_dots_only_on_cards_in_the_vote() -> None:
    """A dots vote on one lane refuses dots on cards of other lanes."""
    board, cast = seeded_board("learn")
    vote = board.new_id(board.do(cast.facilitator, C.OpenVote(kind="dots", lane="value")))
    other = next(c.id for c in board.session.cards.values() if c.lane != "value")
    code = refused(board, cast.participants[0], C.Cast(vote_id=vote, marks={other: 1}))
    assert code is ErrorCode.NOT_FOUND


def test_closed_votes_refuse_ballots() -> None:
    """Ballots in a closed or revealed vote are ``vote_closed``."""
    board, cast, vote, cards = dots_board()
    board.do(cast.facilitator, C.CloseVote(vote_id=vote))
    code = refused(board, cast.participants[0], C.Cast(vote_id=vote, marks={cards[0]: 1}))
    assert code is ErrorCode.VOTE_CLOSED
    assert refused(board, cast.facilitator, C.CloseVote(vote_id=vote)) is ErrorCode.VOTE_CLOSED
    board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    assert refused(board, cast.facilitator, C.RevealVote(vote_id=vote)) is ErrorCode.CONFLICT


def test_one_open_vote_per_kind() -> None:
    """A second vote of a kind that is still open is a ``conflict``."""
    board, cast, _, _ = dots_board()
    assert refused(board, cast.facilitator, C.OpenVote(kind="dots")) is ErrorCode.CONFLICT


def test_empty_and_unknown_marks_are_refused() -> None:
    """A ballot that marks nothing is ``invalid``; a vote that does not exist is ``not_found``."""
    board, cast, vote, _ = dots_board()
    ada = cast.participants[0]
    assert refused(board, ada, C.Cast(vote_id=vote, marks={})) is ErrorCode.INVALID
    assert refused(board, ada, C.Cast(vote_id="v999", marks={"x": 1})) is ErrorCode.NOT_FOUND


def test_classify_marks_are_two_one_zero() -> None:
    """Classify ballots mark needs 2 (must), 1 (optional) or 0 (not a need), nothing else."""
    board, cast = seeded_board("needs")
    need = next(iter(board.session.needs))
    vote = board.new_id(board.do(cast.facilitator, C.OpenVote(kind="classify")))
    ada = cast.participants[0]
    assert refused(board, ada, C.Cast(vote_id=vote, marks={need: 3})) is ErrorCode.INVALID
    assert refused(board, ada, C.Cast(vote_id=vote, marks={"n999": 1})) is ErrorCode.NOT_FOUND
    board.do(ada, C.Cast(vote_id=vote, marks={need: 0}))


def test_score_marks_respect_gates() -> None:
    """Score cells take 0-5; gate cells take only 1 (pass) or 0 (fail)."""
    board, cast = seeded_board("options")
    s = board.session
    must = next(n.id for n in s.needs.values() if n.settled == "must")
    nice = next(n.id for n in s.needs.values() if n.settled == "optional")
    dropped = next(n.id for n in s.needs.values() if n.settled == "not_a_need")
    vote = board.new_id(board.do(cast.facilitator, C.OpenVote(kind="score")))
    ada = cast.participants[0]
    gate = {f"{BASELINE_ID}:{must}": 2}
    assert refused(board, ada, C.Cast(vote_id=vote, marks=gate)) is ErrorCode.INVALID
    weighted = {f"{BASELINE_ID}:{nice}": 6}
    assert refused(board, ada, C.Cast(vote_id=vote, marks=weighted)) is ErrorCode.INVALID
    gone = {f"{BASELINE_ID}:{dropped}": 3}
    assert refused(board, ada, C.Cast(vote_id=vote, marks=gone)) is ErrorCode.NOT_FOUND
    board.do(
        ada, C.Cast(vote_id=vote, marks={f"{BASELINE_ID}:{must}": 1, f"{BASELINE_ID}:{nice}": 5})
    )


def test_criteria_are_frozen_while_scoring() -> None:
    """While a score vote is open, needs cannot be settled or deleted, nor options changed."""
    board, cast = seeded_board("options")
    fran = cast.facilitator
    need = next(iter(board.session.needs))
    option = next(o for o in board.session.options if o != BASELINE_ID)
    board.do(fran, C.OpenVote(kind="score"))
    for command in (
        C.SettleNeed(need_id=need, cls="optional"),
        C.DeleteNeed(need_id=need),
        C.AddOption(kind="other", title="Wait a year"),
        C.DeleteOption(option_id=option),
    ):
        assert refused(board, fran, command) is ErrorCode.CONFLICT


def test_consent_objection_counts_at_once_and_its_reason_follows() -> None:
    """An objection counts once cast; its reason follows, and a bare re-cast keeps it."""
    board, cast = seeded_board("decide")
    vote = board.new_id(board.do(cast.facilitator, C.OpenVote(kind="consensus", method="consent")))
    ada = cast.participants[0]
    board.do(ada, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 0}, reason="  "))
    assert board.session.votes[vote].ballots[ada] == Ballot({PROPOSAL_KEY: 0}, "")
    assert ada in board.session.votes[vote].voters
    board.do(ada, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 0}, reason=" too costly "))
    assert board.session.votes[vote].ballots[ada] == Ballot({PROPOSAL_KEY: 0}, "too costly")
    board.do(ada, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 0}))
    assert board.session.votes[vote].ballots[ada] == Ballot({PROPOSAL_KEY: 0}, "too costly")
    board.do(cast.participants[1], C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 2}))
    code = refused(board, ada, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 3}))
    assert code is ErrorCode.INVALID  # consent marks are 0, 1 or 2
    code = refused(board, ada, C.Cast(vote_id=vote, marks={"other": 1}))
    assert code is ErrorCode.INVALID


def test_consensus_needs_a_proposal_and_reveal_records_a_round() -> None:
    """A consensus vote puts the current proposal; its reveal adds a round to the session."""
    board, cast = seeded_board("decide")
    fran = cast.facilitator
    vote = board.new_id(board.do(fran, C.OpenVote(kind="consensus", method="fist")))
    the_vote = board.session.votes[vote]
    assert the_vote.statement == board.session.proposal.statement  # type: ignore[union-attr]
    for member in (fran, *cast.participants):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 4}))
    (reveal,) = board.do(fran, C.RevealVote(vote_id=vote))
    assert isinstance(reveal.body, E.VoteRevealed) and reveal.body.round is not None
    assert board.session.rounds == [reveal.body.round]
    assert reveal.body.round.passed and reveal.body.round.outcome == "passed"


def test_baseline_stays() -> None:
    """The baseline can be neither deleted nor added again."""
    board, cast = seeded_board("options")
    fran = cast.facilitator
    assert refused(board, fran, C.DeleteOption(option_id=BASELINE_ID)) is ErrorCode.INVALID
    assert refused(board, fran, C.AddOption(kind="baseline", title="x")) is ErrorCode.INVALID


def test_merges_refuse_self_and_missing() -> None:
    """Merging a thing into itself is ``invalid``; a merged card is gone for further edits."""
    board, cast = seeded_board("learn")
    fran = cast.facilitator
    a, b, _ = board.session.cards
    assert refused(board, fran, C.MergeCards(source_id=a, target_id=a)) is ErrorCode.INVALID
    board.do(fran, C.MergeCards(source_id=a, target_id=b))
    assert board.session.cards[a].merged_into == b
    assert refused(board, fran, C.EditCard(card_id=a, text="x")) is ErrorCode.NOT_FOUND


def test_weights_only_for_optional_needs() -> None:
    """Only an optional need's criterion takes a weight."""
    board, cast = seeded_board("needs")
    must = next(n.id for n in board.session.needs.values() if n.settled == "must")
    code = refused(board, cast.facilitator, C.SetWeight(need_id=must, weight=4))
    assert code is ErrorCode.INVALID


def test_review_date_must_be_a_date() -> None:
    """A decision's review date must be an ISO date."""
    board, cast = seeded_board("decide")
    command = C.RecordDecision(option_id=BASELINE_ID, statement="Stay.", review_date="soon")
    assert refused(board, cast.facilitator, command) is ErrorCode.INVALID


def test_phase_change_resets_ready_and_timer() -> None:
    """Moving the board clears everyone's ready flag and the timebox, and logs the visit."""
    board, cast = seeded_board("learn")
    board.do(cast.participants[0], C.SetReady(ready=True))
    board.do(cast.facilitator, C.StartTimer(seconds=60))
    assert refused(board, cast.facilitator, C.SetPhase(phase="learn")) is ErrorCode.INVALID
    board.do(cast.facilitator, C.SetPhase(phase="needs"))
    s = board.session
    assert not any(m.ready for m in s.members.values())
    assert s.timer is None
    assert s.history[-1].phase == "needs" and s.history[-1].by == cast.facilitator


def test_caps_limit_lists() -> None:
    """A relay's lower caps refuse the item past the cap with ``limit``."""
    board, cast = seeded_board(None)
    caps = rules.Caps(cards=1)
    rules.decide(board.session, cast.facilitator, C.AddCard(lane="value", text="a"), 1.0, caps)
    board.do(cast.facilitator, C.AddCard(lane="value", text="a"))
    with pytest.raises(Refusal) as info:
        rules.decide(board.session, cast.facilitator, C.AddCard(lane="value", text="b"), 1.0, caps)
    assert info.value.code is ErrorCode.LIMIT


def test_ids_are_unique_and_typed() -> None:
    """New members, cards, needs, options, notes and votes get distinct prefixed ids."""
    board, _ = seeded_board("decide")
    s = board.session
    ids = [*s.members, *s.cards, *s.needs, *(o for o in s.options if o != BASELINE_ID), *s.notes]
    assert len(ids) == len(set(ids))
    assert all(i[0] in "mcnot" and i[1:].isdigit() for i in ids)


def test_anonymous_votes_always_open_hidden() -> None:
    """An anonymous vote opens hidden even when asked to be live, so no ballot is traceable."""
    board, cast = seeded_board("learn")
    vote = board.new_id(
        board.do(cast.facilitator, C.OpenVote(kind="dots", hidden=False, anonymous=True))
    )
    opened = board.session.votes[vote]
    assert opened.hidden and opened.anonymous and not opened.results_visible
