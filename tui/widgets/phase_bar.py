"""The phase bar: the question, the four phases with the current one lit, and what to do now."""

from __future__ import annotations

from accord.protocol.model import PHASE_TITLES, PHASES
from accord.tui.guide import task_line
from accord.tui.widgets.base import BoardPart, clip, span
from rich.console import RenderableType
from rich.text import Text


class PhaseBar(BoardPart):
    """Three lines at the top of the board: question, phases, and the task of the moment."""

    def render(self) -> RenderableType:
        """Draw the bar from the current context."""
        ctx = self.ctx
        width = max(10, self.size.width)
        if ctx is None:
            return Text("accord: connecting…", style=self.st("dim"))
        session = ctx.session
        me = ctx.member
        who = f"{me.name} · {me.role}" if me else ""
        question = Text(" ")
        question.append(clip(session.question, width - len(who) - 4), style=self.st("title"))
        question.pad_right(max(0, width - question.cell_len - len(who) - 1))
        question.append(who, style=self.st("dim"))
        phases = Text(" ")
        seen = {v.phase for v in session.history} | {"learn"}
        current = PHASES.index(session.phase)
        for i, phase in enumerate(PHASES):
            # A mark, not only a colour: ▸ where the board is, ✓ for phases behind it.
            mark = "▸" if phase == session.phase else "✓" if i < current else " "
            label = f"{mark}{i + 1} {PHASE_TITLES[phase]} "
            if phase == session.phase:
                phases.append(label, style=self.st("cursor"))
            elif phase in seen or i < current:
                phases.append(label)
            else:
                phases.append(label, style=self.st("dim"))
            if i < len(PHASES) - 1:
                phases.append(" → ", style=self.st("dim"))
        if session.closed:
            phases.append("  closed", style=self.st("warn"))
        task = span(" Now: ", self.st("accent"))
        task.append(clip(task_line(session, ctx.me), width - 7))
        return self.block([question, phases, task])
