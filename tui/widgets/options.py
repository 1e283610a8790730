"""The Options phase: options and partner notes, criteria from needs, the score matrix.

Before the reveal each cell shows only your own score; after it, the mean with a
heat colour and a mark where people disagree, the weighted ranking, and options
that fail a gate struck out.

Over 400 lines: the option-by-criterion matrix, its cursor and its vote
actions draw from the same cell layout; apart they would each recompute it.
"""

from __future__ import annotations

from typing import ClassVar

from accord.protocol import limits as L
from accord.protocol.commands import AddNote, AddOption, Cast, DeleteOption, EditOption, SetWeight
from accord.protocol.model import BASELINE_ID, KIND_TITLES, Option, OptionKind, Session, Vote
from accord.protocol.partner import is_partner, may_see_ballots
from accord.protocol.permissions import allowed, refusal
from accord.protocol.results import Cell, Criterion, Standing, cell_key, cells, criteria, ranking
from accord.tui.asks import OptionDraft
from accord.tui.context import Context
from accord.tui.details import cell_words, option_detail
from accord.tui.guide import name_of, vote_progress
from accord.tui.messages import Submit
from accord.tui.widgets.base import BoardPart, clip, pad, span
from accord.tui.widgets.marks import edited_note, hidden_from_partner, stale_block
from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive

CELL_W = 7
#: Spread (population standard deviation) at which a cell counts as disputed.
DISPUTED = 1.5
SPLIT = 1.0
FACILITATOR_ACTIONS = {"weight", "delete"}


#: Room for the "more →" cue when criteria are hidden to the side.
MORE_W = 7
#: Option kinds in six letters, for a narrow matrix (the detail view has them in full).
KIND_SHORT: dict[OptionKind, str] = {
    "baseline": "no chg",
    "partnership": "partnr",
    "internal": "intern",
    "outsourcing": "outsrc",
    "other": "other",
}


def more_cue(left: bool, right: bool) -> str:
    """Which way hidden criteria lie: ``more →``, ``← more`` or ``←more→``."""
    if left and right:
        return "←more→"
    return "← more" if left else ("more →" if right else "")


def score_vote(ctx: Context) -> Vote | None:
    """The open score vote, else the latest one."""
    return ctx.session.open_vote("score") or ctx.session.latest_vote("score")


def spread_mark(cell: Cell) -> str:
    """``!`` for a disputed cell, ``~`` for a split one, else a space."""
    spread = cell.spread
    if spread >= DISPUTED:
        return "!"
    if spread >= SPLIT:
        return "~"
    return " "


class Derived:
    """What the panel derives from one session at one seq; made again when the seq moves."""

    __slots__ = ("crits", "options", "scores", "seq", "session")

    def __init__(self, session: Session) -> None:
        self.session, self.seq = session, session.seq
        opts = list(session.options.values())
        #: Options, the baseline first.
        self.options = sorted(opts, key=lambda o: o.id != BASELINE_ID)
        #: Criteria from the settled needs, gates first.
        self.crits = sorted(criteria(session), key=lambda c: not c.gate)
        self.scores: dict[str, tuple[dict[str, Cell], dict[str, Standing]]] = {}

    def fresh(self, session: Session) -> bool:
        """True while this is still what ``session`` gives."""
        return self.session is session and self.seq == session.seq

    def scored(self, vote: Vote) -> tuple[dict[str, Cell], dict[str, Standing]]:
        """A score vote's cells and each option's standing (computed once per seq)."""
        got = self.scores.get(vote.id)
        if got is None:
            table = cells(self.session, vote)
            ranks = ranking(self.session, vote, table) if table else []
            got = self.scores[vote.id] = (table, {s.option_id: s for s in ranks})
        return got


GATE = Binding.Group("Gate")
WEIGHT = Binding.Group("Weight")


class OptionsPanel(BoardPart):
    """The options-by-criteria matrix; arrows move, 0-5 score, p/f answer a gate."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("0", "score(0)", "Score", key_display="0-5", tooltip="Score the cell 0 to 5"),
        *[Binding(str(n), f"score({n})", f"Score {n}", show=False) for n in range(1, 6)],
        Binding(
            "p", "gate(1)", "Pass", tooltip="Answer a gate cell: the option passes", group=GATE
        ),
        Binding("f", "gate(0)", "Fail", tooltip="Answer a gate cell: the option fails", group=GATE),
        Binding(
            "enter",
            "detail",
            "Read",
            tooltip="Read the selected option and its notes in full: author, history, votes",
        ),
        Binding("a", "add", "Add option", tooltip="Add an option: partnership, internal, ..."),
        Binding("n", "note", "Note", tooltip="Add a note with facts about the selected option"),
        Binding("e", "edit", "Edit", tooltip="Reword the selected option"),
        Binding(
            "plus,equals_sign",
            "weight(1)",
            "Weight+",
            key_display="+",
            tooltip="Facilitator: raise the selected criterion's weight",
            group=WEIGHT,
        ),
        Binding(
            "minus",
            "weight(-1)",
            "Weight-",
            key_display="-",
            tooltip="Facilitator: lower the selected criterion's weight",
            group=WEIGHT,
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            key_display="d",
            tooltip="Delete the selected option (asks first)",
        ),
    ]

    row: reactive[int] = reactive(0, repaint=False)
    col: reactive[int] = reactive(0, repaint=False)
    _derived: Derived | None = None

    def watch_row(self) -> None:
        """Repaint the lines the cursor left and reached (and the details below)."""
        self.repaint_changed()

    def watch_col(self) -> None:
        """Repaint the lines the cursor left and reached (and the details below)."""
        self.repaint_changed()

    def derived(self) -> Derived | None:
        """Options, criteria and scores of the session as it is now (cached per seq)."""
        if self.ctx is None:
            return None
        derived = self._derived
        if derived is None or not derived.fresh(self.ctx.session):
            derived = self._derived = Derived(self.ctx.session)
        return derived

    def options(self) -> list[Option]:
        """Options, the baseline first."""
        derived = self.derived()
        return list(derived.options) if derived is not None else []

    def crits(self) -> list[Criterion]:
        """Criteria from the settled needs, gates first."""
        derived = self.derived()
        return list(derived.crits) if derived is not None else []

    def current(self) -> tuple[Option | None, Criterion | None]:
        """The selected option and criterion."""
        opts, crits = self.options(), self.crits()
        option = opts[min(self.row, len(opts) - 1)] if opts else None
        crit = crits[min(self.col, len(crits) - 1)] if crits else None
        return option, crit

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what your role cannot do; dim scoring while no score vote is open."""
        ctx = self.ctx
        if ctx is None:
            return True
        if action in FACILITATOR_ACTIONS:
            return ctx.is_facilitator
        if action == "add":
            return ctx.can_contribute
        if action == "note":
            return allowed(ctx.session, ctx.me, AddNote(option_id=BASELINE_ID, text="-"))
        if action in ("score", "gate"):
            if not ctx.can_vote:
                return False
            return True if ctx.session.open_vote("score") else None
        return True

    # ---- actions ---------------------------------------------------------------

    def action_move(self, drow: int, dcol: int) -> None:
        """Move the cell cursor."""
        self.row = max(0, min(len(self.options()) - 1, self.row + drow))
        self.col = max(0, min(len(self.crits()) - 1, self.col + dcol))

    def _cast(self, value: int, gate: bool) -> None:
        ctx = self.ctx
        option, crit = self.current()
        if ctx is None or option is None or crit is None:
            self.notify("There are no criteria yet: settle needs in Needs.", severity="warning")
            return
        vote = ctx.session.open_vote("score")
        if vote is None:
            self.notify("No score vote is open.", severity="warning")
            return
        if crit.gate != gate:
            hint = "p (pass) or f (fail)" if crit.gate else "0 to 5"
            self.notify(f"This criterion takes {hint}.", severity="warning")
            return
        key = cell_key(option.id, crit.need_id)
        self.post_message(Submit(Cast(vote_id=vote.id, marks={key: value})))
        if self.col < len(self.crits()) - 1:
            self.col += 1
        elif self.row < len(self.options()) - 1:
            self.row, self.col = self.row + 1, 0

    def action_score(self, value: int) -> None:
        """Score the selected weighted cell."""
        self._cast(value, gate=False)

    def action_gate(self, value: int) -> None:
        """Answer the selected gate cell."""
        self._cast(value, gate=True)

    def action_add(self) -> None:
        """Add an option."""

        def done(draft: OptionDraft | None) -> None:
            if draft:
                self.post_message(Submit(AddOption(draft.kind, draft.title, draft.description)))

        self.asks.ask_option("Add an option", done, None)

    def action_detail(self) -> None:
        """Open the selected option in full, with every note and its scores."""
        ctx, (option, _) = self.ctx, self.current()
        if ctx is None or option is None:
            return
        self.asks.show_detail(option_detail(ctx.session, ctx.me, option.id, ctx.pending))

    def action_edit(self) -> None:
        """Reword the selected option."""
        ctx, (option, _) = self.ctx, self.current()
        if ctx is None or option is None:
            return
        probe = EditOption(option.id, option.title, option.description)
        refused = refusal(ctx.session, ctx.me, probe)
        if refused is not None:
            self.notify(f"You cannot edit this option: {refused.message}.", severity="warning")
            return
        option_id = option.id

        def done(draft: OptionDraft | None) -> None:
            if draft:
                self.post_message(Submit(EditOption(option_id, draft.title, draft.description)))

        initial = OptionDraft(option.kind, option.title, option.description)
        self.asks.ask_option("Edit the option", done, initial)

    def action_note(self) -> None:
        """Add a note to the selected option."""
        ctx, (option, _) = self.ctx, self.current()
        if ctx is None or option is None:
            return
        option_id = option.id
        explain = (
            "Your note is marked as from the partner. Honest facts help most: costs, "
            "risks, timelines, what you cannot do."
            if is_partner(ctx.session, ctx.me)
            else "Facts that help assess this option."
        )

        def done(text: str | None) -> None:
            if text:
                self.post_message(Submit(AddNote(option_id=option_id, text=text)))

        self.asks.ask_text(f"Note on {option.title}", done, explain=explain, lines=True)

    def action_weight(self, delta: int) -> None:
        """Change the selected weighted criterion's weight."""
        _, crit = self.current()
        if crit is None:
            return
        if crit.gate:
            self.notify("Gates have no weight: an option passes or fails them.", severity="warning")
            return
        have = self.in_flight.value(("weight", crit.need_id), crit.weight)  # quick presses add up
        weight = max(1, min(L.MAX_WEIGHT, have + delta))
        if weight != have:
            self.in_flight.sent(("weight", crit.need_id), weight)
            self.post_message(Submit(SetWeight(need_id=crit.need_id, weight=weight)))

    def action_delete(self) -> None:
        """Delete the selected option after confirmation."""
        option, _ = self.current()
        if option is None:
            return
        if option.id == BASELINE_ID:
            self.notify('The "no change" baseline always stays.', severity="warning")
            return
        option_id = option.id

        self.submit_if_confirmed(
            DeleteOption(option_id=option_id),
            "Delete this option?",
            f"{option.title} and its notes.",
            "Delete",
        )

    # ---- drawing ---------------------------------------------------------------

    def render(self) -> RenderableType:
        """Status, the matrix with ranking, the cell and criterion lines, the option's notes."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width, height = max(30, self.size.width), max(6, self.size.height)
        vote = score_vote(ctx)
        opts, crits = self.options(), self.crits()
        row = min(self.row, max(0, len(opts) - 1))
        col = min(self.col, max(0, len(crits) - 1))
        lines: list[RenderableType] = [self._status(ctx, vote, opts, crits)]
        flags = stale_block(self, ctx, vote, width)
        shared = may_see_ballots(ctx.session.partner_view, "score")
        if vote is not None and vote.results_visible and not shared:
            hidden = hidden_from_partner(ctx.session, ctx.me, "the scores and the ranking")
            if hidden:
                flags.append(self.styled(" " + hidden, "dim"))
        lines.extend(flags)
        table: dict[str, Cell] = {}
        standings: dict[str, Standing] = {}
        derived = self.derived()
        if vote is not None and vote.results_visible and derived is not None:
            table, standings = derived.scored(vote)
        rank_w = 9 if standings else 0
        title_w = max(12, min(26, width // 4 + (2 if width >= 70 else 0)))
        kind_w = 16 if width >= 70 else 7
        room = width - title_w - kind_w - 2 - rank_w
        more_w = MORE_W if room // CELL_W < len(crits) else 0
        fit = max(1, (room - more_w) // CELL_W)
        first = max(0, min(col - fit + 1, len(crits) - fit)) if col >= fit else 0
        shown = list(enumerate(crits))[first : first + fit]
        head = span(" " + pad("Option", title_w) + pad("Kind", kind_w), self.st("dim"))
        for j, crit in shown:
            label = f"C{j + 1} " + ("p/f" if crit.gate else f"w{crit.weight}")
            style = self.st("title") if j == col else self.st("dim")
            head.append(pad(label, CELL_W), style=style)
        if more_w:  # criteria hidden to the side: say so, ←/→ scroll to them
            cue = more_cue(first > 0, first + fit < len(crits))
            head.append(pad(cue, more_w), style=self.st("warn"))
        if rank_w:
            head.append(" " + pad("Rank", rank_w - 1), style=self.st("dim"))
        lines.append(head)
        mine = vote.ballots.get(ctx.me) if vote is not None else None
        body_h = max(2, height - 7 - len(flags))
        start = max(0, min(row - body_h // 2, len(opts) - body_h))
        for i, option in enumerate(opts[start : start + body_h], start):
            standing = standings.get(option.id)
            self.note_click(len(lines), i)
            line = Text("▸" if i == row else " ")
            title_style = self.st("struck") if standing and standing.fails_gate else ""
            line.append(pad(option.title, title_w - 1) + " ", style=title_style)
            if kind_w:
                notes = sum(1 for n in ctx.session.notes.values() if n.option_id == option.id)
                if kind_w > 7:
                    kind = KIND_TITLES[option.kind] + (f" ✎{notes}" if notes else "")
                else:  # six letters; a note mark takes the last one
                    short = KIND_SHORT[option.kind]
                    kind = short[:5] + "✎" if notes else short
                line.append(pad(kind, kind_w - 1) + " ", style=self.st("dim"))
            for j, crit in shown:
                key = cell_key(option.id, crit.need_id)
                own = mine.marks.get(key) if mine else None
                sent = ctx.pending_mark(vote.id, key) if vote is not None else None
                line.append_text(self._cell(crit, table.get(key), own, sent))
                if i == row and j == col:
                    line.stylize(self.st("cursor"), len(line) - CELL_W, len(line))
            if standing is not None:
                line.append(" " * (more_w + 1))
                line.append_text(self._rank(standing, rank_w - 1))
            lines.append(line)
        if not crits:
            unshared = is_partner(ctx.session, ctx.me) and not ctx.session.partner_view.classes
            said = (
                " The facilitator has not shared the criteria."
                if unshared
                else " No criteria yet: settle needs as must or optional."
            )
            lines.append(self.styled(said, "dim"))
        selected = (opts[row] if opts else None), (crits[col] if crits else None)
        lines.extend(self._details(ctx, *selected, col, table, width))
        lines.extend(self._criteria(ctx, crits, width, height - len(lines)))
        return self.block(lines, height)

    def _criteria(self, ctx: Context, crits: list[Criterion], width: int, room: int) -> list[Text]:
        """The criteria list, and unsettled needs, when the panel has room for them."""
        out: list[Text] = []
        if crits and room >= len(crits) + 2:
            out.append(self.styled(" Criteria, from the settled needs", "title"))
            for j, crit in enumerate(crits):
                kind = "gate: must pass" if crit.gate else f"weight {crit.weight}"
                line = span(f"  C{j + 1} ", self.st("accent"))
                line.append(clip(crit.text, width - 28))
                line.append(f" · {kind}", style=self.st("dim"))
                out.append(line)
        unsettled = [n for n in ctx.session.live_needs() if n.settled is None]
        if unsettled and room - len(out) >= 1:
            noun = "need is" if len(unsettled) == 1 else "needs are"
            out.append(
                self.styled(f" {len(unsettled)} {noun} not settled: no criterion yet", "warn")
            )
        return out

    def _status(
        self, ctx: Context, vote: Vote | None, opts: list[Option], crits: list[Criterion]
    ) -> Text:
        line = Text(" ")
        if vote is None:
            line.append("No score vote yet.", style=self.st("dim"))
        else:
            line.append(f"Scoring {vote.status}", style=self.st("accent"))
            if vote.accepting:
                line.append(f" · {vote_progress(ctx.session, vote)}", style=self.st("dim"))
            mine = vote.ballots.get(ctx.me)
            if ctx.can_vote and vote.accepting:
                done = len(mine.marks) if mine else 0
                line.append(f" · you {done}/{len(opts) * len(crits)} cells", style=self.st("warn"))
        gates = sum(1 for c in crits if c.gate)
        weighted = len(crits) - gates
        plural = "s" if gates != 1 else ""
        line.append(f" · {gates} gate{plural}, {weighted} weighted", style=self.st("dim"))
        return line

    def _cell(
        self, crit: Criterion, cell: Cell | None, own: int | None, sent: int | None = None
    ) -> Text:
        if sent is not None:  # your answer on its way to the relay: underlined, with a dot
            word = ("pass" if sent else "fail") if crit.gate else str(sent)
            return self.own(word, CELL_W, True)
        if cell is not None and cell.mean is not None:
            if crit.gate:
                passes = sum(1 for v in cell.values if v)
                ok = passes * 2 > len(cell.values)
                label = f"{'✓' if ok else '✗'}{passes}/{len(cell.values)}"
                return Text(pad(label, CELL_W - 1) + " ", style=self.st("good" if ok else "bad"))
            heat = self.st(f"heat-{max(0, min(5, round(cell.mean)))}")
            text = span(f"{cell.mean:.1f}{spread_mark(cell)}".ljust(CELL_W - 1), heat)
            text.append(" ")
            return text
        if cell is not None:
            return Text(pad("·", CELL_W), style=self.st("dim"))
        if own is None:
            return Text(pad("·", CELL_W), style=self.st("dim"))
        if crit.gate:
            return Text(pad("pass" if own else "fail", CELL_W), style=self.st("good"))
        return Text(pad(str(own), CELL_W), style=self.st("good"))

    def _rank(self, standing: Standing, width: int) -> Text:
        if standing.fails_gate:
            return Text(pad(f"#{standing.rank} ✗gate", width), style=self.st("bad"))
        score = f"{standing.score:.2f}" if standing.score is not None else "-"
        style = self.st("accent") if standing.rank == 1 else ""
        return Text(pad(f"#{standing.rank} {score}", width), style=style)

    def _details(
        self,
        ctx: Context,
        option: Option | None,
        crit: Criterion | None,
        col: int,
        table: dict[str, Cell],
        width: int,
    ) -> list[Text]:
        out: list[Text] = []
        if crit is not None:
            line = span(f" C{col + 1} ", self.st("title"))
            kind = "gate: must pass" if crit.gate else f"weight {crit.weight}"
            line.append(clip(crit.text, width - len(kind) - 10))
            line.append(f" · {kind}", style=self.st("dim"))
            out.append(line)
        if option is not None and crit is not None and table:
            cell = table.get(cell_key(option.id, crit.need_id))
            if cell is not None and cell.values:
                text = f" Cell: {cell_words(cell, crit.gate)} · Enter: all about the option"
                out.append(span(clip(text, width), self.st("dim")))
        if option is not None:
            head = span(" ─ ", self.st("dim"))
            head.append(clip(option.title, width // 2), style=self.st("title"))
            head.append(f" · {KIND_TITLES[option.kind]}", style=self.st("dim"))
            edited = edited_note(ctx.session, option)
            if edited:
                head.append(f" · ✎ {edited}", style=self.st("dim"))
            if option.description:
                head.append(": " + clip(option.description, max(0, width - head.cell_len - 2)))
            out.append(head)
            notes = [n for n in ctx.session.notes.values() if n.option_id == option.id]
            for note in notes[-2:]:
                who = "◇ partner" if note.role == "partner" else name_of(ctx.session, note.author)
                line = Text(
                    f"   {who}: ", style=self.st("mark" if note.role == "partner" else "dim")
                )
                line.append(clip(note.text, max(0, width - line.cell_len)))
                out.append(line)
            if len(notes) > 2:
                out.append(self.styled(f"   (+{len(notes) - 2} earlier notes)", "dim"))
        return out
