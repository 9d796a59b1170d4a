"""PostgreSQL: the store several `runner serve` replicas share.

The SQL above is written once, with `?` or `:name` parameters; `portable` turns it into psycopg's `%s` /
`%(name)s`. One connection per `PostgresDatabase` (threads take turns, as with SQLite); a connection the
server dropped is opened again on the next use, so a database restart costs a retried turn, not the process.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

from runner.core.errors import Permanent
from runner.drivers.database.api import Conn, Cursor, Dialect, KeyValue, Params

_PARAM = re.compile(r"%|\?|(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


def portable(sql: str) -> str:
    """`?` and `:name` as psycopg wants them; a literal `%` escaped. (The runner's SQL holds no `?` in strings.)"""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "%":
            return "%%"
        return "%s" if text == "?" else f"%({match.group(1)})s"

    return _PARAM.sub(swap, sql)


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _key(name: str) -> int:
    """A stable 32-bit advisory lock key for a name (the same in every replica)."""
    return zlib.crc32(name.encode()) - 2**31


class _Portable:
    """A connection that takes the runner's portable SQL."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.execute(portable(sql), params or None)


class PostgresDatabase(KeyValue):
    dialect: Dialect = "postgresql"
    shared = True

    def __init__(self, url: str, busy_timeout: float = 5.0) -> None:
        self.url = url
        self.name = redacted(url)
        self.busy_timeout = busy_timeout
        self.lock_ = threading.RLock()
        self._depth = 0
        self.conn = self._connect()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            # lock_timeout: a write waits on a row or lock at most busy_timeout, like SQLite's busy timeout.
            options = f"-c lock_timeout={int(self.busy_timeout * 1000)}"
            conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10, options=options)
        except psycopg.Error as exc:
            raise Permanent(f"{self.name}: cannot use it as the runner's database ({exc})") from None
        return conn

    def _live(self) -> _Portable:
        if self.conn.closed or self.conn.broken:
            self.conn = self._connect()
        return _Portable(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        with self.lock_:
            if self._depth:
                self._depth += 1
                try:
                    yield _Portable(self.conn)
                finally:
                    self._depth -= 1
                return
            live = self._live()
            self._depth = 1
            try:
                with self.conn.transaction():
                    yield live
            finally:
                self._depth = 0

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self.lock_:
            return list(self._live().execute(sql, params).fetchall())

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        with self.lock_:
            conn = _Portable(self.conn) if self._depth else self._live()
            return conn.execute(sql, params)

    def lock(self, conn: Conn, name: str, *, wait: bool = True) -> bool:
        if wait:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_key(name),))
            return True
        row = conn.execute("SELECT pg_try_advisory_xact_lock(?) AS got", (_key(name),)).fetchone()
        return bool(row["got"])

    def row_lock(self, *, skip: bool) -> str:
        return " FOR UPDATE SKIP LOCKED" if skip else " FOR UPDATE"

    def close(self) -> None:
        with self.lock_:
            self.conn.close()
