"""Durable work queue in SQLite: coalescing per cluster, single-flight, safe across restarts.

An item's key is (cluster, mode, pr): a new event for a key that already has a *pending* item
replaces that item's commit instead of adding one (newest event wins), so a burst of pushes costs
at most one run in flight plus one pending. Cluster `*` means "not yet known": the worker expands it
into per-cluster items after looking at the commit. Items carry the owner (worker instance) that
claimed them; a restart re-queues items whose owner died, and a stale owner cannot complete them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from runner.engine.service.database import Database

Trigger = Literal["push", "pull_request", "drift", "poll", "manual"]
Mode = Literal["apply", "plan"]
ANY_CLUSTER = "*"

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, cluster TEXT NOT NULL, mode TEXT NOT NULL, pr INTEGER,
    commit_sha TEXT NOT NULL, ref TEXT NOT NULL, base_ref TEXT, trigger TEXT NOT NULL, repo TEXT NOT NULL,
    delivery_id TEXT, every_cluster INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL DEFAULT 0, enqueued_at REAL NOT NULL,
    fork INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS queue_by_state ON queue (state, key);
"""


@dataclass(frozen=True)
class RunRequest:
    """What to reconcile: one cluster at one commit, applied (protected branch) or planned (PR)."""

    cluster: str
    commit: str  # "" = the head of `ref` when the work starts (drift, generic hooks without a commit)
    ref: str
    trigger: Trigger
    mode: Mode
    repo: str
    pr_number: int | None = None
    delivery_id: str | None = None
    base_ref: str | None = None  # a PR's target branch, to diff against
    fork: bool = False  # a PR whose head lives in another repository: planned offline unless settings allow

    @property
    def key(self) -> str:
        return f"{self.cluster}|{self.mode}|{self.pr_number or ''}"


@dataclass(frozen=True)
class QueueItem:
    id: int
    request: RunRequest
    attempts: int
    every_cluster: bool  # expand to every cluster, not only the ones the commit touches (drift, manual)


@dataclass(frozen=True)
class Enqueued:
    id: int
    coalesced: bool


def _item(row: dict[str, Any]) -> QueueItem:
    request = RunRequest(
        cluster=row["cluster"],
        commit=row["commit_sha"],
        ref=row["ref"],
        trigger=row["trigger"],
        mode=row["mode"],
        repo=row["repo"],
        pr_number=row["pr"],
        delivery_id=row["delivery_id"],
        base_ref=row["base_ref"],
        fork=bool(row.get("fork")),
    )
    return QueueItem(id=row["id"], request=request, attempts=row["attempts"], every_cluster=bool(row["every_cluster"]))


def _event_columns(request: RunRequest, every_cluster: bool) -> dict[str, Any]:
    """What an event sets on its item: a new one, or the pending one it coalesces into."""
    return {
        "commit_sha": request.commit,
        "ref": request.ref,
        "base_ref": request.base_ref,
        "trigger": request.trigger,
        "repo": request.repo,
        "delivery_id": request.delivery_id,
        "every_cluster": int(every_cluster),
        "fork": int(request.fork),
    }


class WorkQueue:
    def __init__(self, db: Database, wakeup: threading.Event | None = None) -> None:
        self.db = db
        self.db.conn.executescript(SCHEMA)
        columns = {row["name"] for row in self.db.query("PRAGMA table_info(queue)")}
        if "fork" not in columns:  # a database from before fork PRs were told apart
            self.db.execute("ALTER TABLE queue ADD COLUMN fork INTEGER NOT NULL DEFAULT 0")
        self._wakeup = wakeup or threading.Event()  # set on every change; workers clear it before looking

    def on(self, db: Database) -> WorkQueue:
        """The same queue through another connection (the webhook intake's), waking the same workers."""
        return WorkQueue(db, self._wakeup)

    def enqueue(self, request: RunRequest, *, every_cluster: bool = False, settle: float = 0.0) -> Enqueued:
        """Add or coalesce; `settle` holds a new item back briefly so a burst of events lands in it."""
        now = time.time()
        event = _event_columns(request, every_cluster)
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM queue WHERE key = ? AND state = 'pending' ORDER BY id LIMIT 1", (request.key,)
            ).fetchone()
            if row is not None:
                # Newest event wins; "every cluster" is sticky so a push cannot swallow a pending drift.
                conn.execute(
                    "UPDATE queue SET commit_sha = :commit_sha, ref = :ref, base_ref = :base_ref, trigger = :trigger,"
                    " repo = :repo, delivery_id = :delivery_id, every_cluster = MAX(every_cluster, :every_cluster),"
                    " fork = :fork WHERE id = :id",
                    {**event, "id": row["id"]},
                )
                result = Enqueued(int(row["id"]), coalesced=True)
            else:
                item = {"key": request.key, "cluster": request.cluster, "mode": request.mode, "pr": request.pr_number}
                cur = conn.execute(
                    "INSERT INTO queue (key, cluster, mode, pr, commit_sha, ref, base_ref, trigger, repo, delivery_id,"
                    " every_cluster, fork, state, not_before, enqueued_at)"
                    " VALUES (:key, :cluster, :mode, :pr, :commit_sha, :ref, :base_ref, :trigger, :repo, :delivery_id,"
                    " :every_cluster, :fork, 'pending', :not_before, :enqueued_at)",
                    {**item, **event, "not_before": now + settle, "enqueued_at": now},
                )
                result = Enqueued(int(cur.lastrowid or 0), coalesced=False)
        self.notify()
        return result

    def claim(self, owner: str) -> QueueItem | None:
        """Take the oldest ready item whose cluster has nothing running (single-flight per cluster)."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM queue WHERE state = 'pending' AND not_before <= ?"
                " AND cluster NOT IN (SELECT cluster FROM queue WHERE state = 'running') ORDER BY id LIMIT 1",
                (time.time(),),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE queue SET state = 'running', owner = ? WHERE id = ?", (owner, row["id"]))
        return _item(dict(row))

    def done(self, item: QueueItem, owner: str) -> bool:
        cur = self.db.execute("DELETE FROM queue WHERE id = ? AND owner = ? AND state = 'running'", (item.id, owner))
        self.notify()  # the cluster is free again
        return cur.rowcount == 1

    def retry_later(self, item: QueueItem, owner: str, delay: float, *, count_attempt: bool = True) -> None:
        with self.db.transaction() as conn:
            newer = conn.execute(
                "SELECT 1 FROM queue WHERE key = ? AND state = 'pending'", (item.request.key,)
            ).fetchone()
            if newer is not None:  # a newer event for the same key supersedes the retry
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

    def requeue_orphans(self) -> int:
        """At start: items left `running` by a dead process go back to pending (or yield to a newer pending one)."""
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM queue WHERE state = 'running' AND key IN (SELECT key FROM queue WHERE state = 'pending')"
            )
            cur = conn.execute("UPDATE queue SET state = 'pending', owner = NULL WHERE state = 'running'")
        return cur.rowcount

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
        return self.db.query(
            "SELECT id, cluster, mode, pr, commit_sha, ref, trigger, state, attempts, enqueued_at"
            " FROM queue ORDER BY id"
        )

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
