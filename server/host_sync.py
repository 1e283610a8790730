"""Keeping a session host in step with a store that other relays (or tools) also write.

A host validates commands against its copy of the session and appends with
the seq it started from. When that append loses a race, the host re-reads
the session, tells its own members what the other writer committed, and
validates the same requests again. News from the store (events another
relay published, or a periodic look at the stored seq and epoch) goes
through the host's queue as ``Heard`` requests, handled by the same worker.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from accord.protocol import codec, reducer, views
from accord.protocol.errors import CloseCode
from accord.protocol.events import Event, MemberRemoved
from accord.protocol.model import Session
from websockets.asyncio.server import ServerConnection

from . import credentials
from .budget import SessionBudget
from .commits import Committer
from .loading import read_session
from .metrics import Metrics
from .replay import replay_frames
from .requests import Heard, Request
from .sealing import Sealer
from .store import (
    SessionInfo,
    StoredEvent,
    StoreError,
    decode_event,
    encode_session,
    wire_encoding,
)
from .writer import FrameWriter

log = logging.getLogger("accord.server.session")

#: Seconds a batch keeps losing append races to other relays before its clients are
#: told to retry (1011, then resume). A relay that writes the session non-stop (a
#: join storm) can win race after race while a loser re-reads; it ends when it ends.
COMMIT_PATIENCE = 5.0


class Feed(Protocol):
    """News of sessions that other relays write (only a shared store has one)."""

    async def start(self) -> None:
        """Start listening."""

    async def close(self) -> None:
        """Stop listening."""

    async def follow(self, session_id: str) -> None:
        """Listen for a session's news from now on, keeping it until ``attach``."""

    def attach(self, session_id: str, hear: Callable[[Heard], None]) -> None:
        """Hand the kept and all later news of a session to ``hear``."""

    async def unfollow(self, session_id: str) -> None:
        """Stop listening for a session's news."""


#: What a host variant of one event looks like: frame and who gets it, by view key.
Groups = dict[str, tuple[bytes, list[ServerConnection]]]


class StoreSync:
    """The part of ``SessionHost`` that follows the store; mixed into it."""

    session: Session
    epoch: str
    listeners: dict[str, set[ServerConnection]]
    broken: bool
    stopped: bool
    _committer: Committer
    _metrics: Metrics
    _recent: collections.deque[StoredEvent]
    _snapshot_seq: int
    _claimed: dict[str, str]
    _writer: FrameWriter
    _queue: asyncio.Queue[Request]
    _on_closed: Callable[[Session], None]
    _added: list[tuple[str, ServerConnection]]
    _sealer: Sealer | None
    _budget: SessionBudget

    def _break(self, code: CloseCode, reason: str, batch: list[Request]) -> None:
        raise NotImplementedError  # SessionHost defines it

    def _send(self, frame: bytes, conns: list[ServerConnection]) -> None:
        raise NotImplementedError  # SessionHost defines it

    def close_all(self, code: CloseCode, reason: str) -> None:
        raise NotImplementedError  # SessionHost defines it

    def _close(self, conn: ServerConnection, code: CloseCode, reason: str) -> None:
        raise NotImplementedError  # SessionHost defines it

    def summary(self) -> SessionInfo:
        raise NotImplementedError  # SessionHost defines it

    # ---- news from the store --------------------------------------------------------

    def hear(self, heard: Heard) -> None:
        """Queue news from the store, unless it says nothing this host does not know."""
        if self.broken or self.stopped:
            return
        if not heard.gone and heard.epoch == self.epoch:
            if heard.events and heard.events[-1].seq <= self.session.seq:
                return  # our own commits coming back, or ones a conflict already brought
            if not heard.events and heard.seq == self.session.seq:
                return
        self._queue.put_nowait(heard)

    async def _catch_up(self, news: Sequence[Heard], batch: list[Request]) -> bool:
        """Apply what the store has beyond this copy; False if the host had to stop."""
        store = self._committer.store
        suspect = any(
            n.gone or n.epoch != self.epoch or (not n.events and n.seq < self.session.seq)
            for n in news
        )
        if suspect or not news:
            try:
                info = await store.info(self.session.id)
            except StoreError as exc:
                log.error("session %s: cannot read the store: %s", self.session.id, exc)
                self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
                return False
            if info is None:
                await self._missing(batch)
                return False
            if info.epoch != self.epoch:
                self._break(CloseCode.INTERNAL, "session history changed; reconnect", batch)
                return False
            if info.seq < self.session.seq:
                await self._went_back(info.seq, batch)
                return False
            target = info.seq
        else:
            target = max(n.seq for n in news)
        heard = sorted({e.seq: e for n in news for e in n.events}.values())
        with self._writer.batch():
            self._absorb([e for e in heard if e.seq > self.session.seq])
        if self.session.seq >= target:
            return True
        try:
            stored = await store.events_after(self.session.id, self.session.seq)
        except StoreError as exc:
            log.error("session %s: cannot read the store: %s", self.session.id, exc)
            self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
            return False
        with self._writer.batch():
            self._absorb(stored)
        if self.session.seq < target:  # a hole in the stored log: start again from a load
            self._break(CloseCode.INTERNAL, "session history changed; reconnect", batch)
            return False
        return True

    def _absorb(self, stored: Sequence[StoredEvent]) -> None:
        """Apply and fan out events committed elsewhere, while they follow on."""
        for item in stored:
            if item.seq != self.session.seq + 1:
                return
            event = decode_event(item.blob, self._sealer)
            was_closed = self.session.closed
            encoded = wire_encoding(event, item.blob)  # before applying, like a new event
            reducer.apply_event(self.session, event)
            self._recent.append(item)
            self._budget.grew(len(item.blob))
            for frame, conns in self._variants(event, encoded).values():
                self._send(frame, conns)
            self._metrics.events.inc()
            if isinstance(event.body, MemberRemoved):
                self._removed_elsewhere(event.body.member_id)
            if self.session.closed and not was_closed:
                self._on_closed(self.session)

    def _variants(self, event: Event, encoded: codec.EncodedEvent | None = None) -> Groups:
        """One frame per distinct view of ``event``, with the connections that get it.

        With ``encoded`` (the event encoded once for storage), the views that
        are the event itself, with or without its op id, reuse that encoding.
        """
        groups: Groups = {}
        for member_id, conns in self.listeners.items():
            projected, key = views.project_event(self.session, event, member_id)
            group = groups.get(key)
            if group is None:
                if encoded is not None and projected.body is event.body:
                    frame = encoded.frame(op=bool(projected.op))
                else:
                    frame = codec.encode(projected)
                group = (frame, [])
                groups[key] = group
            group[1].extend(conns)
        return groups

    def _removed_elsewhere(self, member_id: str) -> None:
        """A member another relay removed: close their connections here too (they got it)."""
        for key in [k for k, m in self._claimed.items() if m == member_id]:
            del self._claimed[key]
        for conn in list(self.listeners.get(member_id, ())):
            self._close(conn, CloseCode.MEMBER_REMOVED, "")

    async def _missing(self, batch: list[Request]) -> None:
        """The store has no such session: deleted by an operator, or lost by the store.

        A session the store lost (no deletion tombstone, as after an eviction)
        is written back from memory as a snapshot in a new epoch, so every
        client starts again from it; what the store lost of its credentials
        stays lost.
        """
        store = self._committer.store
        deleted = getattr(store, "deleted", None)
        restore = getattr(store, "restore", None)
        sid = self.session.id
        try:
            if deleted is not None and restore is not None and not await deleted(sid):
                summary = self.summary()
                summary.epoch = credentials.new_epoch()
                if await restore(summary, encode_session(self.session, self._sealer)):
                    log.warning(
                        "the store lost this session; wrote it back with a new epoch",
                        extra={"session": sid, "seq": self.session.seq},
                    )
                    self._metrics.epochs_renewed.inc()
                    self._break(CloseCode.INTERNAL, "session history changed; reconnect", batch)
                    return
        except StoreError as exc:
            log.error("session %s: cannot write it back: %s", sid, exc)
            self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
            return
        self._break(CloseCode.SESSION_GONE, "this session no longer exists", batch)

    async def _went_back(self, stored_seq: int, batch: list[Request]) -> None:
        """The store lost events this host holds: a new epoch there, and a reload here."""
        epoch = credentials.new_epoch()
        log.warning(
            "the store went back; starting a new epoch",
            extra={"session": self.session.id, "seq": self.session.seq, "stored": stored_seq},
        )
        try:
            await self._committer.store.reset(self.session.id, epoch, stored_seq)
            self._metrics.epochs_renewed.inc()
        except StoreError as exc:
            log.error("session %s: cannot store a new epoch: %s", self.session.id, exc)
        self._break(CloseCode.INTERNAL, "session history changed; reconnect", batch)

    # ---- a store that went back -------------------------------------------------------

    async def _renew_epoch(self) -> bool:
        """Start a new epoch, so nobody resumes on top of events the store no longer has.

        The client that noticed gets a snapshot (its epoch now differs); every
        connection already here is closed to resume, and so gets one too.
        Returns False if the new epoch could not be stored.
        """
        epoch = credentials.new_epoch()
        log.warning(
            "a client saw events the store no longer has; starting a new epoch",
            extra={"session": self.session.id, "seq": self.session.seq},
        )
        try:
            await self._committer.store.reset(self.session.id, epoch, self.session.seq)
        except StoreError as exc:
            log.error("session %s: cannot store a new epoch: %s", self.session.id, exc)
            return False
        self.epoch = epoch
        self._metrics.epochs_renewed.inc()
        self.close_all(CloseCode.INTERNAL, "session history changed; reconnect")
        return True

    # ---- after losing a race ----------------------------------------------------------

    async def _refresh_claims(self, batch: list[Request]) -> None:
        """Learn which claimed joins in ``batch`` another relay (or try) already made.

        Such a join resumes the member the claim made instead of making a
        second one. A join committed elsewhere after this look moves the
        session on, so this host's append then loses the race and looks again.

        Raises:
            StoreError: if the store cannot be read.
        """
        sid = self.session.id
        for request in batch:
            claim = getattr(request, "claim", "")
            key = credentials.digest(claim) if claim else ""
            if key and key not in self._claimed:
                grant = await self._committer.store.grant(key)
                if grant is not None and grant.session_id == sid and grant.member_id:
                    self._claimed[key] = grant.member_id

    def _undo(self, start_seq: int, claimed: dict[str, str]) -> None:
        """Forget what a lost attempt did beside the session (which ``_reread`` replaces)."""
        for member_id, conn in self._added:
            conns = self.listeners.get(member_id)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self.listeners[member_id]
        self._claimed.clear()
        self._claimed.update(claimed)
        while self._recent and self._recent[-1].seq > start_seq:
            self._recent.pop()

    async def _reread(self, start: int, batch: list[Request]) -> bool:
        """Load the session as stored now and show local members what they missed.

        ``start`` is the seq this host had committed before the lost append.
        Returns False if the host had to stop (deleted, new epoch, store failure).
        """
        store = self._committer.store
        sid = self.session.id
        try:
            loaded = await read_session(store, sid, self._sealer)
            missed = [] if loaded is None else await store.events_after(sid, start)
            await self._refresh_claims(batch)
        except StoreError as exc:
            log.error("session %s: cannot re-read the store: %s", sid, exc)
            self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
            return False
        if loaded is None:
            self._break(CloseCode.SESSION_GONE, "this session no longer exists", batch)
            return False
        session = loaded.session
        missed = [e for e in missed if e.seq <= session.seq]
        if (
            loaded.info.epoch != self.epoch
            or not loaded.intact
            or session.seq < start
            or len(missed) != session.seq - start
        ):
            self._break(CloseCode.INTERNAL, "session history changed; reconnect", batch)
            return False
        was_closed = self.session.closed
        self.session = session
        self._budget = SessionBudget(session, self._budget.max_events, self._budget.max_bytes)
        self._recent.extend(missed)
        self._snapshot_seq = max(self._snapshot_seq, loaded.snapshot_seq)
        with self._writer.batch():
            for member_id, conns in self.listeners.items():
                for frame in replay_frames(session, missed, member_id):
                    self._send(frame, list(conns))
        self._metrics.events.inc(len(missed))
        for item in missed:
            body = decode_event(item.blob, self._sealer).body
            if isinstance(body, MemberRemoved):
                self._removed_elsewhere(body.member_id)
        if session.closed and not was_closed:
            self._on_closed(session)
        return True
