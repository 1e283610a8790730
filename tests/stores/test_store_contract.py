"""One contract, two stores: the same cases run against SQLite and a real Redis."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest
from accord.protocol import commands as C
from accord.protocol import reducer, rules
from accord.protocol.events import Event
from accord.protocol.model import Session
from accord.server import credentials
from accord.server.config import ServerConfig
from accord.server.loading import read_session
from accord.server.redis_store import RedisStore
from accord.server.store import (
    Append,
    Claimed,
    Grant,
    SessionCapReached,
    SessionInfo,
    Store,
    StoredEvent,
    encode_event,
    encode_session,
)
from redis_support import RedisServer

CAPS = ServerConfig().caps


@dataclass
class Draft:
    """A session built as the relay builds one, with what was stored for it."""

    session: Session
    epoch: str
    member_id: str
    key: str  # the facilitator's secret digest
    code: str = ""  # the participant code's digest


def _summary(session: Session, epoch: str, at: float) -> SessionInfo:
    return SessionInfo(
        id=session.id,
        epoch=epoch,
        question=session.question,
        created_at=session.created_at,
        updated_at=at,
        seq=session.seq,
        phase=session.phase,
        members=len(session.members),
        closed=session.closed,
    )


async def new_session(
    store: Store, question: str = "Pick a tool?", at: float = 0.0, max_sessions: int = 0
) -> Draft:
    """Create a session with its facilitator in ``store``, as the hub does."""
    at = at or time.time()
    sid = credentials.new_session_id()
    created = rules.create_session(question, at)
    draft = reducer.replay(sid, [Event(seq=1, at=at, by="relay", body=created)])
    joined = rules.join(draft, "Fay", "facilitator", "", at, CAPS)
    mid = joined.member.id
    events = [
        Event(seq=1, at=at, by=mid, body=created),
        Event(seq=2, at=at, by=mid, body=joined),
    ]
    session = reducer.replay(sid, events)
    epoch = credentials.new_epoch()
    key = credentials.digest(credentials.new_token())
    code = credentials.digest(credentials.new_code())
    grants = [(key, Grant(sid, "facilitator", mid)), (code, Grant(sid, "participant"))]
    blobs = [StoredEvent(e.seq, encode_event(e)) for e in events]
    append = Append(sid, 0, blobs, _summary(session, epoch, at), grants)
    await store.create(append, max_sessions=max_sessions)
    return Draft(session, epoch, mid, key, code)


def add_cards(draft: Draft, texts: list[str], snapshot: bool = False) -> Append:
    """Apply AddCard commands to the draft; the append that stores them."""
    start = draft.session.seq
    stored = []
    for text in texts:
        now = time.time()
        for body in rules.decide(
            draft.session, draft.member_id, C.AddCard(lane="value", text=text), now, CAPS
        ):
            event = Event(seq=draft.session.seq + 1, at=now, by=draft.member_id, body=body)
            stored.append(StoredEvent(event.seq, encode_event(event)))
            reducer.apply_event(draft.session, event)
    append = Append(
        draft.session.id, start, stored, _summary(draft.session, draft.epoch, time.time())
    )
    if snapshot:
        append.snapshot = StoredEvent(draft.session.seq, encode_session(draft.session))
    return append


async def test_create_then_read_everything_back(store: Store) -> None:
    """A created session reads back: summary, log, grants, listing and count."""
    draft = await new_session(store)
    info = await store.info(draft.session.id)
    assert info is not None and (info.seq, info.epoch, info.members) == (2, draft.epoch, 1)
    assert info.question == "Pick a tool?" and not info.closed
    assert [e.seq for e in await store.events_after(draft.session.id, 0)] == [1, 2]
    assert await store.snapshot(draft.session.id) is None
    assert await store.grant(draft.key) == Grant(draft.session.id, "facilitator", draft.member_id)
    assert await store.grant(credentials.digest("nothing")) is None
    assert [s.id for s in await store.sessions()] == [draft.session.id]
    assert await store.count() == 1
    assert await store.writable()


async def test_append_needs_the_expected_seq(store: Store) -> None:
    """An append lands only at the seq it expects; a stale one changes nothing."""
    draft = await new_session(store)
    first = add_cards(draft, ["a", "b"])
    assert await store.append([first]) == [True]
    stale = Append(draft.session.id, 2, first.events, first.summary)  # a lost race
    assert await store.append([stale]) == [False]
    stored = await store.events_after(draft.session.id, 0)
    assert [e.seq for e in stored] == [1, 2, 3, 4]
    assert [e.blob for e in stored[2:]] == [e.blob for e in first.events]
    info = await store.info(draft.session.id)
    assert info is not None and info.seq == 4
    loaded = await read_session(store, draft.session.id)
    assert loaded is not None and loaded.intact
    assert sorted(c.text for c in loaded.session.cards.values()) == ["a", "b"]


async def test_a_batch_commits_each_session_on_its_own(store: Store) -> None:
    """In one batch a stale entry fails alone; the other sessions' entries land."""
    one, two = await new_session(store), await new_session(store)
    good = add_cards(one, ["x"])
    bad = add_cards(two, ["y"])
    bad.expected_seq = 7
    gone = add_cards(await new_session(store), ["z"])
    assert await store.delete(gone.session_id)
    assert await store.append([good, bad, gone]) == [True, False, False]
    assert [e.seq for e in await store.events_after(one.session.id, 2)] == [3]
    assert await store.events_after(two.session.id, 2) == []


async def test_a_taken_credential_refuses_the_create(store: Store) -> None:
    """A create whose credential already grants something is refused and stores nothing."""
    draft = await new_session(store)
    session = draft.session
    grant = (draft.key, Grant("other", "facilitator", "m9"))
    events = await store.events_after(session.id, 0)
    summary = _summary(session, draft.epoch, time.time())
    summary.id = "s-other"
    with pytest.raises(Claimed):
        await store.create(Append("s-other", 0, events, summary, [grant]))
    assert await store.info("s-other") is None
    assert await store.count() == 1
    assert await store.grant(draft.key) == Grant(session.id, "facilitator", draft.member_id)


async def test_grants_added_by_an_append(store: Store) -> None:
    """A join's credential commits with its events, and only if the append lands."""
    draft = await new_session(store)
    append = add_cards(draft, ["a"])
    append.grants = [(credentials.digest("tok"), Grant(draft.session.id, "participant", "m2"))]
    late = (credentials.digest("t2"), Grant(draft.session.id, "participant", "m3"))
    stale = Append(append.session_id, 0, [], append.summary, [late])
    assert await store.append([append, stale]) == [True, False]
    assert await store.grant(credentials.digest("tok")) == Grant(
        draft.session.id, "participant", "m2"
    )
    assert await store.grant(credentials.digest("t2")) is None


async def test_snapshot_and_restart_from_it(store: Store) -> None:
    """A stored snapshot is read back, and a load replays only the events after it."""
    draft = await new_session(store)
    assert await store.append([add_cards(draft, ["a", "b"], snapshot=True)]) == [True]
    assert await store.append([add_cards(draft, ["c"])]) == [True]
    snap = await store.snapshot(draft.session.id)
    assert snap is not None and snap.seq == 4
    loaded = await read_session(store, draft.session.id)
    assert loaded is not None and loaded.intact and loaded.snapshot_seq == 4
    assert [e.seq for e in loaded.tail] == [5]
    assert sorted(c.text for c in loaded.session.cards.values()) == ["a", "b", "c"]


async def test_reset_cuts_the_log_and_changes_the_epoch(store: Store) -> None:
    """reset gives a new epoch and cuts the log and snapshot; appends go on from there."""
    draft = await new_session(store)
    assert await store.append([add_cards(draft, ["a", "b"], snapshot=True)]) == [True]
    await store.reset(draft.session.id, "e-new", 3)
    info = await store.info(draft.session.id)
    assert info is not None and (info.epoch, info.seq) == ("e-new", 3)
    assert [e.seq for e in await store.events_after(draft.session.id, 0)] == [1, 2, 3]
    assert await store.snapshot(draft.session.id) is None
    loaded = await read_session(store, draft.session.id)
    assert loaded is not None and loaded.intact and loaded.session.seq == 3
    draft.session, draft.epoch = loaded.session, "e-new"
    again = add_cards(draft, ["b again"])
    assert again.events[0].seq == 4
    assert await store.append([again]) == [True]
    stale_epoch = add_cards(draft, ["old epoch"])
    stale_epoch.summary.epoch = "e-gone"
    assert await store.append([stale_epoch]) == [False]
    assert [e.seq for e in await store.events_after(draft.session.id, 3)] == [4]


async def test_delete_removes_everything(store: Store) -> None:
    """delete removes the session, its log, snapshot and credentials, once."""
    keep, drop = await new_session(store), await new_session(store)
    assert await store.append([add_cards(drop, ["a"], snapshot=True)]) == [True]
    assert await store.delete(drop.session.id)
    assert not await store.delete(drop.session.id)
    assert await store.info(drop.session.id) is None
    assert await store.events_after(drop.session.id, 0) == []
    assert await store.snapshot(drop.session.id) is None
    assert await store.grant(drop.key) is None
    assert [s.id for s in await store.sessions()] == [keep.session.id]
    assert await store.count() == 1


async def test_listing_is_most_recent_first(store: Store) -> None:
    """sessions() lists every session, the most recently active first."""
    old = await new_session(store, "old", at=1000.0)
    new = await new_session(store, "new", at=2000.0)
    assert [s.id for s in await store.sessions()] == [new.session.id, old.session.id]
    touched = add_cards(old, ["late"])
    touched.summary.updated_at = 3000.0
    assert await store.append([touched]) == [True]
    listed = await store.sessions()
    assert [s.id for s in listed] == [old.session.id, new.session.id]
    assert listed[0].seq == 3 and listed[0].question == "old"


async def test_cap_is_checked_in_the_create(store: Store) -> None:
    """With a cap, the store refuses a create past it atomically, even when creates race."""
    results = await asyncio.gather(
        *(new_session(store, max_sessions=3) for _ in range(8)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 3
    assert all(isinstance(r, SessionCapReached) for r in results if isinstance(r, BaseException))
    assert await store.count() == 3


async def test_redis_reads_a_long_log_in_pages(redis_server: RedisServer) -> None:
    """A log longer than one XRANGE page reads back whole and in order."""
    store = RedisStore(redis_server.url)
    await store.client.flushall()
    try:
        draft = await new_session(store)
        summary = _summary(draft.session, draft.epoch, time.time())
        for start in range(2, 1202, 300):
            events = [StoredEvent(s + 1, b"blob%d" % (s + 1)) for s in range(start, start + 300)]
            summary.seq = events[-1].seq
            assert await store.append([Append(draft.session.id, start, events, summary)]) == [True]
        stored = await store.events_after(draft.session.id, 1)
        assert [e.seq for e in stored] == list(range(2, 1203))
        assert stored[-1].blob == b"blob1202"
    finally:
        await store.close()


async def test_redis_batch_survives_a_flushed_script_cache(redis_server: RedisServer) -> None:
    """After Redis forgot its scripts (a restart), a batch of appends still commits."""
    store = RedisStore(redis_server.url)
    await store.client.flushall()
    try:
        one, two = await new_session(store), await new_session(store)
        await store.client.script_flush()
        assert await store.append([add_cards(one, ["a"]), add_cards(two, ["b"])]) == [True, True]
        assert [e.seq for e in await store.events_after(two.session.id, 2)] == [3]
    finally:
        await store.close()


async def test_stale_lists_the_sessions_untouched_since(store: Store) -> None:
    """stale returns sessions whose last change is older than the bound, oldest first."""
    old = await new_session(store, "old", at=1000.0)
    mid = await new_session(store, "mid", at=2000.0)
    await new_session(store, "new", at=5000.0)
    assert [s.id for s in await store.stale(3000.0, 10)] == [old.session.id, mid.session.id]
    assert [s.id for s in await store.stale(3000.0, 1)] == [old.session.id]
    touched = add_cards(old, ["late"])
    touched.summary.updated_at = 4000.0
    assert await store.append([touched]) == [True]
    assert [s.id for s in await store.stale(3000.0, 10)] == [mid.session.id]
    assert await store.stale(500.0, 10) == []


async def test_compaction_drops_events_behind_the_snapshot(store: Store) -> None:
    """An append with compact_below deletes older events; a load from the snapshot is whole."""
    draft = await new_session(store)
    assert await store.append([add_cards(draft, ["a", "b", "c"])]) == [True]
    squeeze = add_cards(draft, ["d"], snapshot=True)
    squeeze.compact_below = 4
    assert await store.append([squeeze]) == [True]
    assert [e.seq for e in await store.events_after(draft.session.id, 0)] == [4, 5, 6]
    loaded = await read_session(store, draft.session.id)
    assert loaded is not None and loaded.intact and loaded.session.seq == 6
    assert sorted(c.text for c in loaded.session.cards.values()) == ["a", "b", "c", "d"]


async def test_revocations_apply_before_new_grants(store: Store) -> None:
    """revoke_members and revoke_codes remove those credentials; grants in the same append stay."""
    draft = await new_session(store)
    sid = draft.session.id
    pat, lee = credentials.digest("pat-token"), credentials.digest("lee-token")
    join = add_cards(draft, ["a"])
    join.grants = [(pat, Grant(sid, "participant", "m2")), (lee, Grant(sid, "participant", "m3"))]
    assert await store.append([join]) == [True]
    assert await store.grant(draft.code) == Grant(sid, "participant")
    fresh = credentials.digest(credentials.new_code())
    rotate = add_cards(draft, ["b"])
    rotate.revoke_members = ["m2"]
    rotate.revoke_codes = True
    rotate.grants = [(fresh, Grant(sid, "participant"))]
    assert await store.append([rotate]) == [True]
    assert await store.grant(pat) is None and await store.grant(draft.code) is None
    assert await store.grant(lee) == Grant(sid, "participant", "m3")
    assert await store.grant(draft.key) == Grant(sid, "facilitator", draft.member_id)
    assert await store.grant(fresh) == Grant(sid, "participant")
    assert await store.delete(sid)
    assert await store.grant(fresh) is None and await store.grant(lee) is None


async def test_a_burst_of_calls_waits_for_connections_instead_of_failing(store: Store) -> None:
    """Far more concurrent reads than the store keeps connections all succeed (none refused)."""
    answers = await asyncio.gather(
        *(store.grant(credentials.digest(f"no-such-code-{n}")) for n in range(300))
    )
    assert answers == [None] * 300
