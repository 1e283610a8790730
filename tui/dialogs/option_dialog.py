"""The dialog to add or reword an option: its kind, title and description."""

from __future__ import annotations

from typing import ClassVar

from accord.protocol import limits as L
from accord.protocol.model import KIND_TITLES, OptionKind
from accord.tui.asks import OptionDraft as OptionDraft  # re-exported: callers may name it here
from accord.tui.dialogs.form import FormDialog, FormInput
from accord.tui.widgets.toggles import Choice
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label, RadioSet

KINDS: tuple[OptionKind, ...] = ("partnership", "internal", "outsourcing", "other")


class KindPicker(RadioSet):
    """The option kinds: ↑↓ highlight one, Enter or space picks it and moves on to the title."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "pick", "Pick", show=False),
    ]

    def action_pick(self) -> None:
        """Pick the highlighted kind and go to the next field."""
        self.action_toggle_button()
        self.screen.focus_next()


class OptionDialog(FormDialog[OptionDraft]):
    """Ask for an option; the kind is fixed when rewording."""

    def __init__(self, title: str = "Add an option", initial: OptionDraft | None = None) -> None:
        super().__init__(
            title,
            "Enter: next / save · Esc: cancel"
            if initial is not None
            else "↑↓ then Enter: kind · Enter: next / save · Esc: cancel",
        )
        self.initial = initial
        self.editing = initial is not None

    def fields(self) -> ComposeResult:
        """Kind (when adding), title, description."""
        initial = self.initial or OptionDraft("partnership", "", "")
        if not self.editing:
            yield Label("Kind", classes="field-label")
            with KindPicker(id="kind", compact=True):
                for kind in KINDS:
                    yield Choice(KIND_TITLES[kind].capitalize(), value=kind == initial.kind)
        yield Label("Title", classes="field-label")
        yield FormInput(initial.title, max_length=L.SHORT_TEXT_CHARS, id="title", compact=True)
        yield Label("Description (optional)", classes="field-label")
        yield FormInput(
            initial.description, max_length=L.TEXT_CHARS, id="description", compact=True
        )

    def on_mount(self) -> None:
        """Start on the kind when adding, in the title when rewording."""
        if self.editing:
            self.query_one("#title", Input).focus()
        else:
            self.query_one("#kind", RadioSet).focus()

    def result(self) -> OptionDraft | None:
        """The draft, if it has a title."""
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.complain("Give the option a title.")
            return None
        kind = self.initial.kind if self.initial else "partnership"
        if not self.editing:
            index = self.query_one("#kind", RadioSet).pressed_index
            kind = KINDS[index] if index >= 0 else "other"
        return OptionDraft(kind, title, self.query_one("#description", Input).value.strip())
