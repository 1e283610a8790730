"""The board's keys for who is in the session: the people list, removing someone, new join codes.

``MemberKeys`` is a base of ``BoardKeys``. Whether a member may remove someone
or issue new codes is asked of the relay's own rules (``protocol.permissions``),
so a refused key says the relay's reason in one line. It also says goodbye when
the facilitator removed this member: a final message, then the board ends.
"""

from __future__ import annotations

from typing import ClassVar

from accord.client import Client, Outgoing
from accord.protocol.commands import Command, RemoveMember, RotateCodes
from accord.protocol.messages import Secrets
from accord.protocol.permissions import refusal
from accord.tui.config import ConfigError, KeyStore
from accord.tui.context import Context
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.farewell import FarewellScreen
from accord.tui.dialogs.help import KeyHelp
from accord.tui.dialogs.invite import InviteScreen
from accord.tui.dialogs.members import MemberRow, MembersDialog
from accord.tui.screens.dialog_host import DialogHost
from accord.tui.widgets.sidebar import ROLE_ORDER
from textual import events
from textual.binding import Binding, BindingType

#: The actions of this module, as ``BoardKeys.check_action`` hands them over.
MEMBER_ACTIONS = frozenset({"people", "rotate_codes"})
#: Keys hidden from those who may not use them, which still say why when pressed.
EXPLAINED_KEYS = {"K": "rotate_codes"}

REMOVED_TITLE = "You were removed from this session"
REMOVED_DETAIL = (
    "The facilitator removed you from this session, so this board has stopped and will "
    "not reconnect. What you added stays on the board and in the decision record. If this "
    "was a mistake, ask the facilitator for a join code."
)
NEW_CODES_NOTE = "These codes are new: the old ones no longer work."


def codes_of(secrets: Secrets) -> dict[str, str]:
    """The join codes as the key store keeps them, by role."""
    return {
        "participant": secrets.participant_code,
        "partner": secrets.partner_code,
        "observer": secrets.observer_code,
    }


def sentence(reason: str) -> str:
    """A rule's reason as a sentence: ``Only the facilitator can ...``."""
    reason = reason.strip().rstrip(".")
    return reason[:1].upper() + reason[1:] + "." if reason else "Not allowed."


class MemberKeys(DialogHost):
    """People (everyone), remove a member and new join codes (the facilitator)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "P",
            "people",
            "People",
            show=False,
            tooltip="Everyone in the session; the facilitator can remove someone (x)",
        ),
        Binding(
            "K",
            "rotate_codes",
            "New join codes",
            show=False,
            tooltip="Facilitator: replace the join codes; the old ones stop working",
        ),
    ]

    # Set by ``BoardScreen``: what the actions read.
    conn: Client
    ctx: Context | None
    server_label: str
    invite_note: str
    resumable: bool
    #: True once the final message is up (removed): nothing else is said after it.
    farewell_shown: bool = False

    def _refusal(self, command: Command) -> str | None:
        """The relay's reason to refuse ``command`` from you now, or None."""
        ctx = self.ctx
        if ctx is None:
            return "the board is still loading"
        found = refusal(ctx.session, ctx.me, command, ctx.now)
        return found.message if found is not None else None

    def member_action_allowed(self, action: str) -> bool:
        """Whether a key of this module is live for you (``BoardKeys.check_action`` asks)."""
        if action == "rotate_codes":
            return self._refusal(RotateCodes()) is None
        return True

    def member_help(self) -> list[KeyHelp]:
        """This module's keys for the help screen, as your role sees them."""
        out = [KeyHelp("P", "People", "everyone here; the facilitator removes with x")]
        if self.member_action_allowed("rotate_codes"):
            out.append(KeyHelp("K", "New join codes", "the old codes stop working"))
        return out

    async def on_key(self, event: events.Key) -> None:
        """A hidden key of this module pressed by someone who may not use it: say why."""
        action = EXPLAINED_KEYS.get(event.key)
        if action is None or self.ctx is None or self.member_action_allowed(action):
            return
        event.stop()
        event.prevent_default()
        reason = self._refusal(RotateCodes()) or ""
        self.notify(sentence(reason), severity="warning")

    def _member_name(self, member_id: str) -> str:
        """A member's name without marks (they may be removed already)."""
        session = self.conn.session
        member = session.members.get(member_id) if session is not None else None
        return member.name if member is not None else "someone"

    # ---- people and removing -------------------------------------------------------

    def action_people(self) -> None:
        """List everyone; the facilitator may pick someone to remove (asked again first)."""
        ctx = self.ctx
        if ctx is None:
            return
        members = sorted(
            ctx.session.members.values(),
            key=lambda m: (m.removed, ROLE_ORDER[m.role], m.joined_at, m.id),
        )
        rows = [
            MemberRow(
                m.id,
                m.name,
                m.role,
                m.department,
                m.id in ctx.online,
                m.removed,
                m.id == ctx.me,
            )
            for m in members
        ]

        def why_not(member_id: str) -> str | None:
            reason = self._refusal(RemoveMember(member_id=member_id))
            return sentence(reason) if reason else None

        can_remove = any(self._refusal(RemoveMember(member_id=m.id)) is None for m in members)
        self.app.push_screen(MembersDialog(rows, why_not, can_remove), self._confirm_removal)

    def _confirm_removal(self, member_id: str | None) -> None:
        ctx = self.ctx
        if not member_id or ctx is None:
            return
        name = self._member_name(member_id)

        def done(yes: bool | None) -> None:
            if yes:
                self.conn.submit(RemoveMember(member_id=member_id))

        self.app.push_screen(
            ConfirmDialog(
                f"Remove {name} from this session?",
                f"{name}'s board closes now and their key stops working. Everything {name} "
                "added stays on the board and in the decision record. Anyone who still has a "
                "join code could join again as someone new: press K for new codes to keep "
                "them out.",
                "Remove",
            ),
            done,
        )

    # ---- new join codes --------------------------------------------------------------

    def action_rotate_codes(self) -> None:
        """Replace the join codes (asked first); the new ones show in the invite dialog."""
        reason = self._refusal(RotateCodes())
        if reason is not None:
            self.notify(sentence(reason), severity="warning")
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.conn.submit(RotateCodes())

        self.app.push_screen(
            ConfirmDialog(
                "Issue new join codes?",
                "The participant, partner and observer codes in use stop working at once. "
                "Everyone already in keeps their seat. The new codes show next.",
                "New codes",
            ),
            done,
        )

    def command_settled(self, out: Outgoing) -> None:
        """One of your commands was answered (``BoardScreen`` calls this)."""
        if out.state != "acked":
            return
        if isinstance(out.command, RotateCodes):
            secrets = self.conn.secrets
            if secrets is None:
                return
            self._save_codes(secrets)
            note = f"{NEW_CODES_NOTE} {self.invite_note}".strip()
            self.app.push_screen(InviteScreen(secrets, self.server_label, note, self.resumable))
        elif isinstance(out.command, RemoveMember) and self.ctx is not None:
            name = self._member_name(out.command.member_id)
            self.notify(f"{name} is out of the session; what they added stays.")

    def _save_codes(self, secrets: Secrets) -> None:
        """Keep the new codes where ``accord resume`` and ``i`` read them."""
        session = self.conn.session
        if not self.resumable or session is None:
            return
        try:
            KeyStore().update_codes(session.id, self.conn.member_id, codes_of(secrets))
        except (OSError, ConfigError) as exc:
            self.notify(
                f"The new codes are shown but could not be saved for accord resume: {exc}",
                severity="warning",
            )

    # ---- removed -----------------------------------------------------------------------

    def say_farewell(self) -> None:
        """You were removed: the final message, then the board ends (never a retry)."""
        if self.farewell_shown:
            return
        self.farewell_shown = True
        self.app.push_screen(
            FarewellScreen(REMOVED_TITLE, REMOVED_DETAIL), lambda _: self.app.exit(return_code=0)
        )
