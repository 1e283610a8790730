"""Bringing a resuming member up to date: replay the events it missed, or say a snapshot is due."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from accord.protocol import codec, views
from accord.protocol.events import BallotCast, Event, PartnerViewSet, VoteRevealed
from accord.protocol.model import Session

from .sealing import Sealer
from .store import StoredEvent, decode_event


def missed_events(
    recent: Iterable[StoredEvent],
    seq: int,
    epoch: str,
    last_seq: int,
    last_epoch: str,
    window: int,
) -> list[StoredEvent] | None:
    """The events after ``last_seq`` from the recent log, or None if a snapshot is due.

    A snapshot is due when the epoch differs, the client claims to be ahead, or it
    is further behind than the replay window (or than what the recent log holds).
    """
    if not last_epoch or last_epoch != epoch or last_seq > seq:
        return None
    if last_seq == seq:
        return []
    kept = list(recent)
    if not window or not kept:
        return None
    if last_seq + 1 < kept[0].seq or seq - last_seq > window:
        return None
    return [e for e in kept if e.seq > last_seq]


def partner_view_changed(stored: StoredEvent, sealer: Sealer | None = None) -> bool:
    """True when a stored event changed what the partner may see."""
    return isinstance(decode_event(stored.blob, sealer).body, PartnerViewSet)


def replay_frames(
    session: Session, missed: list[StoredEvent], member_id: str, sealer: Sealer | None = None
) -> list[bytes]:
    """The frames that bring ``member_id`` from before ``missed`` to ``session`` now.

    ``sealer`` opens the ballots sealed in the stored events.
    """
    events = [decode_event(stored.blob, sealer) for stored in missed]
    reveals = {e.body.vote_id: e.seq for e in events if isinstance(e.body, VoteRevealed)}
    frames = []
    for event in events:
        projected, _ = views.project_event(as_of(session, event, reveals), event, member_id)
        frames.append(codec.encode(projected))
    return frames


def as_of(session: Session, event: Event, reveals: dict[str, int]) -> Session:
    """The session to project a replayed event against.

    Replayed events are projected against the current session, except that
    a vote revealed later in the same replay is still secret for the
    ballots cast before its reveal, as it was when they were cast.
    """
    body = event.body
    if isinstance(body, BallotCast) and reveals.get(body.vote_id, 0) > event.seq:
        vote = session.votes.get(body.vote_id)
        if vote is not None:
            secret = dataclasses.replace(vote, revealed=False)
            return dataclasses.replace(session, votes={**session.votes, vote.id: secret})
    return session
