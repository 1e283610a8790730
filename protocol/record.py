"""The decision record: a session rendered as JSON-ready data and as Markdown.

The record uses only aggregated results of revealed votes, so it never
carries a hidden ballot, and never ties an anonymous ballot to a person.
"""

from __future__ import annotations

import datetime
from typing import Any

from .model import (
    CLASS_TITLES,
    KIND_TITLES,
    LANE_TITLES,
    LANES,
    PHASE_TITLES,
    Card,
    Session,
    Vote,
)
from .results import (
    criteria,
    department_lens,
    dot_totals,
    ranking,
)

RECORD_FORMAT = 1


def _when(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _revealed(session: Session, kind: str) -> Vote | None:
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
    """Dots per live card from the latest revealed dots vote that covered each lane.

    A merged card's dots count towards the live card it was merged into.
    """
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


def record_data(session: Session) -> dict[str, Any]:
    """The decision record as plain data (the JSON export)."""
    members = sorted(session.members.values(), key=lambda m: (m.role != "facilitator", m.name))
    dots = _card_dots(session)
    classify = _revealed(session, "classify")
    lenses = {lens.need_id: lens for lens in department_lens(session, classify)} if classify else {}
    score = _revealed(session, "score")
    standings = ranking(session, score) if score else []
    decision = session.decision
    return {
        "format": RECORD_FORMAT,
        "session_id": session.id,
        "question": session.question,
        "created_at": _when(session.created_at),
        "closed": session.closed,
        "phase": session.phase,
        "path": [{"phase": v.phase, "at": _when(v.at)} for v in session.history],
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
                "split": _split_data(lenses[n.id].overall) if n.id in lenses else None,
                "departments": {
                    d: _split_data(s) for d, s in sorted(lenses[n.id].departments.items())
                }
                if n.id in lenses
                else {},
                "departments_disagree": lenses[n.id].departments_disagree
                if n.id in lenses
                else False,
            }
            for n in session.live_needs()
        ],
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
            }
            for o in session.options.values()
        ],
        "ranking": [
            {
                "rank": s.rank,
                "option_id": s.option_id,
                "score": round(s.score, 2) if s.score is not None else None,
                "failed_gates": s.failed_gates,
            }
            for s in standings
        ],
        "rounds": [
            {
                "option_id": r.option_id,
                "statement": r.statement,
                "method": r.method,
                "passed": r.passed,
                "summary": r.summary,
                "objections": r.objections,
            }
            for r in session.rounds
        ],
        "decision": None
        if decision is None
        else {
            "option_id": decision.option_id,
            "option": session.options[decision.option_id].title
            if decision.option_id in session.options
            else decision.option_id,
            "statement": decision.statement,
            "rationale": decision.rationale,
            "dissent": decision.dissent,
            "review_date": decision.review_date,
            "recorded_at": _when(decision.recorded_at),
        },
    }


def _split_data(split: Any) -> dict[str, int]:
    return {"must": split.must, "optional": split.optional, "not_a_need": split.not_a_need}


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def record_markdown(session: Session) -> str:
    """The decision record as Markdown, fit to commit next to the code it concerns."""
    data = record_data(session)
    titles = {o["id"]: o["title"] for o in data["options"]}
    needs = {n["id"]: n["text"] for n in data["needs"]}
    out: list[str] = [f"# Decision record: {_cell(session.question)}", ""]
    status = "closed" if session.closed else f"open, in {PHASE_TITLES[session.phase]}"
    out += [f"- Session: `{session.id}` ({status})", f"- Started: {data['created_at']}"]
    if data["path"]:
        path = " → ".join(PHASE_TITLES[p["phase"]] for p in data["path"])
        out.append(f"- Path: Learn → {path}")
    out += ["", "## Decision", ""]
    decision = data["decision"]
    if decision is None:
        out += ["_No decision has been recorded yet._", ""]
    else:
        out += [
            f"**{_cell(decision['option'])}**: {decision['statement']}",
            "",
            f"- Rationale: {decision['rationale'] or '(none given)'}",
            f"- Dissent: {decision['dissent'] or '(none recorded)'}",
            f"- Review on: {decision['review_date'] or '(no review date)'}",
            f"- Recorded: {decision['recorded_at']}",
            "",
        ]
    out += ["## Participants", "", "| Name | Role | Department |", "|---|---|---|"]
    out += [
        f"| {_cell(p['name'])} | {p['role']}{' (removed)' if p['removed'] else ''}"
        f" | {_cell(p['department']) or '-'} |"
        for p in data["participants"]
    ]
    out += ["", f"Departments: {', '.join(data['departments']) or '(none given)'}", ""]
    out += ["## The big picture", ""]
    for lane in LANES:
        cards = [c for c in data["cards"] if c["lane"] == lane]
        out.append(f"### {LANE_TITLES[lane]}")
        out.append("")
        if not cards:
            out.append("_No cards._")
        for card in sorted(cards, key=lambda c: -c["dots"]):
            count = card["dots"]
            dots = f" ({count} dot{'s' if count != 1 else ''})" if count else ""
            out.append(f"- {_cell(card['text'])}{dots}")
        out.append("")
    out += ["## Needs", ""]
    if not data["needs"]:
        out += ["_No needs were proposed._", ""]
    else:
        out += [
            "| Need | Why | Success shows as | From | Class | must / optional / not |",
            "|---|---|---|---|---|---|",
        ]
        for need in data["needs"]:
            split = need["split"]
            votes = (
                f"{split['must']} / {split['optional']} / {split['not_a_need']}" if split else "-"
            )
            if need["departments_disagree"]:
                votes += " (departments disagree)"
            cls = CLASS_TITLES[need["class"]] if need["class"] else "unsettled"
            out.append(
                f"| {_cell(need['text'])} | {_cell(need['why']) or '-'} | "
                f"{_cell(need['success']) or '-'} | {_cell(need['department']) or '-'} | "
                f"{cls} | {votes} |"
            )
        out.append("")
        lens_rows = [n for n in data["needs"] if n["departments"]]
        if lens_rows:
            out += ["### Department lens", ""]
            for need in lens_rows:
                parts = [
                    f"{d}: {s['must']}/{s['optional']}/{s['not_a_need']}"
                    for d, s in need["departments"].items()
                ]
                out.append(f"- {_cell(need['text'])}: " + "; ".join(parts))
            out.append("")
    out += ["## Criteria", ""]
    if not data["criteria"]:
        out += ["_No criteria: no need was settled as must or optional._", ""]
    for c in data["criteria"]:
        kind = "gate (must pass)" if c["gate"] else f"weight {c['weight']}"
        out.append(f"- {_cell(c['text'])}: {kind}")
    out += ["", "## Options", ""]
    for option in data["options"]:
        line = f"- **{_cell(option['title'])}** ({KIND_TITLES[option['kind']]})"
        if option["description"]:
            line += f": {_cell(option['description'])}"
        out.append(line)
        for note in option["notes"]:
            out.append(f"  - note from the {note['from']}: {_cell(note['text'])}")
    out += ["", "## Scores and ranking", ""]
    if not data["ranking"]:
        out += ["_No score vote was revealed._", ""]
    else:
        out += ["| Rank | Option | Weighted score (0-5) | Gates |", "|---|---|---|---|"]
        for s in data["ranking"]:
            score = f"{s['score']:.2f}" if s["score"] is not None else "-"
            failed = [needs.get(n, n) for n in s["failed_gates"]]
            gates = "fails: " + "; ".join(_cell(t) for t in failed) if failed else "pass"
            out.append(
                f"| {s['rank']} | {_cell(titles.get(s['option_id'], '?'))} | {score} | {gates} |"
            )
        out.append("")
    out += ["## Consensus rounds", ""]
    if not data["rounds"]:
        out += ["_No consensus round was held._", ""]
    for i, r in enumerate(data["rounds"], 1):
        method = "fist-of-five" if r["method"] == "fist" else "consent"
        result = "passed" if r["passed"] else "did not pass"
        out.append(
            f"{i}. {_cell(titles.get(r['option_id'], '?'))}, by {method}: {result} ({r['summary']})"
        )
        for objection in r["objections"]:
            out.append(f"   - objection: {_cell(objection)}")
    if data["rounds"]:
        out.append("")
    out += ["## Dissent", "", (decision or {}).get("dissent") or "_None recorded._", ""]
    out += ["## Review", "", (decision or {}).get("review_date") or "_No review date set._", ""]
    return "\n".join(out)
