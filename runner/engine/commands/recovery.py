"""`runner backup now` and `runner restore`: a snapshot on demand, and Talos' documented etcd recovery.

Recovery, as the Talos "Disaster Recovery" guide describes it: make sure etcd has really lost quorum (a
restore throws away everything written since the snapshot), wipe every controller's EPHEMERAL partition
(`reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL`: the machine config stays), then
`bootstrap --recover-from=<snapshot>` on one controller and wait until all controllers are etcd members and
the Kubernetes API answers. A controller that answers nothing (crashed) cannot be reset: the recovery goes on
with the others and says how to reset that one before it rejoins (its etcd data is the lost cluster's).
The decrypted snapshot lives in the runner's private work root (talosctl reads it from a file), removed
afterwards whatever happens, and at the next start if the runner is killed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from runner.core.errors import Permanent, RunnerError
from runner.drivers.age import decrypt_with, read_key
from runner.drivers.sops import default_age_key_file
from runner.drivers.talos import TalosApi
from runner.drivers.workdir import private_dir
from runner.engine.reconcile.backups import BackupInfo, BackupStore
from runner.engine.reconcile.etcd_snapshots import Controller, SnapshotTalos, take_snapshot
from runner.engine.reconcile.local import local_engine
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.waits import wait_until


def backup_now(root: Path, name: str, settings: TargetSettings | None = None) -> tuple[BackupInfo, list[str]]:
    engine = local_engine(settings)
    source = DirSource(root)
    loaded, conns, desired, _ = engine.prepare(source, name)
    try:
        keep = loaded.cluster.backups.keep if loaded.cluster.backups else 7
        return take_snapshot(
            conns.talos,
            [Controller(c.name, c.ip) for c in desired.controllers],
            BackupStore(engine.settings.backup_dir),
            cluster=name,
            keep=keep,
            recipients=list(engine.snapshot_recipients(source, name)),
            reason="manual",
        )
    finally:
        conns.close()


def etcd_quorum(talos: SnapshotTalos, controllers: Sequence[Controller]) -> int:
    """How many controllers answer as etcd members; more than half of them means etcd still has quorum."""
    answering = 0
    for controller in controllers:
        with contextlib.suppress(RunnerError):
            answering += controller.ip in talos.etcd_members(controller.ip)
    return answering


Wait = Callable[[Callable[[], object], str], None]  # poll a check until it holds or the timeout passes


def restore(
    root: Path,
    name: str,
    snapshot_id: str,
    *,
    force: bool = False,
    settings: TargetSettings | None = None,
    log: Callable[[str], None] = print,
) -> BackupInfo:
    engine = local_engine(settings)
    s = engine.settings
    info, path = BackupStore(s.backup_dir).get(name, snapshot_id)
    _, conns, desired, _ = engine.prepare(DirSource(root), name)

    def wait(check: Callable[[], object], what: str) -> None:
        wait_until(check, timeout=s.boot_timeout, what=what, poll=s.poll_seconds)

    try:
        key_file = s.age_key_file or default_age_key_file()
        controllers = [Controller(c.name, c.ip) for c in desired.controllers]
        left_out = recover_etcd(
            conns.talos, controllers, path, key_file, info, cluster=name, force=force, wait=wait, log=log
        )
        endpoint = engine.store.get(name).endpoint or desired.initial_endpoint
        kube = conns.kube(endpoint)
        try:
            wait(kube.api_ready, "the Kubernetes API answering")
        finally:
            kube.close()
        members = len(controllers) - len(left_out)
        missing = f" ({', '.join(c.name for c in left_out)} still to reset, see above)" if left_out else ""
        log(f"restored cluster {name} from snapshot {info.id}: etcd has {members} members{missing}, Kubernetes answers")
        return info
    finally:
        conns.close()


def recover_etcd(
    talos: TalosApi,
    controllers: Sequence[Controller],
    encrypted: Path,
    key_file: Path,
    info: BackupInfo,
    *,
    cluster: str,
    force: bool,
    wait: Wait,
    log: Callable[[str], None],
) -> list[Controller]:
    """Talos' recovery from the snapshot at `encrypted`, up to every controller that answers being an etcd
    member again; returns those left out because they answer nothing."""
    with private_dir("restore") as workdir:
        members = etcd_quorum(talos, controllers)
        if members > len(controllers) // 2 and not force:
            raise Permanent(
                f"etcd of cluster {cluster} still has quorum ({members} of {len(controllers)} controllers answer): "
                "a restore would discard everything written since the snapshot; pass --force to do it anyway"
            )
        if not key_file.exists():
            raise Permanent(f"no age key at {key_file} to decrypt the snapshot (set RUNNER_AGE_KEY_FILE)")
        snapshot = workdir / "etcd.snapshot"
        fd = os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(decrypt_with(encrypted.read_bytes(), read_key(key_file)))
        answering = [c for c in controllers if talos.stage(c.ip) != "unreachable"]
        silent = [c for c in controllers if c not in answering]
        if not answering:
            raise Permanent(f"no controller of cluster {cluster} answers: there is nothing to restore etcd onto")
        for c in silent:
            log(
                f"{c.name} ({c.ip}) does not answer and is left out; once it answers again, wipe its etcd before "
                f"it rejoins: talosctl -n {c.ip} reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL"
            )
        for c in answering:
            log(f"resetting etcd on {c.name} ({c.ip}): wiping EPHEMERAL, rebooting")
            talos.reset_ephemeral(c.ip)
        for c in answering:
            wait(lambda c=c: talos.stage(c.ip) == "running", f"{c.name} back after the reset")  # type: ignore[misc]
        first = answering[0]
        log(f"bootstrapping etcd on {first.name} from snapshot {info.id} ({info.taken_at})")

        def recover() -> bool:
            talos.bootstrap_recover(first.ip, snapshot)  # Transient while etcd is not yet waiting for it
            return True

        wait(recover, f"bootstrap --recover-from on {first.name}")
        want = {c.ip for c in answering}
        wait(lambda: want <= set(talos.etcd_members(first.ip)), f"etcd listing all {len(want)} controllers")
        return silent
