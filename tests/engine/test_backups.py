"""etcd snapshot storage, encryption, recipients, schedule and failure, without a lab (a scripted talosctl)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest

from runner.core.errors import Permanent, RunnerError, Transient
from runner.core.secret import Secret
from runner.drivers.age import AgeKey, decrypt_with, find_or_create_key
from runner.drivers.workdir import WORK_DIR_ENV
from runner.engine.reconcile.backups import BackupInfo, BackupStore
from runner.engine.reconcile.etcd_snapshots import (
    Controller,
    SnapshotFailed,
    age_recipients,
    snapshot_if_due,
    take_snapshot,
)

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CONTROLLERS = [Controller("cp-01", "10.0.0.11"), Controller("cp-02", "10.0.0.12")]
CONFIG = "machine:\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.34.1\n"


class ScriptedTalos:
    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing or set()
        self.taken_from: list[str] = []

    def etcd_members(self, ip: str) -> list[str]:
        return [c.ip for c in CONTROLLERS]

    def etcd_snapshot(self, ip: str, dest: Path) -> int:
        if ip in self.failing:
            raise Transient(f"talosctl etcd snapshot on {ip}: error reading file: context deadline exceeded")
        self.taken_from.append(ip)
        dest.write_bytes(b"etcd-data" * 100)
        return 900

    def version(self, ip: str) -> str:
        return "v1.11.2"

    def machine_config(self, ip: str) -> Secret:
        return Secret(CONFIG)


def snapshot_home(
    talos: ScriptedTalos,
    store: BackupStore,
    key: AgeKey,
    *,
    reason: str = "manual",
    exclude: tuple[str, ...] = (),
    now: dt.datetime = T0,
) -> tuple[BackupInfo, list[str]]:
    """take_snapshot of cluster home from CONTROLLERS, keeping 3, encrypted to `key`; each test varies the rest."""
    return take_snapshot(
        talos,
        CONTROLLERS,
        store,
        cluster="home",
        keep=3,
        recipients=[key.public],
        reason=reason,
        exclude=exclude,
        now=now,
    )


def test_snapshot_is_encrypted_described_and_pruned_to_keep(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    store = BackupStore(tmp_path / "backups")
    talos = ScriptedTalos()
    for minutes in range(4):
        snapshot_home(talos, store, key, now=T0 + dt.timedelta(minutes=minutes))
    infos = store.snapshots("home")
    assert [i.id for i in infos] == ["20260301T120300Z", "20260301T120200Z", "20260301T120100Z"]
    newest = infos[0]
    assert (newest.size, newest.controller, newest.kubernetes_version, newest.talos_version) == (
        900,
        "cp-01",
        "v1.34.1",
        "v1.11.2",
    )
    _, path = store.get("home", newest.id)
    assert b"etcd-data" not in path.read_bytes()
    assert decrypt_with(path.read_bytes(), key) == b"etcd-data" * 100
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_snapshot_avoids_the_controller_about_to_be_disrupted(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    talos = ScriptedTalos()
    info, _ = snapshot_home(talos, BackupStore(tmp_path), key, reason="before node/cp-01/upgrade", exclude=("cp-01",))
    assert info.controller == "cp-02"


def test_every_controller_failing_is_a_snapshot_failure_naming_each(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    talos = ScriptedTalos(failing={"10.0.0.11", "10.0.0.12"})
    with pytest.raises(SnapshotFailed, match=r"nothing disruptive was started: cp-01: .*; cp-02: ") as caught:
        snapshot_home(talos, BackupStore(tmp_path), key)
    assert caught.value.cluster == "home"
    assert BackupStore(tmp_path).snapshots() == []


def test_one_failing_controller_falls_back_to_the_next(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    info, _ = snapshot_home(ScriptedTalos(failing={"10.0.0.11"}), BackupStore(tmp_path), key)
    assert info.controller == "cp-02"


def test_schedule_takes_one_only_when_the_newest_is_older_than_the_interval(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    store, talos, every = BackupStore(tmp_path), ScriptedTalos(), dt.timedelta(hours=6)

    def tick(at: dt.datetime) -> bool:
        taken, failed = snapshot_if_due(
            talos, CONTROLLERS, store, cluster="home", every=every, keep=5, recipients=[key.public], now=at
        )
        assert failed is None
        return taken is not None

    assert [tick(T0 + dt.timedelta(hours=h)) for h in (0, 1, 5, 6, 7, 12)] == [True, False, False, True, False, True]


def test_a_scheduled_snapshot_asks_a_controller_that_does_not_answer_last(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    taken, _ = snapshot_if_due(
        ScriptedTalos(),
        CONTROLLERS,
        BackupStore(tmp_path),
        cluster="home",
        every=dt.timedelta(hours=6),
        keep=3,
        recipients=[key.public],
        now=T0,
        exclude=["cp-01"],  # awaited in this run: it crashed
    )
    assert taken is not None and taken.controller == "cp-02"


def test_scheduled_failure_is_reported_not_raised(tmp_path: Path) -> None:
    taken, failed = snapshot_if_due(
        ScriptedTalos(failing={"10.0.0.11", "10.0.0.12"}),
        CONTROLLERS,
        BackupStore(tmp_path),
        cluster="home",
        every=dt.timedelta(hours=1),
        keep=1,
        recipients=["age1w6wpgww66yncmpc5dk2et76e5xekl2zexk8sy5vr2f4j3ua8559scafpdn"],
        now=T0,
    )
    assert taken is None and failed is not None and failed.startswith("etcd snapshot of cluster home failed")


def test_recipients_are_the_sops_rule_for_the_secrets_file_plus_the_runner(tmp_path: Path) -> None:
    config = (
        "creation_rules:\n"
        "  - path_regex: flux/.*\\.sops\\.yaml$\n    age: age1flux\n"
        "  - path_regex: clusters/[^/]+/secrets\\.sops\\.yaml$\n    age: age1alice, age1bob\n"
    )
    assert age_recipients(config, "home", "age1runner") == ["age1alice", "age1bob", "age1runner"]
    assert age_recipients(config, "home", "age1alice") == ["age1alice", "age1bob"]
    assert age_recipients(None, "home", None) == []


def test_no_recipient_is_a_failure_before_anything_is_taken(tmp_path: Path) -> None:
    talos = ScriptedTalos()
    with pytest.raises(SnapshotFailed, match="no age recipient"):
        take_snapshot(talos, CONTROLLERS, BackupStore(tmp_path), cluster="home", keep=1, recipients=[], reason="x")
    assert talos.taken_from == []


def test_an_unknown_or_malformed_snapshot_id_is_a_clear_error(tmp_path: Path) -> None:
    store = BackupStore(tmp_path)
    with pytest.raises(Permanent, match=r"'\.\./x' is not a snapshot id \(see `runner backup list home`\)"):
        store.get("home", "../x")
    with pytest.raises(Permanent, match="no snapshot 20260301T120000Z of cluster home in"):
        store.get("home", "20260301T120000Z")


def test_a_half_copied_backup_is_not_listed(tmp_path: Path) -> None:
    key, _ = find_or_create_key(tmp_path / "key.txt")
    store = BackupStore(tmp_path / "b")
    info, _ = snapshot_home(ScriptedTalos(), store, key, reason="x")
    (tmp_path / "b" / "home" / f"{info.id}.etcd.age").unlink()
    (tmp_path / "b" / "home" / "junk.json").write_text("{not json")
    assert store.snapshots() == []


PLAINTEXT = b"etcd-plaintext-marker/" * 64  # what etcd holds: Secrets, tokens, everything


class TalosctlThatWrites(ScriptedTalos):
    """Writes the plaintext snapshot where it is told, then fails at `fail_at` (or not at all)."""

    def __init__(self, fail_at: str | None) -> None:
        super().__init__()
        self.fail_at = fail_at

    def etcd_snapshot(self, ip: str, dest: Path) -> int:
        dest.write_bytes(PLAINTEXT)  # a download cut off after most of it arrived is still plaintext on disk
        if self.fail_at == "snapshot":
            raise Transient(f"talosctl etcd snapshot on {ip}: unexpected EOF")
        return len(PLAINTEXT)

    def version(self, ip: str) -> str:
        if self.fail_at == "version":
            raise Transient(f"talosctl version on {ip}: connection refused")
        return "v1.11.2"


@pytest.mark.parametrize("fail_at", [None, "snapshot", "version", "encrypt"])
def test_no_plaintext_snapshot_is_left_on_disk_whether_it_succeeded_or_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str | None
) -> None:
    temp, work = tmp_path / "tmp", tmp_path / "work"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() looks at TMPDIR again
    monkeypatch.setenv(WORK_DIR_ENV, str(work))
    key, _ = find_or_create_key(tmp_path / "key.txt")
    recipients = ["age1-not-a-recipient"] if fail_at == "encrypt" else [key.public]
    talos = TalosctlThatWrites(fail_at)
    store = BackupStore(tmp_path / "backups")
    try:
        take_snapshot(talos, CONTROLLERS, store, cluster="home", keep=3, recipients=recipients, reason="x", now=T0)
    except RunnerError:
        assert fail_at is not None
    else:
        assert fail_at is None and len(store.snapshots("home")) == 1
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in written if PLAINTEXT[:64] in p.read_bytes()] == []
    assert list(temp.iterdir()) == []  # not even an empty directory named after the snapshot
