"""The first-run app: asks once for your display name and department, then exits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from accord.tui.config import Profile
from accord.tui.dialogs.profile import ProfileScreen
from textual.app import App

_HERE = Path(__file__).parent


class FirstRunApp(App[Profile | None]):
    """A one-screen app that returns the profile typed in (or None if cancelled)."""

    TITLE = "accord"
    CSS_PATH: ClassVar[list[str | Path]] = [str(_HERE / "dialogs" / "form.tcss")]  # type: ignore[assignment]

    def __init__(self, initial: Profile | None = None, where: str = "") -> None:
        # Textual takes NO_COLOR out of the environment; put it back for the board after us.
        no_color = os.environ.get("NO_COLOR")
        super().__init__()
        if no_color is not None:
            os.environ["NO_COLOR"] = no_color
        self.initial = initial
        self.where = where

    def on_mount(self) -> None:
        """Ask, then exit with the answer."""
        self.push_screen(ProfileScreen(self.initial, self.where), self.exit)
