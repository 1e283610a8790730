"""A text dialog: add or edit a card, add a note, reword the question, object."""

from __future__ import annotations

from accord.protocol.text import printable
from accord.tui.dialogs.form import FormDialog
from accord.tui.widgets.fields import LineInput, LongText
from textual.app import ComposeResult
from textual.widgets import Label, Static

#: The hint of a multi-line prompt.
LINES_HINT = "Enter: save · ctrl+j: new line · Esc: cancel"


class TextPrompt(FormDialog[str]):
    """Ask for text (one line, or several with ``lines``); Enter saves. The stripped text."""

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
        lines: bool = False,
    ) -> None:
        super().__init__(title, LINES_HINT if lines else "Enter: save · Esc: cancel")
        self.lines = lines
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
            yield Static(printable(self.explain, multiline=True), classes="form-text", markup=False)
        if self.label:
            yield Label(printable(self.label), classes="field-label", markup=False)
        if self.lines:
            yield LongText(
                self.initial,
                placeholder=self.placeholder,
                max_length=self.max_length,
                id="text",
            )
        else:
            yield LineInput(
                self.initial,
                placeholder=self.placeholder,
                max_length=self.max_length,
                id="text",
                compact=True,
            )

    def result(self) -> str | None:
        """The text, if there is any."""
        field = self.query_one("#text")
        assert isinstance(field, LineInput | LongText)
        text = field.value.strip()
        if not text and self.required:
            self.complain(self.required_message)
            return None
        return text
