"""The session model: members, the phase board, needs, options, votes and the decision.

These dataclasses are both the in-memory state (server and client) and the
snapshot format on the wire. They are mutated only by ``reducer.apply_event``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from . import limits as L
from .pieces import OUTCOMES, Criterion, Edit, Outcome, PartnerView, Stance, VoteNeed
from .schema import Items, Range, Text

__all__ = ["OUTCOMES", "Criterion", "Edit", "Outcome", "PartnerView", "Stance", "VoteNeed"]

Id = Annotated[str, Text(L.ID_CHARS, 1)]
Name = Annotated[str, Text(L.NAME_CHARS, 1)]
Department = Annotated[str, Text(L.DEPARTMENT_CHARS)]
Short = Annotated[str, Text(L.SHORT_TEXT_CHARS)]
#: One line of text (a need's own text).
Body = Annotated[str, Text(L.TEXT_CHARS, 1)]
#: Text that may run to several lines (card and note text, objections).
Para = Annotated[str, Text(L.TEXT_CHARS, 1, lines=True)]
#: Optional text of several lines (why, success, description, reason).
OptBody = Annotated[str, Text(L.TEXT_CHARS, lines=True)]
#: Long text of several lines (statements, rationale, dissent, summaries).
Long = Annotated[str, Text(L.LONG_TEXT_CHARS, lines=True)]
#: A required statement of several lines.
Statement = Annotated[str, Text(L.LONG_TEXT_CHARS, 1, lines=True)]
Stamp = Annotated[float, Range(0, 1e11)]
Seq = Annotated[int, Range(0, 2**53)]
Weight = Annotated[int, Range(1, L.MAX_WEIGHT)]
Date = Annotated[str, Text(10)]

Role = Literal["facilitator", "participant", "observer", "partner"]
Phase = Literal["learn", "needs", "options", "decide"]
Lane = Literal["value", "no_change", "stakeholders"]
NeedClass = Literal["must", "optional", "not_a_need"]
OptionKind = Literal["baseline", "partnership", "internal", "outsourcing", "other"]
VoteKind = Literal["dots", "classify", "score", "consensus"]
ConsensusMethod = Literal["fist", "consent"]

ROLES: tuple[Role, ...] = ("facilitator", "participant", "observer", "partner")
PHASES: tuple[Phase, ...] = ("learn", "needs", "options", "decide")
LANES: tuple[Lane, ...] = ("value", "no_change", "stakeholders")
NEED_CLASSES: tuple[NeedClass, ...] = ("must", "optional", "not_a_need")
OPTION_KINDS: tuple[OptionKind, ...] = (
    "baseline",
    "partnership",
    "internal",
    "outsourcing",
    "other",
)

PHASE_TITLES: dict[Phase, str] = {
    "learn": "Learn",
    "needs": "Needs",
    "options": "Options",
    "decide": "Decide",
}
LANE_TITLES: dict[Lane, str] = {
    "value": "Value we are after",
    "no_change": "If nothing changes",
    "stakeholders": "What stakeholders say",
}
CLASS_TITLES: dict[NeedClass, str] = {
    "must": "must",
    "optional": "optional",
    "not_a_need": "not a need",
}
KIND_TITLES: dict[OptionKind, str] = {
    "baseline": "no change",
    "partnership": "partnership",
    "internal": "internal change",
    "outsourcing": "outsourcing",
    "other": "other",
}

#: Classify ballots mark each need with one of these numbers.
CLASS_MARK: dict[NeedClass, int] = {"not_a_need": 0, "optional": 1, "must": 2}
MARK_CLASS: dict[int, NeedClass] = {v: k for k, v in CLASS_MARK.items()}
#: Consent ballots mark the proposal ("" key) with one of these numbers.
CONSENT_OBJECT, CONSENT_STAND_ASIDE, CONSENT_AGREE = 0, 1, 2
CONSENT_TITLES: dict[int, str] = {0: "object", 1: "stand aside", 2: "agree"}
#: The single mark key a consensus ballot uses.
PROPOSAL_KEY = "proposal"
#: Id of the always-present "no change" option.
BASELINE_ID = "baseline"


@dataclass(slots=True)
class Member:
    """A person in the session, with their role and readiness."""

    id: Id
    name: Name
    role: Role
    department: Department = ""
    ready: bool = False
    joined_at: Stamp = 0.0
    #: removed by the facilitator: their token no longer works; what they added stays
    removed: bool = False


@dataclass(slots=True)
class Card:
    """A Learn-phase card in one of the three lanes."""

    id: Id
    lane: Lane
    text: Para
    author: Id
    merged_into: Id | None = None
    #: Earlier wordings, oldest first (the original always kept; see ``limits.MAX_EDITS``).
    edits: Annotated[list[Edit], Items(L.MAX_EDITS)] = field(default_factory=list)


@dataclass(slots=True)
class Need:
    """A proposed need: what it is, why it matters and how success shows."""

    id: Id
    text: Body
    why: OptBody = ""
    success: OptBody = ""
    department: Department = ""
    author: Id = "?"
    settled: NeedClass | None = None
    weight: Weight = 3
    merged_into: Id | None = None
    #: Earlier wordings, oldest first (the original always kept; see ``limits.MAX_EDITS``).
    edits: Annotated[list[Edit], Items(L.MAX_EDITS)] = field(default_factory=list)


@dataclass(slots=True)
class Note:
    """An information note on an option, e.g. honest facts from the partner."""

    id: Id
    option_id: Id
    text: Para
    author: Id
    role: Role


@dataclass(slots=True)
class Option:
    """A way to deliver the needs; the "no change" baseline is always present."""

    id: Id
    kind: OptionKind
    title: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    description: OptBody = ""
    author: Id = "?"
    #: Earlier wordings, oldest first (the original always kept; see ``limits.MAX_EDITS``).
    edits: Annotated[list[Edit], Items(L.MAX_EDITS)] = field(default_factory=list)


@dataclass(slots=True)
class Ballot:
    """One member's marks in a vote (item key -> number), plus a reason for objections."""

    marks: Annotated[dict[str, int], Items(L.MAX_MARKS), Text(2 * L.ID_CHARS + 1)]
    reason: OptBody = ""


@dataclass(slots=True)
class Vote:
    """A live vote of one kind, with its settings and the ballots this viewer may see.

    On the server ``ballots`` holds every ballot. In a member's view it holds
    only their own ballot unless results are visible and the vote is not
    anonymous; anonymous results arrive as ``anon_ballots`` with no identity.
    """

    id: Id
    kind: VoteKind
    phase: Phase
    title: Short = ""
    hidden: bool = True
    anonymous: bool = False
    accepting: bool = True
    revealed: bool = False
    method: ConsensusMethod = "fist"
    dots: Annotated[int, Range(1, L.MAX_DOTS)] = 5
    max_per_item: Annotated[int, Range(0, L.MAX_DOTS)] = 0
    lane: Lane | None = None
    option_id: Id | None = None
    statement: Long = ""
    opened_at: Stamp = 0.0
    voters: Annotated[list[Id], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    ballots: Annotated[dict[str, Ballot], Items(L.MAX_MEMBERS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    anon_ballots: Annotated[list[Ballot], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    #: Who was expected to vote: the facilitator and participants when the vote opened.
    eligible: Annotated[list[Id], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    #: Classify: the needs (and their wording) the vote opened on.
    needs: Annotated[list[VoteNeed], Items(L.MAX_NEEDS)] = field(default_factory=list)
    #: Score: the criteria (gate or weighted, weight, wording) the vote opened on.
    criteria: Annotated[list[Criterion], Items(L.MAX_NEEDS)] = field(default_factory=list)
    #: Score: the options the vote opened on.
    option_ids: Annotated[list[Id], Items(L.MAX_OPTIONS)] = field(default_factory=list)
    #: Member id -> how many items their ballot answers (classify and score votes).
    progress: Annotated[dict[str, int], Items(L.MAX_MEMBERS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    #: Views' memo of the sorted anonymous rows, keyed by the session seq (never on the wire).
    rows_memo: tuple[int, list[Ballot]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def results_visible(self) -> bool:
        """True when tallies may be shown: a live vote, or one that was revealed."""
        return self.revealed or not self.hidden

    @property
    def status(self) -> str:
        """One word for people: open, hidden, revealed or closed."""
        if self.revealed:
            return "revealed"
        if not self.accepting:
            return "closed"
        return "hidden" if self.hidden else "open"


@dataclass(slots=True)
class Round:
    """One consensus round on a proposal, as recorded when its vote was revealed."""

    vote_id: Id
    option_id: Id
    statement: Long
    method: ConsensusMethod
    passed: bool
    summary: Long
    objections: Annotated[list[Para], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    outcome: Outcome = "incomplete"
    #: 1 for the session's first consensus vote, 2 for the next, ... (stable, never reused).
    number: Annotated[int, Range(0, L.MAX_ROUNDS)] = 0
    anonymous: bool = False
    eligible: Annotated[list[Id], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    #: Eligible members who had not answered when the round ended.
    missing: Annotated[list[Id], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    #: Who answered what, with reasons; empty for anonymous rounds.
    stances: Annotated[list[Stance], Items(L.MAX_MEMBERS)] = field(default_factory=list)


@dataclass(slots=True)
class Proposal:
    """The option and statement the facilitator put to the group."""

    option_id: Id
    statement: Long


@dataclass(slots=True)
class Decision:
    """The recorded decision: what was chosen, why, who dissents and when to review."""

    option_id: Id
    statement: Long
    rationale: Long = ""
    dissent: Long = ""
    review_date: Date = ""
    recorded_at: Stamp = 0.0
    recorded_by: Annotated[str, Text(L.ID_CHARS)] = ""
    #: The number of the passed round it rests on; 0 when recorded without consensus.
    round_number: Annotated[int, Range(0, L.MAX_ROUNDS)] = 0
    without_consensus: bool = False
    #: Set when a later decision replaced this one.
    superseded_at: Stamp = 0.0
    superseded_by: Annotated[str, Text(L.ID_CHARS)] = ""


@dataclass(slots=True)
class Timer:
    """A facilitator's timebox for the current phase."""

    label: Short
    started_at: Stamp
    seconds: Annotated[int, Range(1, L.MAX_TIMER_SECONDS)]

    @property
    def ends_at(self) -> float:
        """When the timebox runs out, in epoch seconds."""
        return self.started_at + self.seconds


@dataclass(slots=True)
class PhaseVisit:
    """One move of the board, kept so the record can show the path taken."""

    phase: Phase
    at: Stamp
    by: Id


@dataclass(slots=True)
class Session:
    """The whole state of one decision session, as the rules and views see it."""

    id: Id
    question: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    created_at: Stamp
    phase: Phase = "learn"
    closed: bool = False
    seq: Seq = 0
    members: Annotated[dict[str, Member], Items(L.MAX_MEMBERS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    history: Annotated[list[PhaseVisit], Items(L.MAX_PHASE_HISTORY)] = field(default_factory=list)
    cards: Annotated[dict[str, Card], Items(L.MAX_CARDS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    needs: Annotated[dict[str, Need], Items(L.MAX_NEEDS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    options: Annotated[dict[str, Option], Items(L.MAX_OPTIONS), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    notes: Annotated[dict[str, Note], Items(L.MAX_NOTES), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    votes: Annotated[dict[str, Vote], Items(L.MAX_VOTES), Text(L.ID_CHARS)] = field(
        default_factory=dict
    )
    proposal: Proposal | None = None
    rounds: Annotated[list[Round], Items(L.MAX_ROUNDS)] = field(default_factory=list)
    decision: Decision | None = None
    timer: Timer | None = None
    next_id: Annotated[int, Range(0, 2**53)] = 1
    #: member id -> recent op ids -> the seq that answered them (idempotent retries).
    ops: Annotated[
        dict[str, Annotated[dict[str, int], Items(L.OP_MEMORY + 1), Text(L.ID_CHARS)]],
        Items(L.MAX_MEMBERS),
        Text(L.ID_CHARS),
    ] = field(default_factory=dict)
    #: Earlier decisions, oldest first, each replaced by the next.
    superseded: Annotated[list[Decision], Items(L.MAX_SUPERSEDED)] = field(default_factory=list)
    #: What the partner role may see (enforced by ``views``).
    partner_view: PartnerView = field(default_factory=PartnerView)
    #: The consensus method of the last round opened; the next round defaults to it.
    last_method: ConsensusMethod = "fist"

    def live_cards(self) -> list[Card]:
        """Cards not merged into another, in creation order."""
        return [c for c in self.cards.values() if c.merged_into is None]

    def live_needs(self) -> list[Need]:
        """Needs not merged into another, in creation order."""
        return [n for n in self.needs.values() if n.merged_into is None]

    def open_vote(self, kind: VoteKind | None = None) -> Vote | None:
        """The vote still accepting ballots (of ``kind``, if given), if any."""
        for vote in reversed(self.votes.values()):
            if vote.accepting and (kind is None or vote.kind == kind):
                return vote
        return None

    def latest_vote(self, kind: VoteKind) -> Vote | None:
        """The most recently opened vote of ``kind``, open or not."""
        for vote in reversed(self.votes.values()):
            if vote.kind == kind:
                return vote
        return None


def new_session(session_id: str, question: str, created_at: float) -> Session:
    """A fresh session in the Learn phase with the "no change" baseline option."""
    session = Session(id=session_id, question=question, created_at=created_at)
    session.options[BASELINE_ID] = Option(
        id=BASELINE_ID,
        kind="baseline",
        title="No change",
        description="Keep things as they are; every other option is measured against this.",
        author="accord",
    )
    return session
