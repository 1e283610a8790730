"""The board's keys: its bindings, which role may press what, and the facilitator's actions.

``BoardKeys`` is the base of ``BoardScreen``: the screen holds the session and
draws it (``board.py``); this holds what each key does. Dialogs open through
``DialogHost``, the screen side of the widgets' ``Asks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from accord.client import (
    Client,
)
from accord.protocol.ballots import incomplete_ballots, missing_voters
from accord.protocol.commands import (
    CloseVote,
    EditQuestion,
    OpenVote,
    RevealVote,
    SetPartnerView,
    SetPhase,
    SetReady,
    StopTimer,
)
from accord.protocol.model import PHASE_TITLES, PHASES, Phase
from accord.protocol.permissions import allowed, vote_kind_of
from accord.protocol.rounds import default_method
from accord.server.records import write_record
from accord.tui.context import Context
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.help import HelpScreen, KeyHelp
from accord.tui.dialogs.invite import InviteScreen
from accord.tui.dialogs.partner_dialog import PartnerViewDialog
from accord.tui.dialogs.prompt import TextPrompt
from accord.tui.dialogs.timer_dialog import TimerDialog
from accord.tui.dialogs.vote_dialog import OpenVoteDialog
from accord.tui.guide import PHASE_HELP, VOTE_NAMES
from accord.tui.screens.key_feedback import KeyFeedback
from accord.tui.screens.member_keys import MEMBER_ACTIONS, MemberKeys
from accord.tui.widgets.base import BoardPart
from textual.binding import Binding, BindingType

FACILITATOR_ACTIONS = {
    "phase",
    "timer",
    "invite",
    "open_vote",
    "reveal_vote",
    "close_vote",
    "edit_question",
    "partner_view",
}
NAVIGATION = {"move", "lane", "cancel_merge"}


PHASE_KEYS = Binding.Group("Phase")
VOTE_KEYS = Binding.Group("Vote")


class BoardKeys(MemberKeys, KeyFeedback):
    """The board screen's bindings and actions (the screen itself is ``BoardScreen``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left_square_bracket",
            "phase(-1)",
            "Back",
            key_display="[",
            tooltip="Facilitator: move the board to the previous phase",
            group=PHASE_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "phase(1)",
            "Next",
            key_display="]",
            tooltip="Facilitator: move the board to the next phase",
            group=PHASE_KEYS,
        ),
        Binding(
            "v",
            "open_vote",
            "Open vote",
            tooltip="Facilitator: open this phase's vote",
            group=VOTE_KEYS,
        ),
        Binding(
            "V",
            "reveal_vote",
            "Reveal",
            tooltip="Facilitator: end the vote, show results",
            group=VOTE_KEYS,
        ),
        Binding(
            "C",
            "close_vote",
            "Close vote",
            tooltip="Facilitator: stop the vote, keep hidden",
            group=VOTE_KEYS,
        ),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Keys of this phase"),
        Binding("r", "ready", "Ready", tooltip="Say you are ready to move on (again to undo)"),
        Binding("t", "timer", "Timer", tooltip="Facilitator: start or stop a timebox"),
        Binding("i", "invite", "Invite", tooltip="Facilitator: show join codes and commands"),
        Binding("Q", "edit_question", "Question", tooltip="Facilitator: reword the question"),
        Binding(
            "H",
            "partner_view",
            "Partner view",
            tooltip="Facilitator: choose what the partner may see",
        ),
        Binding(
            "R",
            "reconnect",
            "Reconnect",
            tooltip="After the connection stopped: connect again from a fresh snapshot",
        ),
        Binding("S", "sidebar", "Sidebar", tooltip="Narrow terminals: show or hide the sidebar"),
        Binding(
            "w",
            "write_record",
            "Write record",
            tooltip="Write the decision record (Markdown and JSON) to this folder",
        ),
    ]

    # Set by ``BoardScreen``: what the actions read.
    conn: Client
    ctx: Context | None
    phase: Phase | None
    task_failed: str
    export_dir: Path
    server_label: str
    invite_note: str
    resumable: bool

    def show_link(self) -> None:
        """Redraw the link box (``BoardScreen`` draws it)."""
        raise NotImplementedError

    def action_sidebar(self) -> None:
        """Show or hide the sidebar on a narrow terminal (``BoardScreen`` does it)."""
        raise NotImplementedError

    # ---- keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the facilitator's keys from everyone else."""
        ctx = self.ctx
        if ctx is None:
            return True
        if action in FACILITATOR_ACTIONS:
            return ctx.is_facilitator
        if action in MEMBER_ACTIONS:
            return self.member_action_allowed(action)
        if action == "ready":
            return allowed(ctx.session, ctx.me, SetReady(ready=True))
        if action == "sidebar":
            return self.has_class("-narrow")
        if action == "reconnect":
            return bool(self.task_failed) or self.conn.failure is not None
        return True

    def panel(self) -> BoardPart:
        """The current phase's panel."""
        return self.query_one(f"#{self.phase or 'learn'}", BoardPart)

    def key_help(self) -> tuple[list[KeyHelp], list[KeyHelp]]:
        """The current panel's keys and the board's keys, as your role sees them."""

        def collect(node: BoardPart | BoardKeys) -> list[KeyHelp]:
            out: list[KeyHelp] = []
            seen: set[str] = set()
            for binding in type(node).BINDINGS:
                if not isinstance(binding, Binding) or not binding.show:
                    continue
                name = binding.action.split("(")[0]
                if name in NAVIGATION or binding.action in seen:
                    continue
                if node.check_action(name, ()) is False or self.denial(name):
                    continue
                seen.add(binding.action)
                key = binding.key_display or self.app.get_key_display(binding)
                out.append(KeyHelp(key, binding.description, binding.tooltip))
            return out

        phase_keys = collect(self.panel())
        phase_keys.insert(0, KeyHelp("arrows", "Move", "select a card, need, cell"))
        board_keys = collect(self) + self.member_help()
        board_keys.append(KeyHelp("ctrl+p", "Commands", "find any action by name"))
        board_keys.append(KeyHelp("ctrl+q", "Quit", "leave; accord resume brings you back"))
        return phase_keys, board_keys

    def action_help(self) -> None:
        """Open help for the current phase."""
        phase = self.phase or "learn"
        phase_keys, board_keys = self.key_help()
        self.app.push_screen(
            HelpScreen(PHASE_TITLES[phase], PHASE_HELP[phase], phase_keys, board_keys)
        )

    def action_ready(self) -> None:
        """Toggle your ready flag."""
        me = self.ctx.member if self.ctx else None
        if me is not None:
            self.conn.submit(SetReady(ready=not me.ready))
            self.show_link()

    def action_phase(self, delta: int) -> None:
        """Move the board one phase back or forward."""
        ctx = self.ctx
        if ctx is None:
            return
        index = PHASES.index(ctx.session.phase) + delta
        if not 0 <= index < len(PHASES):
            self.notify("There is no phase that way.", severity="warning")
            return
        target = PHASES[index]
        vote = ctx.session.open_vote()
        if vote is not None and delta > 0:
            kind = VOTE_NAMES[vote.kind]

            def done(yes: bool | None) -> None:
                if yes:
                    self.conn.submit(SetPhase(phase=target))

            self.app.push_screen(
                ConfirmDialog(
                    f"Move on to {PHASE_TITLES[target]}?",
                    f"The {kind} is still open; ballots can only be cast in its own phase.",
                    "Move on",
                ),
                done,
            )
            return
        self.conn.submit(SetPhase(phase=target))
        self.show_link()

    def action_open_vote(self) -> None:
        """Open this phase's vote."""
        ctx = self.ctx
        if ctx is None:
            return
        kind = vote_kind_of(ctx.session.phase)
        if ctx.session.open_vote(kind) is not None:
            self.notify(f"A {VOTE_NAMES[kind]} is already open.", severity="warning")
            return

        def done(command: OpenVote | None) -> None:
            if command:
                self.conn.submit(command)

        self.app.push_screen(OpenVoteDialog(kind, method=default_method(ctx.session)), done)

    def _phase_vote_id(self, *, revealable: bool) -> str | None:
        ctx = self.ctx
        if ctx is None:
            return None
        kind = vote_kind_of(ctx.session.phase)
        vote = ctx.session.open_vote(kind)
        if vote is None and revealable:
            latest = ctx.session.latest_vote(kind)
            vote = latest if latest is not None and not latest.revealed else None
        if vote is None:
            self.notify(f"No {VOTE_NAMES[kind]} to do that to.", severity="warning")
            return None
        return vote.id

    def action_reveal_vote(self) -> None:
        """Reveal this phase's vote; with missing or incomplete ballots, ask first."""
        vote_id = self._phase_vote_id(revealable=True)
        ctx = self.ctx
        if not vote_id or ctx is None:
            return
        vote = ctx.session.votes[vote_id]
        # A round ended early is incomplete (it names who is missing); a classify or score
        # ballot that does not answer every item is incomplete. Both are asked about first.
        consensus = vote.kind == "consensus"
        missing = len(missing_voters(ctx.session, vote)) if vote.accepting and consensus else 0
        partial = incomplete_ballots(vote) if vote.accepting else 0
        if not missing and not partial:
            self.conn.submit(RevealVote(vote_id=vote_id))
            return
        said = []
        if partial:
            said.append(f"{partial} ballot{'s are' if partial > 1 else ' is'} incomplete")
        if missing:
            said.append(f"{missing} member{'s have' if missing > 1 else ' has'} not voted")
        detail = "; ".join(said) + "."
        if consensus:
            detail += " The round will be recorded as incomplete, never as passed."
        else:
            detail += " The record says how many ballots were incomplete."
        if vote.anonymous and partial == 1:
            detail += " This vote is anonymous, but a single incomplete ballot may be recognisable."

        def done(yes: bool | None) -> None:
            if yes:
                self.conn.submit(RevealVote(vote_id=vote_id))

        self.app.push_screen(ConfirmDialog("Reveal now?", detail, "Reveal"), done)

    def action_close_vote(self) -> None:
        """Close this phase's vote without revealing it (asks first)."""
        vote_id = self._phase_vote_id(revealable=False)
        if not vote_id:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.conn.submit(CloseVote(vote_id=vote_id))

        self.app.push_screen(
            ConfirmDialog(
                "Close the vote without revealing?",
                "Nobody can vote any more; results stay hidden until you reveal them (V).",
                "Close it",
            ),
            done,
        )

    def action_timer(self) -> None:
        """Start a timebox, or stop the running one."""
        ctx = self.ctx
        if ctx is None:
            return
        if ctx.session.timer is not None:

            def stop(yes: bool | None) -> None:
                if yes:
                    self.conn.submit(StopTimer())

            self.app.push_screen(ConfirmDialog("Stop the timebox?", "", "Stop it"), stop)
            return

        def start(command: object) -> None:
            if command is not None:
                self.conn.submit(command)  # type: ignore[arg-type]

        self.app.push_screen(TimerDialog(), start)

    def action_invite(self) -> None:
        """Show the join codes."""
        if self.conn.secrets is None:
            self.notify(
                "Join codes are shown only on the machine that created the session.",
                severity="warning",
            )
            return
        self.app.push_screen(
            InviteScreen(self.conn.secrets, self.server_label, self.invite_note, self.resumable)
        )

    def action_edit_question(self) -> None:
        """Reword the question."""
        ctx = self.ctx
        if ctx is None:
            return

        def done(text: str | None) -> None:
            if text:
                self.conn.submit(EditQuestion(question=text))

        self.app.push_screen(
            TextPrompt(
                "The question we are deciding", initial=ctx.session.question, max_length=200
            ),
            done,
        )

    def action_partner_view(self) -> None:
        """Choose what the partner role may see (the relay enforces it)."""
        ctx = self.ctx
        if ctx is None:
            return
        needs = [(n.id, n.text) for n in ctx.session.live_needs()]

        def done(command: SetPartnerView | None) -> None:
            if command is not None:
                self.conn.submit(command)

        self.app.push_screen(PartnerViewDialog(ctx.session.partner_view, needs), done)

    def action_write_record(self) -> None:
        """Write the decision record to the working folder."""
        if self.conn.session is None:
            return
        try:
            path = write_record(self.conn.session, self.export_dir)
        except OSError as exc:
            self.notify(f"Could not write the record: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Wrote {path.name} and its JSON twin in {path.parent}.")
