"""Consensus rounds: outcomes, numbers, named stances, and what a decision may rest on.

A round passes only when every member eligible at its opening answered and
nobody blocked. A block (a hand below two fingers, a consent objection)
counts the moment it is cast, reason or not; ending a round before everyone
answered makes it incomplete, never passed.
"""

from __future__ import annotations

import statistics

from .ballots import expected_voters
from .model import (
    CONSENT_AGREE,
    CONSENT_OBJECT,
    CONSENT_STAND_ASIDE,
    CONSENT_TITLES,
    PROPOSAL_KEY,
    Ballot,
    ConsensusMethod,
    Round,
    Session,
    Stance,
    Vote,
)
from .pieces import Outcome
from .results import all_ballots

#: A fist-of-five hand below this blocks the proposal.
FIST_BLOCK_BELOW = 2
#: Shown for a block whose reason has not been given.
NO_REASON = "no reason given"
OUTCOME_TITLES: dict[Outcome, str] = {
    "passed": "passed",
    "blocked": "blocked",
    "incomplete": "incomplete (not everyone answered)",
}


def is_block(method: ConsensusMethod, value: int) -> bool:
    """True when an answer blocks the proposal on its own."""
    return value < FIST_BLOCK_BELOW if method == "fist" else value == CONSENT_OBJECT


def stance_title(method: ConsensusMethod, value: int) -> str:
    """An answer in words: ``3 fingers``, ``agree``, ``stand aside``, ``object``."""
    if method == "fist":
        return f"{value} finger{'' if value == 1 else 's'}"
    return CONSENT_TITLES.get(value, str(value))


def default_method(session: Session) -> ConsensusMethod:
    """The method the next round should start with: the last one used (fist at first)."""
    return session.last_method


def round_number(session: Session, vote: Vote) -> int:
    """The number of a consensus vote among the session's consensus votes (1, 2, ...)."""
    number = 0
    for other in session.votes.values():
        if other.kind == "consensus":
            number += 1
        if other.id == vote.id:
            return number
    return number + 1


def numbered_rounds(session: Session) -> list[tuple[int, Round]]:
    """Every recorded round with its number, in the order the rounds were opened."""
    numbered = [(r.number or i, r) for i, r in enumerate(session.rounds, 1)]
    numbered.sort(key=lambda pair: pair[0])
    return numbered


def _answers(vote: Vote) -> tuple[dict[str, Ballot], list[Ballot]]:
    keyed = {m: b for m, b in vote.ballots.items() if PROPOSAL_KEY in b.marks}
    rows = [b for b in all_ballots(vote) if PROPOSAL_KEY in b.marks]
    return keyed, rows


def consensus_round(session: Session, vote: Vote) -> Round:
    """The outcome of a consensus vote as a round for the record (call with every ballot)."""
    keyed, rows = _answers(vote)
    values = [b.marks[PROPOSAL_KEY] for b in rows]
    method = vote.method
    eligible = expected_voters(session, vote) if vote.eligible else []
    # ``voters`` is public, so every copy of the session agrees on who is missing.
    missing = [m for m in eligible if m not in vote.voters]
    blocked = any(is_block(method, v) for v in values)
    outcome: Outcome
    if blocked:
        outcome = "blocked"
    elif missing or not values:
        outcome = "incomplete"
    else:
        outcome = "passed"
    if method == "fist":
        if values:
            summary = (
                f"{len(values)} hands, average {statistics.fmean(values):.1f}, lowest {min(values)}"
            )
        else:
            summary = "no hands shown"
    else:
        agree = values.count(CONSENT_AGREE)
        aside = values.count(CONSENT_STAND_ASIDE)
        objecting = values.count(CONSENT_OBJECT)
        summary = f"{agree} agree, {aside} stand aside, {objecting} object"
    if missing:
        summary += f"; {len(missing)} did not answer"
    objections = [b.reason or NO_REASON for b in rows if is_block(method, b.marks[PROPOSAL_KEY])]
    order = {m: i for i, m in enumerate(session.members)}
    stances = (
        []
        if vote.anonymous
        else [
            Stance(member_id=m, value=b.marks[PROPOSAL_KEY], reason=b.reason)
            for m, b in sorted(keyed.items(), key=lambda kv: order.get(kv[0], len(order)))
        ]
    )
    return Round(
        vote_id=vote.id,
        option_id=vote.option_id or "",
        statement=vote.statement,
        method=method,
        passed=outcome == "passed",
        summary=summary,
        objections=sorted(objections),
        outcome=outcome,
        number=round_number(session, vote),
        anonymous=vote.anonymous,
        eligible=eligible,
        missing=missing,
        stances=stances,
    )


def live_stances(session: Session, vote: Vote) -> list[Stance]:
    """Named answers of a consensus vote as this viewer may see them (none if anonymous).

    For an open vote a block without a reason yet shows an empty reason: the
    board says "no reason given yet".
    """
    if vote.anonymous:
        return []
    order = {m: i for i, m in enumerate(session.members)}
    keyed, _ = _answers(vote)
    return [
        Stance(member_id=m, value=b.marks[PROPOSAL_KEY], reason=b.reason)
        for m, b in sorted(keyed.items(), key=lambda kv: order.get(kv[0], len(order)))
    ]


def _name(session: Session, member_id: str) -> str:
    member = session.members.get(member_id)
    return member.name if member else member_id


def dissent_text(session: Session, round_: Round | None = None) -> str:
    """A dissent paragraph from a round's stances (the last round by default).

    Names who blocked (with reasons), who stood aside or had reservations, and
    who did not answer. Anonymous rounds give the objections without names.
    """
    if round_ is None:
        numbered = numbered_rounds(session)
        if not numbered:
            return ""
        round_ = numbered[-1][1]
    parts: list[str] = []
    if round_.anonymous:
        if round_.objections:
            parts.append("Objections (anonymous): " + "; ".join(round_.objections) + ".")
    else:
        for stance in round_.stances:
            who = _name(session, stance.member_id)
            reason = f": {stance.reason}" if stance.reason else f" ({NO_REASON})"
            if is_block(round_.method, stance.value):
                verb = "objects" if round_.method == "consent" else "blocks with a fist of"
                value = "" if round_.method == "consent" else f" {stance.value}"
                parts.append(f"{who} {verb}{value}{reason}.")
            elif round_.method == "consent" and stance.value == CONSENT_STAND_ASIDE:
                parts.append(f"{who} stands aside{': ' + stance.reason if stance.reason else ''}.")
            elif round_.method == "fist" and stance.value == FIST_BLOCK_BELOW:
                parts.append(f"{who} has reservations (2 fingers).")
    if round_.missing:
        names = ", ".join(_name(session, m) for m in round_.missing)
        parts.append(f"Did not answer: {names}.")
    return " ".join(parts)


def decision_basis(session: Session, option_id: str, statement: str) -> Round | None:
    """The latest round that passed on exactly this option and statement, if any."""
    for _, round_ in reversed(numbered_rounds(session)):
        same = round_.option_id == option_id and round_.statement.strip() == statement.strip()
        if round_.outcome == "passed" and same:
            return round_
    return None


def needs_without_consensus(session: Session, option_id: str, statement: str) -> bool:
    """True when recording this decision must be marked "recorded without consensus"."""
    return decision_basis(session, option_id, statement) is None
