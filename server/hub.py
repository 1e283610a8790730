"""The sessions this relay holds: created here or loaded on demand from the store."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass

from accord.protocol import reducer, rules
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.events import Event
from accord.protocol.messages import Secrets
from accord.protocol.model import Session

from . import credentials, records
from .commits import Committer
from .config import ServerConfig
from .guards import DiskGuard
from .host_sync import Feed
from .loading import Loaded as Loaded  # re-exported: callers read sessions through the hub
from .loading import read_session as read_session
from .metrics import Metrics
from .records import keep_record
from .sealing import Sealer
from .session_host import SessionHost
from .store import (
    Append,
    Claimed,
    Grant,
    SessionCapReached,
    SessionInfo,
    Store,
    StoredEvent,
    StoreError,
    decode_event,
    encode_event,
)

#: ``Loaded`` and ``read_session`` moved to ``loading``; older imports still find them here.
__all__ = ["Created", "Hub", "Loaded", "read_session"]

log = logging.getLogger("accord.server.hub")

#: How often idle sessions are looked for and unloaded.
SWEEP_SECONDS = 10.0
#: How often, at most, abandoned sessions are looked for (and how many per look).
EXPIRY_SECONDS = 3600.0
EXPIRY_BATCH = 500
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Created:
    """A new session: its host, the facilitator's member id and the secrets to show once."""

    host: SessionHost
    member_id: str
    secrets: Secrets
    #: True when a create with the same claim had already made this session
    retried: bool = False


class Hub:
    """Finds, creates, loads and unloads session hosts."""

    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        committer: Committer,
        metrics: Metrics,
        disk: DiskGuard | None = None,
        sealer: Sealer | None = None,
        feed: Feed | None = None,
    ) -> None:
        self._config = config
        self._sealer = sealer
        self._disk = disk
        #: news of sessions other relays write, with a shared store
        self._feed = feed
        self._store = store
        self._committer = committer
        self._metrics = metrics
        self._hosts: dict[str, SessionHost] = {}
        self._loading: dict[str, asyncio.Future[SessionHost | None]] = {}
        #: claim digest -> done when the create holding that claim finishes
        self._creating: dict[str, asyncio.Future[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start unloading idle sessions in the background."""
        self._sweeper = asyncio.create_task(self._sweep(), name="accord-hub-sweeper")

    async def close(self) -> None:
        """Finish every host's queued work and stop them (connections are closed already)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        hosts = list(self._hosts.values())
        self._hosts.clear()
        self._metrics.sessions.set(0)
        for host in hosts:
            await host.stop()
        if self._background:
            await asyncio.wait(self._background)

    @property
    def hosts(self) -> dict[str, SessionHost]:
        """The sessions in memory, by id."""
        return self._hosts

    # ---- create ----------------------------------------------------------------------

    async def create(self, question: str, name: str, department: str, claim: str = "") -> Created:
        """Create and store a session with its facilitator; secrets are returned once.

        With a ``claim`` (the creator's own secret, checked by the caller), the
        claim is the facilitator key and the join codes derive from it; a create
        whose claim already made a session returns that session, with the same
        secrets and ``retried`` set, instead of making another one. Creates with
        the same claim run one at a time, so a retry that overtakes its original
        still finds one session.

        Raises:
            Refusal: ``limit`` when the relay holds its most sessions;
                ``unauthorized`` when the claim is already some other credential.
            StoreError: if the session could not be stored.
        """
        if not claim:
            return await self._create(question, name, department, "")
        key = credentials.digest(claim)
        while (pending := self._creating.get(key)) is not None:
            await asyncio.shield(pending)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._creating[key] = done
        try:
            grant = await self._store.grant(key)
            if grant is None:
                try:
                    return await self._create(question, name, department, claim)
                except Claimed:  # the same create, retried on another relay, went first
                    grant = await self._store.grant(key)
                    if grant is None:
                        raise Refusal(
                            ErrorCode.UNAUTHORIZED, "claim: already in use here; make a new one"
                        ) from None
            return await self._created_before(grant, claim)
        finally:
            del self._creating[key]
            done.set_result(None)

    async def _created_before(self, grant: Grant, claim: str) -> Created:
        """The session a retried create with ``claim`` made the first time."""
        secrets = credentials.session_secrets(grant.session_id, claim)
        code = await self._store.grant(credentials.digest(secrets.participant_code))
        if (
            grant.role != "facilitator"
            or not grant.member_id
            or code != Grant(grant.session_id, "participant")
        ):
            raise Refusal(ErrorCode.UNAUTHORIZED, "claim: already in use here; make a new one")
        host = await self.get(grant.session_id)
        if host is None:
            raise Refusal(ErrorCode.UNAUTHORIZED, "this session no longer exists")
        log.info("session create retried", extra={"session": grant.session_id})
        return Created(host=host, member_id=grant.member_id, secrets=secrets, retried=True)

    async def _create(self, question: str, name: str, department: str, claim: str) -> Created:
        now = time.time()
        session_id = credentials.new_session_id()
        created = rules.create_session(question, now)
        draft = reducer.replay(session_id, [Event(seq=1, at=now, by="relay", body=created)])
        joined = rules.join(draft, name, "facilitator", department, now, self._config.caps)
        member_id = joined.member.id
        events = [
            Event(seq=1, at=now, by=member_id, body=created),
            Event(seq=2, at=now, by=member_id, body=joined),
        ]
        blobs = [StoredEvent(e.seq, encode_event(e, self._sealer)) for e in events]
        session = reducer.replay(session_id, [decode_event(b.blob, self._sealer) for b in blobs])
        secrets = credentials.session_secrets(session_id, claim)
        grants = [
            (
                credentials.digest(secrets.facilitator_key),
                Grant(session_id, "facilitator", member_id),
            ),
            (credentials.digest(secrets.participant_code), Grant(session_id, "participant")),
            (credentials.digest(secrets.partner_code), Grant(session_id, "partner")),
            (credentials.digest(secrets.observer_code), Grant(session_id, "observer")),
        ]
        epoch = credentials.new_epoch()
        info = SessionInfo(
            id=session_id,
            epoch=epoch,
            question=question,
            created_at=now,
            updated_at=now,
            seq=session.seq,
            phase=session.phase,
            members=len(session.members),
        )
        append = Append(session_id, expected_seq=0, events=blobs, summary=info, grants=grants)
        if self._feed is not None:
            await self._feed.follow(session_id)
        try:
            await self._store.create(append, max_sessions=self._config.max_sessions)
        except BaseException as exc:
            if self._feed is not None:
                with contextlib.suppress(StoreError):
                    await self._feed.unfollow(session_id)
            if isinstance(exc, SessionCapReached):
                raise Refusal(
                    ErrorCode.LIMIT,
                    f"this relay holds its most sessions ({self._config.max_sessions});"
                    " ask its operator",
                ) from None
            raise
        host = self._new_host(session, epoch, blobs, snapshot_seq=0)
        self._metrics.created.inc()
        self._metrics.sessions_stored.inc()
        log.info("session created", extra={"session": session_id})
        return Created(host=host, member_id=member_id, secrets=secrets)

    # ---- find / load -------------------------------------------------------------------

    async def get(self, session_id: str) -> SessionHost | None:
        """The host for a stored session, loading it if needed; None if it does not exist.

        Raises:
            StoreError: if the session could not be read.
        """
        host = self._hosts.get(session_id)
        if host is not None and not host.broken:
            return host
        if host is not None:
            del self._hosts[session_id]
            self._metrics.sessions.set(len(self._hosts))
            await host.stop()
        loading = self._loading.get(session_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[SessionHost | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        try:
            host = await self._load(session_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved; the awaiting callers re-raise it
            raise
        else:
            future.set_result(host)
            return host
        finally:
            del self._loading[session_id]

    async def _load(self, session_id: str) -> SessionHost | None:
        if self._feed is None:
            return await self._load_from_store(session_id)
        await self._feed.follow(session_id)  # before reading: nothing committed slips by
        try:
            host = await self._load_from_store(session_id)
        finally:
            if self._hosts.get(session_id) is None:
                with contextlib.suppress(StoreError):
                    await self._feed.unfollow(session_id)
        return host

    async def _load_from_store(self, session_id: str) -> SessionHost | None:
        loaded = await read_session(self._store, session_id, self._sealer)
        if loaded is None:
            return None
        session, epoch, base = loaded.session, loaded.info.epoch, loaded.snapshot_seq
        if not loaded.intact:
            epoch = credentials.new_epoch()
            log.warning(
                "session log incomplete; continuing from what was stored with a new epoch",
                extra={
                    "session": session_id,
                    "stored_seq": loaded.info.seq,
                    "rebuilt_seq": session.seq,
                },
            )
            await self._store.reset(session_id, epoch, session.seq)
        window = self._config.replay_window
        recent = [e for e in loaded.tail if e.seq <= session.seq][-window:] if window else []
        if window and len(recent) < window and base > 0:
            recent = await self._older(session_id, base, recent)
        host = self._new_host(session, epoch, recent, snapshot_seq=base)
        log.info("session loaded", extra={"session": session_id, "seq": session.seq})
        return host

    async def _older(
        self, session_id: str, base: int, recent: list[StoredEvent]
    ) -> list[StoredEvent]:
        """Extend the replay window below the snapshot with stored events."""
        start = max(0, base - (self._config.replay_window - len(recent)))
        older = [e for e in await self._store.events_after(session_id, start) if e.seq <= base]
        merged = older + recent
        if any(b.seq != a.seq + 1 for a, b in itertools.pairwise(merged)):
            return recent  # a hole below the snapshot: replay only what is contiguous
        return merged

    def _new_host(
        self, session: Session, epoch: str, recent: list[StoredEvent], snapshot_seq: int
    ) -> SessionHost:
        host = SessionHost(
            session,
            epoch,
            self._config,
            self._committer,
            self._metrics,
            recent,
            snapshot_seq,
            self._session_closed,
            self._disk,
            self._sealer,
        )
        host.start()
        self._hosts[session.id] = host
        self._metrics.sessions.set(len(self._hosts))
        if self._feed is not None:
            self._feed.attach(session.id, host.hear)
        return host

    # ---- records and unloading ------------------------------------------------------------

    def _session_closed(self, session: Session) -> None:
        """Write the decision record next to the data when a session closes."""
        folder = self._config.records_dir
        markdown = records.render_record(session, "md")
        data = records.render_record(session, "json")
        task = asyncio.create_task(
            asyncio.to_thread(records.write_record_texts, folder, session.id, markdown, data)
        )
        self._background.add(task)
        task.add_done_callback(self._record_written)

    def _record_written(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not write a decision record: %s", task.exception())

    async def _sweep(self) -> None:
        retention = self._config.expire_after_days * DAY
        expiry_every = min(EXPIRY_SECONDS, retention / 4) if retention else 0.0
        pause = min(SWEEP_SECONDS, self._config.idle_unload, expiry_every or SWEEP_SECONDS)
        last_expiry = time.monotonic()
        while True:
            await asyncio.sleep(max(pause, 0.05))
            now = time.monotonic()
            if retention and now - last_expiry >= expiry_every:
                last_expiry = now
                try:
                    await self._expire(time.time() - retention)
                except StoreError as exc:
                    log.error("could not expire old sessions: %s", exc)
            for session_id, host in list(self._hosts.items()):
                if host.idle and now - host.idle_since >= self._config.idle_unload:
                    if self._hosts.get(session_id) is host:
                        del self._hosts[session_id]
                    await host.stop()
                    wanted = session_id in self._hosts or session_id in self._loading
                    if self._feed is not None and not wanted:  # a load may have begun
                        with contextlib.suppress(StoreError):
                            await self._feed.unfollow(session_id)
                    log.debug("session unloaded", extra={"session": session_id})
            self._metrics.sessions.set(len(self._hosts))

    async def _expire(self, before: float) -> None:
        """Delete sessions with no event since ``before``; a closed one's record is kept."""
        for info in await self._store.stale(before, EXPIRY_BATCH):
            host = self._hosts.get(info.id)
            if host is not None:
                if not host.idle:
                    continue  # someone is connected: not abandoned
                del self._hosts[info.id]
                await host.stop()
                if self._feed is not None:
                    with contextlib.suppress(StoreError):
                        await self._feed.unfollow(info.id)
            if info.closed:
                loaded = await read_session(self._store, info.id, self._sealer)
                if loaded is not None:
                    # The record first: if writing it fails, the session stays.
                    await asyncio.to_thread(keep_record, self._config.records_dir, loaded.session)
            await self._store.delete(info.id)
            self._metrics.expired.inc()
            self._metrics.sessions_stored.dec()
            log.info("session expired", extra={"session": info.id, "closed": info.closed})
