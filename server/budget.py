"""One session's budgets: how many events it may ever have, and how big its board may grow."""

from __future__ import annotations

from accord.protocol import codec
from accord.protocol.commands import CloseSession, Command
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.events import BudgetWarned
from accord.protocol.model import Session

#: Share of a budget at which the facilitator is warned, once per budget.
WARN_SHARE = 0.8
MIB = 1024 * 1024


class SessionBudget:
    """Counts a session against its event and byte budgets, and says when to warn or refuse.

    The size is an upper bound kept cheaply: the last exact size (taken whenever a
    snapshot is encoded) plus every stored event since. Near the limit it is
    measured exactly before anything is refused.
    """

    def __init__(self, session: Session, max_events: int, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.size = len(codec.encode_plain(session))
        # A budget already past the warning line when the session was loaded was warned about.
        self._warned = {
            "events": session.seq >= WARN_SHARE * max_events,
            "bytes": self.size >= WARN_SHARE * max_bytes,
        }

    def grew(self, blob_bytes: int) -> None:
        """Count an event's stored bytes."""
        self.size += blob_bytes

    def measured(self, exact: int) -> None:
        """The exact encoded size of the board, just measured (at a snapshot)."""
        self.size = exact

    def refusal(self, session: Session, command: Command) -> Refusal | None:
        """Why ``command`` must be refused for budget reasons, or None.

        Closing the session is always allowed, so a full session can still end
        with its decision record.
        """
        if isinstance(command, CloseSession):
            return None
        return self.join_refusal(session)

    def join_refusal(self, session: Session) -> Refusal | None:
        """Why anything that adds to the session (a join, a command) must be refused, or None."""
        if session.seq >= self.max_events:
            return Refusal(
                ErrorCode.LIMIT,
                f"this session has had its most events ({self.max_events}); close it and"
                " start a new one from its record",
            )
        if self.size >= self.max_bytes:
            self.size = len(codec.encode_plain(session))  # the bound may be loose: measure
            if self.size >= self.max_bytes:
                return Refusal(
                    ErrorCode.LIMIT,
                    f"this session's board is at its size limit"
                    f" ({self.max_bytes / MIB:.1f} MiB); delete or merge items, or close it",
                )
        return None

    def warnings(self, session: Session) -> list[BudgetWarned]:
        """Warnings due now (each budget warns once, when it first passes the line)."""
        due: list[BudgetWarned] = []
        if not self._warned["events"] and session.seq >= WARN_SHARE * self.max_events:
            self._warned["events"] = True
            due.append(BudgetWarned(budget="events", used=session.seq, limit=self.max_events))
        if not self._warned["bytes"] and self.size >= WARN_SHARE * self.max_bytes:
            self._warned["bytes"] = True
            due.append(BudgetWarned(budget="bytes", used=self.size, limit=self.max_bytes))
        return due
