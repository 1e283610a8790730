"""The Textual app: it only holds the connection's screen and the shared styles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar

from accord.protocol.text import printable
from accord.tui.client import Connection
from accord.tui.crash import save_crash
from accord.tui.palette import BoardCommands
from accord.tui.screens.board import BoardScreen
from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel

_HERE = Path(__file__).parent
STYLES = [
    _HERE / "app.tcss",
    *sorted((_HERE / "widgets").glob("*.tcss")),
    *sorted((_HERE / "screens").glob("*.tcss")),
]


class AccordApp(App[int]):
    """accord's board for one member of one session."""

    TITLE = "accord"
    CSS_PATH: ClassVar[list[str | PurePath]] = [str(p) for p in STYLES]
    COMMANDS = App.COMMANDS | {BoardCommands}

    def __init__(
        self,
        conn: Connection,
        *,
        clock: Callable[[], float] | None = None,
        server_label: str = "",
        invite_note: str = "",
        show_invite: bool = False,
        records_dir: Path | None = None,
        export_dir: Path | None = None,
        cursor_blink: bool = True,
        resumable: bool = True,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.cursor_blink = cursor_blink
        self.board = BoardScreen(
            conn,
            clock=clock,
            server_label=server_label,
            invite_note=invite_note,
            show_invite=show_invite,
            records_dir=records_dir,
            export_dir=export_dir,
            resumable=resumable,
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast whose text is shown as it is: never parsed as markup, controls made visible.

        Every toast passes here (``Widget.notify`` calls the app's), and many
        carry names, titles or a relay's words; ``markup`` is ignored on purpose.
        """
        super().notify(
            printable(message, multiline=True),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def on_mount(self) -> None:
        """Show the board."""
        self.push_screen(self.board)

    def _handle_exception(self, error: Exception) -> None:
        """On a bug, exit with one line for people; the traceback goes to the crash log."""
        super()._handle_exception(error)
        hint = "What the relay acknowledged is safe; reopen with `accord resume`. "
        self._exit_renderables[:] = [Text(save_crash(error, hint))]
