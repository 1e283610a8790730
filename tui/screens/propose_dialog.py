"""The facilitator's dialog to put an option and a decision statement to the group."""

from __future__ import annotations

from accord.protocol import limits as L
from accord.protocol.commands import Propose
from accord.tui.screens.form import FormDialog
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select


class ProposeDialog(FormDialog[Propose]):
    """Pick the option (best ranked first) and word the statement."""

    def __init__(self, options: list[tuple[str, str]], chosen: str, statement: str = "") -> None:
        super().__init__(
            "Propose a decision",
            "Enter: propose · ↑ to the option list, Enter opens it · Esc: cancel",
        )
        self.options = options
        self.chosen = chosen
        self.statement = statement

    def fields(self) -> ComposeResult:
        """Option and statement."""
        yield Label("Option", classes="field-label")
        yield Select(
            [(label, oid) for oid, label in self.options],
            value=self.chosen,
            allow_blank=False,
            id="option",
            compact=True,
        )
        yield Label("Decision statement: what exactly will we do?", classes="field-label")
        yield Input(self.statement, max_length=L.LONG_TEXT_CHARS, id="statement", compact=True)

    def on_mount(self) -> None:
        """Start in the statement, the option is usually preselected."""
        self.query_one("#statement", Input).focus()

    def result(self) -> Propose | None:
        """The Propose command."""
        statement = self.query_one("#statement", Input).value.strip()
        if not statement:
            self.complain("Word the decision statement.")
            return None
        option = self.query_one("#option", Select).value
        return Propose(option_id=str(option), statement=statement)
