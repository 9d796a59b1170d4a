"""Timers across replicas: the drift and poll timers fire on the one replica holding the `timers` duty, never on
each, and another replica takes the duty over once its holder stops renewing it."""

from __future__ import annotations

from collections.abc import Callable

from runner.drivers.git import GitAuth
from runner.engine.service.database import open_database
from runner.engine.service.heartbeat import Heartbeat
from runner.engine.service.leases import Leases
from runner.engine.service.queue import WorkQueue
from runner.server.scheduler import Scheduler


def replica(url: str, owner: str) -> tuple[Scheduler, list[str]]:
    db = open_database(url)
    queue = WorkQueue(db, lease_seconds=30)
    heartbeat = Heartbeat(queue, Leases(db, seconds=30), owner)
    scheduler = Scheduler(
        queue=queue, db=db, url="", auth=GitAuth(), branch="main", repo="o/r",
        drift_interval=60, poll_interval=0, duty=lambda: heartbeat.duty("timers"),
    )  # fmt: skip
    fired: list[str] = []
    return scheduler, fired


def test_the_drift_timer_fires_on_one_replica_and_moves_when_its_holder_stops(
    fresh_store: Callable[[], str],
) -> None:
    url = fresh_store()
    (a, fired_a), (b, fired_b) = replica(url, "replica-a"), replica(url, "replica-b")
    for _ in range(5):  # the timer falls due on both replicas, five times
        assert a._survive(lambda: fired_a.append("drift"))
        assert b._survive(lambda: fired_b.append("drift"))
    assert (fired_a, fired_b) == (["drift"] * 5, [])
    open_database(url).execute("UPDATE leases SET expires_at = 0")  # replica-a stopped renewing long ago
    assert b._survive(lambda: fired_b.append("drift"))
    assert a._survive(lambda: fired_a.append("drift"))
    assert (len(fired_a), fired_b) == (5, ["drift"])
