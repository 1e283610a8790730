"""The decision record: a session rendered as JSON-ready data and as Markdown.

``record_data`` (in ``record_data``) is the JSON export; ``record_markdown``
renders the same data as a document fit to commit. Every user field goes
through ``markdown.inline`` or ``markdown.block``, so no text a member typed
can forge a heading, hide a section or inject HTML.
"""

from __future__ import annotations

from typing import Any

from .markdown import block, cell, field, inline
from .model import CLASS_TITLES, KIND_TITLES, LANE_TITLES, LANES, PHASE_TITLES, Session
from .record_data import RECORD_FORMAT, record_data

__all__ = ["RECORD_FORMAT", "record_data", "record_markdown"]

_METHOD = {"fist": "fist-of-five", "consent": "consent"}
_OUTCOME = {
    "passed": "passed",
    "blocked": "blocked",
    "incomplete": "incomplete: ended before everyone answered",
}


def _when(iso_time: str | None) -> str:
    return iso_time.replace("T", " ").replace("Z", " UTC") if iso_time else ""


def _decision(d: dict[str, Any], heading: str) -> list[str]:
    out = [f"**{inline(d['option'])}**{heading}", "", *block(d["statement"]), ""]
    if d["without_consensus"]:
        out.append("- **Recorded without consensus**: no round passed on this statement.")
    elif d["round"]:
        out.append(f"- Rests on round {d['round']}, which passed.")
    out += field("Rationale", d["rationale"], "(none given)")
    out += field("Dissent", d["dissent"], "(none recorded)")
    out.append(f"- Review on: {d['review_date'] or '(no review date)'}")
    by = f" by {inline(d['recorded_by'])}" if d["recorded_by"] else ""
    out.append(f"- Recorded: {_when(d['recorded_at'])}{by}")
    if d["superseded_by"]:
        out.append(f"- Superseded: {_when(d['superseded_at'])} by {inline(d['superseded_by'])}")
    return [*out, ""]


def _edits(label: str, edits: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in edits:
        before = "; ".join(f"{k}: {inline(v) or '(empty)'}" for k, v in e["before"].items())
        out.append(f"- {label}, edited {_when(e['at'])} by {inline(e['by'])}; before: {before}")
    return out


def _rounds(data: dict[str, Any], titles: dict[str, str]) -> list[str]:
    out = ["## Consensus rounds", ""]
    if not data["rounds"]:
        return [*out, "_No consensus round was held._", ""]
    for r in data["rounds"]:
        title = inline(titles.get(r["option_id"], "(deleted option)"))
        out += [f"### Round {r['number']}: {title}, {_OUTCOME[r['outcome']]}", ""]
        out += [*block(r["statement"]), ""]
        anonymous = ", anonymous" if r["anonymous"] else ""
        out.append(f"- Method: {_METHOD[r['method']]}{anonymous}")
        out.append(f"- Result: {inline(r['summary'])}")
        eligible = ", ".join(inline(n) for n in r["eligible"]) or "(not recorded)"
        out.append(f"- Eligible: {eligible}")
        if r["missing"]:
            out.append("- Did not answer: " + ", ".join(inline(n) for n in r["missing"]))
        for s in r["stances"]:
            reason = f": {inline(s['reason'])}" if s["reason"] else ""
            out.append(f"- {inline(s['name'])}: {s['answer']}{reason}")
        if r["anonymous"]:
            out += [f"- Objection: {inline(o)}" for o in r["objections"]]
        out.append("")
    return out


def _kind(criterion: dict[str, Any]) -> str:
    return "gate" if criterion["gate"] else f"weight {criterion['weight']}"


def _scores(data: dict[str, Any], titles: dict[str, str], needs: dict[str, str]) -> list[str]:
    out = ["## Scores and ranking", ""]
    scores = data["scores"]
    if not data["ranking"] or scores is None:
        return [*out, "_No score vote was revealed._", ""]
    out += ["| Rank | Option | Weighted score (0-5) | Gates |", "|---|---|---|---|"]
    for s in data["ranking"]:
        score = f"{s['score']:.2f}" if s["score"] is not None else "-"
        failed = [needs.get(n, n) for n in s["failed_gates"]]
        gates = "fails: " + "; ".join(inline(t) for t in failed) if failed else "pass"
        out.append(f"| {s['rank']} | {cell(titles.get(s['option_id'], '?'))} | {score} | {gates} |")
    out += ["", "### Score matrix", ""]
    out.append("Each score cell: mean (spread), the spread being the standard deviation of")
    out.append("the answers, so a high spread means people disagree. Gate cells count passes")
    out.append("and fails.")
    out.append("")
    crit = scores["criteria"]
    head = [f"{cell(c['text'])} ({_kind(c)})" for c in crit]
    out += ["| Option | " + " | ".join(head) + " |", "|---" * (len(crit) + 1) + "|"]
    by_key = {(c["option_id"], c["need_id"]): c for c in scores["cells"]}
    for option_id, title in titles.items():
        row = []
        for c in crit:
            found = by_key.get((option_id, c["need_id"]))
            if found is None or not found["values"]:
                row.append("-")
            elif found["gate"]:
                row.append(f"{found['passes']} pass / {found['fails']} fail")
            else:
                row.append(f"{found['mean']:.2f} ({found['spread']:.2f})")
        out.append(f"| {cell(title)} | " + " | ".join(row) + " |")
    out.append("")
    if scores["incomplete_ballots"]:
        out.append(f"- Incomplete ballots: {scores['incomplete_ballots']}")
    if scores["missing"]:
        out.append("- No complete ballot from: " + ", ".join(inline(n) for n in scores["missing"]))
    for mark in scores["stale"]:
        out.append(f"- **Stale**: {inline(mark['need'])}: {inline(mark['what'])}")
    return [*out, ""]


def record_markdown(session: Session) -> str:
    """The decision record as Markdown, fit to commit next to the code it concerns."""
    data = record_data(session)
    titles = {o["id"]: o["title"] for o in data["options"]}
    needs = {n["id"]: n["text"] for n in data["needs"]}
    out: list[str] = [f"# Decision record: {inline(session.question)}", ""]
    status = "closed" if session.closed else f"open, in {PHASE_TITLES[session.phase]}"
    out += [
        f"- Session: {inline(session.id)} ({status})",
        f"- Started: {_when(data['created_at'])}",
    ]
    if data["path"]:
        path = " → ".join(PHASE_TITLES[p["phase"]] for p in data["path"])
        out.append(f"- Path: Learn → {path}")
    out += ["", "## Decision", ""]
    if data["decision"] is None:
        out += ["_No decision has been recorded yet._", ""]
    else:
        out += _decision(data["decision"], "")
    out += ["## Superseded decisions", ""]
    if not data["superseded"]:
        out += ["_None: no decision was replaced._", ""]
    for i, d in enumerate(data["superseded"], 1):
        out += _decision(d, f" (superseded decision {i})")
    out += ["## Participants", "", "| Name | Role | Department |", "|---|---|---|"]
    out += [
        f"| {cell(p['name'])} | {p['role']}{' (removed)' if p['removed'] else ''}"
        f" | {cell(p['department'])} |"
        for p in data["participants"]
    ]
    departments = ", ".join(inline(d) for d in data["departments"]) or "(none given)"
    out += ["", f"Departments: {departments}", "", "## The big picture", ""]
    for lane in LANES:
        cards = [c for c in data["cards"] if c["lane"] == lane]
        out += [f"### {LANE_TITLES[lane]}", ""]
        if not cards:
            out.append("_No cards._")
        for card in sorted(cards, key=lambda c: -c["dots"]):
            count = card["dots"]
            dots = f" ({count} dot{'s' if count != 1 else ''})" if count else ""
            edited = " (edited)" if card["edits"] else ""
            out.append(f"- {inline(card['text'])}{dots}{edited}")
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
            if need["stale"]:
                votes += " (stale)"
            cls = CLASS_TITLES[need["class"]] if need["class"] else "unsettled"
            edited = " (edited)" if need["edits"] else ""
            out.append(
                f"| {cell(need['text'])}{edited} | {cell(need['why'])} | "
                f"{cell(need['success'])} | {cell(need['department'])} | {cls} | {votes} |"
            )
        out.append("")
        classify = data["classify"]
        if classify is not None:
            if classify["incomplete_ballots"]:
                out.append(f"- Incomplete classify ballots: {classify['incomplete_ballots']}")
            for mark in classify["stale"]:
                out.append(f"- **Stale**: {inline(mark['need'])}: {inline(mark['what'])}")
            if classify["incomplete_ballots"] or classify["stale"]:
                out.append("")
        lens_rows = [n for n in data["needs"] if n["departments"]]
        if lens_rows:
            out += ["### Department lens", ""]
            for need in lens_rows:
                parts = [
                    f"{inline(d)}: {s['must']}/{s['optional']}/{s['not_a_need']}"
                    for d, s in need["departments"].items()
                ]
                out.append(f"- {inline(need['text'])}: " + "; ".join(parts))
            out.append("")
    out += ["## Criteria", ""]
    if not data["criteria"]:
        out += ["_No criteria: no need was settled as must or optional._", ""]
    for c in data["criteria"]:
        kind = "gate (must pass)" if c["gate"] else f"weight {c['weight']}"
        out.append(f"- {inline(c['text'])}: {kind}")
    out += ["", "## Options", ""]
    for option in data["options"]:
        line = f"- **{inline(option['title'])}** ({KIND_TITLES[option['kind']]})"
        if option["description"]:
            line += f": {inline(option['description'])}"
        out.append(line + (" (edited)" if option["edits"] else ""))
        for note in option["notes"]:
            out.append(f"  - note from the {note['from']}: {inline(note['text'])}")
    out.append("")
    out += _scores(data, titles, needs)
    out += _rounds(data, titles)
    changes = [
        *[e for c in data["cards"] for e in _edits(f"Card “{inline(c['text'])}”", c["edits"])],
        *[e for n in data["needs"] for e in _edits(f"Need “{inline(n['text'])}”", n["edits"])],
        *[e for o in data["options"] for e in _edits(f"Option “{inline(o['title'])}”", o["edits"])],
    ]
    out += ["## Changes after the fact", ""]
    out += changes or ["_Nothing was reworded._"]
    out.append("")
    decision = data["decision"] or {}
    out += ["## Dissent", "", *block(decision.get("dissent", ""), "_None recorded._"), ""]
    out += ["## Review", "", decision.get("review_date") or "_No review date set._", ""]
    return "\n".join(out)
