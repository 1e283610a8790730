"""Token buckets: per connection (the flood rule that closes with 1008) and per address."""

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

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def refund(self) -> None:
        """Give one token back (never above the burst)."""
        self._refill()
        self._tokens = min(self.burst, self._tokens + 1.0)

    def full(self) -> bool:
        """True when the bucket has refilled completely (it can be forgotten)."""
        self._refill()
        return self._tokens >= self.burst

    def wait(self) -> float:
        """Seconds until one token is available."""
        self._refill()
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate


class AddressBuckets:
    """One token bucket per client address, for things that cost the relay (creates, ...).

    Buckets that have refilled are forgotten, so the map stays as small as the set
    of addresses that spent something recently (and never above ``max_addresses``).
    """

    def __init__(self, per_minute: float, burst: int, max_addresses: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._max = max_addresses
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, address: str) -> bool:
        """Spend one token for ``address``; False if it has none left."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._prune()
            bucket = self._buckets[address] = TokenBucket(self.rate, self.burst)
        return bucket.take()

    def give_back(self, address: str) -> None:
        """Return a token spent on something that turned out to cost nothing (a retry)."""
        bucket = self._buckets.get(address)
        if bucket is not None:
            bucket.refund()

    def wait(self, address: str) -> float:
        """Seconds until ``address`` has a token again (0 if it has one)."""
        bucket = self._buckets.get(address)
        return 0.0 if bucket is None else bucket.wait()

    def _prune(self) -> None:
        full = [a for a, b in self._buckets.items() if b.full()]
        for address in full:
            del self._buckets[address]
        if len(self._buckets) >= self._max:  # all busy: forget the oldest half
            for address in list(self._buckets)[: self._max // 2]:
                del self._buckets[address]
