"""Help: what the current phase asks, its keys, and what the sidebar's marks mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accord.tui.marks import legend_lines
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One key and what it does."""

    key: str
    label: str
    detail: str


LEGEND = (
    "Sidebar: ● here ○ away · ★ facilitator ◇ partner · observer · "
    "✓ ready · ▣ voted □ not yet. ctrl+p finds any action by name; ctrl+q quits."
)


class HelpScreen(ModalScreen[None]):
    """The keys of the current phase, then the keys that work everywhere."""

    DEFAULT_CLASSES = "form-dialog"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(
        self,
        phase_title: str,
        phase_help: str,
        phase_keys: list[KeyHelp],
        board_keys: list[KeyHelp],
    ) -> None:
        super().__init__()
        self.phase_title = phase_title
        self.phase_help = phase_help
        self.phase_keys = phase_keys
        self.board_keys = board_keys

    def _table(self, title: str, keys: list[KeyHelp]) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.title = title
        table.title_justify = "left"
        table.title_style = "bold"
        for item in keys:
            text = Text(item.label)
            if item.detail and item.detail != item.label:
                text.append(f": {item.detail}", style="dim")
            table.add_row(item.key, text)
        return table

    def compose(self) -> ComposeResult:
        """Phase text, phase keys, board keys, legend."""
        with Vertical(id="form", classes="help"):
            yield Label(f"Help: {self.phase_title}", id="form-title")
            with VerticalScroll(id="help-body"):
                yield Static(self.phase_help, classes="form-text")
                if self.phase_keys:
                    yield Static(self._table(f"{self.phase_title} keys", self.phase_keys))
                yield Static(self._table("Everywhere", self.board_keys))
                yield Static(LEGEND, classes="form-text")
                marks = Text("Marks on the board\n", style="bold")
                marks.append("\n".join(legend_lines()))
                yield Static(marks, classes="form-text", id="help-marks")
            yield Static("↑↓ scroll · Esc or ? to close", id="form-hint")

    def action_close(self) -> None:
        """Back to the board."""
        self.dismiss(None)
