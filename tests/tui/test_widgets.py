"""Board widgets on realistic sessions, without a network: what each role sees and can do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.tui.dialogs.help import HelpScreen
from accord.tui.palette import BoardCommands
from accord.tui.widgets.decide import DecidePanel
from accord.tui.widgets.learn import LearnPanel
from accord.tui.widgets.needs import NeedsPanel
from accord.tui.widgets.options import OptionsPanel
from accord.tui.widgets.phase_bar import PhaseBar
from accord.tui.widgets.sidebar import MemberList

Board = Callable[[str], Any]


async def test_learn_shows_your_dots_left_and_who_voted(board: Board, preview: Any, h: Any) -> None:
    """A participant sees the dots they have left; the sidebar marks who has voted."""
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(120, 36)):  # wide enough for the sidebar
        panel = h.widget_text(app.board.query_one(LearnPanel))
        assert "2 of 5 dots left" in panel
        assert "you:2" in panel
        members = h.widget_text(app.board.query_one(MemberList))
        assert "▣" in members and "□" in members
        assert "Priya (you)" in members


async def test_needs_lens_marks_departments_that_disagree(
    board: Board, preview: Any, h: Any
) -> None:
    """``l`` shows each department's majority class and marks needs they disagree on."""
    app = preview(board("needs"), "Fay")
    async with app.run_test(size=(60, 20)) as pilot:  # too narrow to show the lens unasked
        panel = app.board.query_one(NeedsPanel)
        before = h.widget_text(panel)
        assert "Sale " not in before and "l: lens" in before
        await pilot.press("l")
        lens = h.widget_text(panel)
        header = lens.splitlines()[1]
        assert "Fina" in header and "Sale" in header and "≠" in header
        rows = [line for line in lens.splitlines() if "[" in line]
        assert any(line.rstrip().endswith("≠") for line in rows)


async def test_options_reveal_ranks_and_strikes_gate_failures(
    board: Board, preview: Any, h: Any
) -> None:
    """After the reveal the best option ranks first and the baseline fails its gate."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(120, 36)):
        text = h.widget_text(app.board.query_one(OptionsPanel))
        assert "Scoring revealed" in text
        assert "#1 " in next(line for line in text.splitlines() if "Partner with PayCo" in line)
        assert "✗gate" in next(line for line in text.splitlines() if "No change" in line)
        assert "Criteria, from the settled needs" in text


async def test_decide_shows_round_progress_and_objection(
    board: Board, preview: Any, h: Any
) -> None:
    """The consensus panel lists who answered and the reason of the earlier objection."""
    app = preview(board("decide"), "Marco")
    async with app.run_test(size=(120, 36)):
        text = h.widget_text(app.board.query_one(DecidePanel))
        assert "Round 2, consent" in text and "2/4 answered" in text
        assert "Your answer: none yet" in text
        assert "Marco: object — Refunds at our volume are untested" in text
        assert "agree: Fay, Priya, Lena" in text
        assert "✗ blocked" in text


async def test_participant_keys_hide_facilitator_actions(board: Board, preview: Any) -> None:
    """Participants get no facilitator keys in the footer; the facilitator does."""
    for name, expected in (("Priya", False), ("Fay", True)):
        app = preview(board("needs"), name)
        async with app.run_test(size=(120, 36)):
            actions = {b.binding.action for b in app.board.active_bindings.values()}
            assert ("open_vote" in actions) is expected
            assert ("settle('must')" in actions) is expected
            assert "classify('must')" in actions


async def test_palette_offers_the_board_actions(board: Board, preview: Any) -> None:
    """The command palette finds board actions by name, as the role allows."""
    app = preview(board("options"), "Fay")
    async with app.run_test(size=(120, 36)):
        provider = BoardCommands(app.board)
        names = [hit.text for hit in [h async for h in provider.discover()]]
        assert {"Open vote", "Reveal", "Add option", "Weight+", "Help"} <= set(map(str, names))


async def test_help_lists_the_keys_of_the_current_phase(board: Board, preview: Any) -> None:
    """``?`` opens help for the phase in view with its keys for your role."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        labels = {k.label for k in app.screen.phase_keys}
        assert {"Score", "Pass", "Fail", "Add option", "Note"} <= labels
        assert "Weight+" not in labels
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_phase_bar_names_the_phase_and_task(board: Board, preview: Any, h: Any) -> None:
    """The phase bar shows the four phases and what is asked now."""
    app = preview(board("decide"), "Marco")
    async with app.run_test(size=(80, 24)):
        text = h.widget_text(app.board.query_one(PhaseBar))
        for name in ("Learn", "Needs", "Options", "Decide"):
            assert name in text
        assert "Now: Consensus round" in text


async def test_vote_dialog_shows_switch_state_without_colour(
    board: Board, preview: Any, h: Any
) -> None:
    """Switches read ✓ or blank, and ticking Anonymous locks Hidden on (anonymous votes hide)."""
    from accord.tui.dialogs.vote_dialog import OpenVoteDialog
    from accord.tui.widgets.toggles import Tick
    from textual.widgets import Checkbox

    app = preview(board("learn"), "Fay")
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(OpenVoteDialog("dots"))
        await pilot.pause()
        hidden = app.screen.query_one("#hidden", Checkbox)
        anonymous = app.screen.query_one("#anonymous", Checkbox)
        assert isinstance(anonymous, Tick)
        assert "✓" in h.widget_text(hidden) and "✓" not in h.widget_text(anonymous)
        hidden.value = False
        await pilot.pause()
        assert "✓" not in h.widget_text(hidden)
        anonymous.value = True
        await pilot.pause()
        assert hidden.value and hidden.disabled
        assert "✓" in h.widget_text(hidden) and "✓" in h.widget_text(anonymous)


async def test_option_dialog_picks_the_kind_first_with_arrows_and_enter(
    board: Board, preview: Any
) -> None:
    """Adding an option starts on the kind: ↓↓ Enter picks outsourcing, then the title saves."""
    from accord.tui.dialogs.option_dialog import OptionDialog, OptionDraft

    app = preview(board("options"), "Fay")
    results: list[OptionDraft | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(OptionDialog(), results.append)
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await pilot.press(*"Agency", "enter", "enter")
        await pilot.pause()
    assert results == [OptionDraft("outsourcing", "Agency", "")]


async def test_next_round_starts_with_the_last_method(board: Board, preview: Any, h: Any) -> None:
    """After consent rounds, the facilitator's next round dialog has consent picked."""
    from accord.protocol.commands import RevealVote
    from accord.tui.dialogs.vote_dialog import OpenVoteDialog
    from textual.widgets import RadioSet

    b = board("decide")
    b.do("Fay", RevealVote(b.last("v")))
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("v")
        await h.until(pilot, lambda: isinstance(app.screen, OpenVoteDialog))
        assert app.screen.query_one("#method", RadioSet).pressed_index == 1


async def test_record_dialog_names_the_passed_round_and_superseded_decisions_stay(
    board: Board, preview: Any, h: Any
) -> None:
    """After round 2 passes, the record dialog says it rests on round 2; a decision recorded
    again lists the first as superseded, with who recorded it."""
    from accord.protocol.commands import Cast, RecordDecision, RevealVote
    from accord.protocol.model import PROPOSAL_KEY
    from accord.tui.dialogs.decision_dialog import DecisionDialog
    from textual.widgets import Static

    b = board("decide")
    vote = b.last("v")
    for name in ("Fay", "Marco", "Lena"):
        b.do(name, Cast(vote, {PROPOSAL_KEY: 2}))
    b.do("Fay", RevealVote(vote))
    proposal = b.session.proposal
    assert proposal is not None
    for why in ("First go", "Second go"):
        b.do("Fay", RecordDecision(proposal.option_id, proposal.statement, rationale=why))
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 60)) as pilot:
        text = h.widget_text(app.board.query_one(DecidePanel))
        assert "rests on round 2, which passed" in text
        assert "Superseded decisions" in text and "recorded by Fay" in text
        await pilot.press("D")
        await h.until(pilot, lambda: isinstance(app.screen, DecisionDialog))
        basis = str(app.screen.query_one("#basis", Static).render())
        assert "Rests on round 2" in basis
