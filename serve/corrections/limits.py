"""How often one client may send corrections: CORRECTIONS_PER_MINUTE per client address.

A token bucket per address: a client may send the whole minute's allowance at once, then
one more each 60/N seconds. The addresses live in this process's memory only, for a
minute after their last request, and are never stored. Each worker process counts for
itself, so with W workers a client that reaches several of them may send up to W times
the allowance; the limit is there to stop a runaway script, not to meter people.
"""

from __future__ import annotations

import time

WINDOW = 60  # seconds: an idle client's bucket is full again after this


class RateLimit:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = per_minute
        self.rate = per_minute / WINDOW  # tokens regained per second
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)
        self.swept = clock()

    def wait(self, client: str) -> float:
        """0 when ``client`` may go on (counting this request), else the seconds until
        it may. No limit when per_minute is 0."""
        if not self.capacity:
            return 0
        now = self.clock()
        self.sweep(now)
        tokens, then = self.buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1, now)
        return 0

    def sweep(self, now: float) -> None:
        """Forget, once a minute, the clients whose bucket has filled up again: forgetting
        them changes nothing, and the table holds only the last minute's clients."""
        if now - self.swept < WINDOW:
            return
        self.swept = now
        self.buckets = {
            client: bucket for client, bucket in self.buckets.items() if now - bucket[1] < WINDOW
        }
