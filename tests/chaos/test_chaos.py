"""Chaos: 30 members work through a lossy proxy while the relay is killed; nothing lost or doubled.

Short mode runs in CI in well under a minute. ``ACCORD_CHAOS_LONG=<seconds>``
runs the scenario for that long (several kills); ``ACCORD_CHAOS_SEED=<n>``
replays a printed seed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.events import Event
from accord.protocol.messages import Create, Hello
from accord.protocol.model import Ballot, Vote
from accord.protocol.reducer import replay
from accord.server.hub import read_session
from accord.server.storage import SqliteStore
from accord.server.store import decode_event
from chaos_support import (
    ChaosProxy,
    Member,
    RecordingConnection,
    Sent,
    advise,
    check_ballots,
    check_commands,
    check_log,
    check_privacy,
    check_views,
    facilitate,
    participate,
    quick_delays,
    until,
)

from bench.procs import Relay

SESSIONS = 3
PARTICIPANTS = 7  # plus a facilitator, a partner and an observer: 10 members a session
LONG = float(os.environ.get("ACCORD_CHAOS_LONG", "0") or 0)
SEED = int(os.environ.get("ACCORD_CHAOS_SEED", "0") or 0) or random.SystemRandom().randrange(
    1, 2**31
)
#: Relay settings: quick keepalive so stalled links are noticed within the run.
SETTINGS = {"ping_interval": 3.0, "ping_timeout": 3.0, "hello_timeout": 3.0}


def connection(url: str, intro: Create | Hello, name: str) -> RecordingConnection:
    """A member's client: quick reconnects, short keepalive, patient first connect."""
    return RecordingConnection(
        url,
        intro,
        first_attempts=50,
        delays=quick_delays,
        open_timeout=3.0,
        ping_interval=2.0,
        op_prefix=name,
    )


async def open_sessions(relay: Relay, proxy: ChaosProxy, rng: random.Random) -> list[list[Member]]:
    """Create each session and join everyone through the proxy, as people would.

    A create or join whose welcome the proxy loses is retried with its claim and
    still makes one session or member (docs/protocol.md §4).
    """
    groups: list[list[Member]] = []
    for s in range(SESSIONS):
        name = f"s{s}-fac"
        creator = connection(proxy.url, Create(question=f"Question {s}?", name="Fac"), name)
        fac = Member(name, "facilitator", creator, random.Random(rng.random()))
        await creator.start(timeout=15)
        secrets = creator.secrets
        assert secrets is not None
        intros: list[tuple[str, str, Hello]] = [
            ("participant", f"s{s}-p{i}", Hello(code=secrets.participant_code, name=f"P{i}"))
            for i in range(PARTICIPANTS)
        ]
        intros.append(("partner", f"s{s}-partner", Hello(code=secrets.partner_code, name="Ptn")))
        intros.append(("observer", f"s{s}-obs", Hello(code=secrets.observer_code, name="Obs")))
        members = [
            Member(name, role, connection(proxy.url, hello, name), random.Random(rng.random()))
            for role, name, hello in intros
        ]
        await asyncio.gather(*(m.conn.start(timeout=15) for m in members))
        groups.append([fac, *members])
    return groups


async def run_scenario(tmp_path: Path, seed: int, seconds: float) -> dict[str, object]:
    """Run the whole scenario and its checks; returns counts for the report line."""
    rng = random.Random(seed)
    relay = Relay("accord", data_dir=tmp_path / "data", settings=dict(SETTINGS))
    relay.log_path = tmp_path / "relay.log"
    await relay.start()
    proxy = ChaosProxy(relay.port, random.Random(rng.random()))
    await proxy.start()
    stop = asyncio.Event()
    kills = 0
    groups: list[list[Member]] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        groups = await open_sessions(relay, proxy, rng)
        beat = 1.0 if not LONG else 2.0
        for g in groups:
            tasks.append(asyncio.create_task(facilitate(g[0], stop, beat)))
            tasks += [asyncio.create_task(participate(m, stop)) for m in g[1 : 1 + PARTICIPANTS]]
            tasks += [asyncio.create_task(advise(m, stop)) for m in g[1 + PARTICIPANTS :]]
        proxy.chaos = True
        started = time.monotonic()
        kill_at = [seconds * f for f in ((0.4,) if not LONG else (0.2, 0.45, 0.7))]
        for at in kill_at:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            relay.kill()
            kills += 1
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            await relay.start()
        await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        proxy.chaos = False
        links = proxy.stats.links
        proxy.cut_all()  # everyone resumes once more through a calm proxy
        # Wait for every member to reconnect first: right after the cut, clients that
        # have not noticed it yet still look settled.
        everyone = sum(len(g) for g in groups)
        assert await until(lambda: proxy.stats.links >= links + everyone, 30), "no resume"

        def settled() -> bool:
            for g in groups:
                seqs = {m.conn.session.seq if m.conn.session else -1 for m in g}
                if len(seqs) != 1 or any(m.conn.outbox for m in g):
                    return False
                if any(m.conn.link.kind != "connected" for m in g):
                    return False
            return True

        assert await until(settled, 30), "members did not converge after the chaos stopped"
        await asyncio.sleep(0.3)
        assert settled(), "members kept changing after they converged"
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(m.conn.close() for g in groups for m in g), return_exceptions=True)
        await proxy.close()
        code = await relay.stop()
    assert code == 0, f"relay exited with {code}: {relay.log_tail()}"

    store = SqliteStore(tmp_path / "data" / "accord.sqlite3")
    await store.open()
    counts: dict[str, object] = {"seed": seed, "kills": kills, "proxy": proxy.stats}
    try:
        stored = {info.id: info for info in await store.sessions()}
        assert len(stored) == SESSIONS
        frames = 0
        outcomes: dict[str, int] = {}
        for members in groups:
            session_id = members[0].session.id
            events = [decode_event(e.blob) for e in await store.events_after(session_id, 0)]
            check_log(session_id, events)
            server = replay(session_id, events)
            mine = sorted(m.conn.member_id for m in members)
            assert sorted(server.members) == mine, "a member joined twice (a ghost)"
            loaded = await read_session(store, session_id)
            assert loaded is not None and loaded.intact, "the stored log has a hole"
            assert loaded.session == server, "snapshot + tail differs from the full log"
            assert stored[session_id].seq == server.seq
            for k, v in check_commands(members, events).items():
                outcomes[k] = outcomes.get(k, 0) + v
            check_ballots(members, server, events)
            check_views(server, members)
            for m in members:
                frames += check_privacy(m.conn.member_id, m.conn.raw)
        counts.update(frames=frames, outcomes=outcomes)
    finally:
        await store.close()
    assert outcomes.get("acked", 0) > 50, f"too little work got through: {outcomes}"
    return counts


async def test_chaos_nothing_lost_nothing_doubled(tmp_path: Path) -> None:
    """Through cuts, stalls, delays and a SIGKILL, every member ends with the relay's state."""
    seconds = LONG or 14.0
    print(f"\nchaos seed {SEED} (replay: ACCORD_CHAOS_SEED={SEED}), {seconds:g} s")
    counts = await run_scenario(tmp_path, SEED, seconds)
    print(f"chaos done: {counts}")


def test_privacy_check_flags_a_leaked_ballot() -> None:
    """The privacy check fails on a frame carrying another member's secret ballot."""
    opened = Vote(id="v1", kind="classify", phase="needs", hidden=True, anonymous=False)
    frames = [
        codec.encode(Event(seq=5, at=1.0, by="m1", body=E.VoteOpened(vote=opened))),
        codec.encode(
            Event(seq=6, at=1.0, by="m3", body=E.BallotCast("v1", "m3", Ballot({"n1": 2})))
        ),
    ]
    assert check_privacy("m3", frames) == 2  # one's own ballot may come back
    with pytest.raises(AssertionError, match="ballot"):
        check_privacy("m2", frames)


def test_command_check_flags_a_double_apply() -> None:
    """The command check fails when one acknowledged op shows up twice in the log."""
    member = Member("p", "participant", RecordingConnection("ws://x", Hello()), random.Random(1))
    member.conn.member_id = "m2"
    member.sent.append(Sent("op1", C.SetReady(ready=True), outcome="acked", seq=3))
    once = [Event(seq=3, at=1.0, by="m2", body=E.ReadySet("m2", True), op="op1")]
    assert check_commands([member], once)["acked"] == 1
    twice = [*once, Event(seq=4, at=1.0, by="m2", body=E.ReadySet("m2", True), op="op1")]
    with pytest.raises(AssertionError, match="applied at"):
        check_commands([member], twice)
