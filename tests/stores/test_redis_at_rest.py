"""At rest on Redis: ballots are sealed there as in SQLite, and relays sharing a key open them."""

from __future__ import annotations

from pathlib import Path

import msgpack
from accord.protocol import commands as C
from accord.server.config import ServerConfig
from accord.server.redis_store import RedisStore
from accord.server.relay import Relay
from redis_support import RedisServer
from server_support import WireClient

REASON = "heron-objection-5309"


async def test_redis_holds_ballots_sealed_and_another_relay_opens_them(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """No Redis value holds a ballot in the clear; a relay with the same key shows it back."""
    flush = RedisStore(redis_server.url)
    await flush.client.flushall()
    await flush.close()

    def config(n: int) -> ServerConfig:
        return ServerConfig(
            host="127.0.0.1",
            port=0,
            data_dir=tmp_path / f"relay-{n}",
            store=redis_server.url,
            ballot_key_file=tmp_path / "ballot.key",
            snapshot_every=2,
        )

    async with Relay(config(0)) as first, Relay(config(1)) as second:
        fac = await WireClient.create(first.url)
        pat = await WireClient.join(first.url, fac.secrets.participant_code, "Pat")
        await fac.ok(C.SetPhase(phase="decide"))
        await fac.ok(C.Propose(option_id="baseline", statement="Keep things as they are"))
        await fac.ok(C.OpenVote(kind="consensus", method="consent", anonymous=True))
        assert fac.session is not None
        vote_id = list(fac.session.votes)[-1]
        await pat.ok(C.Cast(vote_id=vote_id, marks={"proposal": 0}, reason=REASON))
        await fac.ok(C.AddCard(lane="value", text="after the ballot"))  # a snapshot after it

        raw = RedisStore(redis_server.url)
        try:
            sid = fac.session.id
            log = await raw.client.xrange(f"accord:s:{{{sid}}}:log")
            blobs = [bytes(fields[b"b"]) for _, fields in log]
            snapshot = await raw.client.hget(f"accord:s:{{{sid}}}:snap", "blob")
        finally:
            await raw.close()
        assert snapshot is not None and REASON.encode() not in snapshot
        assert all(REASON.encode() not in blob for blob in blobs)
        bodies = [msgpack.unpackb(b)["body"] for b in blobs]
        casts = [b for b in bodies if b["k"] == "ballot_cast"]
        assert casts and all(c["ballot"] is None and c["sealed"] for c in casts)
        vote = msgpack.unpackb(snapshot)["votes"][vote_id]
        assert vote["ballots"] == {} and vote["sealed"]

        back = await pat.resume(second.url)
        assert back.session is not None
        assert back.session.votes[vote_id].ballots[back.member_id].reason == REASON
