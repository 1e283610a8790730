"""Questions a board asks instead of deciding: may this member do that, now?

Every answer comes from the same rules the relay runs (``rules.decide`` and
the role and phase tables in ``checks``), applied to the member's own copy
of the session, so a widget never keeps a second copy of a rule.
"""

from __future__ import annotations

from . import commands as C
from .checks import CONTRIBUTORS, FACILITATOR, VOTE_PHASE, VOTERS
from .errors import Refusal
from .model import Phase, Session, VoteKind
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
    return [m.id for m in session.members.values() if m.role in VOTERS]
