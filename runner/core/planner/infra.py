"""Infrastructure phase: images, VMs (create, resize, start), deletions only when allowed."""

from __future__ import annotations

from runner.core.derive import Desired, DesiredNode
from runner.core.planner.builder import PlanBuilder
from runner.core.state import Observed
from runner.core.steps import Kind
from runner.core.vmdiff import vm_changes


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
        if desired.drift == "report" and not changes:
            b.notes.append(f"drift on VM {vm.vmid} {dn.name}: VM is {ov.status} (reported only)")
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


def plan_removals(b: PlanBuilder, desired: Desired, observed: Observed) -> None:
    wanted = {n.vm.vmid for n in desired.nodes}
    for vmid, ov in sorted(observed.vms.items()):
        if vmid in wanted or not ov.managed or f"cluster-{desired.cluster}" not in ov.tags:
            continue  # never touch what the runner doesn't own
        if not desired.allow_destroy:
            b.notes.append(f"VM {vmid} '{ov.name}' is no longer in the spec; set allowDestroy: true to delete it")
            continue
        stop = None
        if ov.status == "running":
            stop = b.add(
                f"vm/{vmid}/stop",
                Kind.STOP_VM,
                f"vm/{vmid}",
                f"stop VM {vmid} {ov.name} before deleting it",
                disruptive=True,
                vmid=vmid,
                node_name=ov.name,
            )
        b.add(
            f"vm/{vmid}/delete",
            Kind.DELETE_VM,
            f"vm/{vmid}",
            f"delete VM {vmid} {ov.name}: removed from the spec",
            (stop,),
            disruptive=True,
            vmid=vmid,
            node_name=ov.name,
        )
