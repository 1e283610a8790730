"""The reducer: incremental application equals replay, from the start or from a snapshot."""

from __future__ import annotations

import contextlib

import pytest
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol import reducer
from accord.protocol.errors import Refusal
from accord.protocol.events import Event
from accord.protocol.model import PHASES, Ballot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_support import (
    Board,
    draw_step,
    from_plain,
    plain,
    roundtrip,
    seeded_board,
    standard_board,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_incremental_equals_replay_from_any_snapshot(data: st.DataObject) -> None:
    """Applying events one by one equals replaying the rest of the log on an earlier snapshot."""
    board = Board()
    snapshots = {board.session.seq: plain(board.session)}

    def keep(event: Event) -> None:
        snapshots.setdefault(event.seq, plain(board.session))

    board.listeners.append(keep)
    start = data.draw(st.sampled_from([None, *PHASES]), label="start")
    board, cast = seeded_board(start, board)
    steps = data.draw(st.integers(1, 60), label="steps")
    for _ in range(steps):
        member, command = draw_step(data, board.session, cast)
        with contextlib.suppress(Refusal):
            board.do(member, command)
        if board.session.closed:
            break
    final = plain(board.session)

    cut = data.draw(st.integers(1, len(board.log)), label="cut")
    restored = from_plain(snapshots[cut])
    assert restored.seq == cut
    for event in board.log[cut:]:
        reducer.apply_event(restored, roundtrip(event))
    assert plain(restored) == final

    replayed = reducer.replay(board.session.id, [roundtrip(e) for e in board.log])
    assert plain(replayed) == final


def test_replay_needs_session_created_first() -> None:
    """Replaying a log that does not start with session_created raises ValueError."""
    board, _ = standard_board()
    with pytest.raises(ValueError, match="session_created"):
        reducer.replay("s1", board.log[1:])
    with pytest.raises(ValueError):
        reducer.replay("s1", [])


def test_seq_follows_the_last_event() -> None:
    """After applying an event the session's seq is that event's seq."""
    board, cast = standard_board()
    before = board.session.seq
    (event,) = board.do(cast.facilitator, C.SetReady(ready=True))
    assert event.seq == before + 1 == board.session.seq


def test_events_are_not_changed_by_later_events() -> None:
    """Objects an event carries stay as they were: the session copies what it will change."""
    board, cast = standard_board()
    card = board.new_id(board.do(cast.facilitator, C.AddCard(lane="value", text="speed")))
    opened = board.do(cast.facilitator, C.OpenVote(kind="dots", hidden=True))
    vote_id = board.new_id(opened)
    (ada,) = board.do(cast.participants[0], C.Cast(vote_id=vote_id, marks={card: 2}))
    board.do(cast.facilitator, C.RevealVote(vote_id=vote_id))
    board.do(cast.facilitator, C.EditCard(card_id=card, text="more speed"))

    vote_opened = opened[0].body
    assert isinstance(vote_opened, E.VoteOpened)
    assert vote_opened.vote.ballots == {} and vote_opened.vote.voters == []
    assert vote_opened.vote.accepting and not vote_opened.vote.revealed
    card_added = next(e.body for e in board.log if isinstance(e.body, E.CardAdded))
    assert card_added.card.text == "speed"
    # ...and replaying the very same event objects gives the same session again.
    again = reducer.replay(board.session.id, board.log)
    assert plain(again) == plain(board.session)
    assert isinstance(ada.body, E.BallotCast)
    assert ada.body.ballot == Ballot(marks={card: 2})


def test_op_ids_are_remembered_per_member_with_a_bound() -> None:
    """The session remembers the latest 256 op ids per member and the seq that answered each."""
    board = Board()
    fran = board.join("Fran", "facilitator")
    seqs = []
    for i in range(300):
        (event,) = board.do(fran, C.SetReady(ready=bool(i % 2)), op=f"op{i}")
        seqs.append(event.seq)
    ops = board.session.ops[fran]
    assert len(ops) == 256
    assert ops["op299"] == seqs[299]
    assert "op43" not in ops and ops["op44"] == seqs[44]
    assert list(ops) == [f"op{i}" for i in range(44, 300)]
