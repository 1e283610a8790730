"""The rules: turn (session, member, command) into events, or refuse with a reason.

``decide`` is pure and never changes the session; the caller applies the
events it returns with ``reducer.apply_event``. Every refusal is a
``Refusal`` carrying a stable code and a sentence a person can act on.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import commands as C
from . import events as E
from . import limits as L
from .errors import ErrorCode, Refusal
from .model import (
    BASELINE_ID,
    CLASS_MARK,
    CONSENT_AGREE,
    CONSENT_OBJECT,
    PHASE_TITLES,
    PROPOSAL_KEY,
    Ballot,
    Card,
    Decision,
    Member,
    Need,
    Note,
    Option,
    Phase,
    Proposal,
    Role,
    Session,
    Timer,
    Vote,
)
from .results import consensus_round, criteria

FACILITATOR: frozenset[Role] = frozenset({"facilitator"})
CONTRIBUTORS: frozenset[Role] = frozenset({"facilitator", "participant"})
VOTERS: frozenset[Role] = CONTRIBUTORS
EVERYONE_ACTIVE: frozenset[Role] = frozenset({"facilitator", "participant", "partner"})

#: Which phase each vote kind belongs to.
VOTE_PHASE: dict[str, Phase] = {
    "dots": "learn",
    "classify": "needs",
    "score": "options",
    "consensus": "decide",
}


@dataclass(frozen=True, slots=True)
class Caps:
    """Per-session list caps; a relay may set them lower than the protocol's."""

    members: int = L.MAX_MEMBERS
    cards: int = L.MAX_CARDS
    needs: int = L.MAX_NEEDS
    options: int = L.MAX_OPTIONS
    notes: int = L.MAX_NOTES
    votes: int = L.MAX_VOTES


@dataclass(frozen=True, slots=True)
class _Ctx:
    session: Session
    member: Member
    now: float
    caps: Caps


def retried_seq(session: Session, member_id: str, op: str) -> int | None:
    """The seq that answered an earlier command with this op id, if it was applied."""
    return session.ops.get(member_id, {}).get(op)


def create_session(question: str, now: float) -> E.SessionCreated:
    """The first event of a new session's log."""
    return E.SessionCreated(question=question)


def join(
    session: Session,
    name: str,
    role: Role,
    department: str,
    now: float,
    caps: Caps | None = None,
) -> E.MemberJoined:
    """The event that adds a member; the server calls this for a good join code.

    Raises:
        Refusal: ``limit`` when the session is full, ``session_closed`` when closed.
    """
    caps = caps or Caps()
    if session.closed:
        raise Refusal(ErrorCode.SESSION_CLOSED, "this session is closed")
    if len(session.members) >= caps.members:
        raise Refusal(ErrorCode.LIMIT, f"this session is full ({caps.members} members)")
    member = Member(
        id=f"m{session.next_id}",
        name=name,
        role=role,
        department=department,
        joined_at=now,
    )
    return E.MemberJoined(member=member)


def decide(
    session: Session,
    member_id: str,
    command: C.Command,
    now: float,
    caps: Caps | None = None,
) -> list[E.EventBody]:
    """The events ``command`` by ``member_id`` produces, without changing ``session``.

    Raises:
        Refusal: when the role, phase, limits or state do not allow the command.
    """
    member = session.members.get(member_id)
    if member is None:
        raise Refusal(ErrorCode.UNAUTHORIZED, "you are not a member of this session")
    if session.closed:
        raise Refusal(ErrorCode.SESSION_CLOSED, "this session is closed; nothing can change")
    rule = _RULES[type(command)]
    return rule(_Ctx(session, member, now, caps or Caps()), command)


# ---- helpers ----------------------------------------------------------------


def _role(ctx: _Ctx, roles: frozenset[Role], doing: str) -> None:
    if ctx.member.role not in roles:
        if roles == FACILITATOR:
            raise Refusal(ErrorCode.FORBIDDEN, f"only the facilitator can {doing}")
        raise Refusal(ErrorCode.FORBIDDEN, f"a {ctx.member.role} cannot {doing}")


def _phase(ctx: _Ctx, phases: tuple[Phase, ...], doing: str) -> None:
    if ctx.session.phase not in phases:
        names = " or ".join(PHASE_TITLES[p] for p in phases)
        now = PHASE_TITLES[ctx.session.phase]
        raise Refusal(ErrorCode.WRONG_PHASE, f"you can {doing} in {names}; the board is in {now}")


def _owner_or_facilitator(ctx: _Ctx, author: str, doing: str) -> None:
    if ctx.member.role != "facilitator" and ctx.member.id != author:
        raise Refusal(ErrorCode.FORBIDDEN, f"only its author or the facilitator can {doing}")


def _cap(count: int, cap: int, what: str) -> None:
    if count >= cap:
        raise Refusal(ErrorCode.LIMIT, f"this session already has the most {what} allowed ({cap})")


def _new_id(session: Session, prefix: str) -> str:
    return f"{prefix}{session.next_id}"


def _card(session: Session, card_id: str) -> Card:
    card = session.cards.get(card_id)
    if card is None or card.merged_into is not None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no card {card_id}")
    return card


def _need(session: Session, need_id: str) -> Need:
    need = session.needs.get(need_id)
    if need is None or need.merged_into is not None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no need {need_id}")
    return need


def _option(session: Session, option_id: str) -> Option:
    option = session.options.get(option_id)
    if option is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no option {option_id}")
    return option


def _vote(session: Session, vote_id: str) -> Vote:
    vote = session.votes.get(vote_id)
    if vote is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no vote {vote_id}")
    return vote


def _no_open_vote(session: Session, kinds: tuple[str, ...], doing: str) -> None:
    for vote in session.votes.values():
        if vote.accepting and vote.kind in kinds:
            raise Refusal(ErrorCode.CONFLICT, f"close the open {vote.kind} vote before you {doing}")


# ---- board ------------------------------------------------------------------


def _set_phase(ctx: _Ctx, cmd: C.SetPhase) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "move the board")
    if cmd.phase == ctx.session.phase:
        raise Refusal(ErrorCode.INVALID, f"the board is already in {PHASE_TITLES[cmd.phase]}")
    return [E.PhaseChanged(phase=cmd.phase)]


def _set_ready(ctx: _Ctx, cmd: C.SetReady) -> list[E.EventBody]:
    _role(ctx, EVERYONE_ACTIVE, "mark themselves ready")
    return [E.ReadySet(member_id=ctx.member.id, ready=cmd.ready)]


def _start_timer(ctx: _Ctx, cmd: C.StartTimer) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "run the timebox")
    label = cmd.label or f"{PHASE_TITLES[ctx.session.phase]} timebox"
    return [E.TimerStarted(timer=Timer(label=label, started_at=ctx.now, seconds=cmd.seconds))]


def _stop_timer(ctx: _Ctx, cmd: C.StopTimer) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "run the timebox")
    if ctx.session.timer is None:
        raise Refusal(ErrorCode.INVALID, "no timebox is running")
    return [E.TimerStopped()]


def _edit_question(ctx: _Ctx, cmd: C.EditQuestion) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "reword the question")
    return [E.QuestionEdited(question=cmd.question)]


def _close_session(ctx: _Ctx, cmd: C.CloseSession) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "close the session")
    return [E.SessionClosed()]


# ---- learn ------------------------------------------------------------------


def _add_card(ctx: _Ctx, cmd: C.AddCard) -> list[E.EventBody]:
    _role(ctx, CONTRIBUTORS, "add cards")
    if ctx.member.role != "facilitator":
        _phase(ctx, ("learn",), "add cards")
    _cap(len(ctx.session.cards), ctx.caps.cards, "cards")
    card = Card(id=_new_id(ctx.session, "c"), lane=cmd.lane, text=cmd.text, author=ctx.member.id)
    return [E.CardAdded(card=card)]


def _edit_card(ctx: _Ctx, cmd: C.EditCard) -> list[E.EventBody]:
    card = _card(ctx.session, cmd.card_id)
    _owner_or_facilitator(ctx, card.author, "edit a card")
    return [E.CardEdited(card_id=card.id, text=cmd.text)]


def _delete_card(ctx: _Ctx, cmd: C.DeleteCard) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "delete cards")
    _card(ctx.session, cmd.card_id)
    _no_open_vote(ctx.session, ("dots",), "delete a card")
    return [E.CardDeleted(card_id=cmd.card_id)]


def _merge_cards(ctx: _Ctx, cmd: C.MergeCards) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "merge cards")
    if cmd.source_id == cmd.target_id:
        raise Refusal(ErrorCode.INVALID, "a card cannot be merged into itself")
    _card(ctx.session, cmd.source_id)
    _card(ctx.session, cmd.target_id)
    _no_open_vote(ctx.session, ("dots",), "merge cards")
    return [E.CardsMerged(source_id=cmd.source_id, target_id=cmd.target_id)]


# ---- needs ------------------------------------------------------------------


def _add_need(ctx: _Ctx, cmd: C.AddNeed) -> list[E.EventBody]:
    _role(ctx, CONTRIBUTORS, "propose needs")
    if ctx.member.role != "facilitator":
        _phase(ctx, ("needs",), "propose needs")
    _cap(len(ctx.session.needs), ctx.caps.needs, "needs")
    need = Need(
        id=_new_id(ctx.session, "n"),
        text=cmd.text,
        why=cmd.why,
        success=cmd.success,
        department=ctx.member.department,
        author=ctx.member.id,
    )
    return [E.NeedAdded(need=need)]


def _edit_need(ctx: _Ctx, cmd: C.EditNeed) -> list[E.EventBody]:
    need = _need(ctx.session, cmd.need_id)
    _owner_or_facilitator(ctx, need.author, "edit a need")
    return [E.NeedEdited(need_id=need.id, text=cmd.text, why=cmd.why, success=cmd.success)]


def _delete_need(ctx: _Ctx, cmd: C.DeleteNeed) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "delete needs")
    _need(ctx.session, cmd.need_id)
    _no_open_vote(ctx.session, ("classify", "score"), "delete a need")
    return [E.NeedDeleted(need_id=cmd.need_id)]


def _merge_needs(ctx: _Ctx, cmd: C.MergeNeeds) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "merge needs")
    if cmd.source_id == cmd.target_id:
        raise Refusal(ErrorCode.INVALID, "a need cannot be merged into itself")
    _need(ctx.session, cmd.source_id)
    _need(ctx.session, cmd.target_id)
    _no_open_vote(ctx.session, ("classify", "score"), "merge needs")
    return [E.NeedsMerged(source_id=cmd.source_id, target_id=cmd.target_id)]


def _settle_need(ctx: _Ctx, cmd: C.SettleNeed) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "settle a need's class")
    _need(ctx.session, cmd.need_id)
    _no_open_vote(ctx.session, ("score",), "change the criteria")
    return [E.NeedSettled(need_id=cmd.need_id, cls=cmd.cls)]


def _set_weight(ctx: _Ctx, cmd: C.SetWeight) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "set weights")
    need = _need(ctx.session, cmd.need_id)
    if need.settled != "optional":
        raise Refusal(ErrorCode.INVALID, "only optional needs are weighted; must-needs are gates")
    return [E.WeightSet(need_id=cmd.need_id, weight=cmd.weight)]


# ---- options ----------------------------------------------------------------


def _add_option(ctx: _Ctx, cmd: C.AddOption) -> list[E.EventBody]:
    _role(ctx, CONTRIBUTORS, "add options")
    if ctx.member.role != "facilitator":
        _phase(ctx, ("options",), "add options")
    if cmd.kind == "baseline":
        raise Refusal(
            ErrorCode.INVALID, 'the "no change" baseline is always there; pick another kind'
        )
    _cap(len(ctx.session.options), ctx.caps.options, "options")
    _no_open_vote(ctx.session, ("score",), "add an option")
    option = Option(
        id=_new_id(ctx.session, "o"),
        kind=cmd.kind,
        title=cmd.title,
        description=cmd.description,
        author=ctx.member.id,
    )
    return [E.OptionAdded(option=option)]


def _edit_option(ctx: _Ctx, cmd: C.EditOption) -> list[E.EventBody]:
    option = _option(ctx.session, cmd.option_id)
    _owner_or_facilitator(ctx, option.author, "edit an option")
    return [E.OptionEdited(option_id=option.id, title=cmd.title, description=cmd.description)]


def _delete_option(ctx: _Ctx, cmd: C.DeleteOption) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "delete options")
    if cmd.option_id == BASELINE_ID:
        raise Refusal(ErrorCode.INVALID, 'the "no change" baseline cannot be deleted')
    _option(ctx.session, cmd.option_id)
    _no_open_vote(ctx.session, ("score",), "delete an option")
    return [E.OptionDeleted(option_id=cmd.option_id)]


def _add_note(ctx: _Ctx, cmd: C.AddNote) -> list[E.EventBody]:
    _role(ctx, EVERYONE_ACTIVE, "add notes")
    if ctx.member.role == "partner":
        _phase(ctx, ("options",), "add notes as the partner")
    elif ctx.member.role != "facilitator":
        _phase(ctx, ("options", "decide"), "add notes")
    _option(ctx.session, cmd.option_id)
    _cap(len(ctx.session.notes), ctx.caps.notes, "notes")
    note = Note(
        id=_new_id(ctx.session, "t"),
        option_id=cmd.option_id,
        text=cmd.text,
        author=ctx.member.id,
        role=ctx.member.role,
    )
    return [E.NoteAdded(note=note)]


# ---- votes ------------------------------------------------------------------


def _open_vote(ctx: _Ctx, cmd: C.OpenVote) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "open votes")
    session = ctx.session
    phase = VOTE_PHASE[cmd.kind]
    _phase(ctx, (phase,), f"open a {cmd.kind} vote")
    _cap(len(session.votes), ctx.caps.votes, "votes")
    if session.open_vote(cmd.kind) is not None:
        raise Refusal(ErrorCode.CONFLICT, f"a {cmd.kind} vote is already open; close it first")
    option_id: str | None = None
    statement = ""
    if cmd.kind == "dots":
        items = [c for c in session.live_cards() if cmd.lane is None or c.lane == cmd.lane]
        if not items:
            raise Refusal(ErrorCode.INVALID, "there are no cards to vote on yet")
    elif cmd.kind == "classify":
        if not session.live_needs():
            raise Refusal(ErrorCode.INVALID, "there are no needs to classify yet")
    elif cmd.kind == "score":
        if not criteria(session):
            raise Refusal(ErrorCode.INVALID, "settle at least one need as must or optional first")
    else:
        if session.proposal is None:
            raise Refusal(ErrorCode.INVALID, "propose an option and a statement first")
        option_id, statement = session.proposal.option_id, session.proposal.statement
    vote = Vote(
        id=_new_id(session, "v"),
        kind=cmd.kind,
        phase=phase,
        title=cmd.title,
        # Live tallies of an anonymous vote would show whose ballot just arrived, so an
        # anonymous vote always stays hidden until the reveal.
        hidden=cmd.hidden or cmd.anonymous,
        anonymous=cmd.anonymous,
        method=cmd.method,
        dots=cmd.dots,
        max_per_item=cmd.max_per_item,
        lane=cmd.lane if cmd.kind == "dots" else None,
        option_id=option_id,
        statement=statement,
        opened_at=ctx.now,
    )
    return [E.VoteOpened(vote=vote)]


def _cast(ctx: _Ctx, cmd: C.Cast) -> list[E.EventBody]:
    session = ctx.session
    vote = _vote(session, cmd.vote_id)
    if ctx.member.role not in VOTERS:
        raise Refusal(ErrorCode.FORBIDDEN, f"a {ctx.member.role} does not vote")
    if not vote.accepting:
        raise Refusal(ErrorCode.VOTE_CLOSED, "this vote is closed")
    _phase(ctx, (vote.phase,), f"vote in this {vote.kind} vote")
    if not cmd.marks:
        raise Refusal(ErrorCode.INVALID, "the ballot marks nothing")
    old = vote.ballots.get(ctx.member.id)
    marks = dict(old.marks) if old else {}
    _check_marks(session, vote, cmd.marks)
    marks.update(cmd.marks)
    reason = cmd.reason.strip()
    if vote.kind == "dots":
        marks = {k: v for k, v in marks.items() if v > 0}
        spent = sum(marks.values())
        if spent > vote.dots:
            raise Refusal(ErrorCode.LIMIT, f"that would use {spent} dots; you have {vote.dots}")
    if vote.kind == "consensus":
        objecting = vote.method == "consent" and marks[PROPOSAL_KEY] == CONSENT_OBJECT
        if objecting and not reason:
            raise Refusal(ErrorCode.INVALID, "an objection needs a reason")
    else:
        reason = ""
    if len(marks) > L.MAX_MARKS:
        raise Refusal(ErrorCode.LIMIT, f"a ballot holds at most {L.MAX_MARKS} marks")
    return [E.BallotCast(vote_id=vote.id, member_id=ctx.member.id, ballot=Ballot(marks, reason))]


def _check_marks(session: Session, vote: Vote, marks: dict[str, int]) -> None:
    if vote.kind == "dots":
        cards = {c.id for c in session.live_cards() if vote.lane is None or c.lane == vote.lane}
        for key, value in marks.items():
            if key not in cards:
                raise Refusal(ErrorCode.NOT_FOUND, f"marks[{key!r}]: no such card in this vote")
            cap = vote.max_per_item or vote.dots
            if not 0 <= value <= cap:
                raise Refusal(ErrorCode.LIMIT, f"marks[{key!r}]: at most {cap} dots on one card")
    elif vote.kind == "classify":
        needs = {n.id for n in session.live_needs()}
        for key, value in marks.items():
            if key not in needs:
                raise Refusal(ErrorCode.NOT_FOUND, f"marks[{key!r}]: no such need")
            if value not in CLASS_MARK.values():
                raise Refusal(
                    ErrorCode.INVALID, f"marks[{key!r}]: 2 must, 1 optional, 0 not a need"
                )
    elif vote.kind == "score":
        gates = {c.need_id: c.gate for c in criteria(session)}
        for key, value in marks.items():
            option_id, _, need_id = key.partition(":")
            if option_id not in session.options or need_id not in gates:
                raise Refusal(ErrorCode.NOT_FOUND, f"marks[{key!r}]: no such option and criterion")
            top = 1 if gates[need_id] else 5
            if not 0 <= value <= top:
                what = "1 pass or 0 fail" if top == 1 else "a score from 0 to 5"
                raise Refusal(ErrorCode.INVALID, f"marks[{key!r}]: expected {what}")
    else:
        top = 5 if vote.method == "fist" else CONSENT_AGREE
        if set(marks) != {PROPOSAL_KEY}:
            raise Refusal(ErrorCode.INVALID, f"a consensus ballot marks only {PROPOSAL_KEY!r}")
        if not 0 <= marks[PROPOSAL_KEY] <= top:
            raise Refusal(ErrorCode.INVALID, f"marks['{PROPOSAL_KEY}']: expected 0 to {top}")


def _close_vote(ctx: _Ctx, cmd: C.CloseVote) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "close votes")
    vote = _vote(ctx.session, cmd.vote_id)
    if not vote.accepting:
        raise Refusal(ErrorCode.VOTE_CLOSED, "this vote is already closed")
    return [E.VoteClosed(vote_id=vote.id)]


def _reveal_vote(ctx: _Ctx, cmd: C.RevealVote) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "reveal votes")
    vote = _vote(ctx.session, cmd.vote_id)
    if vote.revealed:
        raise Refusal(ErrorCode.CONFLICT, "this vote is already revealed")
    round_ = consensus_round(ctx.session, vote) if vote.kind == "consensus" else None
    return [E.VoteRevealed(vote_id=vote.id, round=round_)]


# ---- decide -----------------------------------------------------------------


def _propose(ctx: _Ctx, cmd: C.Propose) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "make a proposal")
    _phase(ctx, ("decide",), "make a proposal")
    _option(ctx.session, cmd.option_id)
    _no_open_vote(ctx.session, ("consensus",), "change the proposal")
    return [E.Proposed(proposal=Proposal(option_id=cmd.option_id, statement=cmd.statement))]


def _record_decision(ctx: _Ctx, cmd: C.RecordDecision) -> list[E.EventBody]:
    _role(ctx, FACILITATOR, "record the decision")
    _phase(ctx, ("decide",), "record the decision")
    _option(ctx.session, cmd.option_id)
    if cmd.review_date:
        try:
            datetime.date.fromisoformat(cmd.review_date)
        except ValueError:
            raise Refusal(
                ErrorCode.INVALID, "review_date: expected a date like 2027-03-31"
            ) from None
    decision = Decision(
        option_id=cmd.option_id,
        statement=cmd.statement,
        rationale=cmd.rationale,
        dissent=cmd.dissent,
        review_date=cmd.review_date,
        recorded_at=ctx.now,
    )
    return [E.DecisionRecorded(decision=decision)]


_RULES: dict[type[Any], Callable[[_Ctx, Any], list[E.EventBody]]] = {
    C.SetPhase: _set_phase,
    C.SetReady: _set_ready,
    C.StartTimer: _start_timer,
    C.StopTimer: _stop_timer,
    C.EditQuestion: _edit_question,
    C.AddCard: _add_card,
    C.EditCard: _edit_card,
    C.DeleteCard: _delete_card,
    C.MergeCards: _merge_cards,
    C.AddNeed: _add_need,
    C.EditNeed: _edit_need,
    C.DeleteNeed: _delete_need,
    C.MergeNeeds: _merge_needs,
    C.SettleNeed: _settle_need,
    C.SetWeight: _set_weight,
    C.AddOption: _add_option,
    C.EditOption: _edit_option,
    C.DeleteOption: _delete_option,
    C.AddNote: _add_note,
    C.OpenVote: _open_vote,
    C.Cast: _cast,
    C.CloseVote: _close_vote,
    C.RevealVote: _reveal_vote,
    C.Propose: _propose,
    C.RecordDecision: _record_decision,
    C.CloseSession: _close_session,
}
assert set(_RULES) == set(C.COMMAND_TYPES), "every command kind needs a rule"
