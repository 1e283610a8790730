"""Apply an event to a session. The server and every client use this one function."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from . import events as E
from . import limits as L
from .model import Edit, PhaseVisit, Session, new_session


def apply_event(session: Session, event: E.Event) -> None:
    """Apply ``event`` to ``session`` in place and advance its seq.

    Events are facts the relay already accepted, so this never refuses; it
    tolerates events that name things this viewer cannot see. Objects the
    session goes on to change (members, cards, needs, options, votes) are
    copied in, so an event stays as it was when it happened.
    """
    handler = _HANDLERS[type(event.body)]
    handler(session, event)
    session.seq = event.seq
    if event.op:
        _remember_op(session, event.by, event.op, event.seq)


def replay(session_id: str, events: Iterable[E.Event]) -> Session:
    """Rebuild a session from its full log, starting with ``SessionCreated``.

    Raises:
        ValueError: if the log does not start with ``SessionCreated``.
    """
    it = iter(events)
    first = next(it, None)
    if first is None or not isinstance(first.body, E.SessionCreated):
        raise ValueError("a session log starts with session_created")
    session = new_session(session_id, first.body.question, first.at)
    session.seq = first.seq
    for event in it:
        apply_event(session, event)
    return session


def _remember_op(session: Session, member_id: str, op: str, seq: int) -> None:
    ops = session.ops.setdefault(member_id, {})
    ops[op] = seq
    if len(ops) > L.OP_MEMORY:
        del ops[next(iter(ops))]  # forget the oldest; dicts keep insertion order


def _take_id(session: Session) -> None:
    session.next_id += 1


def _trace(edits: list[Edit], event: E.Event, before: dict[str, str]) -> None:
    """Keep what a thing said before an edit; beyond the cap, the original stays and the
    oldest edit after it is dropped."""
    edits.append(Edit(at=event.at, by=event.by, before=before))
    if len(edits) > L.MAX_EDITS:
        del edits[1]


def _session_created(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.SessionCreated)
    session.question = event.body.question


def _member_joined(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.MemberJoined)
    session.members[event.body.member.id] = copy.deepcopy(event.body.member)
    _take_id(session)


def _ready_set(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.ReadySet)
    member = session.members.get(event.body.member_id)
    if member is not None:
        member.ready = event.body.ready


def _phase_changed(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.PhaseChanged)
    session.phase = event.body.phase
    session.history.append(PhaseVisit(phase=event.body.phase, at=event.at, by=event.by))
    if len(session.history) > L.MAX_PHASE_HISTORY:
        del session.history[0]
    for member in session.members.values():
        member.ready = False
    session.timer = None


def _timer_started(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.TimerStarted)
    session.timer = event.body.timer


def _timer_stopped(session: Session, event: E.Event) -> None:
    session.timer = None


def _question_edited(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.QuestionEdited)
    session.question = event.body.question


def _card_added(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.CardAdded)
    session.cards[event.body.card.id] = copy.deepcopy(event.body.card)
    _take_id(session)


def _card_edited(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.CardEdited)
    card = session.cards.get(event.body.card_id)
    if card is not None and card.text != event.body.text:
        _trace(card.edits, event, {"text": card.text})
        card.text = event.body.text


def _card_deleted(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.CardDeleted)
    session.cards.pop(event.body.card_id, None)


def _cards_merged(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.CardsMerged)
    card = session.cards.get(event.body.source_id)
    if card is not None:
        card.merged_into = event.body.target_id


def _need_added(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.NeedAdded)
    session.needs[event.body.need.id] = copy.deepcopy(event.body.need)
    _take_id(session)


def _need_edited(session: Session, event: E.Event) -> None:
    body = event.body
    assert isinstance(body, E.NeedEdited)
    need = session.needs.get(body.need_id)
    if need is not None:
        before = {"text": need.text, "why": need.why, "success": need.success}
        if before != {"text": body.text, "why": body.why, "success": body.success}:
            _trace(need.edits, event, before)
        need.text, need.why, need.success = body.text, body.why, body.success


def _need_deleted(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.NeedDeleted)
    session.needs.pop(event.body.need_id, None)


def _needs_merged(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.NeedsMerged)
    need = session.needs.get(event.body.source_id)
    if need is not None:
        need.merged_into = event.body.target_id


def _need_settled(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.NeedSettled)
    need = session.needs.get(event.body.need_id)
    if need is not None:
        need.settled = event.body.cls


def _weight_set(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.WeightSet)
    need = session.needs.get(event.body.need_id)
    if need is not None:
        need.weight = event.body.weight


def _option_added(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.OptionAdded)
    session.options[event.body.option.id] = copy.deepcopy(event.body.option)
    _take_id(session)


def _option_edited(session: Session, event: E.Event) -> None:
    body = event.body
    assert isinstance(body, E.OptionEdited)
    option = session.options.get(body.option_id)
    if option is not None:
        before = {"title": option.title, "description": option.description}
        if before != {"title": body.title, "description": body.description}:
            _trace(option.edits, event, before)
        option.title, option.description = body.title, body.description


def _option_deleted(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.OptionDeleted)
    option_id = event.body.option_id
    session.options.pop(option_id, None)
    for note_id in [n.id for n in session.notes.values() if n.option_id == option_id]:
        del session.notes[note_id]


def _note_added(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.NoteAdded)
    session.notes[event.body.note.id] = event.body.note
    _take_id(session)


def _vote_opened(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.VoteOpened)
    vote = copy.deepcopy(event.body.vote)
    session.votes[vote.id] = vote
    if vote.kind == "consensus":
        session.last_method = vote.method
    _take_id(session)


def _ballot_cast(session: Session, event: E.Event) -> None:
    body = event.body
    assert isinstance(body, E.BallotCast)
    vote = session.votes.get(body.vote_id)
    if vote is None:
        return
    if vote.kind in ("classify", "score"):
        vote.progress[body.member_id] = body.done
    if body.complete and body.member_id not in vote.voters:
        vote.voters.append(body.member_id)
        vote.voters.sort()
    if body.ballot is not None:
        vote.ballots[body.member_id] = body.ballot
    if body.anon_ballots is not None:
        vote.anon_ballots = body.anon_ballots


def _vote_closed(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.VoteClosed)
    vote = session.votes.get(event.body.vote_id)
    if vote is not None:
        vote.accepting = False


def _vote_revealed(session: Session, event: E.Event) -> None:
    body = event.body
    assert isinstance(body, E.VoteRevealed)
    vote = session.votes.get(body.vote_id)
    if vote is None:
        return
    vote.accepting = False
    vote.revealed = True
    if body.ballots is not None:
        # The reveal carries every ballot in the relay's order; take it whole so views match.
        vote.ballots = dict(body.ballots)
    if body.anon_ballots is not None:
        vote.anon_ballots = body.anon_ballots
    if body.round is not None:
        session.rounds.append(body.round)


def _proposed(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.Proposed)
    session.proposal = event.body.proposal


def _decision_recorded(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.DecisionRecorded)
    old = session.decision
    if old is not None:
        old.superseded_at, old.superseded_by = event.at, event.by
        session.superseded.append(old)
        if len(session.superseded) > L.MAX_SUPERSEDED:
            del session.superseded[0]  # the rules refuse first; this keeps the cap for any log
    session.decision = copy.deepcopy(event.body.decision)


def _session_closed(session: Session, event: E.Event) -> None:
    session.closed = True
    session.timer = None
    for vote in session.votes.values():
        vote.accepting = False


def _budget_warned(session: Session, event: E.Event) -> None:
    pass  # a notice for people; the board itself does not change


def _member_removed(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.MemberRemoved)
    member = session.members.get(event.body.member_id)
    if member is not None:
        member.removed = True
        member.ready = False


def _codes_rotated(session: Session, event: E.Event) -> None:
    pass  # the codes are not part of the session; only the facilitator learns the new ones


def _partner_view_set(session: Session, event: E.Event) -> None:
    body = event.body
    assert isinstance(body, E.PartnerViewSet)
    if body.snapshot is not None:
        # A partner's copy: their new view of everything replaces what they had.
        fresh = copy.deepcopy(body.snapshot)
        for name in Session.__dataclass_fields__:
            setattr(session, name, getattr(fresh, name))
    session.partner_view = copy.deepcopy(body.view)


def _withheld(session: Session, event: E.Event) -> None:
    assert isinstance(event.body, E.Withheld)
    if event.body.takes_id:
        _take_id(session)


_HANDLERS: dict[type[Any], Callable[[Session, E.Event], None]] = {
    E.SessionCreated: _session_created,
    E.MemberJoined: _member_joined,
    E.ReadySet: _ready_set,
    E.PhaseChanged: _phase_changed,
    E.TimerStarted: _timer_started,
    E.TimerStopped: _timer_stopped,
    E.QuestionEdited: _question_edited,
    E.CardAdded: _card_added,
    E.CardEdited: _card_edited,
    E.CardDeleted: _card_deleted,
    E.CardsMerged: _cards_merged,
    E.NeedAdded: _need_added,
    E.NeedEdited: _need_edited,
    E.NeedDeleted: _need_deleted,
    E.NeedsMerged: _needs_merged,
    E.NeedSettled: _need_settled,
    E.WeightSet: _weight_set,
    E.OptionAdded: _option_added,
    E.OptionEdited: _option_edited,
    E.OptionDeleted: _option_deleted,
    E.NoteAdded: _note_added,
    E.VoteOpened: _vote_opened,
    E.BallotCast: _ballot_cast,
    E.VoteClosed: _vote_closed,
    E.VoteRevealed: _vote_revealed,
    E.Proposed: _proposed,
    E.DecisionRecorded: _decision_recorded,
    E.SessionClosed: _session_closed,
    E.BudgetWarned: _budget_warned,
    E.MemberRemoved: _member_removed,
    E.CodesRotated: _codes_rotated,
    E.PartnerViewSet: _partner_view_set,
    E.Withheld: _withheld,
}
assert set(_HANDLERS) == set(E.EVENT_TYPES), "every event kind needs a handler"
