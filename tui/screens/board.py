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
from accord.protocol.commands import Cast
from accord.protocol.model import Phase
from accord.protocol.permissions import is_facilitator
from accord.server.records import write_record
from accord.tui.context import Context, pending_marks
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
from accord.tui.widgets.sidebar import LinkBox, MessageBox, Sidebar, StatusStrip
from accord.tui.words import plain_reason
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Footer

#: Seconds a refused command stays listed in the sidebar (its toast says it first).
FAILURE_SHOWN_FOR = 60.0
#: Seconds a message stays in the sidebar unless its sender asked for longer; and how many.
MESSAGE_SHOWN_FOR = 20.0
MESSAGES_KEPT = 4
#: Below this many columns the sidebar folds into the one-line strip.
NARROW_BELOW = 100
#: Seconds the strip shows a new message instead of the summary.
STRIP_MESSAGE_FOR = 6.0


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
        #: When the link to the relay went down (monotonic), or None while it is up.
        self.down_since: float | None = None
        #: Recent messages: (until when, text, severity), oldest first.
        self.messages: list[tuple[float, str, str]] = []

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
        yield StatusStrip(id="strip")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Draw what the connection already has, then listen for updates."""
        self.redraw()
        self.show_link()
        self.show_messages()
        if self.clock is None:
            self.set_interval(1.0, self.tick)
        if self.show_invite and self.conn.secrets is not None:
            self.call_after_refresh(self.action_invite)

    def on_resize(self) -> None:
        """Give the sidebar more room on wide terminals; fold it into a strip on narrow ones."""
        self.set_class(self.size.width >= 110, "-wide")
        narrow = self.size.width < NARROW_BELOW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.refresh_bindings()

    def action_sidebar(self) -> None:
        """Open or close the full sidebar on a narrow terminal."""
        self.toggle_class("-sidebar")

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
        down = state.kind in ("reconnecting", "offline")
        if down and self.down_since is None:
            self.down_since = time.monotonic()
        elif not down and self.down_since is not None:
            self.down_since = None
        self.redraw()
        self.show_link()
        if state.kind == "reconnecting" and state.attempt <= 1:
            self.notify(
                f"Lost the relay ({state.reason or 'link down'}); reconnecting. "
                "Your changes wait and are sent when it is back.",
                severity="warning",
            )
        elif state.kind == "offline" and state.reason not in ("closed", ""):
            if self.farewell_shown:
                return  # the final message already says why
            self.refresh_bindings()
            self.notify(
                f"Offline: {plain_reason(state.reason)}. Press R to try again.",
                severity="error",
                timeout=30,
            )

    def on_command_updated(self, message: CommandUpdated) -> None:
        """Show pending commands, and refusals with their reason."""
        out = message.outgoing
        if out.state == "failed":
            self.failed = [*self.failed[-4:], (time.monotonic(), out)]
            undone = " (your answer is undone)" if isinstance(out.command, Cast) else ""
            self.notify(f"Not done{undone}: {out.reason}", severity="error")
        self.command_settled(out)
        self.redraw()  # what was waiting shows as done, or goes; a pending mark likewise
        self.show_link()

    def on_notified(self, message: Notified) -> None:
        """A toast."""
        self.notify(message.text, severity=message.severity)

    def on_connection_ended(self, message: ConnectionEnded) -> None:
        """The connection stopped for good (removed: the final message, then the board ends)."""
        self.show_link()
        if self.conn.failure is not None and self.conn.failure.removed:
            self.say_farewell()

    def on_task_failed(self, message: TaskFailed) -> None:
        """The network worker died on a bug: say so, never keep showing "connected"."""
        self.task_failed = message.detail
        self.show_link()
        self.refresh_bindings()
        self.notify(f"{message.detail}. Press R to reconnect.", severity="error", timeout=30)

    def action_reconnect(self) -> None:
        """After the connection stopped: start it again from a fresh snapshot."""
        if not self.task_failed and self.conn.failure is None:
            return
        self.task_failed = ""
        self.refresh_bindings()
        self.post_message(ReconnectAsked())
        self.show_link()

    def on_submit(self, message: Submit) -> None:
        """Send a widget's command."""
        message.stop()
        self.conn.submit(message.command)
        self.redraw()  # what you entered shows at once, marked as waiting
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
        return Context(
            session,
            self.conn.member_id,
            frozenset(self.conn.online),
            self.now(),
            self.relay_down_for(),
            tuple(out.command for out in self.conn.outbox.values()),
            pending_marks(self.conn.outbox.values()),
        )

    def relay_down_for(self) -> float | None:
        """Seconds the relay has been unreachable, or None while the link is up."""
        return None if self.down_since is None else time.monotonic() - self.down_since

    def redraw(self) -> None:
        """Hand every part a new context; switch panels when the phase moved."""
        ctx = self.context()
        if ctx is None:
            return
        self.ctx = ctx
        if ctx.member is not None and ctx.member.removed:
            self.say_farewell()
        for part in self.query(BoardPart):
            if not isinstance(part, LinkBox | MessageBox):
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
            ctx = dataclasses.replace(before, now=self.now(), relay_down_for=self.relay_down_for())
            self.ctx = ctx
            self.query_one("#timer", BoardPart).show(ctx)
            if ctx.relay_down_for is not None:
                self.query_one("#members", BoardPart).show(ctx)
            timer = ctx.session.timer
            if timer is not None and before.now < timer.ends_at <= ctx.now:
                self.app.bell()
                self.notify(f"Time is up: {timer.label}.", severity="warning", timeout=10)
        if self.failed:
            self.show_link()
        if self.messages and self.messages[0][0] <= time.monotonic():
            self.show_messages()
        elif self.messages:
            self.show_strip()
        if self.ctx is not None:
            self.query_one(StatusStrip).show(self.ctx)

    def say(self, text: str, severity: str = "information", timeout: float | None = None) -> None:
        """Add a message to the sidebar's message box (the board's toasts)."""
        until = time.monotonic() + max(timeout or 0.0, MESSAGE_SHOWN_FOR)
        self.messages = [*self.messages, (until, text, severity)][-MESSAGES_KEPT:]
        self.show_messages()

    def show_messages(self) -> None:
        """Draw the messages still due, and forget the old ones."""
        now = time.monotonic()
        due = [(until, text, sev) for until, text, sev in self.messages if until > now]
        self.messages = due
        if self.is_mounted:
            box = self.query(MessageBox)
            if box:
                box.first().show_messages([(text, sev) for _, text, sev in due])
            self.show_strip()

    def show_strip(self) -> None:
        """Update the narrow terminal's one-line strip."""
        strips = self.query(StatusStrip)
        if not strips:
            return
        fresh = None
        if self.messages:
            until, text, severity = self.messages[-1]
            if until - MESSAGE_SHOWN_FOR + STRIP_MESSAGE_FOR > time.monotonic():
                fresh = (text, severity)
        strips.first().show_state(self.conn.link, len(self.conn.outbox), fresh)

    def show_link(self) -> None:
        """Update the link box from the connection."""
        waiting = list(self.conn.outbox.values())
        state = self.conn.link
        if self.task_failed:
            state = LinkState("offline", reason=f"{self.task_failed} (R reconnects)")
        elif self.conn.failure is not None:
            reason = plain_reason(self.conn.failure.reason)
            state = LinkState("offline", reason=f"{reason} (R tries again)")
        recent = time.monotonic() - FAILURE_SHOWN_FOR
        failed = [out for at, out in self.failed if at >= recent]
        self.query_one(LinkBox).show_link(state, waiting, failed)
        self.show_strip()

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
