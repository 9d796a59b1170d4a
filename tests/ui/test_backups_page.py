"""The Backups page and GET /api/backups list the etcd snapshots in backup_dir, newest first."""

from __future__ import annotations

import dataclasses

from runner.engine.reconcile.backups import BackupInfo, BackupStore
from tests.ui.conftest import UI
from tests.ui.uikit import Page

INFO = BackupInfo(
    id="20260301T120000Z",
    cluster="home",
    taken_at="2026-03-01T12:00:00+00:00",
    size=2015264,
    encrypted_size=2015500,
    kubernetes_version="v1.34.1",
    talos_version="v1.11.2",
    controller="talos-cp-02",
    reason="before node/talos-cp-01/upgrade",
)


def test_no_backups_says_how_to_get_them(ui: UI) -> None:
    assert "add a <code>backups</code> section" in ui.client.get("/backups").text
    assert ui.client.get("/api/backups").json() == {"backups": []}


def test_backups_are_listed_newest_first(ui: UI) -> None:
    store = BackupStore(ui.service.settings.backup_dir)
    store.add(INFO, b"age-encryption.org/v1 ...")
    newer = dataclasses.replace(INFO, id="20260301T180000Z", taken_at="2026-03-01T18:00:00+00:00", reason="schedule")
    store.add(newer, b"age-encryption.org/v1 ...")
    page = Page(ui.client.get("/backups").text)
    assert page.texts("th", scope="col") == [
        "Snapshot",
        "Cluster",
        "Taken (UTC)",
        "Size",
        "Kubernetes",
        "Talos",
        "From",
        "Why",
    ]
    assert [squash for squash in page.texts("code") if squash.startswith("2026")] == [newer.id, INFO.id]
    assert "before node/talos-cp-01/upgrade" in page.texts("td")
    listed = ui.client.get("/api/backups?cluster=home").json()["backups"]
    assert [b["id"] for b in listed] == [newer.id, INFO.id]
    assert listed[1] == INFO.to_json()
    assert ui.client.get("/api/backups?cluster=edge").json() == {"backups": []}
