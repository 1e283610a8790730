"""Every environment variable the test suites read, in one place, with its default.

All names follow ``ACCORD_<SUITE>_<KNOB>``:

- ``ACCORD_CHAOS_SEED``: the chaos scenario's seed. Unset: a fixed seed (the same run
  every time, as in CI); in long mode, a random one. The seed is printed for replay.
- ``ACCORD_CHAOS_LONG``: seconds; run the chaos scenario that long, with several relay
  kills (0 or unset: the short CI run).
- ``ACCORD_FUZZ_EXAMPLES``: hypothesis examples per frame-fuzz test (default 50).
- ``ACCORD_FUZZ_MODEL_EXAMPLES``: runs of the relay state-machine fuzz (default 30).
- ``ACCORD_FUZZ_MODEL_STEPS``: steps per run of the state-machine fuzz (default 40).

A variable set to something that is not a number stops the suite with a clear error.
"""

from __future__ import annotations

import os
import random

#: The chaos seed used when none is given outside long mode (CI runs this one).
FIXED_CHAOS_SEED = 20261202


def _number(name: str, default: float) -> float:
    """The numeric value of ``name``, or ``default`` when unset or empty."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise SystemExit(f"{name}={text!r} is not a number") from None


CHAOS_LONG: float = _number("ACCORD_CHAOS_LONG", 0.0)
CHAOS_SEED: int = int(
    _number("ACCORD_CHAOS_SEED", 0)
    or (random.SystemRandom().randrange(1, 2**31) if CHAOS_LONG else FIXED_CHAOS_SEED)
)
FUZZ_EXAMPLES: int = int(_number("ACCORD_FUZZ_EXAMPLES", 50))
FUZZ_MODEL_EXAMPLES: int = int(_number("ACCORD_FUZZ_MODEL_EXAMPLES", 30))
FUZZ_MODEL_STEPS: int = int(_number("ACCORD_FUZZ_MODEL_STEPS", 40))
