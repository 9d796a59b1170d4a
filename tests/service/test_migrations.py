"""Versioned schema migrations: run at start, once, in order, on both stores; an older SQLite file is brought
up to date with what it held kept."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from servicekit import HERE

from runner.drivers.database.migrations import LATEST, MIGRATIONS, migrate, version
from runner.engine.reconcile.clusterstate import ClusterFacts, ClusterStateStore
from runner.engine.service.database import open_database
from runner.engine.service.journal import Journal
from runner.engine.service.queue import Ask, WorkQueue


def test_a_new_store_gets_every_migration_once(fresh_store: Callable[[], str]) -> None:
    url = fresh_store()
    db = open_database(url)
    rows = db.query("SELECT version, name FROM schema_version ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [(v, name) for v, name, _ in MIGRATIONS]
    assert migrate(db) == []  # the next start finds nothing to do
    assert version(open_database(url)) == LATEST


def test_replicas_starting_together_migrate_once(fresh_store: Callable[[], str]) -> None:
    url = fresh_store()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_database(url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r["version"] for r in open_database(url).query("SELECT version FROM schema_version")] == [
        v for v, _, _ in MIGRATIONS
    ]


def test_an_unversioned_sqlite_file_is_migrated_and_keeps_its_work(tmp_path: Path) -> None:
    path = tmp_path / "runner.db"
    with sqlite3.connect(path) as old:
        old.executescript((HERE / "data" / "legacy_unversioned.sql").read_text())
    db = open_database(f"sqlite:///{path}")
    assert version(db) == LATEST
    assert Journal(db).last_run("home") == (7, "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1")
    assert Journal(db).run(7)["deliveries"] == []  # type: ignore[index]
    item = WorkQueue(db).claim("replica")
    assert item is not None and item.id == 3
    assert item.asks == (Ask("d-8", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"),)  # from before asks were kept
    facts = ClusterStateStore(path).get("home")
    assert facts == ClusterFacts(endpoint="10.0.0.10:6443", applied_commit="a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1")
