"""What a board needs from a client, as a protocol: ``Connection`` is the one implementation.

The TUI types its board against ``Client`` so that it depends on this surface
only, not on how frames move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from accord.protocol.commands import Command
from accord.protocol.messages import Secrets
from accord.protocol.model import Role, Session

from .state import ConnectionFailed, LinkState, Outgoing, Update


class Client(Protocol):
    """One member's link to a session: state to draw, commands to send, updates to hear."""

    url: str
    link: LinkState
    failure: ConnectionFailed | None

    @property
    def session(self) -> Session | None:
        """The session as this member may see it."""

    @property
    def member_id(self) -> str:
        """This member's id."""

    @property
    def role(self) -> Role:
        """This member's role."""

    @property
    def secrets(self) -> Secrets | None:
        """The session's codes, for its creator."""

    @property
    def online(self) -> set[str]:
        """Ids of members online."""

    @property
    def outbox(self) -> dict[str, Outgoing]:
        """Commands not yet answered, by op id."""

    def now(self) -> float:
        """The relay's clock as best known."""

    def submit(self, command: Command) -> Outgoing:
        """Queue a command."""

    def add_listener(self, listener: Callable[[Update], None]) -> Callable[[], None]:
        """Hear every update; returns an unsubscribe function."""

    async def finished(self) -> None:
        """Run until the link stops; raise what stopped it."""

    async def restart(self) -> None:
        """Start again after a failure, from a fresh snapshot."""
