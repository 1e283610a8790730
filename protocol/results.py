"""Derived results: need splits and department lenses, criteria, scores, consensus outcomes.

All pure functions of a session (or one member's view of it). Callers show
results only when ``vote.results_visible``; these functions do not check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .ballots import cell_key
from .model import (
    CLASS_MARK,
    MARK_CLASS,
    Ballot,
    Criterion,
    Need,
    NeedClass,
    Session,
    Vote,
)

__all__ = ["Criterion", "cell_key"]


def all_ballots(vote: Vote) -> list[Ballot]:
    """Every ballot this viewer may count: anonymous rows if present, else keyed ballots."""
    return vote.anon_ballots if vote.anon_ballots else list(vote.ballots.values())


# ---- dots -------------------------------------------------------------------


def dot_totals(vote: Vote) -> dict[str, int]:
    """Dots per item, over all countable ballots."""
    totals: dict[str, int] = {}
    for ballot in all_ballots(vote):
        for item, count in ballot.marks.items():
            totals[item] = totals.get(item, 0) + count
    return totals


def dots_used(ballot: Ballot | None) -> int:
    """How many dots a ballot spends."""
    return sum(ballot.marks.values()) if ballot else 0


# ---- classify ---------------------------------------------------------------


@dataclass(slots=True)
class Split:
    """How many voters put a need in each class."""

    must: int = 0
    optional: int = 0
    not_a_need: int = 0

    @property
    def total(self) -> int:
        """Number of classifications."""
        return self.must + self.optional + self.not_a_need

    def count(self, cls: NeedClass) -> int:
        """Votes for one class."""
        return int(getattr(self, cls))

    def add(self, cls: NeedClass) -> None:
        """Count one more vote for ``cls``."""
        setattr(self, cls, self.count(cls) + 1)

    @property
    def majority(self) -> NeedClass | None:
        """The class with the most votes, or None when empty or tied at the top."""
        counts = sorted(((self.count(c), c) for c in CLASS_MARK), reverse=True)
        if counts[0][0] == 0 or counts[0][0] == counts[1][0]:
            return None
        return counts[0][1]

    @property
    def spread(self) -> float:
        """0 when everyone agrees, towards 1 as votes split across classes."""
        if not self.total:
            return 0.0
        return 1.0 - max(self.count(c) for c in CLASS_MARK) / self.total


def need_split(vote: Vote, need_id: str) -> Split:
    """The overall split of one need in a classify vote."""
    split = Split()
    for ballot in all_ballots(vote):
        mark = ballot.marks.get(need_id)
        if mark in MARK_CLASS:
            split.add(MARK_CLASS[mark])
    return split


@dataclass(slots=True)
class Lens:
    """One need seen through each department's votes."""

    need_id: str
    overall: Split
    departments: dict[str, Split] = field(default_factory=dict)

    @property
    def disagreement(self) -> float:
        """Share of departments whose majority differs from the overall majority (0..1)."""
        majors = [s.majority for s in self.departments.values() if s.total]
        if len(majors) < 2:
            return 0.0
        overall = self.overall.majority
        return sum(1 for m in majors if m != overall) / len(majors)

    @property
    def departments_disagree(self) -> bool:
        """True when departments reach different majorities."""
        majors = {s.majority for s in self.departments.values() if s.total}
        return len(majors) > 1


def department_lens(session: Session, vote: Vote) -> list[Lens]:
    """Per-need splits by department. Anonymous votes show the overall split only.

    The needs are those the vote opened on that are still live, in need order.
    """
    opened = {n.id for n in vote.needs}
    lenses = []
    for need in session.live_needs():
        if opened and need.id not in opened:
            continue
        lens = Lens(need_id=need.id, overall=need_split(vote, need.id))
        if not vote.anonymous:
            for member_id, ballot in vote.ballots.items():
                mark = ballot.marks.get(need.id)
                if mark not in MARK_CLASS:
                    continue
                member = session.members.get(member_id)
                dept = (member.department if member else "") or "(no department)"
                lens.departments.setdefault(dept, Split()).add(MARK_CLASS[mark])
        lenses.append(lens)
    return lenses


# ---- criteria and scores ----------------------------------------------------


def criteria(session: Session) -> list[Criterion]:
    """Criteria from the needs: must -> gate, optional -> weighted, not a need drops out."""
    out = []
    for need in session.live_needs():
        if need.settled == "must":
            out.append(Criterion(need.id, need.text, gate=True, weight=0))
        elif need.settled == "optional":
            out.append(Criterion(need.id, need.text, gate=False, weight=need.weight))
    return out


def vote_criteria(session: Session, vote: Vote) -> list[Criterion]:
    """The criteria a score vote's ballots were cast on (frozen when it opened).

    A vote stored before criteria were frozen falls back to the current criteria.
    """
    return list(vote.criteria) if vote.criteria else criteria(session)


def unsettled_needs(session: Session) -> list[Need]:
    """Needs the facilitator has not settled yet (they make no criterion)."""
    return [n for n in session.live_needs() if n.settled is None]


@dataclass(slots=True)
class Cell:
    """Scores for one option x criterion cell."""

    option_id: str
    need_id: str
    values: list[int]

    @property
    def mean(self) -> float | None:
        """Mean score (0-5) or pass share (0-1 for gates); None when nobody scored."""
        values = self.values
        # the same float as statistics.fmean: an exact integer sum, one rounded division
        return sum(values) / len(values) if values else None

    @property
    def spread(self) -> float:
        """Population standard deviation: how much people disagree on this cell."""
        return int_pstdev(self.values)


def int_pstdev(values: list[int]) -> float:
    """``statistics.pstdev`` of integer marks, in float maths (equal within a few ulps).

    ``n * sum(x*x) - sum(x)**2`` is exact in integers, so only the square root
    and one division round; ``statistics`` works in exact fractions, 50x slower.
    A spread that is exactly 1.0 or 1.5 stays exact.
    """
    n = len(values)
    if n < 2:
        return 0.0
    total = sum(values)
    squares = sum(v * v for v in values)
    return math.sqrt(n * squares - total * total) / n


def cells(session: Session, vote: Vote) -> dict[str, Cell]:
    """Every scored cell of a score vote, keyed by ``option:need``.

    Cells follow the vote's own criteria, so a later reclassification never turns a
    gate's pass/fail answers into 0-5 scores or the other way round.
    """
    crit = [c.need_id for c in vote_criteria(session, vote)]
    out: dict[str, Cell] = {}
    values: dict[str, list[int]] = {}
    for option_id in session.options:
        for need_id in crit:
            key = cell_key(option_id, need_id)
            out[key] = Cell(option_id, need_id, values.setdefault(key, []))
    for ballot in all_ballots(vote):
        for key, value in ballot.marks.items():
            slot = values.get(key)
            if slot is not None:
                slot.append(value)
    return out


@dataclass(slots=True)
class Standing:
    """An option's weighted score, gate results and rank."""

    option_id: str
    score: float | None
    failed_gates: list[str]
    rank: int = 0

    @property
    def fails_gate(self) -> bool:
        """True when any must-need gate was not clearly passed."""
        return bool(self.failed_gates)


def ranking(session: Session, vote: Vote, table: dict[str, Cell] | None = None) -> list[Standing]:
    """Options ranked by weighted score; options failing a gate rank after the rest.

    A gate passes only when a strict majority of its answers say pass. ``table``
    is ``cells(session, vote)`` when the caller has it already.
    """
    crit = vote_criteria(session, vote)
    if table is None:
        table = cells(session, vote)
    standings = []
    for option_id in session.options:
        failed: list[str] = []
        total = weights = 0.0
        for c in crit:
            cell = table[cell_key(option_id, c.need_id)]
            if c.gate:
                passes = sum(1 for v in cell.values if v)
                if cell.values and passes * 2 <= len(cell.values):
                    failed.append(c.need_id)
            elif cell.mean is not None:
                total += cell.mean * c.weight
                weights += c.weight
        score = total / weights if weights else None
        standings.append(Standing(option_id, score, failed))
    standings.sort(key=lambda s: (s.fails_gate, -(s.score if s.score is not None else -1.0)))
    for i, standing in enumerate(standings, 1):
        standing.rank = i
    return standings
