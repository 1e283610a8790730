"""The confirmation asked before anything destructive: y to go ahead, n or Esc to keep."""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.text import printable
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; the safe answer is the default."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "Yes, do it") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        """Question, detail, and the two buttons (No focused)."""
        with Vertical(id="form"):
            yield Label(printable(self.question), id="form-title", markup=False)
            if self.detail:
                detail = printable(self.detail, multiline=True)
                yield Static(detail, classes="form-text", markup=False)
            with Horizontal(id="buttons"):
                yield Button(Text(f"{printable(self.yes)} (y)"), variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        """Focus the safe choice."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers the question."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """A key answers the question."""
        self.dismiss(yes)
