"""Retention: abandoned sessions expire (closed ones keep their record) and old events compact."""

from __future__ import annotations

import asyncio
from pathlib import Path

from accord.protocol import commands as C
from server_support import RelayFactory, WireClient, same_board


async def test_abandoned_sessions_expire_and_closed_ones_keep_their_record(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Sessions with no event past the retention go; a closed one's record stays on disk.

    A session someone is still connected to is not abandoned and stays.
    """
    data = tmp_path / "data"
    relay = await relay_factory(data_dir=data, expire_after_days=0.5 / 86400, idle_unload=0.1)
    closed = await WireClient.create(relay.url, question="Closed one?")
    await closed.ok(C.AddCard(lane="value", text="worth keeping"))
    await closed.ok(C.CloseSession())
    records = data / "records"
    closed_id = closed.welcome.session_id  # type: ignore[union-attr]
    for _ in range(200):  # the record written at close
        if (records / f"decision-{closed_id}.md").is_file():
            break
        await asyncio.sleep(0.02)
    (
        records / f"decision-{closed_id}.md"
    ).unlink()  # as if it had been lost: expiry writes it again
    await closed.close()
    abandoned = await WireClient.create(relay.url, question="Abandoned one?")
    await abandoned.close()
    live = await WireClient.create(relay.url, question="Still here?")
    for _ in range(400):
        if await relay.store.count() == 1:
            break
        await asyncio.sleep(0.02)
    assert [s.question for s in await relay.store.sessions()] == ["Still here?"]
    markdown = (records / f"decision-{closed_id}.md").read_text()
    assert "worth keeping" in markdown
    assert len(list(records.glob("*.md"))) == 1  # nothing written for the abandoned one
    await live.ok(C.AddCard(lane="value", text="alive"))


async def test_old_events_are_compacted_and_resume_still_works(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Events far behind the latest snapshot are gone; a restart resumes by replay or snapshot."""
    data = tmp_path / "data"
    settings = {"data_dir": data, "snapshot_every": 10, "replay_window": 5}
    relay = await relay_factory(**settings, rate_limit=1000.0, rate_burst=1000)
    fac = await WireClient.create(relay.url)
    behind = await WireClient.join(relay.url, fac.secrets.participant_code, "Behind")
    close = await WireClient.join(relay.url, fac.secrets.participant_code, "Close")
    behind_seq = behind.seq
    await behind.close()
    for n in range(60):
        await fac.ok(C.AddCard(lane="value", text=f"card {n}"))
    await close.catch_up(fac.seq)
    await close.close()
    for n in range(3):
        await fac.ok(C.AddCard(lane="value", text=f"missed {n}"))
    sid = fac.welcome.session_id  # type: ignore[union-attr]
    stored = await relay.store.events_after(sid, 0)
    assert stored[0].seq > behind_seq, "nothing was compacted"
    await relay.close()
    again = await relay_factory(**settings)
    host = await again.hub.get(sid)
    assert host is not None
    back = await behind.resume(again.url)  # far behind the kept events: a snapshot
    assert back.welcome is not None and back.welcome.mode == "snapshot"
    assert same_board(host.session, back)
    near = await close.resume(again.url)  # within the window: a replay
    assert near.welcome is not None and near.welcome.mode == "replay"
    await near.catch_up(host.session.seq)
    assert same_board(host.session, near)
