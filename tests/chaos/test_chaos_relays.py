"""Chaos across relays: two relays on one Redis behind the lossy proxy, one relay and Redis killed.

Each connection the proxy opens goes to a relay at random, so every
reconnect may land on the other relay. The run kills -9 one relay (and
restarts it), and separately kills -9 redis-server (and restarts it on its
append-only file). The checks are the single-relay scenario's, read back
from Redis. ``ACCORD_CHAOS_SEED`` replays a printed seed.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest
from accord.protocol.reducer import replay
from accord.server.loading import read_session
from accord.server.redis_store import RedisStore
from accord.server.sealing import Sealer
from accord.server.store import decode_event
from chaos_support import (
    ChaosProxy,
    Member,
    advise,
    check_ballots,
    check_commands,
    check_log,
    check_privacy,
    check_views,
    facilitate,
    participate,
    until,
)
from redis_support import RedisServer
from test_chaos import PARTICIPANTS, SEED, SESSIONS, SETTINGS, open_sessions

from bench.procs import Relay

SECONDS = 14.0

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(SECONDS + 240)]


def _state(groups: list[list[Member]]) -> list[list[tuple[int, int, str]]]:
    """Each member's seq, unsent commands and link, for a failure message."""
    return [
        [
            (
                m.conn.session.seq if m.conn.session else -1,
                len(m.conn.outbox),
                f"{m.conn.link.kind}:{m.conn.link.reason}",
            )
            for m in g
        ]
        for g in groups
    ]


async def run_relays_scenario(tmp_path: Path, seed: int, seconds: float) -> dict[str, object]:
    """Two relays and a redis-server under chaos, then every invariant against Redis."""
    redis = RedisServer(tmp_path / "redis")
    await asyncio.to_thread(redis.start)
    try:
        return await _scenario(tmp_path, seed, seconds, redis)
    finally:
        await asyncio.to_thread(redis.stop, signal.SIGKILL)


async def _scenario(
    tmp_path: Path, seed: int, seconds: float, redis: RedisServer
) -> dict[str, object]:
    rng = random.Random(seed)
    relays = []
    key = tmp_path / "ballot.key"
    for n in range(2):
        # Every relay on one store needs the same ballot key (docs/ops.md).
        settings = {**SETTINGS, "store": redis.url, "ballot_key_file": str(key)}
        relay = Relay("accord", data_dir=tmp_path / f"data{n}", settings=settings)
        relay.log_path = tmp_path / f"relay{n}.log"
        await relay.start()
        relays.append(relay)
    proxy = ChaosProxy(relays[0].port, random.Random(rng.random()), more_targets=(relays[1].port,))
    await proxy.start()
    stop = asyncio.Event()
    groups: list[list[Member]] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        groups = await open_sessions(relays[0], proxy, rng)
        for g in groups:
            tasks.append(asyncio.create_task(facilitate(g[0], stop, 1.0)))
            tasks += [asyncio.create_task(participate(m, stop)) for m in g[1 : 1 + PARTICIPANTS]]
            tasks += [asyncio.create_task(advise(m, stop)) for m in g[1 + PARTICIPANTS :]]
        proxy.chaos = True
        started = time.monotonic()
        await asyncio.sleep(max(0.0, started + seconds * 0.3 - time.monotonic()))
        victim = relays[rng.randrange(2)]
        victim.kill()  # its members reconnect, through the proxy, to either relay
        await asyncio.sleep(rng.uniform(0.2, 1.0))
        await victim.start()
        await asyncio.sleep(max(0.0, started + seconds * 0.6 - time.monotonic()))
        await asyncio.to_thread(redis.stop, signal.SIGKILL)  # commands refused meanwhile
        await asyncio.sleep(rng.uniform(0.3, 1.0))
        await asyncio.to_thread(redis.start)
        await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        proxy.chaos = False
        links = proxy.stats.links
        proxy.cut_all()  # everyone resumes once more, through a calm proxy
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

        assert await until(settled, 30), f"members did not converge: {_state(groups)}"
        await asyncio.sleep(0.3)
        assert settled(), f"members kept changing after they converged: {_state(groups)}"
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(m.conn.close() for g in groups for m in g), return_exceptions=True)
        await proxy.close()
        codes = [await relay.stop() for relay in relays]
    assert codes == [0, 0], f"relays exited with {codes}: {relays[0].log_tail()}"

    sealer = Sealer(key)  # ballots are sealed at rest, in Redis too
    sealer.load(create=False)
    store = RedisStore(redis.url, sealer)
    await store.open()
    counts: dict[str, object] = {"seed": seed, "proxy": proxy.stats}
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
            assert sorted(server.members) == sorted(m.conn.member_id for m in members)
            loaded = await read_session(store, session_id, sealer)
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


async def test_chaos_across_two_relays_on_redis(tmp_path: Path) -> None:
    """Through cuts, stalls, a relay's SIGKILL and Redis's, nothing is lost, doubled or leaked."""
    print(f"\nchaos across relays, seed {SEED} (replay: ACCORD_CHAOS_SEED={SEED})")
    counts = await run_relays_scenario(tmp_path, SEED, SECONDS)
    print(f"chaos across relays done: {counts}")
