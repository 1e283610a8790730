"""The Needs phase: needs with live split bars, classify keys, settling and the department lens.

Over 400 lines: the needs list, the classify vote with its pending marks, the
lens, settling and the stale marks share one cursor and one drawing pass.
"""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.commands import (
    AddNeed,
    Cast,
    DeleteNeed,
    EditNeed,
    MergeNeeds,
    SettleNeed,
)
from accord.protocol.model import CLASS_MARK, MARK_CLASS, Need, NeedClass, Vote
from accord.protocol.permissions import refusal
from accord.protocol.results import Lens, Split, department_lens, need_split
from accord.tui.asks import NeedDraft
from accord.tui.context import Context
from accord.tui.details import need_detail
from accord.tui.guide import name_of, vote_progress
from accord.tui.marks import classify_vote, own_mark
from accord.tui.messages import Submit
from accord.tui.widgets.base import BoardPart, clip, pad, span
from accord.tui.widgets.marks import edited_note, partner_note, stale_block
from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive

BADGES: dict[NeedClass | None, tuple[str, str]] = {
    "must": ("MUST", "must"),
    "optional": ("OPT ", "optional"),
    "not_a_need": ("NOT ", "not"),
    None: (" ?  ", "dim"),
}
SHORT: dict[NeedClass, str] = {"must": "must", "optional": "opt", "not_a_need": "not"}
FACILITATOR_ACTIONS = {"merge", "delete", "settle"}


def text_width(width: int, bar_w: int, lens_w: int) -> int:
    """How wide a need's text may be beside its badge, split bar, your mark and the lens."""
    return max(6, width - lens_w - 7 - (bar_w + 1 if bar_w else 0) - 6)


CLASSIFY = Binding.Group("Classify")
SETTLE = Binding.Group("Settle")


class NeedsPanel(BoardPart):
    """The list of needs; m/o/n classify, M/O/N/U settle, l shows the department lens."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("enter", "detail", "Read", tooltip="The need in full: why, history, split"),
        Binding("a", "add", "Add need", tooltip="Propose a need with why and success measure"),
        Binding(
            "m",
            "classify('must')",
            "Must",
            tooltip="Classify the selected need as must",
            group=CLASSIFY,
        ),
        Binding(
            "o",
            "classify('optional')",
            "Optional",
            tooltip="Classify it as optional",
            group=CLASSIFY,
        ),
        Binding(
            "n",
            "classify('not_a_need')",
            "Not a need",
            tooltip="Classify it as not a need",
            group=CLASSIFY,
        ),
        Binding("l", "lens", "Lens", tooltip="Show or hide the department lens"),
        Binding("e", "edit", "Edit", tooltip="Reword the selected need"),
        Binding(
            "M",
            "settle('must')",
            "Settle must",
            tooltip="Facilitator: settle as must",
            group=SETTLE,
        ),
        Binding(
            "O",
            "settle('optional')",
            "Settle opt",
            tooltip="Facilitator: settle as optional",
            group=SETTLE,
        ),
        Binding(
            "N",
            "settle('not_a_need')",
            "Settle not",
            tooltip="Facilitator: settle as not a need",
            group=SETTLE,
        ),
        Binding(
            "U",
            "settle('')",
            "Unsettle",
            tooltip="Facilitator: clear the settled class",
            group=SETTLE,
        ),
        Binding(
            "g", "merge", "Merge", tooltip="Fold a duplicate: g on it, then g on the need to keep"
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            key_display="d",
            tooltip="Delete the selected need (asks first)",
        ),
        Binding("escape", "cancel_merge", "Cancel merge", show=False),
    ]

    row: reactive[int] = reactive(0, repaint=False)

    def watch_row(self) -> None:
        """Repaint only the lines the cursor left and reached."""
        self.repaint_changed()

    lens: reactive[bool] = reactive(False)
    merging: reactive[str] = reactive("")

    def needs(self) -> list[Need]:
        """The live needs in order."""
        return self.ctx.session.live_needs() if self.ctx else []

    def current(self) -> Need | None:
        """The selected need."""
        needs = self.needs()
        return needs[min(self.row, len(needs) - 1)] if needs else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what your role cannot do; dim classify keys while no classification is open."""
        ctx = self.ctx
        if ctx is None:
            return True
        if action in FACILITATOR_ACTIONS:
            return ctx.is_facilitator
        if action == "add":
            return ctx.can_contribute
        if action == "classify":
            if not ctx.can_vote:
                return False
            return True if ctx.session.open_vote("classify") else None
        return True

    # ---- actions ---------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Move the cursor."""
        self.row = max(0, min(len(self.needs()) - 1, self.row + delta))

    def action_add(self) -> None:
        """Propose a need."""

        def done(draft: NeedDraft | None) -> None:
            if draft:
                self.post_message(Submit(AddNeed(draft.text, draft.why, draft.success)))

        self.asks.ask_need("Propose a need", done, None)

    def action_detail(self) -> None:
        """Open the selected need in full."""
        ctx, need = self.ctx, self.current()
        if ctx is not None and need is not None:
            self.asks.show_detail(need_detail(ctx.session, ctx.me, need.id, ctx.pending))

    def action_edit(self) -> None:
        """Reword the selected need."""
        ctx, need = self.ctx, self.current()
        if ctx is None or need is None:
            return
        refused = refusal(ctx.session, ctx.me, EditNeed(need.id, need.text, need.why, need.success))
        if refused is not None:
            self.notify(f"You cannot edit this need: {refused.message}.", severity="warning")
            return
        need_id = need.id

        def done(draft: NeedDraft | None) -> None:
            if draft:
                self.post_message(Submit(EditNeed(need_id, draft.text, draft.why, draft.success)))

        initial = NeedDraft(need.text, need.why, need.success)
        self.asks.ask_need("Edit the need", done, initial)

    def action_classify(self, cls: NeedClass) -> None:
        """Mark the selected need in the open classification."""
        ctx, need = self.ctx, self.current()
        if ctx is None or need is None:
            return
        vote = ctx.session.open_vote("classify")
        if vote is None:
            self.notify("No classification is open yet.", severity="warning")
            return
        self.post_message(Submit(Cast(vote_id=vote.id, marks={need.id: CLASS_MARK[cls]})))
        self.action_move(1)

    def action_settle(self, cls: str) -> None:
        """Settle the selected need's class (facilitator)."""
        need = self.current()
        if need is None:
            return
        settled = next((c for c in CLASS_MARK if c == cls), None)
        self.post_message(Submit(SettleNeed(need_id=need.id, cls=settled)))

    def action_lens(self) -> None:
        """Show or hide the department lens."""
        self.lens = not self.lens

    def action_merge(self) -> None:
        """First press marks a duplicate; the second, on the need to keep, merges."""
        ctx, need = self.ctx, self.current()
        if ctx is None or need is None:
            return
        if not self.merging or self.merging == need.id:
            self.merging = "" if self.merging else need.id
            if self.merging:
                self.notify("Now select the need to keep and press g (Esc cancels).")
            return
        source = ctx.session.needs.get(self.merging)
        self.merging = ""
        if source is None:
            return
        source_id, target_id = source.id, need.id

        self.submit_if_confirmed(
            MergeNeeds(source_id=source_id, target_id=target_id),
            "Merge these needs?",
            f"“{clip(source.text, 60)}” folds into “{clip(need.text, 60)}”.",
            "Merge",
        )

    def action_cancel_merge(self) -> None:
        """Stop merging."""
        self.merging = ""

    def action_delete(self) -> None:
        """Delete the selected need after confirmation."""
        need = self.current()
        if need is None:
            return
        need_id = need.id

        self.submit_if_confirmed(
            DeleteNeed(need_id=need_id),
            "Delete this need?",
            f"“{clip(need.text, 100)}”",
            "Delete",
        )

    # ---- drawing ---------------------------------------------------------------

    def render(self) -> RenderableType:
        """Status, the list, the selected need's detail, and the lens."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width, height = max(30, self.size.width), max(6, self.size.height)
        vote = classify_vote(ctx)
        needs = self.needs()
        lines: list[RenderableType] = [self._status(ctx, vote, needs)]
        lines.extend(stale_block(self, ctx, vote, width))
        lines.extend(partner_note(self, ctx, "needs"))
        if not needs:
            hint = " Press a to propose one." if ctx.can_contribute else ""
            lines.append(self.styled(f" No needs yet.{hint}", "dim"))
            return self.block(lines)
        row = min(self.row, len(needs) - 1)
        lenses: dict[str, Lens] = {}
        if vote is not None and vote.results_visible:
            lenses = {lens.need_id: lens for lens in department_lens(ctx.session, vote)}
        depts = sorted({d for lens in lenses.values() for d in lens.departments})
        lens_w = 5 * len(depts) + 2 if depts and vote is not None and not vote.anonymous else 0
        bar_w = 14 if width >= 90 else 10
        both_fit = width - lens_w - bar_w - 1 - 6 - 7 >= 24
        if not (self.lens or both_fit):
            lens_w = 0
        if lens_w and not both_fit:
            bar_w = 0
        detail = self._detail(ctx, needs[row], width)
        list_h = max(2, height - 2 - len(detail))
        if vote is not None:
            head = Text(" " * (7 + text_width(width, bar_w, lens_w)))
            if bar_w:
                label = "must·opt·not" if bar_w >= 12 else "m·o·n"
                head.append(" " + pad(label if vote.results_visible else "", bar_w))
            head.append(" you  ")
            if lens_w:
                head.append(" " + "".join(d[:4].ljust(5) for d in depts) + "≠")
            head.stylize(self.st("dim"))
            lines.append(head)
        start = max(0, min(row - list_h // 2, len(needs) - list_h))
        for i, need in enumerate(needs[start : start + list_h], start):
            lens = lenses.get(need.id)
            self.note_click(len(lines), i)
            lines.append(self._row(ctx, need, vote, lens, depts, (width, bar_w, lens_w), i == row))
        lines.extend(detail)
        if height - len(lines) >= 2 and vote is not None and vote.results_visible:
            legend = Text(" ")
            for glyph, label, style in (("█", "must", "must"), ("▓", "optional", "optional")):
                legend.append(glyph, style=self.st(style))
                legend.append(f" {label}  ", style=self.st("dim"))
            legend.append("░", style=self.st("not"))
            legend.append(" not a need", style=self.st("dim"))
            if lens_w:
                legend.append("  · ≠ departments disagree", style=self.st("dim"))
            lines += [Text(""), legend]
        return self.block(lines, height)

    def _status(self, ctx: Context, vote: Vote | None, needs: list[Need]) -> Text:
        line = Text(" ")
        settled = sum(1 for n in needs if n.settled)
        if vote is None:
            line.append("No classification yet.", style=self.st("dim"))
        else:
            line.append(f"Classification {vote.status}", style=self.st("accent"))
            if vote.accepting:
                line.append(f" · {vote_progress(ctx.session, vote)}", style=self.st("dim"))
            if vote.anonymous:
                line.append(" · anonymous", style=self.st("dim"))
        line.append(f" · {settled}/{len(needs)} settled", style=self.st("dim"))
        if self.merging:
            line.append("  merging: select the need to keep, press g", style=self.st("warn"))
        elif vote is not None and vote.results_visible and not vote.anonymous:
            line.append("  l: lens", style=self.st("dim"))
        return line

    def _bar(self, split: Split, width: int) -> Text:
        bar = Text()
        if not split.total:
            return Text(pad("no votes", width), style=self.st("dim"))
        suffix = f" {split.must}·{split.optional}·{split.not_a_need}"
        cells = max(3, width - len(suffix))
        counts = [(split.must, "█", "must"), (split.optional, "▓", "optional")]
        counts.append((split.not_a_need, "░", "not"))
        used = 0
        for i, (count, glyph, style) in enumerate(counts):
            n = round(cells * count / split.total) if i < 2 else cells - used
            n = max(0, min(n, cells - used))
            used += n
            bar.append(glyph * n, style=self.st(style))
        bar.append(suffix)
        bar.truncate(width, pad=True)
        return bar

    def _row(
        self,
        ctx: Context,
        need: Need,
        vote: Vote | None,
        lens: Lens | None,
        depts: list[str],
        widths: tuple[int, int, int],
        selected: bool,
    ) -> Text:
        width, bar_w, lens_w = widths
        badge, style = BADGES[need.settled]
        line = Text("▸" if selected else ("⇢" if need.id == self.merging else " "))
        line.append(f"[{badge}]", style=self.st(style))
        mine_w = 5
        text_w = text_width(width, bar_w, lens_w)
        line.append(" " + pad(need.text, text_w - 1))
        if bar_w and vote is None:
            line.append(" " + " " * bar_w)
        elif bar_w and vote is not None and vote.results_visible:
            line.append(" ")
            line.append_text(self._bar(need_split(vote, need.id), bar_w))
        elif bar_w and vote is not None:
            line.append(" " + pad(vote_progress(ctx.session, vote), bar_w), style=self.st("dim"))
        mark, sent = own_mark(ctx, vote, need.id)
        mine = SHORT[MARK_CLASS[mark]] if mark in MARK_CLASS else ""
        line.append(" ")
        line.append_text(self.own(mine, mine_w, sent))
        if lens_w:
            line.append(" ")
            for dept in depts:
                split = lens.departments.get(dept) if lens else None
                major = split.majority if split else None
                cell = SHORT[major] if major else ("tie" if split and split.total else "·")
                line.append(pad(cell, 4) + " ", style=self.st(BADGES[major][1]))
            flag = lens is not None and lens.departments_disagree
            line.append("≠" if flag else " ", style=self.st("bad"))
        if selected:
            line.stylize(self.st("cursor"))
        return line

    def _detail(self, ctx: Context, need: Need, width: int) -> list[Text]:
        who = name_of(ctx.session, need.author)
        head = span(" ─ ", self.st("dim"))
        head.append(clip(need.text, width - 30), style=self.st("title"))
        head.append(f"  {who}" + (f", {need.department}" if need.department else ""))
        out = [head]
        if need.edits:
            head.append(f"  ✎ {edited_note(ctx.session, need)}", style=self.st("dim"))
        out.append(Text(" Why: " + clip(need.why or "(not given)", width - 7)))
        out.append(Text(" Success shows as: " + clip(need.success or "(not given)", width - 19)))
        return out
