"""Step handlers that act on Proxmox: images, and each VM's lifecycle."""

from __future__ import annotations

import dataclasses

from runner.core.steps import Kind, Step
from runner.engine.reconcile.handlers.context import StepContext
from runner.engine.reconcile.handlers.table import Handlers


def ensure_image(ctx: StepContext, step: Step) -> str:
    px = ctx.conns.proxmox
    p = step.params
    if p["volid"] in px.list_images(p["node"], p["storage"]):
        return "already present"
    dn = next(n for n in ctx.desired.nodes if n.vm.image.filename == p["filename"])
    platform = ctx.cluster.image_factory.platform
    with ctx.conns.image_factory() as factory:
        # The factory builds images on demand for schematics it knows: register ours first.
        factory.ensure_schematic(dn.schematic)
        url = factory.image_url(dn.schematic_id, dn.talos_version, platform)
        checksum = factory.image_checksum(dn.schematic_id, dn.talos_version, platform)
    px.download_image(dataclasses.replace(dn.vm.image, url=url, checksum=checksum))
    return f"downloaded {p['filename']}"


def create_vm(ctx: StepContext, step: Step) -> str:
    dn = ctx.node(step)
    existing = {vm.vmid: vm for vm in ctx.conns.proxmox.list_vms()}.get(dn.vm.vmid)
    if existing is not None and existing.managed:
        return "already exists"
    # A silent node that ran before is awaited, never configured: a new machine at its address has not run.
    ctx.store.forget_config_seen(ctx.desired.cluster, dn.ip)
    ctx.conns.proxmox.create_vm(dn.vm)
    return f"created VM {dn.vm.vmid}"


def start_vm(ctx: StepContext, step: Step) -> str:
    dn = ctx.node(step)
    ctx.conns.proxmox.start_vm(dn.vm.node, dn.vm.vmid)
    return f"VM {dn.vm.vmid} running"


def update_vm(ctx: StepContext, step: Step) -> str:
    """Send what differs, then reboot for whatever Proxmox holds pending: what this step sent, or what a run
    stopped between its config POST and its reboot left (the config already shows it; the guest does not)."""
    dn = ctx.node(step)
    px = ctx.conns.proxmox
    pending = px.update_vm(dn.vm, px.vm_config(dn.vm.node, dn.vm.vmid))
    if pending and step.params.get("needs_reboot"):
        px.reboot_vm(dn.vm.node, dn.vm.vmid)
        ctx.wait_node_healthy(dn)
        px.update_vm(dn.vm, px.vm_config(dn.vm.node, dn.vm.vmid))  # nothing waits now: the spec tag goes on
        return "updated, rebooted, healthy again"
    return "updated" + (" (applies on next boot)" if pending else "")


def reboot_vm(ctx: StepContext, step: Step) -> str:
    dn = ctx.node(step)
    ctx.conns.proxmox.reboot_vm(dn.vm.node, dn.vm.vmid)
    ctx.wait_node_healthy(dn)
    return "rebooted, healthy again"


def stop_vm(ctx: StepContext, step: Step) -> str:
    ctx.conns.proxmox.stop_vm(ctx.cluster.proxmox.node, int(step.params["vmid"]))
    return "stopped"


def delete_vm(ctx: StepContext, step: Step) -> str:
    ctx.conns.proxmox.delete_vm(ctx.cluster.proxmox.node, int(step.params["vmid"]))
    return "deleted"


HANDLERS: Handlers = {
    Kind.ENSURE_IMAGE: ensure_image,
    Kind.CREATE_VM: create_vm,
    Kind.START_VM: start_vm,
    Kind.UPDATE_VM: update_vm,
    Kind.REBOOT_VM: reboot_vm,
    Kind.STOP_VM: stop_vm,
    Kind.DELETE_VM: delete_vm,
}
