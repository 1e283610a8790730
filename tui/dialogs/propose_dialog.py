"""The facilitator's dialog to put an option and a decision statement to the group."""

from __future__ import annotations

from accord.protocol import limits as L
from accord.protocol.commands import Propose
from accord.tui.dialogs.form import FormDialog, FormInput
from textual.app import ComposeResult
from textual.dom import DOMNode
from textual.widgets import Input, Label, Select


def option_and_statement(
    options: list[tuple[str, str]], chosen: str, statement: str, prompt: str
) -> ComposeResult:
    """The option picker and the statement field that proposing and recording share."""
    yield Label("Option", classes="field-label")
    yield Select(
        [(label, oid) for oid, label in options],
        value=chosen,
        allow_blank=False,
        id="option",
        compact=True,
    )
    yield Label(prompt, classes="field-label")
    yield FormInput(statement, max_length=L.LONG_TEXT_CHARS, id="statement", compact=True)


def picked(screen: DOMNode) -> tuple[str, str]:
    """The chosen option id and the stripped statement from ``option_and_statement``."""
    option = screen.query_one("#option", Select).value
    return str(option), screen.query_one("#statement", Input).value.strip()


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
        yield from option_and_statement(
            self.options,
            self.chosen,
            self.statement,
            "Decision statement: what exactly will we do?",
        )

    def on_mount(self) -> None:
        """Start in the statement, the option is usually preselected."""
        super().on_mount()
        self.query_one("#statement", Input).focus()

    def result(self) -> Propose | None:
        """The Propose command."""
        option_id, statement = picked(self)
        if not statement:
            self.complain("Word the decision statement.")
            return None
        return Propose(option_id=option_id, statement=statement)
