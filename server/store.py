"""The narrow storage interface a relay needs, and the records that cross it.

A session is stored as its event log (``encode_event`` blobs in seq order), a
recent snapshot (``encode_session``) so a restart rebuilds fast (both with
their ballots sealed when the relay gives a ``Sealer``, see sealing.py), an
epoch, and the SHA-256 hashes of the secrets that grant access to it. Appends
name the seq they expect the log to end at, so a store shared by several
relays can refuse a write that lost a race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

import msgpack
from accord.protocol import codec, text
from accord.protocol import limits as L
from accord.protocol.errors import ErrorCode, ProtocolError
from accord.protocol.events import BallotCast, Event
from accord.protocol.model import Role, Session
from accord.protocol.schema import decode_as, encode_value

from .sealing import Sealer, SealError

T = TypeVar("T")

#: Stored blobs were written by this relay, so they may be as large as a server frame.
_BLOB_LIMIT = L.MAX_SERVER_FRAME * 4


class StoreError(Exception):
    """The store could not do what was asked (disk full, locked, corrupt, ...)."""


class SessionCapReached(StoreError):
    """``create`` found the store already holding its most sessions; nothing was written."""


class Claimed(Exception):
    """``create`` refused: one of the new session's credentials already grants something.

    A create retried with the same claim, on this relay or another, finds the
    session the first try made instead of making a second one.
    """


def encode_event(event: Event, sealer: Sealer | None = None) -> bytes:
    """The stored form of an event; with a sealer, a ballot in it is sealed (sealing.py)."""
    body = event.body
    if sealer is None or not isinstance(body, BallotCast) or body.ballot is None:
        return codec.encode_plain(event)
    plain = encode_value(event)
    stored_body = plain["body"]
    stored_body["sealed"] = sealer.seal(
        msgpack.packb(stored_body["ballot"], use_bin_type=True),
        _ballot_context(body.vote_id, body.member_id),
    )
    stored_body["ballot"] = None
    return msgpack.packb(plain, use_bin_type=True)


def stored_form(event: Event, encoded: codec.EncodedEvent, sealer: Sealer | None) -> bytes:
    """The stored form of an event already encoded once for the wire.

    That one encoding is reused, except for a ballot the relay seals at rest.
    """
    if sealer is not None and isinstance(event.body, BallotCast) and event.body.ballot is not None:
        return encode_event(event, sealer)
    return encoded.stored


def wire_encoding(event: Event, blob: bytes) -> codec.EncodedEvent:
    """The wire encodings of an event read back from storage (``blob``, already decoded).

    A stored blob with a sealed ballot is not what the wire carries, so that
    event is encoded afresh; any other blob is reused as it is.
    """
    if isinstance(event.body, BallotCast) and event.body.ballot is not None:
        return codec.EncodedEvent(event)
    return codec.EncodedEvent.from_stored(blob)


def decode_event(blob: bytes, sealer: Sealer | None = None) -> Event:
    """An event from its stored form, its sealed ballot opened with ``sealer``.

    Raises:
        StoreError: if the blob is not a valid event, or holds a sealed ballot that
            cannot be opened (no sealer, or the wrong key).
    """
    try:
        plain = codec.unpack(blob, _BLOB_LIMIT)
        body = plain.get("body") if type(plain) is dict else None
        if type(body) is dict and "sealed" in body:
            context = _ballot_context(str(body.get("vote_id")), str(body.get("member_id")))
            body["ballot"] = _opened(sealer, body.pop("sealed"), context)
        return _decode_stored(Event, plain)
    except ProtocolError as exc:
        raise StoreError(f"a stored event cannot be read back ({exc})") from exc


def encode_session(session: Session, sealer: Sealer | None = None) -> bytes:
    """The stored form of a snapshot; with a sealer, every vote's ballots are sealed."""
    if sealer is None:
        return codec.encode_plain(session)
    plain = encode_value(session)
    for vote_id, vote in plain["votes"].items():
        if vote["ballots"]:
            vote["sealed"] = sealer.seal(
                msgpack.packb(vote["ballots"], use_bin_type=True),
                _ballots_context(session.id, vote_id),
            )
            vote["ballots"] = {}
    return msgpack.packb(plain, use_bin_type=True)


def decode_session(blob: bytes, sealer: Sealer | None = None) -> Session:
    """A session from its stored snapshot, its sealed ballots opened with ``sealer``.

    Raises:
        ProtocolError: if the blob is not a valid session.
        StoreError: if it holds sealed ballots that cannot be opened.
    """
    plain = codec.unpack(blob, _BLOB_LIMIT)
    votes = plain.get("votes") if type(plain) is dict else None
    if type(votes) is dict:
        for vote_id, vote in votes.items():
            if type(vote) is dict and "sealed" in vote:
                context = _ballots_context(str(plain.get("id")), vote_id)
                vote["ballots"] = _opened(sealer, vote.pop("sealed"), context)
    return _decode_stored(Session, plain)


def _ballot_context(vote_id: str, member_id: str) -> str:
    return f"accord ballot {vote_id} {member_id}"


def _ballots_context(session_id: str, vote_id: str) -> str:
    return f"accord ballots {session_id} {vote_id}"


def _opened(sealer: Sealer | None, sealed: object, context: str) -> Any:
    """The plain value sealed in ``sealed``.

    Raises:
        StoreError: without a sealer, or if it does not open.
        ProtocolError: if what it holds is not plain msgpack.
    """
    if sealer is None or not sealer.loaded:
        where = f" ({sealer.path})" if sealer is not None else ""
        raise StoreError(f"ballots are sealed here; the relay's ballot key file{where} is needed")
    if type(sealed) is not str:
        raise StoreError("a sealed ballot is damaged")
    try:
        return codec.unpack(sealer.open(sealed, context), _BLOB_LIMIT)
    except SealError as exc:
        raise StoreError(str(exc)) from None


def _decode_stored(tp: type[T], plain: Any) -> T:
    """Decode a stored value; text an older relay let in is made visible, not refused.

    A relay from before the text policy may have stored control or bidi
    characters. Refusing them would lock honest members out of their session,
    so they become ``�`` (and stray line breaks in one-line fields, spaces).
    """
    try:
        return decode_as(tp, plain)
    except ProtocolError as exc:
        if exc.code is not ErrorCode.BAD_MESSAGE:
            raise
    try:
        return decode_as(tp, text.scrub(plain))
    except ProtocolError as exc:
        if exc.code is not ErrorCode.BAD_MESSAGE:
            raise
    return decode_as(tp, text.scrub(plain, multiline=False))


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
    #: above 0: stored events with a lower seq may be deleted (they are behind a snapshot)
    compact_below: int = 0
    #: member ids whose tokens stop working (removed members); applied before ``grants``
    revoke_members: list[str] = field(default_factory=list)
    #: True: every join code of the session stops working (before ``grants`` adds new ones)
    revoke_codes: bool = False


class Store(Protocol):
    """The relay's durable state. Every method may raise ``StoreError``."""

    async def open(self) -> None:
        """Create or upgrade the store and make it ready for use."""

    async def close(self) -> None:
        """Finish pending work and release the store."""

    async def create(self, append: Append, max_sessions: int = 0) -> None:
        """Store a new session with its first events and grants.

        With ``max_sessions`` above 0, the count of stored sessions is checked in
        the same transaction as the insert, so concurrent creates never overshoot:
        raises ``SessionCapReached`` when the store already holds that many.
        Raises ``Claimed`` if one of its credentials already grants something.
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

    async def stale(self, before: float, limit: int) -> list[SessionInfo]:
        """Up to ``limit`` sessions whose last change (``updated_at``) is older than ``before``."""

    async def grant(self, secret_digest: str) -> Grant | None:
        """What a secret (by its digest) grants, if anything."""

    async def reset(self, session_id: str, epoch: str, seq: int) -> None:
        """After a log was found incomplete: a new epoch, and the log cut back to ``seq``."""

    async def delete(self, session_id: str) -> bool:
        """Remove a session and everything about it; False if it did not exist."""

    async def writable(self) -> bool:
        """True if a write transaction can be started now (for readiness checks)."""
