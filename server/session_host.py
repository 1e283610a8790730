"""One session's authoritative state on the relay, and the single task that changes it.

Everything that changes a session or who listens to it goes through one
queue and one worker: commands, joins and (re)attaches. The worker takes
every request that is ready, applies them in order, commits the new events
in one append, and only then writes the acks, welcomes and event frames, in
seq order. So a client receives each event once, in order, and only after it
is durable.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from accord.protocol import codec, reducer, rules, views
from accord.protocol.commands import Command
from accord.protocol.errors import CloseCode, ErrorCode, Refusal
from accord.protocol.events import Event, EventBody, SessionClosed
from accord.protocol.messages import Ack, Error, Presence, Secrets, Welcome
from accord.protocol.model import Role, Session
from websockets.asyncio.server import ServerConnection

from . import credentials
from .commits import Committer
from .config import ServerConfig
from .host_sync import COMMIT_PATIENCE, Heard, StoreSync
from .metrics import Metrics
from .replay import missed_events, replay_frames
from .store import Append, Grant, SessionInfo, StoredEvent, StoreError
from .writer import FrameWriter

log = logging.getLogger("accord.server.session")

#: Most requests handled (and committed) together; bounds latency under a backlog.
MAX_BATCH = 256


class HostGone(Exception):
    """The session host stopped (shutdown, storage failure or deletion) before answering."""


@dataclass(eq=False, slots=True)
class CommandRequest:
    """A member's command waiting for its turn."""

    conn: ServerConnection
    member_id: str
    op: str
    command: Command
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


Request: TypeAlias = CommandRequest | JoinRequest | AttachRequest | Heard
#: One write of the outbox: a frame and who gets it, or a deferred action.
Write = tuple[bytes, list[ServerConnection]] | Callable[[], None]


class SessionHost(StoreSync):
    """Holds one session, the connections listening to it, and its recent event log."""

    def __init__(
        self,
        session: Session,
        epoch: str,
        config: ServerConfig,
        committer: Committer,
        metrics: Metrics,
        recent: list[StoredEvent],
        snapshot_seq: int,
        on_closed: Callable[[Session], None],
    ) -> None:
        self.session = session
        self.epoch = epoch
        self._config = config
        self._caps = config.caps
        self._committer = committer
        self._metrics = metrics
        self._on_closed = on_closed
        self._recent: collections.deque[StoredEvent] = collections.deque(
            recent[-config.replay_window :] if config.replay_window else [],
            maxlen=max(config.replay_window, 1),
        )
        self._snapshot_seq = snapshot_seq
        #: member id -> their connections that get event frames
        self.listeners: dict[str, set[ServerConnection]] = {}
        #: connections whose welcome was written (they may get presence frames)
        self._welcomed: set[ServerConnection] = set()
        self._queue: asyncio.Queue[Request] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closers: set[asyncio.Task[None]] = set()
        self._writer = FrameWriter(self.session.id, config.max_buffer, self._drop_slow)
        self.broken = False
        self.stopped = False
        self.idle_since = time.monotonic()
        #: claim digest -> member id, for joins with a claim made by this host: a retry
        #: that checked the store before that join committed still finds its member
        self._claimed: dict[str, str] = {}
        #: (member id, connection) subscribed by the batch being handled (undone on a conflict)
        self._added: list[tuple[str, ServerConnection]] = []

    # ---- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Start the worker."""
        self._task = asyncio.create_task(self._work(), name=f"accord-session-{self.session.id}")

    async def stop(self) -> None:
        """Finish the requests already queued, then stop the worker."""
        self.stopped = True
        if self._task is not None:
            if not self.broken:
                await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._fail_pending()
        for task in list(self._closers):
            task.cancel()

    @property
    def idle(self) -> bool:
        """True when nobody is connected and nothing is queued."""
        return not self.listeners and self._queue.empty()

    @property
    def connection_count(self) -> int:
        """How many connections listen to this session."""
        return sum(len(c) for c in self.listeners.values())

    # ---- requests ----------------------------------------------------------------

    def submit(self, request: Request) -> None:
        """Queue a request; answers go to its connection (and ``done``, if it has one).

        Raises:
            HostGone: if the host stopped taking requests.
        """
        if self.broken or self.stopped:
            raise HostGone("this session is being reloaded; reconnect")
        self._queue.put_nowait(request)

    def detach(self, conn: ServerConnection) -> None:
        """Forget a closed connection; tell the others if its member went offline."""
        self._welcomed.discard(conn)
        for member_id, conns in list(self.listeners.items()):
            if conn in conns:
                conns.discard(conn)
                if not conns:
                    del self.listeners[member_id]
                    self._presence(member_id)
        if not self.listeners:
            self.idle_since = time.monotonic()

    def close_all(self, code: CloseCode, reason: str) -> None:
        """Close every connection of this session (they will resume, or not, by code)."""
        for conns in list(self.listeners.values()):
            for conn in list(conns):
                self._close(conn, code, reason)

    # ---- the worker ----------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            try:
                await self._handle(batch)
            except Exception:  # a bug must not kill the session silently
                log.exception("session %s: unexpected failure", self.session.id)
                self._break(CloseCode.INTERNAL, "relay error; reconnect", batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _handle(self, batch: list[Request]) -> None:
        news = [r for r in batch if isinstance(r, Heard)]
        if news:
            batch = [r for r in batch if not isinstance(r, Heard)]
            if not await self._catch_up(news, batch):
                return
        if any(self._ahead(r) for r in batch):
            # Maybe another relay committed what this client saw; if not, the store went back.
            if not await self._catch_up([], batch):
                return
            if any(self._ahead(r) for r in batch) and not await self._renew_epoch():
                self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
                return
        if any(isinstance(r, JoinRequest) and r.claim for r in batch):
            try:
                await self._refresh_claims(batch)
            except StoreError as exc:
                log.error("session %s: cannot read the store: %s", self.session.id, exc)
                self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
                return
        give_up = time.monotonic() + COMMIT_PATIENCE
        while True:
            start = self.session.seq
            if await self._attempt(batch):
                return
            self._metrics.store_conflicts.inc()
            log.debug("session %s: another writer went first; validating again", self.session.id)
            if time.monotonic() > give_up:
                break
            if not await self._reread(start, batch):
                return
        self._break(CloseCode.INTERNAL, "this session is busy elsewhere; reconnect", batch)

    async def _attempt(self, batch: list[Request]) -> bool:
        """Handle a batch against this copy and commit it; False if the append lost a race.

        After a lost race the copy is stale and this attempt left no trace
        but what ``_reread`` replaces: nothing was written to any client.
        """
        start_seq = self.session.seq
        outbox: list[Write] = []
        new_events: list[StoredEvent] = []
        grants: list[tuple[str, Grant]] = []
        closed_now = False
        self._added = []
        claimed = set(self._claimed)
        taken = time.perf_counter()
        for request in batch:
            if isinstance(request, CommandRequest):
                self._metrics.queue_wait_seconds.observe(taken - request.queued)
                closed_now |= self._command(request, outbox, new_events)
            elif isinstance(request, Heard) or request.done.done():
                continue  # news is handled first; a refusal by an earlier attempt stands
            elif isinstance(request, JoinRequest):
                self._join(request, outbox, new_events, grants)
            else:
                self._attach(request, outbox)
        if new_events or grants:
            append = Append(
                session_id=self.session.id,
                expected_seq=start_seq,
                events=new_events,
                summary=self.summary(),
                grants=grants,
            )
            if self.session.seq - self._snapshot_seq >= self._config.snapshot_every:
                append.snapshot = StoredEvent(self.session.seq, codec.encode_plain(self.session))
            try:
                ok = await self._committer.commit(append)
            except StoreError as exc:
                log.error("session %s: commit failed: %s", self.session.id, exc)
                self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
                return True
            if not ok:
                self._undo(start_seq, claimed)
                return False
            if append.snapshot is not None:
                self._snapshot_seq = append.snapshot.seq
        self._flush(outbox)
        if closed_now:
            self._on_closed(self.session)
        return True

    def _ahead(self, request: Request) -> bool:
        """True for a resume that saw more of this epoch than is stored: the store went back."""
        return (
            isinstance(request, AttachRequest)
            and request.epoch == self.epoch
            and request.last_seq > self.session.seq
        )

    def summary(self) -> SessionInfo:
        """The row ops see in ``accord sessions list``."""
        s = self.session
        return SessionInfo(
            id=s.id,
            epoch=self.epoch,
            question=s.question,
            created_at=s.created_at,
            updated_at=time.time(),
            seq=s.seq,
            phase=s.phase,
            members=len(s.members),
            closed=s.closed,
        )

    # ---- the three kinds of request --------------------------------------------------

    def _command(self, req: CommandRequest, outbox: list[Write], new: list[StoredEvent]) -> bool:
        session = self.session
        seen = rules.retried_seq(session, req.member_id, req.op)
        if seen is not None:
            self._metrics.duplicates.inc()
            outbox.append((codec.encode(Ack(op=req.op, seq=seen, duplicate=True)), [req.conn]))
            return False
        now = time.time()
        try:
            bodies = rules.decide(session, req.member_id, req.command, now, self._caps)
        except Refusal as refusal:
            self._metrics.commands.labels("rejected", str(refusal.code)).inc()
            error = Error(code=refusal.code.value, message=refusal.message, op=req.op)
            outbox.append((codec.encode(error), [req.conn]))
            return False
        self._metrics.accepted.inc()
        last = session.seq + len(bodies)
        outbox.append((codec.encode(Ack(op=req.op, seq=last)), [req.conn]))
        closed = False
        for body in bodies:
            self._apply(body, req.member_id, req.op, now, outbox, new)
            closed |= isinstance(body, SessionClosed)
        return closed

    def _join(
        self,
        req: JoinRequest,
        outbox: list[Write],
        new: list[StoredEvent],
        grants: list[tuple[str, Grant]],
    ) -> None:
        key = credentials.digest(req.claim) if req.claim else ""
        claimed = self._claimed.get(key) if key else None
        if claimed is not None:  # a retry of a join this host already made: resume
            resume = AttachRequest(req.conn, claimed, token=req.claim, done=req.done)
            self._attach(resume, outbox)
            return
        now = time.time()
        try:
            body = rules.join(self.session, req.name, req.role, req.department, now, self._caps)
        except Refusal as refusal:
            req.done.set_exception(refusal)
            return
        member_id = body.member.id
        self._apply(body, member_id, "", now, outbox, new)
        self._metrics.joins.inc()
        log.info(
            "member joined",
            extra={"session": self.session.id, "member": member_id, "role": req.role},
        )
        token = req.claim or credentials.new_token()
        grants.append(
            (key or credentials.digest(token), Grant(self.session.id, req.role, member_id))
        )
        if key:
            self._claimed[key] = member_id
        welcome = self._snapshot_welcome(member_id, token=token)
        self._subscribe(req.conn, member_id, welcome, [], outbox, req.done)

    def _attach(self, req: AttachRequest, outbox: list[Write]) -> None:
        session = self.session
        member = session.members.get(req.member_id)
        if member is None:
            req.done.set_exception(Refusal(ErrorCode.UNAUTHORIZED, "no such member here"))
            return
        replay = self._replayable(req)
        log.debug(
            "member attached",
            extra={
                "session": session.id,
                "member": req.member_id,
                "mode": "snapshot" if replay is None else "replay",
            },
        )
        if replay is None:
            welcome = self._snapshot_welcome(req.member_id, token=req.token, secrets=req.secrets)
            if req.last_seq or req.epoch:
                self._metrics.snapshots.inc()
            frames: list[bytes] = []
        else:
            welcome = Welcome(
                session_id=session.id,
                member_id=req.member_id,
                role=member.role,
                epoch=self.epoch,
                seq=session.seq,
                mode="replay",
                token=req.token,
                online=[],
                server_time=time.time(),
            )
            self._metrics.replays.inc()
            frames = replay_frames(session, replay, req.member_id)
        self._subscribe(req.conn, req.member_id, welcome, frames, outbox, req.done)

    def _replayable(self, req: AttachRequest) -> list[StoredEvent] | None:
        """The events a resuming member missed, or None if it needs a snapshot."""
        window = self._config.replay_window
        return missed_events(
            self._recent, self.session.seq, self.epoch, req.last_seq, req.epoch, window
        )

    # ---- helpers -------------------------------------------------------------------

    def _apply(
        self,
        body: EventBody,
        by: str,
        op: str,
        now: float,
        outbox: list[Write],
        new: list[StoredEvent],
    ) -> None:
        """Sequence, store-encode, apply and project one event (frames go out after commit)."""
        event = Event(seq=self.session.seq + 1, at=now, by=by, body=body, op=op)
        # Encode before applying: the session keeps references into the body and
        # later events mutate them, so this is the only moment the bytes are right.
        encoded = codec.EncodedEvent(event)  # once, for storage and the wire
        stored = StoredEvent(event.seq, encoded.stored)
        reducer.apply_event(self.session, event)
        new.append(stored)
        self._recent.append(stored)
        started = time.perf_counter()
        groups = self._variants(event, encoded)
        projecting = time.perf_counter() - started

        def fan_out() -> None:
            """Write the event's variants (after the commit); count and time it."""
            writing = time.perf_counter()
            for frame, conns in groups.values():
                self._send(frame, conns)
            elapsed = projecting + time.perf_counter() - writing
            self._metrics.events.inc()
            self._metrics.frames.inc(sum(len(c) for _, c in groups.values()))
            self._metrics.fanout_seconds.observe(elapsed)

        outbox.append(fan_out)

    def _snapshot_welcome(
        self, member_id: str, token: str = "", secrets: Secrets | None = None
    ) -> Welcome:
        member = self.session.members[member_id]
        return Welcome(
            session_id=self.session.id,
            member_id=member_id,
            role=member.role,
            epoch=self.epoch,
            seq=self.session.seq,
            mode="snapshot",
            snapshot=views.project_session(self.session, member_id),
            token=token,
            secrets=secrets,
            online=[],
            server_time=time.time(),
        )

    def _subscribe(
        self,
        conn: ServerConnection,
        member_id: str,
        welcome: Welcome,
        replay: list[bytes],
        outbox: list[Write],
        done: asyncio.Future[str],
    ) -> None:
        """Listen from now on; the welcome (and replay) go out in order after the commit."""
        first = member_id not in self.listeners
        conns = self.listeners.setdefault(member_id, set())
        if conn not in conns:
            conns.add(conn)
            self._added.append((member_id, conn))

        def welcome_now() -> None:
            if conn not in self.listeners.get(member_id, ()):
                # It closed before the commit finished; nothing to welcome.
                if not done.done():
                    done.set_result(member_id)
                return
            welcome.online = sorted(self.listeners)
            welcome.server_time = time.time()
            self._send(codec.encode(welcome), [conn])
            for frame in replay:
                self._send(frame, [conn])
            self._welcomed.add(conn)
            if not done.done():
                done.set_result(member_id)
            if first:
                self._presence(member_id, skip=conn)

        outbox.append(welcome_now)

    def _presence(self, member_id: str, skip: ServerConnection | None = None) -> None:
        """Tell every welcomed connection whether ``member_id`` is online now."""
        frame = codec.encode(Presence(member_id=member_id, online=member_id in self.listeners))
        self._send(frame, [c for c in self._welcomed if c is not skip])

    def _flush(self, outbox: list[Write]) -> None:
        """Write a batch's outbox in order, with one socket write per connection."""
        with self._writer.batch():
            for write in outbox:
                if callable(write):
                    write()
                else:
                    self._send(*write)

    def _send(self, frame: bytes, conns: list[ServerConnection]) -> None:
        """Write a frame now, or queue it while a batch flushes."""
        self._writer.send(frame, conns)

    def _drop_slow(self, conn: ServerConnection) -> None:
        self._close(conn, CloseCode.SLOW_CONSUMER, "too far behind; reconnect and resume")

    def _close(self, conn: ServerConnection, code: CloseCode, reason: str) -> None:
        self.detach(conn)
        self._metrics.closes.labels(str(int(code))).inc()
        task = asyncio.create_task(conn.close(int(code), reason))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def _break(self, code: CloseCode, reason: str, batch: list[Request]) -> None:
        """Stop serving this copy of the session; its clients reconnect to a fresh load."""
        log.info("session %s: closing its connections with %d: %s", self.session.id, code, reason)
        self.broken = True
        for request in batch:
            _give_up(request)
        self.close_all(code, reason)
        self._fail_pending()

    def _fail_pending(self) -> None:
        while not self._queue.empty():
            _give_up(self._queue.get_nowait())
            self._queue.task_done()


def _give_up(request: Request) -> None:
    """Answer a request that will never be handled."""
    if isinstance(request, JoinRequest | AttachRequest) and not request.done.done():
        request.done.set_exception(HostGone("this session is unavailable; reconnect"))
