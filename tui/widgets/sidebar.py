"""The sidebar: who is here (role, department, presence, ready, voted), the timebox and the link."""

from __future__ import annotations

from textwrap import wrap

from accord.client import LinkState, Outgoing
from accord.protocol.ballots import ballot_progress, expected_voters, vote_items, voted_count
from accord.protocol.model import Member, Vote
from accord.protocol.permissions import vote_kind_of
from accord.tui.context import Context
from accord.tui.guide import REMOVED_MARK, clock, voters
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
            session.members.values(),
            key=lambda m: (m.removed, ROLE_ORDER[m.role], m.joined_at, m.id),
        )
        present = [m for m in members if not m.removed]  # the removed are listed, not counted
        online = sum(1 for m in present if m.id in ctx.online)
        ready = sum(1 for m in present if m.ready)
        if ctx.relay_down_for is not None:
            # The relay is what is missing: who is here is unknown until it is back.
            said = f"? relay unreachable for {int(ctx.relay_down_for)} s"
            parts = [said] if len(said) <= width else said.replace(" for ", "\n  for ").split("\n")
            lines: list[RenderableType] = [span(part, self.st("warn")) for part in parts]
        else:
            head = span(f"{online}/{len(present)} here", self.st("title"))
            head.append(f" · {ready} ready", style=self.st("dim"))
            lines = [head]
        dept_w = 7 if width >= 30 else 5
        multi = vote is not None and progress_shown(ctx, vote)
        name_w = max(4, width - dept_w - 8 - (8 if multi else 0))
        for m in members:
            lines.append(self._row(ctx, m, vote is not None, name_w, dept_w))
        return self.block(lines)

    def _row(self, ctx: Context, m: Member, voting: bool, name_w: int, dept_w: int) -> Text:
        session = ctx.session
        vote = session.open_vote(vote_kind_of(session.phase))
        here = m.id in ctx.online and not m.removed
        row = Text()
        if ctx.relay_down_for is not None and m.id != ctx.me:
            row.append("?", style=self.st("dim"))  # unknown while the relay is unreachable
        else:
            row.append("●" if here else "○", style=self.st("good" if here else "dim"))
        row.append(ROLE_MARKS[m.role], style=self.st("mark"))
        if m.removed:  # the mark always shows: the name gives way, and the department
            room = name_w + 1 + dept_w
            name = clip(m.name, room - len(REMOVED_MARK)) + REMOVED_MARK
            row.append(pad(name, room), style=self.st("dim"))
            return row
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


#: The mark before a message, so its weight never rests on colour alone.
SEVERITY_MARKS = {"information": "•", "warning": "!", "error": "✕"}
SEVERITY_STYLES = {"information": "accent", "warning": "warn", "error": "bad"}


class MessageBox(BoardPart):
    """The board's recent messages, newest first, wrapped in full (toasts would cover things)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.messages: list[tuple[str, str]] = []

    def show_messages(self, messages: list[tuple[str, str]]) -> None:
        """Show ``messages`` (text and severity, oldest first)."""
        self.messages = list(messages)
        self.display = bool(messages)
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        """Newest first; each message wrapped to the width, never cut mid-word."""
        width = max(12, self.size.width)
        lines: list[RenderableType] = []
        for text, severity in reversed(self.messages):
            mark = SEVERITY_MARKS.get(severity, "•")
            style = self.st(SEVERITY_STYLES.get(severity, "accent"))
            for i, part in enumerate(wrap(text, width - 2) or [""]):
                lines.append(span(f"{mark if i == 0 else ' '} {part}", style if i == 0 else ""))
        return self.block(lines)


class Sidebar(Vertical):
    """The right-hand column of the board."""

    def compose(self) -> ComposeResult:
        """Members on top, then the timebox and vote, then the link and recent messages."""
        yield MemberList(id="members")
        yield TimerBox(id="timer")
        yield LinkBox(id="link")
        yield MessageBox(id="messages")


class StatusStrip(BoardPart):
    """The sidebar folded into one line, for terminals too narrow for the sidebar.

    A fresh message may take up to three lines, so it is read in full.

    The newest message while it is fresh; otherwise the link, who is here and ready,
    the timebox and the open vote's progress, and the key that opens the full sidebar.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.link = LinkState("connecting")
        self.waiting = 0
        self.message: tuple[str, str] | None = None

    def show_state(self, link: LinkState, waiting: int, message: tuple[str, str] | None) -> None:
        """Take the link, the number of commands waiting, and the message to show (if any)."""
        self.link, self.waiting, self.message = link, waiting, message
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        """One line, cut to the width."""
        width = max(10, self.size.width)
        if self.message is not None:
            text, severity = self.message
            mark = SEVERITY_MARKS.get(severity, "•")
            style = self.st(SEVERITY_STYLES.get(severity, "accent"))
            parts = wrap(text, width - 2) or [""]
            return self.block(
                [span(f"{mark if i == 0 else ' '} {part}", style) for i, part in enumerate(parts)]
            )
        ctx = self.ctx
        line = Text()
        if ctx is not None and ctx.relay_down_for is not None:
            line.append(f"◌ relay unreachable for {int(ctx.relay_down_for)} s", self.st("warn"))
        elif self.link.kind == "connected":
            line.append("●", self.st("good"))
        elif self.link.kind == "offline":
            line.append("✕ offline", self.st("bad"))
        else:
            line.append(f"◌ {self.link.describe()}", self.st("warn"))
        if self.waiting:
            line.append(f" · {self.waiting} waiting", self.st("warn"))
        if ctx is not None:
            session = ctx.session
            if ctx.relay_down_for is None:
                here = sum(1 for m in session.members.values() if m.id in ctx.online)
                line.append(f" {here}/{len(session.members)} here")
            ready = sum(1 for m in session.members.values() if m.ready)
            line.append(f" · {ready} ready", self.st("dim"))
            timer = session.timer
            if timer is not None:
                line.append(f" · ◷ {clock(timer.ends_at - ctx.now)}", self.st("accent"))
            vote = session.open_vote()
            if vote is not None:
                line.append(f" · {SHORT_VOTE[vote.kind]} {len(vote.voters)}/{len(voters(session))}")
        line.append("  S: sidebar", self.st("dim"))
        return self.block([line])
