"""Fuzz helpers: a live relay on a background loop, a frame-level client, and leak levels.

``Live`` runs ``accord.server.relay.Relay`` (port 0, temp data dir, sessions
unloaded as soon as they are idle) on an event loop in a daemon thread.
``Peer`` is a client on a raw socket (``bench.wire.RawClient``) that can send
anything at all, keeps its own ``Session`` with the protocol reducer and
records every frame. ``Levels`` are the relay's open connections, asyncio
tasks and loaded sessions, which must come back after every scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from accord.protocol import codec, reducer, views
from accord.protocol.errors import ProtocolError
from accord.protocol.events import Event
from accord.protocol.messages import Ack, Cmd, Create, Error, Hello, Ping, Pong, Welcome
from accord.protocol.model import Session
from accord.server.config import ServerConfig
from accord.server.relay import Relay

from bench.wire import RawClient

T = TypeVar("T")
HOST = "127.0.0.1"
TIMEOUT = 5.0
_ops = itertools.count(1)


def new_op() -> str:
    """A fresh op id."""
    return f"f{next(_ops)}"


@dataclass(frozen=True)
class Levels:
    """What must return to its starting level after a scenario."""

    connections: int
    tasks: int
    sessions: int
    listeners: int


class Live:
    """A relay served from a background thread's event loop."""

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
        self.data_dir = data_dir
        # Unload idle sessions at once (so the registry drains) and let a test's bystander
        # ping after every example without hitting the default 20 frames/s.
        defaults = {
            "idle_unload": 0.0,
            "hello_timeout": 1.0,
            "rate_limit": 200.0,
            "rate_burst": 400,
            # Every example creates a session from 127.0.0.1; lift the per-address budgets.
            "create_burst": 1_000_000,
            "snapshot_burst": 1_000_000,
            "failed_join_burst": 1_000_000,
        }
        self.overrides = {**defaults, **overrides}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._relay: Relay | None = None

    @property
    def relay(self) -> Relay:
        """The running relay."""
        assert self._relay is not None, "the relay is not running"
        return self._relay

    def start(self) -> None:
        """Start the loop thread and the relay."""
        self.thread.start()
        self.run(self._open())

    def stop(self) -> None:
        """Close the relay, stop the loop and join the thread."""
        with contextlib.suppress(Exception):
            self.run(self.relay.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def restart(self) -> None:
        """Close the relay (clients get 1001) and start a new one on the same data dir."""
        self.run(self.relay.close())
        self.run(self._open())

    async def _open(self) -> None:
        config = ServerConfig(host=HOST, port=0, data_dir=self.data_dir, **self.overrides)
        relay = Relay(config)
        await relay.start()
        self._relay = relay

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the relay's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def port(self) -> int:
        """The relay's port."""
        return self.relay.port

    async def _levels(self) -> Levels:
        relay = self.relay
        hosts = relay.hub.hosts
        return Levels(
            connections=relay.admission.total,
            tasks=len(asyncio.all_tasks()) - 1,  # not this coroutine's own task
            sessions=len(hosts),
            listeners=sum(h.connection_count for h in hosts.values()),
        )

    def levels(self) -> Levels:
        """The relay's current levels."""
        return self.run(self._levels())

    def settle(self, start: Levels, timeout: float = 5.0) -> Levels:
        """Wait until the levels are back at ``start``; return the last reading."""
        deadline = time.monotonic() + timeout
        now = self.levels()
        while now != start and time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.levels()
        return now

    def quiet(self, timeout: float = 3.0) -> Levels:
        """Wait until the levels stop changing (earlier sessions unloaded); return them."""
        deadline = time.monotonic() + timeout
        last = self.levels()
        steady = 0
        while steady < 3 and time.monotonic() < deadline:
            time.sleep(0.06)
            now = self.levels()
            steady = steady + 1 if now == last else 0
            last = now
        return last

    @contextlib.contextmanager
    def scenario(self) -> Iterator[list[Peer]]:
        """Yield a list to put peers in; close them all after, then assert no leak."""
        start = self.levels()
        peers: list[Peer] = []
        try:
            yield peers
        finally:
            self.run(_close_all(peers))
        end = self.settle(start)
        assert end == start, f"leak: levels went from {start} to {end}"

    def session(self, session_id: str) -> Session:
        """A deep copy of the relay's in-memory session (loaded on demand)."""

        async def read() -> Session:
            host = await self.relay.hub.get(session_id)
            assert host is not None, f"no session {session_id}"
            return copy.deepcopy(host.session)

        return self.run(read())


async def _close_all(peers: list[Peer]) -> None:
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)


@dataclass(eq=False)
class Peer:
    """One connection that sends whatever it is told and keeps its own copy of the session."""

    live: Live
    client: RawClient | None = None
    raw: list[bytes] = field(default_factory=list)
    session: Session | None = None
    welcome: Welcome | None = None
    member_id: str = ""
    token: str = ""
    epoch: str = ""
    acks: dict[str, Ack] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)
    pongs: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # ---- connecting -------------------------------------------------------------

    async def connect(self) -> Peer:
        """Open a websocket to the relay (nothing said yet)."""
        self._changed = asyncio.Event()
        self.welcome = None
        self.client = await RawClient.connect(HOST, self.live.port, on_frame=self._on_frame)
        self.client.closed.add_done_callback(lambda _: self._changed.set())
        return self

    @property
    def open(self) -> bool:
        """True while the TCP connection is up."""
        return self.client is not None and self.client.is_open

    @property
    def close_code(self) -> int | None:
        """The close code the relay sent, if it closed."""
        return self.client.close_code if self.client is not None else None

    async def close(self) -> None:
        """Close cleanly (bounded)."""
        if self.client is not None:
            await self.client.close()

    def drop(self) -> None:
        """Cut the TCP connection with no close frame."""
        if self.client is not None:
            self.client.abort()

    # ---- frames in --------------------------------------------------------------------

    def _on_frame(self, client: RawClient, payload: bytes, now: float) -> None:
        self.raw.append(payload)
        self._changed.set()
        try:
            msg = codec.decode_server(payload)
        except ProtocolError as exc:
            self.problems.append(f"undecodable frame from the relay: {exc}")
            return
        if isinstance(msg, Welcome):
            self.welcome = msg
            if msg.snapshot is not None:
                self.session = msg.snapshot
            self.member_id, self.epoch = msg.member_id, msg.epoch
            self.token = msg.token or self.token
        elif isinstance(msg, Event):
            self._on_event(msg)
        elif isinstance(msg, Ack):
            self.acks[msg.op] = msg
        elif isinstance(msg, Error):
            self.errors.append(msg)
        elif isinstance(msg, Pong):
            self.pongs.add(msg.n)

    def _on_event(self, event: Event) -> None:
        if self.session is None:
            self.problems.append(f"event {event.seq} before any snapshot")
        elif event.seq == self.session.seq + 1:
            reducer.apply_event(self.session, event)
        else:
            self.problems.append(f"event {event.seq} after {self.session.seq}: gap or repeat")

    # ---- frames out ---------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Send ``data`` as one binary websocket message."""
        assert self.client is not None
        self.client.send(data)

    def send(self, message: Any) -> None:
        """Encode and send a protocol message."""
        self.send_raw(codec.encode(message))

    async def wait(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
        """Wait until ``predicate()`` holds or the connection closes; returns whether it held."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    if not self.open:
                        return predicate()
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return predicate()
        return True

    async def hello(self, message: Create | Hello, timeout: float = TIMEOUT) -> Welcome | Error:
        """Connect if needed, say hello and return the welcome or the error.

        Raises:
            AssertionError: if neither comes before the timeout.
        """
        if not self.open:
            await self.connect()
        errors = len(self.errors)
        self.send(message)
        ok = await self.wait(lambda: self.welcome is not None or len(self.errors) > errors, timeout)
        assert ok, f"no answer to {type(message).__name__}"
        if self.welcome is None:
            return self.errors[-1]
        await self.synced(timeout)
        return self.welcome

    async def synced(self, timeout: float = TIMEOUT) -> bool:
        """Wait until the replay that follows a welcome has arrived."""
        target = self.welcome.seq if self.welcome is not None else 0
        return await self.wait(
            lambda: self.session is not None and self.session.seq >= target, timeout
        )

    async def command(self, command: Any, op: str = "", timeout: float = TIMEOUT) -> Ack | Error:
        """Send a command and return its ack or error.

        Raises:
            AssertionError: if neither comes before the timeout.
        """
        op = op or new_op()
        self.acks.pop(op, None)
        self.send(Cmd(op=op, c=command))

        def answered() -> Ack | Error | None:
            if op in self.acks:
                return self.acks[op]
            return next((e for e in reversed(self.errors) if e.op == op), None)

        await self.wait(lambda: answered() is not None, timeout)
        answer = answered()
        assert answer is not None, f"no answer to {type(command).__name__} op {op}"
        return answer

    async def ping(self, n: int, timeout: float = TIMEOUT) -> bool:
        """Ping and wait for the pong; False if the connection is gone or silent."""
        if not self.open:
            return False
        self.send(Ping(n=n))
        return await self.wait(lambda: n in self.pongs, timeout)

    def view_matches(self, server: Session) -> bool:
        """True when this peer's session equals the relay's session as this member sees it."""
        return self.session == views.project_session(server, self.member_id)
