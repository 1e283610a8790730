"""The client's state machine, with no I/O: what one member knows and what it still owes.

``ClientState`` keeps the ``Session`` from the relay's ``Welcome`` and applies
every ``Event`` with the protocol core's ``apply_event``, so it cannot drift
from the relay's rules. It holds the commands sent and not yet answered (the
outbox, keyed by op id), settles them on acks and errors, and decides what to
say on each (re)connect: the intro with its claim until a welcome gives a
token, then a resume from the last seq. Every input returns the ``Update``s it
caused; the transport (``accord.client.transport``) only moves frames.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from dataclasses import dataclass
from typing import Literal

from accord.protocol.commands import Command
from accord.protocol.errors import CloseCode
from accord.protocol.events import Event
from accord.protocol.messages import (
    Ack,
    Create,
    Error,
    Hello,
    Pong,
    Presence,
    Secrets,
    Welcome,
)
from accord.protocol.model import Role, Session
from accord.protocol.reducer import apply_event

#: Close codes after which trying again with the same credentials cannot help.
FATAL_CLOSE_CODES: dict[int, str] = {
    CloseCode.UNAUTHORIZED: "the relay did not accept these credentials",
    CloseCode.SESSION_GONE: "this session was deleted on the relay",
    CloseCode.BAD_HELLO: "the relay did not understand this client's hello",
    CloseCode.UNSUPPORTED_DATA: "the relay refused this client's frames",
    CloseCode.TOO_BIG: "the relay refused a frame as too large",
    CloseCode.MEMBER_REMOVED: "the facilitator removed you from this session",
}
#: Error codes that end a connection attempt for good when they answer a hello.
FATAL_HELLO_CODES = frozenset(
    {"unauthorized", "forbidden", "not_found", "version", "session_closed", "bad_message", "limit"}
)


def passing(error: Error) -> bool:
    """A relay's storage failed for now (Redis down, a busy session): reconnect later.

    Such an error is worth a reconnect even when ``fatal`` (the relay closes
    with 1011 next), so it never ends the link for good.
    """
    return error.code == "server_error"


LinkKind = Literal["connecting", "connected", "reconnecting", "offline"]
CommandState = Literal["pending", "acked", "failed"]


@dataclass(frozen=True, slots=True)
class LinkState:
    """Where the link to the relay stands, with the attempt number and last reason."""

    kind: LinkKind
    attempt: int = 0
    reason: str = ""

    def describe(self) -> str:
        """A short phrase for people: ``reconnecting (attempt 3)``."""
        if self.kind in ("connecting", "reconnecting") and self.attempt > 1:
            return f"{self.kind} (attempt {self.attempt})"
        if self.kind == "offline" and self.reason:
            return f"offline: {self.reason}"
        return self.kind


@dataclass(eq=False, slots=True)
class Outgoing:
    """One command this client sent, with its op id and what became of it."""

    op: str
    command: Command
    state: CommandState = "pending"
    code: str = ""
    reason: str = ""
    seq: int = 0
    sends: int = 0
    duplicate: bool = False

    @property
    def kind(self) -> str:
        """The command's wire name, e.g. ``add_card``."""
        return str(type(self.command).KIND)

    def ack(self) -> Ack:
        """The ack this command got (meaningful once ``state`` is ``acked``)."""
        return Ack(op=self.op, seq=self.seq, duplicate=self.duplicate)


class ConnectionFailed(Exception):
    """The connection stopped for good: bad code or key, unreachable relay, wrong URL.

    ``close_code`` is the relay's close code when a close ended it (0 otherwise):
    ``CloseCode.MEMBER_REMOVED`` tells a board to say goodbye, not to offer a retry.
    ``code`` is the relay's error code when an error frame ended it (else ``""``).
    """

    def __init__(self, reason: str, close_code: int = 0, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = close_code
        self.code = code

    @property
    def removed(self) -> bool:
        """True when the facilitator removed this member from the session."""
        return self.close_code == CloseCode.MEMBER_REMOVED


class CommandFailed(Exception):
    """A command was refused by the relay, or could not be delivered."""

    def __init__(self, code: str, reason: str, op: str = "") -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.op = op


class Resync(Exception):
    """The event stream had a gap: drop the socket and resume from the last seq."""


@dataclass(frozen=True, slots=True)
class Welcomed:
    """The relay welcomed this client: a fresh snapshot, or a replay of missed events."""

    mode: Literal["snapshot", "replay"]
    member_id: str
    role: Role
    first: bool


@dataclass(frozen=True, slots=True)
class Applied:
    """Events were applied to the session."""

    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A member came online or went offline."""

    member_id: str
    online: bool


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The link state changed."""

    state: LinkState


@dataclass(frozen=True, slots=True)
class CommandChanged:
    """One of this client's commands was sent, acknowledged or refused."""

    outgoing: Outgoing


@dataclass(frozen=True, slots=True)
class Noticed:
    """The relay reported a problem that is not tied to one command."""

    code: str
    message: str


Update = Welcomed | Applied | PresenceChanged | LinkChanged | CommandChanged | Noticed


def new_claim() -> str:
    """A fresh claim for a create or join: 40 hex digits (160 random bits)."""
    return secrets.token_hex(20)


class ClientState:
    """One member's view of a session and its unanswered commands; pure, no I/O."""

    def __init__(self, intro: Create | Hello, *, op_prefix: str | None = None) -> None:
        fresh = isinstance(intro, Create) or bool(intro.code and not intro.token)
        if fresh and not intro.claim:
            # Our own token for this create or join, the same on every retry: a retry
            # whose first try went through (its welcome lost) gets that session or
            # member back instead of a second one.
            intro = dataclasses.replace(intro, claim=new_claim())
        self.intro = intro
        self.op_prefix = op_prefix or secrets.token_hex(4)
        self._op_counter = itertools.count(1)
        self.session: Session | None = None
        self.member_id = ""
        self.role: Role = "participant"
        self.epoch = ""
        self.token = intro.token if isinstance(intro, Hello) else ""
        self.secrets: Secrets | None = None
        self.online: set[str] = set()
        self.clock_offset = 0.0
        self.welcomed = False
        #: Commands sent (or queued) and not yet answered, by op id, oldest first.
        self.outbox: dict[str, Outgoing] = {}
        self._waiting_for_seq: dict[int, list[Outgoing]] = {}

    # ---- what to say --------------------------------------------------------

    def hello(self) -> Create | Hello:
        """The frame to open a socket with: a resume once a welcome gave a token, else the intro.

        With no session (never welcomed, or forgotten after a failure) the resume
        asks from seq 0 in no epoch, so the relay answers with a fresh snapshot.
        """
        if self.token:
            last = self.session.seq if self.session is not None else 0
            epoch = self.epoch if self.session is not None else ""
            return Hello(token=self.token, last_seq=last, epoch=epoch)
        return self.intro

    def next_op(self) -> str:
        """A fresh op id, unique to this client: a random prefix and a counter."""
        return f"{self.op_prefix}-{next(self._op_counter)}"

    def submit(self, command: Command) -> tuple[Outgoing, list[Update]]:
        """Queue ``command`` under a new op id; the transport sends what the outbox holds."""
        out = Outgoing(op=self.next_op(), command=command)
        self.outbox[out.op] = out
        return out, [CommandChanged(out)]

    def refuse(self, command: Command, reason: str) -> tuple[Outgoing, list[Update]]:
        """A command that cannot be sent at all (the link stopped for good): failed at once."""
        out = Outgoing(op=self.next_op(), command=command, state="failed", code="offline")
        out.reason = f"not delivered: {reason or 'offline'}"
        return out, [CommandChanged(out)]

    def sent(self, out: Outgoing) -> list[Update]:
        """``out`` went onto a socket; a resend is worth showing."""
        out.sends += 1
        return [CommandChanged(out)] if out.sends > 1 else []

    # ---- what the relay says ------------------------------------------------

    def take_welcome(self, welcome: Welcome, now: float) -> list[Update]:
        """Adopt a welcome's snapshot (or keep the session for a replay).

        Raises:
            ConnectionFailed: a snapshot welcome without a snapshot, or a replay
                offered to a client that has no session.
        """
        first = not self.welcomed
        if welcome.mode == "snapshot":
            if welcome.snapshot is None:
                raise ConnectionFailed("the relay sent a welcome without a snapshot")
            self.session = welcome.snapshot
        elif self.session is None:
            raise ConnectionFailed("the relay offered a replay to a client with no session")
        self.member_id = welcome.member_id
        self.role = welcome.role
        self.epoch = welcome.epoch
        if welcome.token:
            self.token = welcome.token
        if welcome.secrets is not None:
            self.secrets = welcome.secrets
        if welcome.server_time:
            self.clock_offset = welcome.server_time - now
        self.online = set(welcome.online)
        self.welcomed = True
        updates: list[Update] = [Welcomed(welcome.mode, welcome.member_id, welcome.role, first)]
        return updates + self._settle_acks()

    def receive(self, msg: object, now: float) -> list[Update]:
        """Take one decoded frame after the welcome.

        Raises:
            Resync: an event skipped a seq (resume to fill the gap).
            ConnectionFailed: a fatal error frame.
        """
        if isinstance(msg, Event):
            return self._on_event(msg)
        if isinstance(msg, Ack):
            return self._on_ack(msg)
        if isinstance(msg, Error):
            return self._on_error(msg)
        if isinstance(msg, Presence):
            if msg.online:
                self.online.add(msg.member_id)
            else:
                self.online.discard(msg.member_id)
            return [PresenceChanged(msg.member_id, msg.online)]
        if isinstance(msg, Pong) and msg.server_time:
            self.clock_offset = msg.server_time - now
        return []

    def _on_event(self, event: Event) -> list[Update]:
        session = self.session
        if session is None or event.seq <= session.seq:
            return []  # already applied (a replay overlapping what we had)
        if event.seq != session.seq + 1:
            raise Resync(f"expected seq {session.seq + 1}, got {event.seq}")
        apply_event(session, event)
        return [Applied((event,)), *self._settle_acks()]

    def _on_ack(self, ack: Ack) -> list[Update]:
        if ack.secrets is not None:  # rotate_codes: the new join codes
            self.secrets = ack.secrets
        out = self.outbox.get(ack.op)
        if out is None:
            return []
        out.seq = ack.seq
        out.duplicate = ack.duplicate
        if self.session is not None and self.session.seq >= ack.seq:
            return self._finish(out, "acked")
        # Acked before its event arrived: done once the session has reached that seq.
        self._waiting_for_seq.setdefault(ack.seq, []).append(out)
        return []

    def _settle_acks(self) -> list[Update]:
        if self.session is None or not self._waiting_for_seq:
            return []
        updates: list[Update] = []
        for seq in [s for s in self._waiting_for_seq if s <= self.session.seq]:
            for out in self._waiting_for_seq.pop(seq):
                updates += self._finish(out, "acked")
        return updates

    def _on_error(self, error: Error) -> list[Update]:
        if error.fatal and not passing(error):
            raise ConnectionFailed(error.message or error.code, code=error.code)
        if error.fatal:  # the relay closes with 1011 next; reconnect and resume then
            return []
        out = self.outbox.get(error.op) if error.op else None
        if out is None:
            return [Noticed(error.code, error.message)]
        return self._finish(out, "failed", error.code, error.message)

    def _finish(
        self, out: Outgoing, state: CommandState, code: str = "", reason: str = ""
    ) -> list[Update]:
        if out.state != "pending":
            return []
        out.state, out.code, out.reason = state, code, reason
        self.outbox.pop(out.op, None)
        return [CommandChanged(out)]

    # ---- endings ------------------------------------------------------------

    def fail_pending(self, reason: str) -> list[Update]:
        """The link stopped for good: every unanswered command failed, undelivered."""
        updates: list[Update] = []
        for out in list(self.outbox.values()):
            updates += self._finish(out, "failed", "offline", f"not delivered: {reason}")
        self._waiting_for_seq.clear()
        return updates

    def forget_session(self) -> None:
        """Drop the session (after a failure left it in doubt); the next welcome is a snapshot."""
        self.session = None
        self._waiting_for_seq.clear()
