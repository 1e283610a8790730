"""The board through a relay outage: it shows the outage, keeps your input, and recovers."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from accord.client import Connection
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.widgets.sidebar import LinkBox
from textual import events


def quick() -> Generator[float]:
    """Reconnect delays for tests: retry every 100 ms."""
    while True:
        yield 0.1


async def test_card_typed_during_outage_lands_once_after_restart(
    relay_factory: Any, h: Any
) -> None:
    """Stop the relay, add a card, restart on the same port and data: it lands exactly once."""
    relay = await relay_factory()
    port = relay.port
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"), delays=quick)
    await fac.start(timeout=10)
    assert fac.secrets is not None
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:  # wide enough for the sidebar
        link = app.board.query_one(LinkBox)
        await h.until(pilot, lambda: "connected" in h.widget_text(link))

        await relay.close()
        await h.until(pilot, lambda: "reconnecting" in h.widget_text(link))
        await h.until(pilot, lambda: any("Lost the relay" in n.message for n in app._notifications))

        await pilot.press("a")
        assert pilot.app.focused is not None
        pilot.app.focused.post_message(events.Paste("Offline card"))
        await pilot.pause()
        await pilot.press("enter")
        await h.until(pilot, lambda: "1 waiting to send" in h.widget_text(link))
        assert fac.session is not None and not fac.session.cards

        restarted = await relay_factory(port=port, data_dir=relay.config.data_dir)
        await h.until(
            pilot,
            lambda: fac.link.kind == "connected" and not fac.outbox,
            15,
            explain=lambda: f"{fac.link} {fac.outbox} {fac.failure}",
        )
        await h.until(pilot, lambda: "● connected" in h.widget_text(link))
        assert "waiting" not in h.widget_text(link)
        await h.until(pilot, lambda: "Offline card" in h.screen_text(app))
        await h.until(pilot, lambda: any("Back online" in n.message for n in app._notifications))

    observer = Connection(restarted.url, Hello(code=fac.secrets.observer_code, name="Olga"))
    await observer.start(timeout=10)
    assert observer.session is not None
    texts = [c.text for c in observer.session.cards.values()]
    assert texts == ["Offline card"]
    await observer.close()
    await fac.close()
