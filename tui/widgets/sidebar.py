"""The sidebar: who is here (role, department, presence, ready, voted), the timebox and the link."""

from __future__ import annotations

from textwrap import wrap

from accord.client import LinkState, Outgoing
from accord.protocol.ballots import ballot_progress, expected_voters, vote_items, voted_count
from accord.protocol.model import Member, Vote
from accord.protocol.permissions import vote_kind_of
from accord.tui.context import Context
from accord.tui.guide import clock
from accord.tui.widgets.base import BoardPart, clip, pad, span
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

ROLE_MARKS = {"facilitator": "★", "participant": " ", "partner": "◇", "observer": "·"}
SHORT_VOTE = {"dots": "dots", "classify": "classify", "score": "scores", "consensus": "round"}
ROLE_ORDER = {"facilitator": 0, "participant": 1, "partner": 2, "observer": 3}


class MemberList(BoardPart):
    """Members with presence, role mark, department, ready tick and voted mark."""

    def render(self) -> RenderableType:
        """One line per member, you first among equals, the facilitator on top."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width = max(12, self.size.width)
        session = ctx.session
        vote = session.open_vote(vote_kind_of(session.phase))
        members = sorted(
            session.members.values(), key=lambda m: (ROLE_ORDER[m.role], m.joined_at, m.id)
        )
        online = sum(1 for m in members if m.id in ctx.online)
        ready = sum(1 for m in members if m.ready)
        head = span(f"{online}/{len(members)} here", self.st("title"))
        head.append(f" · {ready} ready", style=self.st("dim"))
        lines: list[RenderableType] = [head]
        dept_w = 7 if width >= 30 else 5
        multi = vote is not None and progress_shown(ctx, vote)
        name_w = max(4, width - dept_w - 8 - (8 if multi else 0))
        for m in members:
            lines.append(self._row(ctx, m, vote is not None, name_w, dept_w))
        return self.block(lines)

    def _row(self, ctx: Context, m: Member, voting: bool, name_w: int, dept_w: int) -> Text:
        session = ctx.session
        vote = session.open_vote(vote_kind_of(session.phase))
        here = m.id in ctx.online
        row = Text()
        row.append("●" if here else "○", style=self.st("good" if here else "dim"))
        row.append(ROLE_MARKS[m.role], style=self.st("mark"))
        name = m.name + (" (you)" if m.id == ctx.me else "")
        row.append(pad(name, name_w), style=self.st("accent") if m.id == ctx.me else "")
        row.append(" " + pad(m.department or "-", dept_w), style=self.st("dim"))
        row.append(" ✓" if m.ready else "  ", style=self.st("good"))
        if voting and vote is not None and m.id in expected_voters(session, vote):
            got = ballot_progress(session, vote, m.id)
            row.append(
                "▣" if got.complete else "□", style=self.st("good" if got.complete else "dim")
            )
            if progress_shown(ctx, vote) and not got.complete:
                # A multi-item ballot: the facilitator sees how far each member got.
                row.append(f" {got.done}/{got.total}", style=self.st("dim"))
        return row


def progress_shown(ctx: Context, vote: Vote) -> bool:
    """True when the facilitator sees item counts: a multi-item vote that is not anonymous.

    In an anonymous vote others' counts arrive coarsened (a count could later name an
    anonymous row), so none is shown.
    """
    return ctx.is_facilitator and not vote.anonymous and vote_items(ctx.session, vote) is not None


class TimerBox(BoardPart):
    """The phase timebox counting down on the relay's clock, and the open vote's progress."""

    def render(self) -> RenderableType:
        """Timer line and vote line."""
        ctx = self.ctx
        if ctx is None:
            return ""
        width = max(12, self.size.width)
        session = ctx.session
        timer = session.timer
        if timer is None:
            line = span("◷ no timebox", self.st("dim"))
        else:
            left = timer.ends_at - ctx.now
            line = Text("◷ ")
            if left >= 0:
                style = self.st("warn") if left < 60 else self.st("accent")
                line.append(clock(left), style=style)
                line.append(f" {clip(timer.label, width - 9)}", style=self.st("dim"))
            else:
                line.append(f"over by {clock(-left)}", style=self.st("bad"))
        vote = session.open_vote() or session.latest_vote(vote_kind_of(session.phase))
        if vote is None or vote.phase != session.phase:
            vote_line = span("☐ no vote yet", self.st("dim"))
        else:
            vote_line = span("☐ ", self.st("dim"))
            vote_line.append(SHORT_VOTE[vote.kind], style=self.st("accent"))
            vote_line.append(f" {vote.status}")
            if vote.accepting:
                done, eligible = voted_count(session, vote)
                vote_line.append(f" {done}/{eligible}", style=self.st("dim"))
        return self.block([line, vote_line])


class LinkBox(BoardPart):
    """The link to the relay, and your commands still waiting or refused."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.link = LinkState("connecting")
        self.waiting: list[Outgoing] = []
        self.failed: list[Outgoing] = []

    def show_link(self, link: LinkState, waiting: list[Outgoing], failed: list[Outgoing]) -> None:
        """Update the link state and the outbox summary."""
        self.link, self.waiting, self.failed = link, waiting, failed
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        """Link line, then pending and failed commands."""
        width = max(12, self.size.width)
        link = self.link
        reason: list[Text] = []
        if link.kind == "connected":
            line = span("● connected", self.st("good"))
        elif link.kind == "offline":
            line = span("✕ offline", self.st("bad"))
            # The reason on lines of its own, so a long one is read in full, never cut.
            reason = [span(f"  {part}", self.st("bad")) for part in wrap(link.reason, width - 2)]
        else:
            # "reconnecting (attempt 12)" wraps before the bracket rather than losing the count
            words = link.describe().replace(" (", "\n  (", 1)
            line = span(
                "\n".join(clip(p, width) for p in f"◌ {words}".split("\n")), self.st("warn")
            )
            if link.reason and link.kind == "reconnecting":
                line.append("\n  " + clip(link.reason, width - 2), style=self.st("dim"))
        lines: list[RenderableType] = [line, *reason]
        if self.waiting:
            lines.append(span(f"… {len(self.waiting)} waiting to send", self.st("warn")))
        for out in self.failed[-2:]:
            lines.append(span(clip(f"✕ {out.reason}", width), self.st("bad")))
        return self.block(lines)


class Sidebar(Vertical):
    """The right-hand column of the board."""

    def compose(self) -> ComposeResult:
        """Members on top, then the timebox and vote, then the link."""
        yield MemberList(id="members")
        yield TimerBox(id="timer")
        yield LinkBox(id="link")
