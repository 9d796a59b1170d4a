"""Durable work queue (SQLite or PostgreSQL): coalescing per cluster, single-flight, safe across restarts.

An item's key is (cluster, mode, pr): a new event for a key that already has a *pending* item joins
that item instead of adding one, so a burst of pushes costs at most one run in flight plus one pending.
Joining never drops an event: the item keeps every event's `Ask` (delivery id, commit) in arrival
order. What an apply item applies is not decided here but when it is claimed: the protected branch's
head as fetched then (the worker's `branch_head`), so arrival order can never make an older commit win.
A PR plan item plans the PR head of its newest event. Cluster `*` means "not yet known": the worker
expands it into per-cluster items after looking at the commit. Items carry the owner (worker instance)
that claimed them and a claim lease the owner's heartbeat renews: an item whose owner died (its lease ran
out; on SQLite, any item a previous process left running) goes back to pending, and a stale owner cannot
complete it. Replicas sharing PostgreSQL claim with `FOR UPDATE SKIP LOCKED` and take a per-cluster lock
while claiming, so two replicas never start the same cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from runner.engine.service.database import Conn, Database
from runner.engine.service.queue_items import (
    ANY_CLUSTER,
    Ask,
    Enqueued,
    Mode,
    QueueItem,
    RunRequest,
    Trigger,
    asks_of,
    event_columns,
    item_of,
    joined,
)

__all__ = ["ANY_CLUSTER", "Ask", "Enqueued", "Mode", "QueueItem", "RunRequest", "Trigger", "WorkQueue"]


class WorkQueue:
    def __init__(self, db: Database, wakeup: threading.Event | None = None, lease_seconds: float = 30.0) -> None:
        self.db = db
        self.lease_seconds = lease_seconds  # a claim not renewed for this long is another replica's to take
        self._wakeup = wakeup or threading.Event()  # set on every change; workers clear it before looking

    def on(self, db: Database) -> WorkQueue:
        """The same queue through another connection (the webhook intake's), waking the same workers."""
        return WorkQueue(db, self._wakeup, self.lease_seconds)

    def enqueue(
        self,
        request: RunRequest,
        *,
        every_cluster: bool = False,
        settle: float = 0.0,
        asks: Iterable[Ask] | None = None,
    ) -> Enqueued:
        """Add or join; `settle` holds a new item back briefly so a burst of events lands in it. `asks` are the
        events this work answers for (default: the request's own)."""
        now = time.time()
        event = event_columns(request, every_cluster)
        new_asks = list(asks) if asks is not None else [Ask.of(request)]
        with self.db.transaction() as conn:
            self.db.lock(conn, f"queue:{request.key}")  # replicas: two events for one key join one item
            row = conn.execute(
                "SELECT id, commit_sha, asks FROM queue WHERE key = ? AND state = 'pending' ORDER BY id LIMIT 1"
                + self.db.row_lock(skip=False),  # a claim taking it meanwhile wins; then this event starts anew
                (request.key,),
            ).fetchone()
            if row is not None:
                # A plan follows its PR's newest event; an apply keeps its commit (the head is chosen at claim
                # time). Every event's ask is kept; "every cluster" is sticky so a push cannot swallow a drift.
                commit = request.commit if request.mode == "plan" else row["commit_sha"]
                conn.execute(
                    "UPDATE queue SET commit_sha = :commit, ref = :ref, base_ref = :base_ref, trigger = :trigger,"
                    " repo = :repo, delivery_id = :delivery_id, every_cluster = CASE WHEN every_cluster >"
                    " :every_cluster THEN every_cluster ELSE :every_cluster END, fork = :fork, asks = :asks"
                    " WHERE id = :id",
                    {**event, "commit": commit, "asks": joined(asks_of(row["asks"]), new_asks), "id": row["id"]},
                )
                result = Enqueued(int(row["id"]), coalesced=True)
            else:
                item = {"key": request.key, "cluster": request.cluster, "mode": request.mode, "pr": request.pr_number}
                new = conn.execute(
                    "INSERT INTO queue (key, cluster, mode, pr, commit_sha, ref, base_ref, trigger, repo, delivery_id,"
                    " every_cluster, fork, asks, state, not_before, enqueued_at)"
                    " VALUES (:key, :cluster, :mode, :pr, :commit_sha, :ref, :base_ref, :trigger, :repo, :delivery_id,"
                    " :every_cluster, :fork, :asks, 'pending', :not_before, :enqueued_at) RETURNING id",
                    {**item, **event, "asks": joined(new_asks), "not_before": now + settle, "enqueued_at": now},
                ).fetchone()
                result = Enqueued(int(new["id"]), coalesced=False)
        self.notify()
        return result

    def claim(self, owner: str) -> QueueItem | None:
        """Take the oldest ready item whose cluster has nothing running (single-flight per cluster)."""
        now = time.time()
        with self.db.transaction() as conn:
            candidates = conn.execute(
                "SELECT * FROM queue WHERE state = 'pending' AND not_before <= ? ORDER BY id LIMIT 16"
                + self.db.row_lock(skip=True),  # another replica's candidates are its own
                (now,),
            ).fetchall()
            for row in candidates:
                # Held to the end of this transaction: the other replica's check below then sees this claim.
                if not self.db.lock(conn, f"cluster:{row['cluster']}", wait=False):
                    continue
                busy = conn.execute(
                    "SELECT 1 FROM queue WHERE cluster = ? AND state = 'running' LIMIT 1", (row["cluster"],)
                ).fetchone()
                if busy is not None:
                    continue
                conn.execute(
                    "UPDATE queue SET state = 'running', owner = ?, lease_until = ? WHERE id = ?",
                    (owner, now + self.lease_seconds, row["id"]),
                )
                return item_of(dict(row))
        return None

    def renew(self, owner: str) -> int:
        """The owner's heartbeat: its claims stay its own for another lease."""
        cur = self.db.execute(
            "UPDATE queue SET lease_until = ? WHERE owner = ? AND state = 'running'",
            (time.time() + self.lease_seconds, owner),
        )
        return cur.rowcount

    def done(self, item: QueueItem, owner: str) -> bool:
        cur = self.db.execute("DELETE FROM queue WHERE id = ? AND owner = ? AND state = 'running'", (item.id, owner))
        self.notify()  # the cluster is free again
        return cur.rowcount == 1

    def mark(self, item: QueueItem, owner: str, commit: str, asks: Iterable[Ask]) -> None:
        """Record what a claimed item runs: the commit it resolved to (expansions see what is being applied) and
        the asks that run answers for (those it already settled otherwise are not its to retry)."""
        self.db.execute(
            "UPDATE queue SET commit_sha = ?, asks = ? WHERE id = ? AND owner = ?",
            (commit, joined(asks), item.id, owner),
        )

    def retry_later(self, item: QueueItem, owner: str, delay: float, *, count_attempt: bool = True) -> None:
        with self.db.transaction() as conn:
            self.db.lock(conn, f"queue:{item.request.key}")
            if self._fold_into_pending(conn, item.id, owner):  # newer work for the same key takes the retry along
                conn.execute("DELETE FROM queue WHERE id = ? AND owner = ?", (item.id, owner))
            else:
                conn.execute(
                    "UPDATE queue SET state = 'pending', owner = NULL, attempts = attempts + ?, not_before = ?"
                    " WHERE id = ? AND owner = ?",
                    (int(count_attempt), time.time() + delay, item.id, owner),
                )
        self.notify()

    def release(self, item: QueueItem, owner: str) -> None:
        """Give an unfinished item back (graceful shutdown); the next start picks it up again."""
        self.retry_later(item, owner, 0.0, count_attempt=False)

    def requeue_orphans(self, *, every_running: bool = False) -> list[tuple[str, str | None]]:
        """Items whose owner is gone go back to pending (or join the pending one of their key): those whose claim
        lease ran out, or, `every_running`, every running one (one process: at its start, all are orphans).
        Returns (cluster, owner) of each, so the runs those owners left open can be closed."""
        now = time.time()
        taken: list[tuple[str, str | None]] = []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, key, cluster, owner FROM queue WHERE state = 'running' AND (? OR lease_until < ?)"
                + self.db.row_lock(skip=True),
                (every_running, now),
            ).fetchall()
            for row in rows:
                self.db.lock(conn, f"queue:{row['key']}")
                if self._fold_into_pending(conn, row["id"], row["owner"]):
                    conn.execute("DELETE FROM queue WHERE id = ?", (row["id"],))
                else:
                    conn.execute("UPDATE queue SET state = 'pending', owner = NULL WHERE id = ?", (row["id"],))
                taken.append((str(row["cluster"]), row["owner"]))
        if taken:
            self.notify()
        return taken

    @staticmethod
    def _fold_into_pending(conn: Conn, item_id: int, owner: str | None) -> bool:
        """Hand a running item's asks to the pending item of its key, if there is one (then it may go)."""
        running = conn.execute(
            "SELECT key, asks FROM queue WHERE id = ? AND owner IS NOT DISTINCT FROM ?", (item_id, owner)
        ).fetchone()
        if running is None:
            return False
        pending = conn.execute(
            "SELECT id, asks FROM queue WHERE key = ? AND state = 'pending' ORDER BY id LIMIT 1", (running["key"],)
        ).fetchone()
        if pending is None:
            return False
        asks = joined(asks_of(running["asks"]), asks_of(pending["asks"]))
        conn.execute("UPDATE queue SET asks = ? WHERE id = ?", (asks, pending["id"]))
        return True

    def superseded(self, item: QueueItem) -> bool:
        """True once a newer event is pending for the same key (a running plan may stop early)."""
        rows = self.db.query("SELECT 1 FROM queue WHERE key = ? AND state = 'pending' LIMIT 1", (item.request.key,))
        return bool(rows)

    def drop_pending(self, *, pr: int) -> int:
        cur = self.db.execute("DELETE FROM queue WHERE pr = ? AND state = 'pending'", (pr,))
        return cur.rowcount

    def depth(self) -> int:
        return int(self.db.query("SELECT COUNT(*) AS n FROM queue WHERE state = 'pending'")[0]["n"])

    def items(self) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT id, cluster, mode, pr, commit_sha, ref, trigger, state, attempts, enqueued_at, asks"
            " FROM queue ORDER BY id"
        )
        return [{**row, "asks": [[a.delivery, a.commit] for a in asks_of(row["asks"])]} for row in rows]

    def notify(self) -> None:
        self._wakeup.set()

    def arm(self) -> None:
        """Call before `claim`; a change after this point makes the next `wait` return at once (no lost wakeup)."""
        self._wakeup.clear()

    def wait(self, timeout: float) -> None:
        """Until a change is notified, a held-back item that could be claimed falls due, or `timeout`.

        Without the second, an event held back for its burst (`settle`) would wait out the whole timeout."""
        row = self.db.query(
            "SELECT MIN(not_before) AS due FROM queue WHERE state = 'pending'"
            " AND cluster NOT IN (SELECT cluster FROM queue WHERE state = 'running')"
        )
        due = row[0]["due"] if row and row[0]["due"] is not None else None
        if due is not None:
            timeout = min(timeout, max(0.01, float(due) - time.time()))
        self._wakeup.wait(timeout)
