"""How much the dispatcher does while its process is busy publishing.

Sending shares the process's event loop and CPU with request handling, and each round
of the dispatcher (expand the outbox, read the due webhooks, claim) costs statements
whatever it sends. A round runs on every wake-up (each publish, each finished delivery),
so a first attempt goes out at once. "Busy" means a publish (or replay) committed in this
process woke the dispatcher within the last ``BUSY_SECONDS``; then deliveries start at
``webhook_busy_rate`` per second (a token bucket holding at most one ``ROUND_SECONDS``'
worth), and a round that used up its tokens is followed by a pause of ``ROUND_SECONDS``
(the wake-ups in it are taken together: one expansion, one due read). So publishing keeps
most of the process, a sustained load still gets deliveries at that rate (the floor), an
occasional publish is not held back, and the backlog goes out at full speed once
publishing pauses."""

from __future__ import annotations

BUSY_SECONDS = 0.25
ROUND_SECONDS = 0.1


class Pacer:
    def __init__(self, *, rate: float) -> None:
        self._rate = rate  # 0: no limit
        self._burst = max(1.0, rate * ROUND_SECONDS)
        self._tokens = self._burst
        self._busy_until = float("-inf")
        self._counted_at = 0.0

    def published(self, now: float) -> None:
        self._busy_until = now + BUSY_SECONDS

    def busy(self, now: float) -> bool:
        return self._rate > 0 and now < self._busy_until

    def allowance(self, now: float) -> int | None:
        """How many deliveries may start now; ``None``: as many as there is room for."""
        self._tokens = min(self._burst, self._tokens + (now - self._counted_at) * self._rate)
        self._counted_at = now
        if not self.busy(now):
            self._tokens = self._burst  # what was sent while idle does not count
            return None
        return int(self._tokens)

    def started(self, count: int) -> None:
        self._tokens -= count

    def next_token_in(self) -> float:
        """Seconds until the next start is allowed (while busy)."""
        return max(0.0, 1.0 - self._tokens) / self._rate if self._rate else 0.0
