"""Polling with a deadline: how steps wait for nodes to boot, etcd to grow and Flux to settle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from runner.core.errors import Permanent, Transient

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    poll: float = 1.0,
    cancel: threading.Event | None = None,
) -> T:
    """Call `check` until it returns something truthy; Transient errors count as "not yet".

    Timing out is Permanent: the step has already waited as long as the operator allowed, and retrying it
    would only multiply the wait. The message says what was awaited and the last thing seen.
    """
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            value = check()
            if value:
                return value
        except Transient as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            raise Permanent(f"{what}: not reached within {timeout:.0f}s" + (f" (last error: {last})" if last else ""))
        if cancel is not None and cancel.wait(poll):
            raise Permanent(f"{what}: cancelled")
        if cancel is None:
            time.sleep(poll)
