"""A worker waiting for work wakes when a held-back event falls due, not when its long poll times out."""

from __future__ import annotations

import time
from collections.abc import Callable

from runner.engine.service.database import open_database
from runner.engine.service.queue import RunRequest, WorkQueue

SETTLE = 0.2
LONG_POLL = 30.0  # far beyond SETTLE: returning near it would mean the held-back event waited it out


def request(cluster: str) -> RunRequest:
    return RunRequest(cluster=cluster, commit="a" * 40, ref="refs/heads/main", trigger="push", mode="apply", repo="o/r")


def test_wait_ends_when_a_settling_item_falls_due(fresh_store: Callable[[], str]) -> None:
    queue = WorkQueue(open_database(fresh_store()))
    queue.enqueue(request("home"), settle=SETTLE)
    queue.arm()
    assert queue.claim("w") is None  # still settling
    started = time.monotonic()
    queue.wait(LONG_POLL)
    assert time.monotonic() - started < LONG_POLL / 3
    assert queue.claim("w") is not None


def test_an_item_blocked_by_a_running_run_does_not_make_wait_spin(fresh_store: Callable[[], str]) -> None:
    queue = WorkQueue(open_database(fresh_store()))
    queue.enqueue(request("home"))
    assert queue.claim("w1") is not None  # running
    queue.enqueue(request("home"))  # due, but single flight keeps it back
    queue.arm()
    started = time.monotonic()
    queue.wait(0.5)
    assert time.monotonic() - started >= 0.4  # slept: nothing could be claimed
