"""The network client: one member's live link to a relay, with no Textual in it.

``Connection`` keeps the ``Session`` from the relay's ``Welcome`` and applies
every ``Event`` frame with the protocol core's ``apply_event``, so it can never
drift from the relay's rules. It reconnects with websockets' ``connect()``
iterator (exponential backoff), resumes from its last seq, and resends
commands that were not acknowledged with their original op ids; the relay
answers a retry with the seq of the first application, so a command lands
exactly once. A create or join is made idempotent the same way: it carries a
claim (a random token made here) and is resent unchanged until a welcome
arrives, so a retry after a lost welcome gets the same session or member back.

Plain asyncio use::

    conn = Connection(url, Hello(code=code, name="Ada", department="Ops"))
    await conn.start()                       # raises ConnectionFailed
    ack = await conn.send(AddCard("value", "Faster onboarding"))
    async for update in conn.updates():      # Welcomed, Applied, LinkChanged, ...
        ...
    await conn.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Literal

from accord.protocol import limits as L
from accord.protocol.codec import decode_server, encode
from accord.protocol.commands import Command
from accord.protocol.errors import CloseCode, ProtocolError
from accord.protocol.events import Event
from accord.protocol.messages import (
    Ack,
    Cmd,
    Create,
    Error,
    Hello,
    Ping,
    Pong,
    Presence,
    Secrets,
    Welcome,
)
from accord.protocol.model import Role, Session
from accord.protocol.reducer import apply_event
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
)

#: Close codes after which trying again with the same credentials cannot help.
FATAL_CLOSE_CODES: dict[int, str] = {
    CloseCode.UNAUTHORIZED: "the relay did not accept these credentials",
    CloseCode.SESSION_GONE: "this session was deleted on the relay",
    CloseCode.BAD_HELLO: "the relay did not understand this client's hello",
    CloseCode.UNSUPPORTED_DATA: "the relay refused this client's frames",
    CloseCode.TOO_BIG: "the relay refused a frame as too large",
}
#: Error codes that end a connection attempt for good when they answer a hello.
FATAL_HELLO_CODES = frozenset(
    {"unauthorized", "forbidden", "not_found", "version", "session_closed", "bad_message", "limit"}
)


# ---- what the outside world sees --------------------------------------------

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
    future: asyncio.Future[Ack] = field(repr=False, default_factory=lambda: _new_future())

    @property
    def kind(self) -> str:
        """The command's wire name, e.g. ``add_card``."""
        return str(type(self.command).KIND)


def _new_future() -> asyncio.Future[Ack]:
    future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
    # A caller that uses submit() and never awaits must not get "exception never retrieved".
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


class ConnectionFailed(Exception):
    """The connection stopped for good: bad code or key, unreachable relay, wrong URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CommandFailed(Exception):
    """A command was refused by the relay, or could not be delivered."""

    def __init__(self, code: str, reason: str, op: str = "") -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.op = op


@dataclass(frozen=True, slots=True)
class Welcomed:
    """The relay welcomed this client: a fresh snapshot, or a replay of missed events."""

    mode: Literal["snapshot", "replay"]
    member_id: str
    role: Role
    first: bool


@dataclass(frozen=True, slots=True)
class Applied:
    """Events were applied to ``Connection.session``."""

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
Listener = Callable[[Update], None]


def default_delays() -> Generator[float]:
    """Reconnect delays for people waiting at a keyboard: quick at first, capped at 15 s."""
    yield random.uniform(0.1, 0.6)
    delay = 1.0
    while True:
        yield delay + random.uniform(0, 0.3 * delay)
        delay = min(delay * 1.6, 15.0)


def describe_exception(exc: BaseException) -> str:
    """A one-line, human account of a connection failure."""
    if isinstance(exc, InvalidURI):
        return f"{exc.uri!r} is not a relay URL; it looks like ws://host:port or wss://host"
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return f"the server answered HTTP {status} instead of accepting a websocket (wrong URL?)"
    if isinstance(exc, InvalidMessage):
        return "the server did not speak the websocket protocol (wrong URL or port?)"
    if isinstance(exc, InvalidHandshake):
        return f"the websocket handshake failed ({exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the relay running?)"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
        return text[0].lower() + text[1:] if text else type(exc).__name__
    return str(exc) or type(exc).__name__


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, OSError | TimeoutError):
        return True
    if isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, EOFError):
        return True
    return isinstance(exc, InvalidStatus) and exc.response.status_code in (500, 502, 503, 504)


def _passing(error: Error) -> bool:
    """A relay's storage failed for now (Redis down, a busy session): reconnect later."""
    return error.code == "server_error"


def new_claim() -> str:
    """A fresh claim for a create or join: 40 hex digits (160 random bits)."""
    return secrets.token_hex(20)


class _Resync(Exception):
    """Internal: the event stream had a gap; drop the socket and resume from last seq."""


# ---- the connection ---------------------------------------------------------


class Connection:
    """One member's live link to a relay: session state, reconnects and the outbox."""

    def __init__(
        self,
        url: str,
        intro: Create | Hello,
        *,
        first_attempts: int = 2,
        delays: Callable[[], Generator[float]] = default_delays,
        open_timeout: float = 8.0,
        ping_interval: float | None = 10.0,
        op_prefix: str | None = None,
    ) -> None:
        self.url = url
        fresh = isinstance(intro, Create) or bool(intro.code and not intro.token)
        if fresh and not intro.claim:
            # Our own token for this create or join, the same on every retry: a retry
            # whose first try went through (its welcome lost) gets that session or
            # member back instead of a second one.
            intro = dataclasses.replace(intro, claim=new_claim())
        self._intro = intro
        self._first_attempts = max(1, first_attempts)
        self._delays = delays
        self._open_timeout = open_timeout
        self._ping_interval = ping_interval
        self._op_prefix = op_prefix or secrets.token_hex(4)
        self._op_counter = itertools.count(1)

        self.session: Session | None = None
        self.member_id = ""
        self.role: Role = "participant"
        self.epoch = ""
        self.token = intro.token if isinstance(intro, Hello) else ""
        self.secrets: Secrets | None = None
        self.online: set[str] = set()
        self.clock_offset = 0.0
        self.link = LinkState("offline", reason="not started")
        self.outbox: dict[str, Outgoing] = {}

        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[Update | None]] = []
        self._waiting_for_seq: dict[int, list[Outgoing]] = {}
        self._sendq: asyncio.Queue[Outgoing] | None = None
        self._ws: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._welcomed = asyncio.Event()
        self._changed = asyncio.Event()
        self._closing = False
        self._attempt = 1
        self._ever_welcomed = False
        self.failure: ConnectionFailed | None = None
        self._ping_n = 0

    # ---- detached connections (previews and snapshots) ------------------

    @classmethod
    def detached(
        cls, session: Session, member_id: str, *, online: set[str] | None = None
    ) -> Connection:
        """A connection that never dials out and shows a fixed session (previews, snapshots)."""
        conn = cls("ws://detached.invalid", Hello())
        conn.session = session
        conn.member_id = member_id
        member = session.members.get(member_id)
        conn.role = member.role if member else "observer"
        conn.online = set(session.members) if online is None else online
        conn.link = LinkState("connected")
        conn._ever_welcomed = True
        conn._closing = True
        return conn

    @property
    def detached_preview(self) -> bool:
        """True for a connection made by ``detached``."""
        return self.url == "ws://detached.invalid"

    # ---- subscribing -------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every update; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def updates(self) -> AsyncIterator[Update]:
        """Yield every update from now on, until the connection stops for good."""
        queue: asyncio.Queue[Update | None] = asyncio.Queue()
        self._queues.append(queue)
        try:
            if self._runner is not None and self._runner.done():
                return
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._queues.remove(queue)

    def _emit(self, update: Update) -> None:
        for listener in list(self._listeners):
            listener(update)
        for queue in self._queues:
            queue.put_nowait(update)
        self._changed.set()

    def _set_link(self, state: LinkState) -> None:
        if state != self.link:
            self.link = state
            self._emit(LinkChanged(state))

    # ---- lifecycle -----------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the connect/receive loop is running."""
        return self._runner is not None and not self._runner.done()

    def start_in_background(self) -> asyncio.Task[None]:
        """Start the connect/receive loop in a task (once) and return that task."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self.run(), name=f"accord-connection-{self._op_prefix}"
            )
            self._runner.add_done_callback(lambda t: t.cancelled() or t.exception())
        return self._runner

    async def start(self, timeout: float | None = None) -> None:
        """Start the loop and wait until the relay welcomes this client.

        Raises:
            ConnectionFailed: when the relay is unreachable or refuses the hello.
            TimeoutError: when ``timeout`` passes first.
        """
        runner = self.start_in_background()
        welcomed = asyncio.ensure_future(self._welcomed.wait())
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait({runner, welcomed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            welcomed.cancel()
        if not self._welcomed.is_set():
            exc = runner.exception() if runner.done() and not runner.cancelled() else None
            if exc is not None:
                raise exc
            raise ConnectionFailed(self.failure.reason if self.failure else "connection stopped")

    async def close(self) -> None:
        """Stop for good: close the socket, fail pending commands, end ``updates()``."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        runner = self._runner
        if runner is not None and not runner.done():
            if self._ws is None:
                runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionFailed):
                await runner
        elif runner is None:
            self._stop(LinkState("offline", reason="closed"))

    async def reconnect(self) -> None:
        """Drop the current socket; the loop reconnects at once and resumes from last seq."""
        if self._ws is not None:
            await self._ws.close(code=1000, reason="client resync")

    async def run(self) -> None:
        """Connect, welcome, receive and reconnect until ``close()`` or a fatal error.

        Raises:
            ConnectionFailed: bad credentials, unreachable relay, wrong URL.
        """
        self._attempt = 1
        self._set_link(LinkState("connecting", 1))
        try:
            await self._loop()
        except ConnectionFailed as exc:
            self.failure = exc
            self._stop(LinkState("offline", reason=exc.reason))
            raise
        except asyncio.CancelledError:
            self._stop(LinkState("offline", reason="closed"))
            if not self._closing:
                raise
        except Exception as exc:  # a bug must surface, not leave a silent dead link
            self.failure = ConnectionFailed(f"client error: {exc!r}")
            self._stop(LinkState("offline", reason=self.failure.reason))
            raise self.failure from exc
        else:
            self._stop(LinkState("offline", reason="closed"))

    async def _loop(self) -> None:
        try:
            dialer = connect(
                self.url,
                process_exception=self._retry_or_stop,
                reconnect_delays=self._delays,
                open_timeout=self._open_timeout,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_interval,
                close_timeout=2,
                max_size=L.MAX_SERVER_FRAME,
                user_agent_header="accord-tui",
            )
        except (InvalidURI, ValueError) as exc:
            raise ConnectionFailed(describe_exception(exc)) from None
        try:
            async for ws in dialer:
                self._ws = ws
                try:
                    await self._serve(ws)
                except ConnectionClosed as exc:
                    if self._closing:
                        return
                    code = exc.rcvd.code if exc.rcvd is not None else None
                    if code is not None and code in FATAL_CLOSE_CODES:
                        reason = (exc.rcvd.reason if exc.rcvd else "") or FATAL_CLOSE_CODES[code]
                        raise ConnectionFailed(reason) from None
                    why = "the relay shut down" if code == CloseCode.GOING_AWAY else "link lost"
                    self._lost(why)
                    continue
                except _Resync:
                    self._lost("resyncing")
                    continue
                except (TimeoutError, OSError) as exc:
                    if self._closing:
                        return
                    self._lost(describe_exception(exc))
                    continue
                finally:
                    self._ws = None
                    self._sendq = None
                if self._closing:
                    return
        except ConnectionFailed:
            raise
        except InvalidHandshake as exc:
            raise ConnectionFailed(describe_exception(exc)) from None

    def _lost(self, why: str) -> None:
        self._attempt = 1
        kind: LinkKind = "reconnecting" if self._ever_welcomed else "connecting"
        self._set_link(LinkState(kind, 1, why))

    def _retry_or_stop(self, exc: Exception) -> Exception | None:
        """websockets' ``process_exception`` hook: retry network errors, stop on the rest."""
        if isinstance(exc, ConnectionFailed):
            return exc
        if self._closing:
            return ConnectionFailed("closed")
        if not _retryable(exc):
            return ConnectionFailed(describe_exception(exc))
        reason = describe_exception(exc)
        if not self._ever_welcomed and self._attempt >= self._first_attempts:
            return ConnectionFailed(f"cannot reach the relay at {self.url}: {reason}")
        self._attempt += 1
        kind: LinkKind = "reconnecting" if self._ever_welcomed else "connecting"
        self._set_link(LinkState(kind, self._attempt, reason))
        return None

    def _stop(self, state: LinkState) -> None:
        self._set_link(state)
        reason = state.reason or "the connection stopped"
        for out in list(self.outbox.values()):
            self._finish(out, "failed", "offline", f"not delivered: {reason}")
        for queue in self._queues:
            queue.put_nowait(None)

    # ---- one socket ------------------------------------------------------------

    def _intro_message(self) -> Create | Hello:
        """A resume once a welcome gave us a token; until then the intro, with its claim."""
        if self.token:
            last = self.session.seq if self.session is not None else 0
            epoch = self.epoch if self.session is not None else ""
            return Hello(token=self.token, last_seq=last, epoch=epoch)
        return self._intro

    async def _serve(self, ws: ClientConnection) -> None:
        """Say hello, take the welcome, resend the outbox, then receive until the socket ends."""
        await ws.send(encode(self._intro_message()))
        welcome = await self._await_welcome(ws)
        sendq: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._take_welcome(welcome)
        for out in self.outbox.values():
            sendq.put_nowait(out)
        self._sendq = sendq
        receiver = asyncio.ensure_future(self._receive(ws))
        sender = asyncio.ensure_future(self._send_loop(ws, sendq))
        try:
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiver, sender):
                task.cancel()
            await asyncio.gather(receiver, sender, return_exceptions=True)
        for task in done:
            task.result()  # re-raise ConnectionClosed, _Resync or ConnectionFailed

    async def _await_welcome(self, ws: ClientConnection) -> Welcome:
        async with asyncio.timeout(self._open_timeout):
            async for frame in ws:
                msg = self._decode(frame)
                if isinstance(msg, Welcome):
                    return msg
                if isinstance(msg, Error):
                    if msg.code in FATAL_HELLO_CODES or (msg.fatal and not _passing(msg)):
                        raise ConnectionFailed(msg.message or msg.code)
                    await asyncio.sleep(1.0)  # rate limited or busy: pause, then try again
                    raise ConnectionClosed(None, None)
        raise ws.protocol.close_exc

    def _take_welcome(self, welcome: Welcome) -> None:
        first = not self._ever_welcomed
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
            self.clock_offset = welcome.server_time - time.time()
        self.online = set(welcome.online)
        self._ever_welcomed = True
        self._attempt = 1
        self._welcomed.set()
        self._set_link(LinkState("connected"))
        self._emit(Welcomed(welcome.mode, welcome.member_id, welcome.role, first))
        self._settle_acks()

    async def _send_loop(self, ws: ClientConnection, sendq: asyncio.Queue[Outgoing]) -> None:
        while True:
            out = await sendq.get()
            if out.state != "pending":
                continue
            await ws.send(encode(Cmd(op=out.op, c=out.command)))
            out.sends += 1
            if out.sends > 1:
                self._emit(CommandChanged(out))

    async def _receive(self, ws: ClientConnection) -> None:
        async for frame in ws:
            self._on_message(self._decode(frame))
        # ``async for`` ends quietly on close codes 1000/1001; surface them too.
        raise ws.protocol.close_exc

    def _decode(self, frame: str | bytes) -> object:
        try:
            return decode_server(frame if isinstance(frame, bytes) else frame.encode())
        except ProtocolError as exc:
            self._emit(Noticed(str(exc.code), f"ignored a frame from the relay: {exc.message}"))
            return None

    def _on_message(self, msg: object) -> None:
        if isinstance(msg, Event):
            self._on_event(msg)
        elif isinstance(msg, Ack):
            self._on_ack(msg)
        elif isinstance(msg, Error):
            self._on_error(msg)
        elif isinstance(msg, Presence):
            if msg.online:
                self.online.add(msg.member_id)
            else:
                self.online.discard(msg.member_id)
            self._emit(PresenceChanged(msg.member_id, msg.online))
        elif isinstance(msg, Pong) and msg.server_time:
            self.clock_offset = msg.server_time - time.time()

    def _on_event(self, event: Event) -> None:
        session = self.session
        if session is None or event.seq <= session.seq:
            return  # already applied (a replay overlapping what we had)
        if event.seq != session.seq + 1:
            raise _Resync(f"expected seq {session.seq + 1}, got {event.seq}")
        apply_event(session, event)
        self._emit(Applied((event,)))
        self._settle_acks()

    def _on_ack(self, ack: Ack) -> None:
        out = self.outbox.get(ack.op)
        if out is None:
            return
        out.seq = ack.seq
        out.duplicate = ack.duplicate
        if self.session is not None and self.session.seq >= ack.seq:
            self._finish(out, "acked")
        else:
            self._waiting_for_seq.setdefault(ack.seq, []).append(out)

    def _settle_acks(self) -> None:
        if self.session is None or not self._waiting_for_seq:
            return
        for seq in [s for s in self._waiting_for_seq if s <= self.session.seq]:
            for out in self._waiting_for_seq.pop(seq):
                self._finish(out, "acked")

    def _on_error(self, error: Error) -> None:
        if error.fatal and not _passing(error):
            raise ConnectionFailed(error.message or error.code)
        if error.fatal:  # the relay closes with 1011 next; reconnect and resume then
            return
        out = self.outbox.get(error.op) if error.op else None
        if out is None:
            self._emit(Noticed(error.code, error.message))
            return
        self._finish(out, "failed", error.code, error.message)

    def _finish(self, out: Outgoing, state: CommandState, code: str = "", reason: str = "") -> None:
        if out.state != "pending":
            return
        out.state, out.code, out.reason = state, code, reason
        self.outbox.pop(out.op, None)
        if not out.future.done():
            if state == "acked":
                out.future.set_result(Ack(op=out.op, seq=out.seq, duplicate=out.duplicate))
            else:
                out.future.set_exception(CommandFailed(code, reason, out.op))
        self._emit(CommandChanged(out))

    # ---- commands ----------------------------------------------------------------

    def next_op(self) -> str:
        """A fresh op id, unique to this client: a random prefix and a counter."""
        return f"{self._op_prefix}-{next(self._op_counter)}"

    def submit(self, command: Command) -> Outgoing:
        """Queue ``command`` (sent now if connected, else after the next welcome)."""
        out = Outgoing(op=self.next_op(), command=command)
        if self.link.kind == "offline" and (self._closing or self.failure is not None):
            out.state, out.code = "failed", "offline"
            out.reason = f"not delivered: {self.link.reason or 'offline'}"
            out.future.set_exception(CommandFailed(out.code, out.reason, out.op))
            self._emit(CommandChanged(out))
            return out
        self.outbox[out.op] = out
        if self._sendq is not None:
            self._sendq.put_nowait(out)
        self._emit(CommandChanged(out))
        return out

    async def send(self, command: Command) -> Ack:
        """Send ``command`` and wait until it is applied to ``self.session``.

        Raises:
            CommandFailed: the relay refused it (``code``/``reason`` say why) or
                the connection stopped for good before it was delivered.
        """
        return await self.submit(command).future

    async def ping(self) -> None:
        """Ask the relay for its clock (the answer updates ``clock_offset``)."""
        if self._ws is not None:
            self._ping_n += 1
            await self._ws.send(encode(Ping(n=self._ping_n)))

    # ---- waiting -----------------------------------------------------------------

    def now(self) -> float:
        """The relay's clock as best known here, in epoch seconds."""
        return time.time() + self.clock_offset

    async def until(self, predicate: Callable[[Connection], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate(self)`` holds, re-checking after every update.

        Raises:
            TimeoutError: when it does not hold within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()
