"""VM power state: start/shutdown/stop/reboot tasks and the status views (status/current, resources)."""

from __future__ import annotations

from typing import Any

from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.qemu import Params, apply_pending, check_lock, load_vm, memory_mib
from runner.lab.proxmox.state import ProxmoxTwinState, Vm
from runner.lab.proxmox.tasks import Task
from runner.lab.proxmox.vmconfig import drive_size, is_drive, split_drive

MIB = 1024 * 1024


def _cpus(vm: Vm) -> int:
    config = vm.config
    return int(config.get("vcpus") or int(config.get("cores", "1")) * int(config.get("sockets", "1")))


def _boot_disk_size(vm: Vm) -> int:
    order = split_drive(vm.config.get("boot", ""))[1].get("order", "")
    for option in [*order.split(";"), *sorted(o for o in vm.config if is_drive(o) and o != "efidisk0")]:
        if option in vm.config and is_drive(option):
            return drive_size(vm.config[option])
    return 0


def _uptime(state: ProxmoxTwinState, vm: Vm) -> int:
    return int(state.clock() - vm.started_at) if vm.status == "running" else 0


def vm_summary(state: ProxmoxTwinState, vm: Vm) -> dict[str, Any]:
    """The per-VM fields shared by GET /nodes/{node}/qemu and /cluster/resources."""
    running = vm.status == "running"
    data: dict[str, Any] = {
        "vmid": vm.vmid,
        "name": vm.config.get("name", f"VM {vm.vmid}"),
        "status": vm.status,
        "maxmem": memory_mib(vm) * MIB,
        "maxdisk": _boot_disk_size(vm),
        "cpu": 0.01 if running else 0,
        "mem": memory_mib(vm) * MIB // 2 if running else 0,
        "disk": 0,
        "diskread": 0,
        "diskwrite": 0,
        "netin": 0,
        "netout": 0,
        "uptime": _uptime(state, vm),
        "template": 1 if vm.config.get("template") == "1" else 0,
    }
    if tags := vm.config.get("tags"):
        data["tags"] = tags
    if lock := vm.config.get("lock"):
        data["lock"] = lock
    return data


def _auditable(state: ProxmoxTwinState, user: str) -> list[Vm]:
    # pve-manager API2/Cluster.pm resources and qemu-server vmlist: VMs without VM.Audit are left out, silently
    vms = sorted(state.vms.values(), key=lambda v: v.vmid)
    return [vm for vm in vms if state.access.has(user, f"/vms/{vm.vmid}", ["VM.Audit"])]


def list_vms(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    return [vm_summary(state, vm) for vm in _auditable(state, user)]


def cluster_resources(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    kind = params.get("type")
    rows: list[dict[str, Any]] = []
    if kind in (None, "vm"):
        for vm in _auditable(state, user):
            row = vm_summary(state, vm)
            row.update({"id": f"qemu/{vm.vmid}", "type": "qemu", "node": vm.node, "maxcpu": _cpus(vm)})
            rows.append(row)
    if kind in (None, "node"):
        rows.append({"id": f"node/{state.node}", "type": "node", "node": state.node, "status": "online"})
    if kind in (None, "storage"):
        for name in sorted(state.storages):
            if not state.access.has(user, f"/storage/{name}", ["Datastore.Audit"]):
                continue
            storage = state.storages[name]
            rows.append(
                {
                    "id": f"storage/{state.node}/{name}",
                    "type": "storage",
                    "storage": name,
                    "node": state.node,
                    "status": "available",
                    "plugintype": storage.type,
                    "content": ",".join(sorted(storage.content)),
                    "shared": 0,
                }
            )
    return rows


def vm_status(state: ProxmoxTwinState, params: Params, user: str) -> dict[str, Any]:
    vm = load_vm(state, params["vmid"])
    data = vm_summary(state, vm)
    data.update({"cpus": _cpus(vm), "qmpstatus": vm.status, "ha": {"managed": 0}})
    if vm.status == "running":
        data.update({"pid": 4000 + vm.vmid, "running-machine": "pc-q35-9.2+pve1", "running-qemu": "9.2.0"})
    if any(part in ("1", "enabled=1") for part in vm.config.get("agent", "0").split(",")):
        data["agent"] = 1
    return data


def _power_task(state: ProxmoxTwinState, vm: Vm, type_: str, user: str, delay: float, work: Any) -> str:
    return state.tasks.start(type_, str(vm.vmid), user, delay, work).upid


def vm_start(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])

    def work(task: Task) -> None:
        check_lock(vm)
        if vm.status == "running":
            raise PveError(f"VM {vm.vmid} already running")
        apply_pending(vm)
        vm.status, vm.started_at = "running", state.clock()

    return _power_task(state, vm, "qmstart", user, state.delays.start, work)


def vm_stop(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])

    def work(task: Task) -> None:
        vm.status = "stopped"

    return _power_task(state, vm, "qmstop", user, state.delays.task, work)


def vm_shutdown(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])

    def work(task: Task) -> None:
        if vm.status == "running":
            check_lock(vm)
        vm.status = "stopped"

    return _power_task(state, vm, "qmshutdown", user, state.delays.shutdown, work)


def vm_reboot(state: ProxmoxTwinState, params: Params, user: str) -> str:
    vm = load_vm(state, params["vmid"])
    if vm.status != "running":
        raise PveError(f"VM {vm.vmid} not running")

    def work(task: Task) -> None:
        task.log.append(f"requesting reboot of VM {vm.vmid}")
        apply_pending(vm)  # a reboot is shutdown + start: pending changes apply
        vm.status, vm.started_at = "running", state.clock()

    return _power_task(state, vm, "qmreboot", user, state.delays.shutdown + state.delays.start, work)
