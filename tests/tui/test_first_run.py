"""The first run: name and department are asked once, then remembered in TOML."""

from __future__ import annotations

from accord.tui.config import Profile, load_profile, save_profile
from accord.tui.firstrun import FirstRunApp
from textual import events


async def test_first_run_asks_for_name_and_department() -> None:
    """Typing a name and a department and pressing Enter returns the profile."""
    app = FirstRunApp(Profile(), "config.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is not None
        app.focused.post_message(events.Paste("Ada"))
        await pilot.pause()
        await pilot.press("enter")
        assert app.focused is not None
        app.focused.post_message(events.Paste("Finance"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == Profile(name="Ada", department="Finance")


async def test_first_run_needs_a_name() -> None:
    """Enter on an empty name keeps the form open and says a name is needed."""
    app = FirstRunApp(Profile(), "config.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert "A display name is needed" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
    assert app.return_value is None


def test_saved_profile_is_complete_on_the_next_run() -> None:
    """Once saved, the next start does not need to ask."""
    save_profile(Profile(name="Ada", department="Finance"))
    assert load_profile().complete
