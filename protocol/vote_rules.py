"""The rules of votes and of the Decide phase: opening, ballots, closing, revealing, deciding."""

from __future__ import annotations

import datetime

from . import commands as C
from . import events as E
from . import limits as L
from .ballots import answered
from .checks import (
    FACILITATOR,
    VOTE_PHASE,
    VOTERS,
    Ctx,
    find_option,
    find_vote,
    new_id,
    require_no_open_vote,
    require_phase,
    require_role,
    require_room,
)
from .errors import ErrorCode, Refusal
from .model import (
    CLASS_MARK,
    CONSENT_AGREE,
    PROPOSAL_KEY,
    Ballot,
    Decision,
    Proposal,
    Session,
    Vote,
    VoteNeed,
)
from .results import criteria, vote_criteria
from .rounds import consensus_round, decision_basis

# ---- votes ------------------------------------------------------------------


def open_vote(ctx: Ctx, cmd: C.OpenVote) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "open votes")
    session = ctx.session
    phase = VOTE_PHASE[cmd.kind]
    require_phase(ctx, (phase,), f"open a {cmd.kind} vote")
    require_room(len(session.votes), ctx.caps.votes, "votes")
    if session.open_vote(cmd.kind) is not None:
        raise Refusal(ErrorCode.CONFLICT, f"a {cmd.kind} vote is already open; close it first")
    option_id: str | None = None
    statement = ""
    needs: list[VoteNeed] = []
    crit = []
    option_ids: list[str] = []
    if cmd.kind == "dots":
        items = [c for c in session.live_cards() if cmd.lane is None or c.lane == cmd.lane]
        if not items:
            raise Refusal(ErrorCode.INVALID, "there are no cards to vote on yet")
    elif cmd.kind == "classify":
        needs = [VoteNeed(id=n.id, text=n.text) for n in session.live_needs()]
        if not needs:
            raise Refusal(ErrorCode.INVALID, "there are no needs to classify yet")
    elif cmd.kind == "score":
        crit = criteria(session)
        if not crit:
            raise Refusal(ErrorCode.INVALID, "settle at least one need as must or optional first")
        option_ids = list(session.options)
        if len(crit) * len(option_ids) > L.MAX_MARKS:
            raise Refusal(
                ErrorCode.LIMIT,
                f"{len(option_ids)} options x {len(crit)} criteria is more than the "
                f"{L.MAX_MARKS} cells a ballot may hold; drop some first",
            )
    else:
        if session.proposal is None:
            raise Refusal(ErrorCode.INVALID, "propose an option and a statement first")
        held = sum(1 for v in session.votes.values() if v.kind == "consensus")
        if held >= L.MAX_ROUNDS:
            raise Refusal(
                ErrorCode.LIMIT, f"this session already held the most rounds allowed ({held})"
            )
        option_id, statement = session.proposal.option_id, session.proposal.statement
    vote = Vote(
        id=new_id(session, "v"),
        kind=cmd.kind,
        phase=phase,
        title=cmd.title,
        # Live tallies of an anonymous vote would show whose ballot just arrived, so an
        # anonymous vote always stays hidden until the reveal.
        hidden=cmd.hidden or cmd.anonymous,
        anonymous=cmd.anonymous,
        method=cmd.method,
        dots=cmd.dots,
        max_per_item=cmd.max_per_item,
        lane=cmd.lane if cmd.kind == "dots" else None,
        option_id=option_id,
        statement=statement,
        opened_at=ctx.now,
        # Who is expected to answer is fixed now; a later joiner is never "missing".
        eligible=[m.id for m in session.members.values() if m.role in VOTERS and not m.removed],
        needs=needs,
        criteria=crit,
        option_ids=option_ids,
    )
    return [E.VoteOpened(vote=vote)]


def cast(ctx: Ctx, cmd: C.Cast) -> list[E.EventBody]:
    session = ctx.session
    vote = find_vote(session, cmd.vote_id)
    if ctx.member.role not in VOTERS:
        raise Refusal(ErrorCode.FORBIDDEN, f"a {ctx.member.role} does not vote")
    if not vote.accepting:
        raise Refusal(ErrorCode.VOTE_CLOSED, "this vote is closed")
    require_phase(ctx, (vote.phase,), f"vote in this {vote.kind} vote")
    if not cmd.marks:
        raise Refusal(ErrorCode.INVALID, "the ballot marks nothing")
    old = vote.ballots.get(ctx.member.id)
    marks = dict(old.marks) if old else {}
    _check_marks(session, vote, cmd.marks)
    marks.update(cmd.marks)
    reason = cmd.reason.strip()
    if vote.kind == "dots":
        marks = {k: v for k, v in marks.items() if v > 0}
        spent = sum(marks.values())
        if spent > vote.dots:
            raise Refusal(ErrorCode.LIMIT, f"that would use {spent} dots; you have {vote.dots}")
    if vote.kind == "consensus":
        # A block counts at once; its reason may follow in a later cast of the same answer.
        if not reason and old is not None and old.marks == marks:
            reason = old.reason
    else:
        reason = ""
    if len(marks) > L.MAX_MARKS:
        raise Refusal(ErrorCode.LIMIT, f"a ballot holds at most {L.MAX_MARKS} marks")
    ballot = Ballot(marks, reason)
    progress = answered(session, vote, ballot)
    return [
        E.BallotCast(
            vote_id=vote.id,
            member_id=ctx.member.id,
            ballot=ballot,
            done=min(progress.done, L.MAX_MARKS),
            complete=progress.complete,
        )
    ]


def _check_marks(session: Session, vote: Vote, marks: dict[str, int]) -> None:
    if vote.kind == "dots":
        cards = {c.id for c in session.live_cards() if vote.lane is None or c.lane == vote.lane}
        for key, value in marks.items():
            if key not in cards:
                raise Refusal(ErrorCode.NOT_FOUND, f"marks[{key!r}]: no such card in this vote")
            cap = vote.max_per_item or vote.dots
            if not 0 <= value <= cap:
                raise Refusal(ErrorCode.LIMIT, f"marks[{key!r}]: at most {cap} dots on one card")
    elif vote.kind == "classify":
        needs = {n.id for n in vote.needs} or {n.id for n in session.live_needs()}
        for key, value in marks.items():
            if key not in needs:
                raise Refusal(
                    ErrorCode.NOT_FOUND,
                    f"marks[{key!r}]: no such need in this vote (a need added after it "
                    "opened waits for the next classify vote)",
                )
            if value not in CLASS_MARK.values():
                raise Refusal(
                    ErrorCode.INVALID, f"marks[{key!r}]: 2 must, 1 optional, 0 not a need"
                )
    elif vote.kind == "score":
        # Read against the criteria the vote opened with: a gate takes pass/fail, a
        # weighted criterion 0-5, and one kind is never taken for the other.
        gates = {c.need_id: c.gate for c in vote_criteria(session, vote)}
        options = set(vote.option_ids) if vote.option_ids else set(session.options)
        for key, value in marks.items():
            option_id, _, need_id = key.partition(":")
            if option_id not in options or need_id not in gates:
                raise Refusal(ErrorCode.NOT_FOUND, f"marks[{key!r}]: no such option and criterion")
            top = 1 if gates[need_id] else 5
            if not 0 <= value <= top:
                what = "1 pass or 0 fail" if top == 1 else "a score from 0 to 5"
                raise Refusal(ErrorCode.INVALID, f"marks[{key!r}]: expected {what}")
    else:
        top = 5 if vote.method == "fist" else CONSENT_AGREE
        if set(marks) != {PROPOSAL_KEY}:
            raise Refusal(ErrorCode.INVALID, f"a consensus ballot marks only {PROPOSAL_KEY!r}")
        if not 0 <= marks[PROPOSAL_KEY] <= top:
            raise Refusal(ErrorCode.INVALID, f"marks['{PROPOSAL_KEY}']: expected 0 to {top}")


def close_vote(ctx: Ctx, cmd: C.CloseVote) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "close votes")
    vote = find_vote(ctx.session, cmd.vote_id)
    if not vote.accepting:
        raise Refusal(ErrorCode.VOTE_CLOSED, "this vote is already closed")
    return [E.VoteClosed(vote_id=vote.id)]


def reveal_vote(ctx: Ctx, cmd: C.RevealVote) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "reveal votes")
    vote = find_vote(ctx.session, cmd.vote_id)
    if vote.revealed:
        raise Refusal(ErrorCode.CONFLICT, "this vote is already revealed")
    round_ = consensus_round(ctx.session, vote) if vote.kind == "consensus" else None
    return [E.VoteRevealed(vote_id=vote.id, round=round_)]


# ---- decide -----------------------------------------------------------------


def propose(ctx: Ctx, cmd: C.Propose) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "make a proposal")
    require_phase(ctx, ("decide",), "make a proposal")
    find_option(ctx.session, cmd.option_id)
    require_no_open_vote(ctx.session, ("consensus",), "change the proposal")
    return [E.Proposed(proposal=Proposal(option_id=cmd.option_id, statement=cmd.statement))]


def record_decision(ctx: Ctx, cmd: C.RecordDecision) -> list[E.EventBody]:
    require_role(ctx, FACILITATOR, "record the decision")
    require_phase(ctx, ("decide",), "record the decision")
    session = ctx.session
    find_option(session, cmd.option_id)
    if cmd.review_date:
        try:
            datetime.date.fromisoformat(cmd.review_date)
        except ValueError:
            raise Refusal(
                ErrorCode.INVALID, "review_date: expected a date like 2027-03-31"
            ) from None
    basis = decision_basis(session, cmd.option_id, cmd.statement)
    if basis is None and not cmd.without_consensus:
        raise Refusal(
            ErrorCode.CONFLICT,
            "no round passed on this option and statement; hold a round that passes, "
            "or record it as without consensus and give the dissent",
        )
    if basis is None and not cmd.dissent.strip():
        raise Refusal(
            ErrorCode.INVALID, "a decision recorded without consensus needs the dissent written"
        )
    if session.decision is not None and len(session.superseded) >= L.MAX_SUPERSEDED:
        raise Refusal(
            ErrorCode.LIMIT,
            f"the decision was already replaced {L.MAX_SUPERSEDED} times; no more are kept",
        )
    decision = Decision(
        option_id=cmd.option_id,
        statement=cmd.statement,
        rationale=cmd.rationale,
        dissent=cmd.dissent,
        review_date=cmd.review_date,
        recorded_at=ctx.now,
        recorded_by=ctx.member.id,
        round_number=basis.number if basis is not None else 0,
        without_consensus=basis is None,
    )
    return [E.DecisionRecorded(decision=decision)]
