"""Plain words for the board: what the group is asked to do now, and notices for events.

Pure functions of a session; no Textual, so tests and the demo can use them.
"""

from __future__ import annotations

from typing import Literal

from accord.protocol import events as E
from accord.protocol.ballots import ballot_progress, voted_count
from accord.protocol.model import (
    CLASS_TITLES,
    PHASE_TITLES,
    Member,
    Session,
    Vote,
)
from accord.protocol.partner import is_partner
from accord.protocol.permissions import can_vote as may_vote
from accord.protocol.permissions import is_facilitator, voters_now
from accord.protocol.results import criteria, dots_used
from accord.protocol.rounds import OUTCOME_TITLES

Severity = Literal["information", "warning", "error"]

VOTE_NAMES = {
    "dots": "dot vote",
    "classify": "classification",
    "score": "scoring",
    "consensus": "consensus round",
}


#: Put after the name of a member the facilitator removed, wherever names show.
REMOVED_MARK = " (removed)"


def display_name(member: Member) -> str:
    """A member's name as the board shows it: marked when the facilitator removed them."""
    return member.name + (REMOVED_MARK if member.removed else "")


def name_of(session: Session, member_id: str) -> str:
    """A member's display name, or a placeholder for someone this view does not know."""
    member = session.members.get(member_id)
    return display_name(member) if member else "someone"


def clock(seconds: float) -> str:
    """Seconds as ``mm:ss`` (or ``h:mm:ss``), never negative."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"


def voters(session: Session) -> list[Member]:
    """Members who would vote in a vote opened now (``protocol.permissions.voters_now``)."""
    return [session.members[m] for m in voters_now(session)]


def vote_progress(session: Session, vote: Vote) -> str:
    """``3/5 voted``: complete ballots of the members eligible for this vote."""
    done, eligible = voted_count(session, vote)
    return f"{done}/{eligible} voted"


def task_line(session: Session, me: str) -> str:
    """One line: what the group (and you) are asked to do right now."""
    facilitator, partner = is_facilitator(session, me), is_partner(session, me)
    lead = facilitator
    if session.closed:
        return "The session is closed. Export the decision record with w."
    vote = session.open_vote()
    mine = vote.ballots.get(me) if vote else None
    can_vote = may_vote(session, me)
    watching = not can_vote and not partner  # an observer
    phase = session.phase
    if vote is not None and lead and vote.kind != "consensus":
        mine_done = _your_part(session, vote, me)
        return f"{mine_done}V reveals the {VOTE_NAMES[vote.kind]} ({vote_progress(session, vote)})."
    if phase == "learn":
        if vote and vote.kind == "dots" and can_vote:
            left = vote.dots - dots_used(mine)
            return f"Dot vote: put your dots on what matters most ({left} of {vote.dots} left)."
        dots = session.latest_vote("dots")
        if lead and dots is not None and dots.results_visible:
            return "The dots are in: press ] to move on to Needs."
        if lead and session.live_cards():
            return "Add cards with the group; v opens a dot vote, ] moves on to Needs."
        if partner:
            return "The group is gathering the big picture; you can add notes in Options."
        if watching:
            return "The group is adding cards on the big picture."
        return "Add cards: the value we are after, the cost of no change, what stakeholders say."
    if phase == "needs":
        if vote and vote.kind == "classify" and can_vote:
            got = ballot_progress(session, vote, me)
            return (
                f"Classify every need: must, optional or not a need ({got.done}/{got.total} done)."
            )
        needs = session.live_needs()
        unsettled = any(n.settled is None for n in needs)
        if lead and needs and not unsettled:
            return "Every need is settled: press ] for Options."
        if lead and unsettled:
            classified = session.latest_vote("classify")
            if classified is not None and classified.results_visible:
                return "Settle each need: M must, O optional, N not a need (U clears)."
            return "Propose needs; open the classification (v), then settle each need's class."
        if needs and not unsettled:
            return "Every need is settled; the facilitator moves on to Options."
        if not can_vote:
            return "The group proposes needs and classifies them; the facilitator settles each."
        return "Propose needs: what must be true for the change to succeed, and how it shows."
    if phase == "options":
        if vote and vote.kind == "score" and can_vote:
            got = ballot_progress(session, vote, me)
            return f"Score every option against every criterion ({got.done}/{got.total} cells)."
        scored = session.latest_vote("score")
        if lead and scored is not None and scored.results_visible:
            return "The ranking is in: press ] for Decide."
        if lead and not criteria(session):
            return "No criteria yet: settle needs in Needs ([) before scoring."
        if lead:
            return "Add options (a) and notes (n); v opens the scoring."
        if partner:
            return "Add honest facts about the options as notes (n); you do not vote."
        if watching:
            return "The group adds options and scores them against the criteria."
        return "Add options and notes; the criteria come from the settled needs."
    if session.decision is not None:
        if lead:
            return "The decision is recorded. Review it, then F closes the session."
        return "The decision is recorded. Review it, then the facilitator closes the session."
    if vote and vote.kind == "consensus" and can_vote:
        if lead:
            return f"Consensus round open: V reveals it ({vote_progress(session, vote)})."
        if mine is None:
            return "Consensus round: give your answer to the proposal."
        return "You answered; you can change it until the facilitator reveals."
    if session.proposal is None:
        if lead:
            return "Propose an option and a decision statement with p."
        return "The facilitator proposes an option and a decision statement."
    if lead:
        return "Discuss the proposal; v opens a consensus round, D records the decision."
    return "Discuss the proposal; the facilitator runs a consensus round."


def _your_part(session: Session, vote: Vote, me: str) -> str:
    """For the facilitator: "Vote too; " while their own ballot is empty."""
    return "Vote too, then " if me not in vote.voters else ""


def notice_for(session: Session, event: E.Event, me: str) -> tuple[str, Severity] | None:
    """A notice for an event someone else caused that matters to you, if any.

    ``session`` is the state after the event was applied.
    """
    if event.by == me:
        return None
    body = event.body
    who = name_of(session, event.by)
    if isinstance(body, E.PhaseChanged):
        return f"{who} moved the board to {PHASE_TITLES[body.phase]}.", "information"
    if isinstance(body, E.VoteOpened):
        vote = body.vote
        how = "hidden until the reveal" if vote.hidden else "results show live"
        if vote.anonymous:
            how += ", anonymous"
        return f"A {VOTE_NAMES[vote.kind]} opened ({how}).", "information"
    if isinstance(body, E.VoteRevealed):
        revealed = session.votes.get(body.vote_id)
        kind = VOTE_NAMES[revealed.kind] if revealed else "vote"
        if body.round is not None:
            outcome = OUTCOME_TITLES[body.round.outcome]
            number = body.round.number or ""
            return f"Consensus round {number} {outcome}: {body.round.summary}.", "information"
        return f"The {kind} results are revealed.", "information"
    if isinstance(body, E.VoteClosed):
        return "The vote closed; no more ballots.", "information"
    if isinstance(body, E.Proposed):
        option = session.options.get(body.proposal.option_id)
        title = option.title if option else "an option"
        return f"{who} proposed {title}.", "information"
    if isinstance(body, E.DecisionRecorded):
        return "The decision is recorded.", "information"
    if isinstance(body, E.SessionClosed):
        return "The facilitator closed the session.", "warning"
    if isinstance(body, E.TimerStarted):
        return (
            f"Timebox started: {clock(body.timer.seconds)} for {body.timer.label}.",
            "information",
        )
    if isinstance(body, E.MemberJoined):
        member = body.member
        dept = f" ({member.department})" if member.department else ""
        return f"{member.name}{dept} joined as {member.role}.", "information"
    if isinstance(body, E.NeedSettled) and body.cls is not None:
        need = session.needs.get(body.need_id)
        if need is not None and need.author == me:
            return f"Your need was settled as {CLASS_TITLES[body.cls]}.", "information"
    if isinstance(body, E.MemberRemoved):
        if body.member_id == me:
            return None  # the board says goodbye in its own words
        removed = session.members.get(body.member_id)
        return (
            f"{removed.name if removed else 'A member'} was removed from the session; "
            "what they added stays.",
            "information",
        )
    if isinstance(body, E.CodesRotated):
        return "The facilitator issued new join codes; the old ones no longer work.", "information"
    if isinstance(body, E.BudgetWarned):
        if not is_facilitator(session, me):
            return None  # only the facilitator can act on it
        return budget_notice(body), "information"
    if isinstance(body, E.CardDeleted | E.NeedDeleted | E.OptionDeleted):
        return f"{who} deleted an item.", "information"
    return None


def budget_notice(warning: E.BudgetWarned) -> str:
    """The facilitator's calm line for a relay's budget warning (numbers only, no relay text)."""
    limit = max(warning.limit, 1)
    share = min(100, round(100 * warning.used / limit))
    if warning.budget == "events":
        what = f"the changes a session may hold ({warning.used:,} of {limit:,})"
    else:
        mib = 1024 * 1024
        used, most = warning.used / mib, limit / mib
        what = f"the board size a session may have ({used:.1f} of {most:.1f} MiB)"
    return (
        f"Heads-up from the relay: this session has used {share}% of {what}. "
        "Everything is saved; plan to record the decision and close the session before it fills."
    )


#: What each phase asks, for the help screen.
PHASE_HELP: dict[str, str] = {
    "learn": (
        "The big picture. What value are we after? What happens if nothing changes? "
        "What are stakeholders saying? Add cards to the three lanes, then spend your "
        "dots on the cards that matter most when the facilitator opens a dot vote."
    ),
    "needs": (
        "What success looks like. Propose needs with why they matter and how success "
        "would show. Classify every need as must, optional or not a need. The "
        "department lens shows where departments disagree; the facilitator settles "
        "each need's class."
    ),
    "options": (
        "Assess the options. Must-needs become pass/fail gates and optional needs "
        "weighted criteria. Score every option against every criterion; scores stay "
        "hidden until the reveal, then the board ranks the options, strikes out those "
        "that fail a gate and marks the cells where people disagree."
    ),
    "decide": (
        "Reach a conclusion. The facilitator proposes an option with a decision "
        "statement and runs consensus rounds (fist-of-five, or consent where an "
        "objection needs a reason) until it passes or the dissent is recorded."
    ),
}
