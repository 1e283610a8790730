"""Several relays on one Redis: members on different relays share one session."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Ack, Cmd, Error, Hello
from accord.server.config import ServerConfig
from accord.server.redis_store import RedisStore
from accord.server.relay import Relay
from redis_support import RedisServer
from server_support import RelayProcess, WireClient, free_port, new_op, same_board
from websockets.exceptions import ConnectionClosed

FAST = {"rate_limit": 100000.0, "rate_burst": 100000}

Start = Callable[[], Awaitable[Relay]]


@pytest.fixture
async def start_relay(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Start]:
    """Start in-process relays on loopback port 0, all on the (emptied) test Redis."""
    flush = RedisStore(redis_server.url)
    await flush.client.flushall()
    await flush.close()
    started: list[Relay] = []

    async def start() -> Relay:
        config = ServerConfig(
            host="127.0.0.1",
            port=0,
            data_dir=tmp_path / f"relay-{len(started)}",
            store=redis_server.url,
            ballot_key_file=tmp_path / "ballot.key",  # one key for every relay on the store
            **FAST,  # type: ignore[arg-type]
        )
        relay = Relay(config)
        await relay.start()
        started.append(relay)
        return relay

    yield start
    for relay in reversed(started):
        await relay.close()


async def test_members_on_two_relays_see_each_other_in_order(start_relay: Start) -> None:
    """Commands on either relay reach every member on both, in seq order, without gaps."""
    a, b = await start_relay(), await start_relay()
    fac = await WireClient.create(a.url)
    pat = await WireClient.join(b.url, fac.secrets.participant_code, "Pat")
    lee = await WireClient.join(a.url, fac.secrets.participant_code, "Lee")
    await pat.ok(C.AddCard(lane="value", text="from b"))
    await fac.catch_up(pat.seq)
    await lee.catch_up(pat.seq)
    await fac.ok(C.AddCard(lane="value", text="from a"))
    await pat.catch_up(fac.seq)

    # Both relays write at once: every command is acked once, no seq is used twice.
    async def burst(client: WireClient, tag: str) -> list[int]:
        ops = [new_op() for _ in range(15)]
        for n, op in enumerate(ops):
            await client.send(Cmd(op=op, c=C.AddCard(lane="value", text=f"{tag}{n}")))
        acked: dict[str, int] = {}
        while len(acked) < len(ops):
            message = await client.recv()
            assert not isinstance(message, Error), message
            if isinstance(message, Ack):
                acked[message.op] = message.seq
        return list(acked.values())

    seqs_b, seqs_a = await asyncio.gather(burst(pat, "b"), burst(lee, "a"))
    assert len(set(seqs_a) | set(seqs_b)) == 30
    last = max(seqs_a + seqs_b)
    for client in (fac, pat, lee):
        await client.catch_up(last)
        assert client.session is not None and client.seq == last
    assert fac.session is not None
    texts = sorted(c.text for c in fac.session.cards.values())
    assert texts == sorted(
        ["from a", "from b"] + [f"a{n}" for n in range(15)] + [f"b{n}" for n in range(15)]
    )
    host_a, host_b = a.hub.hosts[fac.session.id], b.hub.hosts[fac.session.id]
    assert host_a.session.seq == host_b.session.seq == last
    for client in (fac, lee):
        assert same_board(host_a.session, client)
    assert same_board(host_b.session, pat)


async def test_a_resume_on_another_relay_replays_what_was_missed(start_relay: Start) -> None:
    """A member who left relay A resumes on relay B by replay, in the same epoch."""
    a, b = await start_relay(), await start_relay()
    fac = await WireClient.create(a.url)
    pat = await WireClient.join(a.url, fac.secrets.participant_code, "Pat")
    await pat.close()
    for n in range(5):
        await fac.ok(C.AddCard(lane="value", text=f"card {n}"))
    back = await pat.resume(b.url)
    assert back.welcome is not None and back.welcome.mode == "replay"
    assert back.epoch == fac.epoch
    await back.catch_up(fac.seq)
    await back.ok(C.AddCard(lane="value", text="from b"))
    await fac.catch_up(back.seq)
    assert back.session is not None and fac.session is not None
    assert len(fac.session.cards) == 6 and same_board(a.hub.hosts[fac.session.id].session, fac)


async def test_a_claimed_create_retried_on_another_relay_makes_one_session(
    start_relay: Start,
) -> None:
    """The same create (same claim) sent to two relays at once makes one session."""
    a, b = await start_relay(), await start_relay()
    claim = secrets.token_hex(20)
    first, second = await asyncio.gather(
        WireClient.create(a.url, claim=claim), WireClient.create(b.url, claim=claim)
    )
    assert first.session is not None and second.session is not None
    assert first.session.id == second.session.id
    assert first.member_id == second.member_id
    assert await a.store.count() == 1


async def test_killing_a_relay_loses_nothing_acked(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """kill -9 of one relay: its members resume on the other with every acked command."""
    flush = RedisStore(redis_server.url)
    await flush.client.flushall()
    await flush.close()
    extra = ("--store", redis_server.url, "--rate-limit", "100000", "--rate-burst", "100000")
    one = RelayProcess(tmp_path / "one", free_port(), *extra)
    two = RelayProcess(tmp_path / "two", free_port(), *extra)
    await asyncio.gather(asyncio.to_thread(one.start), asyncio.to_thread(two.start))
    try:
        fac = await WireClient.create(two.url)
        pat = await WireClient.join(one.url, fac.secrets.participant_code, "Pat")
        ops = {new_op(): f"card {n}" for n in range(200)}
        acked: dict[str, int] = {}
        for op, text in ops.items():
            await pat.send(Cmd(op=op, c=C.AddCard(lane="value", text=text)))

        async def collect() -> None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    message = await pat.recv()
                    if isinstance(message, Ack):
                        acked[message.op] = message.seq
                    assert not isinstance(message, Error), message

        collector = asyncio.create_task(collect())
        for _ in range(1000):
            if len(acked) >= 20:
                break
            await asyncio.sleep(0.005)
        code, _ = await asyncio.to_thread(one.stop, signal.SIGKILL)
        assert code == -signal.SIGKILL
        await collector
        assert acked, "nothing was acked before the kill"

        back = await pat.resume(two.url)
        assert back.welcome is not None and back.welcome.epoch == pat.epoch
        for op, text in ops.items():  # retry everything with the same op ids
            if op not in acked:
                await back.send(Cmd(op=op, c=C.AddCard(lane="value", text=text)))
        while len(acked) < len(ops):
            message = await back.recv()
            assert not isinstance(message, Error), message
            if isinstance(message, Ack):
                acked.setdefault(message.op, message.seq)
        await back.catch_up(max(acked.values()))
        await fac.catch_up(back.seq)
        assert back.session is not None and fac.session is not None
        texts = sorted(c.text for c in fac.session.cards.values())
        assert texts == sorted(ops.values())  # each command applied exactly once
        assert fac.seq == back.seq
    finally:
        for relay in (one, two):
            if relay.proc is not None and relay.proc.poll() is None:
                await asyncio.to_thread(relay.stop, signal.SIGKILL)


async def test_a_session_redis_lost_comes_back_in_a_new_epoch(start_relay: Start) -> None:
    """If Redis loses a held session (not deleted), the relay writes it back in a new epoch."""
    a = await start_relay()
    fac = await WireClient.create(a.url)
    await fac.ok(C.AddCard(lane="value", text="kept in memory"))
    assert fac.session is not None
    sid, epoch, seq = fac.session.id, fac.epoch, fac.seq
    store = a.store
    assert isinstance(store, RedisStore)
    await store.client.delete(f"accord:s:{{{sid}}}:meta")  # as an eviction would
    assert await fac.closed(timeout=10) == 1011  # told to resume: the history changed
    back = await fac.resume()
    assert back.welcome is not None and back.welcome.mode == "snapshot"
    assert back.epoch != epoch and back.seq == seq
    await back.ok(C.AddCard(lane="value", text="after"))
    assert back.session is not None and len(back.session.cards) == 2


async def test_a_claimed_join_sent_to_two_relays_makes_one_member(start_relay: Start) -> None:
    """The same join (same claim) sent to two relays at once makes one member, not two."""
    a, b = await start_relay(), await start_relay()
    fac = await WireClient.create(a.url)
    claim = secrets.token_hex(20)

    async def join(url: str) -> WireClient:
        client = await WireClient.open(url)
        await client.send(Hello(code=fac.secrets.participant_code, name="Pat", claim=claim))
        await client.expect_welcome()
        return client

    first, second = await asyncio.gather(join(a.url), join(b.url))
    assert first.member_id == second.member_id
    await fac.catch_up(max(first.seq, second.seq))
    assert fac.session is not None
    assert sorted(m.name for m in fac.session.members.values()) == ["Fran", "Pat"]


async def test_a_member_removed_on_one_relay_is_closed_on_the_other(start_relay: Start) -> None:
    """remove_member on relay A closes the member's connection on relay B with 4006."""
    a, b = await start_relay(), await start_relay()
    fac = await WireClient.create(a.url)
    pat = await WireClient.join(b.url, fac.secrets.participant_code, "Pat")
    lee = await WireClient.join(b.url, fac.secrets.participant_code, "Lee")
    await fac.ok(C.RemoveMember(member_id=pat.member_id))
    assert await pat.closed() == CloseCode.MEMBER_REMOVED
    await lee.catch_up(fac.seq)  # the others on relay B stay
    assert lee.session is not None and lee.session.members[pat.member_id].removed
    with pytest.raises(AssertionError, match="unauthorized"):  # the token died on every relay
        await pat.resume(b.url)
