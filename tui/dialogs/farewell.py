"""The last thing a board shows when it cannot go on: why, and that only closing is left."""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.text import printable
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class FarewellScreen(ModalScreen[None]):
    """A final message (e.g. the facilitator removed you); Enter, Esc or q closes the board."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape,q", "close", "Close the board"),
    ]

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        """Title, what it means, and the one key left."""
        with Vertical(id="form"):
            yield Label(printable(self.title_text), id="form-title", markup=False)
            yield Static(printable(self.detail, multiline=True), classes="form-text", markup=False)
            yield Static("Enter: close the board", id="form-hint", markup=False)

    def action_close(self) -> None:
        """Close it; the board then ends."""
        self.dismiss(None)
