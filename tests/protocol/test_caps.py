"""Every stated list cap is a rule: refused by ``decide`` or ``join``, or trimmed by a stated rule.

``test_every_capped_list_has_a_rule`` walks the session's schema, so a new capped
list without a row in ``RULES`` fails. The other tests fill a session to every cap
through commands, check the next one is refused or trimmed, and load the full
session the way the relay's store and a client's welcome do.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Annotated, Any, get_args, get_origin

import pytest
from accord.protocol import commands as C
from accord.protocol import limits as L
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.model import PROPOSAL_KEY, Session
from accord.protocol.schema import Items
from protocol_support import Board, Roster, plain, seeded_board, snapshot

#: Every capped list or map in a session, and the rule that keeps it under its cap.
RULES = {
    "Session.members": "join refuses with limit at Caps.members (at most MAX_MEMBERS)",
    "Session.history": "trimmed: the oldest phase visit is dropped",
    "Session.cards": "add_card refuses with limit",
    "Session.needs": "add_need refuses with limit",
    "Session.options": "add_option refuses with limit",
    "Session.notes": "add_note refuses with limit",
    "Session.votes": "open_vote refuses with limit",
    "Session.rounds": "open_vote refuses a 51st consensus vote with limit",
    "Session.ops": "one entry per member (bounded by members)",
    "Session.ops[]": "trimmed: the oldest op id is forgotten beyond OP_MEMORY",
    "Session.superseded": "record_decision refuses with limit",
    "Card.edits": "trimmed: the original stays, the oldest later edit is dropped",
    "Need.edits": "trimmed: as for cards",
    "Option.edits": "trimmed: as for cards",
    "Edit.before": "at most the 3 fields of a need",
    "Vote.voters": "members only (bounded by members)",
    "Vote.ballots": "members only (bounded by members)",
    "Vote.anon_ballots": "one row per ballot (bounded by members)",
    "Vote.eligible": "members at opening (bounded by members)",
    "Vote.needs": "live needs at opening (bounded by needs)",
    "Vote.criteria": "criteria at opening (bounded by needs)",
    "Vote.option_ids": "options at opening (bounded by options)",
    "Vote.progress": "one entry per caster (bounded by members)",
    "Ballot.marks": "cast refuses with limit; open_vote refuses a score vote with more cells",
    "Round.objections": "one per ballot (bounded by members)",
    "Round.eligible": "copied from the vote (bounded by members)",
    "Round.missing": "a subset of eligible",
    "Round.stances": "one per ballot (bounded by members)",
    "PartnerView.shared_needs": "sorted, unique, live need ids (bounded by needs)",
}


def _capped(tp: Any, owner: str, seen: set[type], out: set[str]) -> None:
    """Collect ``Owner.field`` for every field with an ``Items`` cap, recursively."""
    if get_origin(tp) is Annotated:
        base, *extra = get_args(tp)
        if any(isinstance(x, Items) for x in extra):
            out.add(owner)
        _capped(base, owner + "[]" if get_origin(base) is dict else owner, seen, out)
        return
    args = get_args(tp)
    if args:
        for arg in args:
            _capped(arg, owner, seen, out)
        return
    if dataclasses.is_dataclass(tp) and isinstance(tp, type) and tp not in seen:
        seen.add(tp)
        hints = typing.get_type_hints(tp, include_extras=True)
        for f in dataclasses.fields(tp):
            if f.init:
                _capped(hints[f.name], f"{tp.__name__}.{f.name}", seen, out)


def test_every_capped_list_has_a_rule() -> None:
    """Each capped list in the session model is listed with the rule that enforces its cap."""
    found: set[str] = set()
    _capped(Session, "Session", set(), found)
    found = {f.removesuffix("[]") if f.endswith("[][]") else f for f in found}
    assert found == set(RULES), (sorted(found - set(RULES)), sorted(set(RULES) - found))


def refused(board: Board, member: str, command: C.Command) -> Refusal:
    """The refusal of ``command``; fails the test if it is allowed."""
    with pytest.raises(Refusal) as info:
        board.do(member, command)
    return info.value


@cache
def full_board() -> tuple[Board, Roster]:
    """A Decide-phase board filled to every cap that commands can fill."""
    board, cast = seeded_board("decide")
    fran = cast.facilitator
    s = board.session
    while len(s.cards) < L.MAX_CARDS:
        board.do(fran, C.AddCard(lane="value", text=f"card {len(s.cards)}"))
    while len(s.needs) < L.MAX_NEEDS:
        board.do(fran, C.AddNeed(text=f"need {len(s.needs)}"))
    while len(s.options) < L.MAX_OPTIONS:
        board.do(fran, C.AddOption(kind="other", title=f"option {len(s.options)}"))
    option = next(iter(s.options))
    while len(s.notes) < L.MAX_NOTES:
        board.do(fran, C.AddNote(option_id=option, text=f"note {len(s.notes)}"))
    for _ in range(L.MAX_ROUNDS):
        vote = board.new_id(board.do(fran, C.OpenVote(kind="consensus")))
        board.do(fran, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 3}, reason="r" * L.TEXT_CHARS))
        board.do(fran, C.RevealVote(vote_id=vote))
    for i in range(L.MAX_SUPERSEDED + 1):
        board.do(
            fran,
            C.RecordDecision(
                option_id=option,
                statement="s" * L.LONG_TEXT_CHARS,
                dissent=f"dissent {i}",
                without_consensus=True,
            ),
        )
    card = next(iter(s.cards))
    for i in range(L.MAX_EDITS + 3):
        board.do(fran, C.EditCard(card_id=card, text=f"wording {i}"))
    board.do(fran, C.SetPhase(phase="learn"))
    while len(s.votes) < L.MAX_VOTES:
        vote = board.new_id(board.do(fran, C.OpenVote(kind="dots")))
        board.do(fran, C.CloseVote(vote_id=vote))
    board.do(fran, C.SetPhase(phase="decide"))
    return board, cast


def test_full_lists_refuse_one_more() -> None:
    """At every command-filled cap the next command is refused with limit and a clear reason."""
    board, cast = full_board()
    fran = cast.facilitator
    before = plain(board.session)
    option = next(iter(board.session.options))
    for command, word in (
        (C.AddCard(lane="value", text="one more"), "cards"),
        (C.AddNeed(text="one more"), "needs"),
        (C.AddOption(kind="other", title="one more"), "options"),
        (C.AddNote(option_id=option, text="one more"), "notes"),
        (C.OpenVote(kind="consensus"), "votes"),
        (
            C.RecordDecision(
                option_id=option, statement="again", dissent="x", without_consensus=True
            ),
            "replaced",
        ),
    ):
        refusal = refused(board, fran, command)
        assert refusal.code is ErrorCode.LIMIT and word in refusal.message, refusal.message
    assert plain(board.session) == before
    assert len(board.session.rounds) == L.MAX_ROUNDS
    assert len(board.session.superseded) == L.MAX_SUPERSEDED
    assert len(next(iter(board.session.cards.values())).edits) == L.MAX_EDITS


def test_rounds_cap_holds_before_the_votes_cap() -> None:
    """With room for more votes, a 51st consensus vote is still refused."""
    board, cast = seeded_board("decide")
    for _ in range(L.MAX_ROUNDS):
        vote = board.new_id(board.do(cast.facilitator, C.OpenVote(kind="consensus")))
        board.do(cast.facilitator, C.CloseVote(vote_id=vote))
    refusal = refused(board, cast.facilitator, C.OpenVote(kind="consensus"))
    assert refusal.code is ErrorCode.LIMIT and "rounds" in refusal.message


def test_a_full_session_loads_as_a_stored_snapshot_and_a_welcome() -> None:
    """A session at every cap encodes and decodes back, so neither relay nor client refuses it."""
    board, _ = full_board()
    loaded = snapshot(board.session)
    assert plain(loaded) == plain(board.session)
    assert len(loaded.cards) == L.MAX_CARDS and len(loaded.rounds) == L.MAX_ROUNDS


def test_join_refuses_past_the_member_cap() -> None:
    """``join`` refuses the member after the cap with limit."""
    from accord.protocol import rules
    from accord.protocol.checks import Caps

    board, _ = seeded_board(None)
    seats = [m for m in board.session.members.values() if m.role in ("facilitator", "participant")]
    caps = Caps(members=len(seats))  # observers and partners have seats of their own
    with pytest.raises(Refusal) as info:
        rules.join(board.session, "One more", "participant", "", 0.0, caps)
    assert info.value.code is ErrorCode.LIMIT


def test_score_votes_refuse_more_cells_than_a_ballot_holds() -> None:
    """A score vote over more option x criterion cells than a ballot may hold is refused."""
    board, cast = seeded_board("options")
    fran = cast.facilitator
    board.do(fran, C.SetPhase(phase="needs"))
    while len(board.session.needs) < 60:
        need = board.new_id(board.do(fran, C.AddNeed(text=f"need {len(board.session.needs)}")))
        board.do(fran, C.SettleNeed(need_id=need, cls="optional"))
    board.do(fran, C.SetPhase(phase="options"))
    while len(board.session.options) < L.MAX_OPTIONS:
        board.do(fran, C.AddOption(kind="other", title=f"o {len(board.session.options)}"))
    refusal = refused(board, fran, C.OpenVote(kind="score"))
    assert refusal.code is ErrorCode.LIMIT and "cells" in refusal.message
