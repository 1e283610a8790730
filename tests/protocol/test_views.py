"""Per-member views: hidden, live and anonymous votes, op ids and snapshots."""

from __future__ import annotations

import msgpack
from accord.protocol import codec, reducer, views
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.model import Ballot, Session
from protocol_support import Board, Roster, plain, roundtrip, seeded_board


def _classify_board(*, hidden: bool, anonymous: bool) -> tuple[Board, Roster, str, str]:
    """A board in Needs with a classify vote open; returns it, the cast, vote id and a need id."""
    board, cast = seeded_board("needs")
    need = next(iter(board.session.needs))
    vote = board.new_id(
        board.do(cast.facilitator, C.OpenVote(kind="classify", hidden=hidden, anonymous=anonymous))
    )
    return board, cast, vote, need


def _sent(board: Board, event: E.Event, viewer: str) -> E.Event:
    """The event as ``viewer`` receives it, after the wire."""
    projected, _ = views.project_event(board.session, event, viewer)
    return roundtrip(projected)


def test_hidden_ballots_reach_only_their_caster() -> None:
    """Before the reveal a hidden ballot goes only to its caster; others learn only who voted."""
    board, cast, vote, need = _classify_board(hidden=True, anonymous=False)
    ada, bo = cast.participants[:2]
    (event,) = board.do(ada, C.Cast(vote_id=vote, marks={need: 2}))
    assert _sent(board, event, ada).body == event.body
    for other in (bo, cast.facilitator, cast.observer, cast.partner):
        body = _sent(board, event, other).body
        assert isinstance(body, E.BallotCast)
        assert (body.member_id, body.ballot, body.anon_ballots) == (ada, None, None)
        view = views.project_session(board.session, other)
        assert view.votes[vote].ballots == {}
        # One need of three: an incomplete ballot shows as progress, not as a vote.
        assert view.votes[vote].voters == []
        assert view.votes[vote].progress == {ada: 1}
    assert views.project_session(board.session, ada).votes[vote].ballots == {
        ada: Ballot(marks={need: 2})
    }


def test_reveal_shows_every_ballot_by_member() -> None:
    """Revealing a hidden, named vote sends every ballot keyed by member to everyone."""
    board, cast, vote, need = _classify_board(hidden=True, anonymous=False)
    ada, bo = cast.participants[:2]
    board.do(ada, C.Cast(vote_id=vote, marks={need: 2}))
    board.do(bo, C.Cast(vote_id=vote, marks={need: 0}))
    (reveal,) = board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    body = _sent(board, reveal, cast.observer).body
    assert isinstance(body, E.VoteRevealed)
    assert body.ballots == {ada: Ballot(marks={need: 2}), bo: Ballot(marks={need: 0})}
    assert body.anon_ballots is None
    assert reveal.body == E.VoteRevealed(vote_id=vote)  # the log itself carries no ballots


def test_live_votes_show_ballots_as_they_arrive() -> None:
    """In an open (live) named vote every ballot goes to every member (not the partner) at once."""
    board, cast, vote, need = _classify_board(hidden=False, anonymous=False)
    (event,) = board.do(cast.participants[0], C.Cast(vote_id=vote, marks={need: 1}))
    for viewer in (cast.participants[1], cast.observer):
        assert _sent(board, event, viewer).body == event.body
    partner = _sent(board, event, cast.partner).body
    assert isinstance(partner, E.BallotCast) and partner.ballot is None


def test_anonymous_votes_asked_live_send_only_who_voted() -> None:
    """An anonymous vote asked to be live still sends others only who voted, never rows."""
    board, cast, vote, need = _classify_board(hidden=False, anonymous=True)
    ada, bo = cast.participants[:2]
    board.do(ada, C.Cast(vote_id=vote, marks={need: 2}))
    (event,) = board.do(bo, C.Cast(vote_id=vote, marks={need: 1}))
    for viewer in (ada, cast.observer):
        body = _sent(board, event, viewer).body
        assert isinstance(body, E.BallotCast)
        assert body.member_id == bo
        assert body.ballot is None and body.anon_ballots is None
        view = views.project_session(board.session, viewer)
        assert set(view.votes[vote].ballots) <= {viewer}
        assert view.votes[vote].anon_ballots == []
    mine = _sent(board, event, bo).body
    assert isinstance(mine, E.BallotCast) and mine.ballot == Ballot(marks={need: 1})


def test_anonymous_reveal_carries_no_identity() -> None:
    """Revealing an anonymous vote sends rows only; no member id keys a ballot, even after."""
    board, cast, vote, need = _classify_board(hidden=True, anonymous=True)
    ada, bo, cy = cast.participants
    board.do(ada, C.Cast(vote_id=vote, marks={need: 2}))
    board.do(bo, C.Cast(vote_id=vote, marks={need: 0}))
    (reveal,) = board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    for viewer in (ada, cy, cast.facilitator, cast.observer):
        projected, key = views.project_event(board.session, reveal, viewer)
        assert key.startswith("anon")
        frame = msgpack.unpackb(codec.encode(projected))
        assert frame["body"]["ballots"] is None
        assert frame["body"]["anon_ballots"] == [
            {"marks": {need: 0}, "reason": ""},
            {"marks": {need: 2}, "reason": ""},
        ]
        view = views.project_session(board.session, viewer)
        assert set(view.votes[vote].ballots) <= {viewer}


def test_anonymous_rows_do_not_follow_casting_order() -> None:
    """Anonymous rows come in a canonical order, whoever voted first."""
    ballots = {"m2": Ballot(marks={"n1": 2}), "m3": Ballot(marks={"n1": 0})}
    board, _, vote, _ = _classify_board(hidden=True, anonymous=True)
    one = board.session.votes[vote]
    one.ballots = dict(ballots)
    first = views.anonymous_ballots(one)
    one.ballots = dict(reversed(ballots.items()))
    assert views.anonymous_ballots(one) == first == [Ballot({"n1": 0}), Ballot({"n1": 2})]


def test_op_ids_go_only_to_the_sender() -> None:
    """Only the member whose command caused an event receives its op id."""
    board, cast = seeded_board(None)
    ada = cast.participants[0]
    (event,) = board.do(ada, C.AddCard(lane="value", text="cheaper"), op="ada-1")
    mine, key = views.project_event(board.session, event, ada)
    assert mine.op == "ada-1" and key.endswith("|op")
    theirs, key = views.project_event(board.session, event, cast.observer)
    assert theirs.op == "" and key == views.EVERYONE
    assert views.project_session(board.session, cast.observer).ops == {}
    assert views.project_session(board.session, ada).ops == {ada: {"ada-1": event.seq}}


def test_same_variant_key_means_same_bytes() -> None:
    """Members given the same variant key receive byte-identical frames."""
    board, cast, vote, need = _classify_board(hidden=True, anonymous=False)
    (event,) = board.do(cast.participants[0], C.Cast(vote_id=vote, marks={need: 2}))
    frames: dict[str, set[bytes]] = {}
    for viewer in cast.everyone:
        projected, key = views.project_event(board.session, event, viewer)
        frames.setdefault(key, set()).add(codec.encode(projected))
    assert all(len(group) == 1 for group in frames.values())
    assert set(frames) == {"self|op", "who"}


def test_snapshots_are_copies() -> None:
    """A projected snapshot shares nothing the viewer could change on the relay's session."""
    board, cast, vote, need = _classify_board(hidden=False, anonymous=False)
    board.do(cast.participants[0], C.Cast(vote_id=vote, marks={need: 2}))
    before = plain(board.session)
    view = views.project_session(board.session, cast.observer)
    view.votes[vote].ballots[cast.participants[0]].marks[need] = 0
    view.members[cast.facilitator].ready = True
    view.needs[need].text = "changed"
    assert plain(board.session) == before


def test_welcome_snapshot_plus_events_equals_later_snapshot() -> None:
    """A member who applies every event to their welcome snapshot ends at a fresh projection."""
    board, cast, vote, need = _classify_board(hidden=True, anonymous=False)
    bo = cast.participants[1]
    view: Session = views.project_session(board.session, bo)
    board.listeners.append(lambda event: reducer.apply_event(view, _sent(board, event, bo)))
    board.do(cast.participants[0], C.Cast(vote_id=vote, marks={need: 2}))
    board.do(bo, C.Cast(vote_id=vote, marks={need: 1}))
    assert set(view.votes[vote].ballots) == {bo}
    board.do(cast.facilitator, C.RevealVote(vote_id=vote))
    assert plain(view) == plain(views.project_session(board.session, bo))
    assert len(view.votes[vote].ballots) == 2
