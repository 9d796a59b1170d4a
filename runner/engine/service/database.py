"""The service's SQLite file: one connection the queue, the journal and the outbox share.

WAL so readers never block the writer, one lock so threads take turns (the load is a handful of writes per
run, not a hot path). Transactions nest: an inner one joins the outer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from runner.core.errors import Permanent

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, trigger TEXT NOT NULL, commit_sha TEXT NOT NULL,
    ref TEXT NOT NULL, mode TEXT NOT NULL, pr INTEGER, repo TEXT NOT NULL, delivery_id TEXT,
    status TEXT NOT NULL, result TEXT, summary TEXT, error TEXT, plan_markdown TEXT, plan_json TEXT,
    started_at REAL NOT NULL, finished_at REAL, deliveries TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS runs_by_cluster ON runs (cluster, mode, result, id);
CREATE TABLE IF NOT EXISTS steps (
    run_id INTEGER NOT NULL, step_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, step_id));
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ts REAL NOT NULL, level TEXT NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_run ON logs (run_id, id);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added since a table was first made: (table, column, definition), added to older databases at open.
ADDED_COLUMNS = (("runs", "deliveries", "TEXT NOT NULL DEFAULT '[]'"),)


class Database:
    def __init__(self, path: Path, busy_timeout: float = 5.0, *, durable: bool = False) -> None:
        """Open (or create) the database; a path that cannot hold one is a `Permanent` naming it.

        `durable`: every commit reaches the disk before it returns (the webhook intake's connection: a delivery
        answered 2xx must survive a power loss too, not only a killed process, which WAL already survives)."""
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0  # transactions nest: an inner one joins the outer (same thread, under the RLock)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.conn.executescript(SCHEMA)
            for table, column, definition in ADDED_COLUMNS:
                if column not in {row["name"] for row in self.conn.execute(f"PRAGMA table_info({table})")}:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        except (OSError, sqlite3.Error) as exc:
            raise Permanent(f"{path}: cannot use it as the runner's database ({exc})") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # also after a failed COMMIT: never leave one open
                    with suppress(sqlite3.Error):
                        self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def get(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM kv WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def put(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?", (key, value, value)
        )

    def writable(self) -> bool:
        try:
            self.put("healthcheck", str(time.time()))
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self.lock:
            self.conn.close()
