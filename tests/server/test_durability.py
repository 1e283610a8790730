"""The durability setting, and what the relay does when its store went back in time."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.server import checkpoint
from accord.server.config import ConfigError, load_config
from accord.server.runs import boot_id
from accord.server.storage import SqliteStore
from accord.server.store import Append, SessionInfo, StoredEvent
from server_support import RelayProcess, WireClient, free_port, same_board


def test_durability_is_checked_and_defaults_to_disk() -> None:
    """``durability`` defaults to disk, accepts process, and refuses anything else in one line."""
    assert load_config(None, {}).durability == "disk"
    assert load_config(None, {"durability": "process"}).durability == "process"
    with pytest.raises(ConfigError, match="durability: expected one of disk, process"):
        load_config(None, {"durability": "sometimes"})


@pytest.mark.parametrize(("mode", "level"), [("disk", 2), ("process", 1), (None, 2)])
async def test_durability_sets_synchronous(tmp_path: Path, mode: str | None, level: int) -> None:
    """disk commits with synchronous=FULL, process with NORMAL, both in WAL mode."""
    store = SqliteStore(tmp_path / "a.sqlite3", durability=mode)
    await store.open()
    try:

        def pragmas(db: sqlite3.Connection) -> tuple[int, str]:
            sync = db.execute("PRAGMA synchronous").fetchone()[0]
            return int(sync), str(db.execute("PRAGMA journal_mode").fetchone()[0])

        assert await store._run(pragmas) == (level, "wal")
    finally:
        await store.close()


def _stored(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, epoch FROM sessions").fetchall())


async def test_os_crash_under_process_mode_renews_every_epoch(tmp_path: Path) -> None:
    """After a process-mode run that ended with the OS (another boot id), every epoch changes."""
    path = tmp_path / "data" / "accord.sqlite3"
    relay = RelayProcess(path.parent, free_port(), "--durability", "process")
    await asyncio.to_thread(relay.start)
    try:
        fac = await WireClient.create(relay.url)
    finally:
        await asyncio.to_thread(relay.stop, signal.SIGKILL)
    before = _stored(path)
    assert fac.session is not None and before == {fac.session.id: fac.epoch}

    # Same boot: a kill -9 loses nothing committed under process mode, so epochs stay.
    same = SqliteStore(path, durability="process")
    await same.open()
    await same.close()
    assert same.renewed == 0 and _stored(path) == before

    with sqlite3.connect(path) as db:  # as if the machine went down during the run
        db.execute("UPDATE relay_state SET value = 'an-earlier-boot' WHERE key = 'boot'")
        db.execute("UPDATE relay_state SET value = '0' WHERE key = 'clean'")
    crashed = SqliteStore(path, durability="disk")
    await crashed.open()
    await crashed.close()
    assert crashed.renewed == 1
    after = _stored(path)
    assert after.keys() == before.keys() and after != before
    assert boot_id() != "an-earlier-boot"


async def test_client_ahead_of_a_truncated_log_gets_a_new_epoch(tmp_path: Path) -> None:
    """A resume ahead of the stored log renews the epoch: snapshots for all, never a replay."""
    data = tmp_path / "data"
    relay = RelayProcess(data, free_port(), "--durability", "process")
    await asyncio.to_thread(relay.start)
    try:
        fac = await WireClient.create(relay.url)
        lee = await WireClient.join(relay.url, fac.secrets.participant_code, "Lee")
        pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
        lee_behind = await lee.resume()  # Lee's copy stops here, below the cut
        await lee.close()
        for n in range(8):
            await pat.ok(C.AddCard(lane="value", text=f"card {n}"))
        await fac.catch_up(pat.seq)
        epoch, seq = fac.epoch, fac.seq
        await asyncio.to_thread(relay.stop, signal.SIGTERM)
    finally:
        if relay.proc is not None and relay.proc.poll() is None:
            await asyncio.to_thread(relay.stop, signal.SIGKILL)

    cut = seq - 3  # the store loses its last three events, as after an OS crash
    with sqlite3.connect(data / "accord.sqlite3") as db:
        db.execute("DELETE FROM events WHERE seq > ?", (cut,))
        db.execute("DELETE FROM snapshots WHERE seq > ?", (cut,))
        db.execute("UPDATE sessions SET seq = ?", (cut,))

    await asyncio.to_thread(relay.start)
    try:
        lee2 = await lee_behind.resume()  # behind the cut, same epoch: a plain replay
        assert lee2.welcome is not None and lee2.welcome.mode == "replay"
        assert lee2.welcome.epoch == epoch and lee2.welcome.seq == cut > lee_behind.seq
        await lee2.catch_up(cut)

        fac2 = await fac.resume()  # ahead of the store in the same epoch
        assert fac2.welcome is not None and fac2.welcome.mode == "snapshot"
        assert fac2.welcome.epoch != epoch and fac2.seq == cut
        assert await lee2.closed() == 1011  # told to resume, so it gets a snapshot too

        lee3 = await lee2.resume()
        pat2 = await pat.resume()
        for client in (lee3, pat2):
            assert client.welcome is not None and client.welcome.mode == "snapshot"
            assert client.epoch == fac2.epoch and client.seq == cut
        await pat2.ok(C.AddCard(lane="value", text="after the cut"))
        await fac2.catch_up(pat2.seq)
        await lee3.catch_up(pat2.seq)
        assert fac2.session is not None and pat2.session is not None
        texts = sorted(c.text for c in fac2.session.cards.values())
        assert "after the cut" in texts and len(texts) == 6
        assert same_board(pat2.session, pat2)
    finally:
        await asyncio.to_thread(relay.stop, signal.SIGKILL)


async def test_checkpoints_run_beside_the_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The WAL is copied into the database by the checkpoint thread, never by a commit."""
    monkeypatch.setattr(checkpoint, "WAL_LIMIT", 64 * 1024)
    path = tmp_path / "accord.sqlite3"
    store = SqliteStore(path, durability="process")
    await store.open()
    try:

        def autocheckpoint(db: sqlite3.Connection) -> int:
            return int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

        assert await store._run(autocheckpoint) == 0
        before = path.stat().st_size
        info = SessionInfo(id="s1", epoch="e1", question="?", created_at=0.0, seq=2)
        first = [StoredEvent(1, b"x" * 200), StoredEvent(2, b"y" * 200)]
        await store.create(Append("s1", 0, first, info))
        for n in range(40):  # ~200 KiB of events in 40 group commits
            seq = 2 + n * 25
            events = [StoredEvent(seq + k, b"z" * 200) for k in range(1, 26)]
            info.seq = seq + 25
            assert await store.append([Append("s1", seq, events, info)]) == [True]
        deadline = asyncio.get_running_loop().time() + 5
        while store._checkpointer is not None and store._checkpointer.runs == 0:
            assert asyncio.get_running_loop().time() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.05)
        assert path.stat().st_size > before + 64 * 1024  # pages reached the main file
        assert len(await store.events_after("s1", 0)) == 2 + 40 * 25
    finally:
        await store.close()
