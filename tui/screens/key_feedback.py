"""Feedback for every key: the footer offers only what your role can do, and a key that
does nothing for your role or phase says why in one line.

Who may do what comes from ``accord.protocol.permissions`` (the relay's own role sets);
this module only knows which key asks for which ability.
"""

from __future__ import annotations

from accord.client import Client
from accord.protocol.model import Phase, VoteKind
from accord.protocol.permissions import why_not
from accord.tui.context import Context
from accord.tui.guide import VOTE_NAMES
from accord.tui.screens.dialog_host import DialogHost
from accord.tui.widgets.base import BoardPart
from textual import events
from textual.actions import parse
from textual.binding import ActiveBinding, Binding

VOTE_OF_PHASE: dict[Phase, VoteKind] = {
    "learn": "dots",
    "needs": "classify",
    "options": "score",
    "decide": "consensus",
}

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


class KeyFeedback(DialogHost):
    """The board screen's key gate: role-aware footer, palette and one-line refusals."""

    conn: Client
    ctx: Context | None

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
        reasons: list[str] = []
        for node in (self.panel(), self):
            for binding in type(node).BINDINGS:
                if not isinstance(binding, Binding) or key not in binding.key.split(","):
                    continue
                _, name, params = parse(binding.action)
                denied = self.denial(name)
                if denied:
                    reasons.append(denied)
                    continue
                state = node.check_action(name, params)
                if state is True:
                    return ""
                reasons.append(self.disabled_reason(name))
        return next((r for r in reasons if r), "")

    def disabled_reason(self, action: str) -> str:
        """Why an action your role may do is off just now (no vote open, wrong method)."""
        ctx = self.ctx
        if ctx is None or action not in VOTE_ACTIONS:
            return ""
        kind = VOTE_OF_PHASE[ctx.session.phase]
        vote = ctx.session.open_vote(kind)
        name = VOTE_NAMES[kind]
        if vote is None:
            how = "open one with v" if ctx.is_facilitator else "the facilitator opens one"
            return f"No {name} is open now; {how}."
        if kind == "consensus":
            keys = "0-5" if vote.method == "fist" else "a, s or x"
            return f"This round is answered with {keys}."
        return f"That key does not answer this {name}."

    def on_key(self, event: events.Key) -> None:
        """A key that would do nothing says why, in one line."""
        why = self.why_key_does_nothing(event.key)
        if why:
            event.stop()
            event.prevent_default()
            self.notify(why, severity="warning", timeout=4)
