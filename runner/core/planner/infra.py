"""Infrastructure phase: images, VMs (create, resize, start), deletions only when allowed."""

from __future__ import annotations

from typing import Any

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.planner.down import held
from runner.core.state import Observed, ObservedVm
from runner.core.steps import Kind
from runner.core.vmdiff import vm_changes

CONTROLLER_TAG = "role-controlplane"


def _describe(changes: list[str]) -> str:
    return ", ".join(changes)


def plan_node_vm(builder: PlanBuilder, desired: Desired, node: DesiredNode, observed: Observed) -> None:
    vm = node.vm
    observed_vm = observed.vms.get(vm.vmid)
    if observed_vm is not None and (not observed_vm.managed or f"cluster-{desired.cluster}" not in observed_vm.tags):
        owner = "the runner does not manage" if not observed_vm.managed else "belongs to another cluster"
        builder.conflicts.append(
            f"VMID {vm.vmid} (wanted for {node.name}) is held by VM '{observed_vm.name}' which {owner}; "
            "it will not be touched"
        )
        builder.blocked.add(node.name)
        return
    if node.name in builder.down:
        return  # its VM runs, its Talos does not answer: changing the VM now would only hide why
    vm_steps = builder.on_vm(vm.vmid, node.name)
    if observed_vm is None:
        image = vm.image
        image_step = None
        if observed.images is None or image.volid not in observed.images:
            image_step = builder.add(
                f"image/{image.filename}",
                Kind.ENSURE_IMAGE,
                f"image/{image.filename}",
                f"download Talos {node.talos_version} image for schematic {node.schematic_id[:12]} to {image.storage}",
                volid=image.volid,
                url=image.url,
                node=image.node,
                storage=image.storage,
                filename=image.filename,
            )
        create = vm_steps.add(
            "create",
            Kind.CREATE_VM,
            f"create VM {vm.vmid} {node.name}: {vm.cores} cores, {vm.memory} MiB, {vm.disk_gb} GiB, MAC {vm.mac}",
            image_step,
        )
        builder.vm_ready[node.name] = vm_steps.add(
            "start", Kind.START_VM, f"start new VM {vm.vmid} {node.name}", create
        )
        return

    last: str | None = None
    running = observed_vm.status == "running"
    # A stopped VM's start applies what Proxmox holds pending: only a running one needs a reboot for it.
    changes = [c for c in vm_changes(vm, observed_vm) if running or not c.pending]
    shrink = [c for c in changes if c.field == "disk" and int(c.old.split()[0]) > vm.disk_gb]
    if shrink:
        builder.conflicts.append(
            f"VM {vm.vmid} {node.name}: disk {shrink[0].old} -> {shrink[0].new} would shrink it; disks only grow"
        )
        builder.blocked.add(node.name)
        return
    if changes:
        real = [c for c in changes if c.field != "tags"]
        # The tag says we set it, so the difference came from outside; a value we sent that Proxmox holds for
        # the next start is no drift: a run was stopped before its reboot, and this one finishes the change.
        drift = observed_vm.spec_hash == vm.spec_hash and any(not c.pending for c in real)
        needs_reboot = running and any(c.needs_reboot for c in real)
        what = _describe([f"{c.field} {c.old}→{c.new}" + (" (pending in Proxmox)" if c.pending else "") for c in real])
        what = what or "spec tag refresh"
        reason = ("drift: " if drift else "") + f"vm {vm.vmid} {what}" + (", needs reboot" if needs_reboot else "")
        if drift and desired.drift == "report":
            builder.notes.append(f"drift on VM {vm.vmid} {node.name}: {what} (reported only: drift is set to report)")
        elif not (needs_reboot and held(builder, node, reason)):
            last = vm_steps.add(
                "update",
                Kind.UPDATE_VM,
                reason,
                disruptive=needs_reboot,
                changes={c.field: [c.old, c.new] for c in changes},
                # The step itself reboots and waits for the node to be healthy again, so the disruption is one unit.
                needs_reboot=needs_reboot,
            )
    if not running:
        if desired.drift == "report" and last is None:  # nothing of the spec changed: only report the stop
            builder.notes.append(f"drift on VM {vm.vmid} {node.name}: VM is {observed_vm.status} (reported only)")
            builder.powered_off.add(node.name)
        else:
            last = vm_steps.add(
                "start", Kind.START_VM, f"start VM {vm.vmid} {node.name} (it is {observed_vm.status})", last
            )
    builder.vm_ready[node.name] = last


def _owned(desired: Desired, observed: Observed) -> dict[int, ObservedVm]:
    return {vmid: vm for vmid, vm in observed.vms.items() if vm.managed and f"cluster-{desired.cluster}" in vm.tags}


def plan_removals(builder: PlanBuilder, desired: Desired, observed: Observed, after: str | None) -> None:
    """VMs of this cluster that left the spec: drained out of Kubernetes and etcd first, then deleted.

    Controllers leave etcd one at a time through a remaining controller, and only while quorum holds:
    removing more than a minority of the current controllers at once is refused.
    """
    wanted = {n.vm.vmid for n in desired.nodes}
    owned = _owned(desired, observed)
    gone = [vm for vmid, vm in sorted(owned.items()) if vmid not in wanted]
    if not gone:
        return
    if not desired.allow_destroy:
        for vm in gone:
            builder.notes.append(
                f"VM {vm.vmid} '{vm.name}' is no longer in the spec; set allowDestroy: true to delete it"
            )
        return
    current_cps = [vm for vm in owned.values() if CONTROLLER_TAG in vm.tags]
    leaving_cps = [vm for vm in gone if CONTROLLER_TAG in vm.tags]
    if leaving_cps and len(current_cps) - len(leaving_cps) < len(current_cps) // 2 + 1:
        builder.conflicts.append(
            f"removing {len(leaving_cps)} of {len(current_cps)} controllers at once would lose etcd quorum; "
            "remove one controller per change"
        )
        return
    down = [n.name for n in desired.controllers if n.name in builder.down]
    if leaving_cps and len(current_cps) - len(leaving_cps) - len(down) < len(current_cps) // 2 + 1:
        builder.notes.append(
            f"removing {', '.join(vm.name for vm in leaving_cps)} waits while {', '.join(down)} "
            f"{'does' if len(down) == 1 else 'do'} not answer: etcd would lose its quorum"
        )
        return
    previous = after
    via = next((n for n in desired.controllers if n.name not in builder.down), desired.bootstrap_node)
    for vm in gone:
        vm_steps = builder.on_vm(vm.vmid, vm.name)
        for action, kind, reason, params in _removal_steps(vm, via):
            previous = vm_steps.add(action, kind, reason, previous, disruptive=True, **params)


def _removal_steps(vm: ObservedVm, via: DesiredNode) -> list[tuple[str, Kind, str, dict[str, Any]]]:
    """What takes one VM out, in order (each step waits for the one before): etcd, Kubernetes, stop, delete."""
    steps: list[tuple[str, Kind, str, dict[str, Any]]] = []
    if CONTROLLER_TAG in vm.tags:
        reason = f"remove {vm.name} from etcd (through {via.name}) before deleting it"
        steps.append(("leave", Kind.ETCD_LEAVE, reason, {"via": via.ip}))
    steps.append(("unregister", Kind.DELETE_K8S_NODE, f"cordon {vm.name} and delete its Kubernetes Node", {}))
    if vm.status == "running":
        steps.append(("stop", Kind.STOP_VM, f"stop VM {vm.vmid} {vm.name} before deleting it", {}))
    steps.append(("delete", Kind.DELETE_VM, f"delete VM {vm.vmid} {vm.name}: removed from the spec", {}))
    return steps
