"""The rules: turn (session, member, command) into events, or refuse with a reason.

``decide`` is pure and never changes the session; the caller applies the
events it returns with ``reducer.apply_event``. Every refusal is a
``Refusal`` carrying a stable code and a sentence a person can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import commands as C
from . import events as E
from . import limits as L
from . import vote_rules as V
from .checks import (
    CONTRIBUTORS,
    EVERYONE_ACTIVE,
    FACILITATOR,
    VOTE_PHASE,
    Caps,
    Ctx,
    find_card,
    find_need,
    find_option,
    new_id,
    require_no_open_vote,
    require_owner_or_facilitator,
    require_phase,
    require_role,
    require_room,
)
from .errors import ErrorCode, Refusal
from .model import BASELINE_ID, PHASE_TITLES, Card, Member, Need, Note, Option, Role, Session, Timer

__all__ = ["VOTE_PHASE", "Caps", "create_session", "decide", "join", "retried_seq"]


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
    if len(session.members) >= L.MAX_MEMBERS:
        raise Refusal(ErrorCode.LIMIT, f"this session is full ({L.MAX_MEMBERS} members)")
    # Each kind of seat has its own cap, so observers or partners never lock out participants.
    if role == "observer":
        cap, seats = caps.observers, "observers"
    elif role == "partner":
        cap, seats = caps.partners, "partners"
    else:
        cap, seats = caps.members, "participants"
    taken = sum(
        1 for m in session.members.values() if not m.removed and _seat(m.role) == _seat(role)
    )
    if taken >= cap:
        raise Refusal(ErrorCode.LIMIT, f"this session is full ({cap} {seats})")
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
    if member.removed:
        raise Refusal(ErrorCode.UNAUTHORIZED, "the facilitator removed you from this session")
    if session.closed:
        raise Refusal(ErrorCode.SESSION_CLOSED, "this session is closed; nothing can change")
    rule = _RULES[type(command)]
    return rule(Ctx(session, member, now, caps or Caps()), command)


# ---- board ------------------------------------------------------------------


def _set_phase(ctx: Ctx, cmd: C.SetPhase) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "move the board")
    if cmd.phase == ctx.session.phase:
        raise Refusal(ErrorCode.INVALID, f"the board is already in {PHASE_TITLES[cmd.phase]}")
    return [E.PhaseChanged(phase=cmd.phase)]


def _set_ready(ctx: Ctx, cmd: C.SetReady) -> list[E.EventBody]:
    require_role(ctx, EVERYONE_ACTIVE, "mark themselves ready")
    return [E.ReadySet(member_id=ctx.member.id, ready=cmd.ready)]


def _start_timer(ctx: Ctx, cmd: C.StartTimer) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "run the timebox")
    label = cmd.label or f"{PHASE_TITLES[ctx.session.phase]} timebox"
    return [E.TimerStarted(timer=Timer(label=label, started_at=ctx.now, seconds=cmd.seconds))]


def _stop_timer(ctx: Ctx, cmd: C.StopTimer) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "run the timebox")
    if ctx.session.timer is None:
        raise Refusal(ErrorCode.INVALID, "no timebox is running")
    return [E.TimerStopped()]


def _edit_question(ctx: Ctx, cmd: C.EditQuestion) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "reword the question")
    return [E.QuestionEdited(question=cmd.question)]


def _seat(role: Role) -> Role:
    """Which cap a role counts against: the facilitator sits with the participants."""
    return "participant" if role == "facilitator" else role


def _remove_member(ctx: Ctx, cmd: C.RemoveMember) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "remove members")
    target = ctx.session.members.get(cmd.member_id)
    if target is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"member_id: no member {cmd.member_id}")
    if target.role == "facilitator":
        raise Refusal(ErrorCode.INVALID, "the facilitator cannot be removed")
    if target.removed:
        raise Refusal(ErrorCode.CONFLICT, f"{target.name} was already removed")
    return [E.MemberRemoved(member_id=target.id)]


def _rotate_codes(ctx: Ctx, cmd: C.RotateCodes) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "issue new join codes")
    return [E.CodesRotated()]


def _close_session(ctx: Ctx, cmd: C.CloseSession) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "close the session")
    return [E.SessionClosed()]


# ---- learn ------------------------------------------------------------------


def _add_card(ctx: Ctx, cmd: C.AddCard) -> list[E.EventBody]:
    require_role(ctx, CONTRIBUTORS, "add cards")
    if ctx.member.role != "facilitator":
        require_phase(ctx, ("learn",), "add cards")
    require_room(len(ctx.session.cards), ctx.caps.cards, "cards")
    card = Card(id=new_id(ctx.session, "c"), lane=cmd.lane, text=cmd.text, author=ctx.member.id)
    return [E.CardAdded(card=card)]


def _edit_card(ctx: Ctx, cmd: C.EditCard) -> list[E.EventBody]:
    card = find_card(ctx.session, cmd.card_id)
    require_owner_or_facilitator(ctx, card.author, "edit a card")
    return [E.CardEdited(card_id=card.id, text=cmd.text)]


def _delete_card(ctx: Ctx, cmd: C.DeleteCard) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "delete cards")
    find_card(ctx.session, cmd.card_id)
    require_no_open_vote(ctx.session, ("dots",), "delete a card")
    return [E.CardDeleted(card_id=cmd.card_id)]


def _merge_cards(ctx: Ctx, cmd: C.MergeCards) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "merge cards")
    if cmd.source_id == cmd.target_id:
        raise Refusal(ErrorCode.INVALID, "a card cannot be merged into itself")
    find_card(ctx.session, cmd.source_id)
    find_card(ctx.session, cmd.target_id)
    require_no_open_vote(ctx.session, ("dots",), "merge cards")
    return [E.CardsMerged(source_id=cmd.source_id, target_id=cmd.target_id)]


# ---- needs ------------------------------------------------------------------


def _add_need(ctx: Ctx, cmd: C.AddNeed) -> list[E.EventBody]:
    require_role(ctx, CONTRIBUTORS, "propose needs")
    if ctx.member.role != "facilitator":
        require_phase(ctx, ("needs",), "propose needs")
    require_room(len(ctx.session.needs), ctx.caps.needs, "needs")
    need = Need(
        id=new_id(ctx.session, "n"),
        text=cmd.text,
        why=cmd.why,
        success=cmd.success,
        department=ctx.member.department,
        author=ctx.member.id,
    )
    return [E.NeedAdded(need=need)]


def _require_need_unused(ctx: Ctx, need_id: str, doing: str) -> None:
    """Refuse while an open classify vote holds the need or an open score vote scores it."""
    for vote in ctx.session.votes.values():
        if not vote.accepting:
            continue
        if vote.kind == "classify" and any(n.id == need_id for n in vote.needs):
            raise Refusal(
                ErrorCode.CONFLICT, f"the open classify vote is on this need; close it to {doing}"
            )
        if vote.kind == "score" and any(c.need_id == need_id for c in vote.criteria):
            raise Refusal(
                ErrorCode.CONFLICT,
                f"criteria are frozen while the score vote is open; close it to {doing}",
            )


def _edit_need(ctx: Ctx, cmd: C.EditNeed) -> list[E.EventBody]:
    need = find_need(ctx.session, cmd.need_id)
    require_owner_or_facilitator(ctx, need.author, "edit a need")
    _require_need_unused(ctx, need.id, "reword it")
    return [E.NeedEdited(need_id=need.id, text=cmd.text, why=cmd.why, success=cmd.success)]


def _delete_need(ctx: Ctx, cmd: C.DeleteNeed) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "delete needs")
    find_need(ctx.session, cmd.need_id)
    require_no_open_vote(ctx.session, ("classify", "score"), "delete a need")
    return [E.NeedDeleted(need_id=cmd.need_id)]


def _merge_needs(ctx: Ctx, cmd: C.MergeNeeds) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "merge needs")
    if cmd.source_id == cmd.target_id:
        raise Refusal(ErrorCode.INVALID, "a need cannot be merged into itself")
    find_need(ctx.session, cmd.source_id)
    find_need(ctx.session, cmd.target_id)
    require_no_open_vote(ctx.session, ("classify", "score"), "merge needs")
    return [E.NeedsMerged(source_id=cmd.source_id, target_id=cmd.target_id)]


def _settle_need(ctx: Ctx, cmd: C.SettleNeed) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "settle a need's class")
    find_need(ctx.session, cmd.need_id)
    require_no_open_vote(ctx.session, ("score",), "change the criteria")
    return [E.NeedSettled(need_id=cmd.need_id, cls=cmd.cls)]


def _set_weight(ctx: Ctx, cmd: C.SetWeight) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "set weights")
    need = find_need(ctx.session, cmd.need_id)
    if need.settled != "optional":
        raise Refusal(ErrorCode.INVALID, "only optional needs are weighted; must-needs are gates")
    require_no_open_vote(ctx.session, ("score",), "change a weight (criteria are frozen)")
    return [E.WeightSet(need_id=cmd.need_id, weight=cmd.weight)]


# ---- options ----------------------------------------------------------------


def _add_option(ctx: Ctx, cmd: C.AddOption) -> list[E.EventBody]:
    require_role(ctx, CONTRIBUTORS, "add options")
    if ctx.member.role != "facilitator":
        require_phase(ctx, ("options",), "add options")
    if cmd.kind == "baseline":
        raise Refusal(
            ErrorCode.INVALID, 'the "no change" baseline is always there; pick another kind'
        )
    require_room(len(ctx.session.options), ctx.caps.options, "options")
    require_no_open_vote(ctx.session, ("score",), "add an option")
    option = Option(
        id=new_id(ctx.session, "o"),
        kind=cmd.kind,
        title=cmd.title,
        description=cmd.description,
        author=ctx.member.id,
    )
    return [E.OptionAdded(option=option)]


def _edit_option(ctx: Ctx, cmd: C.EditOption) -> list[E.EventBody]:
    option = find_option(ctx.session, cmd.option_id)
    require_owner_or_facilitator(ctx, option.author, "edit an option")
    require_no_open_vote(ctx.session, ("score",), "reword an option")
    return [E.OptionEdited(option_id=option.id, title=cmd.title, description=cmd.description)]


def _delete_option(ctx: Ctx, cmd: C.DeleteOption) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "delete options")
    if cmd.option_id == BASELINE_ID:
        raise Refusal(ErrorCode.INVALID, 'the "no change" baseline cannot be deleted')
    find_option(ctx.session, cmd.option_id)
    require_no_open_vote(ctx.session, ("score",), "delete an option")
    return [E.OptionDeleted(option_id=cmd.option_id)]


def _add_note(ctx: Ctx, cmd: C.AddNote) -> list[E.EventBody]:
    require_role(ctx, EVERYONE_ACTIVE, "add notes")
    if ctx.member.role == "partner":
        require_phase(ctx, ("options",), "add notes as the partner")
    elif ctx.member.role != "facilitator":
        require_phase(ctx, ("options", "decide"), "add notes")
    find_option(ctx.session, cmd.option_id)
    require_room(len(ctx.session.notes), ctx.caps.notes, "notes")
    note = Note(
        id=new_id(ctx.session, "t"),
        option_id=cmd.option_id,
        text=cmd.text,
        author=ctx.member.id,
        role=ctx.member.role,
    )
    return [E.NoteAdded(note=note)]


def _set_partner_view(ctx: Ctx, cmd: C.SetPartnerView) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "choose what the partner sees")
    for need_id in cmd.view.shared_needs:
        find_need(ctx.session, need_id)
    view = dataclasses.replace(cmd.view, shared_needs=sorted(set(cmd.view.shared_needs)))
    return [E.PartnerViewSet(view=view)]


_RULES: dict[type[Any], Callable[[Ctx, Any], list[E.EventBody]]] = {
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
    C.OpenVote: V.open_vote,
    C.Cast: V.cast,
    C.CloseVote: V.close_vote,
    C.RevealVote: V.reveal_vote,
    C.Propose: V.propose,
    C.RecordDecision: V.record_decision,
    C.CloseSession: _close_session,
    C.RemoveMember: _remove_member,
    C.RotateCodes: _rotate_codes,
    C.SetPartnerView: _set_partner_view,
}
assert set(_RULES) == set(C.COMMAND_TYPES), "every command kind needs a rule"
