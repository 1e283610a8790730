"""The facilitator's join codes and the exact command others type to join."""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.messages import Secrets
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def join_command(code: str, server: str) -> str:
    """The command a person types to join with ``code``."""
    return f"accord join {code} --server {server}"


class InviteScreen(ModalScreen[None]):
    """Shows each role's code with its join command; c copies the participants' command."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "close", "Close"),
        Binding("c", "copy", "Copy participant command"),
    ]

    def __init__(
        self, secrets: Secrets, server: str, note: str = "", resumable: bool = True
    ) -> None:
        super().__init__()
        self.secrets = secrets
        self.server = server
        self.note = note
        self.resumable = resumable

    def compose(self) -> ComposeResult:
        """One block per role."""
        rows = [
            ("Participants", self.secrets.participant_code, "add, classify, score and vote"),
            ("External partner", self.secrets.partner_code, "adds notes in Options; no vote"),
            ("Observers", self.secrets.observer_code, "watch only"),
        ]
        with Vertical(id="form"):
            yield Label("Invite people", id="form-title")
            with VerticalScroll(id="invite-body"):
                for title, code, what in rows:
                    text = Text()
                    text.append(f"{title}", style="bold")
                    text.append(f" ({what})\n")
                    text.append(f"  {join_command(code, self.server)}")
                    yield Static(text, classes="invite-row")
                if self.note:
                    yield Static(self.note, classes="form-text", markup=False)
                if self.resumable:
                    yield Static(
                        "Your facilitator key is saved on this machine; if you close this "
                        "board, reopen it with: accord resume",
                        classes="form-text",
                    )
            yield Static("c: copy the participants' command · Esc: close", id="form-hint")

    def action_copy(self) -> None:
        """Copy the participants' join command (works over SSH in most terminals)."""
        self.app.copy_to_clipboard(join_command(self.secrets.participant_code, self.server))
        self.notify("Copied the participants' join command.")

    def action_close(self) -> None:
        """Back to the board."""
        self.dismiss(None)
