"""Shared set-up for the protocol tests: makes ``protocol_support`` importable.

pytest runs with ``--import-mode=importlib`` and there is no ``tests/__init__.py``,
so test modules cannot import each other; the helpers live in one plain module
next to this file, put on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
