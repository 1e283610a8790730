"""What every rule checks first: roles, phase, caps, and that the named things exist.

Shared by ``rules`` (board, learn, needs and options commands) and ``vote_rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import limits as L
from .errors import ErrorCode, Refusal
from .model import PHASE_TITLES, Card, Member, Need, Option, Phase, Role, Session, Vote

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

    members: int = L.MAX_MEMBERS  # the facilitator and participants
    cards: int = L.MAX_CARDS
    needs: int = L.MAX_NEEDS
    options: int = L.MAX_OPTIONS
    notes: int = L.MAX_NOTES
    votes: int = L.MAX_VOTES
    observers: int = L.MAX_MEMBERS
    partners: int = L.MAX_MEMBERS


@dataclass(frozen=True, slots=True)
class Ctx:
    session: Session
    member: Member
    now: float
    caps: Caps


def require_role(ctx: Ctx, roles: frozenset[Role], doing: str) -> None:
    if ctx.member.role not in roles:
        if roles == FACILITATOR:
            raise Refusal(ErrorCode.FORBIDDEN, f"only the facilitator can {doing}")
        raise Refusal(ErrorCode.FORBIDDEN, f"a {ctx.member.role} cannot {doing}")


def require_phase(ctx: Ctx, phases: tuple[Phase, ...], doing: str) -> None:
    if ctx.session.phase not in phases:
        names = " or ".join(PHASE_TITLES[p] for p in phases)
        now = PHASE_TITLES[ctx.session.phase]
        raise Refusal(ErrorCode.WRONG_PHASE, f"you can {doing} in {names}; the board is in {now}")


def require_owner_or_facilitator(ctx: Ctx, author: str, doing: str) -> None:
    if ctx.member.role != "facilitator" and ctx.member.id != author:
        raise Refusal(ErrorCode.FORBIDDEN, f"only its author or the facilitator can {doing}")


def require_room(count: int, cap: int, what: str) -> None:
    if count >= cap:
        raise Refusal(ErrorCode.LIMIT, f"this session already has the most {what} allowed ({cap})")


def new_id(session: Session, prefix: str) -> str:
    return f"{prefix}{session.next_id}"


def find_card(session: Session, card_id: str) -> Card:
    card = session.cards.get(card_id)
    if card is None or card.merged_into is not None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no card {card_id}")
    return card


def find_need(session: Session, need_id: str) -> Need:
    need = session.needs.get(need_id)
    if need is None or need.merged_into is not None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no need {need_id}")
    return need


def find_option(session: Session, option_id: str) -> Option:
    option = session.options.get(option_id)
    if option is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no option {option_id}")
    return option


def find_vote(session: Session, vote_id: str) -> Vote:
    vote = session.votes.get(vote_id)
    if vote is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"there is no vote {vote_id}")
    return vote


def require_no_open_vote(session: Session, kinds: tuple[str, ...], doing: str) -> None:
    for vote in session.votes.values():
        if vote.accepting and vote.kind in kinds:
            raise Refusal(ErrorCode.CONFLICT, f"close the open {vote.kind} vote before you {doing}")
