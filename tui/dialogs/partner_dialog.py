"""The facilitator's dialog to choose what the partner role may see (``SetPartnerView``).

The relay enforces the choice in every frame the partner receives; this only
edits the switches of ``PartnerView``.
"""

from __future__ import annotations

from typing import ClassVar

from accord.protocol.commands import SetPartnerView
from accord.protocol.model import PartnerView
from accord.protocol.text import printable
from accord.tui.dialogs.form import FormDialog
from accord.tui.widgets.toggles import Tick
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Checkbox, Label, SelectionList, Static

SWITCHES: list[tuple[str, str]] = [
    ("classes", "Need classes and weights (must / optional, the criteria)"),
    ("splits", "How each department classified the needs (splits and lens)"),
    ("scores", "Everyone's scores and the ranking"),
    ("stances", "Named answers in consensus rounds, and dots"),
]


class PartnerViewDialog(FormDialog[SetPartnerView]):
    """Switches for what the partner sees; needs can be shared all at once or one by one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "submit", "Save", priority=True)]

    def __init__(self, view: PartnerView, needs: list[tuple[str, str]]) -> None:
        super().__init__(
            "What the partner may see",
            "Tab moves · space toggles · ctrl+s: save · Esc: cancel",
        )
        self.view = view
        self.needs = needs

    def fields(self) -> ComposeResult:
        """The needs to share, then one switch per kind of result."""
        yield Static(
            "The partner is a guest whose offer the group is judging. By default they see "
            "none of the group's internal deliberation; the relay holds back what is off.",
            classes="form-text",
            markup=False,
        )
        yield Tick("Share every need", self.view.all_needs, id="all_needs", compact=True)
        yield Label("Or share only these needs (space picks):", classes="field-label")
        shared = set(self.view.shared_needs)
        yield SelectionList[str](
            *[(Text(printable(text)), nid, nid in shared) for nid, text in self.needs],
            id="shared",
            compact=True,
        )
        for name, label in SWITCHES:
            yield Tick(label, bool(getattr(self.view, name)), id=name, compact=True)

    def result(self) -> SetPartnerView | None:
        """The SetPartnerView command with the switches as set."""
        picked = self.query_one("#shared", SelectionList).selected
        flags = {name: self.query_one(f"#{name}", Checkbox).value for name, _ in SWITCHES}
        view = PartnerView(
            all_needs=self.query_one("#all_needs", Checkbox).value,
            shared_needs=[str(n) for n in picked],
            **flags,
        )
        return SetPartnerView(view=view)
