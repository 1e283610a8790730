"""One session's authoritative state on the relay, and the single task that changes it.

Everything that changes a session or who listens to it goes through one
queue and one worker: commands, joins, (re)attaches and news from a shared
store (``host_sync``). The worker takes every request that is ready, applies
them in order, commits the new events in one append (validating again after
losing a race to another relay), and only then writes the acks, welcomes and
event frames, in seq order. So a client receives each event once, in order,
and only after it is durable.

Over 400 lines: the single worker's steps (commands, joins, attaches, the
commit, then the frames in seq order) are one sequence on one task's state;
split across modules, that order would no longer be readable in one place.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable

from accord.protocol import codec, reducer, rules
from accord.protocol.commands import RotateCodes
from accord.protocol.errors import CloseCode, ErrorCode, Refusal
from accord.protocol.events import Event, EventBody, SessionClosed
from accord.protocol.messages import Ack, Error, Presence, Secrets, Welcome
from accord.protocol.model import Session
from accord.protocol.partner import is_partner
from websockets.asyncio.server import ServerConnection

from . import credentials
from .budget import SessionBudget
from .closing import close_or_abort
from .commits import Committer
from .config import ServerConfig
from .guards import DiskGuard
from .host_sync import COMMIT_PATIENCE, StoreSync
from .membership import credential_changes, rotated_secrets, rotation
from .metrics import Metrics
from .replay import missed_events, partner_view_changed, replay_frames
from .requests import (
    AttachRequest,
    CommandRequest,
    Heard,
    HostGone,
    JoinRequest,
    Request,
    give_up,
)
from .sealing import Sealer
from .snapshots import SnapshotCache, welcome_frame
from .store import (
    Append,
    Grant,
    SessionInfo,
    StoredEvent,
    StoreError,
    encode_session,
    stored_form,
)
from .writer import FrameWriter

log = logging.getLogger("accord.server.session")

#: Most requests handled (and committed) together; bounds latency under a backlog.
MAX_BATCH = 256
#: The ``by`` of events the relay makes itself (budget warnings).
RELAY_AUTHOR = "relay"


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
        disk: DiskGuard | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.session = session
        self._sealer = sealer
        self._disk = disk
        self._budget = SessionBudget(session, config.max_session_events, config.max_session_bytes)
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
        self._snapshots = SnapshotCache()
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
        deadline = time.monotonic() + COMMIT_PATIENCE
        while True:
            start = self.session.seq
            if await self._attempt(batch):
                return
            self._metrics.store_conflicts.inc()
            log.debug("session %s: another writer went first; validating again", self.session.id)
            if time.monotonic() > deadline:
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
        append = Append(self.session.id, self.session.seq, [], self.summary())
        closed_now = False
        self._added = []
        claimed = dict(self._claimed)
        taken = time.perf_counter()
        for request in batch:
            if isinstance(request, CommandRequest):
                self._metrics.queue_wait_seconds.observe(taken - request.queued)
                closed_now |= self._command(request, outbox, append)
            elif isinstance(request, Heard) or request.done.done():
                continue  # news is handled first; a refusal by an earlier attempt stands
            elif isinstance(request, JoinRequest):
                await self._join(request, outbox, append.events, append.grants)
            else:
                await self._attach(request, outbox)
        if append.events or append.grants:
            append.summary = self.summary()
            if self.session.seq - self._snapshot_seq >= self._config.snapshot_every:
                blob = encode_session(self.session, self._sealer)
                append.snapshot = StoredEvent(self.session.seq, blob)
                self._budget.measured(len(append.snapshot.blob))
                if self._config.compact_events:
                    # Keep a replay window's worth below the snapshot for resumes.
                    append.compact_below = max(0, self._snapshot_seq - self._config.replay_window)
            try:
                ok = await self._committer.commit(append)
            except StoreError as exc:
                log.error("session %s: commit failed: %s", self.session.id, exc)
                self._break(CloseCode.INTERNAL, "storage failed; reconnect", batch)
                return True
            if not ok:
                self._undo(start_seq, claimed)
                self._snapshots = SnapshotCache()  # views of a seq this copy never committed
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

    def _command(self, req: CommandRequest, outbox: list[Write], append: Append) -> bool:
        session = self.session
        new = append.events
        seen = rules.retried_seq(session, req.member_id, req.op)
        if seen is not None:
            self._metrics.duplicates.inc()
            again = None
            if isinstance(req.command, RotateCodes) and req.token:  # show the codes again
                again = rotated_secrets(req.token, session.id, seen)
            ack = Ack(op=req.op, seq=seen, duplicate=True, secrets=again)
            outbox.append((codec.encode(ack), [req.conn]))
            return False
        now = time.time()
        try:
            self._admit(self._budget.refusal(session, req.command))
            bodies = rules.decide(session, req.member_id, req.command, now, self._caps)
            if isinstance(req.command, RotateCodes) and not req.token:
                raise Refusal(ErrorCode.UNAUTHORIZED, "reconnect with your facilitator key")
        except Refusal as refusal:
            self._metrics.commands.labels("rejected", str(refusal.code)).inc()
            error = Error(code=refusal.code.value, message=refusal.message, op=req.op)
            outbox.append((codec.encode(error), [req.conn]))
            return False
        self._metrics.accepted.inc()
        last = session.seq + len(bodies)
        secrets = rotation(bodies, req.token, session.id, last)
        outbox.append((codec.encode(Ack(op=req.op, seq=last, secrets=secrets)), [req.conn]))
        closed = False
        for body in bodies:
            self._apply(body, req.member_id, req.op, now, outbox, new)
            closed |= isinstance(body, SessionClosed)
        for member_id in credential_changes(bodies, secrets, session.id, append):
            self._remove(member_id, outbox)
        self._warn(now, outbox, new)
        return closed

    def _remove(self, member_id: str, outbox: list[Write]) -> None:
        """After the commit, close a removed member's connections (they got the event first)."""
        for key in [k for k, m in self._claimed.items() if m == member_id]:
            del self._claimed[key]
        log.info("member removed", extra={"session": self.session.id, "member": member_id})

        def close_now() -> None:
            for conn in list(self.listeners.get(member_id, ())):
                self._close(conn, CloseCode.MEMBER_REMOVED, "")

        outbox.append(close_now)

    def _admit(self, over_budget: Refusal | None) -> None:
        """Refuse a write when the disk is nearly full or the session is over a budget.

        Raises:
            Refusal: ``server_error`` for the disk, ``limit`` for a budget.
        """
        if self._disk is not None:
            self._disk.check()
        if over_budget is not None:
            raise over_budget

    def _warn(self, now: float, outbox: list[Write], new: list[StoredEvent]) -> None:
        """Append the budget warnings that are due (the relay is their author)."""
        for warning in self._budget.warnings(self.session):
            log.warning(
                "session nears a budget",
                extra={"session": self.session.id, "budget": warning.budget, "used": warning.used},
            )
            self._apply(warning, RELAY_AUTHOR, "", now, outbox, new)

    async def _join(
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
            await self._attach(resume, outbox)
            return
        now = time.time()
        try:
            self._admit(self._budget.join_refusal(self.session))
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
        welcome, snapshot = await self._snapshot_welcome(member_id, token=token)
        self._subscribe(req.conn, member_id, welcome, [], outbox, req.done, snapshot)

    async def _attach(self, req: AttachRequest, outbox: list[Write]) -> None:
        session = self.session
        member = session.members.get(req.member_id)
        if member is None or member.removed:
            why = "no such member here" if member is None else "you were removed from this session"
            req.done.set_exception(Refusal(ErrorCode.UNAUTHORIZED, why))
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
        snapshot: bytes | None = None
        if replay is None:
            welcome, snapshot = await self._snapshot_welcome(
                req.member_id, token=req.token, secrets=req.secrets
            )
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
            frames = replay_frames(session, replay, req.member_id, self._sealer)
        self._subscribe(req.conn, req.member_id, welcome, frames, outbox, req.done, snapshot)

    def _replayable(self, req: AttachRequest) -> list[StoredEvent] | None:
        """The events a resuming member missed, or None if it needs a snapshot."""
        window = self._config.replay_window
        missed = missed_events(
            self._recent, self.session.seq, self.epoch, req.last_seq, req.epoch, window
        )
        # A partner whose view changed in between gets a snapshot: replayed events
        # would be projected by the new view.
        if missed and is_partner(self.session, req.member_id):
            return None if any(partner_view_changed(e, self._sealer) for e in missed) else missed
        return missed

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
        stored = StoredEvent(event.seq, stored_form(event, encoded, self._sealer))
        reducer.apply_event(self.session, event)
        new.append(stored)
        self._recent.append(stored)
        self._budget.grew(len(stored.blob))
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

    async def _snapshot_welcome(
        self, member_id: str, token: str = "", secrets: Secrets | None = None
    ) -> tuple[Welcome, bytes]:
        """A snapshot welcome, and its snapshot encoded apart (cached; big ones off the loop)."""
        member = self.session.members[member_id]
        snapshot = await self._snapshots.encoded(self.session, member_id, self._budget.size)
        welcome = Welcome(
            session_id=self.session.id,
            member_id=member_id,
            role=member.role,
            epoch=self.epoch,
            seq=self.session.seq,
            mode="snapshot",
            token=token,
            secrets=secrets,
            online=[],
            server_time=time.time(),
        )
        return welcome, snapshot

    def _subscribe(
        self,
        conn: ServerConnection,
        member_id: str,
        welcome: Welcome,
        replay: list[bytes],
        outbox: list[Write],
        done: asyncio.Future[str],
        snapshot: bytes | None = None,
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
            frame = codec.encode(welcome) if snapshot is None else welcome_frame(welcome, snapshot)
            self._send(frame, [conn])
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
        task = asyncio.create_task(close_or_abort(conn, code, reason))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def _break(self, code: CloseCode, reason: str, batch: list[Request]) -> None:
        """Stop serving this copy of the session; its clients reconnect to a fresh load."""
        log.info("session %s: closing its connections with %d: %s", self.session.id, code, reason)
        self.broken = True
        for request in batch:
            give_up(request)
        self.close_all(code, reason)
        self._fail_pending()

    def _fail_pending(self) -> None:
        while not self._queue.empty():
            give_up(self._queue.get_nowait())
            self._queue.task_done()
