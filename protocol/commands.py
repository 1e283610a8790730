"""Commands: what a member asks the session to do. The rules turn them into events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from . import limits as L
from .model import (
    Body,
    ConsensusMethod,
    Date,
    Id,
    Lane,
    Long,
    NeedClass,
    OptBody,
    OptionKind,
    Para,
    PartnerView,
    Phase,
    Short,
    Statement,
    VoteKind,
    Weight,
)
from .schema import Items, Range, Text


@dataclass(slots=True)
class SetPhase:
    """Facilitator: move the board to a phase (forward or back)."""

    KIND: ClassVar[str] = "set_phase"
    phase: Phase


@dataclass(slots=True)
class SetReady:
    """Anyone: say you are (or are no longer) ready to move on."""

    KIND: ClassVar[str] = "set_ready"
    ready: bool


@dataclass(slots=True)
class StartTimer:
    """Facilitator: start a timebox."""

    KIND: ClassVar[str] = "start_timer"
    seconds: Annotated[int, Range(1, L.MAX_TIMER_SECONDS)]
    label: Short = ""


@dataclass(slots=True)
class StopTimer:
    """Facilitator: stop the timebox."""

    KIND: ClassVar[str] = "stop_timer"


@dataclass(slots=True)
class EditQuestion:
    """Facilitator: reword the question the session is deciding."""

    KIND: ClassVar[str] = "edit_question"
    question: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]


@dataclass(slots=True)
class AddCard:
    """Add a Learn card to a lane."""

    KIND: ClassVar[str] = "add_card"
    lane: Lane
    text: Para


@dataclass(slots=True)
class EditCard:
    """Reword a card (its author or the facilitator)."""

    KIND: ClassVar[str] = "edit_card"
    card_id: Id
    text: Para


@dataclass(slots=True)
class DeleteCard:
    """Facilitator: delete a card."""

    KIND: ClassVar[str] = "delete_card"
    card_id: Id


@dataclass(slots=True)
class MergeCards:
    """Facilitator: fold a duplicate card into another."""

    KIND: ClassVar[str] = "merge_cards"
    source_id: Id
    target_id: Id


@dataclass(slots=True)
class AddNeed:
    """Propose a need with why it matters and how success would show."""

    KIND: ClassVar[str] = "add_need"
    text: Body
    why: OptBody = ""
    success: OptBody = ""


@dataclass(slots=True)
class EditNeed:
    """Reword a need (its author or the facilitator)."""

    KIND: ClassVar[str] = "edit_need"
    need_id: Id
    text: Body
    why: OptBody = ""
    success: OptBody = ""


@dataclass(slots=True)
class DeleteNeed:
    """Facilitator: delete a need."""

    KIND: ClassVar[str] = "delete_need"
    need_id: Id


@dataclass(slots=True)
class MergeNeeds:
    """Facilitator: fold a duplicate need into another."""

    KIND: ClassVar[str] = "merge_needs"
    source_id: Id
    target_id: Id


@dataclass(slots=True)
class SettleNeed:
    """Facilitator: settle a need's class (or unsettle it with None)."""

    KIND: ClassVar[str] = "settle_need"
    need_id: Id
    cls: NeedClass | None


@dataclass(slots=True)
class SetWeight:
    """Facilitator: set the weight of an optional need's criterion."""

    KIND: ClassVar[str] = "set_weight"
    need_id: Id
    weight: Weight


@dataclass(slots=True)
class AddOption:
    """Add an option to assess."""

    KIND: ClassVar[str] = "add_option"
    kind: OptionKind
    title: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    description: OptBody = ""


@dataclass(slots=True)
class EditOption:
    """Reword an option (its author or the facilitator)."""

    KIND: ClassVar[str] = "edit_option"
    option_id: Id
    title: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    description: OptBody = ""


@dataclass(slots=True)
class DeleteOption:
    """Facilitator: delete an option (never the baseline)."""

    KIND: ClassVar[str] = "delete_option"
    option_id: Id


@dataclass(slots=True)
class AddNote:
    """Add an information note to an option (the partner's way to help)."""

    KIND: ClassVar[str] = "add_note"
    option_id: Id
    text: Para


@dataclass(slots=True)
class OpenVote:
    """Facilitator: open a vote of one kind."""

    KIND: ClassVar[str] = "open_vote"
    kind: VoteKind
    hidden: bool = True
    anonymous: bool = False
    title: Short = ""
    dots: Annotated[int, Range(1, L.MAX_DOTS)] = 5
    max_per_item: Annotated[int, Range(0, L.MAX_DOTS)] = 0
    lane: Lane | None = None
    method: ConsensusMethod = "fist"


@dataclass(slots=True)
class Cast:
    """Mark items in an open vote; marks merge into your ballot (dots: 0 removes)."""

    KIND: ClassVar[str] = "cast"
    vote_id: Id
    marks: Annotated[dict[str, int], Items(L.MAX_MARKS), Text(2 * L.ID_CHARS + 1)]
    reason: OptBody = ""


@dataclass(slots=True)
class CloseVote:
    """Facilitator: stop accepting ballots without revealing them."""

    KIND: ClassVar[str] = "close_vote"
    vote_id: Id


@dataclass(slots=True)
class RevealVote:
    """Facilitator: stop accepting ballots and show the results."""

    KIND: ClassVar[str] = "reveal_vote"
    vote_id: Id


@dataclass(slots=True)
class Propose:
    """Facilitator: put an option and a decision statement to the group."""

    KIND: ClassVar[str] = "propose"
    option_id: Id
    statement: Statement


@dataclass(slots=True)
class RecordDecision:
    """Facilitator: record the decision with rationale, dissent and a review date."""

    KIND: ClassVar[str] = "record_decision"
    option_id: Id
    statement: Statement
    rationale: Long = ""
    dissent: Long = ""
    review_date: Date = ""
    #: Record it although no round passed on this option and statement (needs a dissent).
    without_consensus: bool = False


@dataclass(slots=True)
class CloseSession:
    """Facilitator: close the session; the decision record is written."""

    KIND: ClassVar[str] = "close_session"


@dataclass(slots=True)
class RemoveMember:
    """Facilitator: remove a member; their token stops working, their contributions stay."""

    KIND: ClassVar[str] = "remove_member"
    member_id: Id


@dataclass(slots=True)
class RotateCodes:
    """Facilitator: replace the three join codes; the new ones come back in the ack."""

    KIND: ClassVar[str] = "rotate_codes"


@dataclass(slots=True)
class SetPartnerView:
    """Facilitator: choose what the partner role may see (the relay enforces it)."""

    KIND: ClassVar[str] = "set_partner_view"
    view: PartnerView


Command = (
    SetPhase
    | SetReady
    | StartTimer
    | StopTimer
    | EditQuestion
    | AddCard
    | EditCard
    | DeleteCard
    | MergeCards
    | AddNeed
    | EditNeed
    | DeleteNeed
    | MergeNeeds
    | SettleNeed
    | SetWeight
    | AddOption
    | EditOption
    | DeleteOption
    | AddNote
    | OpenVote
    | Cast
    | CloseVote
    | RevealVote
    | Propose
    | RecordDecision
    | CloseSession
    | RemoveMember
    | RotateCodes
    | SetPartnerView
)

COMMAND_TYPES: tuple[type, ...] = Command.__args__
