"""Role x command x phase: who may do what, when, and the exact refusal code otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import pytest
from accord.protocol import commands as C
from accord.protocol import rules
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.model import PHASES, PROPOSAL_KEY, PartnerView, Phase, Role, VoteKind
from protocol_support import Board, Roster, kind_of, plain, seeded_board

ROLES: tuple[Role, ...] = ("facilitator", "participant", "observer", "partner")
VOTE_PHASE: dict[VoteKind, Phase] = {
    "dots": "learn",
    "classify": "needs",
    "score": "options",
    "consensus": "decide",
}


@dataclass(frozen=True)
class Ids:
    """Ids on a seeded board that the table's commands point at."""

    bo_card: str
    ada_card: str
    bo_need: str  # settled optional
    ada_need: str  # settled must
    bo_option: str
    ada_option: str
    votes: dict[str, str] = field(default_factory=dict)
    bo: str = ""  # the member id of the participant Bo


def _ids(board: Board, cast: Roster) -> Ids:
    s = board.session
    cards = {c.author: c.id for c in s.cards.values()}
    needs = {n.author: n.id for n in s.needs.values()}
    options = {o.author: o.id for o in s.options.values()}
    ada, bo = cast.participants[0], cast.participants[1]
    return Ids(
        bo_card=cards[bo],
        ada_card=cards[ada],
        bo_need=needs[bo],
        ada_need=needs[ada],
        bo_option=options[bo],
        ada_option=options[ada],
        votes={v.kind: v.id for v in s.votes.values()},
        bo=bo,
    )


@cache
def quiet_board(phase: Phase) -> tuple[Board, Roster]:
    """A seeded board in ``phase`` with a running timebox and no open vote."""
    board, cast = seeded_board(phase)
    board.do(cast.facilitator, C.StartTimer(seconds=300))
    return board, cast


def fresh_voting_board(phase: Phase) -> tuple[Board, Roster]:
    """A seeded board in ``phase`` with one open vote of every kind."""
    board, cast = seeded_board("decide")
    for kind, vote_phase in VOTE_PHASE.items():
        if board.session.phase != vote_phase:
            board.do(cast.facilitator, C.SetPhase(phase=vote_phase))
        board.do(cast.facilitator, C.OpenVote(kind=kind, hidden=True))
    if board.session.phase != phase:
        board.do(cast.facilitator, C.SetPhase(phase=phase))
    return board, cast


voting_board = cache(fresh_voting_board)


@dataclass(frozen=True)
class Row:
    """One command's row: roles allowed in any phase, and roles allowed only in some."""

    make: Callable[[Ids, Phase], C.Command]
    anywhere: frozenset[Role] = frozenset({"facilitator"})
    only_in: dict[Role, tuple[Phase, ...]] = field(default_factory=dict)
    voting: bool = False

    def expected(self, role: Role, phase: Phase) -> ErrorCode | None:
        """None when allowed, else the refusal code."""
        if role in self.anywhere:
            return None
        if role in self.only_in:
            return None if phase in self.only_in[role] else ErrorCode.WRONG_PHASE
        return ErrorCode.FORBIDDEN


def _next(phase: Phase) -> Phase:
    return PHASES[(PHASES.index(phase) + 1) % len(PHASES)]


def _open_vote(kind: VoteKind) -> Callable[[Ids, Phase], C.Command]:
    return lambda ids, phase: C.OpenVote(kind=kind)


def _vote_command(
    make: Callable[[str], C.CloseVote | C.RevealVote], kind: VoteKind
) -> Callable[[Ids, Phase], C.Command]:
    return lambda ids, phase: make(ids.votes[kind])


def _ballot(kind: VoteKind) -> Callable[[Ids, Phase], C.Command]:
    def make(ids: Ids, phase: Phase) -> C.Command:
        marks = {
            "dots": {ids.bo_card: 1},
            "classify": {ids.bo_need: 2},
            "score": {f"{ids.bo_option}:{ids.ada_need}": 1, f"{ids.bo_option}:{ids.bo_need}": 4},
            "consensus": {PROPOSAL_KEY: 4},
        }[kind]
        return C.Cast(vote_id=ids.votes[kind], marks=marks)

    return make


NOBODY: frozenset[Role] = frozenset()
VOTERS: frozenset[Role] = frozenset({"facilitator", "participant"})
TABLE: dict[str, Row] = {
    "set_phase": Row(lambda ids, p: C.SetPhase(phase=_next(p))),
    "set_ready": Row(
        lambda ids, p: C.SetReady(ready=True),
        anywhere=frozenset({"facilitator", "participant", "partner"}),
    ),
    "start_timer": Row(lambda ids, p: C.StartTimer(seconds=60)),
    "stop_timer": Row(lambda ids, p: C.StopTimer()),
    "edit_question": Row(lambda ids, p: C.EditQuestion(question="Which way now?")),
    "add_card": Row(
        lambda ids, p: C.AddCard(lane="value", text="less toil"),
        only_in={"participant": ("learn",)},
    ),
    "edit_card (someone else's)": Row(lambda ids, p: C.EditCard(card_id=ids.bo_card, text="t")),
    "delete_card": Row(lambda ids, p: C.DeleteCard(card_id=ids.bo_card)),
    "merge_cards": Row(lambda ids, p: C.MergeCards(source_id=ids.bo_card, target_id=ids.ada_card)),
    "add_need": Row(
        lambda ids, p: C.AddNeed(text="fast onboarding"), only_in={"participant": ("needs",)}
    ),
    "edit_need (someone else's)": Row(lambda ids, p: C.EditNeed(need_id=ids.bo_need, text="t")),
    "delete_need": Row(lambda ids, p: C.DeleteNeed(need_id=ids.bo_need)),
    "merge_needs": Row(lambda ids, p: C.MergeNeeds(source_id=ids.bo_need, target_id=ids.ada_need)),
    "settle_need": Row(lambda ids, p: C.SettleNeed(need_id=ids.bo_need, cls="must")),
    "set_weight": Row(lambda ids, p: C.SetWeight(need_id=ids.bo_need, weight=5)),
    "add_option": Row(
        lambda ids, p: C.AddOption(kind="internal", title="Build it ourselves"),
        only_in={"participant": ("options",)},
    ),
    "edit_option (someone else's)": Row(
        lambda ids, p: C.EditOption(option_id=ids.bo_option, title="t")
    ),
    "delete_option": Row(lambda ids, p: C.DeleteOption(option_id=ids.bo_option)),
    "add_note": Row(
        lambda ids, p: C.AddNote(option_id=ids.bo_option, text="they run on our stack"),
        only_in={"participant": ("options", "decide"), "partner": ("options",)},
    ),
    **{
        f"open_vote {kind}": Row(
            _open_vote(kind),
            anywhere=NOBODY,
            only_in={"facilitator": (phase,)},
        )
        for kind, phase in VOTE_PHASE.items()
    },
    **{
        f"cast {kind}": Row(
            _ballot(kind),
            anywhere=NOBODY,
            only_in={"facilitator": (phase,), "participant": (phase,)},
            voting=True,
        )
        for kind, phase in VOTE_PHASE.items()
    },
    **{
        f"close_vote {kind}": Row(_vote_command(C.CloseVote, kind), voting=True)
        for kind in VOTE_PHASE
    },
    **{
        f"reveal_vote {kind}": Row(_vote_command(C.RevealVote, kind), voting=True)
        for kind in VOTE_PHASE
    },
    "propose": Row(
        lambda ids, p: C.Propose(option_id=ids.bo_option, statement="We outsource to Beta."),
        anywhere=NOBODY,
        only_in={"facilitator": ("decide",)},
    ),
    "record_decision": Row(
        lambda ids, p: C.RecordDecision(
            option_id=ids.bo_option,
            statement="We outsource.",
            review_date="2027-01-31",
            dissent="Ada would rather wait.",
            without_consensus=True,
        ),
        anywhere=NOBODY,
        only_in={"facilitator": ("decide",)},
    ),
    "close_session": Row(lambda ids, p: C.CloseSession()),
    "remove_member": Row(lambda ids, p: C.RemoveMember(member_id=ids.bo)),
    "rotate_codes": Row(lambda ids, p: C.RotateCodes()),
    "set_partner_view": Row(lambda ids, p: C.SetPartnerView(view=PartnerView(classes=True))),
}


def _member(cast: Roster, role: Role) -> str:
    return {
        "facilitator": cast.facilitator,
        "participant": cast.participants[0],
        "observer": cast.observer,
        "partner": cast.partner,
    }[role]


def test_table_covers_every_command_kind() -> None:
    """Every command kind has at least one row in the permission table."""
    kinds = set()
    for row in TABLE.values():
        board, cast = (voting_board if row.voting else quiet_board)("learn")
        kinds.add(row.make(_ids(board, cast), "learn").KIND)
    assert kinds == {kind_of(cls) for cls in C.COMMAND_TYPES}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_permission_table(name: str) -> None:
    """Each role in each phase gets exactly the outcome the table lists for this command."""
    row = TABLE[name]
    wrong = []
    for phase in PHASES:
        board, cast = (voting_board if row.voting else quiet_board)(phase)
        before = plain(board.session)
        ids = _ids(board, cast)
        for role in ROLES:
            command = row.make(ids, phase)
            try:
                events = rules.decide(board.session, _member(cast, role), command, board.now + 1)
            except Refusal as refusal:
                got: ErrorCode | None = refusal.code
            else:
                assert events, "an allowed command produces at least one event"
                got = None
            if got != row.expected(role, phase):
                wrong.append((role, phase, got, row.expected(role, phase)))
        assert plain(board.session) == before, "decide must not change the session"
    assert wrong == []


def test_authors_may_edit_their_own_items_in_any_phase() -> None:
    """A participant may reword their own card, need and option whatever the phase."""
    for phase in PHASES:
        board, cast = quiet_board(phase)
        ids = _ids(board, cast)
        ada = cast.participants[0]
        for command in (
            C.EditCard(card_id=ids.ada_card, text="reworded"),
            C.EditNeed(need_id=ids.ada_need, text="reworded"),
            C.EditOption(option_id=ids.ada_option, title="reworded"),
        ):
            assert rules.decide(board.session, ada, command, board.now + 1)


def test_strangers_are_unauthorized() -> None:
    """Someone who is not a member gets ``unauthorized`` for any command."""
    board, _ = quiet_board("learn")
    with pytest.raises(Refusal) as info:
        rules.decide(board.session, "m999", C.SetReady(ready=True), board.now)
    assert info.value.code is ErrorCode.UNAUTHORIZED


@pytest.mark.parametrize("name", sorted(TABLE))
def test_closed_sessions_refuse_everything(name: str) -> None:
    """Once the session is closed, every command from anyone is ``session_closed``."""
    board, cast = fresh_voting_board("decide")
    ids = _ids(board, cast)
    board.do(cast.facilitator, C.CloseSession())
    for role in ROLES:
        with pytest.raises(Refusal) as info:
            rules.decide(
                board.session, _member(cast, role), TABLE[name].make(ids, "decide"), board.now
            )
        assert info.value.code is ErrorCode.SESSION_CLOSED


def test_join_refuses_when_closed_or_full() -> None:
    """Joining a closed session is ``session_closed``; joining a full one is ``limit``."""
    board, cast = seeded_board(None)
    seats = sum(
        1 for m in board.session.members.values() if m.role != "observer" and m.role != "partner"
    )
    with pytest.raises(Refusal) as info:
        rules.join(board.session, "Zed", "participant", "", board.now, rules.Caps(members=seats))
    assert info.value.code is ErrorCode.LIMIT
    board.do(cast.facilitator, C.CloseSession())
    with pytest.raises(Refusal) as info:
        rules.join(board.session, "Zed", "participant", "", board.now)
    assert info.value.code is ErrorCode.SESSION_CLOSED


def test_observers_and_partners_have_their_own_caps() -> None:
    """Full observer and partner seats refuse those roles but never a participant."""
    board, _ = seeded_board(None)
    caps = rules.Caps(members=100, observers=1, partners=1)
    for role in ("observer", "partner"):
        with pytest.raises(Refusal) as info:
            rules.join(board.session, "Zed", role, "", board.now, caps)
        assert info.value.code is ErrorCode.LIMIT
    joined = rules.join(board.session, "Zed", "participant", "", board.now, caps)
    assert joined.member.role == "participant"


def test_a_removed_member_can_do_nothing_and_frees_a_seat() -> None:
    """After remove_member the member's commands are unauthorized and their seat is free."""
    board, cast = seeded_board(None)
    bo = cast.participants[1]
    board.do(cast.facilitator, C.RemoveMember(member_id=bo))
    assert board.session.members[bo].removed
    with pytest.raises(Refusal) as info:
        rules.decide(board.session, bo, C.SetReady(ready=True), board.now)
    assert info.value.code is ErrorCode.UNAUTHORIZED
    for target, code in ((bo, ErrorCode.CONFLICT), (cast.facilitator, ErrorCode.INVALID)):
        with pytest.raises(Refusal) as info:
            rules.decide(board.session, cast.facilitator, C.RemoveMember(member_id=target), 1.0)
        assert info.value.code is code
    seats = sum(
        1 for m in board.session.members.values() if m.role in ("facilitator", "participant")
    )
    rules.join(board.session, "Zed", "participant", "", board.now, rules.Caps(members=seats))


def test_permission_helpers_ask_the_rules() -> None:
    """``permissions`` answers with the relay's own rules: same verdicts, same refusal codes."""
    from accord.protocol import permissions as P

    board, cast = quiet_board("needs")
    s = board.session
    for role in ROLES:
        member = _member(cast, role)
        assert P.can_vote(s, member) == (role in ("facilitator", "participant"))
        assert P.is_facilitator(s, member) == (role == "facilitator")
        for row in TABLE.values():
            if row.voting:
                continue
            command = row.make(_ids(board, cast), "needs")
            found = P.refusal(s, member, command)
            assert (found.code if found else None) == row.expected(role, "needs"), (role, command)
    assert [P.vote_kind_of(p) for p in PHASES] == ["dots", "classify", "score", "consensus"]
    assert P.voters_now(s) == [cast.facilitator, *cast.participants]
