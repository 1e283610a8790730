"""Layers point one way, checked from the source (after harlequin's import-hygiene test).

- ``tui/screens -> tui/dialogs -> tui/widgets``: widgets never import screens or
  dialogs (they ask through ``accord.tui.asks``); dialogs never import screens.
- The TUI reaches a relay's store only through ``accord.server.store.Store``,
  never the SQLite implementation.
- No module is over 400 lines unless its docstring says why (``Over 400 lines:``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUI = ROOT / "tui"
SOURCES = ("protocol", "server", "tui", "client", "bench", "tests")
LIMIT = 400


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, as dotted names (relative imports resolved to accord.*)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = path.parent.relative_to(ROOT).parts[: len(path.parent.parts)]
                base = ".".join(("accord", *package[: len(package) - node.level + 1], base))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """Modules in ``tui/<folder>`` importing a name under one of ``forbidden``."""
    found: dict[str, list[str]] = {}
    for path in sorted((TUI / folder).glob("*.py")):
        bad = sorted(n for n in imported(path) if n.startswith(forbidden))
        if bad:
            found[path.name] = bad
    return found


def test_widgets_import_neither_screens_nor_dialogs() -> None:
    """No module in tui/widgets imports accord.tui.screens or accord.tui.dialogs."""
    assert offenders("widgets", ("accord.tui.screens", "accord.tui.dialogs")) == {}


def test_dialogs_never_import_screens() -> None:
    """No module in tui/dialogs imports accord.tui.screens."""
    assert offenders("dialogs", ("accord.tui.screens",)) == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The import scan finds a dialog import and a relative import (so a pass means something)."""
    fake = tmp_path / "w.py"
    fake.write_text("from accord.tui.dialogs.prompt import TextPrompt\n", encoding="utf-8")
    assert "accord.tui.dialogs.prompt" in imported(fake)
    assert "accord.tui.widgets.base" in imported(TUI / "widgets" / "learn.py")
    assert "accord.client.state" in imported(ROOT / "client" / "transport.py")


def test_tui_reaches_stores_only_through_the_interface() -> None:
    """No TUI module imports the SQLite store; it goes through accord.server.store.Store."""
    users = {
        str(path.relative_to(ROOT)): sorted(n for n in imported(path) if "storage" in n)
        for path in sorted(TUI.rglob("*.py"))
    }
    assert {k: v for k, v in users.items() if v} == {}


def test_long_modules_say_why() -> None:
    """A module over 400 lines opens with a docstring that says why (``Over 400 lines:``)."""
    unexplained = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") <= LIMIT:
                continue
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Over 400 lines:" not in doc:
                unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert unexplained == []
