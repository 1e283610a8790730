"""Events: what happened to a session, in seq order. ``reducer.apply_event`` applies them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from . import limits as L
from .model import (
    Ballot,
    Body,
    Card,
    Decision,
    Id,
    Member,
    Need,
    NeedClass,
    Note,
    OptBody,
    Option,
    Para,
    PartnerView,
    Phase,
    Proposal,
    Round,
    Seq,
    Session,
    Stamp,
    Timer,
    Vote,
    Weight,
)
from .schema import Items, Range, Text


@dataclass(slots=True)
class SessionCreated:
    """The session began with this question."""

    KIND: ClassVar[str] = "session_created"
    question: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]


@dataclass(slots=True)
class MemberJoined:
    """Someone joined with a role."""

    KIND: ClassVar[str] = "member_joined"
    member: Member


@dataclass(slots=True)
class ReadySet:
    """A member's ready flag changed."""

    KIND: ClassVar[str] = "ready_set"
    member_id: Id
    ready: bool


@dataclass(slots=True)
class PhaseChanged:
    """The board moved to a phase; everyone's ready flag resets."""

    KIND: ClassVar[str] = "phase_changed"
    phase: Phase


@dataclass(slots=True)
class TimerStarted:
    """A timebox started."""

    KIND: ClassVar[str] = "timer_started"
    timer: Timer


@dataclass(slots=True)
class TimerStopped:
    """The timebox was stopped."""

    KIND: ClassVar[str] = "timer_stopped"


@dataclass(slots=True)
class QuestionEdited:
    """The question was reworded."""

    KIND: ClassVar[str] = "question_edited"
    question: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]


@dataclass(slots=True)
class CardAdded:
    """A Learn card was added."""

    KIND: ClassVar[str] = "card_added"
    card: Card


@dataclass(slots=True)
class CardEdited:
    """A card was reworded."""

    KIND: ClassVar[str] = "card_edited"
    card_id: Id
    text: Para


@dataclass(slots=True)
class CardDeleted:
    """A card was deleted."""

    KIND: ClassVar[str] = "card_deleted"
    card_id: Id


@dataclass(slots=True)
class CardsMerged:
    """A duplicate card was folded into another."""

    KIND: ClassVar[str] = "cards_merged"
    source_id: Id
    target_id: Id


@dataclass(slots=True)
class NeedAdded:
    """A need was proposed."""

    KIND: ClassVar[str] = "need_added"
    need: Need


@dataclass(slots=True)
class NeedEdited:
    """A need was reworded."""

    KIND: ClassVar[str] = "need_edited"
    need_id: Id
    text: Body
    why: OptBody = ""
    success: OptBody = ""


@dataclass(slots=True)
class NeedDeleted:
    """A need was deleted."""

    KIND: ClassVar[str] = "need_deleted"
    need_id: Id


@dataclass(slots=True)
class NeedsMerged:
    """A duplicate need was folded into another."""

    KIND: ClassVar[str] = "needs_merged"
    source_id: Id
    target_id: Id


@dataclass(slots=True)
class NeedSettled:
    """The facilitator settled (or unsettled) a need's class."""

    KIND: ClassVar[str] = "need_settled"
    need_id: Id
    cls: NeedClass | None


@dataclass(slots=True)
class WeightSet:
    """An optional need's criterion weight changed."""

    KIND: ClassVar[str] = "weight_set"
    need_id: Id
    weight: Weight


@dataclass(slots=True)
class OptionAdded:
    """An option was added."""

    KIND: ClassVar[str] = "option_added"
    option: Option


@dataclass(slots=True)
class OptionEdited:
    """An option was reworded."""

    KIND: ClassVar[str] = "option_edited"
    option_id: Id
    title: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    description: OptBody = ""


@dataclass(slots=True)
class OptionDeleted:
    """An option was deleted."""

    KIND: ClassVar[str] = "option_deleted"
    option_id: Id


@dataclass(slots=True)
class NoteAdded:
    """An information note was added to an option."""

    KIND: ClassVar[str] = "note_added"
    note: Note


@dataclass(slots=True)
class VoteOpened:
    """A vote opened."""

    KIND: ClassVar[str] = "vote_opened"
    vote: Vote


@dataclass(slots=True)
class BallotCast:
    """A member's ballot now reads ``ballot``.

    In the log ``ballot`` is always there. In a member's view it is absent
    when they may not see it (only *who* voted shows); for an anonymous vote
    whose results are visible, ``member_id`` still says who voted but the
    ballots come only as the unkeyed ``anon_ballots`` list.
    """

    KIND: ClassVar[str] = "ballot_cast"
    vote_id: Id
    member_id: Id
    ballot: Ballot | None = None
    anon_ballots: Annotated[list[Ballot], Items(L.MAX_MEMBERS)] | None = None
    #: How many items the ballot answers now (classify and score votes).
    done: Annotated[int, Range(0, L.MAX_MARKS)] = 0
    #: True when the ballot answers every item; only then is the member a voter.
    complete: bool = True


@dataclass(slots=True)
class VoteClosed:
    """A vote stopped accepting ballots; results stay as they were."""

    KIND: ClassVar[str] = "vote_closed"
    vote_id: Id


@dataclass(slots=True)
class VoteRevealed:
    """A vote closed and its results became visible.

    In the log the ballot fields are empty (the session holds them); each
    member's view carries the ballots they may now see.
    """

    KIND: ClassVar[str] = "vote_revealed"
    vote_id: Id
    round: Round | None = None
    ballots: Annotated[dict[str, Ballot], Items(L.MAX_MEMBERS), Text(L.ID_CHARS)] | None = None
    anon_ballots: Annotated[list[Ballot], Items(L.MAX_MEMBERS)] | None = None


@dataclass(slots=True)
class Proposed:
    """The facilitator put a proposal to the group."""

    KIND: ClassVar[str] = "proposed"
    proposal: Proposal


@dataclass(slots=True)
class DecisionRecorded:
    """The decision was recorded."""

    KIND: ClassVar[str] = "decision_recorded"
    decision: Decision


@dataclass(slots=True)
class SessionClosed:
    """The session closed; nothing more can change."""

    KIND: ClassVar[str] = "session_closed"


@dataclass(slots=True)
class BudgetWarned:
    """The relay warns that the session nears one of its budgets (events, or board bytes)."""

    KIND: ClassVar[str] = "budget_warned"
    budget: Literal["events", "bytes"]
    used: Seq
    limit: Seq


@dataclass(slots=True)
class MemberRemoved:
    """The facilitator removed a member; what they contributed stays."""

    KIND: ClassVar[str] = "member_removed"
    member_id: Id


@dataclass(slots=True)
class CodesRotated:
    """The facilitator replaced the join codes; the old ones no longer work."""

    KIND: ClassVar[str] = "codes_rotated"


@dataclass(slots=True)
class PartnerViewSet:
    """The facilitator changed what the partner may see.

    In a partner's copy ``snapshot`` is their whole new view of the session: apply
    it by replacing the session with it. Everyone else gets no snapshot.
    """

    KIND: ClassVar[str] = "partner_view_set"
    view: PartnerView
    snapshot: Session | None = None


@dataclass(slots=True)
class Withheld:
    """Something the partner may not see happened (only partners receive this kind).

    ``takes_id``: the hidden change used an id, so ``next_id`` still advances.
    """

    KIND: ClassVar[str] = "withheld"
    takes_id: bool = False


EventBody = (
    SessionCreated
    | MemberJoined
    | ReadySet
    | PhaseChanged
    | TimerStarted
    | TimerStopped
    | QuestionEdited
    | CardAdded
    | CardEdited
    | CardDeleted
    | CardsMerged
    | NeedAdded
    | NeedEdited
    | NeedDeleted
    | NeedsMerged
    | NeedSettled
    | WeightSet
    | OptionAdded
    | OptionEdited
    | OptionDeleted
    | NoteAdded
    | VoteOpened
    | BallotCast
    | VoteClosed
    | VoteRevealed
    | Proposed
    | DecisionRecorded
    | SessionClosed
    | BudgetWarned
    | MemberRemoved
    | CodesRotated
    | PartnerViewSet
    | Withheld
)

EVENT_TYPES: tuple[type, ...] = EventBody.__args__


@dataclass(slots=True)
class Event:
    """One sequenced change: its seq, server time, author, the author's op id, and body."""

    seq: Seq
    at: Stamp
    by: Id
    body: EventBody
    op: Annotated[str, Text(L.ID_CHARS)] = ""
