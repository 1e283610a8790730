"""Questions a board asks instead of deciding: may this member do that, now?

Every answer comes from the same rules the relay runs (``rules.decide`` and
the role and phase tables in ``checks``), applied to the member's own copy
of the session, so a widget never keeps a second copy of a rule. ``may`` and
``why_not`` answer the role part alone, before a key is offered: a role allowed
there may still be refused for other reasons (phase, a closed vote, an item that
is not yours); a role refused there is always refused by the relay.
"""

from __future__ import annotations

from . import commands as C
from .checks import CONTRIBUTORS, EVERYONE_ACTIVE, FACILITATOR, VOTE_PHASE, VOTERS
from .errors import Refusal
from .model import Phase, Role, Session, VoteKind
from .rules import decide

__all__ = ["CONTRIBUTORS", "FACILITATOR", "VOTERS", "VOTE_PHASE"]


def refusal(
    session: Session, member_id: str, command: C.Command, now: float = 0.0
) -> Refusal | None:
    """Why the relay would refuse ``command`` from ``member_id`` now, or None if it would not.

    Run on a member's own copy, so a check that needs other members' hidden ballots
    (none does today) could differ from the relay's answer; the relay stays the judge.
    """
    try:
        decide(session, member_id, command, now)
    except Refusal as found:
        return found
    return None


def allowed(session: Session, member_id: str, command: C.Command, now: float = 0.0) -> bool:
    """True when the relay would accept ``command`` from ``member_id`` now."""
    return refusal(session, member_id, command, now) is None


def _role(session: Session, member_id: str) -> str:
    member = session.members.get(member_id)
    return member.role if member else "observer"


def is_facilitator(session: Session, member_id: str) -> bool:
    """True for the session's facilitator."""
    return _role(session, member_id) in FACILITATOR


def can_vote(session: Session, member_id: str) -> bool:
    """True for the roles that cast ballots (facilitator and participants)."""
    return _role(session, member_id) in VOTERS


def can_contribute(session: Session, member_id: str) -> bool:
    """True for the roles that add cards, needs and options (in their phases)."""
    return _role(session, member_id) in CONTRIBUTORS


def vote_kind_of(phase: Phase) -> VoteKind:
    """The kind of vote held in ``phase`` (dots in Learn, ..., consensus in Decide)."""
    for kind, where in VOTE_PHASE.items():
        if where == phase:
            return kind  # type: ignore[return-value]
    raise AssertionError(f"no vote kind for {phase}")  # every phase has one (checks.VOTE_PHASE)


def voters_now(session: Session) -> list[str]:
    """Who would be eligible in a vote opened now, in join order."""
    return [m.id for m in session.members.values() if m.role in VOTERS and not m.removed]


#: What a member may do, by the words the board and the relay use for it.
ABILITIES: dict[str, frozenset[Role]] = {
    "move the board": FACILITATOR,
    "open, reveal or close votes": FACILITATOR,
    "run the timebox": FACILITATOR,
    "reword the question": FACILITATOR,
    "invite people": FACILITATOR,
    "close the session": FACILITATOR,
    "delete or merge items": FACILITATOR,
    "settle a need's class": FACILITATOR,
    "set weights": FACILITATOR,
    "make a proposal": FACILITATOR,
    "record the decision": FACILITATOR,
    "mark themselves ready": EVERYONE_ACTIVE,
    "add notes": EVERYONE_ACTIVE,
    "add cards": CONTRIBUTORS,
    "propose needs": CONTRIBUTORS,
    "add options": CONTRIBUTORS,
    # Editing also needs the item to be yours (or you the facilitator); this is the role part.
    "edit cards, needs and options": CONTRIBUTORS,
    "vote": VOTERS,
}


def may(role: Role, doing: str) -> bool:
    """Whether ``role`` may ever ``doing`` (a key of ``ABILITIES``).

    Raises:
        KeyError: ``doing`` is not a known ability (a bug in the caller).
    """
    return role in ABILITIES[doing]


def why_not(role: Role, doing: str) -> str:
    """One line saying why ``role`` may not ``doing``, or ``""`` when it may."""
    roles = ABILITIES[doing]
    if role in roles:
        return ""
    if roles == FACILITATOR:
        return f"Only the facilitator can {doing}."
    article = "An" if role[0] in "aeiou" else "A"
    return f"{article} {role} cannot {doing}."
