"""The detail view: one card, need, option, note or round in full, scrollable; Esc closes.

What to show is decided by the pure functions in ``tui/details.py``; this only
draws their lines as plain text (never markup, every character made printable).
"""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.text import printable
from accord.tui.details import Detail
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

#: How each kind of detail line is drawn; the words carry the meaning, styles only help.
STYLES = {
    "title": "bold",
    "dim": "dim",
    "warn": "bold italic",
    "accent": "bold",
    "bad": "bold",
    "mark": "italic",
}


def detail_text(detail: Detail) -> Text:
    """The lines of a detail as one ``Text``, printable, without markup."""
    text = Text()
    for i, line in enumerate(detail.lines):
        if i:
            text.append("\n")
        text.append(printable(line.text), style=STYLES.get(line.style, ""))
    return text


class DetailScreen(ModalScreen[None]):
    """Everything about one item; arrows and PgUp/PgDn scroll, Esc or Enter closes."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close"),
    ]

    def __init__(self, detail: Detail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        """Title, the scrollable body, the hint."""
        with Vertical(id="form", classes="detail"):
            yield Label(printable(self.detail.title), id="form-title", markup=False)
            with VerticalScroll(id="detail-body"):
                yield Static(detail_text(self.detail), id="detail-text")
            yield Static("↑↓ scroll · Esc closes", id="form-hint", markup=False)

    def on_mount(self) -> None:
        """Focus the body so the arrow keys scroll it."""
        self.query_one("#detail-body", VerticalScroll).focus()

    def action_close(self) -> None:
        """Back to the board."""
        self.dismiss(None)
