"""Leases with fencing tokens, on both stores: one holder at a time, a new holder's token is higher, and a holder
that stopped renewing finds out that it no longer holds its lease."""

from __future__ import annotations

from collections.abc import Callable

from runner.engine.service.database import open_database
from runner.engine.service.leases import Leases
from runner.engine.service.queue import RunRequest, WorkQueue


def test_one_holder_then_a_higher_token_after_expiry(fresh_store: Callable[[], str]) -> None:
    db = open_database(fresh_store())
    leases = Leases(db, seconds=30)
    a = leases.acquire("cluster:home", "replica-a")
    assert a is not None and a.token == 1
    assert leases.acquire("cluster:home", "replica-b") is None  # held and live
    assert leases.acquire("cluster:home", "replica-a") == a  # renewed: the same token
    db.execute("UPDATE leases SET expires_at = 0")  # replica-a stopped renewing long ago
    assert leases.renew("replica-a") == 0  # too late: an expired lease is not renewed
    b = leases.acquire("cluster:home", "replica-b")
    assert b is not None and b.token == 2
    assert (leases.holds(a), leases.holds(b)) == (False, True)
    leases.release(b)
    assert leases.acquire("cluster:home", "replica-a").token == 3  # type: ignore[union-attr]


def test_a_claim_whose_owner_stopped_renewing_goes_back_to_the_queue(fresh_store: Callable[[], str]) -> None:
    url = fresh_store()
    queue = WorkQueue(open_database(url), lease_seconds=30)
    request = RunRequest(cluster="home", commit="", ref="refs/heads/main", trigger="drift", mode="apply", repo="o/r")
    queue.enqueue(request)
    item = queue.claim("replica-a")
    assert item is not None
    other = WorkQueue(open_database(url), lease_seconds=30)  # a second replica on the same store
    assert other.claim("replica-b") is None  # single flight: home is running
    assert other.requeue_orphans() == []  # replica-a's claim is live
    assert queue.renew("replica-a") == 1
    queue.db.execute("UPDATE queue SET lease_until = 0")  # replica-a died: no heartbeat renewed it
    assert other.requeue_orphans() == [("home", "replica-a")]
    taken = other.claim("replica-b")
    assert taken is not None and taken.id == item.id
    assert not queue.done(item, "replica-a")  # the stale owner can no longer complete it
    assert other.done(taken, "replica-b")
