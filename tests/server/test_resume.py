"""Resume: exactly the missed events, or a fresh snapshot, and never anything in between."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol.messages import Ack, Cmd, Error, Hello, ServerMessage, Welcome
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, new_op, same_board


def answers(op: str) -> Callable[[ServerMessage], bool]:
    """A predicate: the ack or error that answers the command ``op``."""
    return lambda m: isinstance(m, Ack | Error) and m.op == op


async def _board(relay: Relay, cards: int = 5) -> tuple[WireClient, WireClient]:
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    for n in range(cards):
        await fac.ok(C.AddCard(lane="value", text=f"card {n}"))
    await pat.catch_up(fac.seq)
    return fac, pat


async def test_resume_replays_exactly_the_missed_events(relay: Relay) -> None:
    """A member who missed events gets a replay welcome and then exactly those events."""
    fac, pat = await _board(relay)
    last = pat.seq
    await pat.close()
    for n in range(4):
        await fac.ok(C.AddCard(lane="stakeholders", text=f"missed {n}"))
    back = await pat.resume()
    assert back.welcome is not None and back.welcome.mode == "replay"
    assert back.welcome.snapshot is None and back.welcome.seq == fac.seq
    await back.catch_up(fac.seq)
    assert [e.seq for e in back.events[-4:]] == list(range(last + 1, fac.seq + 1))
    assert not await back.quiet(0.2), "something arrived after the replay"
    assert same_board(relay.hub.hosts[fac.welcome.session_id].session, back)  # type: ignore[union-attr]


async def test_resume_at_head_replays_nothing(relay: Relay) -> None:
    """A member who missed nothing gets a replay welcome with no events after it."""
    _, pat = await _board(relay)
    await pat.close()
    back = await pat.resume()
    assert back.welcome is not None and back.welcome.mode == "replay"
    assert not await back.quiet(0.2)


async def test_other_epoch_gets_snapshot(relay: Relay) -> None:
    """A resume naming another epoch gets a fresh snapshot, never a replay."""
    fac, pat = await _board(relay)
    client = await WireClient.open(relay.url)
    await client.send(Hello(token=pat.token, last_seq=pat.seq, epoch="e-someother"))
    welcome = await client.expect_welcome()
    assert welcome.mode == "snapshot" and welcome.snapshot is not None
    assert welcome.epoch == fac.epoch and welcome.seq == fac.seq


async def test_seq_ahead_of_relay_gets_snapshot(relay: Relay) -> None:
    """A resume claiming a seq the relay never reached gets a snapshot."""
    fac, pat = await _board(relay)
    client = await WireClient.open(relay.url)
    await client.send(Hello(token=pat.token, last_seq=fac.seq + 50, epoch=fac.epoch))
    welcome = await client.expect_welcome()
    assert welcome.mode == "snapshot" and welcome.seq == fac.seq


async def test_too_far_behind_gets_snapshot(relay_factory: RelayFactory) -> None:
    """A member behind by more than the replay window gets a snapshot instead of a replay."""
    relay = await relay_factory(replay_window=5)
    fac, pat = await _board(relay)
    await pat.close()
    for n in range(6):
        await fac.ok(C.AddCard(lane="value", text=f"far {n}"))
    back = await pat.resume()
    assert back.welcome is not None and back.welcome.mode == "snapshot"
    assert back.seq == fac.seq
    again = await back.resume()  # now only a little behind: replay again
    assert again.welcome is not None and again.welcome.mode == "replay"


async def test_restart_in_process_replays_across_snapshots(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """After a restart a session is rebuilt from snapshot plus tail and still replays."""
    data = tmp_path / "restart"
    relay = await relay_factory(data_dir=data, snapshot_every=3)
    fac, pat = await _board(relay, cards=10)
    epoch, seq = fac.epoch, fac.seq
    last = pat.seq - 6
    session_id = fac.welcome.session_id  # type: ignore[union-attr]
    before = relay.hub.hosts[session_id].session
    await relay.close()
    relay = await relay_factory(data_dir=data, snapshot_every=3)
    back = await WireClient.open(relay.url)
    await back.send(Hello(token=pat.token, last_seq=last, epoch=epoch))
    welcome = codec.decode_server(await back.ws.recv(decode=False))
    assert isinstance(welcome, Welcome)
    assert welcome.mode == "replay" and welcome.epoch == epoch and welcome.seq == seq
    replayed = [codec.decode_server(await back.ws.recv(decode=False)) for _ in range(last, seq)]
    assert [getattr(m, "seq", None) for m in replayed] == list(range(last + 1, seq + 1))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.2):
            raise AssertionError(f"more after the replay: {await back.ws.recv()!r}")
    after = relay.hub.hosts[session_id].session
    assert after == before, "the rebuilt session differs from the one before the restart"


async def test_lost_log_changes_epoch(relay_factory: RelayFactory, tmp_path: Path) -> None:
    """If stored events vanished, the relay continues with a new epoch and resumes get snapshots."""
    data = tmp_path / "lost"
    relay = await relay_factory(data_dir=data, snapshot_every=1000)
    fac, pat = await _board(relay, cards=6)
    await relay.close()
    with sqlite3.connect(data / "accord.sqlite3") as db:
        db.execute("DELETE FROM events WHERE seq = 5")
    relay = await relay_factory(data_dir=data)
    back = await pat.resume(relay.url)
    assert back.welcome is not None and back.welcome.mode == "snapshot"
    assert back.epoch != fac.epoch and back.seq == 4
    await back.ok(C.AddCard(lane="value", text="carry on"))
    again = await back.resume()
    assert again.welcome is not None and again.welcome.mode == "replay"
    assert again.epoch == back.epoch


async def test_drops_during_traffic_end_equal(relay_factory: RelayFactory) -> None:
    """Members dropping and resuming while others write all end with the relay's exact board."""
    relay = await relay_factory(rate_limit=1000.0, rate_burst=1000)
    fac = await WireClient.create(relay.url)
    code = fac.secrets.participant_code
    people = [await WireClient.join(relay.url, code, f"P{n}") for n in range(4)]
    session_id = fac.welcome.session_id  # type: ignore[union-attr]
    await fac.ok(C.AddCard(lane="value", text="seed"))
    await fac.ok(C.OpenVote(kind="dots", dots=99, hidden=True))
    assert fac.session is not None
    vote = fac.session.open_vote("dots")
    assert vote is not None
    card = next(iter(fac.session.cards))
    rng = random.Random(7)
    wanted: set[str] = set()

    async def member(n: int) -> WireClient:
        client = people[n]
        for round_ in range(25):
            op = new_op()
            command: C.AddCard | C.Cast
            if round_ % 2:
                command = C.AddCard(lane="value", text=f"p{n} r{round_}")
                wanted.add(command.text)
            else:
                command = C.Cast(vote_id=vote.id, marks={card: round_ % 5})
            await client.send(Cmd(op=op, c=command))
            if rng.random() < 0.3:
                client.drop()  # vanish before the ack arrives
                client = await client.resume()
                reply: ServerMessage = await client.cmd(command, op=op)  # the same op id
            else:
                reply = await client.until(answers(op))
            assert isinstance(reply, Ack), reply
        return client

    finals = await asyncio.gather(*(member(n) for n in range(len(people))))
    host = relay.hub.hosts[session_id]
    for client in [fac, *finals]:
        await client.catch_up(host.session.seq)
        assert same_board(host.session, client)
    texts = [c.text for c in host.session.cards.values()]
    assert len(texts) == len(set(texts)), "a retried command was applied twice"
    assert wanted <= set(texts)


async def test_idle_session_unloads_and_reloads(relay_factory: RelayFactory) -> None:
    """A session nobody is on leaves memory after idle_unload, and a resume loads it back."""
    relay = await relay_factory(idle_unload=0.05)
    fac, pat = await _board(relay)
    session_id = fac.welcome.session_id  # type: ignore[union-attr]
    await fac.close()
    await pat.close()
    for _ in range(200):
        if session_id not in relay.hub.hosts:
            break
        await asyncio.sleep(0.02)
    assert session_id not in relay.hub.hosts
    back = await pat.resume()
    assert back.welcome is not None and back.welcome.mode == "replay"
    assert session_id in relay.hub.hosts
    await back.ok(C.AddCard(lane="value", text="after reload"))
