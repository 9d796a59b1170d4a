"""Waiting in tests: poll a check until it holds. A timeout only bounds a broken test; no speed is asserted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], what: str, *, timeout: float, interval: float) -> T:
    """Call `check` every `interval` seconds until it returns something truthy and return that; once `timeout`
    seconds have passed, fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} after {timeout:.0f}s")
        time.sleep(interval)
