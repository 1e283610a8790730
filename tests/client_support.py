"""Test helpers around the client library: a board with no network, and waiting on a client.

``StillClient`` is a ``accord.client.Client`` that shows a fixed session (welcomed
through the real ``ClientState``) and never dials out: the snapshot and widget
tests draw a board from it. ``wait_until`` polls a condition on a live client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from accord.client import ClientState, Connection, ConnectionFailed, LinkState, Outgoing, Update
from accord.protocol.commands import Command
from accord.protocol.messages import Hello, Secrets, Welcome
from accord.protocol.model import Role, Session


class StillClient:
    """A client that shows ``session`` as ``member_id`` and records what it is asked to send."""

    url = "preview"

    def __init__(self, session: Session, member_id: str, *, online: set[str] | None = None) -> None:
        self.state = ClientState(Hello(token="preview"))
        member = session.members.get(member_id)
        welcome = Welcome(
            session_id=session.id,
            member_id=member_id,
            role=member.role if member else "observer",
            epoch="preview",
            seq=session.seq,
            mode="snapshot",
            snapshot=session,
            online=sorted(session.members if online is None else online),
        )
        self.state.take_welcome(welcome, time.time())
        self.link = LinkState("connected")
        self.failure: ConnectionFailed | None = None
        self.sent: list[Command] = []

    @property
    def session(self) -> Session | None:
        """The fixed session."""
        return self.state.session

    @property
    def member_id(self) -> str:
        """The viewer."""
        return self.state.member_id

    @property
    def role(self) -> Role:
        """The viewer's role."""
        return self.state.role

    @property
    def secrets(self) -> Secrets | None:
        """None: a preview holds no codes."""
        return self.state.secrets

    @property
    def online(self) -> set[str]:
        """Who shows as online."""
        return self.state.online

    @property
    def outbox(self) -> dict[str, Outgoing]:
        """Always empty: nothing is ever sent."""
        return self.state.outbox

    def now(self) -> float:
        """The wall clock."""
        return time.time()

    def submit(self, command: Command) -> Outgoing:
        """Record the command; it stays unsent."""
        self.sent.append(command)
        return Outgoing(op=self.state.next_op(), command=command)

    def add_listener(self, listener: Callable[[Update], None]) -> Callable[[], None]:
        """No updates ever come."""
        return lambda: None

    async def finished(self) -> None:
        """Nothing runs: finished at once."""

    async def restart(self) -> None:
        """Nothing to restart."""


async def wait_until(
    conn: Connection, predicate: Callable[[Connection], bool], timeout: float = 10.0
) -> None:
    """Poll ``predicate(conn)`` until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate(conn):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for the client")
        await asyncio.sleep(0.01)
