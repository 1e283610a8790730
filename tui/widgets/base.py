"""The base of every board widget: it holds a ``Context`` and theme-aware text styles.

A board part draws like any Textual widget (``render`` returns its lines as a
``Group``), but it keeps the strips of each line and, when ``show`` hands it a
new session, repaints only the lines whose text changed: one ballot on a big
board then repaints a row of the matrix, not every panel on screen. Every line
is made printable on its way (control and bidi characters shown, never obeyed)
and is never parsed as markup.
"""

from __future__ import annotations

import time
from typing import ClassVar, Generic, NamedTuple, Self, TypeVar

from accord.protocol.commands import Command
from accord.protocol.text import printable
from accord.tui.asks import Asks
from accord.tui.context import Context
from accord.tui.messages import Submit
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import RichVisual, Visual, visualize
from textual.widget import Widget

K = TypeVar("K")

#: Seconds a value sent stays "on its way" before the session's own value counts again.
IN_FLIGHT_SECONDS = 5.0


class InFlight(Generic[K]):
    """Values this board sent and has not seen back from the relay yet.

    Quick presses must add up: the third ``+`` before any ack starts from the second
    press's value, not from the session's stale one (as dot presses do).
    """

    def __init__(self) -> None:
        self._sent: dict[K, tuple[int, float]] = {}

    def value(self, key: K, seen: int) -> int:
        """The value to build on: the one last sent while it is on its way, else ``seen``."""
        sent = self._sent.get(key)
        if sent is None:
            return seen
        value, at = sent
        if value == seen or time.monotonic() - at > IN_FLIGHT_SECONDS:
            del self._sent[key]
            return seen
        return value

    def sent(self, key: K, value: int) -> None:
        """Note that ``value`` was sent for ``key``."""
        self._sent[key] = (value, time.monotonic())


class _Drawn(NamedTuple):
    """What a part last drew: its lines as strips, for a size and base style."""

    size: Size
    style: VisualStyle
    lines: list[Strip]


def _line_key(item: RenderableType) -> object:
    """What decides how a ``Text`` line looks (None: not cacheable)."""
    if not isinstance(item, Text):
        return None
    spans = tuple(item.spans)
    return (item.plain, item.style, spans, item.justify, item.overflow, item.no_wrap, item.end)


class BoardPart(Widget):
    """A widget drawn from the session; ``show`` hands it a new ``Context``.

    Styles come from component classes in ``base.tcss`` so they follow the theme.
    """

    #: The last drawing; None until the next paint draws everything again.
    _drawn: _Drawn | None = None
    #: Strips of each line of the last drawing, by the line's text and styles.
    _line_strips: dict[object, list[Strip]] | None = None
    _line_strips_for: tuple[int, VisualStyle] | None = None
    #: Component styles looked up during one ``render`` (None outside one).
    _st_memo: dict[str, Style] | None = None

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

    #: Width of a lane for clicks (0: the part has one column of items).
    click_lane_w = 0

    def note_click(self, y: int, index: int, lane: int = 0) -> None:
        """While drawing: a click on line ``y`` (of ``lane``) picks item ``index``."""
        self._click_rows[(lane, y)] = index

    def select_at(self, lane: int, index: int) -> None:
        """Move the cursor to item ``index``; parts with lanes override this."""
        setattr(self, "row", index)  # noqa: B010  (each clickable part has a ``row``)

    def on_click(self, event: events.Click) -> None:
        """A click on an item selects it and opens it in full (the part's ``detail`` action)."""
        lane = event.x // self.click_lane_w if self.click_lane_w else 0
        index = self._click_rows.get((lane, event.y))
        if index is not None:
            self.select_at(lane, index)
            self.call_after_refresh(self.run_action, "detail")

    def submit_if_confirmed(self, command: Command, question: str, detail: str, yes: str) -> None:
        """Ask first (the safe answer is the default) and send ``command`` only on yes."""

        def done(answer: bool | None) -> None:
            if answer:
                self.post_message(Submit(command))

        self.asks.ask_confirm(question, done, detail, yes)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.ctx: Context | None = None
        #: Values sent and not yet back (weights, counts), so quick presses add up.
        self.in_flight: InFlight[object] = InFlight()
        self._click_rows: dict[tuple[int, int], int] = {}

    @property
    def asks(self) -> Asks:
        """The screen this part is on, which opens dialogs for it (widgets import none)."""
        screen = self.screen
        assert isinstance(screen, Asks)  # board parts only live on the board screen
        return screen

    def show(self, ctx: Context) -> None:
        """Take a new look at the session and repaint what changed."""
        self.ctx = ctx
        self.repaint_changed()

    def repaint_changed(self) -> None:
        """Draw now and repaint only the lines that differ from the last drawing.

        A hidden part (another phase's panel) only forgets its drawing; it draws
        when it is shown again.
        """
        drawn = self._drawn
        if (
            drawn is None
            or not self.display
            or drawn.size != self.size
            or drawn.style != self.visual_style
        ):
            self.refresh()
            return
        new = self._draw()
        self._drawn = new
        old, lines = drawn.lines, new.lines
        changed = [y for y, strip in enumerate(lines) if y >= len(old) or strip is not old[y]]
        changed.extend(range(len(lines), len(old)))  # lines that are blank now
        regions: list[Region] = []
        for y in changed:
            last = regions[-1] if regions else None
            if last is not None and last.bottom == y:
                regions[-1] = Region(0, last.y, new.size.width, last.height + 1)
            else:
                regions.append(Region(0, y, new.size.width, 1))
        if regions:
            self.refresh(*regions)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """As ``Widget.refresh``; a repaint of the whole part draws it again."""
        if repaint and not regions:
            self._drawn = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_line(self, y: int) -> Strip:
        """One line of the drawing (drawn again first if the size or base style changed)."""
        drawn = self._drawn
        if drawn is None or drawn.size != self.size or drawn.style != self.visual_style:
            drawn = self._drawn = self._draw()
        if y < len(drawn.lines):
            return drawn.lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _draw(self) -> _Drawn:
        """``render`` to strips, reusing the strips of lines drawn before unchanged."""
        size, style = self.size, self.visual_style
        width, height = size
        self._st_memo = {}
        self._click_rows = {}
        try:
            renderable = self.render()
        finally:
            self._st_memo = None
        if not isinstance(renderable, Group):
            if isinstance(renderable, Text):
                _make_printable(renderable)
            visual = visualize(self, renderable, markup=False)
            lines = Visual.to_strips(self, visual, width, height, style)
            return _Drawn(size, style, lines)
        reuse = self.text_selection is None
        known = self._line_strips if reuse and self._line_strips_for == (width, style) else None
        cache: dict[object, list[Strip]] = {}
        lines = []
        for item in renderable.renderables:
            if len(lines) >= height:
                break
            if isinstance(item, Text):
                _make_printable(item)
            key = _line_key(item) if reuse else None
            strips = known.get(key) if known is not None and key is not None else None
            if strips is None:
                strips = Visual.to_strips(self, RichVisual(self, item), width, None, style)
            if key is not None:
                cache[key] = strips
            lines.extend(strips)
        self._line_strips, self._line_strips_for = cache, (width, style)
        return _Drawn(size, style, lines[:height])

    def st(self, name: str) -> Style:
        """The Rich style of a component class (``cursor``, ``dim``, ``good``, ...)."""
        memo = self._st_memo
        if memo is None:
            return self.get_component_rich_style(f"board--{name}", partial=True)
        style = memo.get(name)
        if style is None:
            style = memo[name] = self.get_component_rich_style(f"board--{name}", partial=True)
        return style

    def styled(self, text: str, name: str) -> Text:
        """``text`` in the style of a component class (later appends keep their own style)."""
        return span(text, self.st(name))

    def own(self, text: str, width: int, sent: bool) -> Text:
        """Your own answer padded to ``width``; one still on its way to the relay is
        underlined and ends with ``·`` until the relay confirms it."""
        if not sent:
            return Text(pad(text, width), style=self.st("good"))
        return Text(pad(text + "·", width), style=self.st("good") + Style(underline=True))

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


def _make_printable(line: Text) -> None:
    """Replace control and bidi characters in a drawn line with visible ones, in place.

    The one place every board line passes before it reaches the terminal: text
    from a relay that is not accord's (or any bug) can never move the cursor,
    set the title or flip the direction of what follows. Same length, so styled
    spans stay where they were.
    """
    plain = line.plain
    if not plain.isprintable():
        line.plain = printable(plain)


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
