"""Timers that queue work without a webhook: periodic drift reconcile and the remote-head poll fallback.

With several replicas only the holder of the timers' lease (`duty`) fires them: drift runs once, not once each."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from runner.core.errors import RunnerError
from runner.drivers.git import GitAuth, remote_heads
from runner.engine.service.database import STORE_ERRORS, Database
from runner.engine.service.queue import ANY_CLUSTER, RunRequest, WorkQueue

log = logging.getLogger(__name__)
LAST_SEEN_HEAD = "last_seen_head"  # kv key: the branch head we last queued work for
RETRY_SECONDS = 5.0  # a timer that met a database error runs again this soon


class Scheduler:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        db: Database,
        url: str,
        auth: GitAuth,
        branch: str,
        repo: str,
        drift_interval: float,
        poll_interval: float,
        duty: Callable[[], bool] | None = None,
    ) -> None:
        self.queue, self.db, self.url, self.auth = queue, db, url, auth
        self.branch, self.repo = branch, repo
        self.drift_interval, self.poll_interval = drift_interval, poll_interval
        self.duty = duty  # asked as a timer falls due: is this replica the one that fires the timers?
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    @property
    def enabled(self) -> bool:
        return self.drift_interval > 0 or self.poll_interval > 0

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def alive(self) -> bool:
        return not self.enabled or self._thread.is_alive()

    def _loop(self) -> None:
        now = time.monotonic()
        next_poll = now if self.poll_interval > 0 else float("inf")  # poll at once: pushes missed while down
        next_drift = now + self.drift_interval if self.drift_interval > 0 else float("inf")
        while not self._stop.wait(max(0.0, min(next_poll, next_drift) - time.monotonic())):
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + (self.poll_interval if self._survive(self.poll) else RETRY_SECONDS)
            if now >= next_drift:
                next_drift = now + (self.drift_interval if self._survive(self.drift) else RETRY_SECONDS)

    def _survive(self, timer: Callable[[], object]) -> bool:
        """Run one timer; a database error (locked, full) means "try again soon", never a dead thread."""
        try:
            if self.duty is None or self.duty():
                timer()
            return True
        except STORE_ERRORS as exc:
            log.warning("%s: database error, retrying in %ss: %s", timer.__name__, RETRY_SECONDS, exc)
            return False

    def drift(self) -> None:
        """Reconcile every cluster at the branch head, changed or not (that is how drift gets corrected)."""
        request = RunRequest(
            cluster=ANY_CLUSTER, commit="", ref=self.branch, trigger="drift", mode="apply", repo=self.repo
        )
        self.queue.enqueue(request, every_cluster=True)

    def poll(self) -> bool:
        """Queue the branch head if it moved since we last saw it; True when something was queued."""
        try:
            heads = remote_heads(self.url, self.auth)
        except RunnerError as exc:
            log.warning("poll of the repository failed: %s", exc)
            return False
        head = heads.get(f"refs/heads/{self.branch}")
        if head is None or head == self.db.get(LAST_SEEN_HEAD):
            return False
        request = RunRequest(
            cluster=ANY_CLUSTER,
            commit=head,
            ref=f"refs/heads/{self.branch}",
            trigger="poll",
            mode="apply",
            repo=self.repo,
        )
        self.queue.enqueue(request)
        self.db.put(LAST_SEEN_HEAD, head)  # only once it is queued: a failed enqueue is polled again
        return True
