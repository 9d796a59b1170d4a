"""Webhook delivery ids already seen: a replayed delivery is answered `duplicate` and queues nothing."""

from __future__ import annotations

import time

from runner.engine.journal import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, event TEXT NOT NULL, received_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '');
"""
KEEP_SECONDS = 30 * 24 * 3600  # forges redeliver within days; a month of ids is plenty


class Deliveries:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.conn.executescript(SCHEMA)
        db.execute("DELETE FROM deliveries WHERE received_at < ?", (time.time() - KEEP_SECONDS,))

    def first_time(self, delivery_id: str, source: str, event: str) -> bool:
        """Record the delivery; False if it was seen before."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (id, source, event, received_at) VALUES (?, ?, ?, ?)",
            (f"{source}:{delivery_id}", source, event, time.time()),
        )
        return cur.rowcount == 1

    def outcome(self, delivery_id: str, source: str, status: str, reason: str) -> None:
        self.db.execute(
            "UPDATE deliveries SET status = ?, reason = ? WHERE id = ?", (status, reason, f"{source}:{delivery_id}")
        )

    def recent(self, limit: int = 50) -> list[dict[str, object]]:
        return self.db.query("SELECT * FROM deliveries ORDER BY received_at DESC LIMIT ?", (limit,))
