"""Safe Markdown from user text: nothing a member types can change a document's structure.

``inline`` flattens a field to one line and escapes every character that
CommonMark (or inline HTML) could read as markup; ``block`` keeps the lines
of a long field as a quoted block, each line escaped the same way. Both are
used for every user field of the decision record.
"""

from __future__ import annotations

import re

#: ASCII punctuation that can start or end Markdown or HTML inside a line. Every one
#: of them may be backslash-escaped in CommonMark, and then stands for itself.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!&{}()$^])")
#: What makes a line a heading, list item, quote, rule or setext underline at its start.
_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")


def _escape(text: str) -> str:
    out = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], out)


def inline(text: str) -> str:
    """One line of plain text: whitespace (newlines included) collapsed, markup escaped."""
    return _escape(" ".join(text.split()))


def cell(text: str, empty: str = "-") -> str:
    """A table cell: ``inline`` text, or ``empty`` when there is none."""
    return inline(text) or empty


def block(text: str, empty: str = "_(none)_") -> list[str]:
    """A multi-line field as a quoted block (``> `` lines), each line escaped."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return [empty]
    return [f"> {_escape(line)}" if line else ">" for line in lines]


def field(label: str, text: str, empty: str) -> list[str]:
    """A ``- Label: value`` list item; a multi-line value follows as a quoted block."""
    if len(text.strip().splitlines()) > 1:
        return [f"- {label}:", "", *block(text), ""]
    return [f"- {label}: {inline(text) or empty}"]
