"""A JSON-able picture of a cluster as last observed: what the UI and API show per node."""

from __future__ import annotations

from typing import Any

from runner.core.derive import Desired
from runner.core.state import Observed
from runner.core.steps import Plan
from runner.core.vmdiff import MIB


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
                "cores": vm.maxcpu if vm else None,
                "memory_mib": vm.maxmem // MIB if vm else None,
                "talos": talos.stage if talos else "unreachable",
                "talos_version": talos.talos_version if talos else None,
                "kubernetes_version": dn.kubernetes_version if talos and talos.stage == "running" else None,
                "in_sync": dn.name not in pending and bool(talos and talos.config_hash == dn.config_hash),
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
        "pending_steps": [s.to_json() for s in plan.steps],
        "conflicts": list(plan.conflicts),
        "drift": [n for n in plan.notes if n.startswith("drift")]
        + [s.reason for s in plan.steps if s.reason.startswith("drift")],
    }
