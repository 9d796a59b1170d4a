"""What the service and the reconcile need of a database, whichever it is."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

import psycopg

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any] | Mapping[str, Any]
# A database that is locked, unreachable, full or read-only: the work is retried, never dropped.
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    """One transaction's connection: portable SQL with `?` or `:name` parameters, rows as mappings."""

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...


class Database(Protocol):
    dialect: Dialect
    name: str  # what error messages call it: the file, or the URL without its password
    # Several processes share it (PostgreSQL): claims and leases expire instead of being swept at start.
    shared: bool

    def transaction(self) -> AbstractContextManager[Conn]:
        """One transaction; an inner one joins the outer (same thread)."""
        ...

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    def lock(self, conn: Conn, name: str, *, wait: bool = True) -> bool:
        """Hold `name` until the transaction ends (False: someone else holds it and `wait` was off)."""
        ...

    def row_lock(self, *, skip: bool) -> str:
        """The clause that makes a SELECT lock its rows until the transaction ends; `skip`: pass over rows another
        transaction has locked instead of waiting for them (empty on SQLite, whose writer is alone anyway)."""
        ...

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def writable(self) -> bool: ...

    def close(self) -> None: ...


class KeyValue:
    """The small key-value table and the health check, the same SQL on both dialects."""

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        raise NotImplementedError

    def get(self, key: str) -> str | None:
        found = self.query("SELECT value FROM kv WHERE key = ?", (key,))
        return str(found[0]["value"]) if found else None

    def put(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def writable(self) -> bool:
        try:
            self.put("healthcheck", str(time.time()))
            return True
        except STORE_ERRORS:
            return False
