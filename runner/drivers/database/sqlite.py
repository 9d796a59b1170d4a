"""SQLite: one file, one connection the queue, the journal and the outbox share (one process).

WAL so readers never block the writer, one lock so threads take turns (the load is a handful of writes per
run, not a hot path). Transactions nest: an inner one joins the outer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from runner.core.errors import Permanent
from runner.drivers.database.api import Conn, Cursor, Dialect, KeyValue, Params


class SqliteDatabase(KeyValue):
    dialect: Dialect = "sqlite"
    shared = False

    def __init__(self, path: Path, busy_timeout: float = 5.0, *, durable: bool = False) -> None:
        """`durable`: every commit reaches the disk before it returns (the webhook intake's connection: a delivery
        answered 2xx must survive a power loss too, not only a killed process, which WAL already survives)."""
        self.path = path
        self.name = str(path)
        self.lock_ = threading.RLock()
        self._depth = 0  # transactions nest: an inner one joins the outer (same thread, under the RLock)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        except (OSError, sqlite3.Error) as exc:
            raise Permanent(f"{path}: cannot use it as the runner's database ({exc})") from None

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        with self.lock_:
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

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self.lock_:
            return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        with self.lock_:
            return self.conn.execute(sql, params)

    def lock(self, conn: Conn, name: str, *, wait: bool = True) -> bool:
        return True  # BEGIN IMMEDIATE already made this transaction the only writer

    def row_lock(self, *, skip: bool) -> str:
        return ""

    def close(self) -> None:
        with self.lock_:
            self.conn.close()
