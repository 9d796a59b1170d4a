"""The runner's database: SQLite (one process, the embedded default) or PostgreSQL (several replicas).

Everything above talks to a `Database` (api.py) and writes portable SQL with `?` or `:name` parameters;
the few places the dialects differ (row locking, advisory locks, identity columns) are the adapter's.
"""

from __future__ import annotations

from pathlib import Path

from runner.drivers.database.api import STORE_ERRORS, Conn, Database, Dialect
from runner.drivers.database.migrations import migrate

__all__ = ["STORE_ERRORS", "Conn", "Database", "Dialect", "open_database"]


def open_database(url: str | Path, busy_timeout: float = 5.0, *, durable: bool = False) -> Database:
    """Open (or create) the database at `url` and bring its schema up to date; a bad one is a `Permanent`."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from runner.drivers.database.postgres import PostgresDatabase  # psycopg only when asked for

        db: Database = PostgresDatabase(text, busy_timeout)
    else:
        from runner.drivers.database.sqlite import SqliteDatabase

        path = Path(text.removeprefix("sqlite:///")) if text.startswith("sqlite:///") else Path(text)
        db = SqliteDatabase(path, busy_timeout, durable=durable)
    migrate(db)
    return db
