"""Helpers for the relay tests: a raw websocket client that speaks the codec and keeps a board.

``WireClient`` records every raw frame it receives (for the privacy tests),
decodes it with the protocol codec, keeps the session it was welcomed with up
to date with ``reducer.apply_event``, and checks that events arrive in seq
order with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from accord.protocol import codec, limits, reducer, views
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
    ServerMessage,
    Welcome,
)
from accord.protocol.model import Session
from accord.protocol.schema import encode_value
from accord.server.relay import Relay
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0
RelayFactory = Callable[..., Awaitable[Relay]]
_ops = itertools.count(1)


def new_op() -> str:
    """A fresh op id."""
    return f"op{next(_ops)}-{os.getpid()}"


class GapError(AssertionError):
    """An event arrived out of order, twice, or after a gap."""


class WireClient:
    """A raw client: real websocket, codec-decoded frames, and its own copy of the session."""

    def __init__(self, ws: ClientConnection, url: str) -> None:
        self.ws = ws
        self.url = url
        self.raw: list[bytes] = []
        self.messages: list[ServerMessage] = []
        self.events: list[Event] = []
        self.session: Session | None = None
        self.welcome: Welcome | None = None
        self.member_id = ""
        self.token = ""
        self.epoch = ""
        self.online: set[str] = set()

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> WireClient:
        """Connect without saying anything yet."""
        kwargs.setdefault("max_size", limits.MAX_SERVER_FRAME)
        kwargs.setdefault("compression", None)
        ws = await connect(url, open_timeout=TIMEOUT, **kwargs)
        return cls(ws, url)

    @classmethod
    async def create(
        cls,
        url: str,
        question: str = "Partner, change or outsource?",
        name: str = "Fran",
        department: str = "Ops",
        **kw: Any,
    ) -> WireClient:
        """Create a session as its facilitator."""
        client = await cls.open(url)
        await client.send(Create(question=question, name=name, department=department, **kw))
        await client.expect_welcome()
        return client

    @classmethod
    async def join(cls, url: str, code: str, name: str, department: str = "") -> WireClient:
        """Join a session with a code."""
        client = await cls.open(url)
        await client.send(Hello(code=code, name=name, department=department))
        await client.expect_welcome()
        return client

    async def resume(self, url: str | None = None) -> WireClient:
        """Reconnect as the same member, resuming from this client's seq and epoch."""
        client = await WireClient.open(url or self.url)
        client.session = self.session
        client.token, client.member_id = self.token, self.member_id
        client.events = list(self.events)
        await client.send(Hello(token=self.token, last_seq=self.seq, epoch=self.epoch))
        await client.expect_welcome()
        return client

    # ---- state ---------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The seq this client's board is at."""
        return self.session.seq if self.session is not None else 0

    @property
    def secrets(self) -> Any:
        """The facilitator's secrets from the create welcome."""
        assert self.welcome is not None and self.welcome.secrets is not None
        return self.welcome.secrets

    # ---- frames --------------------------------------------------------------------

    async def send(self, message: Any) -> None:
        """Encode and send one message."""
        await self.ws.send(codec.encode(message))

    async def send_raw(self, data: bytes | str) -> None:
        """Send bytes (or text) as they are."""
        await self.ws.send(data)

    async def recv(self, timeout: float = TIMEOUT) -> ServerMessage:
        """Receive, record, decode and apply the next frame."""
        async with asyncio.timeout(timeout):
            data = await self.ws.recv()
        assert isinstance(data, bytes), f"the relay sent a text frame: {data!r}"
        self.raw.append(data)
        message = codec.decode_server(data)
        self.messages.append(message)
        self._apply(message)
        return message

    def _apply(self, message: ServerMessage) -> None:
        if isinstance(message, Welcome):
            self.welcome = message
            self.member_id = message.member_id
            self.epoch = message.epoch
            if message.token:
                self.token = message.token
            if message.mode == "snapshot":
                assert message.snapshot is not None
                self.session = message.snapshot
            self.online = set(message.online)
        elif isinstance(message, Event):
            assert self.session is not None, "an event before the welcome"
            if message.seq != self.session.seq + 1:
                raise GapError(f"expected seq {self.session.seq + 1}, got {message.seq}")
            reducer.apply_event(self.session, message)
            self.events.append(message)
        elif isinstance(message, Presence):
            if message.online:
                self.online.add(message.member_id)
            else:
                self.online.discard(message.member_id)

    async def expect_welcome(self) -> Welcome:
        """The next frame must be a welcome."""
        message = await self.recv()
        if isinstance(message, Error):
            raise AssertionError(f"refused: {message.code}: {message.message}")
        assert isinstance(message, Welcome), message
        return message

    async def until(
        self, predicate: Callable[[ServerMessage], bool], timeout: float = TIMEOUT
    ) -> ServerMessage:
        """Receive until a message matches."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    async def cmd(self, command: Any, op: str | None = None) -> Ack | Error:
        """Send a command and receive until its ack or error (applying events on the way)."""
        op = op or new_op()
        await self.send(Cmd(op=op, c=command))
        reply = await self.until(lambda m: isinstance(m, Ack | Error) and m.op == op)
        assert isinstance(reply, Ack | Error)
        return reply

    async def ok(self, command: Any) -> Ack:
        """Send a command that must be accepted, and wait until its events arrived."""
        reply = await self.cmd(command)
        if isinstance(reply, Error):
            raise AssertionError(f"refused {type(command).__name__}: {reply.code}: {reply.message}")
        await self.catch_up(reply.seq)
        return reply

    async def catch_up(self, seq: int, timeout: float = TIMEOUT) -> None:
        """Receive until the board reaches ``seq``."""
        deadline = time.monotonic() + timeout
        while self.seq < seq:
            await self.recv(max(0.01, deadline - time.monotonic()))

    async def ping(self, n: int = 7) -> Pong:
        """Ping and wait for the pong."""
        await self.send(Ping(n=n))
        reply = await self.until(lambda m: isinstance(m, Pong))
        assert isinstance(reply, Pong)
        return reply

    async def quiet(self, seconds: float = 0.2) -> list[ServerMessage]:
        """Everything that arrives until nothing has for ``seconds``."""
        got: list[ServerMessage] = []
        while True:
            try:
                got.append(await self.recv(seconds))
            except TimeoutError:
                return got

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        """Receive (recording) until the relay closes; the close code."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.recv(timeout)
            except ConnectionClosed:
                pass
        return self.ws.close_code

    async def close(self) -> None:
        """Close normally."""
        await self.ws.close()

    def drop(self) -> None:
        """Vanish without a close frame (like a dead network)."""
        self.ws.transport.abort()


def board_of(session: Session, member_id: str) -> Any:
    """What ``member_id`` may see of ``session``, as plain data."""
    return encode_value(views.project_session(session, member_id))


def same_board(server: Session, client: WireClient) -> bool:
    """True if the client's board is exactly the relay's session as that member may see it."""
    assert client.session is not None
    return bool(encode_value(client.session) == board_of(server, client.member_id))


def http_get(url: str, timeout: float = TIMEOUT) -> tuple[int, str]:
    """GET a URL; the status and body (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


async def fetch(url: str, timeout: float = TIMEOUT) -> tuple[int, str]:
    """GET a URL from a thread, so a relay on this event loop can answer it."""
    return await asyncio.to_thread(http_get, url, timeout)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RelayProcess:
    """``accord serve`` in a subprocess, for restarts with SIGTERM and kill -9."""

    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.data_dir = data_dir
        self.port = port
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """The websocket URL."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /healthz answers."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "accord.tui.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"relay exited: {self.proc.stdout.read() if self.proc.stdout else ''}"
                )
            try:
                if http_get(f"http://127.0.0.1:{self.port}/healthz", 0.5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("relay did not come up")

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Send a signal and wait; the exit code and output."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=10)
        return self.proc.returncode, out
