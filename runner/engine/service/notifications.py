"""What the runner tells people, off the run's path: a bounded queue and one sender thread.

A run only puts a notice on the queue: a slow or dead chat service can never hold up an apply, and a full
queue drops the newest notice (logged) rather than block. Every notice passes the run's redactor before it
is queued, so a notice carries no more than the journal would.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from runner.core.secret import Redactor
from runner.drivers.notify import Level, NotifyApi

log = logging.getLogger(__name__)

Event = Literal["run_started", "run_succeeded", "run_failed", "drift_found", "window_wait", "snapshot_failed"]
EVENTS: tuple[Event, ...] = get_args(Event)
LEVELS: dict[Event, Level] = {
    "run_started": "info",
    "run_succeeded": "success",
    "run_failed": "failure",
    "drift_found": "warning",
    "window_wait": "info",
    "snapshot_failed": "failure",
}
TITLES: dict[Event, str] = {
    "run_started": "run started",
    "run_succeeded": "run succeeded",
    "run_failed": "run failed",
    "drift_found": "drift found",
    "window_wait": "waiting for a maintenance window",
    "snapshot_failed": "etcd snapshot failed",
}


@dataclass(frozen=True)
class Notice:
    event: Event
    cluster: str
    title: str
    body: str
    level: Level


class Notifications:
    """Queue notices for one sender thread; `notify` never blocks and never raises."""

    def __init__(self, sender: NotifyApi, events: Iterable[Event] = EVENTS, max_pending: int = 100) -> None:
        self._sender = sender
        self._events = frozenset(events)
        self._pending: queue.Queue[Notice | None] = queue.Queue(maxsize=max_pending)
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._loop, name="notifications", daemon=True)
        self._thread.start()

    def notify(self, event: Event, cluster: str, message: str, redactor: Redactor | Callable[[str], str]) -> None:
        if event not in self._events:
            return
        notice = Notice(event, cluster, redactor(f"{cluster}: {TITLES[event]}"), redactor(message), LEVELS[event])
        try:
            self._pending.put_nowait(notice)
        except queue.Full:
            self.dropped += 1
            log.warning("notification queue full: dropped %s for %s", event, cluster)

    def _loop(self) -> None:
        while (notice := self._pending.get()) is not None:
            try:
                ok = self._sender.send(notice.title, notice.body, notice.level)
            except Exception as exc:  # a notification target's failure is logged, never the run's problem
                log.warning("notification %s for %s failed: %s", notice.event, notice.cluster, type(exc).__name__)
                ok = False
            if ok:
                self.sent += 1
            else:
                self.failed += 1
            self._pending.task_done()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notice was handed to its targets (tests, and a clean shutdown)."""
        done = threading.Event()

        def wait_all() -> None:
            self._pending.join()
            done.set()

        threading.Thread(target=wait_all, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        try:
            self._pending.put_nowait(None)
        except queue.Full:
            return
        self._thread.join(timeout)
