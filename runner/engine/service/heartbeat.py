"""A replica's heartbeat: it keeps its queue claims and leases alive, and notices the leases it lost.

Every third of a lease it renews what this replica holds. A replica that is killed stops renewing: its
claims and leases run out and another replica takes the work (the queue's `requeue_orphans`, a new lease
with a higher fencing token). One that only stalls finds out here, or, at the latest, before its next
step, where the run asks `still_ours` of the database itself.
"""

from __future__ import annotations

import logging
import threading

from runner.engine.service.database import STORE_ERRORS
from runner.engine.service.leases import Lease, Leases
from runner.engine.service.queue import WorkQueue

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, queue: WorkQueue, leases: Leases, owner: str) -> None:
        self.queue, self.leases, self.owner = queue, leases, owner
        self._held: set[Lease] = set()
        self._lost: set[Lease] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    # --- a cluster's runs: one replica at a time ------------------------------------------------------
    def hold(self, name: str) -> Lease | None:
        """Take the lease `name` for a run (None: another replica holds it)."""
        lease = self.leases.acquire(name, self.owner)
        if lease is not None:
            with self._guard:
                self._held.add(lease)
                self._lost.discard(lease)
        return lease

    def let_go(self, lease: Lease) -> None:
        with self._guard:
            self._held.discard(lease)
            lost = lease in self._lost
            self._lost.discard(lease)
        if not lost:
            self.leases.release(lease)

    def lost(self, lease: Lease) -> bool:
        """What the last beat found (cheap: for the cancellation watch, several times a second)."""
        with self._guard:
            return lease in self._lost

    def still_ours(self, lease: Lease) -> bool:
        """Asked of the database before each step: the fencing check itself."""
        if self.lost(lease) or self._stop.is_set():
            return False
        if self.leases.holds(lease):
            return True
        with self._guard:
            self._lost.add(lease)
        return False

    # --- duties: the drift timer, the forge outbox -----------------------------------------------------
    def duty(self, name: str) -> bool:
        """Is this replica the one doing `name` now? Takes the duty when it is free, keeps it while held."""
        try:
            return self.leases.acquire(f"duty:{name}", self.owner) is not None
        except STORE_ERRORS as exc:
            log.warning("duty %s: database error: %s", name, exc)
            return False

    # --- the beat --------------------------------------------------------------------------------------
    def beat(self) -> None:
        self.queue.renew(self.owner)
        self.leases.renew(self.owner)
        with self._guard:
            held = list(self._held - self._lost)
        for lease in held:
            if not self.leases.holds(lease):
                log.warning("lost the lease %s (token %d): its run stops before its next step", lease.name, lease.token)
                with self._guard:
                    self._lost.add(lease)

    def _loop(self) -> None:
        interval = max(0.05, self.leases.seconds / 3)
        while not self._stop.wait(interval):
            try:
                self.beat()
            except STORE_ERRORS as exc:  # not renewed this time: the next beat tries again, within the lease
                log.warning("heartbeat: database error: %s", exc)
            except Exception:
                log.exception("heartbeat: unexpected error; continuing")
