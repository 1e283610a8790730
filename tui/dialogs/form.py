"""The base of accord's dialogs: a framed modal form, Enter to go on, Escape to cancel."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

T = TypeVar("T")


class FormInput(Input):
    """A form field that keeps fast keys in order.

    Keys typed faster than the board handles them are queued for the field that had
    focus when they arrived. Enter moves focus at once (not through a message that
    lands after the queued keys), and a key or paste that reaches this field after
    focus moved on is handed to the field that has focus now, so a burst such as
    "need, Enter, why" fills two fields. A paste of several lines keeps every line.
    """

    def _moved_on(self) -> Input | None:
        """The field that has focus now, if focus left this one for another field."""
        focused = self.app.focused
        # ``has_focus`` follows a Blur message; ``app.focused`` moves at once.
        if focused is self or not isinstance(focused, Input):
            return None
        return focused

    async def _on_key(self, event: events.Key) -> None:
        target = self._moved_on()
        if target is not None:
            event.stop()
            event.prevent_default()
            target.post_message(events.Key(event.key, event.character))
            return
        screen = self.screen
        if event.key == "enter" and isinstance(screen, FormDialog):
            event.stop()
            event.prevent_default()
            screen.advance(self)
        # Otherwise Input's own handler runs next (Textual calls each class's ``_on_key``).

    def _on_paste(self, event: events.Paste) -> None:
        target = self._moved_on()
        if target is not None:
            event.stop()
            target.post_message(events.Paste(event.text))
            return
        # Input keeps only a paste's first line; keep them all, on one line.
        event.text = " ".join(event.text.splitlines())


class FormDialog(ModalScreen[T | None], Generic[T]):
    """A modal form. Enter in an input moves to the next field, then submits.

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
            yield Label(self.title_text, id="form-title")
            yield from self.fields()
            yield Static("", id="form-error")
            yield Static(self.hint or "Enter: next / save · Esc: cancel", id="form-hint")

    def fields(self) -> ComposeResult:
        """The form's input widgets."""
        yield from ()

    def result(self) -> T | None:
        """The value to dismiss with, or None to stay open."""
        raise NotImplementedError

    def complain(self, text: str) -> None:
        """Show why the form cannot be saved yet."""
        self.query_one("#form-error", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: move to the next field, or save from the last one."""
        event.stop()
        self.advance(event.input)

    def advance(self, field: Input) -> None:
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

    def action_submit(self) -> None:
        """Save, if the form is complete."""
        value = self.result()
        if value is not None:
            self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
