"""Facilitator tools on a live relay: the timebox, and confirmations before destructive acts."""

from __future__ import annotations

from typing import Any

import pytest
from accord.client import Connection
from accord.protocol.commands import AddCard, OpenVote, SetReady
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.widgets.learn import LearnPanel
from accord.tui.widgets.sidebar import TimerBox
from textual import events


@pytest.mark.slow
async def test_timebox_counts_down_for_everyone_and_says_when_time_is_up(
    relay: Any, h: Any
) -> None:
    """``t`` starts a timebox; a participant's sidebar counts it down and both hear time is up."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    priya = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Priya"))
    await priya.start(timeout=10)
    apps = [AccordApp(fac, cursor_blink=False), AccordApp(priya, cursor_blink=False)]
    wide = (120, 36)  # the sidebar (and its timebox) shows from 100 columns
    async with apps[0].run_test(size=wide) as fp, apps[1].run_test(size=wide) as pp:
        await fp.press("t")
        assert fp.app.focused is not None
        fp.app.focused.post_message(events.Paste("0.05"))
        await fp.pause()
        await fp.press("down")
        assert fp.app.focused is not None
        fp.app.focused.post_message(events.Paste("Silent brainstorm"))
        await fp.pause()
        await fp.press("enter")
        timer = apps[1].board.query_one(TimerBox)
        await h.until(pp, lambda: "Silent" in h.widget_text(timer))
        assert "00:0" in h.widget_text(timer)
        for app, pilot in zip(apps, (fp, pp), strict=True):
            await h.until(
                pilot,
                lambda app=app: any("Time is up" in n.message for n in app._notifications),
                timeout=8,
            )
        await h.until(pp, lambda: "over by" in h.widget_text(timer))
    await priya.close()
    await fac.close()


async def test_delete_asks_first_and_no_keeps_the_card(relay: Any, h: Any) -> None:
    """Deleting a card opens a confirmation; n keeps it, y deletes it."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    await fac.send(AddCard("value", "Duplicate"))
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmDialog)
        # A command sent now lands after anything the key press sent: a barrier, not a sleep.
        await fac.send(SetReady(True))
        assert fac.session is not None and len(fac.session.cards) == 1
        await pilot.press("d")
        await pilot.press("y")
        await h.until(pilot, lambda: not fac.session.cards)
        await h.until(pilot, lambda: "Duplicate" not in h.screen_text(app))
    await fac.close()


async def test_quick_dot_presses_add_up(relay: Any, h: Any) -> None:
    """Three dot presses before any is acked spend three dots, not one."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    await fac.send(AddCard("value", "Faster answers"))
    await fac.send(OpenVote(kind="dots", dots=5))
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        lanes = app.board.query_one(LearnPanel)
        for _ in range(3):  # all within one tick, as keys arriving in one burst over SSH
            lanes.action_dot(1)

        def spent() -> int:
            vote = fac.session.open_vote("dots") if fac.session else None
            mine = vote.ballots.get(fac.member_id) if vote else None
            return sum(mine.marks.values()) if mine else 0

        await h.until(pilot, lambda: spent() == 3)
        await fac.send(SetReady(True))  # a barrier: any fourth dot would have landed first
        assert spent() == 3
        await pilot.press("minus")
        await h.until(pilot, lambda: spent() == 2)
    await fac.close()
