"""The dialog to propose or reword a need: what, why it matters, how success shows."""

from __future__ import annotations

from accord.protocol import limits as L
from accord.tui.asks import NeedDraft as NeedDraft  # re-exported: callers may name it here
from accord.tui.dialogs.form import FormDialog, FormInput
from textual.app import ComposeResult
from textual.widgets import Input, Label


class NeedDialog(FormDialog[NeedDraft]):
    """Ask for a need, its reason and its success measure."""

    def __init__(self, title: str = "Propose a need", initial: NeedDraft | None = None) -> None:
        super().__init__(title, "Enter: next field, then save · Esc: cancel")
        self.initial = initial or NeedDraft("", "", "")

    def fields(self) -> ComposeResult:
        """Three fields; only the need itself is required."""
        yield Label("The need: what must be true after the change?", classes="field-label")
        yield FormInput(self.initial.text, max_length=L.TEXT_CHARS, id="text", compact=True)
        yield Label("Why it matters (optional)", classes="field-label")
        yield FormInput(self.initial.why, max_length=L.TEXT_CHARS, id="why", compact=True)
        yield Label("How success would show (optional)", classes="field-label")
        yield FormInput(self.initial.success, max_length=L.TEXT_CHARS, id="success", compact=True)

    def result(self) -> NeedDraft | None:
        """The draft, if the need has text."""
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.complain("Describe the need first.")
            self.query_one("#text", Input).focus()
            return None
        return NeedDraft(
            text,
            self.query_one("#why", Input).value.strip(),
            self.query_one("#success", Input).value.strip(),
        )
