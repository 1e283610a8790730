"""The Textual app: it holds the board, runs the network worker and handles failed workers."""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar

from accord.client import Client, ConnectionFailed
from accord.protocol.text import printable
from accord.tui.config import ConfigError, Profile, load_profile, save_profile
from accord.tui.crash import crash_log, save_crash, save_crash_text
from accord.tui.messages import ConnectionEnded, ReconnectAsked, TaskFailed
from accord.tui.palette import BoardCommands
from accord.tui.screens.board import BoardScreen
from accord.tui.themes import THEMES
from rich.console import Console
from textual import work
from textual.app import App
from textual.notifications import SeverityLevel
from textual.theme import Theme
from textual.worker import Worker, WorkerState

_HERE = Path(__file__).parent
STYLES = [
    _HERE / "app.tcss",
    *sorted((_HERE / "widgets").glob("*.tcss")),
    *sorted((_HERE / "screens").glob("*.tcss")),
    *sorted((_HERE / "dialogs").glob("*.tcss")),
]
#: Said when the app stops on a bug; the traceback goes to crash.log.
RESUME_HINT = "What the relay acknowledged is safe; reopen with `accord resume`. "


def _saved_profile() -> Profile:
    """The saved profile, or an empty one if it cannot be read (the CLI reports that)."""
    try:
        return load_profile()
    except ConfigError:
        return Profile()


class OneLineErrors(io.StringIO):
    """Textual's error output: on flush, the traceback goes to crash.log, one line to stderr."""

    def flush(self) -> None:
        """Save what was written as a crash, and tell people in one line."""
        text = self.getvalue()
        if text.strip():
            self.seek(0)
            self.truncate()
            sys.stderr.write(save_crash_text(text, RESUME_HINT) + "\n")
        super().flush()


class AccordApp(App[int]):
    """accord's board for one member of one session."""

    TITLE = "accord"
    CSS_PATH: ClassVar[list[str | PurePath]] = [str(p) for p in STYLES]
    COMMANDS = App.COMMANDS | {BoardCommands}

    def __init__(
        self,
        conn: Client,
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
        for theme in THEMES:
            self.register_theme(theme)
        self.profile = _saved_profile()
        if self.profile.theme in self.available_themes:
            self.theme = self.profile.theme
        # A bug in a handler ends the app: people get one line, crash.log the traceback.
        self.error_console = Console(file=OneLineErrors(), stderr=True, width=100)
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
        """Keep the notification, and show it in the board's message box (never as a toast).

        Every notification passes here (``Widget.notify`` calls the app's), and many
        carry names, titles or a relay's words: the text is made printable and is
        never parsed as markup (``markup`` is ignored on purpose).
        """
        clean = printable(message, multiline=True)
        super().notify(
            clean, title=printable(title), severity=severity, timeout=timeout, markup=False
        )
        self.board.say(clean, severity, timeout)

    def on_mount(self) -> None:
        """Show the board and start the network worker."""
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        self.push_screen(self.board)
        self.watch_connection()

    def _keep_theme(self, theme: Theme) -> None:
        """Remember a theme picked in the palette for the next board."""
        if theme.name == self.profile.theme or not self.profile.complete:
            return
        self.profile = dataclasses.replace(self.profile, theme=theme.name)
        try:
            save_profile(self.profile)
        except OSError:
            self.notify("Could not save the theme for next time.", severity="warning")

    @work(exclusive=True, group="network", exit_on_error=False)
    async def watch_connection(self, restart: bool = False) -> None:
        """Run the client until it stops, handing its updates to the board."""
        if restart:
            await self.conn.restart()
        unsubscribe = self.conn.add_listener(self.board.take_update)
        try:
            await self.conn.finished()
        except ConnectionFailed as exc:
            self.board.post_message(ConnectionEnded(exc.reason))
        finally:
            unsubscribe()

    def on_reconnect_asked(self, message: ReconnectAsked) -> None:
        """Start the network worker again, from a fresh snapshot."""
        self.watch_connection(restart=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for failed workers: the traceback to crash.log, the board says so."""
        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        save_crash(error)
        task = "connection task" if event.worker.group == "network" else "background task"
        self.board.post_message(TaskFailed(f"{task} failed; details in {crash_log().name}"))
