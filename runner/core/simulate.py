"""What each step does to the observed state, as a model: lets tests check plan → apply → re-plan is empty."""

from __future__ import annotations

from dataclasses import replace

from runner.core.derive import Desired
from runner.core.state import Observed, ObservedTalosNode, ObservedVm
from runner.core.steps import Kind, Plan, Step
from runner.core.vmdiff import GIB, MIB


def apply_step(observed: Observed, desired: Desired, step: Step) -> Observed:
    p = step.params
    name = p.get("node_name")
    dn = next((n for n in desired.nodes if n.name == name), None)
    vms = dict(observed.vms)
    talos = dict(observed.talos)
    cluster = observed.cluster
    images = observed.images
    k = step.kind
    if k is Kind.ENSURE_IMAGE:
        images = (images or frozenset()) | {p["volid"]}
    elif k in (Kind.CREATE_VM, Kind.UPDATE_VM) and dn is not None:
        vm = dn.vm
        old = vms.get(vm.vmid)
        status = old.status if old else "stopped"
        vms[vm.vmid] = ObservedVm(
            vm.vmid,
            vm.name,
            vm.node,
            status,
            frozenset(vm.tags),
            vm.memory * MIB,
            vm.cores,
            vm.disk_gb * GIB,
            pending_reboot=bool(p.get("needs_reboot")),
        )
    elif k in (Kind.START_VM, Kind.REBOOT_VM) and dn is not None:
        vms[dn.vm.vmid] = replace(vms[dn.vm.vmid], status="running", pending_reboot=False)
        if dn.name not in talos:
            talos[dn.name] = ObservedTalosNode(dn.name, dn.ip, "maintenance")
    elif k is Kind.STOP_VM:
        vms[p["vmid"]] = replace(vms[p["vmid"]], status="stopped")
    elif k is Kind.DELETE_VM:
        vms.pop(p["vmid"], None)
    elif k in (Kind.APPLY_CONFIG, Kind.UPGRADE_TALOS) and dn is not None:
        talos[dn.name] = ObservedTalosNode(
            dn.name,
            dn.ip,
            "running",
            dn.config_hash,
            dn.talos_version,
            dn.schematic_id,
            dn.kubernetes_version,
            etcd_member=dn.is_controller and cluster.bootstrapped,
        )
    elif k is Kind.BOOTSTRAP:
        cluster = replace(cluster, bootstrapped=True)
    elif k is Kind.WAIT_HEALTHY and step.target == "cluster":
        cluster = replace(cluster, kube_api_ready=True)
    elif k is Kind.INSTALL_FLUX:
        cluster = replace(cluster, flux_version=p["version"])
    elif k is Kind.WAIT_FLUX:
        cluster = replace(cluster, kustomizations_ready=True, vip_answers=True)
    elif k is Kind.RECORD_HANDOFF:
        cluster = replace(cluster, handoff_recorded=True)
    elif k is Kind.SWITCH_ENDPOINT:
        cluster = replace(cluster, endpoint=p["endpoint"])
    # MOVE_ENDPOINT changes only which endpoint the configs name; the next run derives its hashes for it.
    return Observed(vms=vms, images=images, talos=talos, cluster=cluster)


def apply_plan(observed: Observed, desired: Desired, plan: Plan) -> Observed:
    for step in plan.steps:
        observed = apply_step(observed, desired, step)
    return observed
