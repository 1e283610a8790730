"""The decision record as JSON-ready data: everything the group did, told truthfully.

The record uses only aggregated results of revealed votes (plus named
stances of non-anonymous consensus rounds, which everyone saw after the
reveal), so it never carries a hidden ballot and never ties an anonymous
ballot to a person. People appear by name, never by member id. Times are
ISO 8601 strings in UTC, each with a numeric ``*_ts`` twin (epoch seconds).
"""

from __future__ import annotations

import datetime
from typing import Any

from .ballots import incomplete_ballots, missing_voters
from .model import LANES, Card, Decision, Edit, Round, Session, Vote
from .results import (
    Cell,
    Split,
    cells,
    criteria,
    department_lens,
    dot_totals,
    ranking,
    vote_criteria,
)
from .rounds import stance_title
from .staleness import stale_marks

RECORD_FORMAT = 2


def iso(stamp: float) -> str:
    """Epoch seconds as an ISO 8601 UTC time, e.g. ``2026-12-02T09:30:00Z``."""
    moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def name_of(session: Session, member_id: str) -> str:
    """A member's name (the record never shows member ids)."""
    member = session.members.get(member_id)
    return member.name if member else "(someone who left)"


def revealed(session: Session, kind: str) -> Vote | None:
    """The latest revealed vote of ``kind``."""
    for vote in reversed(session.votes.values()):
        if vote.kind == kind and vote.revealed:
            return vote
    return None


def _live_card(session: Session, card: Card) -> Card | None:
    """The live card ``card`` was (perhaps in several steps) merged into, if any."""
    for _ in range(len(session.cards) + 1):
        if card.merged_into is None:
            return card
        target = session.cards.get(card.merged_into)
        if target is None:
            return None
        card = target
    return None


def _card_dots(session: Session) -> dict[str, int]:
    """Dots per live card from the latest revealed dots vote that covered each lane."""
    out: dict[str, int] = {}
    for lane in LANES:
        vote = next(
            (
                v
                for v in reversed(session.votes.values())
                if v.kind == "dots" and v.revealed and v.lane in (None, lane)
            ),
            None,
        )
        if vote is None:
            continue
        totals = dot_totals(vote)
        for card in session.cards.values():
            live = _live_card(session, card) if card.lane == lane else None
            if live is not None and totals.get(card.id):
                out[live.id] = out.get(live.id, 0) + totals[card.id]
    return out


def _edits(session: Session, edits: list[Edit]) -> list[dict[str, Any]]:
    return [
        {"at": iso(e.at), "at_ts": e.at, "by": name_of(session, e.by), "before": dict(e.before)}
        for e in edits
    ]


def _split(split: Split) -> dict[str, int]:
    return {"must": split.must, "optional": split.optional, "not_a_need": split.not_a_need}


def _names(session: Session, ids: list[str]) -> list[str]:
    return [name_of(session, m) for m in ids]


def _decision(session: Session, d: Decision) -> dict[str, Any]:
    option = session.options.get(d.option_id)
    return {
        "option_id": d.option_id,
        "option": option.title if option else d.option_id,
        "statement": d.statement,
        "rationale": d.rationale,
        "dissent": d.dissent,
        "review_date": d.review_date,
        "recorded_at": iso(d.recorded_at),
        "recorded_at_ts": d.recorded_at,
        "recorded_by": name_of(session, d.recorded_by) if d.recorded_by else "",
        "without_consensus": d.without_consensus,
        "round": d.round_number or None,
        "superseded_at": iso(d.superseded_at) if d.superseded_by else None,
        "superseded_at_ts": d.superseded_at if d.superseded_by else None,
        "superseded_by": name_of(session, d.superseded_by) if d.superseded_by else None,
    }


def _round(session: Session, r: Round) -> dict[str, Any]:
    option = session.options.get(r.option_id)
    return {
        "number": r.number,
        "option_id": r.option_id,
        "option": option.title if option else r.option_id,
        "statement": r.statement,
        "method": r.method,
        "anonymous": r.anonymous,
        "outcome": r.outcome,
        "passed": r.passed,
        "summary": r.summary,
        "eligible": _names(session, r.eligible),
        "missing": _names(session, r.missing),
        "stances": [
            {
                "name": name_of(session, s.member_id),
                "answer": stance_title(r.method, s.value),
                "value": s.value,
                "reason": s.reason,
            }
            for s in r.stances
        ],
        "objections": list(r.objections),
    }


def _stale(session: Session, vote: Vote | None) -> list[dict[str, str]]:
    if vote is None:
        return []
    # Named as the need reads now; the mark itself says what it said then.
    texts = {c.need_id: c.text for c in vote.criteria}
    texts.update({n.id: n.text for n in session.needs.values()})
    return [
        {"need_id": m.need_id, "need": texts.get(m.need_id, m.need_id), "what": m.what}
        for m in stale_marks(session, vote)
    ]


def _cell_data(cl: Cell, gate: bool) -> dict[str, Any]:
    """One matrix cell: a gate's pass and fail counts, or a score's mean and spread.

    Pass/fail answers are never averaged into a score (they are another kind).
    """
    out: dict[str, Any] = {
        "option_id": cl.option_id,
        "need_id": cl.need_id,
        "gate": gate,
        "values": sorted(cl.values),
    }
    if gate:
        out["passes"] = cl.values.count(1)
        out["fails"] = cl.values.count(0)
    else:
        out["mean"] = round(cl.mean, 2) if cl.mean is not None else None
        out["spread"] = round(cl.spread, 2)
    return out


def _scores(session: Session, vote: Vote | None) -> dict[str, Any] | None:
    if vote is None:
        return None
    table = cells(session, vote)
    crit = vote_criteria(session, vote)
    gates = {c.need_id for c in crit if c.gate}
    return {
        "vote_id": vote.id,
        "criteria": [
            {"need_id": c.need_id, "text": c.text, "gate": c.gate, "weight": c.weight} for c in crit
        ],
        "cells": [_cell_data(cl, cl.need_id in gates) for cl in table.values()],
        "incomplete_ballots": incomplete_ballots(vote),
        "missing": _names(session, missing_voters(session, vote)),
        "stale": _stale(session, vote),
    }


def record_data(session: Session) -> dict[str, Any]:
    """The decision record as plain data (the JSON export)."""
    members = sorted(session.members.values(), key=lambda m: (m.role != "facilitator", m.name))
    dots = _card_dots(session)
    classify = revealed(session, "classify")
    lenses = {lens.need_id: lens for lens in department_lens(session, classify)} if classify else {}
    stale_needs: dict[str, list[str]] = {}
    for mark in _stale(session, classify):
        stale_needs.setdefault(mark["need_id"], []).append(mark["what"])
    score = revealed(session, "score")
    standings = ranking(session, score) if score else []
    return {
        "format": RECORD_FORMAT,
        "session_id": session.id,
        "question": session.question,
        "created_at": iso(session.created_at),
        "created_at_ts": session.created_at,
        "closed": session.closed,
        "phase": session.phase,
        "path": [{"phase": v.phase, "at": iso(v.at), "at_ts": v.at} for v in session.history],
        "participants": [
            {"name": m.name, "role": m.role, "department": m.department, "removed": m.removed}
            for m in members
        ],
        "departments": sorted({m.department for m in members if m.department}),
        "cards": [
            {
                "lane": c.lane,
                "text": c.text,
                "dots": dots.get(c.id, 0),
                "edits": _edits(session, c.edits),
            }
            for c in session.live_cards()
        ],
        "needs": [
            {
                "id": n.id,
                "text": n.text,
                "why": n.why,
                "success": n.success,
                "department": n.department,
                "class": n.settled,
                "split": _split(lenses[n.id].overall) if n.id in lenses else None,
                "departments": {d: _split(s) for d, s in sorted(lenses[n.id].departments.items())}
                if n.id in lenses
                else {},
                "departments_disagree": lenses[n.id].departments_disagree
                if n.id in lenses
                else False,
                "stale": stale_needs.get(n.id, []),
                "edits": _edits(session, n.edits),
            }
            for n in session.live_needs()
        ],
        "classify": None
        if classify is None
        else {
            "vote_id": classify.id,
            "incomplete_ballots": incomplete_ballots(classify),
            "missing": _names(session, missing_voters(session, classify)),
            "stale": _stale(session, classify),
        },
        "criteria": [
            {"need_id": c.need_id, "text": c.text, "gate": c.gate, "weight": c.weight}
            for c in criteria(session)
        ],
        "options": [
            {
                "id": o.id,
                "kind": o.kind,
                "title": o.title,
                "description": o.description,
                "notes": [
                    {"text": t.text, "from": t.role}
                    for t in session.notes.values()
                    if t.option_id == o.id
                ],
                "edits": _edits(session, o.edits),
            }
            for o in session.options.values()
        ],
        "scores": _scores(session, score),
        "ranking": [
            {
                "rank": s.rank,
                "option_id": s.option_id,
                "score": round(s.score, 2) if s.score is not None else None,
                "failed_gates": s.failed_gates,
            }
            for s in standings
        ],
        "rounds": [_round(session, r) for r in sorted(session.rounds, key=lambda r: r.number)],
        "decision": None if session.decision is None else _decision(session, session.decision),
        "superseded": [_decision(session, d) for d in session.superseded],
    }
