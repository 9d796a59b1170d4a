"""A JSON-able picture of a cluster as last observed: what the UI and API show per node.

It also holds enough of the observation (spec tags, config hashes) to plan against it again without
contacting anything: a fork's pull request is planned offline against the last recorded picture.
"""

from __future__ import annotations

from typing import Any

from runner.core.derive import Desired
from runner.core.state import MANAGED_TAG, SPEC_TAG_PREFIX, Observed, ObservedCluster, ObservedTalosNode, ObservedVm
from runner.core.steps import Plan
from runner.core.vmdiff import MIB, managed_pending

# The VM config options the planner compares (runner.core.vmdiff), when the config was read.
PLANNED_OPTIONS = ("memory", "cores", "scsi0", "net0", "onboot")

CLUSTER_TAG_PREFIX = "cluster-"


def snapshot(desired: Desired, observed: Observed, plan: Plan) -> dict[str, Any]:
    pending = {s.params.get("node_name") for s in plan.steps if s.params.get("node_name")}
    nodes = []
    for dn in desired.nodes:
        vm = observed.vms.get(dn.vm.vmid)
        talos = observed.talos.get(dn.name)
        nodes.append(
            {
                "name": dn.name,
                "role": dn.role,
                "ip": dn.ip,
                "vmid": dn.vm.vmid,
                "vm": vm.status if vm else "absent",
                "managed": bool(vm and vm.managed),
                "vm_cluster": _cluster_of(vm) if vm and vm.managed else None,  # whose VM it is: maybe another cluster's
                "cores": vm.maxcpu if vm else None,
                "memory_mib": vm.maxmem // MIB if vm else None,
                "talos": talos.stage if talos else "unreachable",
                "talos_version": talos.talos_version if talos else None,
                "kubernetes_version": dn.kubernetes_version if talos and talos.stage == "running" else None,
                "in_sync": dn.name not in pending and bool(talos and talos.config_hash == dn.config_hash),
                # What an offline plan needs to see the same differences again.
                "vm_name": vm.name if vm else None,
                "pve_node": vm.node if vm else None,
                "disk_bytes": vm.maxdisk if vm else None,
                "spec_hash": vm.spec_hash if vm else None,
                "vm_config": {k: v for k, v in vm.config.items() if k in PLANNED_OPTIONS} if vm and vm.config else None,
                "vm_pending": managed_pending(vm.pending) if vm and vm.pending is not None else None,
                "config_hash": talos.config_hash if talos else None,
                "schematic_id": talos.schematic_id if talos else None,
                "observed_kubernetes_version": talos.kubernetes_version if talos else None,
                "ran_before": bool(talos and talos.ran_before),  # silent now: crashed, only awaited
            }
        )
    c = observed.cluster
    return {
        "cluster": desired.cluster,
        "nodes": nodes,
        "bootstrapped": c.bootstrapped,
        "kube_api_ready": c.kube_api_ready,
        "flux_version": c.flux_version,
        "kustomizations_ready": c.kustomizations_ready,
        "handoff": c.handoff_recorded,
        "endpoint": c.endpoint or desired.initial_endpoint,
        "flux_recipient": c.flux_recipient,
        "flux_settings": [list(kv) for kv in c.flux_settings] if c.flux_settings is not None else None,
        "cordoned": sorted(c.cordoned),
        "adopted": c.adopted,
        "pending_steps": [s.to_json() for s in plan.steps],
        "conflicts": list(plan.conflicts),
        "drift": plan.drift,
    }


def _cluster_of(vm: ObservedVm) -> str:
    return next((t.removeprefix(CLUSTER_TAG_PREFIX) for t in sorted(vm.tags) if t.startswith(CLUSTER_TAG_PREFIX)), "")


def observed_from_snapshot(picture: dict[str, Any] | None) -> Observed:
    """The observation a snapshot recorded, as the planner's input (nothing recorded: nothing exists)."""
    if not picture:
        return Observed()
    cluster = str(picture.get("cluster") or "")
    vms: dict[int, ObservedVm] = {}
    talos: dict[str, ObservedTalosNode] = {}
    for node in picture.get("nodes") or []:
        if node.get("vm", "absent") != "absent":
            owner = node.get("vm_cluster", cluster)  # pictures recorded before it was kept: this cluster's
            tags = (
                {MANAGED_TAG, f"{CLUSTER_TAG_PREFIX}{owner}", f"role-{node.get('role')}"}
                if node.get("managed")
                else set()
            )
            if node.get("managed") and node.get("spec_hash"):
                tags.add(f"{SPEC_TAG_PREFIX}{node['spec_hash']}")
            vms[int(node["vmid"])] = ObservedVm(
                vmid=int(node["vmid"]),
                name=str(node.get("vm_name") or node["name"]),
                node=str(node.get("pve_node") or ""),
                status=str(node["vm"]),
                tags=frozenset(tags),
                maxmem=int(node.get("memory_mib") or 0) * MIB,
                maxcpu=int(node.get("cores") or 0),
                maxdisk=int(node.get("disk_bytes") or 0),
                config=node.get("vm_config"),
                pending=node.get("vm_pending"),
            )
        if node.get("talos", "unreachable") == "unreachable" and node.get("ran_before"):
            talos[str(node["name"])] = ObservedTalosNode(
                str(node["name"]), str(node["ip"]), "unreachable", ran_before=True
            )
        elif node.get("talos", "unreachable") != "unreachable":
            talos[str(node["name"])] = ObservedTalosNode(
                str(node["name"]),
                str(node["ip"]),
                node["talos"],
                config_hash=node.get("config_hash"),
                talos_version=node.get("talos_version"),
                schematic_id=node.get("schematic_id"),
                kubernetes_version=node.get("observed_kubernetes_version"),
            )
    facts = ObservedCluster(
        bootstrapped=bool(picture.get("bootstrapped")),
        kube_api_ready=bool(picture.get("kube_api_ready")),
        flux_version=picture.get("flux_version"),
        kustomizations_ready=bool(picture.get("kustomizations_ready")),
        handoff_recorded=bool(picture.get("handoff")),
        endpoint=picture.get("endpoint"),
        flux_recipient=picture.get("flux_recipient"),
        flux_settings=(
            tuple((str(k), str(v)) for k, v in picture["flux_settings"])
            if picture.get("flux_settings") is not None
            else None
        ),
        cordoned=frozenset(str(n) for n in picture.get("cordoned") or ()),
        adopted=bool(picture.get("adopted")),
    )
    return Observed(vms=vms, talos=talos, cluster=facts)
