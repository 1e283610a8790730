"""The network client is a library: it never loads Textual, and its state machine does no I/O."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import accord.client.state


def _loaded_after(imports: str) -> list[str]:
    """Top-level packages loaded by a fresh interpreter after ``imports``."""
    listing = "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    script = f"import json, sys\n{imports}\n{listing}\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(done.stdout))


def test_client_never_loads_textual() -> None:
    """``import accord.client`` (transport included) leaves ``textual`` unloaded."""
    loaded = _loaded_after("import accord.client, accord.client.transport")
    assert "accord" in loaded and "websockets" in loaded  # the import did happen
    assert "textual" not in loaded and "rich" not in loaded


def test_state_machine_imports_no_io() -> None:
    """``accord.client.state`` imports only the protocol core and plain standard modules."""
    tree = ast.parse(Path(accord.client.state.__file__).read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    outside = {n for n in names if not n.startswith("accord.protocol")}
    assert outside <= {"__future__", "dataclasses", "itertools", "secrets", "typing"}, outside
