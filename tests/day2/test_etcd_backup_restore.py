"""etcd snapshots and disaster recovery, rehearsed end to end in the lab.

Objects created in the Kubernetes twin are snapshotted through the runner, every controller's etcd is lost
(a lab fault: data unusable, no members, the API gone), `runner restore` follows Talos' recovery procedure,
and the same objects are back. A restore refuses while quorum holds; a failing snapshot stops a disruptive
controller step before the VM is touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from runner.cli.lab.session import LabSession
from runner.cli.main import app
from runner.engine.reconcile.outcome import NullReporter
from runner.engine.reconcile.source import DirSource
from runner.lab.talos import NodeFaults
from runner.lab.talos.etcd_snapshot import lose_etcd
from tests.day2.conftest import CLUSTER_YAML, bootstrapped_lab, push_change, steps_of
from tests.e2e.labkit import describe, queue_empty, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-etcd")]  # one lab; each story asks for backups itself
CONTROLLERS = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    workdir = tmp_path_factory.mktemp("dr")
    with bootstrapped_lab(workdir, boot_timeout=30, backup_dir=workdir / "backups") as session:
        yield session


def cli(lab: LabSession, *args: str) -> Any:
    env = {
        "RUNNER_CONFIG": str(lab.config_file),
        "RUNNER_BACKUP_DIR": str(lab.settings.backup_dir),
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, list(args), env=env)


def kube_objects(lab: LabSession) -> dict[str, Any]:
    twin = lab.world.kube_twin
    cm_rt = twin.catalog.by_kind("v1", "ConfigMap")
    deploy_rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert cm_rt is not None and deploy_rt is not None
    cm = twin.store.find(cm_rt, "default", "app-settings")
    deploy = twin.store.find(deploy_rt, "default", "web")
    return {
        "configmap": cm and (cm["metadata"]["uid"], cm["data"]),
        "deployment": deploy and (deploy["metadata"]["uid"], deploy["spec"]["replicas"]),
    }


def create_objects(lab: LabSession) -> None:
    twin = lab.world.kube_twin
    cm_rt = twin.catalog.by_kind("v1", "ConfigMap")
    deploy_rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert cm_rt is not None and deploy_rt is not None
    twin.store.create(cm_rt, "default", {"metadata": {"name": "app-settings"}, "data": {"color": "blue"}}, "op")
    labels = {"app": "web"}
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }
    twin.store.create(deploy_rt, "default", body, "op")


def cluster_id(lab: LabSession) -> str:
    node = lab.world.talos.lab.nodes[CONTROLLERS[0]]
    assert node.config is not None
    return node.config.cluster_id


def ask_for_backups(lab: LabSession) -> None:
    """Each story starts from a spec that asks for backups, whether or not another story on this lab added it."""
    if "\nbackups:" not in (lab.clone / CLUSTER_YAML).read_text():
        run = push_change(lab, "\nflux:", "\nbackups:\n  every: 6h\n  keep: 3\n\nflux:", "back up etcd every 6h")
        assert run["result"] == "success", describe(run)


def test_snapshot_wipe_restore_brings_the_same_objects_back(lab: LabSession) -> None:
    ask_for_backups(lab)
    create_objects(lab)
    before = kube_objects(lab)
    assert before["configmap"] and before["deployment"]

    api = f"{lab.settings.public_url}/api/backups"
    scheduled = httpx.get(api, timeout=10).json()["backups"]
    assert [b["reason"] for b in scheduled] == ["schedule"]  # the first reconcile with backups: none was there

    taken = cli(lab, "backup", "now", str(lab.clone / "clusters/home"))
    assert taken.exit_code == 0, taken.output
    listed = httpx.get(api, timeout=10).json()["backups"]
    assert [b["reason"] for b in listed] == ["manual", "schedule"]
    snap = listed[0]
    assert snap["cluster"] == "home" and snap["controller"] == "talos-cp-01" and snap["reason"] == "manual"
    assert snap["talos_version"] == "v1.13.9" and snap["kubernetes_version"] == lab.cluster.kubernetes.version
    stored = Path(lab.settings.backup_dir) / "home" / f"{snap['id']}.etcd.age"
    assert stored.read_bytes().startswith(b"age-encryption.org/v1")  # never a plaintext snapshot on disk
    assert b"app-settings" not in stored.read_bytes()
    table = cli(lab, "backup", "list", "home")
    assert snap["id"] in table.output and "talos-cp-01" in table.output

    refused = cli(lab, "restore", str(lab.clone / "clusters/home"), "--snapshot", snap["id"])
    assert refused.exit_code == 1
    assert "still has quorum (3 of 3 controllers answer)" in refused.output
    assert kube_objects(lab) == before

    lose_etcd(lab.world.talos.lab, cluster_id(lab))
    assert kube_objects(lab) == {"configmap": None, "deployment": None}

    restored = cli(lab, "restore", str(lab.clone / "clusters/home"), "--snapshot", snap["id"])
    assert restored.exit_code == 0, restored.output
    assert f"cluster home restored from {snap['id']}" in restored.output
    assert kube_objects(lab) == before
    talos = lab.world.talos.lab
    wait_until(lambda: len(talos.members(cluster_id(lab))) == 3, "all three controllers back in etcd")


def test_a_failed_snapshot_stops_the_disruptive_controller_step(lab: LabSession) -> None:
    ask_for_backups(lab)
    talos = lab.world.talos.lab
    for ip in CONTROLLERS:
        talos.set_faults(ip, NodeFaults(etcd_snapshot_fails=True))
    spec = (lab.clone / CLUSTER_YAML).read_text()
    try:
        before = lab.world.proxmox_state.vms[300].effective().get("memory")
        run = push_change(lab, "memory: 8192", "memory: 12288", "more memory for talos-cp-01")
        assert run["result"] == "failure", describe(run)
        assert "etcd snapshot of cluster home failed, so nothing disruptive was started" in (run["error"] or "")
        assert steps_of(lab, run)[0] == "etcd_snapshot"  # the update of VM 300 never started
        assert lab.world.proxmox_state.vms[300].effective().get("memory") == before  # the VM was not touched
        # What the service hands its "snapshot_failed" notice: the same reconcile, seen from the engine.
        outcome = lab.engine.reconcile(DirSource(lab.clone), "home", apply=True, reporter=NullReporter())
        assert outcome.result is not None and outcome.result.failed_step == "etcd_snapshot"
        assert (outcome.snapshot_failed or "").startswith("etcd snapshot of cluster home failed")
    finally:
        for ip in CONTROLLERS:
            talos.set_faults(ip, NodeFaults())
    # Take the change back, so no later reconcile on this lab reboots talos-cp-01 behind another story's back. The
    # spec is then the one last applied: the runner takes the push in and has nothing to run for it.
    lab.commit({CLUSTER_YAML: spec}, "keep talos-cp-01 as it was")
    lab.push()
    wait_until(lambda: queue_empty(lab), "the runner to take in the revert")
