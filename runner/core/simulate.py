"""What each step does to the observed state, as a model: lets tests check plan → apply → re-plan is empty."""

from __future__ import annotations

from dataclasses import replace

from runner.core.derive import Desired
from runner.core.state import Observed, ObservedTalosNode, ObservedVm
from runner.core.steps import Kind, Plan, Step
from runner.core.vmdiff import GIB, MIB


def apply_step(observed: Observed, desired: Desired, step: Step) -> Observed:
    params = step.params
    name = params.get("node_name")
    node = next((n for n in desired.nodes if n.name == name), None)
    vms = dict(observed.vms)
    talos = dict(observed.talos)
    cluster = observed.cluster
    images = observed.images
    kind = step.kind
    if kind is Kind.ENSURE_IMAGE:
        images = (images or frozenset()) | {params["volid"]}
    elif kind in (Kind.CREATE_VM, Kind.UPDATE_VM) and node is not None:
        vm = node.vm
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
        )
    elif kind in (Kind.START_VM, Kind.REBOOT_VM) and node is not None:
        vms[node.vm.vmid] = replace(vms[node.vm.vmid], status="running", pending=None)
        if node.name not in talos:
            talos[node.name] = ObservedTalosNode(node.name, node.ip, "maintenance")
    elif kind is Kind.STOP_VM:
        vms[params["vmid"]] = replace(vms[params["vmid"]], status="stopped")
    elif kind is Kind.DELETE_VM:
        vms.pop(params["vmid"], None)
    elif kind in (Kind.APPLY_CONFIG, Kind.UPGRADE_TALOS) and node is not None:
        talos[node.name] = ObservedTalosNode(
            node.name,
            node.ip,
            "running",
            node.config_hash,
            node.talos_version,
            node.schematic_id,
            node.kubernetes_version,
            etcd_member=node.is_controller and cluster.bootstrapped,
        )
    elif kind is Kind.UPGRADE_KUBERNETES and node is not None and params["component"] == "kubelet":
        state = talos[node.name]
        talos[node.name] = replace(
            state,
            kubernetes_version=node.kubernetes_version,
            config_hash=params.get("config_hash") or state.config_hash,
        )
    elif kind is Kind.BOOTSTRAP:
        cluster = replace(cluster, bootstrapped=True)
    elif kind is Kind.WAIT_HEALTHY and step.target == "cluster":
        cluster = replace(cluster, kube_api_ready=True)
    elif kind is Kind.INSTALL_FLUX or kind is Kind.UPGRADE_FLUX:
        cluster = replace(
            cluster,
            flux_version=params["version"],
            flux_recipient=desired.flux_recipient,
            flux_settings=desired.flux_settings,
        )
    elif kind is Kind.REPLACE_FLUX_KEY:
        cluster = replace(cluster, flux_recipient=params["recipient"])
    elif kind is Kind.APPLY_FLUX_SETTINGS:
        cluster = replace(cluster, flux_settings=desired.flux_settings)
    elif kind is Kind.WAIT_FLUX:
        cluster = replace(cluster, kustomizations_ready=True, vip_answers=True)
    elif kind is Kind.RECORD_HANDOFF:
        cluster = replace(cluster, handoff_recorded=True)
    elif kind is Kind.SWITCH_ENDPOINT:
        cluster = replace(cluster, endpoint=params["endpoint"])
    elif kind is Kind.DRAIN_NODE:
        cluster = replace(cluster, cordoned=cluster.cordoned | {str(name)})
    elif kind in (Kind.UNCORDON_NODE, Kind.DELETE_K8S_NODE):  # a deleted Node is nobody's cordon any more
        cluster = replace(cluster, cordoned=cluster.cordoned - {str(name)})
    # MOVE_ENDPOINT changes only which endpoint the configs name; the next run derives its hashes for it.
    return Observed(vms=vms, images=images, talos=talos, cluster=cluster)


def apply_plan(observed: Observed, desired: Desired, plan: Plan) -> Observed:
    for step in plan.steps:
        observed = apply_step(observed, desired, step)
    return observed
