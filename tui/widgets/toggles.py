"""Check boxes and radio buttons whose state reads without colour, e.g. on monochrome SSH."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, RadioButton


class Tick(Checkbox):
    """A check box drawn as ``▐✓▌`` when on and ``▐ ▌`` when off, not by colour alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = self._mark()

    def _mark(self) -> str:
        return "✓" if self.value else " "

    def watch_value(self) -> None:
        """Redraw the mark inside the box, then let Textual post ``Changed``."""
        self.BUTTON_INNER = self._mark()
        super().watch_value()
        self.refresh()


class Choice(RadioButton):
    """A radio button drawn as ``●`` when picked and ``○`` otherwise, not by colour alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = self._mark()

    def _mark(self) -> str:
        return "●" if self.value else "○"

    def watch_value(self) -> None:
        """Redraw the mark inside the button, then let Textual post ``Changed``."""
        self.BUTTON_INNER = self._mark()
        super().watch_value()
        self.refresh()
