"""What every board widget renders from: the session, who you are and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from accord.protocol.commands import Command
from accord.protocol.model import Member, Role, Session
from accord.protocol.permissions import may


@dataclass(frozen=True, slots=True)
class Context:
    """One consistent look at the session for the widgets, taken when it changed."""

    session: Session
    me: str
    online: frozenset[str]
    now: float
    #: Seconds since the link to the relay went down (None while it is up): presence is
    #: then unknown, and the relay, not the members, is what is missing.
    relay_down_for: float | None = None
    #: Your commands sent but not yet acknowledged, oldest first: panels show them at
    #: once, marked as waiting, until the relay's events replace them.
    pending: tuple[Command, ...] = ()

    @property
    def member(self) -> Member | None:
        """You, as the session knows you."""
        return self.session.members.get(self.me)

    @property
    def role(self) -> Role:
        """Your role (observer if the session does not know you yet)."""
        member = self.member
        return member.role if member else "observer"

    @property
    def is_facilitator(self) -> bool:
        """True when you drive the board."""
        return self.role == "facilitator"

    @property
    def can_vote(self) -> bool:
        """True for the facilitator and participants."""
        return may(self.role, "vote")

    @property
    def can_contribute(self) -> bool:
        """True for those who add cards, needs and options."""
        return may(self.role, "add cards")
