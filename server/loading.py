"""Rebuilding a stored session in memory: its snapshot plus a replay of the events after it."""

from __future__ import annotations

from dataclasses import dataclass

from accord.protocol import reducer
from accord.protocol.events import Event, SessionCreated
from accord.protocol.model import Session

from .sealing import Sealer
from .store import SessionInfo, Store, StoredEvent, StoreError, decode_event


@dataclass(slots=True)
class Loaded:
    """A stored session rebuilt in memory, and how it was rebuilt."""

    info: SessionInfo
    session: Session
    intact: bool  # False if the log had a hole or ended before the stored seq
    snapshot_seq: int
    tail: list[StoredEvent]


async def read_session(
    store: Store, session_id: str, sealer: Sealer | None = None
) -> Loaded | None:
    """Rebuild a stored session: its snapshot plus a replay of the events after it.

    ``sealer`` opens sealed ballots in the events (the store opens its snapshot's).

    Raises:
        StoreError: if it cannot be read or rebuilt at all.
    """
    info = await store.info(session_id)
    if info is None:
        return None
    snapshot = await store.snapshot(session_id)
    base = snapshot.seq if snapshot is not None else 0
    tail = await store.events_after(session_id, base)
    events: list[Event] = []
    expected = base + 1
    intact = True
    for stored in tail:
        if stored.seq != expected:
            intact = False  # a hole: what follows it cannot be applied
            break
        events.append(decode_event(stored.blob, sealer))
        expected += 1
    if snapshot is None:
        if not events or not isinstance(events[0].body, SessionCreated):
            raise StoreError(
                f"session {session_id}: neither a snapshot nor the start of its log is stored"
            )
        session = reducer.replay(session_id, events)
    else:
        session = snapshot
        for event in events:
            reducer.apply_event(session, event)
    # Another relay may have appended since the summary was read: more is fine, less is not.
    intact = intact and session.seq >= info.seq
    return Loaded(info, session, intact, base, tail)
