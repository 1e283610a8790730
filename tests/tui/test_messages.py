"""Messages never cover a dialog or the panel: they go to the sidebar's message box, in full."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.client import Connection
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.dialogs.invite import InviteScreen
from accord.tui.widgets.sidebar import MessageBox
from textual.widgets._toast import Toast


async def test_joins_at_start_do_not_cover_the_invite(
    relay: Any, h: Any, private_dirs: Path
) -> None:
    """People joining while the invite shows are listed in the sidebar; no toast covers it."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    app = AccordApp(fac, cursor_blink=False, show_invite=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await h.until(pilot, lambda: isinstance(app.screen, InviteScreen))
        people = []
        for name in ("Priya", "Marco", "Lena"):
            person = Connection(relay.url, Hello(code=fac.secrets.participant_code, name=name))
            await person.start(timeout=10)
            people.append(person)
        box = app.board.query_one(MessageBox)
        await h.until(pilot, lambda: "Lena joined" in " ".join(h.widget_text(box).split()))
        assert isinstance(app.screen, InviteScreen)
        await pilot.pause(0.2)
        assert len(app._notifications) >= 3  # notified, and none of it shows as a toast
        toasts = [t for s in app.screen_stack for t in s.query(Toast)]
        assert not any(t.display and t.region.area for t in toasts)
        text = h.widget_text(box)
        assert text.index("Lena") < text.index("Marco")  # newest first
        for person in people:
            await person.close()
    await fac.close()
