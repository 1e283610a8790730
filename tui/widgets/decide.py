"""The Decide phase: the proposal, the live consensus round, the rounds so far, the decision."""

from __future__ import annotations

import textwrap
from typing import ClassVar

from accord.protocol.commands import Cast, CloseSession, Propose, RecordDecision
from accord.protocol.model import (
    CONSENT_AGREE,
    CONSENT_OBJECT,
    CONSENT_STAND_ASIDE,
    CONSENT_TITLES,
    PROPOSAL_KEY,
    Vote,
)
from accord.protocol.results import ranking
from accord.protocol.rounds import FIST_BLOCK_BELOW
from accord.tui.context import Context
from accord.tui.guide import display_name, vote_progress, voters
from accord.tui.messages import Submit
from accord.tui.widgets.base import BoardPart, clip
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
    score = next(
        (v for v in reversed(session.votes.values()) if v.kind == "score" and v.results_visible),
        None,
    )
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
            "x", "object", "Object", tooltip="Consent: object; you will be asked why", group=CONSENT
        ),
        Binding("p", "propose", "Propose", tooltip="Facilitator: put an option and statement"),
        Binding(
            "D", "record", "Record", tooltip="Facilitator: record the decision and its dissent"
        ),
        Binding(
            "F", "close_session", "Finish", tooltip="Facilitator: close the session (asks first)"
        ),
    ]

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

    def _answer(self, value: int, reason: str = "") -> None:
        ctx = self.ctx
        vote = ctx.session.open_vote("consensus") if ctx else None
        if vote is None:
            self.notify("No consensus round is open.", severity="warning")
            return
        self.post_message(Submit(Cast(vote_id=vote.id, marks={PROPOSAL_KEY: value}, reason=reason)))

    def action_fist(self, fingers: int) -> None:
        """Show fingers in a fist-of-five round; a blocking hand may say why."""
        if fingers >= FIST_BLOCK_BELOW or self.ctx is None:
            self._answer(fingers)
            return
        if self.ctx.session.open_vote("consensus") is None:
            self.notify("No consensus round is open.", severity="warning")
            return

        def done(reason: str | None) -> None:
            if reason is not None:
                self._answer(fingers, reason)

        self.asks.ask_text(
            f"{fingers} fingers blocks the proposal",
            done,
            lines=True,
            label="What would it take for you to support it? (optional, Enter sends)",
            required=False,
        )

    def action_consent(self, value: int) -> None:
        """Agree or stand aside in a consent round."""
        self._answer(value)

    def action_object(self) -> None:
        """Object, with the reason asked first."""
        if self.ctx is None or self.ctx.session.open_vote("consensus") is None:
            self.notify("No consensus round is open.", severity="warning")
            return

        def done(reason: str | None) -> None:
            if reason:
                self._answer(CONSENT_OBJECT, reason)

        self.asks.ask_text(
            "Object to the proposal",
            done,
            lines=True,
            label="Your reason (required)",
            explain="An objection blocks the proposal, so the group needs to know why: "
            "what harm do you see, and what would change your mind?",
            required_message="An objection needs a reason.",
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
        objections = [o for r in ctx.session.rounds[-1:] for o in r.objections]

        def done(command: RecordDecision | None) -> None:
            if command:
                self.post_message(Submit(command))

        self.asks.ask_decision(
            done,
            options,
            chosen,
            proposal.statement if proposal else "",
            "; ".join(objections),
            today=None,
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
        """Proposal, round, who answered, rounds so far, decision."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width = max(30, self.size.width)
        session = ctx.session
        lines: list[RenderableType] = []
        title = self.styled
        proposal = session.proposal
        if proposal is None:
            lines.append(title(" No proposal yet.", "dim"))
            if ctx.is_facilitator:
                lines.append(Text(" Press p to propose an option and a decision statement."))
        else:
            option = session.options.get(proposal.option_id)
            line = title(" Proposal: ", "accent")
            line.append(option.title if option else "(deleted option)", style=self.st("title"))
            lines.append(line)
            quoted = f"“{proposal.statement}”"
            quoted_lines = textwrap.wrap(quoted, width - 2, max_lines=4, placeholder="…”")
            lines.extend(Text(" " + part) for part in quoted_lines)
        vote = consensus_vote(ctx)
        if vote is not None:
            lines.append(Text(""))
            lines.extend(self._round(ctx, vote, width))
        if session.rounds:
            lines.append(Text(""))
            lines.append(title(" Rounds so far", "title"))
            for i, rnd in enumerate(session.rounds[-4:], max(1, len(session.rounds) - 3)):
                option = session.options.get(rnd.option_id)
                method = "fist-of-five" if rnd.method == "fist" else "consent"
                mark, style = ("✓ passed", "good") if rnd.passed else ("✗ did not pass", "bad")
                line = Text(f" {i}. {clip(option.title if option else '?', 24)}, {method}: ")
                line.append(mark, style=self.st(style))
                lines.append(line)
                lines.append(self.styled(f"    {rnd.summary}", "dim"))
                for objection in rnd.objections[:2]:
                    lines.append(
                        self.styled(" " * 4 + clip(f"objection: {objection}", width - 4), "warn")
                    )
        decision = session.decision
        if decision is not None:
            option = session.options.get(decision.option_id)
            lines.append(Text(""))
            line = title(" Decision recorded: ", "good")
            line.append(option.title if option else decision.option_id, style=self.st("title"))
            lines.append(line)
            for part in textwrap.wrap(decision.statement, width - 2, max_lines=4, placeholder="…"):
                lines.append(Text(" " + part))
            if decision.rationale:
                lines.append(self.styled(" Why: " + clip(decision.rationale, width - 7), "dim"))
            lines.append(
                self.styled(
                    " Dissent: " + clip(decision.dissent or "none recorded", width - 11), "dim"
                )
            )
            lines.append(
                self.styled(" Review on: " + (decision.review_date or "no date set"), "dim")
            )
        return self.block(lines)

    def _round(self, ctx: Context, vote: Vote, width: int) -> list[Text]:
        session = ctx.session
        number = sum(1 for v in session.votes.values() if v.kind == "consensus" and v.id <= vote.id)
        method = "fist-of-five" if vote.method == "fist" else "consent"
        head = self.styled(f" Round {number}, {method}: ", "accent")
        head.append(vote.status)
        if vote.accepting:
            head.append(f" · {vote_progress(session, vote)}", style=self.st("dim"))
        out = [head]
        mine = vote.ballots.get(ctx.me)
        if ctx.can_vote:
            if mine is None:
                keys = "0-5 fingers" if vote.method == "fist" else "a, s or x"
                out.append(
                    Text(
                        f" Your answer: none yet ({keys})"
                        if vote.accepting
                        else " You did not answer."
                    )
                )
            else:
                value = mine.marks.get(PROPOSAL_KEY, 0)
                said = f"{value} fingers" if vote.method == "fist" else CONSENT_TITLES[value]
                line = Text(" Your answer: ")
                line.append(said, style=self.st("good"))
                if mine.reason:
                    line.append(" — " + clip(mine.reason, width - 30), style=self.st("dim"))
                out.append(line)
        who = Text(" ")
        for member in voters(session):
            done = member.id in vote.voters
            who.append("▣ " if done else "□ ", style=self.st("good" if done else "dim"))
            who.append(display_name(member) + "  ")
        out.append(who)
        if vote.results_visible:
            out.append(self._tally(vote))
        return out

    def _tally(self, vote: Vote) -> Text:
        ballots = vote.anon_ballots or list(vote.ballots.values())
        values = [b.marks[PROPOSAL_KEY] for b in ballots if PROPOSAL_KEY in b.marks]
        line = self.styled(" Answers: ", "title")
        if vote.method == "fist":
            for fingers in range(6):
                count = values.count(fingers)
                if count:
                    hand = self.st("bad") if fingers < 2 else self.st("good")
                    line.append(f"{fingers} fingers: {count}  ", style=hand)
        else:
            for value, style in (
                (CONSENT_AGREE, "good"),
                (CONSENT_STAND_ASIDE, "warn"),
                (CONSENT_OBJECT, "bad"),
            ):
                line.append(
                    f"{CONSENT_TITLES[value]} {values.count(value)}  ", style=self.st(style)
                )
        return line
