"""What a session host is asked to do: a command, a join or an attach, queued in order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from accord.protocol.commands import Command
from accord.protocol.messages import Secrets
from accord.protocol.model import Role
from websockets.asyncio.server import ServerConnection


class HostGone(Exception):
    """The session host stopped (shutdown, storage failure or deletion) before answering."""


@dataclass(eq=False, slots=True)
class CommandRequest:
    """A member's command waiting for its turn."""

    conn: ServerConnection
    member_id: str
    op: str
    command: Command
    token: str = ""  # the credential this connection said hello with (for rotate_codes)


@dataclass(eq=False, slots=True)
class JoinRequest:
    """A newcomer with a join code, waiting to become a member."""

    conn: ServerConnection
    name: str
    department: str
    role: Role
    claim: str = ""  # the client's own token for this join, if it sent one
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(eq=False, slots=True)
class AttachRequest:
    """A member (re)connecting: a resume, or the facilitator right after creating."""

    conn: ServerConnection
    member_id: str
    last_seq: int = 0
    epoch: str = ""
    token: str = ""
    secrets: Secrets | None = None
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


Request = CommandRequest | JoinRequest | AttachRequest


def give_up(request: Request) -> None:
    """Answer a request that will never be handled."""
    if isinstance(request, JoinRequest | AttachRequest) and not request.done.done():
        request.done.set_exception(HostGone("this session is unavailable; reconnect"))
