"""GitHub's REST rate limits, as the twin enforces them, and the twin's injectable outage.

Primary limit: a budget of requests per token per window; past it GitHub answers 403 (or 429) with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds) and a retry must wait for the reset.
Secondary limit: 403 (or 429) with a message naming it and `retry-after` seconds.
(docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api, "Exceeding the rate limit".)
Gitea has no API rate limit of its own, so its routes only meet the outage.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

PRIMARY_MESSAGE = "API rate limit exceeded for user ID {uid}."
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out"
    " to GitHub Support for help, please include the request ID."
)


@dataclass
class Refusal:
    code: int
    message: str
    headers: dict[str, str]


@dataclass
class RateLimits:
    limit: int = 5000  # GitHub's budget for a personal access token per hour
    window: float = 3600.0
    secondary_for: float = 0.0  # when set, the next request starts a secondary limit of this many seconds
    used: dict[str, int] = field(default_factory=dict)
    resets: dict[str, float] = field(default_factory=dict)
    secondary_until: float = 0.0
    outage_until: float = 0.0  # fault injection: every API route answers 503 until then
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, *, limit: int | None = None, window: float | None = None, secondary: float = 0.0) -> None:
        with self.lock:
            if limit is not None:
                self.limit = limit
            if window is not None:
                self.window = window
            self.used.clear()
            self.resets.clear()
            self.secondary_for = secondary

    def outage(self, seconds: float) -> None:
        self.outage_until = time.time() + seconds

    def down(self) -> bool:
        return time.time() < self.outage_until

    def github(self, login: str, uid: int) -> tuple[Refusal | None, dict[str, str]]:
        """Count one request of `login`: the refusal GitHub would answer once a limit is met (else None), and the
        `x-ratelimit-*` headers every reply carries."""
        now = time.time()
        with self.lock:
            if self.secondary_for:
                self.secondary_until, self.secondary_for = now + self.secondary_for, 0.0
            if now < self.secondary_until:
                wait = str(max(1, math.ceil(self.secondary_until - now)))
                return Refusal(403, SECONDARY_MESSAGE, {"retry-after": wait}), {}
            if now >= self.resets.get(login, 0.0):
                self.resets[login], self.used[login] = now + self.window, 0
            self.used[login] += 1
            reset = self.resets[login]
            headers = {
                "x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(max(0, self.limit - self.used[login])),
                "x-ratelimit-used": str(min(self.used[login], self.limit)),
                "x-ratelimit-reset": str(math.ceil(reset)),
                "x-ratelimit-resource": "core",
            }
            if self.used[login] > self.limit:
                return Refusal(403, PRIMARY_MESSAGE.format(uid=uid), headers), headers
        return None, headers
