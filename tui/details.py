"""What the detail view shows for one item: full text, author, edit history and votes.

Pure functions of a session as one member sees it (their projection): no
Textual, so tests read the lines directly. Every count comes from the
protocol's own result functions; nothing here re-implements a rule. A member
sees only what their copy of the session holds, so a partner's detail shows
what the partner's projection carries and no more.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from accord.protocol.ballots import missing_voters
from accord.protocol.model import (
    CLASS_TITLES,
    KIND_TITLES,
    LANE_TITLES,
    MARK_CLASS,
    Edit,
    Session,
    Vote,
)
from accord.protocol.partner import is_partner
from accord.protocol.results import (
    Cell,
    cell_key,
    cells,
    department_lens,
    dot_totals,
    need_split,
    ranking,
    vote_criteria,
)
from accord.protocol.rounds import OUTCOME_TITLES, live_stances, numbered_rounds, stance_title
from accord.protocol.staleness import stale_marks
from accord.tui.context import NO_PENDING, Pending
from accord.tui.guide import name_of
from accord.tui.marks import gate_counts, legend_lines

#: Field names of an edit trace, in words.
FIELD_TITLES = {
    "text": "text",
    "why": "why",
    "success": "success",
    "title": "title",
    "description": "description",
}


class Line(NamedTuple):
    """One line of a detail view and how to style it (a board style name, or "")."""

    text: str
    style: str = ""


@dataclass(slots=True)
class Detail:
    """A titled list of lines, ready to draw."""

    title: str
    lines: list[Line] = field(default_factory=list)

    def add(self, text: str = "", style: str = "") -> None:
        """Append one line (text with line breaks becomes several lines)."""
        for part in text.split("\n") if text else [""]:
            self.lines.append(Line(part, style))

    def head(self, text: str) -> None:
        """A blank line, then a section heading."""
        self.lines.append(Line(""))
        self.lines.append(Line(text, "title"))

    def plain(self) -> str:
        """Every line as text (for tests and logs)."""
        return "\n".join(line.text for line in self.lines)


def when(at: float) -> str:
    """A time stamp as ``2026-12-02 10:31`` in local time."""
    return datetime.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


def author_line(session: Session, member_id: str) -> str:
    """``by Priya (Finance)``, or the role when the author has no department."""
    member = session.members.get(member_id)
    if member is None:
        return "by accord" if member_id == "accord" else "by someone this view does not know"
    extra = member.department or member.role
    return f"by {member.name} ({extra})"


def _edits(detail: Detail, session: Session, edits: list[Edit]) -> None:
    if not edits:
        detail.head("History")
        detail.add("Never edited.", "dim")
        return
    detail.head(f"History: {len(edits)} earlier wording{'s' if len(edits) != 1 else ''}")
    for edit in edits:
        detail.add(f"{when(edit.at)}, changed by {name_of(session, edit.by)}; before:", "dim")
        for name, value in edit.before.items():
            detail.add(f"  {FIELD_TITLES.get(name, name)}:", "dim")
            detail.add("\n".join("    " + part for part in (value or "(empty)").split("\n")))


def _legend(detail: Detail, kind: str) -> None:
    detail.head("Marks")
    for line in legend_lines(kind):
        detail.add(line, "dim")


def _latest(session: Session, kind: str) -> Vote | None:
    votes = [v for v in session.votes.values() if v.kind == kind]
    open_votes = [v for v in votes if v.accepting]
    chosen = open_votes or votes
    return chosen[-1] if chosen else None


def _pending(pending: Pending, vote: Vote | None, key: str) -> int | None:
    if vote is None:
        return None
    return pending.get(vote.id, {}).get(key)


def _stale(detail: Detail, session: Session, vote: Vote, need_ids: set[str] | None) -> None:
    marks = [m for m in stale_marks(session, vote) if need_ids is None or m.need_id in need_ids]
    for mark in marks:
        need = session.needs.get(mark.need_id)
        what = f"“{need.text}”: " if need is not None else ""
        detail.add(f"stale: {what}{mark.what}", "warn")


def card_detail(session: Session, me: str, card_id: str, pending: Pending = NO_PENDING) -> Detail:
    """A Learn card: lane, full text, author, history and its dots as far as you may see."""
    card = session.cards[card_id]
    detail = Detail(f"Card · {LANE_TITLES[card.lane]}")
    detail.add(card.text)
    detail.add(author_line(session, card.author), "dim")
    merged = [c for c in session.cards.values() if c.merged_into == card.id]
    if card.merged_into:
        target = session.cards.get(card.merged_into)
        detail.add(f"Merged into: {target.text if target else 'another card'}", "dim")
    if merged:
        detail.head(f"Merged into this card ({len(merged)})")
        for other in merged:
            detail.add(f"• {other.text}  ({author_line(session, other.author)})")
    _edits(detail, session, card.edits)
    vote = _latest(session, "dots")
    detail.head("Dots")
    if vote is None:
        detail.add("No dot vote yet.", "dim")
    else:
        ids = [card.id, *(c.id for c in merged)]
        own = vote.ballots.get(me)
        mine = sum(own.marks.get(i, 0) for i in ids) if own else 0
        sent = _pending(pending, vote, card.id)
        if sent is not None:
            detail.add(f"You: {sent} · (sent, not yet confirmed)", "warn")
        elif mine:
            detail.add(f"You: {mine}")
        if vote.results_visible:
            totals = dot_totals(vote)
            total = sum(totals.get(i, 0) for i in ids)
            detail.add(f"All dots: {total} ({vote.status})")
            if not vote.anonymous:
                for member_id, ballot in vote.ballots.items():
                    count = sum(ballot.marks.get(i, 0) for i in ids)
                    if count and member_id != me:
                        detail.add(f"  {name_of(session, member_id)}: {count}", "dim")
        else:
            detail.add(f"Dot totals stay hidden until the vote is revealed ({vote.status}).", "dim")
    _legend(detail, "card")
    return detail


def need_detail(session: Session, me: str, need_id: str, pending: Pending = NO_PENDING) -> Detail:
    """A need: its text, why, success measure, author, class, history and classify split."""
    need = session.needs[need_id]
    detail = Detail("Need")
    detail.add(need.text)
    detail.add(author_line(session, need.author), "dim")
    detail.head("Why it matters")
    detail.add(need.why or "(not given)")
    detail.head("Success shows as")
    detail.add(need.success or "(not given)")
    if need.settled is not None:
        weight = f", weight {need.weight}" if need.settled == "optional" else ""
        detail.add(f"Settled as {CLASS_TITLES[need.settled]}{weight}.", "accent")
    _edits(detail, session, need.edits)
    vote = _latest(session, "classify")
    detail.head("Classification")
    if vote is None:
        detail.add("No classification yet.", "dim")
        _legend(detail, "need")
        return detail
    own = vote.ballots.get(me)
    sent = _pending(pending, vote, need.id)
    mark = own.marks.get(need.id) if own else None
    if sent is not None and sent in MARK_CLASS:
        detail.add(f"You: {CLASS_TITLES[MARK_CLASS[sent]]} · (sent, not yet confirmed)", "warn")
    elif mark in MARK_CLASS:
        detail.add(f"You: {CLASS_TITLES[MARK_CLASS[mark]]}")
    if vote.results_visible:
        split = need_split(vote, need.id)
        detail.add(
            f"must {split.must} · optional {split.optional} · not a need {split.not_a_need}"
            f" ({vote.status})"
        )
        for lens in department_lens(session, vote):
            if lens.need_id != need.id:
                continue
            for dept, part in sorted(lens.departments.items()):
                detail.add(
                    f"  {dept}: must {part.must} · optional {part.optional} · "
                    f"not {part.not_a_need}",
                    "dim",
                )
            if lens.departments_disagree:
                detail.add("≠ departments reach different majorities", "warn")
    else:
        detail.add(f"The split stays hidden until the vote is revealed ({vote.status}).", "dim")
    _stale(detail, session, vote, {need.id})
    _legend(detail, "need")
    return detail


def cell_words(cell: Cell, gate: bool) -> str:
    """One cell's answers for people: gate counts, or mean, spread and the answers."""
    if not cell.values:
        return "no answers"
    if gate:
        return gate_counts(cell.values)
    answers = ",".join(str(v) for v in sorted(cell.values))
    return f"mean {cell.mean:.1f}, spread {cell.spread:.1f} (answers {answers})"


def option_detail(
    session: Session, me: str, option_id: str, pending: Pending = NO_PENDING
) -> Detail:
    """An option: kind, full title and description, notes, history and its scores."""
    option = session.options[option_id]
    detail = Detail(f"Option · {KIND_TITLES[option.kind]}")
    detail.add(option.title, "title")
    detail.add(author_line(session, option.author), "dim")
    detail.add(option.description or "(no description)")
    notes = [n for n in session.notes.values() if n.option_id == option.id]
    detail.head(f"Notes ({len(notes)})" if notes else "Notes")
    if not notes:
        detail.add("No notes yet.", "dim")
    for note in notes:
        who = "partner" if note.role == "partner" else "note"
        detail.add(f"◇ {who} {author_line(session, note.author)}:", "mark")
        detail.add("\n".join("  " + part for part in note.text.split("\n")))
    _edits(detail, session, option.edits)
    vote = _latest(session, "score")
    detail.head("Scores")
    if vote is None:
        detail.add("No score vote yet.", "dim")
        _legend(detail, "option")
        return detail
    own = vote.ballots.get(me)
    crits = vote_criteria(session, vote)
    table = cells(session, vote) if vote.results_visible else {}
    if not crits:
        shared = not is_partner(session, me)
        detail.add("No criteria yet." if shared else "Scores are not shared with you.", "dim")
    for j, crit in enumerate(crits, 1):
        key = cell_key(option.id, crit.need_id)
        kind = "gate" if crit.gate else f"weight {crit.weight}"
        detail.add(f"C{j} {crit.text} ({kind})")
        sent = _pending(pending, vote, key)
        mark = own.marks.get(key) if own else None
        shown = sent if sent is not None else mark
        if shown is not None:
            word = ("pass" if shown else "fail") if crit.gate else str(shown)
            suffix = " · (sent, not yet confirmed)" if sent is not None else ""
            detail.add(f"  you: {word}{suffix}", "warn" if sent is not None else "")
        cell = table.get(key)
        if cell is not None:
            detail.add(f"  all: {cell_words(cell, crit.gate)}", "dim")
    if vote.results_visible and table:
        for standing in ranking(session, vote, table):
            if standing.option_id != option.id:
                continue
            score = f"{standing.score:.2f}" if standing.score is not None else "-"
            detail.add(f"Rank #{standing.rank} of {len(session.options)}, score {score}", "accent")
            for need_id in standing.failed_gates:
                need = session.needs.get(need_id)
                detail.add(f"✗ fails the gate “{need.text if need else need_id}”", "bad")
    elif not vote.results_visible:
        detail.add(f"Others' scores stay hidden until the vote is revealed ({vote.status}).", "dim")
    _stale(detail, session, vote, None)
    _legend(detail, "option")
    return detail


def note_detail(session: Session, me: str, note_id: str) -> Detail:
    """One note on an option, in full, with its author."""
    note = session.notes[note_id]
    option = session.options.get(note.option_id)
    who = "Partner note" if note.role == "partner" else "Note"
    detail = Detail(f"{who} on {option.title if option else 'an option'}")
    detail.add(note.text)
    detail.add(author_line(session, note.author), "dim")
    return detail


def round_detail(session: Session, me: str, number: int) -> Detail:
    """A consensus round: proposal, outcome, stances, objections and who did not answer.

    ``number`` is the round's number (``numbered_rounds``); a round still open is
    shown from its live vote, as far as this member may see it.
    """
    for n, round_ in numbered_rounds(session):
        if n != number:
            continue
        option = session.options.get(round_.option_id)
        detail = Detail(f"Round {n} · {OUTCOME_TITLES[round_.outcome]}")
        detail.add(f"Option: {option.title if option else 'an option since deleted'}", "title")
        detail.add(round_.statement or "(no statement)")
        detail.add(f"Method: {'fist-of-five' if round_.method == 'fist' else 'consent'}", "dim")
        detail.add(round_.summary)
        detail.head("Answers")
        if round_.anonymous:
            detail.add("Anonymous round: answers carry no names.", "dim")
        elif not round_.stances:
            detail.add("No named answers in this view.", "dim")
        for stance in round_.stances:
            who = name_of(session, stance.member_id)
            detail.add(f"{who}: {stance_title(round_.method, stance.value)}")
            if stance.reason:
                detail.add("\n".join("  " + part for part in stance.reason.split("\n")), "dim")
        if round_.objections:
            detail.head("Objections")
            for objection in round_.objections:
                detail.add(
                    "\n".join(
                        ("• " if i == 0 else "  ") + p for i, p in enumerate(objection.split("\n"))
                    )
                )
        if round_.missing:
            names = ", ".join(name_of(session, m) for m in round_.missing)
            detail.add(f"Did not answer: {names}", "warn")
        return detail
    return _open_round(session, me, number)


def _open_round(session: Session, me: str, number: int) -> Detail:
    vote = session.open_vote("consensus")
    detail = Detail(f"Round {number}")
    if vote is None:
        detail.add("This round is not in this view.", "dim")
        return detail
    option = session.options.get(vote.option_id or "")
    detail.title = f"Round {number} · open"
    detail.add(f"Option: {option.title if option else 'an option'}", "title")
    detail.add(vote.statement or "(no statement)")
    detail.head("Answers so far")
    if vote.hidden and not vote.revealed:
        detail.add("Others' answers stay hidden until the round is revealed.", "dim")
    for stance in live_stances(session, vote):
        detail.add(
            f"{name_of(session, stance.member_id)}: {stance_title(vote.method, stance.value)}"
        )
        if stance.reason:
            detail.add("  " + stance.reason, "dim")
    missing = missing_voters(session, vote)
    if missing:
        detail.add(f"Not answered yet: {', '.join(name_of(session, m) for m in missing)}", "dim")
    return detail
