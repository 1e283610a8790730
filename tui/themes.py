"""accord's own themes, offered with Textual's in the palette's theme picker.

``accord-mono`` uses greys only (for monochrome terminals and for people who turn
colour off); ``accord-colour-safe`` keeps good and bad apart for the common kinds of
colour blindness (the Okabe-Ito palette: blue against vermillion, never green against
red). The board never relies on colour alone: every state also has a symbol.
"""

from __future__ import annotations

from textual.theme import Theme

MONOCHROME = Theme(
    name="accord-mono",
    primary="#e0e0e0",
    secondary="#bdbdbd",
    accent="#ffffff",
    warning="#d0d0d0",
    error="#ffffff",
    success="#c8c8c8",
    foreground="#f0f0f0",
    background="#000000",
    surface="#121212",
    panel="#262626",
    dark=True,
)

COLOUR_SAFE = Theme(
    name="accord-colour-safe",
    primary="#56b4e9",
    secondary="#cc79a7",
    accent="#e69f00",
    warning="#f0e442",
    error="#d55e00",
    success="#0072b2",
    foreground="#f2f2f2",
    background="#101418",
    surface="#182028",
    panel="#223040",
    dark=True,
)

THEMES = (MONOCHROME, COLOUR_SAFE)
