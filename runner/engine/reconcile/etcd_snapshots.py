"""Taking an etcd snapshot: from a healthy controller, encrypted to the repository's age recipients, kept N.

The plaintext snapshot exists only in the runner's private work root (`runner.drivers.workdir`: swept at
the next start if the runner dies meanwhile) for as long as talosctl writes it and encrypting it takes.
talosctl can only write it to a file: it fsyncs, renames and reads it back (`cmd/talosctl/cmd/talos/etcd.go`).
Recipients are those of the repository's `.sops.yaml` creation rule for the cluster's secrets file (the
people who can decrypt the secrets can decrypt the backups), plus the runner's own key so that `runner
restore` works.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.errors import Permanent, RunnerError
from runner.core.secret import Secret
from runner.core.talos import parse_machine_config
from runner.drivers.age import encrypt_to
from runner.drivers.workdir import private_dir
from runner.engine.reconcile.backups import BackupInfo, BackupStore


class SnapshotTalos(Protocol):
    def etcd_members(self, ip: str) -> list[str]: ...
    def etcd_snapshot(self, ip: str, dest: Path) -> int: ...
    def version(self, ip: str) -> str: ...
    def machine_config(self, ip: str) -> Secret: ...


@dataclass(frozen=True)
class Controller:
    name: str
    ip: str


class SnapshotFailed(Permanent):
    """No snapshot could be taken; the disruptive step that needed it must not run."""

    def __init__(self, cluster: str, reasons: Sequence[str]) -> None:
        super().__init__(snapshot_failed_message(cluster, reasons))
        self.cluster = cluster


def snapshot_failed_message(cluster: str, reasons: Sequence[str]) -> str:
    """The text of the "snapshot_failed" notice (and of the step's error)."""
    return f"etcd snapshot of cluster {cluster} failed, so nothing disruptive was started: " + "; ".join(reasons)


def age_recipients(sops_config: str | None, cluster: str, own: str | None) -> list[str]:
    """Recipients of the first `.sops.yaml` creation rule matching the cluster's secrets file (as sops picks)."""
    found: list[str] = []
    if sops_config:
        try:
            rules = (YAML(typ="safe").load(sops_config) or {}).get("creation_rules") or []
        except (YAMLError, AttributeError):
            raise Permanent(".sops.yaml: not a YAML mapping with creation_rules") from None
        path = f"clusters/{cluster}/secrets.sops.yaml"
        rule: dict[str, Any] = next((r for r in rules if re.search(str(r.get("path_regex", "")), path)), {})
        age = rule.get("age") or []
        found = [a.strip() for a in (age.split(",") if isinstance(age, str) else age) if a.strip()]
    return list(dict.fromkeys([*found, *([own] if own else [])]))


def _kubernetes_version(config: Secret) -> str | None:
    for doc in parse_machine_config(config.reveal()):
        image = ((doc.get("machine") or {}).get("kubelet") or {}).get("image")
        if image and ":" in image:
            return str(image).rsplit(":", 1)[1]
    return None


def take_snapshot(
    talos: SnapshotTalos,
    controllers: Sequence[Controller],
    store: BackupStore,
    *,
    cluster: str,
    keep: int,
    recipients: list[str],
    reason: str,
    exclude: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> tuple[BackupInfo, list[str]]:
    """Snapshot from the first healthy controller (those in `exclude` last); returns it and the ids pruned."""
    if not recipients:
        raise SnapshotFailed(cluster, ["no age recipient: .sops.yaml has no rule for the secrets file, no runner key"])
    reasons: list[str] = []
    order = [c for c in controllers if c.name not in exclude] + [c for c in controllers if c.name in exclude]
    for controller in order:
        try:
            if controller.ip not in talos.etcd_members(controller.ip):
                reasons.append(f"{controller.name}: not an etcd member")
                continue
            with private_dir("etcd") as workdir:
                size = talos.etcd_snapshot(controller.ip, workdir / "etcd.snapshot")
                encrypted = encrypt_to((workdir / "etcd.snapshot").read_bytes(), recipients)
            talos_version = talos.version(controller.ip)
            kube_version = _kubernetes_version(talos.machine_config(controller.ip))
        except (RunnerError, OSError, ValueError) as exc:
            reasons.append(f"{controller.name}: {exc}")
            continue
        at = now or dt.datetime.now(dt.UTC)
        info = BackupInfo(
            id=store.new_id(cluster, at),
            cluster=cluster,
            taken_at=at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            size=size,
            encrypted_size=len(encrypted),
            kubernetes_version=kube_version,
            talos_version=talos_version,
            controller=controller.name,
            reason=reason,
        )
        store.add(info, encrypted)
        return info, store.prune(cluster, keep)
    raise SnapshotFailed(cluster, reasons or ["the cluster has no controllers"])


def due(store: BackupStore, cluster: str, every: dt.timedelta, now: dt.datetime) -> bool:
    """A scheduled snapshot is due when the newest one is older than the interval (or there is none)."""
    latest = store.latest(cluster)
    return latest is None or now - dt.datetime.fromisoformat(latest.taken_at) >= every


def snapshot_if_due(
    talos: SnapshotTalos,
    controllers: Sequence[Controller],
    store: BackupStore,
    *,
    cluster: str,
    every: dt.timedelta,
    keep: int,
    recipients: list[str],
    now: dt.datetime,
    exclude: Sequence[str] = (),
) -> tuple[BackupInfo | None, str | None]:
    """The scheduled snapshot, taken on a reconcile once the newest is older than `every`.

    Returns (snapshot taken or None, failure message or None). A failure does not fail the run (nothing was
    disrupted); the message is what the run reports and what a "snapshot_failed" notice should say.
    """
    if not due(store, cluster, every, now):
        return None, None
    try:
        info, _ = take_snapshot(
            talos,
            controllers,
            store,
            cluster=cluster,
            keep=keep,
            recipients=recipients,
            reason="schedule",
            now=now,
            exclude=exclude,
        )
    except RunnerError as exc:
        return None, str(exc)
    return info, None
