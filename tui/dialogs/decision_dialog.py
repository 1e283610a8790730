"""The facilitator's dialog to record the decision: rationale, dissent and review date.

It says which passed round the decision rests on (``protocol.rounds.decision_basis``);
when none passed on the chosen option and statement it says so plainly and
records only with the "without consensus" switch on (and a dissent).
"""

from __future__ import annotations

import datetime

from accord.protocol import limits as L
from accord.protocol.commands import RecordDecision
from accord.protocol.model import Session
from accord.protocol.rounds import decision_basis
from accord.tui.dialogs.form import FormDialog
from accord.tui.dialogs.propose_dialog import option_and_statement, picked
from accord.tui.widgets.fields import LineInput, LongText
from accord.tui.widgets.toggles import Tick
from textual.app import ComposeResult
from textual.widgets import Checkbox, Label, Select, Static, TextArea

WITHOUT = "Record without consensus (the record says so, with the dissent)"


class DecisionDialog(FormDialog[RecordDecision]):
    """Everything the record needs about the decision itself."""

    def __init__(
        self,
        options: list[tuple[str, str]],
        chosen: str,
        statement: str = "",
        dissent: str = "",
        today: datetime.date | None = None,
        *,
        session: Session | None = None,
    ) -> None:
        super().__init__(
            "Record the decision", "Enter: next field · ctrl+j: new line · ctrl+s: record · Esc"
        )
        self.options = options
        self.chosen = chosen
        self.statement = statement
        self.dissent = dissent
        self.session = session
        self.review = (today or datetime.date.today()) + datetime.timedelta(days=90)

    def fields(self) -> ComposeResult:
        """Option, statement, rationale, dissent, review date."""
        yield from option_and_statement(
            self.options, self.chosen, self.statement, "Decision statement"
        )
        yield Static("", id="basis", classes="form-text", markup=False)
        yield Tick(WITHOUT, False, id="without", compact=True)
        yield Label("Rationale: why this option", classes="field-label")
        yield LongText("", max_length=L.LONG_TEXT_CHARS, id="rationale")
        yield Label("Dissent to record (who disagrees and why)", classes="field-label")
        yield LongText(self.dissent, max_length=L.LONG_TEXT_CHARS, id="dissent")
        yield Label("Review on (YYYY-MM-DD)", classes="field-label")
        yield LineInput(self.review.isoformat(), max_length=10, id="review", compact=True)

    def on_mount(self) -> None:
        """Start in the statement."""
        super().on_mount()
        self.show_basis()
        self.query_one("#statement", LongText).focus()

    def needs_without(self) -> bool:
        """True when no round passed on the chosen option and statement."""
        if self.session is None:
            return False
        option_id, statement = picked(self)
        return decision_basis(self.session, option_id, statement) is None

    def show_basis(self) -> None:
        """Say what the decision rests on, and offer the switch only when it is needed."""
        basis_text = self.query_one("#basis", Static)
        tick = self.query_one("#without", Checkbox)
        if self.session is None:
            basis_text.display = tick.display = False
            return
        option_id, statement = picked(self)
        basis = decision_basis(self.session, option_id, statement)
        if basis is None:
            basis_text.update(
                "⚠ No consensus round passed on this option and statement. You can still "
                'record it, but only as "recorded without consensus", with the dissent.'
            )
        else:
            basis_text.update(
                f"✓ Rests on round {basis.number}, which passed on this option and statement."
            )
        tick.display = basis is None

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another option: what the decision rests on may change."""
        self.show_basis()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """A reworded statement may no longer be what a round passed."""
        if event.text_area.id == "statement":
            self.show_basis()

    def result(self) -> RecordDecision | None:
        """The RecordDecision command, if the statement and date are good."""
        option_id, statement = picked(self)
        if not statement:
            self.complain("The decision needs a statement.")
            return None
        review = self.query_one("#review", LineInput).value.strip()
        if review:
            try:
                datetime.date.fromisoformat(review)
            except ValueError:
                self.complain("Review date: use the form 2027-03-31, or leave it empty.")
                return None
        dissent = self.query_one("#dissent", LongText).value.strip()
        without = self.needs_without()
        if without and not self.query_one("#without", Checkbox).value:
            self.complain(
                'No round passed on this. Tick "record without consensus" to record it anyway.'
            )
            return None
        if without and not dissent:
            self.complain("A decision without consensus needs the dissent written.")
            return None
        return RecordDecision(
            option_id=option_id,
            statement=statement,
            rationale=self.query_one("#rationale", LongText).value.strip(),
            dissent=dissent,
            review_date=review,
            without_consensus=without,
        )
