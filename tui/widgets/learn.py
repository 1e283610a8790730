"""The Learn phase: three lanes of cards with dot voting, edits, merges and deletes.

Over 400 lines: the three-lane layout, its cursor, the dot vote with its quick
presses, the reveal's ordering and the cards still on their way share one
drawing pass; split the drawing into a pure render module when it grows again.
"""

from __future__ import annotations

import textwrap
import time
from itertools import zip_longest
from typing import ClassVar

from accord.protocol.commands import AddCard, Cast, DeleteCard, EditCard, MergeCards
from accord.protocol.model import LANE_TITLES, LANES, Ballot, Card, Lane, Vote
from accord.protocol.permissions import refusal
from accord.protocol.results import dots_used
from accord.tui.context import Context
from accord.tui.details import card_detail
from accord.tui.marks import card_dots, dot_vote, lane_cards, own_mark, top_cards
from accord.tui.messages import Submit
from accord.tui.widgets.base import BoardPart, clip, pad, span
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive

FACILITATOR_ACTIONS = {"merge", "delete"}
#: How long a sent dot count overrides the session while its ballot is on the way.
DOTS_IN_FLIGHT_SECONDS = 5.0
#: Lane headings short enough for three lanes side by side in 80 columns.
SHORT_LANES: dict[Lane, str] = {
    "value": "Value sought",
    "no_change": "If no change",
    "stakeholders": "Stakeholders",
}


DOTS = Binding.Group("Dots")


class LearnPanel(BoardPart):
    """Lanes side by side; arrows move, ``a`` adds to the lane, space spends a dot."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "lane(-1)", "Lane left", show=False),
        Binding("right", "lane(1)", "Lane right", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("enter", "detail", "Read", tooltip="The card in full: author, history, dots"),
        Binding("a", "add", "Add card", tooltip="Add a card to the selected lane; Enter saves"),
        Binding(
            "space",
            "dot(1)",
            "Dot",
            key_display="␣",
            tooltip="Put one of your dots here",
            group=DOTS,
        ),
        Binding(
            "minus", "dot(-1)", "Undot", key_display="-", tooltip="Take a dot back", group=DOTS
        ),
        Binding(
            "e", "edit", "Edit", tooltip="Reword the selected card (yours, or any as facilitator)"
        ),
        Binding(
            "g", "merge", "Merge", tooltip="Fold a duplicate: g on it, then g on the card to keep"
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            key_display="d",
            tooltip="Delete the selected card (asks first)",
        ),
        Binding("escape", "cancel_merge", "Cancel merge", show=False),
    ]

    lane: reactive[int] = reactive(0, repaint=False)
    row: reactive[int] = reactive(0, repaint=False)

    def watch_lane(self) -> None:
        """Repaint only the lines the cursor left and reached."""
        self.repaint_changed()

    def watch_row(self) -> None:
        """Repaint only the lines the cursor left and reached."""
        self.repaint_changed()

    merging: reactive[str] = reactive("")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows = [0, 0, 0]
        self._top: set[str] = set()  # the most dotted cards, once the dot vote is revealed
        #: (vote, card) -> (dot count sent, when): presses not yet confirmed by the relay
        self._sent_dots: dict[tuple[str, str], tuple[int, float]] = {}

    # ---- state ---------------------------------------------------------------

    def current(self) -> Card | None:
        """The selected card, if the lane has any."""
        if self.ctx is None:
            return None
        cards = lane_cards(self.ctx)[self.lane]
        return cards[min(self.row, len(cards) - 1)] if cards else None

    def select(self, card_id: str) -> None:
        """Move the cursor to a card."""
        if self.ctx is None:
            return
        for i, cards in enumerate(lane_cards(self.ctx)):
            for j, card in enumerate(cards):
                if card.id == card_id:
                    self.select_at(i, j)

    def select_at(self, lane: int, index: int) -> None:
        """Move the cursor to a card of a lane (a click)."""
        self._rows[self.lane] = self.row
        self.lane, self.row = lane, index

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what your role cannot do; dim dots while no dot vote is open."""
        ctx = self.ctx
        if ctx is None:
            return True
        if action in FACILITATOR_ACTIONS:
            return ctx.is_facilitator
        if action == "add":
            return ctx.can_contribute
        if action == "dot":
            if not ctx.can_vote:
                return False
            return True if ctx.session.open_vote("dots") else None
        return True

    # ---- actions ---------------------------------------------------------------

    def action_lane(self, delta: int) -> None:
        """Move to the next or previous lane."""
        self._rows[self.lane] = self.row
        self.lane = (self.lane + delta) % len(LANES)
        self.row = self._rows[self.lane]

    def action_move(self, delta: int) -> None:
        """Move up or down in the lane."""
        if self.ctx is None:
            return
        count = len(lane_cards(self.ctx)[self.lane])
        self.row = max(0, min(count - 1, self.row + delta))

    def action_add(self) -> None:
        """Ask for a card's text and add it to the selected lane."""
        lane = LANES[self.lane]

        def done(text: str | None) -> None:
            if text:
                self.post_message(Submit(AddCard(lane=lane, text=text)))

        self.asks.ask_text(
            f"Add a card: {LANE_TITLES[lane]}",
            done,
            lines=True,
            placeholder="One idea per card",
            explain="←/→ on the board picks the lane before you press a.",
        )

    def action_dot(self, delta: int) -> None:
        """Spend or take back one dot on the selected card."""
        ctx, card = self.ctx, self.current()
        if ctx is None or card is None:
            return
        vote = ctx.session.open_vote("dots")
        if vote is None:
            self.notify("No dot vote is open.", severity="warning")
            return
        if vote.lane is not None and vote.lane != card.lane:
            self.notify(f"This dot vote is on {LANE_TITLES[vote.lane]} only.", severity="warning")
            return
        mine = vote.ballots.get(ctx.me)
        marks = dict(mine.marks) if mine else {}
        # Quick presses must add up: count dots already sent but not yet back from the relay.
        for (vote_id, card_id), (value, _) in list(self._sent_dots.items()):
            if vote_id == vote.id and self._dots_in_flight(vote, mine, card_id):
                marks[card_id] = value
        have = marks.get(card.id, 0)
        if delta > 0:
            # The relay's own rule (dot budget, cap per card), asked with the dots in flight.
            probe = Cast(vote_id=vote.id, marks={**marks, card.id: have + 1})
            refused = refusal(ctx.session, ctx.me, probe)
            if refused is not None:
                self.notify(f"No more dots here: {refused.message}.", severity="warning")
                return
        if have + delta < 0:
            return
        self._sent_dots[(vote.id, card.id)] = (have + delta, time.monotonic())
        self.post_message(Submit(Cast(vote_id=vote.id, marks={card.id: have + delta})))

    def _dots_in_flight(self, vote: Vote, mine: Ballot | None, card_id: str) -> bool:
        """True while a dot count sent for ``card_id`` has not shown up in the session yet."""
        key = (vote.id, card_id)
        value, sent_at = self._sent_dots[key]
        arrived = (mine.marks.get(card_id, 0) if mine else 0) == value
        if arrived or time.monotonic() - sent_at > DOTS_IN_FLIGHT_SECONDS:
            del self._sent_dots[key]
            return False
        return True

    def action_detail(self) -> None:
        """Open the selected card in full."""
        ctx, card = self.ctx, self.current()
        if ctx is not None and card is not None:
            self.asks.show_detail(card_detail(ctx.session, ctx.me, card.id, ctx.pending))

    def action_edit(self) -> None:
        """Reword the selected card."""
        ctx, card = self.ctx, self.current()
        if ctx is None or card is None:
            return
        refused = refusal(ctx.session, ctx.me, EditCard(card.id, card.text))
        if refused is not None:
            self.notify(f"You cannot edit this card: {refused.message}.", severity="warning")
            return
        card_id = card.id

        def done(text: str | None) -> None:
            if text:
                self.post_message(Submit(EditCard(card_id=card_id, text=text)))

        self.asks.ask_text("Edit the card", done, initial=card.text, lines=True)

    def action_merge(self) -> None:
        """First press marks a duplicate; the second, on the card to keep, merges."""
        ctx, card = self.ctx, self.current()
        if ctx is None or card is None:
            return
        if not self.merging or self.merging == card.id:
            self.merging = "" if self.merging else card.id
            if self.merging:
                self.notify("Now select the card to keep and press g (Esc cancels).")
            return
        source = ctx.session.cards.get(self.merging)
        self.merging = ""
        if source is None:
            return
        source_id, target_id = source.id, card.id

        self.submit_if_confirmed(
            MergeCards(source_id=source_id, target_id=target_id),
            "Merge these cards?",
            f"“{clip(source.text, 60)}” folds into “{clip(card.text, 60)}”. "
            "Its dots count for the card you keep.",
            "Merge",
        )

    def action_cancel_merge(self) -> None:
        """Stop merging."""
        self.merging = ""

    def action_delete(self) -> None:
        """Delete the selected card after confirmation."""
        card = self.current()
        if card is None:
            return
        card_id = card.id

        self.submit_if_confirmed(
            DeleteCard(card_id=card_id),
            "Delete this card?",
            f"“{clip(card.text, 100)}”",
            "Delete",
        )

    # ---- drawing ---------------------------------------------------------------

    def render(self) -> RenderableType:
        """Status line, then the three lanes side by side."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width, height = max(30, self.size.width), max(4, self.size.height)
        vote = dot_vote(ctx)
        status = self._status(ctx, vote)
        lane_w = (width - 2 * 2) // 3
        self.click_lane_w = lane_w + 2
        columns = []
        lanes = lane_cards(ctx)
        totals = card_dots(ctx, vote)
        self._top = top_cards(totals) if vote is not None and vote.revealed else set()
        merged = self._merged_counts(ctx)
        for i, cards in enumerate(lanes):
            columns.append(self._lane(ctx, i, cards, vote, totals, merged, lane_w, height - 1))
        sep = self.styled("│ ", "dim")
        rows: list[RenderableType] = [status]
        for parts in zip_longest(*columns, fillvalue=Text(" " * lane_w)):
            line = Text()
            for j, part in enumerate(parts):
                if j:
                    line.append_text(sep)
                line.append_text(part)
            rows.append(line)
        return self.block(rows, height)

    def _status(self, ctx: Context, vote: Vote | None) -> Text:
        line = Text(" ")
        if vote is None:
            line.append("No dot vote yet.", style=self.st("dim"))
        elif vote.accepting:
            line.append("Dot vote open", style=self.st("accent"))
            line.append(" (hidden)" if vote.hidden else " (live)", style=self.st("dim"))
            if ctx.can_vote:
                left = vote.dots - dots_used(vote.ballots.get(ctx.me))
                line.append(f" · {left} of {vote.dots} dots left", style=self.st("warn"))
                if vote.max_per_item:
                    line.append(f" · at most {vote.max_per_item} a card", style=self.st("dim"))
        else:
            line.append(f"Dot vote {vote.status}", style=self.st("accent"))
            if vote.revealed:
                line.append(" · most dots first, ★ top cards", style=self.st("dim"))
        if self.merging:
            line.append("  merging: select the card to keep, press g", style=self.st("warn"))
        return line

    def _merged_counts(self, ctx: Context) -> dict[str, int]:
        counts: dict[str, int] = {}
        for card in ctx.session.cards.values():
            if card.merged_into:
                counts[card.merged_into] = counts.get(card.merged_into, 0) + 1
        return counts

    def _lane(
        self,
        ctx: Context,
        index: int,
        cards: list[Card],
        vote: Vote | None,
        totals: dict[str, int],
        merged: dict[str, int],
        width: int,
        height: int,
    ) -> list[Text]:
        lane = LANES[index]
        active = index == self.lane
        head_style = self.st("title") if active else Style(bold=True)
        title = LANE_TITLES[lane] if width >= 28 else SHORT_LANES[lane]
        out = [span(pad(f"{title} ({len(cards)})", width), head_style)]
        waiting: list[Text] = []
        for cmd in ctx.waiting:  # your cards on their way to the relay, shown at once
            if isinstance(cmd, AddCard) and cmd.lane == lane:
                lines = textwrap.wrap(" ".join(cmd.text.split()), max(4, width - 2)) or [""]
                waiting += [span("◌ " + pad(lines[0], width - 2), self.st("dim"))]
                waiting += [span("  " + pad(ln, width - 2), self.st("dim")) for ln in lines[1:3]]
                waiting.append(span(pad("  waiting to send", width), self.st("warn")))
        if waiting and not cards:
            return (out + waiting)[:height]
        if not cards:
            empty = "(empty: a adds)" if ctx.can_contribute else "(empty)"
            out.append(self.styled(pad(empty if active else "", width), "dim"))
            return out
        mine = vote.ballots.get(ctx.me) if vote is not None else None
        blocks: list[list[Text]] = []
        for j, card in enumerate(cards):
            blocks.append(
                self._card(ctx, card, vote, mine, totals, merged, width, active and j == self.row)
            )
        row = min(self.row, len(cards) - 1) if active else 0
        start, room = 0, height - 1
        while start < row and sum(len(b) for b in blocks[start : row + 1]) > room:
            start += 1
        for j, block in enumerate(blocks[start:], start):
            if len(out) + len(block) > height:
                break
            for y in range(len(out), len(out) + len(block)):
                self.note_click(1 + y, j, index)  # the status line is above the lanes
            out.extend(block)
        return (out + waiting)[:height]

    def _card(
        self,
        ctx: Context,
        card: Card,
        vote: Vote | None,
        mine: object,
        totals: dict[str, int],
        merged: dict[str, int],
        width: int,
        selected: bool,
    ) -> list[Text]:
        lines = textwrap.wrap(" ".join(card.text.split()), max(4, width - 2)) or [""]
        if len(lines) > 3:
            lines = [*lines[:2], clip(" ".join(lines[2:]), width - 2)]
        meta = Text()
        total = totals.get(card.id, 0)
        if card.id in self._top:
            meta.append("★ ", style=self.st("accent"))
        if total:
            meta.append("●" * min(total, 8) + f" {total}", style=self.st("accent"))
        own, sent = own_mark(ctx, vote, card.id)
        if own or sent:  # dots on their way to the relay are underlined, with a dot
            meta.append(" ")
            meta.append_text(self.own(f"you:{own}", len(f"you:{own}") + sent, sent))
        if merged.get(card.id):
            meta.append(f" +{merged[card.id]} merged", style=self.st("dim"))
        if card.author == ctx.me:
            meta.append(" ✎", style=self.st("dim"))
        mark = "▸ " if selected else ("⇢ " if card.id == self.merging else "• ")
        block = [Text(mark + pad(lines[0], width - 2))]
        block += [Text("  " + pad(line, width - 2)) for line in lines[1:]]
        if meta.cell_len:
            meta.truncate(width - 2)
            meta.pad_right(width - 2 - meta.cell_len)
            block.append(Text("  ") + meta)
        if selected:
            for line in block:
                line.stylize(self.st("cursor"))
        return block
