"""Feedback for every key: the footer offers only what your role can do, and a key that
does nothing for your role or phase says why in one line.

Who may do what comes from ``accord.protocol.permissions`` (the relay's own role sets);
this module only knows which key asks for which ability.
"""

from __future__ import annotations

from accord.client import Client
from accord.protocol.permissions import vote_kind_of, why_not
from accord.tui.context import Context
from accord.tui.guide import VOTE_NAMES
from accord.tui.screens.dialog_host import DialogHost
from accord.tui.widgets.base import BoardPart
from textual import events
from textual.actions import parse
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode

#: Frames to wait for a dialog to focus its first field before typed keys are dropped.
DIALOG_WAIT_FRAMES = 20

#: What each key's action asks the relay for, in ``protocol.permissions`` words.
ACTS: dict[str, str] = {
    "phase": "move the board",
    "open_vote": "open, reveal or close votes",
    "reveal_vote": "open, reveal or close votes",
    "close_vote": "open, reveal or close votes",
    "timer": "run the timebox",
    "invite": "invite people",
    "edit_question": "reword the question",
    "ready": "mark themselves ready",
    "dot": "vote",
    "classify": "vote",
    "score": "vote",
    "gate": "vote",
    "fist": "vote",
    "consent": "vote",
    "object": "vote",
    "merge": "delete or merge items",
    "delete": "delete or merge items",
    "settle": "settle a need's class",
    "weight": "set weights",
    "note": "add notes",
    "edit": "edit cards, needs and options",
    "propose": "make a proposal",
    "record": "record the decision",
    "close_session": "close the session",
}
#: What ``a`` adds in each phase (in Decide it is a consent answer).
ADD_ACTS: dict[str, str] = {
    "learn": "add cards",
    "needs": "propose needs",
    "options": "add options",
}
VOTE_ACTIONS = {"dot", "classify", "score", "gate", "fist", "consent", "object"}


def _bindings_of(cls: type) -> list[object]:
    """Every binding ``cls`` and its bases declare, the class's own first (as Textual merges)."""
    return [b for base in cls.__mro__ for b in base.__dict__.get("BINDINGS", [])]


class KeyFeedback(DialogHost):
    """The board screen's key gate: role-aware footer, palette and one-line refusals."""

    conn: Client
    ctx: Context | None
    #: Keys typed after one that opened a dialog, before the dialog could take them.
    _for_dialog: list[events.Key]

    def __init__(self) -> None:
        super().__init__()
        self._for_dialog = []

    def panel(self) -> BoardPart:
        """The current phase's panel (``BoardKeys`` finds it)."""
        raise NotImplementedError

    def denial(self, action: str) -> str:
        """Why your role (or the closed session) rules ``action`` out, or ``""``."""
        ctx = self.ctx
        if ctx is None:
            return ""
        phase = ctx.session.phase
        doing = ADD_ACTS.get(phase) if action == "add" else ACTS.get(action)
        if doing is None:
            return ""
        if ctx.session.closed:
            return "The session is closed; nothing changes now (w writes the record)."
        return why_not(ctx.role, doing)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys the footer and the palette offer: only what your role can do."""
        return {
            key: active
            for key, active in super().active_bindings.items()
            if not self.denial(active.binding.action.split("(")[0])
        }

    def why_key_does_nothing(self, key: str) -> str:
        """One line on why ``key`` does nothing for you now, or ``""`` if it does something."""
        found = self.key_action(key)
        return found if isinstance(found, str) else ""

    def key_action(self, key: str) -> tuple[DOMNode, str] | str:
        """The node and action ``key`` runs now, or why it runs nothing (``""``: not a key)."""
        reasons: list[str] = []
        for node in (self.panel(), self):
            for binding in _bindings_of(type(node)):
                if not isinstance(binding, Binding) or key not in binding.key.split(","):
                    continue
                _, name, params = parse(binding.action)
                denied = self.denial(name)
                if denied:
                    reasons.append(denied)
                    continue
                state = node.check_action(name, params)
                if state is True:
                    return node, binding.action
                reasons.append(self.disabled_reason(name))
        return next((r for r in reasons if r), "")

    def disabled_reason(self, action: str) -> str:
        """Why an action your role may do is off just now (no vote open, wrong method)."""
        ctx = self.ctx
        if ctx is None or action not in VOTE_ACTIONS:
            return ""
        kind = vote_kind_of(ctx.session.phase)
        vote = ctx.session.open_vote(kind)
        name = VOTE_NAMES[kind]
        if vote is None:
            how = "open one with v" if ctx.is_facilitator else "the facilitator opens one"
            return f"No {name} is open now; {how}."
        if kind == "consensus":
            keys = "0-5" if vote.method == "fist" else "a, s or x"
            return f"This round is answered with {keys}."
        return f"That key does not answer this {name}."

    async def on_key(self, event: events.Key) -> None:
        """Run the board's keys in the order they were typed; say why a key does nothing.

        Keys reach the board in order, but Textual runs bindings only when a key has
        bubbled back up to the app, after every key typed with it was handed out. So a
        key that opens a dialog runs here at once, and the keys typed after it (before
        the dialog could take them) are handed to the dialog, in order.
        """
        if self.app.screen is not self:
            event.stop()
            event.prevent_default()
            self._for_dialog.append(events.Key(event.key, event.character))
            self._hand_to_dialog()
            return
        found = self.key_action(event.key)
        if isinstance(found, tuple):
            event.stop()
            event.prevent_default()
            node, action = found
            await self.app.run_action(action, node)
        elif found:
            event.stop()
            event.prevent_default()
            self.notify(found, severity="warning", timeout=4)

    def _hand_to_dialog(self, tries: int = 0) -> None:
        """Hand the keys typed for the dialog on top to its focused field, once it has one."""
        if not self._for_dialog:
            return
        target = self.app.focused
        if self.app.screen is self or (target is None and tries >= DIALOG_WAIT_FRAMES):
            self._for_dialog.clear()  # the dialog is gone (or never took focus): drop them
            return
        if target is None:
            self.call_after_refresh(self._hand_to_dialog, tries + 1)
            return
        for key in self._for_dialog:
            target.post_message(key)
        self._for_dialog.clear()
