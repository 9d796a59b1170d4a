"""A durable outbox for what the runner tells the forge: commit statuses and PR plan comments.

Every report is first a row in the service database, then a call; a call the forge refuses for now
(down, 5xx, 429, rate limited) leaves the row for a later try at the time the forge asked for
(`Retry-After`, `x-ratelimit-reset`) or after a growing backoff. So a final status is not lost when the
forge is down as a run ends, nor when the runner restarts before the forge is back. Rows coalesce by
what they describe (one status per commit and context, one comment per PR and marker): newest wins.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from runner.core.errors import Permanent, Transient
from runner.drivers.forge import Forge
from runner.drivers.forge_replies import ForgeBusy
from runner.engine.service.database import STORE_ERRORS, Database

log = logging.getLogger(__name__)

SENDING_HOLD = 60.0  # seconds a row is held by the one sending it (a sender that died lets it go after this)
BACKOFF_MIN, BACKOFF_MAX = 2.0, 300.0  # seconds between tries when the forge named no wait
GIVE_UP_SECONDS = 7 * 24 * 3600  # a report the forge has refused for a week is dropped (and logged)


class Outbox:
    def __init__(self, db: Database, forge: Forge, tick: float = 1.0, duty: Callable[[], bool] | None = None) -> None:
        """`duty`: asked before each round of retries: is this replica the one that sends them? (a lease)"""
        self.db, self.forge, self.tick, self.duty = db, forge, tick, duty
        self._send_lock = threading.Lock()  # one call per row at a time, whichever thread sends
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="forge-outbox", daemon=True)

    # --- putting reports in ---------------------------------------------------------------------
    def status(self, repo: str, sha: str, state: str, context: str, description: str, target_url: str | None) -> str:
        body = {"repo": repo, "sha": sha, "state": state, "context": context, "description": description}
        return self._put("status", f"status|{repo}|{sha}|{context}", {**body, "target_url": target_url})

    def comment(self, repo: str, pr: int, marker: str, body: str) -> str:
        return self._put(
            "comment", f"comment|{repo}|{pr}|{marker}", {"repo": repo, "pr": pr, "marker": marker, "body": body}
        )

    def _put(self, kind: str, key: str, body: dict[str, Any]) -> str:
        self.db.execute(
            "INSERT INTO outbox (key, kind, body, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE"
            " SET body = excluded.body, attempts = 0, not_before = 0, last_error = ''",
            (key, kind, json.dumps(body), time.time()),
        )
        return key

    # --- sending --------------------------------------------------------------------------------
    def send(self, key: str) -> str | None:
        """Try one report now; None once delivered (or dropped), else why it waits for a later try."""
        rows = self.db.query("SELECT * FROM outbox WHERE key = ?", (key,))
        return self._deliver(rows[0]) if rows else None

    def send_due(self) -> int:
        """Every report whose time has come, oldest first; how many were delivered."""
        due = self.db.query("SELECT * FROM outbox WHERE not_before <= ? ORDER BY id", (time.time(),))
        return sum(1 for row in due if self._deliver(row) is None)

    def pending(self) -> list[dict[str, Any]]:
        return self.db.query("SELECT key, kind, attempts, not_before, last_error FROM outbox ORDER BY id")

    def _deliver(self, row: dict[str, Any]) -> str | None:
        with self._send_lock:
            current = self.db.query("SELECT body FROM outbox WHERE id = ?", (row["id"],))
            if not current:
                return None  # another thread delivered it meanwhile
            now = time.time()
            held = self.db.execute(  # one sender per row across replicas: whoever moves not_before sends it
                "UPDATE outbox SET not_before = ? WHERE id = ? AND body = ? AND not_before <= ?",
                (now + SENDING_HOLD, row["id"], current[0]["body"], now),
            )
            if held.rowcount != 1:
                return "being sent by another replica"
            body = json.loads(current[0]["body"])
            try:
                self._call(row["kind"], body)
            except ForgeBusy as exc:
                return self._later(row, str(exc), exc.retry_after)
            except Transient as exc:
                return self._later(row, str(exc), None)
            except Permanent as exc:  # the forge will never take it: say so once, drop it
                log.warning("forge refused %s for good: %s", row["key"], exc)
            # Only the body we sent is done: a newer report for the same key put meanwhile stays.
            self.db.execute("DELETE FROM outbox WHERE id = ? AND body = ?", (row["id"], current[0]["body"]))
            return None

    def _call(self, kind: str, body: dict[str, Any]) -> None:
        if kind == "status":
            self.forge.set_status(
                body["repo"], body["sha"], body["state"], body["context"], body["description"], body["target_url"]
            )
        else:
            self.forge.upsert_pr_comment(body["repo"], int(body["pr"]), body["marker"], body["body"])

    def _later(self, row: dict[str, Any], error: str, wait: float | None) -> str:
        if time.time() - float(row["created_at"]) > GIVE_UP_SECONDS:
            log.warning("forge never took %s; giving up: %s", row["key"], error)
            self.db.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))
            return error
        backoff = min(BACKOFF_MAX, BACKOFF_MIN * 2 ** int(row["attempts"]))
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ?, last_error = ? WHERE id = ?",
            (time.time() + (backoff if wait is None else wait), error, row["id"]),
        )
        self._wakeup.set()
        return error

    # --- the sender thread ----------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.duty is None or self.duty():
                    self.send_due()
            except STORE_ERRORS as exc:  # the database is busy: the rows are still there next time
                log.warning("forge outbox: database error, retrying: %s", exc)
            except Exception:
                log.exception("forge outbox: unexpected error; continuing")
            self._wakeup.wait(self._next_wait())
            self._wakeup.clear()

    def _next_wait(self) -> float:
        try:
            rows = self.db.query("SELECT MIN(not_before) AS t FROM outbox")
        except STORE_ERRORS:
            return self.tick
        first = rows[0]["t"] if rows else None
        return self.tick if first is None else max(0.05, min(self.tick, float(first) - time.time()))
