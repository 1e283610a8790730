"""The board: phase bar, the current phase's panel, the sidebar and the footer.

The app's network worker hands every client update to ``take_update``, which
posts it as a message; the handlers redraw widgets. Widgets ask for commands
with ``Submit`` messages, which the screen hands to the client.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from accord.client import (
    Applied,
    Client,
    CommandChanged,
    LinkChanged,
    LinkState,
    Noticed,
    Outgoing,
    PresenceChanged,
    Update,
    Welcomed,
)
from accord.protocol import events as E
from accord.protocol.model import Phase
from accord.protocol.permissions import is_facilitator
from accord.server.records import write_record
from accord.tui.context import Context
from accord.tui.guide import notice_for
from accord.tui.messages import (
    CommandUpdated,
    ConnectionEnded,
    LinkUpdated,
    Notified,
    ReconnectAsked,
    SessionChanged,
    Submit,
    TaskFailed,
)
from accord.tui.screens.board_keys import BoardKeys
from accord.tui.widgets.base import BoardPart
from accord.tui.widgets.decide import DecidePanel
from accord.tui.widgets.learn import LearnPanel
from accord.tui.widgets.needs import NeedsPanel
from accord.tui.widgets.options import OptionsPanel
from accord.tui.widgets.phase_bar import PhaseBar
from accord.tui.widgets.sidebar import LinkBox, Sidebar
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Footer

#: Seconds a refused command stays listed in the sidebar (its toast says it first).
FAILURE_SHOWN_FOR = 60.0


class BoardScreen(BoardKeys):
    """The shared board of one session, as one member sees it."""

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
        resumable: bool = True,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.resumable = resumable
        self.clock = clock
        self.server_label = server_label or conn.url
        self.invite_note = invite_note
        self.show_invite = show_invite
        self.records_dir = records_dir
        self.export_dir = export_dir or Path.cwd()
        self.ctx: Context | None = None
        self.failed: list[tuple[float, Outgoing]] = []
        self.phase: Phase | None = None
        #: Set when the network worker died on an unexpected error (until a reconnect).
        self.task_failed = ""
        self._keys: tuple[object, ...] = ()

    # ---- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Phase bar, panels beside the sidebar, footer."""
        yield PhaseBar(id="phase-bar")
        with Horizontal(id="body"):
            with ContentSwitcher(initial="learn", id="panels"):
                yield LearnPanel(id="learn")
                yield NeedsPanel(id="needs")
                yield OptionsPanel(id="options")
                yield DecidePanel(id="decide")
            yield Sidebar(id="sidebar")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Draw what the connection already has, then listen for updates."""
        self.redraw()
        self.show_link()
        if self.clock is None:
            self.set_interval(1.0, self.tick)
        if self.show_invite and self.conn.secrets is not None:
            self.call_after_refresh(self.action_invite)

    def on_resize(self) -> None:
        """Give the sidebar more room on wide terminals."""
        self.set_class(self.size.width >= 110, "-wide")

    # ---- updates from the client ------------------------------------------------

    def take_update(self, update: Update) -> None:
        """Turn one client update into messages (called in the app's network worker)."""
        if isinstance(update, Applied):
            self.post_message(SessionChanged())
            for event in update.events:
                self._note_event(event)
        elif isinstance(update, Welcomed | PresenceChanged):
            self.post_message(SessionChanged())
            if isinstance(update, Welcomed) and not update.first:
                caught_up = "caught up" if update.mode == "replay" else "reloaded the board"
                self.post_message(Notified(f"Back online; {caught_up}."))
        elif isinstance(update, LinkChanged):
            self.post_message(LinkUpdated(update.state))
        elif isinstance(update, CommandChanged):
            self.post_message(CommandUpdated(update.outgoing))
        elif isinstance(update, Noticed):
            self.post_message(Notified(update.message, "warning"))

    def _note_event(self, event: E.Event) -> None:
        session = self.conn.session
        if session is None:
            return
        notice = notice_for(session, event, self.conn.member_id)
        if notice is not None:
            self.post_message(Notified(*notice))
        done = isinstance(event.body, E.DecisionRecorded | E.SessionClosed)
        facilitator = is_facilitator(session, self.conn.member_id)
        if done and facilitator and self.records_dir is not None:
            self.call_later(self.save_record)

    # ---- message handlers ----------------------------------------------------------

    def on_session_changed(self, message: SessionChanged) -> None:
        """Redraw every part from the connection's session."""
        self.redraw()

    def on_link_updated(self, message: LinkUpdated) -> None:
        """Show the link state; tell the user about an outage and the recovery."""
        state = message.state
        self.show_link()
        if state.kind == "reconnecting" and state.attempt <= 1:
            self.notify(
                f"Lost the relay ({state.reason or 'link down'}); reconnecting. "
                "Your changes wait and are sent when it is back.",
                severity="warning",
            )
        elif state.kind == "offline" and state.reason not in ("closed", ""):
            self.notify(f"Offline: {state.reason}", severity="error", timeout=30)

    def on_command_updated(self, message: CommandUpdated) -> None:
        """Show pending commands, and refusals with their reason."""
        out = message.outgoing
        if out.state == "failed":
            self.failed = [*self.failed[-4:], (time.monotonic(), out)]
            self.notify(f"Not done: {out.reason}", severity="error")
        self.show_link()

    def on_notified(self, message: Notified) -> None:
        """A toast."""
        self.notify(message.text, severity=message.severity)

    def on_connection_ended(self, message: ConnectionEnded) -> None:
        """The connection stopped for good."""
        self.show_link()

    def on_task_failed(self, message: TaskFailed) -> None:
        """The network worker died on a bug: say so, never keep showing "connected"."""
        self.task_failed = message.detail
        self.show_link()
        self.refresh_bindings()
        self.notify(f"{message.detail}. Press R to reconnect.", severity="error", timeout=30)

    def action_reconnect(self) -> None:
        """After the connection task failed: start it again from a fresh snapshot."""
        if not self.task_failed:
            return
        self.task_failed = ""
        self.refresh_bindings()
        self.post_message(ReconnectAsked())
        self.show_link()

    def on_submit(self, message: Submit) -> None:
        """Send a widget's command."""
        message.stop()
        self.conn.submit(message.command)
        self.show_link()

    # ---- drawing -----------------------------------------------------------------------

    def now(self) -> float:
        """The relay's clock (or the frozen clock of a preview)."""
        return self.clock() if self.clock is not None else self.conn.now()

    def context(self) -> Context | None:
        """A fresh look at the session."""
        session = self.conn.session
        if session is None:
            return None
        return Context(session, self.conn.member_id, frozenset(self.conn.online), self.now())

    def redraw(self) -> None:
        """Hand every part a new context; switch panels when the phase moved."""
        ctx = self.context()
        if ctx is None:
            return
        self.ctx = ctx
        for part in self.query(BoardPart):
            if not isinstance(part, LinkBox):
                part.show(ctx)
        if ctx.session.phase != self.phase:
            self.phase = ctx.session.phase
            switcher = self.query_one("#panels", ContentSwitcher)
            switcher.current = self.phase
            self.set_focus(self.query_one(f"#{self.phase}", BoardPart))
        keys = self._keys_state(ctx)
        if keys != self._keys:
            self._keys = keys
            self.refresh_bindings()

    @staticmethod
    def _keys_state(ctx: Context) -> tuple[object, ...]:
        """What decides which keys show: phase, role and the open votes' kinds and methods."""
        votes = tuple((v.kind, v.method) for v in ctx.session.votes.values() if v.accepting)
        return ctx.session.phase, ctx.role, ctx.session.closed, votes

    def tick(self) -> None:
        """Once a second: move the timer on, say when time is up, let old refusals fade."""
        if self.ctx is not None and self.conn.session is not None:
            before = self.ctx
            ctx = dataclasses.replace(before, now=self.now())
            self.ctx = ctx
            self.query_one("#timer", BoardPart).show(ctx)
            timer = ctx.session.timer
            if timer is not None and before.now < timer.ends_at <= ctx.now:
                self.app.bell()
                self.notify(f"Time is up: {timer.label}.", severity="warning", timeout=10)
        if self.failed:
            self.show_link()

    def show_link(self) -> None:
        """Update the link box from the connection."""
        waiting = list(self.conn.outbox.values())
        state = self.conn.link
        if self.task_failed:
            state = LinkState("offline", reason=f"{self.task_failed} (R reconnects)")
        elif self.conn.failure is not None:
            state = LinkState("offline", reason=self.conn.failure.reason)
        recent = time.monotonic() - FAILURE_SHOWN_FOR
        failed = [out for at, out in self.failed if at >= recent]
        self.query_one(LinkBox).show_link(state, waiting, failed)

    def save_record(self) -> None:
        """Keep a copy of the record in the data folder (facilitator, on decision or close)."""
        if self.records_dir is None or self.conn.session is None:
            return
        try:
            path = write_record(self.conn.session, self.records_dir)
        except OSError as exc:
            self.notify(f"Could not save the record: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Decision record saved: {path}", timeout=10)
