"""Per-recipient projections: what each member may see of the session and of each event.

A hidden vote's ballots are visible only to their caster until the reveal;
everyone sees *who* voted. Anonymous ballots never carry an identity to
anyone else, not even after the reveal: they travel as an unkeyed list in a
canonical order.
"""

from __future__ import annotations

import copy
import dataclasses

from . import events as E
from .model import Ballot, Session, Vote
from .partner import is_partner, partner_body, partner_session

#: Variant keys: recipients with the same key get byte-identical frames.
EVERYONE = "*"


def _canonical(ballot: Ballot) -> tuple[list[tuple[str, int]], str]:
    return sorted(ballot.marks.items()), ballot.reason


def anonymous_ballots(vote: Vote) -> list[Ballot]:
    """All ballots of a vote with no identity, sorted so order reveals nothing."""
    rows = [Ballot(marks=dict(b.marks), reason=b.reason) for b in vote.ballots.values()]
    rows.sort(key=_canonical)
    return rows


def can_see_ballots(vote: Vote, viewer_id: str) -> bool:
    """True when ``viewer_id`` may see other members' ballots keyed by member."""
    return vote.results_visible and not vote.anonymous


def project_vote(vote: Vote, viewer_id: str) -> Vote:
    """A copy of ``vote`` holding only what ``viewer_id`` may see."""
    own = vote.ballots.get(viewer_id)
    progress = dict(vote.progress)
    if can_see_ballots(vote, viewer_id):
        ballots = copy.deepcopy(vote.ballots)
        anon: list[Ballot] = []
    else:
        ballots = {viewer_id: copy.deepcopy(own)} if own is not None else {}
        anon = anonymous_ballots(vote) if vote.results_visible else []
        if vote.anonymous:
            progress = {m: _coarse(vote, m, d, viewer_id) for m, d in progress.items()}
    return dataclasses.replace(
        vote,
        voters=list(vote.voters),
        ballots=ballots,
        anon_ballots=anon,
        progress=progress,
        needs=copy.deepcopy(vote.needs),
        criteria=copy.deepcopy(vote.criteria),
        option_ids=list(vote.option_ids),
        eligible=list(vote.eligible),
    )


def _coarse(vote: Vote, member_id: str, done: int, viewer_id: str) -> int:
    """In an anonymous vote others see only whether a ballot is complete, not how far it got
    (a count could later match an anonymous row to its caster)."""
    if member_id == viewer_id or member_id in vote.voters:
        return done
    return 0


def project_session(session: Session, viewer_id: str) -> Session:
    """A deep copy of ``session`` as ``viewer_id`` may see it (their snapshot)."""
    shared = {
        f.name: copy.deepcopy(getattr(session, f.name))
        for f in dataclasses.fields(session)
        if f.name not in ("votes", "ops")
    }
    own_ops = session.ops.get(viewer_id)
    projected = Session(
        **shared,
        votes={vid: project_vote(v, viewer_id) for vid, v in session.votes.items()},
        ops={viewer_id: dict(own_ops)} if own_ops else {},
    )
    if is_partner(session, viewer_id):
        return partner_session(projected)
    return projected


def _rows(session: Session, vote: Vote) -> list[Ballot]:
    """The anonymous rows of ``vote``, computed once per session seq for all recipients."""
    memo = vote.rows_memo
    if memo is None or memo[0] != session.seq:
        memo = (session.seq, anonymous_ballots(vote))
        vote.rows_memo = memo
    return memo[1]


def project_event(session: Session, event: E.Event, viewer_id: str) -> tuple[E.Event, str]:
    """What ``viewer_id`` receives for ``event``, and a key shared by identical variants.

    ``session`` is the server's state *after* applying ``event``. The op id
    goes only to the member who sent the command.
    """
    body = event.body
    key = EVERYONE
    if isinstance(body, E.BallotCast):
        body, key = _project_ballot(session, body, viewer_id)
    elif isinstance(body, E.VoteRevealed):
        body, key = _project_reveal(session, body, viewer_id)
    if is_partner(session, viewer_id):
        partnered = partner_body(session, body, viewer_id)
        if partnered is not body:
            body, key = partnered, f"partner:{key}"
            if isinstance(body, E.PartnerViewSet):
                key = f"partner:{viewer_id}"  # each partner's snapshot holds their own op ids
    op = event.op if viewer_id == event.by else ""
    if op:
        key = f"{key}|op"
    if body is event.body and op == event.op:
        return event, key
    # Not dataclasses.replace: this runs once per recipient, and replace() is 5x slower.
    return E.Event(seq=event.seq, at=event.at, by=event.by, body=body, op=op), key


def _project_ballot(session: Session, body: E.BallotCast, viewer: str) -> tuple[E.BallotCast, str]:
    vote = session.votes.get(body.vote_id)
    if vote is None:
        return body, EVERYONE
    mine = viewer == body.member_id
    done, complete = body.done, body.complete
    if vote.anonymous and not mine:
        done = _coarse(vote, body.member_id, done, viewer)
    if vote.anonymous and vote.results_visible:
        rows = _rows(session, vote)
        ballot = body.ballot if mine else None
        cast = E.BallotCast(body.vote_id, body.member_id, ballot, rows, done, complete)
        return cast, "self" if mine else "anon"
    if can_see_ballots(vote, viewer):
        return body, EVERYONE
    if mine:
        return body, "self"
    return E.BallotCast(body.vote_id, body.member_id, None, None, done, complete), "who"


def _project_reveal(
    session: Session, body: E.VoteRevealed, viewer: str
) -> tuple[E.VoteRevealed, str]:
    vote = session.votes.get(body.vote_id)
    if vote is None:
        return body, EVERYONE
    if vote.anonymous:
        return dataclasses.replace(body, ballots=None, anon_ballots=_rows(session, vote)), "anon"
    # Ballot objects are replaced, never mutated, so sharing them with the frame is safe.
    return dataclasses.replace(body, ballots=dict(vote.ballots), anon_ballots=None), EVERYONE
