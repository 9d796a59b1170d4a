"""Infrastructure phase: images, VMs (create, resize, start), deletions only when allowed."""

from __future__ import annotations

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed, ObservedVm
from runner.core.steps import Kind
from runner.core.vmdiff import vm_changes

CONTROLLER_TAG = "role-controlplane"


def _describe(changes: list[str]) -> str:
    return ", ".join(changes)


def plan_node_vm(b: PlanBuilder, desired: Desired, dn: DesiredNode, observed: Observed) -> None:
    vm = dn.vm
    ov = observed.vms.get(vm.vmid)
    target = f"vm/{vm.vmid}"
    if ov is not None and (not ov.managed or f"cluster-{desired.cluster}" not in ov.tags):
        owner = "the runner does not manage" if not ov.managed else "belongs to another cluster"
        b.conflicts.append(
            f"VMID {vm.vmid} (wanted for {dn.name}) is held by VM '{ov.name}' which {owner}; it will not be touched"
        )
        b.blocked.add(dn.name)
        return
    if ov is None:
        image = vm.image
        image_step = None
        if observed.images is None or image.volid not in observed.images:
            image_step = b.add(
                f"image/{image.filename}",
                Kind.ENSURE_IMAGE,
                f"image/{image.filename}",
                f"download Talos {dn.talos_version} image for schematic {dn.schematic_id[:12]} to {image.storage}",
                volid=image.volid,
                url=image.url,
                node=image.node,
                storage=image.storage,
                filename=image.filename,
            )
        create = b.add(
            f"{target}/create",
            Kind.CREATE_VM,
            target,
            f"create VM {vm.vmid} {dn.name}: {vm.cores} cores, {vm.memory} MiB, {vm.disk_gb} GiB, MAC {vm.mac}",
            (image_step,),
            vmid=vm.vmid,
            node_name=dn.name,
        )
        b.vm_ready[dn.name] = b.add(
            f"{target}/start",
            Kind.START_VM,
            target,
            f"start new VM {vm.vmid} {dn.name}",
            (create,),
            vmid=vm.vmid,
            node_name=dn.name,
        )
        return

    changes = vm_changes(vm, ov)
    last: str | None = None
    running = ov.status == "running"
    shrink = [c for c in changes if c.field == "disk" and int(c.old.split()[0]) > vm.disk_gb]
    if shrink:
        b.conflicts.append(
            f"VM {vm.vmid} {dn.name}: disk {shrink[0].old} -> {shrink[0].new} would shrink it; disks only grow"
        )
        b.blocked.add(dn.name)
        return
    if changes:
        real = [c for c in changes if c.field != "tags"]
        drift = ov.spec_hash == vm.spec_hash  # the tag says we set it, so the difference came from outside
        needs_reboot = running and any(c.needs_reboot for c in real)
        what = _describe([f"{c.field} {c.old}→{c.new}" for c in real]) or "spec tag refresh"
        if drift and desired.drift == "report":
            b.notes.append(f"drift on VM {vm.vmid} {dn.name}: {what} (reported only: drift is set to report)")
        else:
            reason = f"vm {vm.vmid} {what}" + (", needs reboot" if needs_reboot else "")
            if drift:
                reason = f"drift: {reason}"
            last = b.add(
                f"{target}/update",
                Kind.UPDATE_VM,
                target,
                reason,
                disruptive=needs_reboot,
                vmid=vm.vmid,
                node_name=dn.name,
                changes={c.field: [c.old, c.new] for c in changes},
                # The step itself reboots and waits for the node to be healthy again, so the disruption is one unit.
                needs_reboot=needs_reboot,
            )
    if not running:
        if desired.drift == "report" and last is None:  # nothing of the spec changed: only report the stop
            b.notes.append(f"drift on VM {vm.vmid} {dn.name}: VM is {ov.status} (reported only)")
            b.powered_off.add(dn.name)
        else:
            last = b.add(
                f"{target}/start",
                Kind.START_VM,
                target,
                f"start VM {vm.vmid} {dn.name} (it is {ov.status})",
                (last,),
                vmid=vm.vmid,
                node_name=dn.name,
            )
    b.vm_ready[dn.name] = last


def _owned(desired: Desired, observed: Observed) -> dict[int, ObservedVm]:
    return {vmid: vm for vmid, vm in observed.vms.items() if vm.managed and f"cluster-{desired.cluster}" in vm.tags}


def plan_removals(b: PlanBuilder, desired: Desired, observed: Observed, after: str | None) -> None:
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
            b.notes.append(f"VM {vm.vmid} '{vm.name}' is no longer in the spec; set allowDestroy: true to delete it")
        return
    current_cps = [vm for vm in owned.values() if CONTROLLER_TAG in vm.tags]
    leaving_cps = [vm for vm in gone if CONTROLLER_TAG in vm.tags]
    if leaving_cps and len(current_cps) - len(leaving_cps) < len(current_cps) // 2 + 1:
        b.conflicts.append(
            f"removing {len(leaving_cps)} of {len(current_cps)} controllers at once would lose etcd quorum; "
            "remove one controller per change"
        )
        return
    previous = after
    for vm in gone:
        target = f"vm/{vm.vmid}"
        first = f"{target}/leave"
        if CONTROLLER_TAG in vm.tags:
            previous = b.add(
                first,
                Kind.ETCD_LEAVE,
                target,
                f"remove {vm.name} from etcd (through {desired.bootstrap_node.name}) before deleting it",
                (previous,),
                disruptive=True,
                vmid=vm.vmid,
                node_name=vm.name,
                via=desired.bootstrap_node.ip,
            )
        previous = b.add(
            f"{target}/unregister",
            Kind.DELETE_K8S_NODE,
            target,
            f"cordon {vm.name} and delete its Kubernetes Node",
            (previous,),
            disruptive=True,
            vmid=vm.vmid,
            node_name=vm.name,
        )
        if vm.status == "running":
            previous = b.add(
                f"{target}/stop",
                Kind.STOP_VM,
                target,
                f"stop VM {vm.vmid} {vm.name} before deleting it",
                (previous,),
                disruptive=True,
                vmid=vm.vmid,
                node_name=vm.name,
            )
        previous = b.add(
            f"{target}/delete",
            Kind.DELETE_VM,
            target,
            f"delete VM {vm.vmid} {vm.name}: removed from the spec",
            (previous,),
            disruptive=True,
            vmid=vm.vmid,
            node_name=vm.name,
        )
