"""The Decide phase: the proposal, the live consensus round, the rounds so far, the decision.

Drawing lives in ``decide_view``; this module holds the keys. A block (a fist
under ``FIST_BLOCK_BELOW``, an objection) is cast the moment it is pressed;
the reason prompt follows and only adds to it.
"""

from __future__ import annotations

import textwrap
from typing import ClassVar

from accord.protocol.commands import Cast, CloseSession, Propose, RecordDecision
from accord.protocol.model import CONSENT_OBJECT, PROPOSAL_KEY, Vote
from accord.protocol.results import ranking
from accord.protocol.rounds import (
    dissent_text,
    is_block,
    numbered_rounds,
    round_number,
    stance_title,
)
from accord.tui.context import Context
from accord.tui.details import round_detail
from accord.tui.messages import Submit
from accord.tui.widgets.base import BoardPart
from accord.tui.widgets.decide_view import (
    decision_lines,
    last_score_vote,
    open_round_lines,
    ranking_lines,
    rounds_lines,
)
from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType

FACILITATOR_ACTIONS = {"propose", "record", "close_session"}


def consensus_vote(ctx: Context) -> Vote | None:
    """The open consensus round, else the latest one."""
    return ctx.session.open_vote("consensus") or ctx.session.latest_vote("consensus")


def ranked_options(ctx: Context) -> list[tuple[str, str]]:
    """(option id, label) pairs, best ranked first when a score vote was revealed."""
    session = ctx.session
    score = last_score_vote(session)
    order = [s.option_id for s in ranking(session, score)] if score else list(session.options)
    labels = []
    for rank, option_id in enumerate(order, 1):
        option = session.options.get(option_id)
        if option is not None:
            prefix = f"#{rank} " if score else ""
            labels.append((option_id, f"{prefix}{option.title}"))
    return labels


CONSENT = Binding.Group("Consent")


class DecidePanel(BoardPart):
    """Fist-of-five keys 0-5 or consent keys a/s/x; the facilitator proposes and records."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "0", "fist(0)", "Fist", key_display="0-5", tooltip="Fist-of-five: show 0-5 fingers"
        ),
        *[Binding(str(n), f"fist({n})", f"Fist {n}", show=False) for n in range(1, 6)],
        Binding(
            "a", "consent(2)", "Agree", tooltip="Consent: agree with the proposal", group=CONSENT
        ),
        Binding(
            "s",
            "consent(1)",
            "Stand aside",
            tooltip="Consent: do not block, but do not join",
            group=CONSENT,
        ),
        Binding(
            "x",
            "object",
            "Object",
            tooltip="Consent: object; counts at once, then say why",
            group=CONSENT,
        ),
        Binding("enter", "detail", "Read", tooltip="The latest round in full: stances, reasons"),
        Binding("p", "propose", "Propose", tooltip="Facilitator: put an option and statement"),
        Binding(
            "D", "record", "Record", tooltip="Facilitator: record the decision and its dissent"
        ),
        Binding(
            "F", "close_session", "Finish", tooltip="Facilitator: close the session (asks first)"
        ),
    ]

    def action_detail(self) -> None:
        """Open the latest round in full: the one open now, else the last one revealed."""
        ctx = self.ctx
        if ctx is None:
            return
        vote = ctx.session.open_vote("consensus")
        if vote is not None:
            number = round_number(ctx.session, vote)
        else:
            held = numbered_rounds(ctx.session)
            if not held:
                self.notify("No consensus round yet.", severity="warning", timeout=4)
                return
            number = held[-1][0]
        self.asks.show_detail(round_detail(ctx.session, ctx.me, number))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the answer keys of the open round's method, and role-fitting keys."""
        ctx = self.ctx
        if ctx is None:
            return True
        if action in FACILITATOR_ACTIONS:
            return ctx.is_facilitator
        if action in ("fist", "consent", "object"):
            if not ctx.can_vote:
                return False
            vote = ctx.session.open_vote("consensus")
            if vote is None:
                return False if action != "fist" else None
            return (vote.method == "fist") == (action == "fist")
        return True

    # ---- actions ---------------------------------------------------------------

    def _open_round(self) -> Vote | None:
        vote = self.ctx.session.open_vote("consensus") if self.ctx else None
        if vote is None:
            self.notify("No consensus round is open.", severity="warning")
        return vote

    def _answer(self, vote: Vote, value: int, reason: str = "") -> None:
        self.post_message(Submit(Cast(vote_id=vote.id, marks={PROPOSAL_KEY: value}, reason=reason)))

    def _block(self, vote: Vote, value: int, title: str, label: str, explain: str) -> None:
        """Cast a block at once, then offer the reason (a cancelled prompt keeps the block)."""
        self._answer(vote, value)

        def done(reason: str | None) -> None:
            if reason and reason.strip():
                self._answer(vote, value, reason)
            else:
                self.notify("Your block counts; no reason given yet.", severity="warning")

        self.asks.ask_text(title, done, lines=True, label=label, explain=explain, required=False)

    def action_fist(self, fingers: int) -> None:
        """Show fingers in a fist-of-five round; a block counts at once, then may say why."""
        vote = self._open_round()
        if vote is None:
            return
        if not is_block(vote.method, fingers):
            self._answer(vote, fingers)
            return
        self._block(
            vote,
            fingers,
            f"{stance_title(vote.method, fingers)} blocks the proposal (already counted)",
            "What would it take for you to support it? (optional, Enter sends)",
            "Your block is counted now. A reason helps the group find a way forward.",
        )

    def action_consent(self, value: int) -> None:
        """Agree or stand aside in a consent round."""
        vote = self._open_round()
        if vote is not None:
            self._answer(vote, value)

    def action_object(self) -> None:
        """Object: the objection counts at once, then the reason is asked for."""
        vote = self._open_round()
        if vote is None:
            return
        self._block(
            vote,
            CONSENT_OBJECT,
            "You object to the proposal (already counted)",
            "Your reason",
            "An objection blocks the proposal, so the group needs to know why: "
            "what harm do you see, and what would change your mind?",
        )

    def action_propose(self) -> None:
        """Propose an option and a statement."""
        ctx = self.ctx
        if ctx is None:
            return
        options = ranked_options(ctx)
        proposal = ctx.session.proposal
        chosen = proposal.option_id if proposal else options[0][0]
        statement = proposal.statement if proposal else ""

        def done(command: Propose | None) -> None:
            if command:
                self.post_message(Submit(command))

        self.asks.ask_proposal(done, options, chosen, statement)

    def action_record(self) -> None:
        """Record the decision."""
        ctx = self.ctx
        if ctx is None:
            return
        options = ranked_options(ctx)
        proposal = ctx.session.proposal
        chosen = proposal.option_id if proposal else options[0][0]

        def done(command: RecordDecision | None) -> None:
            if command:
                self.post_message(Submit(command))

        self.asks.ask_decision(
            done,
            options,
            chosen,
            proposal.statement if proposal else "",
            dissent_text(ctx.session),
            today=None,
            session=ctx.session,
        )

    def action_close_session(self) -> None:
        """Close the session for good, after confirmation."""

        self.submit_if_confirmed(
            CloseSession(),
            "Close the session?",
            "Nothing can change afterwards; the decision record is written. "
            "Everyone can still read and export it.",
            "Close it",
        )

    # ---- drawing ---------------------------------------------------------------

    def render(self) -> RenderableType:
        """Proposal and ranking, the round, the rounds so far, the decision."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width = max(30, self.size.width)
        session = ctx.session
        lines: list[RenderableType] = []
        proposal = session.proposal
        if proposal is None:
            lines.append(self.styled(" No proposal yet.", "dim"))
            if ctx.is_facilitator:
                lines.append(Text(" Press p to propose an option and a decision statement."))
        else:
            option = session.options.get(proposal.option_id)
            line = self.styled(" Proposal: ", "accent")
            line.append(option.title if option else "(deleted option)", style=self.st("title"))
            lines.append(line)
            quoted = f"“{proposal.statement}”"
            quoted_lines = textwrap.wrap(quoted, width - 2, max_lines=4, placeholder="…”")
            lines.extend(Text(" " + part) for part in quoted_lines)
        lines.extend(ranking_lines(self, ctx, width))
        vote = consensus_vote(ctx)
        if vote is not None:
            lines.append(Text(""))
            lines.extend(open_round_lines(self, ctx, vote, width))
        history = rounds_lines(self, session, ctx.me, width)
        if history:
            lines.append(Text(""))
            lines.extend(history)
        decided = decision_lines(self, session, width)
        if decided:
            lines.append(Text(""))
            lines.extend(decided)
        return self.block(lines)
