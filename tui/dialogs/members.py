"""Everyone in the session, one per line; the facilitator picks someone to remove.

The dialog decides nothing: the board hands it the rows and a ``why_not``
question (answered by the relay's own rules), and it returns the member id the
person chose to remove, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from accord.protocol.text import printable
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member as the dialog lists them."""

    member_id: str
    name: str
    role: str
    department: str
    online: bool
    removed: bool
    you: bool


def row_text(row: MemberRow) -> Text:
    """``● Priya (you) · participant · Finance``, or ``○ Pat (removed) · ...``, as plain text."""
    text = Text()
    text.append("○ " if row.removed or not row.online else "● ")
    name = printable(row.name) + (" (removed)" if row.removed else "")
    name += " (you)" if row.you else ""
    text.append(name, style="dim" if row.removed else "bold")
    text.append(f" · {row.role}", style="dim")
    if row.department:
        text.append(f" · {printable(row.department)}", style="dim")
    return text


class MembersDialog(ModalScreen[str | None]):
    """The session's members; ↑↓ select, x removes the selected one (asked again first)."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,delete", "remove", "Remove"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(
        self, rows: list[MemberRow], why_not: Callable[[str], str | None], can_remove: bool
    ) -> None:
        super().__init__()
        self.rows = rows
        self.why_not = why_not
        self.can_remove = can_remove

    def compose(self) -> ComposeResult:
        """Title, the list, and the keys that work here."""
        with Vertical(id="form"):
            yield Label(f"People in this session ({len(self.rows)})", id="form-title")
            yield OptionList(
                *[Option(row_text(row), id=row.member_id) for row in self.rows], id="members"
            )
            hint = "↑↓ select · x remove from the session · " if self.can_remove else ""
            yield Static(hint + "Esc: close", id="form-hint")

    def on_mount(self) -> None:
        """Start on the first member."""
        listing = self.query_one("#members", OptionList)
        listing.focus()
        if self.rows:
            listing.highlighted = 0

    def selected(self) -> str | None:
        """The highlighted member's id."""
        listing = self.query_one("#members", OptionList)
        index = listing.highlighted
        if index is None:
            return None
        return listing.get_option_at_index(index).id

    def action_remove(self) -> None:
        """Hand back the selected member, or say in one line why that cannot be done."""
        member_id = self.selected()
        if member_id is None:
            return
        reason = self.why_not(member_id)
        if reason:
            self.notify(reason, severity="warning")
            return
        self.dismiss(member_id)

    def action_close(self) -> None:
        """Back to the board."""
        self.dismiss(None)
