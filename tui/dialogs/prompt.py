"""A one-line text dialog: add or edit a card, add a note, reword the question, object."""

from __future__ import annotations

from accord.tui.dialogs.form import FormDialog, FormInput
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static


class TextPrompt(FormDialog[str]):
    """Ask for one line of text; Enter saves. Returns the stripped text, or None."""

    def __init__(
        self,
        title: str,
        *,
        label: str = "",
        initial: str = "",
        placeholder: str = "",
        explain: str = "",
        max_length: int = 500,
        required_message: str = "Type something first, or press Esc to cancel.",
        required: bool = True,
    ) -> None:
        super().__init__(title, "Enter: save · Esc: cancel")
        self.label = label
        self.initial = initial
        self.placeholder = placeholder
        self.explain = explain
        self.max_length = max_length
        self.required_message = required_message
        self.required = required

    def fields(self) -> ComposeResult:
        """An optional explanation, then the input."""
        if self.explain:
            yield Static(self.explain, classes="form-text")
        if self.label:
            yield Label(self.label, classes="field-label")
        yield FormInput(
            self.initial,
            placeholder=self.placeholder,
            max_length=self.max_length,
            id="text",
            compact=True,
        )

    def result(self) -> str | None:
        """The text, if there is any."""
        text = self.query_one("#text", Input).value.strip()
        if not text and self.required:
            self.complain(self.required_message)
            return None
        return text
