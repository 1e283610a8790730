"""The load generator's building blocks: members, senders and groups for either relay.

A *group* is one accord session (or one raw-baseline room): a sender on a
real ``websockets`` client, and receivers on :class:`bench.wire.RawClient`.
Both relays are driven through a :class:`Flavour`, which knows how to join,
resume, send a command and recognise its acknowledgement.

The accord command used for load is ``SetReady`` toggled by the facilitator:
small, valid in every phase, and not capped like cards are. The raw
baseline relays a frame of the same shape as the accord event it stands for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .procs import HOST, Relay
from .wire import RawClient

_IDS = itertools.count(1)


class Tracker:
    """Receipt times per seq across one group's receivers (or a plain frame count)."""

    def __init__(self, count_only: bool = False) -> None:
        self.count_only = count_only
        self.frames = 0
        self.count: dict[int, int] = {}
        self.last: dict[int, float] = {}

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self.frames = 0
        self.count.clear()
        self.last.clear()

    def on_event(self, seq: int, now: float) -> None:
        """Record one receiver's receipt of ``seq`` at ``now``."""
        self.count[seq] = self.count.get(seq, 0) + 1
        self.last[seq] = now


class Member:
    """One receiving member on a raw socket; it follows its seq so it can resume."""

    def __init__(self, flavour: Flavour, group: Group, index: int) -> None:
        self.flavour = flavour
        self.group = group
        self.index = index
        self.client: RawClient | None = None
        self.token = ""
        self.member_id = ""
        self.epoch = ""
        self.seq = 0
        self.mode = ""
        self.errors: list[dict[str, Any]] = []
        self._welcome: asyncio.Future[dict[str, Any]] | None = None
        self._target = -1
        self._synced: asyncio.Future[None] | None = None

    def handle(self, client: RawClient, payload: bytes, now: float) -> None:
        """Frame handler: follow seqs, record receipts, settle waiting futures."""
        tracker = self.group.tracker
        tracker.frames += 1
        if tracker.count_only and self._welcome is None and self._synced is None:
            return
        msg = msgpack.unpackb(payload)
        kind = msg.get("t")
        if kind == "event":
            seq = msg["seq"]
            if seq > self.seq:
                self.seq = seq
            if not tracker.count_only:
                tracker.on_event(seq, now)
        elif kind == "welcome":
            self.mode = msg.get("mode", "")
            if self.mode == "snapshot":
                self.seq = msg["seq"]
            self.epoch = msg.get("epoch", self.epoch)
            if msg.get("token"):
                self.token = msg["token"]
            self.member_id = msg.get("member_id", self.member_id)
            if self._welcome is not None and not self._welcome.done():
                self._welcome.set_result(msg)
        elif kind == "error":
            self.errors.append(msg)
            if self._welcome is not None and not self._welcome.done():
                self._welcome.set_exception(RuntimeError(f"refused: {msg}"))
        if self._synced is not None and self.seq >= self._target and not self._synced.done():
            self._synced.set_result(None)

    async def connect(self, resume: bool, timeout: float = 30.0) -> dict[str, Any]:
        """Connect, say hello (join, or resume from ``seq``) and wait for the welcome.

        Raises:
            RuntimeError: if the relay refuses the hello.
        """
        loop = asyncio.get_running_loop()
        self._welcome = loop.create_future()
        try:
            self.client = await RawClient.connect(
                HOST, self.flavour.port_for(self.index), on_frame=self.handle, timeout=timeout
            )
            self.client.send(self.flavour.hello(self, resume))
            async with asyncio.timeout(timeout):
                return await self._welcome
        finally:
            self._welcome = None

    async def resync(self, target: int, timeout: float = 30.0) -> None:
        """Reconnect with a resume hello and wait until seq ``target`` has arrived."""
        self._target = target
        self._synced = asyncio.get_running_loop().create_future()
        try:
            await self.connect(resume=True, timeout=timeout)
            if self.seq < target:
                async with asyncio.timeout(timeout):
                    await self._synced
        finally:
            self._synced = None
            self._target = -1

    def drop(self) -> None:
        """Cut the connection with no close frame (a network failure)."""
        if self.client is not None:
            self.client.abort()

    async def close(self) -> None:
        """Close the connection cleanly."""
        if self.client is not None:
            await self.client.close()


class Sender:
    """The group's command sender: a real websockets client that tracks acks."""

    def __init__(self, flavour: Flavour, ws: ClientConnection) -> None:
        self.flavour = flavour
        self.ws = ws
        self.pending: dict[str, tuple[float, asyncio.Future[int]]] = {}
        #: seq -> when the command that made it was sent
        self.sent_at: dict[int, float] = {}
        self.errors: list[dict[str, Any]] = []
        self.flag = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reading frames from the relay."""
        self.task = asyncio.create_task(self._receive())

    async def _receive(self) -> None:
        try:
            async for data in self.ws:
                assert isinstance(data, bytes)  # both relays send binary frames
                msg = msgpack.unpackb(data)
                kind = msg.get("t")
                if kind == "error":
                    self.errors.append(msg)
                    entry = self.pending.pop(msg.get("op", ""), None)
                    if entry is not None and not entry[1].done():
                        entry[1].set_exception(RuntimeError(f"refused: {msg}"))
                    continue
                acked = self.flavour.ack_of(msg)
                if acked is None:
                    continue
                op, seq = acked
                entry = self.pending.pop(op, None)
                if entry is not None:
                    self.sent_at[seq] = entry[0]
                    if not entry[1].done():
                        entry[1].set_result(seq)
        except ConnectionClosed:
            pass
        finally:
            for _, fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionResetError("sender closed"))

    async def send(self) -> asyncio.Future[int]:
        """Send one command now; the future gives the seq it was acknowledged at."""
        op = f"o{next(_IDS)}"
        self.flag = not self.flag
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        frame = self.flavour.command(op, self.flag)
        self.pending[op] = (time.perf_counter(), fut)
        await self.ws.send(frame)
        return fut

    async def close(self) -> None:
        """Close the connection and stop reading."""
        await self.ws.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@dataclass
class Group:
    """One session (or room): a sender and its receiving members."""

    name: str
    sender: Sender
    tracker: Tracker
    members: list[Member] = field(default_factory=list)
    secrets: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        """Close every connection of the group."""
        await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)
        await self.sender.close()


class Flavour:
    """How to drive one relay kind; subclasses fill in the frames."""

    name = "?"

    def __init__(self, relay: Relay, peers: list[Relay] | None = None) -> None:
        self.relay = relay
        #: every relay this flavour spreads members over (the first holds the sender)
        self.relays = [relay, *(peers or [])]
        #: other processes whose CPU is part of this flavour's cost (redis-server)
        self.helpers: list[int] = []

    def port_for(self, index: int) -> int:
        """The relay port member ``index`` connects to: members alternate between relays."""
        return self.relays[(index + 1) % len(self.relays)].port

    @property
    def pids(self) -> list[int]:
        """The relay processes' ids."""
        return [r.pid for r in self.relays]

    async def open_group(
        self, size: int, tracker: Tracker | None = None, join_concurrency: int = 25
    ) -> Group:
        """A group of ``size`` connections: one sender and ``size - 1`` receivers."""
        ws = await connect(
            self.relay.url, compression=None, max_size=2**24, open_timeout=30, ping_interval=None
        )
        sender = Sender(self, ws)
        name, secrets = await self.open(ws)
        sender.start()
        group = Group(name, sender, tracker or Tracker(), secrets=secrets)
        group.members = [Member(self, group, i) for i in range(size - 1)]
        gate = asyncio.Semaphore(join_concurrency)

        async def join(m: Member) -> None:
            async with gate:
                await m.connect(resume=False)

        await asyncio.gather(*(join(m) for m in group.members))
        return group

    async def open(self, ws: ClientConnection) -> tuple[str, dict[str, Any]]:
        """Say the sender's hello; return the group name and any secrets."""
        raise NotImplementedError

    def hello(self, member: Member, resume: bool) -> bytes:
        """A member's hello frame (a join, or a resume from ``member.seq``)."""
        raise NotImplementedError

    def command(self, op: str, flag: bool) -> bytes:
        """The frame for one load command."""
        raise NotImplementedError

    def ack_of(self, msg: dict[str, Any]) -> tuple[str, int] | None:
        """``(op, seq)`` if ``msg`` acknowledges the sender's command."""
        raise NotImplementedError


class RawFlavour(Flavour):
    """The bare baseline relay: rooms by name, echo to the sender as the ack."""

    name = "raw"

    async def open(self, ws: ClientConnection) -> tuple[str, dict[str, Any]]:
        room = f"r{next(_IDS)}"
        await ws.send(msgpack.packb({"t": "hello", "room": room, "last": -1}))
        await ws.recv()
        return room, {}

    def hello(self, member: Member, resume: bool) -> bytes:
        last = member.seq if resume else -1
        return msgpack.packb({"t": "hello", "room": member.group.name, "last": last})

    def command(self, op: str, flag: bool) -> bytes:
        body = {"k": "ready_set", "member_id": "m1", "ready": flag}
        return msgpack.packb({"t": "event", "v": 1, "by": "m1", "body": body, "op": op})

    def ack_of(self, msg: dict[str, Any]) -> tuple[str, int] | None:
        if msg.get("t") == "event" and msg.get("op"):
            return msg["op"], msg["seq"]
        return None


class AccordFlavour(Flavour):
    """A real accord relay: Create, Hello with the participant code, SetReady commands."""

    name = "accord"

    def __init__(self, relay: Relay, peers: list[Relay] | None = None, name: str = "") -> None:
        super().__init__(relay, peers)
        self.name = name or "accord"
        from accord.protocol import codec, commands, messages

        self._codec = codec
        self._commands = commands
        self._messages = messages

    async def open(self, ws: ClientConnection) -> tuple[str, dict[str, Any]]:
        m = self._messages
        await ws.send(self._codec.encode(m.Create(question="Zanzibar: which way?", name="Fac")))
        async with asyncio.timeout(30):
            while True:
                msg = msgpack.unpackb(await ws.recv(decode=False))
                if msg.get("t") == "welcome":
                    break
                if msg.get("t") == "error":
                    raise RuntimeError(f"create refused: {msg}")
        secrets = dict(msg.get("secrets") or {})
        secrets["facilitator_token"] = msg.get("token", "")
        secrets["facilitator_id"] = msg.get("member_id", "")
        return str(msg["session_id"]), secrets

    def hello(self, member: Member, resume: bool) -> bytes:
        m = self._messages
        if resume:
            hello = m.Hello(token=member.token, last_seq=member.seq, epoch=member.epoch)
        else:
            code = member.group.secrets["participant_code"]
            hello = m.Hello(code=code, name=f"Member {member.index + 1}")
        frame: bytes = self._codec.encode(hello)
        return frame

    def command(self, op: str, flag: bool) -> bytes:
        m = self._messages
        frame: bytes = self._codec.encode(m.Cmd(op=op, c=self._commands.SetReady(ready=flag)))
        return frame

    def ack_of(self, msg: dict[str, Any]) -> tuple[str, int] | None:
        if msg.get("t") == "ack":
            return msg["op"], msg["seq"]
        return None


def flavour_for(relay: Relay) -> Flavour:
    """The flavour that drives ``relay``."""
    return RawFlavour(relay) if relay.kind == "raw" else AccordFlavour(relay)
