"""What the Decide panel draws: the ranking, the open round, the rounds so far, the decision.

Every number and outcome comes from ``protocol/`` (``rounds``, ``ballots``,
``results``, ``staleness``); these functions only lay it out as lines.
"""

from __future__ import annotations

import datetime
import textwrap

from accord.protocol.ballots import expected_voters, missing_voters, voted_count
from accord.protocol.model import PROPOSAL_KEY, Decision, Round, Session, Stance, Vote
from accord.protocol.partner import is_partner, may_see_ballots
from accord.protocol.permissions import can_vote, is_facilitator
from accord.protocol.results import cells, ranking
from accord.protocol.rounds import (
    NO_REASON,
    consensus_round,
    is_block,
    live_stances,
    numbered_rounds,
    round_number,
    stance_title,
)
from accord.tui.context import Context
from accord.tui.guide import name_of
from accord.tui.widgets.base import BoardPart, clip, pad
from accord.tui.widgets.marks import hidden_from_partner, need_label, stale_lines
from rich.text import Text

METHOD_NAMES = {"fist": "fist-of-five", "consent": "consent"}
OUTCOME_MARKS = {"passed": ("✓ passed", "good"), "blocked": ("✗ blocked", "bad")}


def last_score_vote(session: Session) -> Vote | None:
    """The latest score vote whose results anyone may see."""
    return next(
        (v for v in reversed(session.votes.values()) if v.kind == "score" and v.results_visible),
        None,
    )


def names(session: Session, member_ids: list[str]) -> str:
    """Members' names joined with commas."""
    return ", ".join(name_of(session, m) for m in member_ids)


def outcome_text(session: Session, round_: Round) -> tuple[str, str]:
    """A round's outcome in words and its style: passed, blocked, or incomplete with who."""
    if round_.outcome in OUTCOME_MARKS:
        return OUTCOME_MARKS[round_.outcome]
    if round_.missing:
        return f"… incomplete — did not answer: {names(session, round_.missing)}", "warn"
    return "… incomplete (nobody answered)", "warn"


def stance_line(part: BoardPart, session: Session, method: str, stance: Stance, width: int) -> Text:
    """``Kim: object — refunds untested`` with the block marked in words."""
    value = stance_title(method, stance.value)  # type: ignore[arg-type]
    block = is_block(method, stance.value)  # type: ignore[arg-type]
    line = Text(f"    {clip(name_of(session, stance.member_id), 16)}: ")
    line.append(
        value + (" (blocks)" if block and method == "fist" else ""),
        style=part.st("bad" if block else "good"),
    )
    if stance.reason:
        line.append(" — " + clip(stance.reason, max(8, width - len(line.plain) - 3)))
    elif block:
        line.append(f" — {NO_REASON} yet", style=part.st("dim"))
    return line


def stances_lines(
    part: BoardPart, session: Session, method: str, stances: list[Stance], width: int
) -> list[Text]:
    """Named stances: plain answers grouped by value on one line, blocks and reasons each own."""
    out: list[Text] = []
    plain: dict[int, list[str]] = {}
    for stance in stances:
        if stance.reason or is_block(method, stance.value):  # type: ignore[arg-type]
            out.append(stance_line(part, session, method, stance, width))
        else:
            plain.setdefault(stance.value, []).append(stance.member_id)
    grouped = []
    for value in sorted(plain, reverse=True):
        title = stance_title(method, value)  # type: ignore[arg-type]
        text = "    " + clip(f"{title}: {names(session, plain[value])}", width - 4)
        grouped.append(part.styled(text, "good"))
    return grouped + out


def ranking_lines(part: BoardPart, ctx: Context, width: int) -> list[Text]:
    """A compact ranking of the options from the last revealed score vote, or why there is none."""
    session = ctx.session
    title = part.styled(" Ranking", "title")
    vote = last_score_vote(session)
    if is_partner(session, ctx.me) and not may_see_ballots(session.partner_view, "score"):
        hidden = hidden_from_partner(session, ctx.me, "the ranking")
        return [title, part.styled(" " + hidden, "dim")]
    if vote is None:
        return [title, part.styled(" No scores revealed yet (Options phase).", "dim")]
    out = [title]
    table = cells(session, vote)
    for standing in ranking(session, vote, table):
        option = session.options.get(standing.option_id)
        score = f"{standing.score:.2f}" if standing.score is not None else "  -  "
        line = Text(f" #{standing.rank} {score}  ")
        struck = "struck" if standing.fails_gate else "title"
        label = pad(option.title if option else "?", max(8, min(26, width - 44)))
        line.append(label, style=part.st(struck))
        spreads = [c.spread for c in table.values() if c.option_id == standing.option_id]
        if spreads and max(spreads) > 0:
            line.append(f"  spread max {max(spreads):.1f}", style=part.st("dim"))
        if standing.failed_gates:
            gates = ", ".join(need_label(session, vote, g) for g in standing.failed_gates)
            line.append("  ✗ fails " + gates, style=part.st("bad"))
        out.append(line)
    for text in stale_lines(session, vote, width - 1, ctx.is_facilitator):
        out.append(part.styled(" " + text, "warn"))
    return out


def open_round_lines(part: BoardPart, ctx: Context, vote: Vote, width: int) -> list[Text]:
    """The current consensus round: number, statement, progress, your answer, the answers."""
    session = ctx.session
    method = METHOD_NAMES[vote.method]
    head = part.styled(f" Round {round_number(session, vote)}, {method}: ", "accent")
    head.append(vote.status)
    done, eligible = voted_count(session, vote)
    if vote.accepting:
        head.append(f" · {done}/{eligible} answered", style=part.st("dim"))
    out = [head]
    if vote.statement:
        out.append(part.styled(" On: " + clip(f"“{vote.statement}”", width - 6), "dim"))
    missing = missing_voters(session, vote)
    if vote.accepting and missing and is_facilitator(session, ctx.me):
        out.append(part.styled(" Waiting for: " + clip(names(session, missing), width - 15), "dim"))
    mine = vote.ballots.get(ctx.me)
    if can_vote(session, ctx.me):
        if mine is None or PROPOSAL_KEY not in mine.marks:
            keys = "0-5 fingers" if vote.method == "fist" else "a, s or x"
            said = f" Your answer: none yet ({keys})" if vote.accepting else " You did not answer."
            out.append(Text(said))
        else:
            value = mine.marks[PROPOSAL_KEY]
            line = Text(" Your answer: ")
            line.append(stance_title(vote.method, value), style=part.st("good"))
            if mine.reason:
                line.append(" — " + clip(mine.reason, width - 30), style=part.st("dim"))
            elif is_block(vote.method, value):
                again = "press it again" if vote.method == "fist" else "press x again"
                note = f" — counted; {NO_REASON} yet ({again} to add one)"
                line.append(note, style=part.st("warn"))
            out.append(line)
    answered = set(vote.voters)
    who = Text(" ")
    for member_id in answered_order(session, vote):
        ok = member_id in answered
        who.append("▣ " if ok else "□ ", style=part.st("good" if ok else "dim"))
        who.append(name_of(session, member_id) + "  ")
    out.append(who)
    if vote.results_visible:
        out.append(tally_line(part, session, vote))
        out.extend(stances_lines(part, session, vote.method, live_stances(session, vote), width))
    return out


def answered_order(session: Session, vote: Vote) -> list[str]:
    """Who the round expects, then anyone else who answered, in join order."""
    expected = expected_voters(session, vote)
    extra = [m for m in vote.voters if m not in expected]
    return [*expected, *extra]


def tally_line(part: BoardPart, session: Session, vote: Vote) -> Text:
    """How many gave each answer, as ``protocol.rounds`` sums it up (names follow, if any)."""
    line = part.styled(" Answers: ", "title")
    line.append(consensus_round(session, vote).summary)
    return line


def rounds_lines(part: BoardPart, session: Session, me: str, width: int) -> list[Text]:
    """The last rounds, numbered in the order they were opened, with outcome and stances."""
    numbered = numbered_rounds(session)
    if not numbered:
        return []
    out = [part.styled(" Rounds so far", "title")]
    if is_partner(session, me) and not session.partner_view.stances:
        out.append(part.styled(" " + hidden_from_partner(session, me, "who answered what"), "dim"))
    for number, rnd in numbered[-4:]:
        option = session.options.get(rnd.option_id)
        line = Text(f" {number}. {clip(option.title if option else '?', 24)}, ")
        line.append(f"{METHOD_NAMES[rnd.method]}{', anonymous' if rnd.anonymous else ''}: ")
        mark, style = outcome_text(session, rnd)
        line.append(mark, style=part.st(style))
        out.append(line)
        if rnd.statement:
            out.append(part.styled("    on " + clip(f"“{rnd.statement}”", width - 8), "dim"))
        out.append(part.styled(f"    {rnd.summary}", "dim"))
        if rnd.anonymous:
            for objection in rnd.objections[:2]:
                out.append(part.styled("    " + clip(f"objection: {objection}", width - 4), "warn"))
        else:
            out.extend(stances_lines(part, session, rnd.method, rnd.stances, width))
    return out


def _when(stamp: float) -> str:
    if not stamp:
        return "?"
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def decision_lines(part: BoardPart, session: Session, width: int) -> list[Text]:
    """The recorded decision (and how it was reached), then any decisions it replaced."""
    decision = session.decision
    out: list[Text] = []
    if decision is not None:
        option = session.options.get(decision.option_id)
        line = part.styled(" Decision recorded: ", "good")
        line.append(option.title if option else decision.option_id, style=part.st("title"))
        out.append(line)
        if decision.without_consensus:
            out.append(part.styled(" ⚠ recorded without consensus (no round passed on it)", "warn"))
        elif decision.round_number:
            out.append(part.styled(f" rests on round {decision.round_number}, which passed", "dim"))
        for piece in textwrap.wrap(decision.statement, width - 2, max_lines=4, placeholder="…"):
            out.append(Text(" " + piece))
        if decision.rationale:
            out.append(part.styled(" Why: " + clip(decision.rationale, width - 7), "dim"))
        dissent = decision.dissent or "none recorded"
        out.append(part.styled(" Dissent: " + clip(dissent, width - 11), "dim"))
        out.append(part.styled(" Review on: " + (decision.review_date or "no date set"), "dim"))
        out.append(part.styled(" " + recorded_by(session, decision), "dim"))
    if session.superseded:
        out.append(part.styled(" Superseded decisions", "title"))
        for old in session.superseded[-3:]:
            option = session.options.get(old.option_id)
            how = "without consensus" if old.without_consensus else f"round {old.round_number}"
            title = option.title if option else "?"
            by = name_of(session, old.superseded_by)
            replaced = f"replaced {_when(old.superseded_at)} by {by}"
            text = f"{title} ({how}); {recorded_by(session, old)}; {replaced}"
            out.append(part.styled("  ✕ " + clip(text, width - 4), "struck"))
    return out


def recorded_by(session: Session, decision: Decision) -> str:
    """``recorded by Fay, 2026-12-02 10:40 UTC``."""
    who = name_of(session, decision.recorded_by) if decision.recorded_by else "?"
    return f"recorded by {who}, {_when(decision.recorded_at)}"
