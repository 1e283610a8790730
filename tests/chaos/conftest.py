"""Set-up for the chaos scenario: makes ``chaos_support`` and the repo's ``bench`` importable.

pytest runs with ``--import-mode=importlib`` and there is no ``tests/__init__.py``,
so the helpers live in a plain module next to this file, put on ``sys.path`` here.
``bench`` (the relay subprocess helpers) lives at the repository root, and
``redis_support`` (a redis-server for the multi-relay scenario) in tests/stores.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent.parent), str(_HERE.parent / "stores")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
