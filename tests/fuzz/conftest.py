"""Set-up for the fuzz tests: one live relay per module, on a loop in its own thread.

Hypothesis drives tests synchronously, so the relay and every client run on an
event loop in a background thread and the tests call into it with
``live.run(coroutine)``. The helpers live in ``fuzz_support`` next to this
file; the chaos helpers' invariant checks and ``bench.wire`` are reused.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent / "chaos"), str(_HERE.parent.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fuzz_support import Live  # noqa: E402 - needs the path set above


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A relay on 127.0.0.1 port 0 (fresh data dir) serving from a background loop."""
    live = Live(tmp_path_factory.mktemp("fuzz-relay"))
    live.start()
    try:
        yield live
    finally:
        live.stop()
