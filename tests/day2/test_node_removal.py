"""Removing nodes from cluster.yaml: nothing is destroyed without allowDestroy; a removed worker is drained first
and never uncordoned; a removed controller is drained and leaves etcd before its VM goes.

Each story removes a node no other story here needs and sets allowDestroy as it needs it, so the two hold on
one lab in either order (or each on a lab of its own)."""

from __future__ import annotations

import pytest

from runner.cli.lab.session import LabSession
from tests.day2.conftest import CLUSTER_YAML, proxmox, push_change, steps_of
from tests.e2e.labkit import describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("day2-removal")]


def allow_destroy(lab: LabSession, allowed: bool) -> None:
    want, other = (f"allowDestroy: {'true' if a else 'false'}" for a in (allowed, not allowed))
    if want not in (lab.clone / CLUSTER_YAML).read_text():
        run = push_change(lab, other, want, want)
        assert run["result"] == "success", describe(run)


def drop_node(text: str, name: str) -> str:
    start = text.index(f"  - name: {name}\n")
    end = text.find("\n  - name:", start + 1)
    end = text.index("\n\n", start) if end == -1 else end
    return text[:start] + text[end + 1 :]


def vmids(lab: LabSession) -> set[int]:
    return {v.vmid for v in proxmox(lab).list_vms()}


def kube_nodes(lab: LabSession) -> set[str]:
    twin = lab.world.kube_twin
    return {n["metadata"]["name"] for n in twin.store.list(twin.catalog.by_kind("v1", "Node"), None)}


def etcd_members(lab: LabSession) -> set[str]:
    talos = lab.world.talos.lab
    with talos.lock:
        return {m.ip for members in talos.etcd.values() for m in members.values()}


def test_a_removed_worker_is_kept_without_allow_destroy_then_drained_first_and_never_uncordoned(
    lab: LabSession,
) -> None:
    allow_destroy(lab, False)
    text = (lab.clone / CLUSTER_YAML).read_text()
    kept = push_change(lab, text, drop_node(text, "talos-worker-02"), "drop worker-02 (no allowDestroy)")
    assert kept["result"] == "success" and steps_of(lab, kept) == [], describe(kept)
    assert 304 in vmids(lab)

    removed = push_change(lab, "allowDestroy: false", "allowDestroy: true", "allow destroy")
    assert removed["result"] == "success", describe(removed)
    assert steps_of(lab, removed) == [
        "node/talos-worker-02/drain",
        "vm/304/unregister",
        "vm/304/stop",
        "vm/304/delete",
    ]
    assert 304 not in vmids(lab)
    assert "talos-worker-02" not in kube_nodes(lab)


def test_a_removed_controller_is_drained_and_leaves_etcd_before_its_vm_goes(lab: LabSession) -> None:
    allow_destroy(lab, True)
    text = (lab.clone / CLUSTER_YAML).read_text()
    gone = push_change(lab, text, drop_node(text, "talos-cp-03"), "drop cp-03")
    assert gone["result"] == "success", describe(gone)
    executed = steps_of(lab, gone)
    assert executed.index("node/talos-cp-03/drain") < executed.index("vm/302/leave") < executed.index("vm/302/delete")
    assert "node/talos-cp-03/uncordon" not in executed
    assert etcd_members(lab) == {"10.0.0.11", "10.0.0.12"}
    assert 302 not in vmids(lab)
    assert "talos-cp-03" not in kube_nodes(lab)
