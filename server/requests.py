"""What a session host is asked to do, queued in order: a command, a join, an attach, or news."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TypeAlias

from accord.protocol.commands import Command
from accord.protocol.messages import Secrets
from accord.protocol.model import Role
from websockets.asyncio.server import ServerConnection

from .store import StoredEvent


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
    queued: float = field(default_factory=time.perf_counter)


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


@dataclass(eq=False, slots=True)
class Heard:
    """News about a session from its store: events committed elsewhere, or its head."""

    epoch: str
    seq: int
    events: list[StoredEvent] = field(default_factory=list)
    gone: bool = False  # deleted by an operator, or missing from the store


Request: TypeAlias = CommandRequest | JoinRequest | AttachRequest | Heard


def give_up(request: Request) -> None:
    """Answer a request that will never be handled."""
    if isinstance(request, JoinRequest | AttachRequest) and not request.done.done():
        request.done.set_exception(HostGone("this session is unavailable; reconnect"))
