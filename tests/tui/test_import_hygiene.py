"""The demo, guide and config modules load without Textual (the bench reuses them)."""

from __future__ import annotations

import subprocess
import sys


def test_client_side_core_does_not_import_textual() -> None:
    """Importing the demo, guide, config and context modules never loads ``textual``."""
    code = (
        "import sys\n"
        "import accord.tui.demo, accord.tui.guide, accord.tui.config\n"
        "import accord.tui.context\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
