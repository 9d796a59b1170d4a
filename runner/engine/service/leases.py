"""Leases across replicas: one holder per name (a cluster's runs, a duty such as the drift timer), for a while.

A lease row names its holder, a fencing token and an expiry. The holder renews it (the worker's heartbeat);
a holder that stops renewing loses it when it expires, and the next holder's token is one higher. A run
checks that it still holds the token it started with before each step, so a replica that lost its lease
(paused, cut off from the database) stops before doing anything more, even if it wakes up later.
Times are the replicas' clocks: keep them in sync (NTP) and the lease well above the skew.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from runner.engine.service.database import Database


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    token: int


class Leases:
    def __init__(self, db: Database, seconds: float) -> None:
        self.db, self.seconds = db, seconds

    def acquire(self, name: str, holder: str) -> Lease | None:
        """Take `name` if it is free or expired (a new token), or renew it if `holder` has it (same token)."""
        now = time.time()
        row = self.db.query(
            "INSERT INTO leases (name, holder, token, expires_at) VALUES (:name, :holder, 1, :until)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,"
            " token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at >= :now"
            " THEN leases.token ELSE leases.token + 1 END"
            " WHERE leases.expires_at < :now OR leases.holder = excluded.holder"
            " RETURNING token",
            {"name": name, "holder": holder, "until": now + self.seconds, "now": now},
        )
        return Lease(name, holder, int(row[0]["token"])) if row else None

    def holds(self, lease: Lease) -> bool:
        """Is `lease` still the live one? (False once it expired or another holder took it.)"""
        rows = self.db.query(
            "SELECT 1 FROM leases WHERE name = ? AND holder = ? AND token = ? AND expires_at >= ?",
            (lease.name, lease.holder, lease.token, time.time()),
        )
        return bool(rows)

    def renew(self, holder: str) -> int:
        """Extend every live lease `holder` has (the heartbeat); an expired one stays lost."""
        now = time.time()
        cur = self.db.execute(
            "UPDATE leases SET expires_at = ? WHERE holder = ? AND expires_at >= ?", (now + self.seconds, holder, now)
        )
        return cur.rowcount

    def release(self, lease: Lease) -> None:
        """Give it up at once (the token stays, so the next holder's is higher)."""
        self.db.execute(
            "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?",
            (lease.name, lease.holder, lease.token),
        )

    def expire_all(self) -> None:
        """One process per database (SQLite): at its start, every lease is a dead predecessor's."""
        self.db.execute("UPDATE leases SET expires_at = 0")

    def table(self) -> list[dict[str, object]]:
        return self.db.query("SELECT name, holder, token, expires_at FROM leases ORDER BY name")
