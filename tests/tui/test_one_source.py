"""One source of truth: the board asks ``protocol/`` for rules, it never keeps its own copy.

The role tables (who votes, who contributes), the phase-to-vote-kind map and
role checks live in ``protocol/checks.py`` and are asked through
``protocol/permissions.py``. This test reads every module of ``tui/`` and fails
when one defines such a table or compares a role by name.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from accord.protocol.model import PHASES
from accord.protocol.permissions import VOTE_PHASE

TUI = Path(__file__).resolve().parents[2] / "tui"
ROLES = {"facilitator", "participant", "partner", "observer"}
KINDS = set(VOTE_PHASE)
#: Names of the protocol's rule tables; a tui module must import them, never assign them.
TABLE_NAMES = {"VOTERS", "CONTRIBUTORS", "FACILITATOR", "VOTE_PHASE", "VOTE_OF_PHASE"}
#: Things whose ``role`` is a recorded fact to show, not a permission (a note says who wrote it).
RECORDED_ROLES = {"note"}


def _strings(nodes: Sequence[ast.expr | None]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _compared(node: ast.Compare, left: ast.Attribute) -> str:
    """``a role compared by name`` or ``an author check`` when the comparison is one."""
    owner = left.value.id if isinstance(left.value, ast.Name) else ""
    comparators = list(node.comparators)
    if left.attr == "role" and owner not in RECORDED_ROLES:
        listed = any(isinstance(c, ast.Tuple | ast.Set | ast.List) for c in comparators)
        if listed or ROLES.intersection(_strings(comparators)):
            return "a role compared by name"
    if left.attr == "author" and any(isinstance(op, ast.NotEq) for op in node.ops):
        return "an author check"
    return ""


def copied_rules(source: str) -> list[str]:
    """What in ``source`` looks like a copied role set, phase map, role or author check."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Set | ast.Tuple | ast.List):
            if len(ROLES.intersection(_strings(list(node.elts)))) >= 2:
                found.append(f"line {line}: a set of role names")
        elif isinstance(node, ast.Dict):
            keys, values = _strings(list(node.keys)), _strings(list(node.values))
            if len(set(keys) & set(PHASES)) >= 2 and set(values) <= KINDS and values:
                found.append(f"line {line}: a phase-to-vote-kind map")
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute):
            what = _compared(node, node.left)
            if what:
                found.append(f"line {line}: {what}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in TABLE_NAMES:
                    found.append(f"line {line}: defines the rule table {target.id}")
    return found


def test_tui_keeps_no_copy_of_a_rule() -> None:
    """No module under tui/ defines a role set, a phase map, a role or author check."""
    modules = sorted(TUI.rglob("*.py"))
    assert len(modules) > 20  # the walk found the board's modules
    problems = [
        f"{path.relative_to(TUI.parent)} {what}"
        for path in modules
        for what in copied_rules(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "ask accord.protocol.permissions instead:\n" + "\n".join(problems)


def test_the_check_finds_each_kind_of_copy() -> None:
    """The scan flags each copied rule it is meant to catch, and not an import from protocol."""
    copies = {
        'CAN = ("facilitator", "participant")': "a set of role names",
        'KINDS = {"learn": "dots", "needs": "classify"}': "a phase-to-vote-kind map",
        'ok = member.role == "partner"': "a role compared by name",
        'ok = m.role in ("facilitator", "participant")': "a set of role names",
        "ok = card.author != me": "an author check",
        "VOTERS = frozenset()": "defines the rule table VOTERS",
    }
    for source, what in copies.items():
        assert any(what in found for found in copied_rules(source)), source
    assert copied_rules("from accord.protocol.permissions import VOTERS, can_vote\n") == []
