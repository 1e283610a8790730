"""The base of accord's dialogs: a framed modal form, Enter to go on, Escape to cancel."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from accord.protocol.text import printable
from accord.tui.widgets.fields import LongText
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

T = TypeVar("T")


class FormDialog(ModalScreen[T | None], Generic[T]):
    """A modal form. Enter in a field moves to the next field, then submits.

    Subclasses compose their fields in ``fields()`` and build the result in
    ``result()``, returning None (after telling the user why) when a field is missing.
    """

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
        Binding("down", "field(1)", "Next field", show=False),
        Binding("up", "field(-1)", "Previous field", show=False),
    ]

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        """The frame, the fields and the hint line."""
        with Vertical(id="form"):
            yield Label(printable(self.title_text), id="form-title", markup=False)
            yield from self.fields()
            yield Static("", id="form-error", markup=False)
            yield Static(
                self.hint or "Enter: next / save · Esc: cancel", id="form-hint", markup=False
            )

    def fields(self) -> ComposeResult:
        """The form's input widgets."""
        yield from ()

    def result(self) -> T | None:
        """The value to dismiss with, or None to stay open."""
        raise NotImplementedError

    def complain(self, text: str) -> None:
        """Show why the form cannot be saved yet (or what happened to a paste)."""
        self.query_one("#form-error", Static).update(printable(text, multiline=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a one-line field: move to the next field, or save from the last one."""
        event.stop()
        self.advance(event.input)

    def on_long_text_submitted(self, event: LongText.Submitted) -> None:
        """Enter in a multi-line field: the same (ctrl+j breaks a line there)."""
        event.stop()
        self.advance(event.field)

    def advance(self, field: Widget) -> None:
        """Move on from ``field`` to the next field, or save from the last one."""
        inputs = [w for w in self.query("#form Input, #form TextArea, #form RadioSet") if w.display]
        if field in inputs and inputs.index(field) < len(inputs) - 1:
            self.focus_next()
        else:
            self.action_submit()

    def action_field(self, step: int) -> None:
        """Move to the next or previous field (lists keep their own arrow keys)."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def on_mount(self) -> None:
        """Freeze cursor blink when the app asks for it (snapshot tests)."""
        if not getattr(self.app, "cursor_blink", True):
            for field in self.query(Input):
                field.cursor_blink = False
            for area in self.query(TextArea):
                area.cursor_blink = False

    def action_submit(self) -> None:
        """Save, if the form is complete."""
        value = self.result()
        if value is not None:
            self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
