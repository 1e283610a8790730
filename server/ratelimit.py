"""A token bucket per connection, and the flood rule that closes with 1008."""

from __future__ import annotations

import time


class TokenBucket:
    """Allows ``rate`` frames a second on average and ``burst`` at once.

    ``strikes`` counts frames refused in a row; a connection whose strikes
    reach the flood limit is flooding and gets closed.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate", "strikes")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self.strikes = 0

    def take(self) -> bool:
        """Spend one token if there is one; True if the frame may be handled."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.strikes = 0
            return True
        self.strikes += 1
        return False
