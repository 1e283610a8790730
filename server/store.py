"""The narrow storage interface a relay needs, and the records that cross it.

A session is stored as its event log (``codec.encode_plain(event)`` blobs in
seq order), a recent snapshot (``codec.encode_plain(session)``) so a restart
rebuilds fast, an epoch, and the SHA-256 hashes of the secrets that grant
access to it. Appends name the seq they expect the log to end at, so a store
shared by several relays can refuse a write that lost a race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from accord.protocol import codec
from accord.protocol import limits as L
from accord.protocol.errors import ProtocolError
from accord.protocol.events import Event
from accord.protocol.model import Role, Session
from accord.protocol.schema import decode_as

#: Stored blobs were written by this relay, so they may be as large as a server frame.
_BLOB_LIMIT = L.MAX_SERVER_FRAME * 4


class StoreError(Exception):
    """The store could not do what was asked (disk full, locked, corrupt, ...)."""


class CapReached(Exception):
    """``create`` refused: the store already holds the most sessions it may."""


class Claimed(Exception):
    """``create`` refused: one of the new session's credentials already grants something.

    A create retried with the same claim, on this relay or another, finds the
    session the first try made instead of making a second one.
    """


def encode_event(event: Event) -> bytes:
    """The stored form of an event."""
    return codec.encode_plain(event)


def decode_event(blob: bytes) -> Event:
    """An event from its stored form.

    Raises:
        StoreError: if the blob is not a valid event.
    """
    try:
        return decode_as(Event, codec.unpack(blob, _BLOB_LIMIT))
    except ProtocolError as exc:
        raise StoreError(f"a stored event cannot be read back ({exc})") from exc


def encode_session(session: Session) -> bytes:
    """The stored form of a snapshot."""
    return codec.encode_plain(session)


def decode_session(blob: bytes) -> Session:
    """A session from its stored snapshot.

    Raises:
        ProtocolError: if the blob is not a valid session.
    """
    return decode_as(Session, codec.unpack(blob, _BLOB_LIMIT))


@dataclass(frozen=True, slots=True)
class Grant:
    """What a hashed secret grants: a join code grants a role, a token a member."""

    session_id: str
    role: Role
    member_id: str = ""  # empty for join codes


@dataclass(slots=True)
class SessionInfo:
    """A session's summary row: identity, epoch and what ops want to see in a list."""

    id: str
    epoch: str
    question: str
    created_at: float
    updated_at: float = 0.0
    seq: int = 0
    phase: str = "learn"
    members: int = 0
    closed: bool = False


class StoredEvent(NamedTuple):
    """An event already encoded for storage (encoded when it happened, never later).

    A tuple of an int and bytes, so the garbage collector stops tracking it after
    its first look: every session keeps up to ``replay_window`` of these, and
    each tracked object lengthens every full collection (docs/performance.md).
    """

    seq: int
    blob: bytes


@dataclass(slots=True)
class Append:
    """One session's share of a group commit: new events, new grants, maybe a snapshot."""

    session_id: str
    expected_seq: int  # the seq the stored log ends at before these events
    events: list[StoredEvent]
    summary: SessionInfo
    grants: list[tuple[str, Grant]] = field(default_factory=list)  # (digest, grant)
    snapshot: StoredEvent | None = None  # (seq, session blob)


class Store(Protocol):
    """The relay's durable state. Every method may raise ``StoreError``."""

    async def open(self) -> None:
        """Create or upgrade the store and make it ready for use."""

    async def close(self) -> None:
        """Finish pending work and release the store."""

    async def create(self, append: Append) -> None:
        """Store a new session with its first events and grants.

        May raise ``Claimed`` (a credential is taken) or ``CapReached``.
        """

    async def append(self, batch: Sequence[Append]) -> list[bool]:
        """Commit a batch in one transaction; per entry, False if its expected seq was stale."""

    async def events_after(self, session_id: str, seq: int) -> list[StoredEvent]:
        """The stored events with a seq above ``seq``, in order."""

    async def snapshot(self, session_id: str) -> Session | None:
        """The latest stored snapshot of a session, if any."""

    async def info(self, session_id: str) -> SessionInfo | None:
        """A session's summary row, or None if there is no such session."""

    async def sessions(self) -> list[SessionInfo]:
        """Every stored session's summary, newest first."""

    async def count(self) -> int:
        """How many sessions are stored."""

    async def grant(self, secret_digest: str) -> Grant | None:
        """What a secret (by its digest) grants, if anything."""

    async def reset(self, session_id: str, epoch: str, seq: int) -> None:
        """After a log was found incomplete: a new epoch, and the log cut back to ``seq``."""

    async def delete(self, session_id: str) -> bool:
        """Remove a session and everything about it; False if it did not exist."""

    async def writable(self) -> bool:
        """True if a write transaction can be started now (for readiness checks)."""
