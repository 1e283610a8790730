"""Chaos helpers: a loopback proxy that misbehaves, scripted members, and the final checks.

``ChaosProxy`` sits between the clients and the relay and, at random (from a
seeded ``random.Random``), cuts connections, stalls them and delays chunks.
``Member`` wraps the network client (``accord.client.Connection``) and,
through its public ``trace`` hook, records every raw frame it receives,
every command it sent and what became of it. The ``check_*`` functions
turn the issue's invariants into assertions that name what went wrong.

Over 400 lines: the proxy, the scripted members and the checks are one
scenario's parts, kept together so a failure message leads to all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from accord.client import CommandFailed, Connection
from accord.protocol import codec, results, views
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.ballots import answered
from accord.protocol.errors import ProtocolError
from accord.protocol.messages import Welcome
from accord.protocol.model import LANES, Ballot, Session, Vote
from accord.protocol.partner import is_partner, may_see_ballots

HOST = "127.0.0.1"


# ---- the proxy ----------------------------------------------------------------------


@dataclass(eq=False)
class _Link:
    """One proxied connection: the client side and the relay side."""

    client: asyncio.StreamWriter
    relay: asyncio.StreamWriter
    stalled_until: float = 0.0  # both directions
    swallow_until: float = 0.0  # relay -> client only

    def held_until(self, up: bool) -> float:
        """Until when traffic in this direction (up: client -> relay) is held back."""
        return self.stalled_until if up else max(self.stalled_until, self.swallow_until)

    def abort(self) -> None:
        for writer in (self.client, self.relay):
            writer.transport.abort()


@dataclass
class ProxyStats:
    """What the proxy did to the traffic."""

    links: int = 0
    refused: int = 0
    cuts: int = 0
    stalls: int = 0
    swallows: int = 0
    delays: int = 0


class ChaosProxy:
    """A loopback TCP proxy to ``target_port`` that cuts, stalls, swallows and delays at random."""

    def __init__(
        self,
        target_port: int,
        rng: random.Random,
        *,
        every: tuple[float, float] = (0.05, 0.4),
        stall: tuple[float, float] = (0.1, 1.5),
        delay_chance: float = 0.05,
        more_targets: tuple[int, ...] = (),
    ) -> None:
        self.target_port = target_port
        #: with more relays, each new link goes to one of them at random
        self.targets = (target_port, *more_targets)
        self.rng = rng
        self.every = every
        self.stall = stall
        self.delay_chance = delay_chance
        self.chaos = False
        self.stats = ProxyStats()
        self.port = 0
        self._links: dict[_Link, None] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._havoc: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<proxy port>``."""
        return f"ws://{HOST}:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port and start the havoc loop (idle until ``chaos``)."""
        self._server = await asyncio.start_server(self._accept, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._havoc = asyncio.create_task(self._wreak())

    async def close(self) -> None:
        """Stop listening, drop every link and stop every task."""
        if self._havoc is not None:
            self._havoc.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._havoc
        if self._server is not None:
            self._server.close()
        self.cut_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def cut_all(self) -> int:
        """Cut every open link now (every client must reconnect and resume)."""
        links = list(self._links)
        for link in links:
            link.abort()
        return len(links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs this callback as a task
        self._tasks.add(task)
        try:
            try:
                async with asyncio.timeout(2):
                    target = self.target_port
                    if len(self.targets) > 1:
                        target = self.rng.choice(self.targets)
                    up_reader, up_writer = await asyncio.open_connection(HOST, target)
            except (OSError, TimeoutError):
                self.stats.refused += 1
                writer.transport.abort()
                return
            link = _Link(writer, up_writer)
            self._links[link] = None
            self.stats.links += 1
            try:
                await asyncio.gather(
                    self._pump(link, reader, up_writer, up=True),
                    self._pump(link, up_reader, writer, up=False),
                )
            finally:
                self._links.pop(link, None)
                link.abort()
        finally:
            self._tasks.discard(task)

    async def _pump(
        self, link: _Link, src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    break
                if self.chaos and self.rng.random() < self.delay_chance:
                    self.stats.delays += 1
                    await asyncio.sleep(self.rng.uniform(0.001, 0.05))
                while (wait := link.held_until(up) - loop.time()) > 0:
                    await asyncio.sleep(min(0.05, wait))
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            link.abort()

    async def _wreak(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.rng.uniform(*self.every))
            if not self.chaos or not self._links:
                continue
            link = self.rng.choice(list(self._links))
            roll = self.rng.random()
            if roll < 0.35:
                self.stats.cuts += 1
                link.abort()
            elif roll < 0.7:
                self.stats.stalls += 1
                link.stalled_until = loop.time() + self.rng.uniform(*self.stall)
            else:
                # Let commands through but hold what the relay sends, then cut: the acks
                # are lost, so the member resends commands the relay already applied.
                self.stats.swallows += 1
                hold = self.rng.uniform(*self.stall)
                link.swallow_until = loop.time() + hold
                loop.call_later(hold * self.rng.uniform(0.2, 0.9), link.abort)


# ---- members ----------------------------------------------------------------------------


class RecordingConnection(Connection):
    """The network client, keeping every raw frame it received (for the privacy check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.raw: list[bytes] = []
        super().__init__(*args, trace=self.raw.append, **kwargs)


def quick_delays() -> Generator[float]:
    """Reconnect quickly: a scripted member has no one to annoy."""
    while True:
        yield random.uniform(0.05, 0.3)


@dataclass
class Sent:
    """One command a member sent and what became of it."""

    op: str
    command: C.Command
    outcome: str = "pending"  # acked, refused, timeout, failed
    seq: int = 0
    code: str = ""
    duplicate: bool = False  # acked as a retry of an op the relay had already applied


@dataclass(eq=False)
class Member:
    """A scripted member: a recording connection, an rng and the log of its commands."""

    name: str
    role: str
    conn: RecordingConnection
    rng: random.Random
    sent: list[Sent] = field(default_factory=list)

    @property
    def session(self) -> Session:
        """The member's copy of the session (set once welcomed)."""
        assert self.conn.session is not None, f"{self.name} was never welcomed"
        return self.conn.session

    async def act(self, command: C.Command, timeout: float = 8.0) -> Sent:
        """Send a command and wait for its fate; the connection retries it across cuts."""
        out = self.conn.submit(command)
        record = Sent(out.op, command)
        self.sent.append(record)
        try:
            async with asyncio.timeout(timeout):
                ack = await asyncio.shield(self.conn.outcome(out))
        except TimeoutError:
            record.outcome = "timeout"
        except CommandFailed as exc:
            record.outcome = "refused" if exc.code not in ("offline",) else "failed"
            record.code = exc.code
        else:
            record.outcome, record.seq, record.duplicate = "acked", ack.seq, ack.duplicate
        return record


# ---- what the members do ---------------------------------------------------------------


def ballot_for(member: Member, vote: Vote) -> dict[str, int] | None:
    """Random valid-looking marks for ``vote`` from what the member can see (None: nothing)."""
    s, rng = member.session, member.rng
    if vote.kind == "dots":
        cards = [c.id for c in s.live_cards() if vote.lane is None or c.lane == vote.lane]
        if not cards:
            return None
        return {rng.choice(cards): rng.choice([0, 1, 1])}
    if vote.kind == "classify":
        needs = [n.id for n in s.live_needs()]
        return {rng.choice(needs): rng.randint(0, 2)} if needs else None
    if vote.kind == "score":
        crit = results.criteria(s)
        if not crit:
            return None
        c = rng.choice(crit)
        option = rng.choice(list(s.options))
        return {f"{option}:{c.need_id}": rng.randint(0, 1 if c.gate else 5)}
    top = 5 if vote.method == "fist" else 2
    return {"proposal": rng.randint(0, top)}


async def participate(member: Member, stop: asyncio.Event) -> None:
    """A contributor's loop: add things in the current phase and vote in open votes."""
    rng = member.rng
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.05, 0.35))
        if member.conn.session is None or member.conn.link.kind != "connected":
            continue
        s = member.session
        vote = s.open_vote()
        roll = rng.random()
        if vote is not None and vote.phase == s.phase and roll < 0.6:
            marks = ballot_for(member, vote)
            if marks is not None:
                await member.act(C.Cast(vote_id=vote.id, marks=marks, reason="because"))
            continue
        mine = member.conn.member_id
        if s.phase == "learn" and sum(c.author == mine for c in s.cards.values()) < 4:
            lane = rng.choice(LANES)
            await member.act(C.AddCard(lane=lane, text=f"{member.name} card {rng.randint(1, 999)}"))
        elif s.phase == "needs" and sum(n.author == mine for n in s.needs.values()) < 3:
            await member.act(C.AddNeed(text=f"{member.name} needs {rng.randint(1, 999)}"))
        elif s.phase == "options" and sum(o.author == mine for o in s.options.values()) < 1:
            await member.act(C.AddOption(kind="internal", title=f"{member.name}'s way"))
        elif roll < 0.8:
            await member.act(C.SetReady(ready=rng.random() < 0.5))


async def advise(member: Member, stop: asyncio.Event) -> None:
    """A partner adds notes in Options; an observer tries (and is refused) now and then."""
    rng = member.rng
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.2, 0.6))
        if member.conn.session is None or member.conn.link.kind != "connected":
            continue
        s = member.session
        if member.role == "partner" and s.phase == "options":
            option = rng.choice(list(s.options))
            await member.act(C.AddNote(option_id=option, text="honest facts"))
        elif member.role == "observer" and rng.random() < 0.3:
            await member.act(C.AddCard(lane="value", text="an observer may not add this"))
        elif member.role == "partner":
            await member.act(C.SetReady(ready=rng.random() < 0.5))


async def facilitate(member: Member, stop: asyncio.Event, beat: float) -> None:
    """The facilitator walks the phases, opening and revealing hidden and anonymous votes.

    Every vote but the last stays hidden until it is revealed; the last one
    is left hidden and open, so the final state still holds secret ballots.
    """
    rng = member.rng

    async def pause(k: float = 1.0) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(beat * k * rng.uniform(0.7, 1.3)):
                await stop.wait()

    async def vote(kind: str, **kw: Any) -> None:
        hidden = kw.pop("hidden", True)
        anonymous = kw.pop("anonymous", rng.random() < 0.5)
        opened = await member.act(C.OpenVote(kind=kind, hidden=hidden, anonymous=anonymous, **kw))  # type: ignore[arg-type]
        await pause(1.5)
        if opened.outcome != "acked" or stop.is_set():
            return
        vote_id = next(
            (v.id for v in member.session.votes.values() if v.kind == kind and v.accepting), None
        )
        if vote_id is not None:
            await member.act(C.RevealVote(vote_id=vote_id))

    while not stop.is_set():
        await pause()
        await vote("dots", dots=3)
        await member.act(C.SetPhase(phase="needs"))
        await pause()
        await vote("classify", anonymous=True)
        for i, need in enumerate(member.session.live_needs()[:6]):
            await member.act(C.SettleNeed(need_id=need.id, cls="must" if i < 2 else "optional"))
        await member.act(C.SetPhase(phase="options"))
        await pause()
        await vote("score", anonymous=rng.random() < 0.5)
        await member.act(C.SetPhase(phase="decide"))
        options = [o for o in member.session.options if o != "baseline"] or ["baseline"]
        await member.act(C.Propose(option_id=rng.choice(options), statement="We go this way."))
        if stop.is_set():
            break
        await member.act(C.OpenVote(kind="consensus", method=rng.choice(["fist", "consent"])))
        await pause(1.5)
        if stop.is_set():
            break  # the last consensus vote stays open and hidden
        vote_id = next((v.id for v in member.session.votes.values() if v.accepting), None)
        if vote_id is not None:
            await member.act(C.RevealVote(vote_id=vote_id))
        await member.act(C.SetPhase(phase="learn"))


# ---- the checks ----------------------------------------------------------------------


def check_log(session_id: str, events: list[E.Event]) -> None:
    """Seqs run 1..n with no gap and no repeat."""
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), f"{session_id}: seq gap or repeat in {seqs[:50]}"


def check_commands(members: Iterable[Member], events: list[E.Event]) -> Counter[str]:
    """Acked commands applied exactly once (at their ack's seq); others at most once."""
    applied: dict[tuple[str, str], list[int]] = {}
    for e in events:
        if e.op:
            applied.setdefault((e.by, e.op), []).append(e.seq)
    outcomes: Counter[str] = Counter()
    for m in members:
        for sent in m.sent:
            outcomes[sent.outcome] += 1
            outcomes["acked as duplicate"] += sent.duplicate
            seqs = applied.get((m.conn.member_id, sent.op), [])
            what = f"{m.name} {type(sent.command).__name__} op {sent.op} ({sent.outcome})"
            if sent.outcome == "acked":
                assert seqs == [sent.seq], f"{what}: applied at {seqs}, acked at {sent.seq}"
            elif sent.outcome == "refused":
                assert not seqs, f"{what}: refused ({sent.code}) but applied at {seqs}"
            else:
                assert len(seqs) <= 1, f"{what}: applied {len(seqs)} times at {seqs}"
    return outcomes


def check_ballots(members: Iterable[Member], server: Session, events: list[E.Event]) -> None:
    """Each ballot is the merge of its member's applied casts, in log order."""
    by_op = {(m.conn.member_id, s.op): s.command for m in members for s in m.sent}
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for e in events:
        cmd = by_op.get((e.by, e.op))
        if isinstance(e.body, E.BallotCast) and isinstance(cmd, C.Cast):
            marks = expected.setdefault((e.body.vote_id, e.by), {})
            marks.update(cmd.marks)
            if server.votes[e.body.vote_id].kind == "dots":
                for key in [k for k, v in marks.items() if v == 0]:
                    del marks[key]
    for (vote_id, member_id), marks in expected.items():
        got = server.votes[vote_id].ballots[member_id].marks
        assert got == marks, f"vote {vote_id} ballot of {member_id}: {got} != casts {marks}"


def _rows(ballots: Iterable[Ballot]) -> list[tuple[tuple[tuple[str, int], ...], str]]:
    return sorted((tuple(sorted(b.marks.items())), b.reason) for b in ballots)


def check_tallies(server: Session, member_id: str, view: Session) -> None:
    """Voters match ballots on the relay; what a member may tally equals the relay's ballots."""
    for vote in server.votes.values():
        complete = [m for m, b in vote.ballots.items() if answered(server, vote, b).complete]
        assert sorted(vote.voters) == sorted(complete), f"vote {vote.id}: voters != complete"
        mine = view.votes[vote.id]
        assert mine.voters == vote.voters, f"{member_id} sees other voters in {vote.id}"
        partner_hidden = is_partner(server, member_id) and not may_see_ballots(
            server.partner_view, vote.kind
        )
        if not vote.results_visible or partner_hidden:
            assert set(mine.ballots) <= {member_id}, f"{member_id} holds others' ballots"
            continue
        seen = mine.anon_ballots if vote.anonymous else list(mine.ballots.values())
        assert _rows(seen) == _rows(vote.ballots.values()), f"{member_id}: tally of {vote.id}"
        if vote.kind == "dots":
            assert results.dot_totals(mine) == results.dot_totals(vote)


def check_privacy(member_id: str, frames: list[bytes]) -> int:
    """No frame carried another member's ballot while it was secret; returns frames read.

    A ballot is secret while its vote is hidden and not yet revealed, and an
    anonymous vote's ballots never carry identities. What counts is the relay's
    state when it *sent* the frame: a live event is projected at its own seq, a
    replay after a ``Welcome(mode="replay")`` at the welcome's seq (so replayed
    casts of a vote revealed meanwhile may show its results).
    """
    decoded = []
    for n, raw in enumerate(frames):
        try:
            decoded.append(codec.decode_server(raw))
        except ProtocolError as exc:  # the relay only sends valid frames: none is skipped
            raise AssertionError(f"{member_id}: frame {n} does not decode: {exc}") from None
    hidden: dict[str, bool] = {}
    anonymous: dict[str, bool] = {}
    revealed_at: dict[str, int] = {}  # vote id -> the earliest seq known to be after its reveal

    def revealed(vote_id: str, seq: int) -> None:
        revealed_at[vote_id] = min(seq, revealed_at.get(vote_id, seq))

    for msg in decoded:
        if isinstance(msg, Welcome) and msg.snapshot is not None:
            for v in msg.snapshot.votes.values():
                hidden[v.id], anonymous[v.id] = v.hidden, v.anonymous
                if v.revealed:
                    revealed(v.id, msg.seq)
        elif isinstance(msg, E.Event) and isinstance(msg.body, E.VoteOpened):
            v = msg.body.vote
            hidden[v.id], anonymous[v.id] = v.hidden, v.anonymous
        elif isinstance(msg, E.Event) and isinstance(msg.body, E.VoteRevealed):
            revealed(msg.body.vote_id, msg.seq)

    def shown(vote_id: str, seq: int) -> bool:
        return not hidden.get(vote_id, True) or revealed_at.get(vote_id, seq + 1) <= seq

    replay_until = -1
    for msg in decoded:
        if isinstance(msg, Welcome):
            replay_until = msg.seq if msg.mode == "replay" else -1
            if msg.snapshot is None:
                continue
            for v in msg.snapshot.votes.values():
                visible = v.revealed or not v.hidden
                others = set(v.ballots) - {member_id}
                assert not others or (visible and not v.anonymous), f"snapshot leaks {v.id}"
                assert not v.anon_ballots or visible, f"snapshot leaks {v.id} anonymous rows"
        elif isinstance(msg, E.Event):
            sent_at = replay_until if msg.seq <= replay_until else msg.seq
            body = msg.body
            if isinstance(body, E.BallotCast):
                vote = body.vote_id
                if body.ballot is not None and body.member_id != member_id:
                    ok = shown(vote, sent_at) and not anonymous.get(vote, True)
                    assert ok, f"{member_id} got {body.member_id}'s secret ballot in {vote}"
                secret_rows = body.anon_ballots and not shown(vote, sent_at)
                assert not secret_rows, f"{member_id} got secret anonymous rows of {vote}"
            elif isinstance(body, E.VoteRevealed):
                keyed = body.ballots and anonymous.get(body.vote_id, True)
                assert not keyed, f"{member_id} got keyed ballots of anonymous {body.vote_id}"
    return len(decoded)


def check_reveals(session_id: str, server: Session, events: list[E.Event]) -> None:
    """The run exercised the votes: ballots were cast, a hidden and an anonymous vote revealed."""
    casts = sum(isinstance(e.body, E.BallotCast) for e in events)
    revealed = [v for v in server.votes.values() if v.revealed]
    assert casts > 0, f"{session_id}: no ballot was cast"
    assert any(v.hidden for v in revealed), f"{session_id}: no hidden vote was revealed"
    assert any(v.anonymous for v in revealed), f"{session_id}: no anonymous vote was revealed"


def check_views(server: Session, members: Iterable[Member]) -> None:
    """Every member's state equals the relay's state as that member may see it."""
    for m in members:
        expected = views.project_session(server, m.conn.member_id)
        got = m.session
        assert got.seq == server.seq, f"{m.name} stopped at seq {got.seq}, relay at {server.seq}"
        for name in expected.__dataclass_fields__:
            mine, theirs = getattr(got, name), getattr(expected, name)
            assert mine == theirs, f"{m.name}: session.{name} differs from the relay's view"
        check_tallies(server, m.conn.member_id, got)


async def until(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout``; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())
