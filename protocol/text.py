"""The text policy: which characters a string on the wire may hold, and how to show the rest.

Every string field of every frame is text a person may see in their terminal,
so none may carry something a terminal or a renderer would obey instead of
showing. The codec refuses, in every string field (keys, ids, names, codes,
the frame type and free text alike):

- C0 control characters U+0000 to U+001F (tab and carriage return included),
  DEL U+007F and the C1 controls U+0080 to U+009F, except LF (U+000A) in the
  fields marked multi-line (``Text(..., lines=True)``);
- lone surrogates U+D800 to U+DFFF (they cannot be valid UTF-8 on the wire; the
  check keeps in-process values honest too);
- every character with the Unicode ``Bidi_Control`` property: the embeddings
  and overrides U+202A to U+202E, the isolates U+2066 to U+2069 and the marks
  U+200E, U+200F and U+061C. They are invisible, they reorder what is shown
  around them, and they let two different names look the same; the Unicode
  bidirectional algorithm lays out right-to-left text without them;
- the line and paragraph separators U+2028 and U+2029 (a multi-line field
  breaks lines with LF only).

Everything else, including emoji with joiners and every script, is allowed.
``problem`` says what is wrong with a string; ``visible`` and ``printable``
are for showing a string that did not pass through the codec (stored data from
an older relay, a relay that is not accord's, a local file), and ``tidy`` turns
what a person typed or pasted into text the policy accepts.
"""

from __future__ import annotations

import re
from typing import Any, Final

#: Refused in every field (LF is handled by the caller, per field).
_REFUSED: Final = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f"  # C0 but LF, DEL, C1
    "\ud800-\udfff"  # lone surrogates
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # Bidi_Control
    "\u2028\u2029"  # line and paragraph separators
)
#: The first refused character of a one-line field (LF included).
ONE_LINE: Final = re.compile(f"[{_REFUSED}\n]")
#: The first refused character of a multi-line field (LF allowed).
MULTI_LINE: Final = re.compile(f"[{_REFUSED}]")

_BIDI: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _what(ch: str) -> str:
    """A name for the kind of a refused character."""
    code = ord(ch)
    if ch == "\n":
        return "line break"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "control character"
    if 0xD800 <= code <= 0xDFFF:
        return "lone surrogate"
    if ch in _BIDI:
        return "bidirectional control"
    return "line separator"


def problem(value: str, multiline: bool = False) -> str | None:
    """Why ``value`` breaks the text policy (``"control character U+001B is not allowed"``).

    None when it is fine. Fast for the common case: a printable string has
    none of the refused characters, and ``str.isprintable`` runs in C.
    """
    if value.isprintable():
        return None
    found = (MULTI_LINE if multiline else ONE_LINE).search(value)
    if found is None:
        return None
    ch = found.group()
    if ch == "\n":
        return "line break U+000A is not allowed in a one-line field"
    return f"{_what(ch)} U+{ord(ch):04X} is not allowed"


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code == 0x0A:
        return "\\n"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(value: str, multiline: bool = False) -> str:
    """``value`` with every refused character written as an escape (``\\x1b``, ``\\u202e``).

    For plain-text output such as the command line; newlines stay when
    ``multiline`` is true and become ``\\n`` otherwise.
    """
    if value.isprintable():
        return value
    return (MULTI_LINE if multiline else ONE_LINE).sub(_escape, value)


def _picture(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code == 0x0A:
        return " "
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def printable(value: str, multiline: bool = False) -> str:
    """``value`` with every refused character replaced by one visible character.

    Used where text is drawn: the length stays the same (so styled spans keep
    their places), C0 controls become their Control Pictures (ESC shows as
    ``␛``), DEL ``␡``, everything else refused ``�``. A newline stays when
    ``multiline`` is true and becomes a space otherwise.
    """
    if value.isprintable():
        return value
    return (MULTI_LINE if multiline else ONE_LINE).sub(_picture, value)


_NEWLINES: Final = re.compile("\r\n?|[\u2028\u2029\x85]")


def tidy(value: str, multiline: bool = False) -> str:
    """What a person typed or pasted, made acceptable to the policy.

    Line endings become LF (in a one-line field, lines are joined with a
    space), tabs become spaces, and every other refused character is dropped.
    """
    if value.isprintable():
        return value
    value = _NEWLINES.sub("\n", value).replace("\t", " ")
    if not multiline:
        value = " ".join(part.strip() for part in value.split("\n") if part.strip())
    return MULTI_LINE.sub("", value)


def scrub(value: Any, multiline: bool = True) -> Any:
    """A plain tree (maps, lists, scalars) with refused characters in every string made ``�``.

    For stored data written before the policy existed: a reader that cannot
    decode a stored value strictly scrubs it and decodes it again. Newlines are
    kept when ``multiline`` is true (a one-line field holding one still fails,
    so a second pass with ``multiline=False`` turns them into spaces).
    """
    pattern = MULTI_LINE if multiline else ONE_LINE

    def fix(text: str) -> str:
        return text if text.isprintable() else pattern.sub(_picture_or_space, text)

    def walk(item: Any) -> Any:
        if type(item) is str:
            return fix(item)
        if type(item) is list:
            return [walk(v) for v in item]
        if type(item) is dict:
            return {fix(k) if type(k) is str else k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


def _picture_or_space(found: re.Match[str]) -> str:
    return " " if found.group() == "\n" else "\ufffd"
