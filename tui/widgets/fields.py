"""Text fields for the forms: one line or several, and never a silent loss.

What a person types or pastes is tidied to the protocol's text policy on the
way in (line endings to LF, tabs to spaces, control and bidi characters
dropped). A paste that is too long is cut to fit, a multi-line paste into a
one-line field is joined, and typing at the limit says so: each time the form
shows a message instead of beeping or dropping the paste.
"""

from __future__ import annotations

from typing import Any

from accord.protocol.text import tidy
from textual import events
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.widgets.text_area import EditResult, Location


def _tell(field: Input | TextArea, text: str) -> None:
    """Show ``text`` in the form's message line (or as a toast outside a form)."""
    complain = getattr(field.screen, "complain", None)
    if callable(complain):
        complain(text)
    else:
        field.notify(text, severity="warning")


def _fit(field: Input | TextArea, text: str, room: int, limit: int) -> str:
    """``text`` cut to ``room`` characters, telling the person when anything was cut."""
    if len(text) <= room:
        return text
    if room <= 0:
        _tell(field, f"This field is full: it holds at most {limit} characters.")
    else:
        _tell(field, f"Cut to fit: this field holds at most {limit} characters.")
    return text[: max(0, room)]


def _moved_on(field: Widget) -> Widget | None:
    """The field that has focus now, if focus already left ``field`` for another field.

    Keys typed faster than the board handles them are queued for the field that
    had focus when they arrived; ``app.focused`` moves at once, so a key that
    reaches a field after focus moved on belongs to the field that has it now.
    """
    focused = field.app.focused
    if focused is field or not isinstance(focused, (Input, TextArea)):
        return None
    return focused


def _handed_on(field: Widget, event: events.Key | events.Paste) -> bool:
    """Pass a late key or paste on to the field that has focus now; True if it was."""
    target = _moved_on(field)
    if target is None:
        return False
    event.stop()
    event.prevent_default()
    if isinstance(event, events.Key):
        target.post_message(events.Key(event.key, event.character))
    else:
        target.post_message(events.Paste(event.text))
    return True


def _advanced(field: Widget, event: events.Key) -> bool:
    """Enter moves the form on at once (not through a message that lands after queued keys)."""
    advance = getattr(field.screen, "advance", None)
    if event.key != "enter" or not callable(advance):
        return False
    event.stop()
    event.prevent_default()
    advance(field)
    return True


class LineInput(Input):
    """A one-line field: pasted lines are joined with a message, and the limit is announced.

    Fast keys stay in order: Enter moves focus at once, and a key or paste that
    arrives after focus moved on goes to the field that has focus now, so a burst
    such as "need, Enter, why" fills two fields.
    """

    def __init__(self, value: str = "", *, max_length: int = 0, **kwargs: Any) -> None:
        super().__init__(tidy(value), max_length=max_length, **kwargs)

    def replace(self, text: str, start: int, end: int) -> None:
        """As ``Input.replace``, with the text tidied and cut to fit instead of refused."""
        clean = tidy(text)
        if "\n" in text.strip() or "\r" in text.strip():
            _tell(self, "Joined the pasted lines into one: this field is one line.")
        if self.max_length:
            low, high = sorted((max(0, start), min(len(self.value), end)))
            room = self.max_length - (len(self.value) - (high - low))
            clean = _fit(self, clean, room, self.max_length)
            if not clean and text:
                return
        super().replace(clean, start, end)

    async def _on_key(self, event: events.Key) -> None:
        """Hand late keys on; Enter moves the form on. Otherwise ``Input`` handles the key."""
        if not _handed_on(self, event):
            _advanced(self, event)

    def _on_paste(self, event: events.Paste) -> None:
        """Insert the whole paste (``Input`` would keep only its first line, silently)."""
        if _handed_on(self, event):
            return
        event.stop()
        event.prevent_default()
        if event.text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(event.text)
            else:
                self.replace(event.text, *selection)


class LongText(TextArea):
    """A field of several lines. Enter goes on like in a one-line field; ctrl+j breaks a line.

    Pastes keep their lines; ↑ on the first line and ↓ on the last move to the
    previous or next field, as in the one-line fields. ``value`` reads like
    ``Input.value``.
    """

    DEFAULT_CSS = """
    LongText { height: auto; min-height: 2; max-height: 6; }
    """

    class Submitted(Message):
        """Enter was pressed in the field: the form moves on or saves."""

        def __init__(self, field: LongText) -> None:
            super().__init__()
            self.field = field

    def __init__(self, value: str = "", *, max_length: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("tab_behavior", "focus")
        kwargs.setdefault("compact", True)
        super().__init__(tidy(value, multiline=True), **kwargs)
        self.max_length = max_length

    @property
    def value(self) -> str:
        """The text, as typed (lines joined with LF)."""
        return self.text

    def _replace_via_keyboard(
        self, insert: str, start: Location, end: Location
    ) -> EditResult | None:
        """Every typed or pasted edit: tidied, and cut to fit with a message."""
        clean = tidy(insert, multiline=True)
        if self.max_length:
            room = self.max_length - (len(self.text) - len(self.get_text_range(start, end)))
            clean = _fit(self, clean, room, self.max_length)
            if not clean and insert:
                return None
        return super()._replace_via_keyboard(clean, start, end)

    async def _on_paste(self, event: events.Paste) -> None:
        """The paste is this field's alone (``TextArea`` inserts it, and lets it bubble on)."""
        if not _handed_on(self, event):
            event.stop()

    async def _on_key(self, event: events.Key) -> None:
        """Enter submits; ctrl+j (or shift+enter, where the terminal tells) breaks the line."""
        if _handed_on(self, event) or _advanced(self, event):
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self))
        elif event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            if result := self._replace_via_keyboard("\n", *self.selection):
                self.move_cursor(result.end_location)
        elif event.key in ("up", "down") and self._at_edge(event.key == "up"):
            event.stop()
            event.prevent_default()
            if event.key == "up":
                self.screen.focus_previous()
            else:
                self.screen.focus_next()

    def _at_edge(self, top: bool) -> bool:
        """True when the cursor is on the first (``top``) or last line, so ↑/↓ leave the field."""
        row = self.cursor_location[0]
        return row == 0 if top else row >= self.document.line_count - 1
