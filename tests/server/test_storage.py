"""The SQLite store on its own: group appends, stale writes, grants, snapshots, deletion."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.events import CardAdded, Event, SessionCreated
from accord.protocol.messages import Cmd, Hello
from accord.protocol.model import Card, new_session
from accord.server.storage import SqliteStore
from accord.server.store import (
    Append,
    Grant,
    SessionInfo,
    StoredEvent,
    decode_event,
    decode_session,
    encode_event,
    encode_session,
)
from server_support import RelayFactory, WireClient


def _event(seq: int, body: object) -> StoredEvent:
    return StoredEvent(seq, encode_event(Event(seq=seq, at=1.0, by="m1", body=body)))  # type: ignore[arg-type]


def _info(session_id: str, seq: int) -> SessionInfo:
    return SessionInfo(id=session_id, epoch="e1", question="Q?", created_at=1.0, seq=seq)


async def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "store" / "accord.sqlite3")
    await store.open()
    return store


async def test_create_append_read(tmp_path: Path) -> None:
    """A session's events come back in order, and a batch commits several sessions at once."""
    store = await _store(tmp_path)
    try:
        for sid in ("s1", "s2"):
            await store.create(
                Append(sid, 0, [_event(1, SessionCreated(question="Q?"))], _info(sid, 1))
            )
        card = CardAdded(card=Card(id="c1", lane="value", text="hi", author="m1"))
        done = await store.append(
            [
                Append("s1", 1, [_event(2, card)], _info("s1", 2)),
                Append("s2", 1, [_event(2, card), _event(3, card)], _info("s2", 3)),
            ]
        )
        assert done == [True, True]
        events = await store.events_after("s2", 1)
        assert [e.seq for e in events] == [2, 3]
        assert decode_event(events[0].blob).body == card
        assert [i.id for i in await store.sessions()] and await store.count() == 2
    finally:
        await store.close()


async def test_stale_append_is_refused(tmp_path: Path) -> None:
    """A stale append writes nothing and reports False; the rest of its batch commits."""
    store = await _store(tmp_path)
    try:
        for sid in ("s1", "s2"):
            await store.create(
                Append(sid, 0, [_event(1, SessionCreated(question="Q?"))], _info(sid, 1))
            )
        card = CardAdded(card=Card(id="c1", lane="value", text="hi", author="m1"))
        done = await store.append(
            [
                Append("s1", 0, [_event(2, card)], _info("s1", 2)),
                Append("s2", 1, [_event(2, card)], _info("s2", 2)),
                Append("gone", 0, [_event(1, card)], _info("gone", 1)),
            ]
        )
        assert done == [False, True, False]
        assert [e.seq for e in await store.events_after("s1", 0)] == [1]
        info = await store.info("s1")
        assert info is not None and info.seq == 1
    finally:
        await store.close()


async def test_grants_snapshots_delete(tmp_path: Path) -> None:
    """Grants are found by digest, snapshots round-trip, and delete removes everything."""
    store = await _store(tmp_path)
    try:
        session = new_session("s1", "Q?", 1.0)
        session.seq = 1
        grant = Grant("s1", "participant")
        await store.create(
            Append(
                "s1",
                0,
                [_event(1, SessionCreated(question="Q?"))],
                _info("s1", 1),
                grants=[("d" * 64, grant)],
                snapshot=StoredEvent(1, encode_session(session)),
            )
        )
        assert await store.grant("d" * 64) == grant
        assert await store.grant("e" * 64) is None
        assert await store.snapshot("s1") == session
        assert decode_session(encode_session(session)) == session
        assert await store.writable()
        assert await store.delete("s1")
        assert not await store.delete("s1")
        assert await store.grant("d" * 64) is None and await store.snapshot("s1") is None
    finally:
        await store.close()


async def test_wal_and_only_hashes_on_disk(relay_factory: RelayFactory) -> None:
    """The file is in WAL mode and holds no join code or token in clear text."""
    relay = await relay_factory()
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await pat.ok(C.AddCard(lane="value", text="hello"))
    raw = b""
    for path in relay.config.data_dir.iterdir():
        if path.is_file():
            raw += path.read_bytes()
    secrets = fac.secrets
    for secret in (secrets.facilitator_key, secrets.participant_code, pat.token):
        assert secret.replace("-", "").encode() not in raw
        assert secret.encode() not in raw
    with sqlite3.connect(relay.config.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_deleted_under_a_running_relay(relay_factory: RelayFactory) -> None:
    """A session deleted from the data dir while clients are on it closes them with 4004."""
    relay = await relay_factory()
    fac = await WireClient.create(relay.url)
    other = SqliteStore(relay.config.db_path)
    await other.open()
    try:
        assert fac.welcome is not None
        assert await other.delete(fac.welcome.session_id)
    finally:
        await other.close()
    await fac.send(Cmd(op="after-delete", c=C.AddCard(lane="value", text="too late")))
    assert await fac.closed() == CloseCode.SESSION_GONE
    again = await WireClient.open(relay.url)
    await again.send(Hello(token=fac.token, last_seq=fac.seq, epoch=fac.epoch))
    assert await again.closed() == CloseCode.UNAUTHORIZED


@pytest.mark.parametrize("count", [1, 3])
async def test_events_survive_reopen(tmp_path: Path, count: int) -> None:
    """Whatever append returned True for is there after closing and reopening the file."""
    store = await _store(tmp_path)
    await store.create(Append("s1", 0, [_event(1, SessionCreated(question="Q?"))], _info("s1", 1)))
    card = CardAdded(card=Card(id="c1", lane="value", text="hi", author="m1"))
    for n in range(count):
        assert await store.append([Append("s1", n + 1, [_event(n + 2, card)], _info("s1", n + 2))])
    await store.close()
    again = await _store(tmp_path)
    try:
        assert [e.seq for e in await again.events_after("s1", 0)] == list(range(1, count + 2))
    finally:
        await again.close()
