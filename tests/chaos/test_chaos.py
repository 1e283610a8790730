"""Chaos: 30 members work through a lossy proxy while the relay is killed; nothing lost or doubled.

Short mode runs in CI in well under a minute, with a fixed seed.
``ACCORD_CHAOS_LONG=<seconds>`` runs the scenario for that long (several kills, a
random seed); ``ACCORD_CHAOS_SEED=<n>`` replays a printed seed (see ``suite_env``).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
import suite_env
from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.events import Event
from accord.protocol.messages import Create, Hello
from accord.protocol.model import Ballot, Vote, new_session
from accord.protocol.reducer import replay
from accord.server.hub import read_session
from accord.server.sealing import Sealer
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
    check_reveals,
    check_views,
    facilitate,
    participate,
    quick_delays,
    until,
)

from bench.procs import Relay

SESSIONS = 3
PARTICIPANTS = 7  # plus a facilitator, a partner and an observer: 10 members a session
LONG = suite_env.CHAOS_LONG
SEED = suite_env.CHAOS_SEED
#: The scenario, its settling and its checks, with room to spare on a busy machine.
pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(LONG + 240)]
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


def in_flight(groups: list[list[Member]]) -> int:
    """How many commands the members have sent (or queued) and not yet seen answered."""
    return sum(len(m.conn.outbox) for g in groups for m in g)


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
    in_flight_at_kills: list[int] = []
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
            # Kill while commands are on their way, so the kill tests the retries.
            await until(lambda: in_flight(groups) > 0, 5, step=0.005)
            in_flight_at_kills.append(in_flight(groups))
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

    sealer = Sealer(tmp_path / "data" / "ballot.key")  # ballots are sealed at rest
    sealer.load(create=False)
    store = SqliteStore(tmp_path / "data" / "accord.sqlite3", sealer)
    await store.open()
    counts: dict[str, object] = {"seed": seed, "kills": kills, "in flight": in_flight_at_kills}
    counts["proxy"] = proxy.stats
    assert in_flight_at_kills and min(in_flight_at_kills) > 0, "no kill hit a command in flight"
    try:
        stored = {info.id: info for info in await store.sessions()}
        assert len(stored) == SESSIONS
        frames = 0
        outcomes: dict[str, int] = {}
        for members in groups:
            session_id = members[0].session.id
            stored_events = await store.events_after(session_id, 0)
            events = [decode_event(e.blob, sealer) for e in stored_events]
            check_log(session_id, events)
            server = replay(session_id, events)
            mine = sorted(m.conn.member_id for m in members)
            assert sorted(server.members) == mine, "a member joined twice (a ghost)"
            loaded = await read_session(store, session_id, sealer)
            assert loaded is not None and loaded.intact, "the stored log has a hole"
            assert loaded.session == server, "snapshot + tail differs from the full log"
            assert stored[session_id].seq == server.seq
            for k, v in check_commands(members, events).items():
                outcomes[k] = outcomes.get(k, 0) + v
            check_ballots(members, server, events)
            check_views(server, members)
            check_reveals(session_id, server, events)
            for m in members:
                read = check_privacy(m.conn.member_id, m.conn.raw)
                assert read == len(m.conn.raw) > 0, f"{m.name}: decoded {read} frames"
                frames += read
        counts.update(frames=frames, outcomes=outcomes)
    finally:
        await store.close()
    assert outcomes.get("acked", 0) > 50, f"too little work got through: {outcomes}"
    assert outcomes.get("acked as duplicate", 0) > 0, f"no retry was acked as one: {outcomes}"
    assert frames > 1000, f"only {frames} frames reached the members"
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
    member.conn.state.member_id = "m2"
    member.sent.append(Sent("op1", C.SetReady(ready=True), outcome="acked", seq=3))
    once = [Event(seq=3, at=1.0, by="m2", body=E.ReadySet("m2", True), op="op1")]
    assert check_commands([member], once)["acked"] == 1
    twice = [*once, Event(seq=4, at=1.0, by="m2", body=E.ReadySet("m2", True), op="op1")]
    with pytest.raises(AssertionError, match="applied at"):
        check_commands([member], twice)


def test_privacy_check_refuses_to_skip_a_frame() -> None:
    """A frame the checker cannot decode fails the check instead of being skipped."""
    good = codec.encode(Event(seq=5, at=1.0, by="m1", body=E.ReadySet("m1", True)))
    assert check_privacy("m2", [good]) == 1
    with pytest.raises(AssertionError, match="does not decode"):
        check_privacy("m2", [good, b"\xc1"])


def test_reveal_check_flags_a_run_without_an_anonymous_reveal() -> None:
    """The reveal check fails when no anonymous vote was revealed, however much else ran."""
    session = new_session("s1", "Which way?", 1.0)
    hidden = Vote(id="v1", kind="dots", phase="learn", hidden=True, revealed=True)
    session.votes["v1"] = hidden
    cast = Event(seq=2, at=1.0, by="m1", body=E.BallotCast("v1", "m1", Ballot({"c1": 1})))
    with pytest.raises(AssertionError, match="no anonymous vote was revealed"):
        check_reveals("s1", session, [cast])
    session.votes["v2"] = Vote(
        id="v2", kind="classify", phase="needs", anonymous=True, revealed=True
    )
    check_reveals("s1", session, [cast])
