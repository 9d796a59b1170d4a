"""How the runner reads a forge's replies: when to retry and after how long, and what fits in a comment.

5xx, 429 and a rate-limit 403 are `ForgeBusy` (a Transient) carrying the wait the forge asked for:
`Retry-After` seconds, else the primary rate limit's `x-ratelimit-reset` (epoch seconds) once
`x-ratelimit-remaining` is 0 (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from runner.core.errors import Transient

if TYPE_CHECKING:
    import httpx

MAX_WAIT = 3600.0  # a forge asking for a longer pause is asked again after an hour


class ForgeBusy(Transient):
    """The forge asked for a retry (5xx, 429, rate limit); `retry_after` is its wait in seconds, if it named one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a reply asks for: `Retry-After` seconds, else a primary rate limit's `x-ratelimit-reset`."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    reset = headers.get("x-ratelimit-reset", "").strip()
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return min(max(0.0, float(reset) - (time.time() if now is None else now)), MAX_WAIT)
    return None


def rate_limited(response: httpx.Response) -> bool:
    """GitHub answers a met rate limit with 403 (or 429); a permission 403 carries neither sign."""
    if response.status_code != 403:
        return False
    headers = response.headers
    return "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0" or "rate limit" in response.text


def shorten(body: str, limit: int | None, note: str) -> str:
    """`body` cut to `limit` characters with `note` at the end saying so (a comment the forge accepts)."""
    if limit is None or len(body) <= limit:
        return body
    tail = f"\n\n---\n{note}"
    return body[: limit - len(tail)].rstrip() + tail
