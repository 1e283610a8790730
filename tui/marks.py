"""The board's marks and what they mean, and the dot-vote reveal's order and top cards.

Plain functions of a ``Context`` (no Textual): the panels, the detail view and
``?`` help all read the one legend here.
"""

from __future__ import annotations

from accord.protocol.model import LANES, Card, Vote
from accord.protocol.results import dot_totals
from accord.tui.context import Context

#: What every mark on the board means (shown in ``?`` help and in each detail view).
LEGEND: tuple[tuple[str, str], ...] = (
    ("!", "disputed: answers spread widely (standard deviation 1.5 or more)"),
    ("~", "split: answers differ (standard deviation 1.0 or more)"),
    ("✓3/4", "gate passed: 3 of 4 answers say pass (a strict majority is needed)"),
    ("✗1/4", "gate failed: only 1 of 4 answers says pass"),
    ("#2 ✗gate", "the option fails a gate and ranks after every option that passes"),
    ("● 4", "dots a card received; ★ marks the top cards once the dot vote is revealed"),
    ("stale", "the needs changed after the vote opened; results describe the old needs"),
    ("·", "after your own answer: sent, not yet confirmed by the relay"),
    ("≠", "departments reach different majorities on this need"),
)


#: Which marks each kind of item can carry (the detail view shows only those).
MARKS_OF: dict[str, tuple[str, ...]] = {
    "card": ("● 4", "·"),
    "need": ("≠", "stale", "·"),
    "option": ("!", "~", "✓3/4", "✗1/4", "#2 ✗gate", "stale", "·"),
}


def legend_lines(kind: str = "") -> list[str]:
    """The legend as lines (``mark  meaning``): every mark, or those of one kind of item."""
    marks = MARKS_OF.get(kind)
    return [f"{m:>8}  {meaning}" for m, meaning in LEGEND if marks is None or m in marks]


def gate_counts(values: list[int]) -> str:
    """Pass/fail answers in words: ``3 pass / 1 fail``, never a mean."""
    passes = sum(1 for v in values if v)
    return f"{passes} pass / {len(values) - passes} fail"


def own_mark(ctx: Context, vote: Vote | None, key: str) -> tuple[int | None, bool]:
    """Your answer on ``key`` in ``vote``, and whether it is still on its way to the relay.

    An answer you sent and the relay has not confirmed shows at once (from the
    outbox, ``Context.pending``); the session's copy of your ballot otherwise.
    """
    if vote is None:
        return None, False
    sent = ctx.pending_mark(vote.id, key)
    if sent is not None:
        return sent, True
    own = vote.ballots.get(ctx.me)
    return (own.marks.get(key) if own is not None else None), False


#: How many of the most dotted cards the revealed dot vote marks with ★.
TOP_CARDS = 3


def dot_vote(ctx: Context) -> Vote | None:
    """The open dot vote, else the latest one."""
    return ctx.session.open_vote("dots") or ctx.session.latest_vote("dots")


def classify_vote(ctx: Context) -> Vote | None:
    """The open classification, else the latest one."""
    return ctx.session.open_vote("classify") or ctx.session.latest_vote("classify")


def card_dots(ctx: Context, vote: Vote | None) -> dict[str, int]:
    """Dots per live card, counting the cards merged into it (empty while hidden)."""
    if vote is None or not vote.results_visible:
        return {}
    totals = dot_totals(vote)
    out = {c.id: totals.get(c.id, 0) for c in ctx.session.live_cards()}
    for card in ctx.session.cards.values():
        if card.merged_into in out:
            out[card.merged_into] += totals.get(card.id, 0)
    return out


def top_cards(dots: dict[str, int]) -> set[str]:
    """The cards with the most dots (the top ``TOP_CARDS`` totals; ties all count)."""
    ranked = sorted((n for n in dots.values() if n > 0), reverse=True)
    if not ranked:
        return set()
    least = ranked[min(TOP_CARDS, len(ranked)) - 1]
    return {card_id for card_id, n in dots.items() if n >= least}


def lane_cards(ctx: Context) -> list[list[Card]]:
    """The live cards of each lane; after a dot vote's reveal, most dots first."""
    cards = ctx.session.live_cards()
    vote = dot_vote(ctx)
    if vote is not None and vote.revealed:
        dots = card_dots(ctx, vote)
        cards = sorted(cards, key=lambda c: -dots.get(c.id, 0))
    return [[c for c in cards if c.lane == lane] for lane in LANES]
