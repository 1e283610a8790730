"""Set-up for the fuzz tests: one live relay per module, on a loop in its own thread.

Hypothesis drives tests synchronously, so the relay and every client run on an
event loop in a background thread and the tests call into it with
``live.run(coroutine)``. The helpers live in ``fuzz_support`` next to this
file; the chaos helpers' invariant checks and ``bench.wire`` are reused (all on
the path through ``pythonpath`` in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzz_support import Live


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A relay on 127.0.0.1 port 0 (fresh data dir) serving from a background loop."""
    live = Live(tmp_path_factory.mktemp("fuzz-relay"))
    live.start()
    try:
        yield live
    finally:
        live.stop()
