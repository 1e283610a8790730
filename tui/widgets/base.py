"""The base of every board widget: it holds a ``Context`` and theme-aware text styles."""

from __future__ import annotations

from typing import ClassVar

from accord.tui.context import Context
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget


class BoardPart(Widget):
    """A widget drawn from the session; ``show`` hands it a new ``Context``.

    Styles come from component classes in ``base.tcss`` so they follow the theme.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--cursor",
        "board--dim",
        "board--good",
        "board--bad",
        "board--warn",
        "board--accent",
        "board--title",
        "board--mark",
        "board--must",
        "board--optional",
        "board--not",
        "board--struck",
        "board--heat-0",
        "board--heat-1",
        "board--heat-2",
        "board--heat-3",
        "board--heat-4",
        "board--heat-5",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.ctx: Context | None = None

    def show(self, ctx: Context) -> None:
        """Take a new look at the session and redraw."""
        self.ctx = ctx
        self.refresh()

    def st(self, name: str) -> Style:
        """The Rich style of a component class (``cursor``, ``dim``, ``good``, ...)."""
        return self.get_component_rich_style(f"board--{name}", partial=True)

    def styled(self, text: str, name: str) -> Text:
        """``text`` in the style of a component class (later appends keep their own style)."""
        return span(text, self.st(name))

    def block(self, lines: list[RenderableType], height: int | None = None) -> Group:
        """Lines as a group, each cropped to the widget's width (never wrapped)."""
        width = max(1, self.size.width)
        out: list[RenderableType] = []
        for line in lines[:height] if height is not None else lines:
            if isinstance(line, Text):
                line.no_wrap = True
                line.overflow = "crop"
                line.truncate(width)
            out.append(line)
        return Group(*out)


def span(text: str, style: Style | str = "") -> Text:
    """A Text whose first span has ``style``; text appended later does not inherit it."""
    out = Text()
    out.append(text, style=style)
    return out


def clip(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` cells with an ellipsis."""
    flat = " ".join(text.split())
    if width <= 0:
        return ""
    if len(flat) <= width:
        return flat
    return flat[: max(0, width - 1)] + "…"


def pad(text: str, width: int) -> str:
    """``text`` clipped and padded to exactly ``width`` cells."""
    return clip(text, width).ljust(width)
