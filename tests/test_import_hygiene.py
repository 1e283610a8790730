"""The pure core imports no I/O framework (after harlequin's import-hygiene test)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import accord.protocol

FORBIDDEN = ("asyncio", "websockets", "textual")


def _protocol_modules() -> list[str]:
    """Every module of ``accord.protocol``, found on disk so a new one is never missed."""
    return ["accord.protocol"] + [
        f"accord.protocol.{info.name}" for info in pkgutil.iter_modules(accord.protocol.__path__)
    ]


def test_protocol_has_the_modules_architecture_lists() -> None:
    """The module list this test imports is found on disk, not typed by hand."""
    modules = set(_protocol_modules())
    expected = {"codec", "rules", "reducer", "views", "results", "record", "schema", "model"}
    assert {f"accord.protocol.{name}" for name in expected} <= modules


def test_protocol_imports_no_io_frameworks() -> None:
    """Importing accord.protocol and every submodule loads no asyncio, websockets or textual."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {_protocol_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []
