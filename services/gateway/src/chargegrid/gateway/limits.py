"""Per-connection protection: a message-rate token bucket and a bad-frame counter.

A station that floods is slowed down (the gateway stops reading for a moment, so TCP pushes
back) rather than cut off; a station that keeps sending garbage is disconnected, because it
is broken or hostile and every bad frame costs a CALLERROR and an audit record.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._updated = self.clock()

    def take(self) -> float:
        """Take one token; return how long to wait first (0 when within the rate)."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
        self._updated = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate_per_s


@dataclass
class ViolationCounter:
    limit: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque, init=False)

    def record(self) -> bool:
        """Count one bad frame; True when the station crossed the limit within the window."""
        now = self.clock()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        return len(self._times) >= self.limit
