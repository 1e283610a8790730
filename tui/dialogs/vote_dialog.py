"""The facilitator's dialog to open the current phase's vote, with its settings."""

from __future__ import annotations

from typing import ClassVar

from accord.protocol import limits as L
from accord.protocol.commands import OpenVote
from accord.protocol.model import LANE_TITLES, LANES, ConsensusMethod, Lane, VoteKind
from accord.tui.dialogs.form import FormDialog
from accord.tui.guide import VOTE_NAMES
from accord.tui.widgets.fields import LineInput
from accord.tui.widgets.toggles import Choice, Tick
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Checkbox, Input, Label, RadioSet, Static

EXPLAIN: dict[str, str] = {
    "dots": "Everyone spreads dots over the cards that matter most.",
    "classify": "Everyone marks every need as must, optional or not a need.",
    "score": "Everyone scores each option 0-5 per criterion, and pass/fail on gates.",
    "consensus": "Everyone answers the proposal. A block counts at once; its reason can follow.",
}


class OpenVoteDialog(FormDialog[OpenVote]):
    """Settings for a new vote: hidden or live, anonymous, and the kind's own options.

    Enter opens the vote from any field; space toggles a switch or picks a choice.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Open", priority=True)]

    def __init__(
        self, kind: VoteKind, lane: Lane | None = None, method: ConsensusMethod = "fist"
    ) -> None:
        super().__init__(
            f"Open a {VOTE_NAMES[kind]}",
            "Tab moves · space toggles or picks · Enter: open · Esc: cancel",
        )
        self.kind = kind
        self.lane = lane
        #: The method picked first (``protocol.rounds.default_method``: the last one used).
        self.method = method

    def fields(self) -> ComposeResult:
        """Common switches, then the settings of this kind."""
        yield Static(EXPLAIN[self.kind], classes="form-text")
        yield Tick("Hidden until I reveal (only who voted shows)", True, id="hidden", compact=True)
        yield Tick(
            "Anonymous (ballots never carry names; stays hidden until the reveal)",
            False,
            id="anonymous",
            compact=True,
        )
        if self.kind == "dots":
            yield Label("Dots per person", classes="field-label")
            yield LineInput("5", type="integer", id="dots", compact=True)
            yield Label("Most dots on one card (0 = no cap)", classes="field-label")
            yield LineInput("0", type="integer", id="cap", compact=True)
            yield Label("Cards to vote on", classes="field-label")
            with RadioSet(id="lane", compact=True):
                yield Choice("All lanes", value=self.lane is None)
                for lane in LANES:
                    yield Choice(LANE_TITLES[lane], value=self.lane == lane)
        if self.kind == "consensus":
            yield Label("Method", classes="field-label")
            with RadioSet(id="method", compact=True):
                yield Choice(
                    "Fist-of-five (0-5 fingers; under 2 blocks)", value=self.method == "fist"
                )
                yield Choice(
                    "Consent (agree / stand aside / object with a reason)",
                    value=self.method == "consent",
                )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """An anonymous vote is always hidden until the reveal, so lock "hidden" on with it."""
        if event.checkbox.id == "anonymous":
            hidden = self.query_one("#hidden", Checkbox)
            if event.value:
                hidden.value = True
            hidden.disabled = event.value

    def result(self) -> OpenVote | None:
        """The OpenVote command."""
        hidden = self.query_one("#hidden", Checkbox).value
        anonymous = self.query_one("#anonymous", Checkbox).value
        vote = OpenVote(kind=self.kind, hidden=hidden, anonymous=anonymous)
        if self.kind == "dots":
            try:
                dots = int(self.query_one("#dots", Input).value or "5")
                cap = int(self.query_one("#cap", Input).value or "0")
            except ValueError:
                self.complain("Dots and cap are whole numbers.")
                return None
            if not 1 <= dots <= L.MAX_DOTS or not 0 <= cap <= dots:
                self.complain(f"Give 1 to {L.MAX_DOTS} dots, and a cap from 0 to that number.")
                return None
            index = self.query_one("#lane", RadioSet).pressed_index
            vote.dots, vote.max_per_item = dots, cap
            vote.lane = LANES[index - 1] if index > 0 else None
        if self.kind == "consensus":
            index = self.query_one("#method", RadioSet).pressed_index
            vote.method = "consent" if index == 1 else "fist"
        return vote
