"""Stale results: a classify or score vote whose needs changed after it opened.

Each vote keeps what it was cast on (the needs' wording; the criteria with
their gate, weight and wording). When a need it used is later reworded,
reclassified, reweighted, merged or deleted, or a new criterion appears,
the vote's results are stale: they still say what the group answered, but
no longer about the needs as they are now. Nothing is recomputed; boards
and the record show the marks these functions return.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import CLASS_TITLES, Need, Session, Vote
from .results import criteria


@dataclass(frozen=True, slots=True)
class StaleMark:
    """One reason a vote's results are stale: which need, and what changed."""

    need_id: str
    what: str


def _gone(session: Session, need_id: str) -> Need | None:
    need = session.needs.get(need_id)
    return need if need is not None and need.merged_into is None else None


def _class_word(gate: bool) -> str:
    return "must" if gate else "optional"


def stale_marks(session: Session, vote: Vote) -> list[StaleMark]:
    """What changed since ``vote`` opened on the needs it used (empty when nothing did).

    Only classify and score votes that froze their items can go stale.
    """
    marks: list[StaleMark] = []
    if vote.kind == "classify":
        for opened in vote.needs:
            need = _gone(session, opened.id)
            if need is None:
                marks.append(StaleMark(opened.id, "merged or deleted since the vote"))
            elif need.text != opened.text:
                marks.append(StaleMark(opened.id, f"reworded since the vote (was: {opened.text})"))
    elif vote.kind == "score" and vote.criteria:
        now = {c.need_id: c for c in criteria(session)}
        for then in vote.criteria:
            need = _gone(session, then.need_id)
            current = now.get(then.need_id)
            if need is None:
                marks.append(StaleMark(then.need_id, "merged or deleted since the vote"))
                continue
            if need.text != then.text:
                marks.append(StaleMark(then.need_id, f"reworded since the vote (was: {then.text})"))
            if current is None:
                cls = CLASS_TITLES[need.settled] if need.settled else "unsettled"
                was = _class_word(then.gate)
                marks.append(
                    StaleMark(then.need_id, f"now {cls} (was {was}); no longer a criterion")
                )
            elif current.gate != then.gate:
                now_word, was = _class_word(current.gate), _class_word(then.gate)
                marks.append(StaleMark(then.need_id, f"now {now_word} (was {was})"))
            elif not current.gate and current.weight != then.weight:
                marks.append(
                    StaleMark(then.need_id, f"weight now {current.weight} (was {then.weight})")
                )
        used = {c.need_id for c in vote.criteria}
        for need_id, current in now.items():
            if need_id not in used:
                kind = "gate" if current.gate else "weighted criterion"
                marks.append(StaleMark(need_id, f"a new {kind} this vote did not score"))
    return marks


def is_stale(session: Session, vote: Vote) -> bool:
    """True when ``vote``'s results no longer describe the needs as they are now."""
    return bool(stale_marks(session, vote))


def stale_votes(session: Session) -> dict[str, list[StaleMark]]:
    """Every classify or score vote with stale results, by vote id, with its marks."""
    out: dict[str, list[StaleMark]] = {}
    for vote in session.votes.values():
        if vote.kind in ("classify", "score"):
            marks = stale_marks(session, vote)
            if marks:
                out[vote.id] = marks
    return out
