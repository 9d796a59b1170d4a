"""What the runner itself remembers per cluster (hand-off recorded, current endpoint, last applied commit).

Kept in the same SQLite file as the queue and journal; holds no secrets, only facts about the cluster.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_state (
    cluster TEXT PRIMARY KEY,
    handoff_at TEXT,
    endpoint TEXT,
    applied_commit TEXT,
    snapshot TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS talos_config_seen (
    cluster TEXT NOT NULL,
    ip TEXT NOT NULL,
    booted TEXT NOT NULL,
    version INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    kubernetes_version TEXT,
    PRIMARY KEY (cluster, ip)
)
"""
# columns newer than the table: added to older databases
ADDED_COLUMNS = {
    "bootstrapped_at": "TEXT",
    "bootstrap_requested_at": "TEXT",
    "bootstrap_requested_on": "TEXT",
    "adopted_at": "TEXT",  # `runner adopt --apply`: when, and the digest of the report the operator confirmed
    "adoption_digest": "TEXT",
}


@dataclass(frozen=True)
class ConfigSeen:
    """A node's machine config as last read: its hash holds while the node reports the same boot and
    MachineConfig version (COSI bumps the version on every change; a reboot starts a new boot)."""

    booted: str
    version: int
    config_hash: str
    kubernetes_version: str | None


@dataclass(frozen=True)
class ClusterFacts:
    handoff_at: str | None = None
    endpoint: str | None = None
    applied_commit: str | None = None
    bootstrapped_at: str | None = None
    # Written before the bootstrap call (when, and the controller's address): a runner killed after the call and
    # before `bootstrapped_at` knows it may have bootstrapped, and waits for etcd instead of calling again.
    bootstrap_requested_at: str | None = None
    bootstrap_requested_on: str | None = None


class ClusterStateStore:
    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(cluster_state)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in columns:
                self._db.execute(f"ALTER TABLE cluster_state ADD COLUMN {column} {kind}")

    def get(self, cluster: str) -> ClusterFacts:
        with self._lock:
            row = self._db.execute(
                "SELECT handoff_at, endpoint, applied_commit, bootstrapped_at, bootstrap_requested_at, "
                "bootstrap_requested_on FROM cluster_state WHERE cluster = ?",
                (cluster,),
            ).fetchone()
        return ClusterFacts(*row) if row else ClusterFacts()

    def _set(self, cluster: str, column: str, value: str | None) -> None:
        assert column in (
            "handoff_at",
            "endpoint",
            "applied_commit",
            "snapshot",
            "bootstrapped_at",
            "bootstrap_requested_at",
            "bootstrap_requested_on",
            "adopted_at",
            "adoption_digest",
        )
        with self._lock:
            self._db.execute(
                f"INSERT INTO cluster_state (cluster, {column}) VALUES (?, ?) "
                f"ON CONFLICT(cluster) DO UPDATE SET {column} = excluded.{column}, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (cluster, value),
            )

    def record_handoff(self, cluster: str, when: str) -> None:
        self._set(cluster, "handoff_at", when)

    def record_bootstrap(self, cluster: str, when: str) -> None:
        self._set(cluster, "bootstrapped_at", when)

    def record_bootstrap_request(self, cluster: str, ip: str, when: str) -> None:
        self._set(cluster, "bootstrap_requested_on", ip)
        self._set(cluster, "bootstrap_requested_at", when)

    def record_adoption(self, cluster: str, when: str, digest: str) -> None:
        """The cluster was adopted (not built) by the runner: it never bootstraps it (the bootstrap is recorded
        with it by the caller)."""
        self._set(cluster, "adoption_digest", digest)
        self._set(cluster, "adopted_at", when)

    def adoption(self, cluster: str) -> tuple[str, str] | None:
        """(when, digest) of the adoption, if the cluster was adopted."""
        with self._lock:
            row = self._db.execute(
                "SELECT adopted_at, adoption_digest FROM cluster_state WHERE cluster = ?", (cluster,)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row and row[0] else None

    def configs_seen(self, cluster: str) -> dict[str, ConfigSeen]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ip, booted, version, config_hash, kubernetes_version FROM talos_config_seen WHERE cluster = ?",
                (cluster,),
            ).fetchall()
        return {ip: ConfigSeen(*rest) for ip, *rest in rows}

    def record_configs_seen(self, cluster: str, seen: dict[str, ConfigSeen]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO talos_config_seen VALUES (?, ?, ?, ?, ?, ?)",
                [(cluster, ip, s.booted, s.version, s.config_hash, s.kubernetes_version) for ip, s in seen.items()],
            )

    def forget_config_seen(self, cluster: str, ip: str) -> None:
        """A new VM at `ip`: what was read there belonged to another machine (it never ran, as far as we know)."""
        with self._lock:
            self._db.execute("DELETE FROM talos_config_seen WHERE cluster = ? AND ip = ?", (cluster, ip))

    def set_endpoint(self, cluster: str, endpoint: str) -> None:
        self._set(cluster, "endpoint", endpoint)

    def set_applied(self, cluster: str, commit: str) -> None:
        self._set(cluster, "applied_commit", commit)

    def set_snapshot(self, cluster: str, snapshot: dict[str, Any]) -> None:
        self._set(cluster, "snapshot", json.dumps(snapshot, sort_keys=True))

    def snapshot(self, cluster: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT snapshot FROM cluster_state WHERE cluster = ?", (cluster,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def clusters(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT cluster FROM cluster_state ORDER BY cluster")]

    def close(self) -> None:
        with self._lock:
            self._db.close()
