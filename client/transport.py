"""The client's asyncio transport: one websocket to a relay, reconnected and resumed.

``Connection`` moves frames between a websocket and a ``ClientState`` (the pure
state machine in ``accord.client.state``), which decides everything else. It
reconnects with websockets' ``connect()`` iterator (exponential backoff),
resumes from the last seq, and resends unanswered commands with their original
op ids; the relay answers a retry with the seq of the first application, so a
command lands exactly once.

Plain asyncio use::

    conn = Connection(url, Hello(code=code, name="Ada", department="Ops"))
    await conn.start()                       # raises ConnectionFailed
    ack = await conn.send(AddCard("value", "Faster onboarding"))
    conn.add_listener(print)                 # Welcomed, Applied, LinkChanged, ...
    await conn.close()

Over 400 lines: the reconnect loop, one socket's send/receive pair and the
command futures are one task's lifecycle with one place that stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Generator

from accord.protocol import limits as L
from accord.protocol.codec import decode_server, encode
from accord.protocol.commands import Command
from accord.protocol.errors import CloseCode, ProtocolError
from accord.protocol.messages import Ack, Cmd, Create, Error, Hello, Secrets, Welcome
from accord.protocol.model import Role, Session
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
)

from .state import (
    FATAL_CLOSE_CODES,
    FATAL_HELLO_CODES,
    ClientState,
    CommandChanged,
    CommandFailed,
    ConnectionFailed,
    LinkChanged,
    LinkKind,
    LinkState,
    Noticed,
    Outgoing,
    Resync,
    Update,
    passing,
)

Listener = Callable[[Update], None]
#: What the relay's frames are shown to before decoding (wire tracing).
FrameTrace = Callable[[bytes], None]
#: Why the link is offline after the connection task itself failed (a bug, not the network).
TASK_FAILED = "connection task failed"


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


# ---- the connection ---------------------------------------------------------


class Connection:
    """One member's live link to a relay: a ``ClientState`` moved over a reconnecting socket."""

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
        trace: FrameTrace | None = None,
    ) -> None:
        self.url = url
        self.state = ClientState(intro, op_prefix=op_prefix)
        self.link = LinkState("offline", reason="not started")
        #: Why the connection stopped for good (None while it may still run).
        self.failure: ConnectionFailed | None = None
        self._first_attempts = max(1, first_attempts)
        self._delays = delays
        self._open_timeout = open_timeout
        self._ping_interval = ping_interval
        self._trace = trace
        self._listeners: list[Listener] = []
        self._futures: dict[str, asyncio.Future[Ack]] = {}
        self._sendq: asyncio.Queue[Outgoing] | None = None
        self._ws: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._welcomed = asyncio.Event()
        self._closing = False
        self._attempt = 1

    # ---- what the state machine knows ------------------------------------------

    @property
    def session(self) -> Session | None:
        """The session as this member may see it (None until the first welcome)."""
        return self.state.session

    @property
    def member_id(self) -> str:
        """This member's id (empty until welcomed)."""
        return self.state.member_id

    @property
    def role(self) -> Role:
        """This member's role."""
        return self.state.role

    @property
    def token(self) -> str:
        """This member's resume token (empty until welcomed, for a fresh intro)."""
        return self.state.token

    @property
    def epoch(self) -> str:
        """The relay's epoch for the session, as of the last welcome."""
        return self.state.epoch

    @property
    def secrets(self) -> Secrets | None:
        """The session's codes, for the member who created it."""
        return self.state.secrets

    @property
    def online(self) -> set[str]:
        """Ids of members the relay says are online."""
        return self.state.online

    @property
    def outbox(self) -> dict[str, Outgoing]:
        """Commands sent or queued and not yet answered, by op id."""
        return self.state.outbox

    def now(self) -> float:
        """The relay's clock as best known here, in epoch seconds."""
        return time.time() + self.state.clock_offset

    # ---- subscribing -------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every update, in the connection's task.

        An exception a listener raises ends the connection task with that
        exception (see ``finished``): a bug is never swallowed.
        Returns a function that unsubscribes.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, updates: list[Update]) -> None:
        for update in updates:
            if isinstance(update, CommandChanged):
                self._settle_future(update.outgoing)
            for listener in list(self._listeners):
                listener(update)

    def _settle_future(self, out: Outgoing) -> None:
        if out.state == "pending":
            return
        future = self._futures.pop(out.op, None)
        if future is None or future.done():
            return
        if out.state == "acked":
            future.set_result(out.ack())
        else:
            future.set_exception(CommandFailed(out.code, out.reason, out.op))

    def _set_link(self, state: LinkState) -> None:
        if state != self.link:
            self.link = state
            self._emit([LinkChanged(state)])

    # ---- lifecycle -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the connect/receive task is running."""
        return self._runner is not None and not self._runner.done()

    def start_in_background(self) -> asyncio.Task[None]:
        """Start the connect/receive task (once) and return it."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self.run(), name=f"accord-connection-{self.state.op_prefix}"
            )
            self._runner.add_done_callback(lambda t: t.cancelled() or t.exception())
        return self._runner

    async def start(self, timeout: float | None = None) -> None:
        """Start the task and wait until the relay welcomes this client.

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

    async def finished(self) -> None:
        """Run the task if it is not running, and wait until it stops.

        Raises:
            ConnectionFailed: it stopped for good (credentials, network, relay).
            Exception: whatever else ended the task (a bug: the caller must show it).
        """
        await self.start_in_background()

    async def restart(self) -> None:
        """Start again after the task failed, from a fresh snapshot (the old state is in doubt).

        Pending commands were failed when the task ended; the member keeps their token.
        """
        if self.running:
            return
        self._runner = None
        self.failure = None
        self._closing = False
        self.state.forget_session()
        self.start_in_background()

    async def close(self) -> None:
        """Stop for good: close the socket and fail unanswered commands."""
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
        """Drop the current socket; the task reconnects at once and resumes from the last seq."""
        if self._ws is not None:
            await self._ws.close(code=1000, reason="client resync")

    async def run(self) -> None:
        """Connect, welcome, receive and reconnect until ``close()`` or a fatal error.

        Raises:
            ConnectionFailed: bad credentials, unreachable relay, wrong URL.
            Exception: anything else (a bug); the link then reads "connection task failed".
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
        except Exception:  # a bug must surface, not leave a silent dead link
            self.failure = ConnectionFailed(TASK_FAILED)
            self._stop(LinkState("offline", reason=TASK_FAILED))
            raise
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
                        if code == CloseCode.MEMBER_REMOVED:  # the protocol fixes its meaning
                            reason = FATAL_CLOSE_CODES[code]
                        raise ConnectionFailed(reason, close_code=code) from None
                    why = "the relay shut down" if code == CloseCode.GOING_AWAY else "link lost"
                    self._lost(why)
                    continue
                except Resync:
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
        kind: LinkKind = "reconnecting" if self.state.welcomed else "connecting"
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
        if not self.state.welcomed and self._attempt >= self._first_attempts:
            return ConnectionFailed(f"cannot reach the relay at {self.url}: {reason}")
        self._attempt += 1
        kind: LinkKind = "reconnecting" if self.state.welcomed else "connecting"
        self._set_link(LinkState(kind, self._attempt, reason))
        return None

    def _stop(self, state: LinkState) -> None:
        self._set_link(state)
        self._emit(self.state.fail_pending(state.reason or "the connection stopped"))

    # ---- one socket ------------------------------------------------------------------

    async def _serve(self, ws: ClientConnection) -> None:
        """Say hello, take the welcome, resend the outbox, then receive until the socket ends."""
        await ws.send(encode(self.state.hello()))
        welcome = await self._await_welcome(ws)
        sendq: asyncio.Queue[Outgoing] = asyncio.Queue()
        updates = self.state.take_welcome(welcome, time.time())
        self._welcomed.set()
        self._attempt = 1
        self._set_link(LinkState("connected"))
        self._emit(updates)
        for out in self.state.outbox.values():
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
            task.result()  # re-raise ConnectionClosed, Resync, ConnectionFailed or a bug

    async def _await_welcome(self, ws: ClientConnection) -> Welcome:
        async with asyncio.timeout(self._open_timeout):
            async for frame in ws:
                msg = self._decode(frame)
                if isinstance(msg, Welcome):
                    return msg
                if isinstance(msg, Error):
                    if msg.code in FATAL_HELLO_CODES or (msg.fatal and not passing(msg)):
                        raise ConnectionFailed(msg.message or msg.code, code=msg.code)
                    await asyncio.sleep(1.0)  # rate limited or busy: pause, then try again
                    raise ConnectionClosed(None, None)
        raise ws.protocol.close_exc

    async def _send_loop(self, ws: ClientConnection, sendq: asyncio.Queue[Outgoing]) -> None:
        while True:
            out = await sendq.get()
            if out.state != "pending":
                continue
            await ws.send(encode(Cmd(op=out.op, c=out.command)))
            self._emit(self.state.sent(out))

    async def _receive(self, ws: ClientConnection) -> None:
        async for frame in ws:
            self._emit(self.state.receive(self._decode(frame), time.time()))
        # ``async for`` ends quietly on close codes 1000/1001; surface them too.
        raise ws.protocol.close_exc

    def _decode(self, frame: str | bytes) -> object:
        data = frame if isinstance(frame, bytes) else frame.encode()
        if self._trace is not None:
            self._trace(data)
        try:
            return decode_server(data)
        except ProtocolError as exc:
            self._emit([Noticed(str(exc.code), f"ignored a frame from the relay: {exc.message}")])
            return None

    # ---- commands ----------------------------------------------------------------------

    def submit(self, command: Command) -> Outgoing:
        """Queue ``command`` (sent now if connected, else after the next welcome)."""
        if self.link.kind == "offline" and (self._closing or self.failure is not None):
            out, updates = self.state.refuse(command, self.link.reason)
            self._emit(updates)
            return out
        out, updates = self.state.submit(command)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        # A caller that never awaits must not get "exception never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._futures[out.op] = future
        if self._sendq is not None:
            self._sendq.put_nowait(out)
        self._emit(updates)
        return out

    def outcome(self, out: Outgoing) -> Awaitable[Ack]:
        """Wait for what becomes of a submitted command.

        Raises (when awaited):
            CommandFailed: the relay refused it, or it could not be delivered.
        """
        future = self._futures.get(out.op)
        if future is not None:
            return future
        done: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        if out.state == "acked":
            done.set_result(out.ack())
        else:
            done.set_exception(CommandFailed(out.code or "offline", out.reason, out.op))
        return done

    async def send(self, command: Command) -> Ack:
        """Send ``command`` and wait until it is applied to ``self.session``.

        Raises:
            CommandFailed: the relay refused it (``code``/``reason`` say why) or
                the connection stopped for good before it was delivered.
        """
        return await self.outcome(self.submit(command))
