"""What every board widget renders from: the session, who you are and the clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from accord.client import Outgoing
from accord.protocol import permissions
from accord.protocol.commands import Cast, Command
from accord.protocol.model import Member, Role, Session

#: Your answers sent and not yet confirmed: vote id -> mark key -> value.
Pending = Mapping[str, Mapping[str, int]]
NO_PENDING: Pending = MappingProxyType({})


def pending_marks(outbox: Iterable[Outgoing]) -> Pending:
    """Marks of the ballots you sent that the relay has not confirmed, by vote.

    Derived from the client's outbox (its unanswered commands, oldest first), so
    a later press on the same item wins, an ack removes the mark and a refusal
    drops it: the grid then shows the session again.
    """
    out: dict[str, dict[str, int]] = {}
    for sent in outbox:
        command = sent.command
        if sent.state == "pending" and isinstance(command, Cast):
            out.setdefault(command.vote_id, {}).update(command.marks)
    return out


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
    waiting: tuple[Command, ...] = ()
    #: Your answers on their way to the relay (``pending_marks`` of the outbox).
    pending: Pending = field(default_factory=dict)

    @property
    def member(self) -> Member | None:
        """You, as the session knows you."""
        return self.session.members.get(self.me)

    @property
    def role(self) -> Role:
        """Your role (observer if the session does not know you yet)."""
        member = self.member
        return member.role if member else "observer"

    def pending_mark(self, vote_id: str, key: str) -> int | None:
        """Your answer for ``key`` in a vote if it is still on its way, else None."""
        marks = self.pending.get(vote_id)
        return marks.get(key) if marks is not None else None

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
