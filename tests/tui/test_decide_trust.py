"""The board shows what the trust rules decide: blocks, round order, missing voters, stances,
decisions without consensus, stale results and the partner's narrower view (real relay)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from accord.client import Connection
from accord.protocol.commands import (
    AddCard,
    AddNeed,
    Cast,
    Command,
    EditNeed,
    OpenVote,
    Propose,
    RevealVote,
    SetPhase,
    SettleNeed,
)
from accord.protocol.messages import Create, Hello
from accord.protocol.model import BASELINE_ID, CLASS_MARK, PROPOSAL_KEY, Session
from accord.protocol.results import cell_key
from accord.tui.app import AccordApp
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.decision_dialog import DecisionDialog
from accord.tui.dialogs.partner_dialog import PartnerViewDialog
from accord.tui.dialogs.prompt import TextPrompt
from accord.tui.widgets.decide import DecidePanel
from textual import events
from textual.widgets import Checkbox, Static

QUESTION = "Keep our payment stack, or change it?"
SIZE = (110, 40)


class Group:
    """A facilitator (Fay) and two participants (Priya, Marco) on one relay, and a partner."""

    def __init__(self, relay: Any) -> None:
        self.relay = relay
        self.fay = Connection(relay.url, Create(question=QUESTION, name="Fay", department="Ops"))
        self.conns: list[Connection] = [self.fay]

    async def start(self, partner: bool = False) -> None:
        """Create the session and let the others join it."""
        await self.fay.start(timeout=10)
        secrets = self.fay.secrets
        assert secrets is not None
        self.priya = Connection(self.relay.url, Hello(code=secrets.participant_code, name="Priya"))
        self.marco = Connection(self.relay.url, Hello(code=secrets.participant_code, name="Marco"))
        self.conns += [self.priya, self.marco]
        if partner:
            self.jon = Connection(self.relay.url, Hello(code=secrets.partner_code, name="Jon"))
            self.conns.append(self.jon)
        for conn in self.conns[1:]:
            await conn.start(timeout=10)

    @property
    def session(self) -> Session:
        """The facilitator's copy of the session."""
        assert self.fay.session is not None
        return self.fay.session

    async def do(self, conn: Connection, *commands: Command) -> None:
        """Send commands one after the other, each applied before the next."""
        for command in commands:
            await conn.send(command)

    def last_vote(self) -> str:
        """The id of the newest vote."""
        return list(self.session.votes)[-1]

    async def open_round(self, statement: str, method: str = "fist") -> str:
        """Propose the baseline with ``statement`` and open a consensus round on it."""
        if self.session.phase != "decide":
            await self.do(self.fay, SetPhase("decide"))
        await self.do(
            self.fay,
            Propose(BASELINE_ID, statement),
            OpenVote(kind="consensus", method=method),  # type: ignore[arg-type]
        )
        return self.last_vote()

    async def close(self) -> None:
        """Close every connection."""
        for conn in self.conns:
            await conn.close()


def app_for(conn: Connection, tmp_path: Path) -> AccordApp:
    """A board for one member."""
    return AccordApp(conn, cursor_blink=False, records_dir=tmp_path / "rec", export_dir=tmp_path)


async def sees(h: Any, pilot: Any, *snippets: str) -> None:
    """Wait until the pilot's board shows every snippet."""
    app = pilot.app
    await h.until(
        pilot,
        lambda: all(s in h.screen_text(app) for s in snippets),
        explain=lambda: f"wanted {snippets} in:\n{h.screen_text(app)}",
    )


async def test_a_block_counts_without_its_reason_and_the_round_cannot_pass(
    relay: Any, h: Any, tmp_path: Path
) -> None:
    """A fist of 1 is cast before the reason prompt; cancelling it leaves the round blocked."""
    group = Group(relay)
    await group.start()
    vote_id = await group.open_round("We keep the stack we have.")
    await group.do(group.fay, Cast(vote_id, {PROPOSAL_KEY: 4}))
    await group.do(group.marco, Cast(vote_id, {PROPOSAL_KEY: 5}))
    async with app_for(group.priya, tmp_path).run_test(size=SIZE) as pilot:
        await sees(h, pilot, "Round 1, fist-of-five")
        await pilot.press("1")
        await h.until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
        # The block is counted while the prompt is still open.
        await h.until(pilot, lambda: group.priya.member_id in group.session.votes[vote_id].voters)
        await pilot.press("escape")
        await sees(h, pilot, "Your answer: 1 finger", "no reason given yet")
        await group.do(group.fay, RevealVote(vote_id))
        await sees(h, pilot, "✗ blocked", "Priya: 1 finger (blocks)")
    rounds = group.session.rounds
    assert [r.outcome for r in rounds] == ["blocked"]
    assert not rounds[0].passed
    await group.close()


async def test_rounds_are_numbered_in_the_order_they_opened(
    relay_factory: Any, h: Any, tmp_path: Path
) -> None:
    """Round v95 is round 1 and v102 round 2, although "v102" sorts before "v95" as text."""
    relay = await relay_factory(rate_limit=1000.0, rate_burst=1000)
    group = Group(relay)
    await group.start()
    for n in range(200):
        if group.session.next_id >= 95:
            break
        await group.do(group.fay, AddCard("value", f"card {n}"))
    first = await group.open_round("First wording.")
    await group.do(group.fay, RevealVote(first))
    await group.do(group.fay, SetPhase("learn"))
    while group.session.next_id < 102:
        await group.do(group.fay, AddCard("value", "one more card"))
    second = await group.open_round("Second wording.")
    await group.do(group.fay, RevealVote(second))
    assert (first, second) == ("v95", "v102")
    app = app_for(group.fay, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sees(h, pilot, "Rounds so far", "Round 2, fist-of-five")
        text = h.widget_text(app.board.query_one(DecidePanel))
        one, two = text.index(" 1. No change"), text.index(" 2. No change")
        assert one < text.index("First wording") < two < text.index("on “Second wording")
    await group.close()


async def test_an_early_reveal_asks_names_the_missing_and_needs_without_consensus(
    relay: Any, h: Any, tmp_path: Path
) -> None:
    """Revealing before all answered asks first; the round names who is missing; recording
    then needs the without-consensus switch and the dissent starts with the missing names."""
    group = Group(relay)
    await group.start()
    vote_id = await group.open_round("We keep the stack we have.")
    await group.do(group.priya, Cast(vote_id, {PROPOSAL_KEY: 4}))
    async with app_for(group.fay, tmp_path).run_test(size=SIZE) as pilot:
        await sees(h, pilot, "1/3 answered", "Waiting for: Fay, Marco")
        await pilot.press("V")
        await h.until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog))
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmDialog) and confirm.question == "Reveal now?"
        assert "2 members have not voted" in confirm.detail
        assert "incomplete, never as passed" in confirm.detail
        await pilot.press("y")
        await sees(h, pilot, "incomplete — did not answer: Fay, Marco")
        assert group.session.rounds[-1].outcome == "incomplete"

        await pilot.press("D")
        await h.until(pilot, lambda: isinstance(pilot.app.screen, DecisionDialog))
        dialog = pilot.app.screen
        basis = str(dialog.query_one("#basis", Static).render())
        assert "No consensus round passed" in basis
        dissent = dialog.query_one("#dissent").text  # type: ignore[attr-defined]
        assert "Did not answer: Fay, Marco." in dissent
        await pilot.press("ctrl+s")
        error = str(dialog.query_one("#form-error", Static).render())
        assert "record without consensus" in error
        assert group.session.decision is None
        dialog.query_one("#without", Checkbox).value = True
        await pilot.press("ctrl+s")
        await h.until(pilot, lambda: group.session.decision is not None)
        await sees(h, pilot, "recorded without consensus")
    decision = group.session.decision
    assert decision is not None and decision.without_consensus
    await group.close()


async def test_named_stances_show_after_the_reveal(relay: Any, h: Any, tmp_path: Path) -> None:
    """After a named consent round is revealed, everyone sees who objected and why."""
    group = Group(relay)
    await group.start()
    vote_id = await group.open_round("We keep the stack we have.", method="consent")
    await group.do(group.fay, Cast(vote_id, {PROPOSAL_KEY: 2}))
    await group.do(group.marco, Cast(vote_id, {PROPOSAL_KEY: 1}))
    async with app_for(group.priya, tmp_path).run_test(size=SIZE) as pilot:
        await sees(h, pilot, "Round 1, consent")
        await pilot.press("x")
        await h.until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
        pilot.app.screen.focused.post_message(events.Paste("Fees rise next year"))  # type: ignore[union-attr]
        await pilot.pause()
        await pilot.press("enter")
        await h.until(
            pilot,
            lambda: (
                group.session.votes[vote_id].voters.count(group.priya.member_id) == 1
                and group.priya.outbox == {}
            ),
        )
        await group.do(group.fay, RevealVote(vote_id))
        await sees(
            h,
            pilot,
            "Priya: object — Fees rise next year",
            "agree: Fay",
            "stand aside: Marco",
        )
    assert group.session.rounds[-1].stances[1].reason == "Fees rise next year"
    await group.close()


async def scored_need(group: Group, text: str) -> str:
    """A need classified, settled as must and scored on the baseline; returns its id."""
    fay, priya, marco = group.fay, group.priya, group.marco
    await group.do(fay, SetPhase("needs"))
    await group.do(priya, AddNeed(text, "Budget", "Signed"))
    need = list(group.session.needs)[-1]
    await group.do(fay, OpenVote(kind="classify"))
    vote = group.last_vote()
    for conn in (fay, priya, marco):
        await group.do(conn, Cast(vote, {need: CLASS_MARK["must"]}))
    await group.do(fay, RevealVote(vote), SettleNeed(need, "must"), SetPhase("options"))
    await group.do(fay, OpenVote(kind="score"))
    vote = group.last_vote()
    for conn in (fay, priya, marco):
        await group.do(conn, Cast(vote, {cell_key(BASELINE_ID, need): 1}))
    await group.do(fay, RevealVote(vote))
    return need


async def test_a_reworded_need_marks_the_scores_stale(relay: Any, h: Any, tmp_path: Path) -> None:
    """Rewording a settled need after the score vote marks the results stale, with a re-vote."""
    group = Group(relay)
    await group.start()
    need = await scored_need(group, "Costs under 50k")
    await group.do(group.fay, EditNeed(need, "Costs under 500k", "Budget", "Signed"))
    async with app_for(group.fay, tmp_path).run_test(size=SIZE) as pilot:
        await sees(
            h,
            pilot,
            "⚠ stale: need “Costs under 500k” reworded since the vote",
            "(was: Costs",
            "under 50k)",
            "results are stale — press v to vote again",
        )
    await group.close()


async def test_the_partner_sees_no_ranking_until_it_is_shared(
    relay: Any, h: Any, tmp_path: Path
) -> None:
    """By default the partner's Decide board says the ranking is not shared; the facilitator's
    partner-view dialog shares it."""
    group = Group(relay)
    await group.start(partner=True)
    await scored_need(group, "Costs under 50k")
    await group.do(group.fay, SetPhase("decide"))
    async with AsyncExitStack() as stack:
        jp = await stack.enter_async_context(app_for(group.jon, tmp_path).run_test(size=SIZE))
        fp = await stack.enter_async_context(app_for(group.fay, tmp_path).run_test(size=SIZE))
        await sees(h, fp, "#1 ")
        await sees(h, jp, "The facilitator has not shared the ranking.")
        assert "#1 " not in h.screen_text(jp.app)
        await fp.press("H")
        await h.until(fp, lambda: isinstance(fp.app.screen, PartnerViewDialog))
        for switch in ("all_needs", "classes", "scores"):
            fp.app.screen.query_one(f"#{switch}", Checkbox).value = True
        await fp.press("ctrl+s")
        await h.until(fp, lambda: group.session.partner_view.scores)
        await sees(h, jp, "#1 ")
    await group.close()
