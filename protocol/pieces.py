"""Small wire records the model is built of: edit traces, stances, frozen items, the partner's view.

They live apart from ``model`` to keep that module short; ``model`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from . import limits as L
from .schema import Items, Range, Text

_Id = Annotated[str, Text(L.ID_CHARS, 1)]
_Stamp = Annotated[float, Range(0, 1e11)]

#: What a consensus round came to: every eligible member answered and nobody blocked
#: (passed), somebody blocked (blocked), or it ended before everyone answered (incomplete).
Outcome = Literal["passed", "blocked", "incomplete"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "blocked", "incomplete")


@dataclass(slots=True)
class Edit:
    """An earlier wording of a card, need or option: who changed it, when, and what it said."""

    at: _Stamp
    by: _Id
    before: Annotated[
        dict[str, Annotated[str, Text(L.TEXT_CHARS, lines=True)]], Items(4), Text(L.ID_CHARS)
    ] = field(default_factory=dict)


@dataclass(slots=True)
class Stance:
    """One named answer in a consensus round (never kept for anonymous rounds)."""

    member_id: _Id
    value: Annotated[int, Range(0, 5)]
    reason: Annotated[str, Text(L.TEXT_CHARS, lines=True)] = ""


@dataclass(slots=True)
class Criterion:
    """A criterion made from a settled need: a gate (must) or weighted (optional).

    A score vote keeps the criteria it opened with, so its ballots are always
    read against what they were cast on.
    """

    need_id: _Id
    text: Annotated[str, Text(L.TEXT_CHARS)]
    gate: bool
    weight: Annotated[int, Range(0, L.MAX_WEIGHT)]


@dataclass(slots=True)
class VoteNeed:
    """A need as a classify vote opened on it: its id and its wording then."""

    id: _Id
    text: Annotated[str, Text(L.TEXT_CHARS)]


@dataclass(slots=True)
class PartnerView:
    """What the partner role may see; the facilitator sets it, the relay enforces it.

    The default hides the group's internal deliberation: needs not shared, need
    classes and weights, classify splits and the department lens, scores and the
    ranking, and other members' consensus answers and dots.
    """

    all_needs: bool = False
    shared_needs: Annotated[list[_Id], Items(L.MAX_NEEDS)] = field(default_factory=list)
    classes: bool = False
    splits: bool = False
    scores: bool = False
    stances: bool = False
