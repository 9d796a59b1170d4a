"""No plaintext secret outlives a kill -9, whatever the runner was doing and whatever PID it had.

A real runner process (`crash_child.py`) is killed with SIGKILL while it takes an etcd snapshot (the
snapshot holds every Kubernetes Secret, here the Flux age key), while it recovers etcd from one (the
decrypted snapshot) and while it builds a Kubernetes client (the admin client key). The runner is then
started again and every file under the TMPDIR both processes used is searched for the secrets and for any
private key. Each case also runs with the runner as PID 1 of its own PID namespace, as in a container,
where the restarted runner has the dead one's PID.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from servicekit import wait_until

from runner.core.secret import Secret
from runner.drivers.age import new_identity
from runner.drivers.kube.credentials import admin_kubeconfig
from runner.drivers.talos import TalosctlDriver
from runner.drivers.workdir import WORK_DIR_ENV
from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.etcd_snapshots import Controller, take_snapshot
from runner.lab.talos import Delays, TalosTwin, install_talosctl_shim, start_talos_twin
from runner.lab.talos.etcd_snapshot import EtcdStore, lose_etcd
from tests.talos_nodes.conftest import Bundle, make_bundle, make_ca, running

CHILD = Path(__file__).with_name("crash_child.py")
CONTROLLERS = [("talos-cp-01", "10.0.0.11"), ("talos-cp-02", "10.0.0.12"), ("talos-cp-03", "10.0.0.13")]
FLUX_KEY_PUBLIC, FLUX_KEY = new_identity()
SOPS_AGE = {"kind": "Secret", "metadata": {"name": "sops-age", "namespace": "flux-system"}}
SOPS_AGE["data"] = {"age.agekey": base64.b64encode(FLUX_KEY.reveal().encode()).decode()}
ANY_PRIVATE_KEY = [b"PRIVATE KEY-----", b"AGE-SECRET-KEY-"]  # PEM private keys of any kind, age identities

# talosctl as the runner would meet it, but one that stops (and says so) at the call the test kills it in.
PAUSING_TALOSCTL = """#!/bin/sh
case " $* " in
  *" snapshot "*) "{real}" "$@"; touch "{ready}"; exec sleep 600 ;;
  *" bootstrap "*) touch "{ready}"; exec sleep 600 ;;
esac
exec "{real}" "$@"
"""


def holds_any(data: bytes, needles: list[bytes]) -> bool:
    decoded = [base64.b64decode(m.group(), validate=False) for m in re.finditer(rb"[A-Za-z0-9+/]{40,}=*", data)]
    return any(n in blob for blob in [data, *decoded] for n in needles)


def namespace_prefix() -> list[str]:
    """Run as PID 1 of a new PID namespace (root needs no user namespace for that)."""
    prefix = ["unshare", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    if shutil.which("unshare") is None or subprocess.run([*prefix, "true"], check=False).returncode != 0:
        pytest.skip("PID namespaces are not available here (the sweep's PID-reuse test covers the logic)")
    return prefix


@dataclass
class Crash:
    """One runner process to kill and the TMPDIR it and its restart share."""

    tmp_path: Path
    as_pid_1: bool

    def __post_init__(self) -> None:
        self.tmpdir = self.tmp_path / "tmpdir"
        self.tmpdir.mkdir()
        self.ready = self.tmp_path / "ready"
        self.prefix = namespace_prefix() if self.as_pid_1 else []

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
        return {**env, "TMPDIR": str(self.tmpdir)}

    def argv(self, what: str, inputs: dict[str, Any], pid_file: str) -> list[str]:
        path = self.tmp_path / f"{what}.json"
        path.write_text(json.dumps({**inputs, "ready": str(self.ready), "pid": str(self.tmp_path / pid_file)}))
        return [*self.prefix, sys.executable, str(CHILD), what, str(path)]

    def kill_when_ready(self, what: str, inputs: dict[str, Any]) -> int:
        """Start the runner doing `what`, SIGKILL it (and all it started) at the pause point; its PID."""
        proc = subprocess.Popen(self.argv(what, inputs, "pid"), env=self.env(), start_new_session=True)
        try:
            wait_until(lambda: self.ready.exists() or proc.poll() is not None, 90, f"the runner to reach {what}")
            assert proc.poll() is None, f"the runner ended before the kill (exit {proc.returncode})"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        return int((self.tmp_path / "pid").read_text())

    def restart(self, dead_pid: int) -> None:
        """Start the runner again; as PID 1 it has the dead runner's PID."""
        argv = self.argv("restart", {"db": str(self.tmp_path / "runner.db")}, "restart-pid")
        subprocess.run(argv, env=self.env(), check=True, timeout=120)
        restarted = int((self.tmp_path / "restart-pid").read_text())
        assert (restarted == dead_pid) == self.as_pid_1

    def plaintext(self, needles: list[bytes]) -> list[str]:
        """Files under TMPDIR holding any of `needles` or any private key (also base64-encoded, as in a
        talosconfig or kubeconfig), relative to TMPDIR."""
        return [
            str(path.relative_to(self.tmpdir))
            for path in sorted(self.tmpdir.rglob("*"))
            if path.is_file() and not path.is_symlink() and holds_any(path.read_bytes(), [*needles, *ANY_PRIVATE_KEY])
        ]

    def all_in_work_root(self, files: list[str]) -> bool:
        """Whether every file was inside the runner's own 0700 work root (the one place a sweep looks)."""
        root = self.tmpdir / f"runner-{os.getuid()}"
        return all((self.tmpdir / f).is_relative_to(root) for f in files)


@dataclass
class Etcd:
    twin: TalosTwin
    bundle: Bundle
    talosctl: Path
    keyspace: dict[str, Any]

    def inputs(self, crash: Crash, **more: str) -> dict[str, Any]:
        wrapper = crash.tmp_path / "talosctl"
        wrapper.write_text(PAUSING_TALOSCTL.format(real=self.talosctl, ready=crash.ready))
        wrapper.chmod(0o755)
        ca = self.bundle.os_ca
        return {
            "talosctl": str(wrapper),
            "os_ca_crt": ca.crt_pem.decode(),
            "os_ca_key": ca.key_pem.decode(),
            "controllers": CONTROLLERS,
            **more,
        }


@pytest.fixture
def etcd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Etcd]:
    """Three running controllers on the Talos twin; etcd's keyspace holds the Flux key's Secret."""
    monkeypatch.setenv(WORK_DIR_ENV, str(tmp_path / "test-work"))  # this process's own talosctl calls
    twin = start_talos_twin(Delays(boot=0.05, install=0.05, reboot=0.05, etcd_start=0.05))
    data: dict[str, Any] = {"objects": {"secrets/flux-system/sops-age": SOPS_AGE}}
    twin.lab.etcd_store = EtcdStore(
        dump=lambda: {"objects": dict(data["objects"])},
        load=lambda dump: data.update(objects=dict(dump["objects"])),
        clear=lambda: data.update(objects={}),
    )
    bundle = make_bundle()
    for name, ip in CONTROLLERS:
        running(twin, bundle, ip, "controlplane", name)
    talosctl = install_talosctl_shim(tmp_path / "bin", twin.url)
    driver = TalosctlDriver(bundle.os_ca.crt_pem, Secret(bundle.os_ca.key_pem.decode()), talosctl_path=str(talosctl))
    driver.bootstrap(CONTROLLERS[0][1])
    wait_until(lambda: len(driver.etcd_members(CONTROLLERS[0][1])) == 3, 30, "three etcd members")
    try:
        yield Etcd(twin, bundle, talosctl, data)
    finally:
        twin.stop()


SECRET_VALUES = [FLUX_KEY.reveal().encode(), SOPS_AGE["data"]["age.agekey"].encode()]
AS_PID_1 = pytest.mark.parametrize("as_pid_1", [False, True], ids=["own-pid", "pid-1-in-a-namespace"])


@AS_PID_1
def test_kill_9_during_a_snapshot(etcd: Etcd, tmp_path: Path, as_pid_1: bool) -> None:
    crash = Crash(tmp_path, as_pid_1)
    recipient, _ = new_identity()
    pid = crash.kill_when_ready("snapshot", etcd.inputs(crash, backups=str(tmp_path / "backups"), recipient=recipient))
    assert pid == 1 if as_pid_1 else pid > 1
    left = crash.plaintext(SECRET_VALUES)
    assert any(p.endswith("etcd.snapshot") for p in left), left  # the crash left the snapshot, in plaintext
    crash.restart(pid)
    assert crash.plaintext(SECRET_VALUES) == []
    assert crash.all_in_work_root(left)


@AS_PID_1
def test_kill_9_during_a_restore(etcd: Etcd, tmp_path: Path, as_pid_1: bool) -> None:
    crash = Crash(tmp_path, as_pid_1)
    recipient, key = new_identity()
    key_file = tmp_path / "runner.agekey"
    key_file.write_text(key.reveal() + "\n")
    driver = TalosctlDriver(
        etcd.bundle.os_ca.crt_pem, Secret(etcd.bundle.os_ca.key_pem.decode()), talosctl_path=str(etcd.talosctl)
    )
    controllers = [Controller(n, ip) for n, ip in CONTROLLERS]
    store = BackupStore(tmp_path / "backups")
    info, _ = take_snapshot(driver, controllers, store, cluster="home", keep=3, recipients=[recipient], reason="t")
    node = etcd.twin.lab.nodes[CONTROLLERS[0][1]]
    assert node.config is not None
    lose_etcd(etcd.twin.lab, node.config.cluster_id)  # what a restore is for
    inputs = etcd.inputs(crash, backups=str(tmp_path / "backups"), snapshot_id=info.id, key_file=str(key_file))
    pid = crash.kill_when_ready("restore", inputs)
    assert pid == 1 if as_pid_1 else pid > 1
    left = crash.plaintext(SECRET_VALUES)
    assert any(p.endswith("etcd.snapshot") for p in left), left  # decrypted, for bootstrap --recover-from
    crash.restart(pid)
    assert crash.plaintext(SECRET_VALUES) == []
    assert crash.all_in_work_root(left)


@AS_PID_1
@pytest.mark.parametrize("stop_at_load", [1, 2], ids=["first-key-load", "second-key-load-or-built"])
def test_kill_9_while_a_kubernetes_client_is_built(tmp_path: Path, as_pid_1: bool, stop_at_load: int) -> None:
    crash = Crash(tmp_path, as_pid_1)
    ca = make_ca("kubernetes", "ecdsa")
    kubeconfig = admin_kubeconfig(ca.crt_pem.decode(), Secret(ca.key_pem.decode()), "home", "https://10.0.0.11:6443")
    user = yaml.safe_load(kubeconfig.reveal())["users"][0]["user"]
    client_key = base64.b64decode(user["client-key-data"])
    key_lines = [line.encode() for line in client_key.decode().splitlines() if "-----" not in line]
    pid = crash.kill_when_ready("kube-client", {"kubeconfig": kubeconfig.reveal(), "stop_at_load": stop_at_load})
    assert pid == 1 if as_pid_1 else pid > 1
    assert crash.plaintext([client_key, *key_lines]) == []  # the key never reached a file
    crash.restart(pid)
    assert crash.plaintext([client_key, *key_lines]) == []
