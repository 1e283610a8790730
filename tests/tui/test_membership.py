"""Membership control from the board, on a real relay: removing someone, new join codes."""

from __future__ import annotations

from typing import Any

import pytest
from accord.client import Connection
from accord.protocol.commands import AddCard, RemoveMember, SetReady
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.cli_support import CliError, connect, member_codes, remember
from accord.tui.config import KeyStore
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.farewell import FarewellScreen
from accord.tui.dialogs.invite import InviteScreen
from accord.tui.dialogs.members import MembersDialog
from accord.tui.guide import name_of
from accord.tui.palette import BoardCommands
from accord.tui.widgets.decide import DecidePanel
from accord.tui.widgets.sidebar import MemberList
from textual.widgets import OptionList, Static


def dialog_text(app: AccordApp) -> str:
    """Every text and list row of the screen on top, as plain text."""
    parts = [str(w.render()) for w in app.screen.query(Static)]
    for listing in app.screen.query(OptionList):
        parts += [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
    return "\n".join(parts)


def toasts(app: AccordApp) -> list[str]:
    """The messages of the toasts the app has shown."""
    return [n.message for n in app._notifications]


async def session_of_two(relay: Any) -> tuple[Connection, Connection]:
    """Fay creates a session on the relay; Priya joins it with the participant code."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay", department="Product"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    priya = Connection(
        relay.url, Hello(code=fac.secrets.participant_code, name="Priya", department="Finance")
    )
    await priya.start(timeout=10)
    return fac, priya


@pytest.mark.slow
async def test_removed_participant_sees_a_final_message_and_the_board_ends(
    relay: Any, h: Any
) -> None:
    """P, x and y remove Priya: her board says so, stops for good and closes on Enter.

    The confirmation names her and says her work stays; her card does stay, and
    the facilitator's sidebar lists her as removed and away.
    """
    fac, priya = await session_of_two(relay)
    await priya.send(AddCard("value", "Lower fees"))
    apps = [AccordApp(fac, cursor_blink=False), AccordApp(priya, cursor_blink=False)]
    async with apps[0].run_test(size=(100, 30)) as fp, apps[1].run_test(size=(100, 30)) as pp:
        await fp.press("P")
        assert isinstance(apps[0].screen, MembersDialog)
        assert "Priya" in dialog_text(apps[0])
        await fp.press("down", "x")
        assert isinstance(apps[0].screen, ConfirmDialog)
        asked = dialog_text(apps[0])
        assert "Remove Priya from this session?" in asked
        assert "stays on the board and in the decision record" in asked
        await fp.press("y")
        await h.until(pp, lambda: isinstance(apps[1].screen, FarewellScreen))
        said = dialog_text(apps[1])
        assert "The facilitator removed you from this session" in said
        assert "Traceback" not in said
        await h.until(pp, lambda: not priya.running)
        assert priya.failure is not None and priya.failure.removed
        assert priya.failure.close_code == CloseCode.MEMBER_REMOVED
        assert not any(t.startswith("Offline") for t in toasts(apps[1]))
        sidebar = apps[0].board.query_one(MemberList)
        await h.until(
            fp,
            lambda: "Priya (removed)" in h.widget_text(sidebar),
            explain=lambda: h.widget_text(sidebar),
        )
        row = next(line for line in h.widget_text(sidebar).splitlines() if "Priya" in line)
        assert row.startswith("○")  # away
        assert "1/1 here" in h.widget_text(sidebar)
        assert "Lower fees" in h.screen_text(apps[0])
        await h.until(fp, lambda: any("Priya is out" in t for t in toasts(apps[0])))
        await pp.press("enter")
        await h.until(fp, lambda: apps[1]._exit)
    assert apps[1].return_code == 0
    await fac.close()


async def test_participant_pressing_the_membership_keys_gets_the_reason(relay: Any, h: Any) -> None:
    """A participant's K says only the facilitator issues codes; x in People says who removes."""
    fac, priya = await session_of_two(relay)
    app = AccordApp(priya, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await h.until(pilot, lambda: app.board.ctx is not None)
        await pilot.press("K")
        assert not isinstance(app.screen, ConfirmDialog)
        assert "Only the facilitator can issue new join codes." in toasts(app)
        await pilot.press("P")
        assert isinstance(app.screen, MembersDialog)
        assert "x remove" not in dialog_text(app)
        await pilot.press("x")
        assert isinstance(app.screen, MembersDialog)  # nothing to confirm
        assert "Only the facilitator can remove members." in toasts(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, MembersDialog)
        await priya.send(SetReady(True))  # a barrier: anything the keys sent came first
    assert fac.session is not None and not fac.session.members[priya.member_id].removed
    await priya.close()
    await fac.close()


async def test_the_facilitator_cannot_pick_themselves(relay: Any, h: Any) -> None:
    """x on the facilitator's own row says why in one line and asks nothing."""
    fac, priya = await session_of_two(relay)
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await h.until(pilot, lambda: app.board.ctx is not None)
        await pilot.press("P")
        assert "x remove" in dialog_text(app)
        await pilot.press("x")  # the first row is the facilitator
        assert isinstance(app.screen, MembersDialog)
        assert "The facilitator cannot be removed." in toasts(app)
    await priya.close()
    await fac.close()


@pytest.mark.slow
async def test_new_codes_show_in_invite_are_saved_and_the_old_code_is_refused(
    relay: Any, h: Any
) -> None:
    """K then y rotates the codes: invite shows new ones, saved for resume; old code refused.

    Priya, already in, keeps her seat and her saved token; a join with the new code works.
    """
    fac, priya = await session_of_two(relay)
    assert fac.secrets is not None and fac.session is not None
    old = fac.secrets
    remember(fac, relay.url, False, member_codes(fac))
    remember(priya, relay.url, False, {})
    app = AccordApp(fac, cursor_blink=False, server_label=relay.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await h.until(pilot, lambda: app.board.ctx is not None)
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmDialog)
        assert "stop working" in dialog_text(app)
        await pilot.press("y")
        await h.until(pilot, lambda: isinstance(app.screen, InviteScreen))
        new = fac.secrets
        assert new is not None and new.participant_code != old.participant_code
        shown = dialog_text(app)
        assert new.participant_code in shown and old.participant_code not in shown
        assert "the old ones no longer work" in shown
        await pilot.press("escape")
        await pilot.press("i")  # invite again: the new codes
        assert isinstance(app.screen, InviteScreen)
        assert new.observer_code in dialog_text(app)
    saved = {m.member_id: m for m in KeyStore().load()}
    assert saved[fac.member_id].codes == member_codes(fac)
    assert saved[fac.member_id].token == fac.token
    assert saved[priya.member_id].token == priya.token and not saved[priya.member_id].codes
    late = Connection(relay.url, Hello(code=old.participant_code, name="Late"))
    with pytest.raises(CliError) as refused:
        await connect(late)
    assert "does not know that join code" in str(refused.value)
    kim = Connection(relay.url, Hello(code=new.participant_code, name="Kim"))
    await connect(kim)
    assert kim.role == "participant"
    await priya.send(SetReady(True))  # Priya keeps her seat
    back = Connection(relay.url, Hello(token=saved[priya.member_id].token))
    await connect(back)  # and her saved token still resumes
    assert back.member_id == priya.member_id
    for conn in (back, kim, priya, fac):
        await conn.close()


async def test_budget_warning_reaches_the_facilitator_as_one_calm_line(
    relay_factory: Any, h: Any
) -> None:
    """Near its event budget the relay warns; the facilitator's board says so once, calmly."""
    relay = await relay_factory(max_session_events=100, rate_limit=1000.0, rate_burst=200)
    fac, priya = await session_of_two(relay)
    apps = [AccordApp(fac, cursor_blink=False), AccordApp(priya, cursor_blink=False)]
    async with apps[0].run_test(size=(100, 30)) as fp, apps[1].run_test(size=(100, 30)) as pp:
        assert fac.session is not None
        ready = False
        while fac.session.seq < 82:  # the warning comes at 80% of 100 events
            ready = not ready
            await priya.send(SetReady(ready))
        await h.until(fp, lambda: any("Heads-up from the relay" in t for t in toasts(apps[0])))
        lines = [t for t in toasts(apps[0]) if "Heads-up" in t]
        assert len(lines) == 1 and "80%" in lines[0] and "Everything is saved" in lines[0]
        severities = [n.severity for n in apps[0]._notifications if "Heads-up" in n.message]
        assert severities == ["information"]
        await pp.pause()
        assert not any("Heads-up" in t for t in toasts(apps[1]))
    await priya.close()
    await fac.close()


async def test_a_removed_member_is_marked_wherever_names_show(
    board: Any, preview: Any, h: Any
) -> None:
    """After Marco is removed, the sidebar, the round's answer list and need authors say so."""
    b = board("decide")
    b.do("Fay", RemoveMember(member_id=b.ids["Marco"]))
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36)):
        sidebar = h.widget_text(app.board.query_one(MemberList))
        assert "Marco (removed)" in sidebar and "4/4 here" in sidebar
        assert "Marco (removed)" in h.widget_text(app.board.query_one(DecidePanel))
    view = b.view("Priya")
    marco_need = next(n for n in view.needs.values() if n.author == b.ids["Marco"])
    assert name_of(view, marco_need.author) == "Marco (removed)"
    assert name_of(view, b.ids["Priya"]) == "Priya"


async def test_palette_and_help_offer_the_membership_keys_by_role(board: Any, preview: Any) -> None:
    """The facilitator finds People and New join codes by name; a participant only People."""
    b = board("options")
    for viewer, codes in (("Fay", True), ("Priya", False)):
        app = preview(b, viewer)
        async with app.run_test(size=(120, 36)):
            provider = BoardCommands(app.board)
            names = {str(hit.text) async for hit in provider.discover()}
            assert "People" in names
            assert ("New join codes" in names) is codes
            _, board_keys = app.board.key_help()
            assert ("K" in {k.key for k in board_keys}) is codes
