"""Ballot progress: how many items a member's ballot answers, who has voted, who is missing.

A classify or score ballot is complete when it answers every item the vote
opened on (every need; every option x criterion cell). A dots or consensus
ballot is complete once cast. ``Vote.voters`` lists complete ballots only,
and ``Vote.progress`` carries each caster's count, so any member can ask
these questions of their own copy of the session, hidden votes included.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import VOTERS
from .model import Ballot, Session, Vote


def cell_key(option_id: str, need_id: str) -> str:
    """The mark key of one score-matrix cell."""
    return f"{option_id}:{need_id}"


@dataclass(frozen=True, slots=True)
class Progress:
    """A member's ballot so far: ``done`` items of ``total``."""

    done: int
    total: int

    @property
    def complete(self) -> bool:
        """True when every item is answered."""
        return self.total > 0 and self.done >= self.total


def vote_items(session: Session, vote: Vote) -> list[str] | None:
    """The mark keys a complete ballot answers, or None for single-answer kinds (dots, consensus).

    Votes opened before criteria and needs were frozen on the vote fall back to the
    session's current needs and criteria.
    """
    if vote.kind == "classify":
        if vote.needs:
            return [n.id for n in vote.needs]
        return [n.id for n in session.live_needs()]
    if vote.kind == "score":
        from .results import vote_criteria  # results imports this module

        options = vote.option_ids or list(session.options)
        return [cell_key(o, c.need_id) for o in options for c in vote_criteria(session, vote)]
    return None


def answered(session: Session, vote: Vote, ballot: Ballot) -> Progress:
    """How much of ``vote`` one ballot answers."""
    items = vote_items(session, vote)
    if items is None:
        return Progress(1, 1)
    marks = ballot.marks
    return Progress(sum(1 for key in items if key in marks), len(items))


def ballot_progress(session: Session, vote: Vote, member_id: str) -> Progress:
    """A member's progress on ``vote`` as anyone may see it (0 done when they have not cast)."""
    items = vote_items(session, vote)
    total = 1 if items is None else len(items)
    if member_id in vote.voters:
        return Progress(total, total)
    return Progress(min(vote.progress.get(member_id, 0), total), total)


def has_voted(vote: Vote, member_id: str) -> bool:
    """True when ``member_id`` has cast a complete ballot."""
    return member_id in vote.voters


def expected_voters(session: Session, vote: Vote) -> list[str]:
    """Who is expected to vote: the members eligible when the vote opened.

    A member the facilitator removed since is no longer expected (their ballot, if
    any, still counts), so removing someone never leaves a round unable to pass.
    """
    members = session.members
    if vote.eligible:
        return [m for m in vote.eligible if m not in members or not members[m].removed]
    return [m.id for m in members.values() if m.role in VOTERS and not m.removed]


def missing_voters(session: Session, vote: Vote) -> list[str]:
    """Eligible members without a complete ballot, in the order they joined."""
    done = set(vote.voters)
    return [m for m in expected_voters(session, vote) if m not in done]


def voted_count(session: Session, vote: Vote) -> tuple[int, int]:
    """(complete ballots of eligible members, eligible members): the "3/5 voted" figures."""
    eligible = expected_voters(session, vote)
    done = set(vote.voters)
    return sum(1 for m in eligible if m in done), len(eligible)


def incomplete_ballots(vote: Vote) -> int:
    """How many cast ballots do not answer every item (classify and score votes)."""
    done = set(vote.voters)
    return sum(1 for member_id in vote.progress if member_id not in done)
