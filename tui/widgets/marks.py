"""Words the boards put beside results and items: stale marks, edit traces, hidden parts.

Every judgement comes from ``protocol/`` (``staleness``, ``partner``); this
module only turns its answers into short lines a person reads. A mark is a
symbol and words, never colour alone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Protocol

from accord.protocol.model import PartnerView, Session, Vote
from accord.protocol.partner import is_partner, may_see_ballots
from accord.protocol.pieces import Edit
from accord.protocol.staleness import stale_marks
from accord.tui.context import Context
from accord.tui.guide import name_of
from accord.tui.widgets.base import BoardPart, clip
from rich.text import Text

#: The symbol before every stale mark.
STALE = "⚠"


class Edited(Protocol):
    """Anything with an edit history (cards, needs, options)."""

    @property
    def edits(self) -> list[Edit]:
        """Earlier wordings, oldest first."""
        ...


def need_label(session: Session, vote: Vote, need_id: str) -> str:
    """A need's short name for a mark: its number on the board and its wording."""
    need = session.needs.get(need_id)
    text = need.text if need is not None else ""
    if not text:
        text = next((n.text for n in vote.needs if n.id == need_id), "")
    if not text:
        text = next((c.text for c in vote.criteria if c.need_id == need_id), need_id)
    return f"“{clip(text, 28)}”"


def stale_lines(session: Session, vote: Vote, width: int, facilitator: bool) -> list[str]:
    """What makes ``vote``'s results stale, one line per change (empty when they are not).

    The facilitator's last line offers the re-vote key.
    """
    marks = stale_marks(session, vote)
    if not marks:
        return []
    lines: list[str] = []
    for mark in marks[:3]:
        text = f"{STALE} stale: need {need_label(session, vote, mark.need_id)} {mark.what}"
        lines += textwrap.wrap(
            text, max(20, width), subsequent_indent="  ", max_lines=2, placeholder=" …"
        )
    if len(marks) > 3:
        lines.append(f"  … and {len(marks) - 3} more changes since the vote")
    if facilitator and not vote.accepting:
        lines.append("  " + clip("results are stale — press v to vote again", width - 2))
    return lines


def edited_note(session: Session, item: Edited) -> str:
    """``edited by Ada`` (or ``edited 3 times, last by Ada``); empty when never edited."""
    edits = item.edits
    if not edits:
        return ""
    who = name_of(session, edits[-1].by)
    if len(edits) == 1:
        return f"edited by {who}"
    return f"edited {len(edits)} times, last by {who}"


def hidden_from_partner(session: Session, me: str, what: str) -> str:
    """``The facilitator has not shared <what>`` for the partner; empty for everyone else."""
    if not is_partner(session, me):
        return ""
    return f"The facilitator has not shared {what}."


def stale_block(part: BoardPart, ctx: Context, vote: Vote | None, width: int) -> list[Text]:
    """A panel's stale lines for ``vote`` in the warning style (none when it is fresh)."""
    if vote is None:
        return []
    lines = stale_lines(ctx.session, vote, width - 1, ctx.is_facilitator)
    return [part.styled(" " + line, "warn") for line in lines]


#: What a partner note names, and whether the partner view shares it.
PARTNER_SHARES: dict[str, tuple[str, Callable[[PartnerView], bool]]] = {
    "needs": ("every need; you see the shared ones", lambda v: v.all_needs),
    "ranking": ("the ranking", lambda v: may_see_ballots(v, "score")),
    "scores": ("the scores and the ranking", lambda v: may_see_ballots(v, "score")),
    "stances": ("who answered what", lambda v: v.stances),
}


def partner_note(part: BoardPart, ctx: Context, key: str) -> list[Text]:
    """``The facilitator has not shared <what>.`` for the partner when ``key`` is not shared."""
    what, shared = PARTNER_SHARES[key]
    hidden = (
        "" if shared(ctx.session.partner_view) else hidden_from_partner(ctx.session, ctx.me, what)
    )
    return [part.styled(" " + hidden, "dim")] if hidden else []
