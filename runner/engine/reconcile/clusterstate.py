"""What the runner itself remembers per cluster (hand-off recorded, current endpoint, last applied commit).

Kept in the same database as the queue and journal (SQLite or PostgreSQL); holds no secrets, only facts
about the cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.drivers.database import Database, open_database

COLUMNS = (
    "handoff_at",
    "endpoint",
    "applied_commit",
    "snapshot",
    "bootstrapped_at",
    "bootstrap_requested_at",
    "bootstrap_requested_on",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    adopted_at: str | None = None  # `runner adopt --apply` took a running cluster over (see `Adoption`)


@dataclass(frozen=True)
class Adoption:
    """A cluster built without the runner and taken over: the adopt report's digest the operator confirmed,
    the endpoint in use then, and when. An adopted cluster is bootstrapped, and its nodes change without
    reboots until the spec opts in (adoption.rollout)."""

    digest: str
    endpoint: str
    adopted_at: str


class ClusterStateStore:
    def __init__(self, url: Path | str) -> None:
        """`url`: the store's URL (sqlite:///..., postgresql://...) or a SQLite file."""
        self._db: Database = open_database(url)

    def get(self, cluster: str) -> ClusterFacts:
        rows = self._db.query(
            "SELECT handoff_at, endpoint, applied_commit, bootstrapped_at, bootstrap_requested_at, "
            "bootstrap_requested_on, adopted_at FROM cluster_state WHERE cluster = ?",
            (cluster,),
        )
        return ClusterFacts(**rows[0]) if rows else ClusterFacts()

    def _set(self, cluster: str, column: str, value: str | None) -> None:
        assert column in COLUMNS
        self._db.execute(
            f"INSERT INTO cluster_state (cluster, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(cluster) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at",
            (cluster, value, _now()),
        )

    def record_handoff(self, cluster: str, when: str) -> None:
        self._set(cluster, "handoff_at", when)

    def record_bootstrap(self, cluster: str, when: str) -> None:
        self._set(cluster, "bootstrapped_at", when)

    def record_bootstrap_request(self, cluster: str, ip: str, when: str) -> None:
        self._set(cluster, "bootstrap_requested_on", ip)
        self._set(cluster, "bootstrap_requested_at", when)

    def record_adoption(self, cluster: str, digest: str, endpoint: str, when: str | None = None) -> None:
        """One write: the adoption, the endpoint in use and (unless already recorded) the bootstrap, so no plan
        ever bootstraps the adopted cluster again. `when` defaults to now (UTC, ISO 8601)."""
        when = when or datetime.now(UTC).isoformat(timespec="seconds")
        self._db.execute(
            "INSERT INTO cluster_state (cluster, adopted_at, adoption_digest, endpoint, bootstrapped_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(cluster) DO UPDATE SET adopted_at = excluded.adopted_at, "
            "adoption_digest = excluded.adoption_digest, endpoint = excluded.endpoint, "
            "bootstrapped_at = COALESCE(cluster_state.bootstrapped_at, excluded.bootstrapped_at), "
            "updated_at = excluded.updated_at",
            (cluster, when, digest, endpoint, when, _now()),
        )

    def adoption(self, cluster: str) -> Adoption | None:
        rows = self._db.query(
            "SELECT adoption_digest, endpoint, adopted_at FROM cluster_state WHERE cluster = ? "
            "AND adopted_at IS NOT NULL",
            (cluster,),
        )
        if not rows:
            return None
        row = rows[0]
        return Adoption(row["adoption_digest"], row["endpoint"], row["adopted_at"])

    def configs_seen(self, cluster: str) -> dict[str, ConfigSeen]:
        rows = self._db.query(
            "SELECT ip, booted, version, config_hash, kubernetes_version FROM talos_config_seen WHERE cluster = ?",
            (cluster,),
        )
        return {row.pop("ip"): ConfigSeen(**row) for row in rows}

    def record_configs_seen(self, cluster: str, seen: dict[str, ConfigSeen]) -> None:
        with self._db.transaction() as conn:
            for ip, s in seen.items():
                conn.execute(
                    "INSERT INTO talos_config_seen VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cluster, ip) DO UPDATE SET"
                    " booted = excluded.booted, version = excluded.version, config_hash = excluded.config_hash,"
                    " kubernetes_version = excluded.kubernetes_version",
                    (cluster, ip, s.booted, s.version, s.config_hash, s.kubernetes_version),
                )

    def forget_config_seen(self, cluster: str, ip: str) -> None:
        """A new VM at `ip`: what was read there belonged to another machine (it never ran, as far as we know)."""
        self._db.execute("DELETE FROM talos_config_seen WHERE cluster = ? AND ip = ?", (cluster, ip))

    def set_endpoint(self, cluster: str, endpoint: str) -> None:
        self._set(cluster, "endpoint", endpoint)

    def set_applied(self, cluster: str, commit: str) -> None:
        self._set(cluster, "applied_commit", commit)

    def set_snapshot(self, cluster: str, snapshot: dict[str, Any]) -> None:
        self._set(cluster, "snapshot", json.dumps(snapshot, sort_keys=True))

    def snapshot(self, cluster: str) -> dict[str, Any] | None:
        rows = self._db.query("SELECT snapshot FROM cluster_state WHERE cluster = ?", (cluster,))
        return json.loads(rows[0]["snapshot"]) if rows and rows[0]["snapshot"] else None

    def clusters(self) -> list[str]:
        return [str(r["cluster"]) for r in self._db.query("SELECT cluster FROM cluster_state ORDER BY cluster")]

    def close(self) -> None:
        self._db.close()
