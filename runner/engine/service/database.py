"""The service's database: SQLite by default, PostgreSQL for replicas (see runner.drivers.database)."""

from __future__ import annotations

from runner.drivers.database import STORE_ERRORS, Conn, Database, open_database

__all__ = ["STORE_ERRORS", "Conn", "Database", "open_database"]
