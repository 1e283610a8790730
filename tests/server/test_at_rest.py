"""At rest: the data dir is 0700, every file in it 0600, and stored ballots are sealed."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import msgpack
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Hello
from accord.server.relay import Relay, StartError
from server_support import RelayFactory, WireClient

REASON = "zebra-objection-4471"


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(os.stat(path).st_mode)


async def anonymous_consent(relay: Relay) -> tuple[WireClient, WireClient, str]:
    """A session in Decide with an open anonymous consent vote Pat objected in."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await fac.ok(C.SetPhase(phase="decide"))
    await fac.ok(C.Propose(option_id="baseline", statement="Keep things as they are"))
    await fac.ok(C.OpenVote(kind="consensus", method="consent", anonymous=True))
    assert fac.session is not None
    vote_id = list(fac.session.votes)[-1]
    await pat.ok(C.Cast(vote_id=vote_id, marks={"proposal": 0}, reason=REASON))
    return fac, pat, vote_id


async def test_data_dir_and_every_file_are_private(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """The data dir is 0700 (even if it was looser); database, WAL, SHM, key and records 0600."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    relay = await relay_factory(data_dir=data, snapshot_every=2)
    fac, _, _ = await anonymous_consent(relay)
    await fac.ok(C.CloseSession())
    records = data / "records"
    for _ in range(200):
        if len(list(records.glob("*"))) == 2:
            break
        await asyncio.sleep(0.02)
    assert mode(data) == 0o700 and mode(records) == 0o700
    files = [
        data / "accord.sqlite3",
        data / "accord.sqlite3-wal",
        data / "accord.sqlite3-shm",
        data / "ballot.key",
        *records.glob("*"),
    ]
    assert len(files) == 6
    for path in files:
        assert mode(path) == 0o600, f"{path.name} is {mode(path):o}"


async def test_database_alone_cannot_tie_a_ballot_to_a_member(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Stored events and snapshots hold no ballot in the clear; a restart still works.

    Pat's objection reason appears nowhere in the database files, every stored
    ballot_cast carries a sealed ballot only, and after a restart Pat still sees
    and can change their own ballot.
    """
    data = tmp_path / "data"
    relay = await relay_factory(data_dir=data, snapshot_every=2)
    fac, pat, vote_id = await anonymous_consent(relay)
    for path in data.glob("accord.sqlite3*"):
        assert REASON.encode() not in path.read_bytes(), path.name
    db = sqlite3.connect(data / "accord.sqlite3")
    blobs = [bytes(b) for (b,) in db.execute("SELECT blob FROM events")]
    snapshots = [bytes(b) for (b,) in db.execute("SELECT blob FROM snapshots")]
    db.close()
    casts = [e["body"] for e in map(msgpack.unpackb, blobs) if e["body"]["k"] == "ballot_cast"]
    assert casts and all(c["ballot"] is None and c["sealed"] for c in casts)
    assert snapshots
    for snap in map(msgpack.unpackb, snapshots):
        vote = snap["votes"].get(vote_id)
        assert vote is None or (vote["ballots"] == {} and vote["sealed"])
    await relay.close()
    again = await relay_factory(data_dir=data, snapshot_every=2)
    back = await pat.resume(again.url)
    assert back.session is not None
    assert back.session.votes[vote_id].ballots[back.member_id].reason == REASON
    await back.ok(C.Cast(vote_id=vote_id, marks={"proposal": 2}))
    fac_back = await fac.resume(again.url)
    await fac_back.ok(C.RevealVote(vote_id=vote_id))
    assert fac_back.session is not None
    revealed = fac_back.session.votes[vote_id]
    assert [b.marks for b in revealed.anon_ballots] == [{"proposal": 2}]
    assert not revealed.ballots or set(revealed.ballots) == {fac_back.member_id}


async def test_a_wrong_ballot_key_is_a_clear_error(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """A ballot key file that is not a key stops the relay at start with one line naming it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "ballot.key").write_text("not a key\n")
    try:
        await relay_factory(data_dir=data)
    except StartError as exc:
        assert "ballot.key" in str(exc) and "not a ballot key" in str(exc)
    else:
        raise AssertionError("the relay started with a broken ballot key")


async def test_a_session_whose_key_changed_is_refused_not_garbled(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """With a different key, a session with sealed ballots does not load: clients get 1011."""
    data = tmp_path / "data"
    relay = await relay_factory(data_dir=data)
    fac, _, _ = await anonymous_consent(relay)
    await relay.close()
    (data / "ballot.key").unlink()  # lost: the next start makes a new, different key
    again = await relay_factory(data_dir=data)
    client = await WireClient.open(again.url)
    await client.send(Hello(token=fac.token, last_seq=fac.seq, epoch=fac.epoch))
    assert await client.closed() == CloseCode.INTERNAL


def test_sealed_values_open_only_with_their_key_and_context(tmp_path: Path) -> None:
    """A sealed value opens only with its key and context; a flipped bit fails too."""
    from accord.server.sealing import Sealer, SealError

    one, two = Sealer(tmp_path / "one.key"), Sealer(tmp_path / "two.key")
    one.load()
    two.load()
    assert mode(tmp_path / "one.key") == 0o600
    sealed = one.seal(b"marks", "ctx")
    assert one.open(sealed, "ctx") == b"marks"
    assert len(sealed) == len(one.seal(b"other marks", "ctx"))  # padded: sizes say little
    damaged = sealed[:30] + ("A" if sealed[30] != "A" else "B") + sealed[31:]
    for text, key, context in ((sealed, two, "ctx"), (sealed, one, "other"), (damaged, one, "ctx")):
        try:
            key.open(text, context)
        except SealError:
            continue
        raise AssertionError("a sealed value opened where it must not")
