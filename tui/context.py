"""What every board widget renders from: the session, who you are and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from accord.protocol import permissions
from accord.protocol.model import Member, Role, Session


@dataclass(frozen=True, slots=True)
class Context:
    """One consistent look at the session for the widgets, taken when it changed."""

    session: Session
    me: str
    online: frozenset[str]
    now: float

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
        return permissions.is_facilitator(self.session, self.me)

    @property
    def can_vote(self) -> bool:
        """True for the roles that cast ballots (``protocol.permissions``)."""
        return permissions.can_vote(self.session, self.me)

    @property
    def can_contribute(self) -> bool:
        """True for those who add cards, needs and options (``protocol.permissions``)."""
        return permissions.can_contribute(self.session, self.me)
