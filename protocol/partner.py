"""What the partner role may see: the facilitator's ``PartnerView``, applied by ``views``.

The partner is a guest whose offer the group is judging. By default they see
the board without the group's internal deliberation: needs the facilitator
has not shared, need classes and weights, classify splits and the department
lens, scores and the ranking, and other members' consensus answers and dots
are all left out of every snapshot and event they receive.
"""

from __future__ import annotations

import dataclasses

from . import events as E
from .model import Ballot, Need, PartnerView, Round, Session, Vote, VoteKind


def is_partner(session: Session, member_id: str) -> bool:
    """True when ``member_id`` is the partner role in ``session``."""
    member = session.members.get(member_id)
    return member is not None and member.role == "partner"


def may_see_need(view: PartnerView, need_id: str) -> bool:
    """True when the partner may see this need at all."""
    return view.all_needs or need_id in view.shared_needs


def may_see_ballots(view: PartnerView, kind: VoteKind) -> bool:
    """True when the partner may see other members' ballots of this vote kind."""
    if kind == "classify":
        return view.splits
    if kind == "score":
        return view.scores and view.classes
    return view.stances


def partner_need(view: PartnerView, need: Need) -> Need:
    """A need as the partner sees it: without class and weight unless classes are shared."""
    if view.classes:
        return need
    return dataclasses.replace(need, settled=None, weight=3)


def partner_round(view: PartnerView, round_: Round) -> Round:
    """A round as the partner sees it: outcome and summary, stances only if shared."""
    if view.stances:
        return round_
    return dataclasses.replace(round_, stances=[], objections=[])


def partner_ballot(view: PartnerView, kind: VoteKind, ballot: Ballot) -> Ballot:
    """A ballot the partner may see, without marks on needs it may not see."""
    if view.all_needs or kind not in ("classify", "score"):
        return ballot
    marks = {
        key: value
        for key, value in ballot.marks.items()
        if may_see_need(view, key.rpartition(":")[2] if kind == "score" else key)
    }
    return ballot if len(marks) == len(ballot.marks) else Ballot(marks, ballot.reason)


def _ballots(view: PartnerView, kind: VoteKind, ballots: dict[str, Ballot]) -> dict[str, Ballot]:
    return {m: partner_ballot(view, kind, b) for m, b in ballots.items()}


def _rows(view: PartnerView, kind: VoteKind, rows: list[Ballot]) -> list[Ballot]:
    return [partner_ballot(view, kind, b) for b in rows]


def partner_vote(view: PartnerView, vote: Vote) -> Vote:
    """A (projected) vote as the partner sees it."""
    needs = [n for n in vote.needs if may_see_need(view, n.id)]
    crit = [c for c in vote.criteria if view.classes and may_see_need(view, c.need_id)]
    if may_see_ballots(view, vote.kind):
        return dataclasses.replace(
            vote,
            needs=needs,
            criteria=crit,
            ballots=_ballots(view, vote.kind, vote.ballots),
            anon_ballots=_rows(view, vote.kind, vote.anon_ballots),
        )
    return dataclasses.replace(vote, needs=needs, criteria=crit, ballots={}, anon_ballots=[])


def partner_session(session: Session) -> Session:
    """Narrow a session already projected for the partner to what the view allows."""
    view = session.partner_view
    session.needs = {
        k: partner_need(view, n) for k, n in session.needs.items() if may_see_need(view, k)
    }
    session.votes = {k: partner_vote(view, v) for k, v in session.votes.items()}
    session.rounds = [partner_round(view, r) for r in session.rounds]
    return session


_NEED_EVENTS = (E.NeedEdited, E.NeedDeleted, E.NeedSettled, E.WeightSet)


def partner_body(session: Session, body: E.EventBody, viewer: str) -> E.EventBody:
    """An event body (already projected as for any member) as the partner may receive it.

    ``session`` is the relay's state after the event.
    """
    from .views import project_session  # views imports this module

    view = session.partner_view
    if isinstance(body, E.NeedAdded):
        if not may_see_need(view, body.need.id):
            return E.Withheld(takes_id=True)
        return dataclasses.replace(body, need=partner_need(view, body.need))
    if isinstance(body, _NEED_EVENTS):
        if not may_see_need(view, body.need_id):
            return E.Withheld()
        if isinstance(body, E.NeedSettled | E.WeightSet) and not view.classes:
            return E.Withheld()
        return body
    if isinstance(body, E.NeedsMerged):
        return body if may_see_need(view, body.source_id) else E.Withheld()
    if isinstance(body, E.VoteOpened):
        return dataclasses.replace(body, vote=partner_vote(view, body.vote))
    if isinstance(body, E.BallotCast):
        vote = session.votes.get(body.vote_id)
        if vote is None or (body.ballot is None and body.anon_ballots is None):
            return body
        if not may_see_ballots(view, vote.kind):
            return dataclasses.replace(body, ballot=None, anon_ballots=None)
        if view.all_needs or vote.kind not in ("classify", "score"):
            return body
        ballot = body.ballot and partner_ballot(view, vote.kind, body.ballot)
        rows = None if body.anon_ballots is None else _rows(view, vote.kind, body.anon_ballots)
        return dataclasses.replace(body, ballot=ballot, anon_ballots=rows)
    if isinstance(body, E.VoteRevealed):
        vote = session.votes.get(body.vote_id)
        carries = body.ballots is not None or body.anon_ballots is not None
        if vote is not None and carries:
            if not may_see_ballots(view, vote.kind):
                body = dataclasses.replace(body, ballots=None, anon_ballots=None)
            elif not view.all_needs and vote.kind in ("classify", "score"):
                ballots = None if body.ballots is None else _ballots(view, vote.kind, body.ballots)
                rows = (
                    None if body.anon_ballots is None else _rows(view, vote.kind, body.anon_ballots)
                )
                body = dataclasses.replace(body, ballots=ballots, anon_ballots=rows)
        if body.round is not None and not view.stances:
            body = dataclasses.replace(body, round=partner_round(view, body.round))
        return body
    if isinstance(body, E.PartnerViewSet):
        return dataclasses.replace(body, snapshot=project_session(session, viewer))
    return body
