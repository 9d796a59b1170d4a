"""The adoption record: what `runner adopt --apply` writes, and what observation makes of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runner.engine.reconcile.clusterstate import Adoption, ClusterStateStore
from runner.engine.reconcile.observe import _recorded

VIP = "https://10.0.0.20:6443"
DIGEST = "sha256:4f0c9e1d"
WHEN = "2026-12-07T02:00:00+00:00"


def test_an_adoption_records_the_digest_the_endpoint_and_the_bootstrap(tmp_path: Path) -> None:
    store = ClusterStateStore(tmp_path / "state.db")
    assert store.adoption("home") is None
    store.record_adoption("home", DIGEST, VIP, WHEN)
    assert store.adoption("home") == Adoption(digest=DIGEST, endpoint=VIP, adopted_at=WHEN)
    facts = store.get("home")
    assert (facts.adopted_at, facts.bootstrapped_at, facts.endpoint) == (WHEN, WHEN, VIP)
    observed = _recorded(facts)
    assert observed.adopted and observed.bootstrapped and observed.endpoint == VIP
    assert store.adoption("other") is None and not _recorded(store.get("other")).adopted


def test_an_adoption_keeps_an_earlier_bootstrap_record(tmp_path: Path) -> None:
    store = ClusterStateStore(tmp_path / "state.db")
    store.record_bootstrap("home", "2025-01-01T00:00:00+00:00")
    store.record_adoption("home", DIGEST, VIP, WHEN)
    assert store.get("home").bootstrapped_at == "2025-01-01T00:00:00+00:00"


def test_a_database_from_before_adoption_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE cluster_state (cluster TEXT PRIMARY KEY, handoff_at TEXT, endpoint TEXT, applied_commit TEXT, "
        "snapshot TEXT, updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    )
    old.execute("INSERT INTO cluster_state (cluster, handoff_at) VALUES ('home', '2025-02-02T00:00:00+00:00')")
    old.commit()
    old.close()
    store = ClusterStateStore(path)
    assert store.adoption("home") is None
    store.record_adoption("home", DIGEST, VIP)
    adoption = store.adoption("home")
    assert adoption is not None and (adoption.digest, adoption.endpoint) == (DIGEST, VIP)
    assert store.get("home").handoff_at == "2025-02-02T00:00:00+00:00"
