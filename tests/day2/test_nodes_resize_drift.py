"""Day-2 on a running cluster: disk growth, drift reported then corrected, a hand edit and a deleted VM corrected,
a Kubernetes minor upgrade (and a refused skip). Each story leaves every node in place, so they hold in any order
on one lab; removing nodes is test_node_removal's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.cli.lab.session import LabSession
from runner.core.secret import Secret
from runner.core.talos import parse_machine_config, render_documents
from runner.engine.reconcile.source import DirSource
from tests.day2.conftest import bootstrapped_lab, drift_run, plan_of, proxmox, push_change, pve_client, steps_of
from tests.e2e.labkit import SPEC_TALOS_V1_11, describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-nodes")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    """The reference cluster as pinned at Kubernetes v1.32.1, so that Kubernetes has a next minor on its Talos."""
    with bootstrapped_lab(tmp_path_factory.mktemp("resize-drift"), SPEC_TALOS_V1_11, boot_timeout=15) as session:
        yield session


GIB = 1024**3


def etcd_members(lab: LabSession) -> set[str]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {m.ip for members in talos.etcd.values() for m in members.values()}


def test_disk_grows_without_a_reboot(lab: LabSession) -> None:
    run = push_change(lab, "diskGb: 128\n  - name: talos-worker-02", "diskGb: 160\n  - name: talos-worker-02", "grow")
    assert run["result"] == "success", describe(run)
    steps = plan_of(lab, run)["steps"]
    assert [(s["kind"], s["target"], s["disruptive"]) for s in steps] == [("update_vm", "vm/303", False)]
    assert {v.vmid: v.maxdisk for v in proxmox(lab).list_vms()}[303] == 160 * GIB


def test_drift_is_reported_then_corrected(lab: LabSession) -> None:
    assert push_change(lab, "drift: correct", "drift: report", "report drift only")["result"] == "success"
    px = proxmox(lab)
    px.stop_vm("atlas", 304)  # someone stops a worker in the Proxmox UI...
    pve_client(lab).nodes("atlas").qemu(303).config.put(memory=4096)  # ...and shrinks another's memory,
    px.reboot_vm("atlas", 303)  # which takes effect when it reboots
    reported = drift_run(lab)
    assert reported["result"] == "success", describe(reported)
    assert steps_of(lab, reported) == []  # reported only
    snapshot = lab.store.snapshot("home") or {}
    drift = " ".join(snapshot["drift"])
    assert "VM 304 talos-worker-02: VM is stopped" in drift and "memory 4096 MiB→16384 MiB" in drift
    assert {v.vmid: v.status for v in px.list_vms()}[304] == "stopped"

    corrected = push_change(lab, "drift: report", "drift: correct", "correct drift")
    assert corrected["result"] == "success", describe(corrected)
    done = steps_of(lab, corrected)
    # The memory fix reboots 303: its node is drained first and uncordoned after.
    assert (
        done.index("node/talos-worker-01/drain")
        < done.index("vm/303/update")
        < done.index("node/talos-worker-01/uncordon")
    ), done
    vms = {v.vmid: v for v in px.list_vms()}
    assert vms[304].status == "running" and vms[303].maxmem == 16384 * 1024 * 1024
    assert (lab.store.snapshot("home") or {})["drift"] == []


def test_a_hand_edited_talos_config_and_a_deleted_vm_are_corrected(lab: LabSession) -> None:
    _, conns, _, _ = lab.engine.prepare(DirSource(lab.clone), "home")
    try:
        current = parse_machine_config(conns.talos.machine_config("10.0.0.21").reveal())
        current[0]["machine"]["sysctls"] = {"vm.swappiness": "10"}  # someone ran talosctl apply-config by hand
        conns.talos.apply_config("10.0.0.21", Secret(render_documents(current)), insecure=False, mode="no-reboot")
    finally:
        conns.close()
    px = proxmox(lab)
    px.stop_vm("atlas", 304)
    px.delete_vm("atlas", 304)  # and someone deleted a worker's VM

    corrected = drift_run(lab)
    assert corrected["result"] == "success", describe(corrected)
    steps = {s["id"]: s for s in plan_of(lab, corrected)["steps"]}
    assert "vm/304/create" in steps and "node/talos-worker-02/config" in steps
    hand_edit = steps["node/talos-worker-01/config"]
    assert any("sysctls" in line for line in hand_edit["params"]["changes"]), hand_edit
    assert {v.vmid: v.status for v in px.list_vms()}[304] == "running"
    after = drift_run(lab)
    assert after["result"] == "success" and steps_of(lab, after) == []  # converged: nothing left to do


def test_kubernetes_upgrade_refuses_a_downgrade_then_rolls_one_minor(lab: LabSession) -> None:
    downgrade = push_change(lab, "version: v1.32.1", "version: v1.31.0", "k8s 1.31")
    assert downgrade["result"] == "failure"
    assert "Kubernetes downgrade v1.32.1 -> v1.31.0 is not supported" in (downgrade["error"] or "")
    upgraded = push_change(lab, "version: v1.31.0", "version: v1.33.2", "k8s 1.33")
    assert upgraded["result"] == "success", describe(upgraded)
    steps = [s for s in plan_of(lab, upgraded)["steps"] if s["kind"] == "upgrade_kubernetes"]
    # upgrade-k8s order: kube-apiserver on each controller first
    assert [s["target"] for s in steps][:3] == ["node/talos-cp-01", "node/talos-cp-02", "node/talos-cp-03"]
    assert all("v1.32.1→v1.33.2" in s["reason"] for s in steps)
    done = steps_of(lab, upgraded)
    for node in ("talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"):
        # each node is drained around its kubelet restart and uncordoned after
        drain, kubelet = done.index(f"node/{node}/drain"), done.index(f"kubernetes/kubelet/{node}")
        assert drain < kubelet < done.index(f"node/{node}/uncordon"), done
