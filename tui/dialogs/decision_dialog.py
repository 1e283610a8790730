"""The facilitator's dialog to record the decision: rationale, dissent and review date."""

from __future__ import annotations

import datetime

from accord.protocol import limits as L
from accord.protocol.commands import RecordDecision
from accord.tui.dialogs.form import FormDialog, FormInput
from accord.tui.dialogs.propose_dialog import option_and_statement, picked
from textual.app import ComposeResult
from textual.widgets import Input, Label


class DecisionDialog(FormDialog[RecordDecision]):
    """Everything the record needs about the decision itself."""

    def __init__(
        self,
        options: list[tuple[str, str]],
        chosen: str,
        statement: str = "",
        dissent: str = "",
        today: datetime.date | None = None,
    ) -> None:
        super().__init__("Record the decision", "Enter: next field · ctrl+s: record · Esc")
        self.options = options
        self.chosen = chosen
        self.statement = statement
        self.dissent = dissent
        self.review = (today or datetime.date.today()) + datetime.timedelta(days=90)

    def fields(self) -> ComposeResult:
        """Option, statement, rationale, dissent, review date."""
        yield from option_and_statement(
            self.options, self.chosen, self.statement, "Decision statement"
        )
        yield Label("Rationale: why this option", classes="field-label")
        yield FormInput("", max_length=L.LONG_TEXT_CHARS, id="rationale", compact=True)
        yield Label("Dissent to record (who disagrees and why)", classes="field-label")
        yield FormInput(self.dissent, max_length=L.LONG_TEXT_CHARS, id="dissent", compact=True)
        yield Label("Review on (YYYY-MM-DD)", classes="field-label")
        yield FormInput(self.review.isoformat(), max_length=10, id="review", compact=True)

    def on_mount(self) -> None:
        """Start in the statement."""
        super().on_mount()
        self.query_one("#statement", Input).focus()

    def result(self) -> RecordDecision | None:
        """The RecordDecision command, if the statement and date are good."""
        option_id, statement = picked(self)
        if not statement:
            self.complain("The decision needs a statement.")
            return None
        review = self.query_one("#review", Input).value.strip()
        if review:
            try:
                datetime.date.fromisoformat(review)
            except ValueError:
                self.complain("Review date: use the form 2027-03-31, or leave it empty.")
                return None
        return RecordDecision(
            option_id=option_id,
            statement=statement,
            rationale=self.query_one("#rationale", Input).value.strip(),
            dissent=self.query_one("#dissent", Input).value.strip(),
            review_date=review,
        )
