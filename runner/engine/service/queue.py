"""Durable work queue in SQLite: coalescing per cluster, single-flight, safe across restarts.

An item's key is (cluster, mode, pr): a new event for a key that already has a *pending* item joins
that item instead of adding one, so a burst of pushes costs at most one run in flight plus one pending.
Joining never drops an event: the item keeps every event's `Ask` (delivery id, commit) in arrival
order. What an apply item applies is not decided here but when it is claimed: the protected branch's
head as fetched then (the worker's `branch_head`), so arrival order can never make an older commit win.
A PR plan item plans the PR head of its newest event. Cluster `*` means "not yet known": the worker
expands it into per-cluster items after looking at the commit. Items carry the owner (worker instance)
that claimed them; a restart re-queues items whose owner died, and a stale owner cannot complete them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
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
    fork INTEGER NOT NULL DEFAULT 0, asks TEXT NOT NULL DEFAULT '[]');
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
class Ask:
    """One event an item answers for: its delivery id (None for timers) and the commit it named ("" = the head)."""

    delivery: str | None
    commit: str

    @staticmethod
    def of(request: RunRequest) -> Ask:
        return Ask(request.delivery_id, request.commit)


@dataclass(frozen=True)
class QueueItem:
    id: int
    request: RunRequest
    attempts: int
    every_cluster: bool  # expand to every cluster, not only the ones the commit touches (drift, manual)
    asks: tuple[Ask, ...] = ()  # every event joined into this item, oldest first


def _asks(text: str) -> list[Ask]:
    return [Ask(delivery, commit) for delivery, commit in json.loads(text or "[]")]


def _joined(*groups: Iterable[Ask]) -> str:
    """The asks of several items as one list, in order, each once (a redelivery with the same id is one ask)."""
    seen: dict[Ask, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return json.dumps([[a.delivery, a.commit] for a in seen])


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
    asks = tuple(_asks(row.get("asks", "[]"))) or (Ask.of(request),)  # an item from before asks were kept
    return QueueItem(row["id"], request, row["attempts"], bool(row["every_cluster"]), asks)


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
        if "asks" not in columns:  # from before items kept every event they answer for
            self.db.execute("ALTER TABLE queue ADD COLUMN asks TEXT NOT NULL DEFAULT '[]'")
        self._wakeup = wakeup or threading.Event()  # set on every change; workers clear it before looking

    def on(self, db: Database) -> WorkQueue:
        """The same queue through another connection (the webhook intake's), waking the same workers."""
        return WorkQueue(db, self._wakeup)

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
        event = _event_columns(request, every_cluster)
        new_asks = list(asks) if asks is not None else [Ask.of(request)]
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, commit_sha, asks FROM queue WHERE key = ? AND state = 'pending' ORDER BY id LIMIT 1",
                (request.key,),
            ).fetchone()
            if row is not None:
                # A plan follows its PR's newest event; an apply keeps its commit (the head is chosen at claim
                # time). Every event's ask is kept; "every cluster" is sticky so a push cannot swallow a drift.
                commit = request.commit if request.mode == "plan" else row["commit_sha"]
                conn.execute(
                    "UPDATE queue SET commit_sha = :commit, ref = :ref, base_ref = :base_ref, trigger = :trigger,"
                    " repo = :repo, delivery_id = :delivery_id,"
                    " every_cluster = MAX(every_cluster, :every_cluster), fork = :fork, asks = :asks WHERE id = :id",
                    {**event, "commit": commit, "asks": _joined(_asks(row["asks"]), new_asks), "id": row["id"]},
                )
                result = Enqueued(int(row["id"]), coalesced=True)
            else:
                item = {"key": request.key, "cluster": request.cluster, "mode": request.mode, "pr": request.pr_number}
                cur = conn.execute(
                    "INSERT INTO queue (key, cluster, mode, pr, commit_sha, ref, base_ref, trigger, repo, delivery_id,"
                    " every_cluster, fork, asks, state, not_before, enqueued_at)"
                    " VALUES (:key, :cluster, :mode, :pr, :commit_sha, :ref, :base_ref, :trigger, :repo, :delivery_id,"
                    " :every_cluster, :fork, :asks, 'pending', :not_before, :enqueued_at)",
                    {**item, **event, "asks": _joined(new_asks), "not_before": now + settle, "enqueued_at": now},
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

    def mark(self, item: QueueItem, owner: str, commit: str, asks: Iterable[Ask]) -> None:
        """Record what a claimed item runs: the commit it resolved to (expansions see what is being applied) and
        the asks that run answers for (those it already settled otherwise are not its to retry)."""
        self.db.execute(
            "UPDATE queue SET commit_sha = ?, asks = ? WHERE id = ? AND owner = ?",
            (commit, _joined(asks), item.id, owner),
        )

    def retry_later(self, item: QueueItem, owner: str, delay: float, *, count_attempt: bool = True) -> None:
        with self.db.transaction() as conn:
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

    def requeue_orphans(self) -> int:
        """At start: items left `running` by a dead process go back to pending (or join a pending one)."""
        with self.db.transaction() as conn:
            for row in conn.execute("SELECT id, owner FROM queue WHERE state = 'running'").fetchall():
                if self._fold_into_pending(conn, row["id"], row["owner"]):
                    conn.execute("DELETE FROM queue WHERE id = ?", (row["id"],))
            cur = conn.execute("UPDATE queue SET state = 'pending', owner = NULL WHERE state = 'running'")
        return cur.rowcount

    @staticmethod
    def _fold_into_pending(conn: Any, item_id: int, owner: str | None) -> bool:
        """Hand a running item's asks to the pending item of its key, if there is one (then it may go)."""
        running = conn.execute("SELECT key, asks FROM queue WHERE id = ? AND owner IS ?", (item_id, owner)).fetchone()
        if running is None:
            return False
        pending = conn.execute(
            "SELECT id, asks FROM queue WHERE key = ? AND state = 'pending' ORDER BY id LIMIT 1", (running["key"],)
        ).fetchone()
        if pending is None:
            return False
        asks = _joined(_asks(running["asks"]), _asks(pending["asks"]))
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
        return [{**row, "asks": [[a.delivery, a.commit] for a in _asks(row["asks"])]} for row in rows]

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
