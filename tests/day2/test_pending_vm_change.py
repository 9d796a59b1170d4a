"""A VM change left pending in Proxmox is finished by the next run.

The runner is killed between the config POST and the reboot: Proxmox holds the new memory in `[PENDING]`
(memory is not hot-pluggable on a running VM) and, since the spec tag is hot-pluggable, the tag already
names the new spec. The next run must see the pending value, drain the node, reboot the VM once, wait for it
and uncordon it; the run after that has nothing to do.
"""

from __future__ import annotations

import pytest

from runner.cli.lab.session import LabSession
from runner.core.derive import derive
from runner.core.validate import validate_text
from runner.lab.kube import KubeTwin
from tests.day2.conftest import CLUSTER_YAML, drift_run, plan_of, pve_client, steps_of
from tests.e2e.labkit import describe, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-pending")]
NODE, VMID = "talos-worker-02", 304


def more_memory(text: str) -> str:
    start = text.index(f"  - name: {NODE}\n")
    return text[:start] + text[start:].replace("memory: 16384", "memory: 20480", 1)


def node_object(twin: KubeTwin) -> dict[str, object]:
    rt = twin.catalog.by_kind("v1", "Node")
    assert rt is not None
    node = twin.store.get(rt, None, NODE)
    assert node is not None
    return node


def reboots(lab: LabSession) -> int:
    return len(lab.world.proxmox_state.calls.matching("POST", f"/nodes/*/qemu/{VMID}/status/reboot"))


def test_a_change_left_pending_by_a_killed_run_is_finished_by_the_next(lab: LabSession) -> None:
    old = (lab.clone / CLUSTER_YAML).read_text()
    new = more_memory(old)
    cluster, _ = validate_text(new, CLUSTER_YAML)
    wanted = derive(cluster).node(NODE).vm
    state = lab.world.proxmox_state
    # What the run did before it was killed: one config POST with the new memory and the new spec tag
    # (the handler's first half); the reboot after it never happened.
    pve = pve_client(lab).nodes(state.node)
    upid = pve.qemu(VMID).config.post(memory=str(wanted.memory), tags=";".join(wanted.tags))
    wait_until(lambda: pve.tasks(upid).status.get()["status"] == "stopped", "the config task")
    with state.lock:
        vm = state.vms[VMID]
        assert vm.status == "running" and vm.pending == {"memory": "20480"}  # PVE keeps it for the next boot
        assert vm.config["memory"] == "16384" and f"spec-{wanted.spec_hash}" in vm.config["tags"]
    before = reboots(lab)

    commit = lab.commit({CLUSTER_YAML: new}, f"more memory for {NODE}")
    lab.push()
    run = lab.wait_for_run(commit, timeout=300)  # a bound for a broken run, not a speed target
    assert run["result"] == "success", describe(run)
    steps = steps_of(lab, run)
    update = next(s for s in plan_of(lab, run)["steps"] if s["id"] == f"vm/{VMID}/update")  # type: ignore[index, union-attr]
    assert "(pending in Proxmox)" in update["reason"] and "drift" not in update["reason"], update["reason"]
    assert steps[0] == f"node/{NODE}/drain" and steps[-1] == f"node/{NODE}/uncordon", steps
    assert reboots(lab) - before == 1, "exactly one reboot applies the pending memory"
    with state.lock:
        assert state.vms[VMID].pending == {} and state.vms[VMID].config["memory"] == "20480"
    node = node_object(lab.world.kube_twin)
    assert not node["spec"].get("unschedulable"), "the node is schedulable again"  # type: ignore[attr-defined]

    again = drift_run(lab)
    assert again["result"] == "success", describe(again)
    assert steps_of(lab, again) == [], "nothing is left to do"
    assert reboots(lab) - before == 1
