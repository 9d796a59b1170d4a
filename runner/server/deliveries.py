"""Webhook delivery ids already decided: a replayed delivery is answered `duplicate` and queues nothing.

An id is recorded in the same transaction that queues (or ignores) its event, never before: a delivery
the service failed to take (database locked, say: a 503) leaves no trace, so the forge's redelivery
is worked on instead of being called a duplicate.
"""

from __future__ import annotations

import time

from runner.engine.service.database import Conn, Database

KEEP_SECONDS = 30 * 24 * 3600  # forges redeliver within days; a month of ids is plenty


class Deliveries:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute("DELETE FROM deliveries WHERE received_at < ?", (time.time() - KEEP_SECONDS,))

    def hold(self, conn: Conn, delivery_id: str, source: str) -> None:
        """Inside the intake's transaction: the same delivery reaching two replicas at once is decided once."""
        self.db.lock(conn, f"delivery:{source}:{delivery_id}")

    def seen(self, delivery_id: str, source: str) -> bool:
        rows = self.db.query("SELECT 1 FROM deliveries WHERE id = ?", (f"{source}:{delivery_id}",))
        return bool(rows)

    def record(self, delivery_id: str, source: str, event: str, status: str, reason: str) -> None:
        """Call inside the transaction that queued (or decided to ignore) the delivery's event."""
        self.db.execute(
            "INSERT INTO deliveries (id, source, event, received_at, status, reason)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (f"{source}:{delivery_id}", source, event, time.time(), status, reason),
        )

    def recent(self, limit: int = 50) -> list[dict[str, object]]:
        return self.db.query("SELECT * FROM deliveries ORDER BY received_at DESC LIMIT ?", (limit,))
